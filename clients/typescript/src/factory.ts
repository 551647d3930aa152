import type { Client } from 'openapi-fetch';
import { Paged } from './paging.ts';
import { unwrap } from './result.ts';
import type { components, operations, paths } from './schema.ts';

type Schemas = components['schemas'];
export type Batch = Schemas['Batch'];
export type BatchStatus = Batch['status'];
export type ManifestEntry = Schemas['ManifestEntry'];
export type Shipment = Schemas['Shipment'];
export type NewShipment = Schemas['CreateShipment'];
export type ProgressReport = Schemas['Progress'];
export type DefectCode = Schemas['DefectCode'];
export type Webhook = Schemas['Webhook'];
export type NewWebhook = Schemas['CreateWebhook'];
export type WebhookCreated = Schemas['WebhookCreated'];
export type WebhookDelivery = Schemas['WebhookDelivery'];
export type Forecast = Schemas['CampaignForecast'];
export type Trust = Schemas['Trust'];
export type Parcel = Schemas['Parcel'];
export type NewParcels = Schemas['AddParcels'];
export type WebhookChange = Schemas['UpdateWebhook'];
export type WebhookSecretRotated = Schemas['WebhookSecretRotated'];
/** One entry of the change feed: the same `id` and `sequence` a webhook delivery of it carries. */
export type FactoryEvent = Schemas['FactoryEvent'];

/** A list route's query, less the cursor the iterator keeps. */
type ListQuery<Op extends keyof operations> = Omit<NonNullable<operations[Op]['parameters']['query']>, 'cursor'>;

/** For a creating call: the Idempotency-Key to send (one is made per call when absent). */
export interface CreateOptions {
  readonly idempotencyKey?: string;
}

const keyHeader = (o: CreateOptions | undefined) => (o?.idempotencyKey === undefined ? {} : { header: { 'idempotency-key': o.idempotencyKey } });

const keepBom = new TextDecoder('utf-8', { ignoreBOM: true });

/** A CSV page without what every page repeats (the byte order mark and the header row). */
const csvRows = (page: string): string => {
  const body = page.startsWith('\uFEFF') ? page.slice(1) : page;
  const end = body.indexOf('\n');
  return end === -1 ? '' : body.slice(end + 1);
};

/** The `cursor` of a `Link: <…?cursor=…>; rel="next"` header, if there is a next page. */
const nextCursorOf = (link: string | null): string | undefined => {
  for (const part of link?.split(',') ?? []) {
    const match = /<([^>]*)>\s*;\s*rel="?next"?/.exec(part.trim());
    if (match) return new URL(match[1] ?? '', 'http://link.invalid').searchParams.get('cursor') ?? undefined;
  }
  return undefined;
};

/**
 * A factory's side of the API, one method per step of its loop. Lists are {@link Paged}
 * (iterate, or `.all()`); everything else resolves to the API's answer or throws a
 * C2mApiError carrying the problem body.
 */
export const factoryApi = (raw: Client<paths>, now: () => number) => {
  const ok = <D>(result: { data?: D; error?: unknown; response: Response }) => unwrap(result, now);

  return {
    /** The factory's batches, newest first: `for await (const b of c2m.factory.batches({ status: 'RELEASED' }))`. */
    batches: (query: ListQuery<'listFactoryBatches'> = {}): Paged<Batch> =>
      new Paged(async (cursor) => {
        const page = ok(await raw.GET('/v1/factory/batches', { params: { query: { ...query, ...(cursor && { cursor }) } } }));
        return { items: page.items, next: page.nextCursor };
      }, 'GET /v1/factory/batches'),

    batch: async (batchId: string): Promise<Batch> => ok(await raw.GET('/v1/factory/batches/{batchId}', { params: { path: { batchId } } })),

    /** The batch's pre-orders with quantity and address, oldest first, for drop-shipping. */
    manifest: (batchId: string, query: ListQuery<'getBatchManifest'> = {}): Paged<ManifestEntry> =>
      new Paged(async (cursor) => {
        const page = ok(
          await raw.GET('/v1/factory/batches/{batchId}/manifest', {
            params: { path: { batchId }, query: { ...query, ...(cursor && { cursor }) } },
            headers: { accept: 'application/json' },
          }),
        );
        // The route also speaks CSV (manifestCsv); asked for JSON, a text answer is a proxy's doing.
        if (typeof page === 'string') throw new Error(`GET /v1/factory/batches/${batchId}/manifest answered text where JSON was asked for`);
        return { items: page.items, next: page.nextCursor };
      }, `GET /v1/factory/batches/${batchId}/manifest`),

    /**
     * The whole manifest as one CSV document for a spreadsheet (UTF-8 with BOM, one header row,
     * formula-looking cells escaped by the API), however many pages (of `limit` rows) it takes.
     */
    manifestCsv: async (batchId: string, query: { readonly limit?: number } = {}): Promise<string> => {
      let document = '';
      let cursor: string | undefined;
      const seen = new Set<string>();
      do {
        const { data, error, response } = await raw.GET('/v1/factory/batches/{batchId}/manifest', {
          params: { path: { batchId }, query: { limit: query.limit ?? 200, ...(cursor && { cursor }) } },
          headers: { accept: 'text/csv' },
          // Not `text`: its UTF-8 decoding drops the byte order mark that tells a spreadsheet the encoding.
          parseAs: 'arrayBuffer',
        });
        const page = keepBom.decode(ok({ data, error, response }));
        document += document === '' ? page : csvRows(page);
        cursor = nextCursorOf(response.headers.get('link'));
        if (cursor !== undefined && seen.has(cursor)) throw new Error(`GET /v1/factory/batches/${batchId}/manifest: the API served the same page twice`);
        if (cursor !== undefined) seen.add(cursor);
      } while (cursor !== undefined);
      return document;
    },

    /** Takes the batch on, promising to ship by `committedShipDate` (YYYY-MM-DD). */
    accept: async (batchId: string, body: Schemas['AcceptBatch']): Promise<Batch> =>
      ok(await raw.POST('/v1/factory/batches/{batchId}/accept', { params: { path: { batchId } }, body })),

    /** Declines the batch: it goes to the campaign's backup factory, or its buyers are refunded. */
    reject: async (batchId: string, body: Schemas['RejectBatch']): Promise<Batch> =>
      ok(await raw.POST('/v1/factory/batches/{batchId}/reject', { params: { path: { batchId } }, body })),

    /** Cumulative counts (per sku, or batch totals) and why units failed QC (`defects`). */
    progress: async (batchId: string, report: ProgressReport): Promise<Batch> =>
      ok(await raw.POST('/v1/factory/batches/{batchId}/progress', { params: { path: { batchId } }, body: report })),

    /** The factory will make no more of the batch: what has not shipped is refunded to its buyers. */
    closeShort: async (batchId: string, body: Schemas['CloseShort']): Promise<Batch> =>
      ok(await raw.POST('/v1/factory/batches/{batchId}/close-short', { params: { path: { batchId } }, body })),

    /**
     * Ships a lot. Its units are allocated to the batch's pre-orders oldest first; the answer's
     * `allocations` say whose units are in it. Sent again with the same key, it ships once.
     */
    ship: async (batchId: string, shipment: NewShipment, options?: CreateOptions): Promise<Shipment> =>
      ok(await raw.POST('/v1/factory/batches/{batchId}/shipments', { params: { path: { batchId }, ...keyHeader(options) }, body: shipment })),

    /** The batch's lots, each with its allocations. */
    shipments: async (batchId: string): Promise<Shipment[]> =>
      ok(await raw.GET('/v1/factory/batches/{batchId}/shipments', { params: { path: { batchId } } })).items,

    shipment: async (shipmentId: string): Promise<Shipment> =>
      ok(await raw.GET('/v1/factory/shipments/{shipmentId}', { params: { path: { shipmentId } } })),

    /** The carrier delivered the whole lot. */
    delivered: async (shipmentId: string): Promise<Shipment> =>
      ok(await raw.POST('/v1/factory/shipments/{shipmentId}/delivered', { params: { path: { shipmentId } } })),

    /**
     * Drop-shipping a lot buyer by buyer: one parcel per pre-order of its `allocations`, each
     * buyer then sees their own tracking number. Sending a parcel again changes nothing.
     */
    addParcels: async (shipmentId: string, body: NewParcels): Promise<Shipment> =>
      ok(await raw.POST('/v1/factory/shipments/{shipmentId}/parcels', { params: { path: { shipmentId } }, body })),

    /** The carrier delivered one buyer's parcel; the lot is delivered with its last parcel. */
    parcelDelivered: async (shipmentId: string, preorderId: string): Promise<Shipment> =>
      ok(await raw.POST('/v1/factory/shipments/{shipmentId}/parcels/{preorderId}/delivered', { params: { path: { shipmentId, preorderId } } })),

    /** Demand forecast per open campaign × variant, to book material early. */
    forecasts: (query: ListQuery<'listFactoryForecasts'> = {}): Paged<Forecast> =>
      new Paged(async (cursor) => {
        const page = ok(await raw.GET('/v1/factory/forecasts', { params: { query: { ...query, ...(cursor && { cursor }) } } }));
        return { items: page.items, next: page.nextCursor };
      }, 'GET /v1/factory/forecasts'),

    /** The factory's own on-time, QC and refund figures. */
    trust: async (): Promise<Trust> => ok(await raw.GET('/v1/factory/trust')),

    webhooks: (query: ListQuery<'listWebhooks'> = {}): Paged<Webhook> =>
      new Paged(async (cursor) => {
        const page = ok(await raw.GET('/v1/factory/webhooks', { params: { query: { ...query, ...(cursor && { cursor }) } } }));
        return { items: page.items, next: page.nextCursor };
      }, 'GET /v1/factory/webhooks'),

    /** Subscribes `url` to `events`; the answer's `secret` (shown once) verifies each delivery's C2M-Signature. */
    createWebhook: async (webhook: NewWebhook, options?: CreateOptions): Promise<WebhookCreated> =>
      ok(await raw.POST('/v1/factory/webhooks', { params: { ...keyHeader(options) }, body: webhook })),

    /** Changes a webhook's `url`, `events`, or `enabled` (false: nothing is delivered until true again). */
    updateWebhook: async (webhookId: string, change: WebhookChange): Promise<Webhook> =>
      ok(await raw.PATCH('/v1/factory/webhooks/{webhookId}', { params: { path: { webhookId } }, body: change })),

    /** Deletes a webhook: nothing more is delivered to it. */
    deleteWebhook: async (webhookId: string): Promise<void> => {
      ok(await raw.DELETE('/v1/factory/webhooks/{webhookId}', { params: { path: { webhookId } } }));
    },

    /** A new signing secret (shown once); deliveries carry both the old and the new signature for 24 h. */
    rotateWebhookSecret: async (webhookId: string): Promise<WebhookSecretRotated> =>
      ok(await raw.POST('/v1/factory/webhooks/{webhookId}/rotate-secret', { params: { path: { webhookId } } })),

    /** Delivers a `webhook.test` event to the webhook now. */
    testWebhook: async (webhookId: string): Promise<WebhookDelivery> =>
      ok(await raw.POST('/v1/factory/webhooks/{webhookId}/test', { params: { path: { webhookId } } })),

    /**
     * The change feed, for a factory that polls instead of receiving webhooks: every event after
     * `after` (the last `sequence` already handled; 0 for the oldest kept), in order, until caught
     * up. Keep the last `sequence` handled and pass it next time.
     */
    events: ({ after = 0, limit = 200 }: { readonly after?: number; readonly limit?: number } = {}): Paged<FactoryEvent> =>
      new Paged(async (position) => {
        const from = position === undefined ? after : Number(position);
        const page = ok(await raw.GET('/v1/factory/events', { params: { query: { after: from, limit } } }));
        // A short page is the end of the feed for now; the next poll starts from `nextAfter`.
        return { items: page.items, next: page.items.length < limit ? undefined : String(page.nextAfter) };
      }, 'GET /v1/factory/events'),

    /** Each delivery to the webhook with its attempts, newest first. */
    deliveries: (webhookId: string, query: ListQuery<'listDeliveries'> = {}): Paged<WebhookDelivery> =>
      new Paged(async (cursor) => {
        const page = ok(
          await raw.GET('/v1/factory/webhooks/{webhookId}/deliveries', { params: { path: { webhookId }, query: { ...query, ...(cursor && { cursor }) } } }),
        );
        return { items: page.items, next: page.nextCursor };
      }, `GET /v1/factory/webhooks/${webhookId}/deliveries`),

    /** Sends one delivery again. */
    retryDelivery: async (webhookId: string, deliveryId: string): Promise<WebhookDelivery> =>
      ok(await raw.POST('/v1/factory/webhooks/{webhookId}/deliveries/{deliveryId}/retry', { params: { path: { webhookId, deliveryId } } })),
  };
};

export type FactoryApi = ReturnType<typeof factoryApi>;
