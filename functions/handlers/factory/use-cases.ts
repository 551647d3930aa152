import { getBatch, listBatchesForFactory, liveLine, productionOf, saveBatch, type Batch } from '#adapters/batch-store.ts';
import { getCampaign, listActiveCampaignsForFactory, readDemand } from '#adapters/campaign-store.ts';
import { decodeCursor, encodeCursor } from '#adapters/dynamo.ts';
import { eventOf, type DomainEvent } from '#adapters/event-bus.ts';
import { publishCommitted } from '#adapters/outbox.ts';
import { getPreorders } from '#adapters/preorder-store.ts';
import {
  getShipment,
  listShipmentsForBatch,
  markDelivered,
  saveParcelDelivered,
  saveParcels,
  shipmentPut,
  type Shipment,
} from '#adapters/shipment-store.ts';
import type { AddParcelsBody, CreateShipmentBody, ProgressBody } from '#contracts/factory.ts';
import {
  BatchNotFoundError,
  IdempotencyKeyReusedError,
  InvalidInputError,
  LotSplitsOrderTooOftenError,
  OverloadedError,
  ShipmentNotFoundError,
} from '#domain/errors.ts';
import { accept, BatchStateError, closeShort, reject, reportProgress, ship, type FactoryBatchStatus, type ProductionState } from '#domain/production.ts';
import { defectList } from '#domain/defects.ts';
import { allocateShipment, campaignCeiling, endOfDay, lotLimitIssues, lotsReaching, notPast, partlyReached } from '#domain/fulfillment.ts';
import { attachParcels, deliverParcel } from '#domain/parcels.ts';
import type { Preorder } from '#domain/preorder.ts';
import { newId, requestHash } from '#shared/ids.ts';
import { log } from '#shared/observability.ts';
import type { Principal } from '#shared/principal.ts';
import { rejectBatch } from '../batches/unwinding.ts';
import { variantOutlook } from '../campaigns/forecasting.ts';

/**
 * The factory's side of a batch. Every read and change starts from the batch
 * being the caller's: another factory's batch, or one still being cut, is 404
 * exactly like one that does not exist (tenant isolation, no id probing).
 */
export const ownBatch = async (factory: Principal, batchId: string): Promise<Batch> => {
  const batch = await getBatch(batchId);
  if (!batch || batch.factoryId !== factory.id || batch.status === 'CUTTING' || batch.status === 'VOID') {
    throw new BatchNotFoundError(batchId);
  }
  return batch;
};

const invalidCursor = () => new InvalidInputError('The cursor is not one this list gave out', [{ path: 'cursor', message: 'invalid cursor' }]);

export const listOwnBatches = async (factory: Principal, q: { limit: number; cursor?: string; status?: FactoryBatchStatus }) => {
  const start = decodeCursor(q.cursor);
  const sortKey = start && start !== 'invalid' ? start.GSI1SK : undefined;
  const match = typeof sortKey === 'string' ? /^[^#]+#(bat_[0-9a-z]{24})$/.exec(sortKey) : null;
  if (start === 'invalid' || (start && !match)) throw invalidCursor();
  const owner = `FACTORY#${factory.id}#BATCHES`;
  const page = await listBatchesForFactory(factory.id, {
    limit: q.limit,
    ...(q.status && { status: q.status }),
    ...(match && { startKey: { GSI1PK: owner, GSI1SK: sortKey, PK: `BATCH#${match[1]}`, SK: 'BATCH' } }),
  });
  const last = page.lastKey?.GSI1SK;
  return { items: page.items, nextCursor: typeof last === 'string' ? encodeCursor({ GSI1SK: last }) : undefined };
};

/**
 * Forecasts for a page of the factory's SCHEDULED and OPEN campaigns, newest
 * first, so it can book material and capacity before the batches come: each
 * variant's net ordered units and expected final quantity.
 */
export const ownForecasts = async (factory: Principal, q: { limit: number; cursor?: string }) => {
  const page = await listActiveCampaignsForFactory(factory.id, q);
  if (page === 'invalid-cursor') throw invalidCursor();
  const now = new Date();
  const items = await Promise.all(
    page.items.map(async (campaign) => {
      const outlook = await variantOutlook(campaign, await readDemand(campaign), now);
      return {
        campaignId: campaign.campaignId,
        title: campaign.title,
        status: campaign.status,
        closesAt: campaign.closesAt,
        variants: outlook.map((o) => ({
          sku: o.sku,
          ordered: o.ordered,
          forecastFinal: o.forecast.final,
          forecastLow: o.forecast.low,
          forecastHigh: o.forecast.high,
          method: o.forecast.method,
        })),
      };
    }),
  );
  return { items, nextCursor: page.nextCursor };
};

/**
 * Pre-orders this factory still ships to: in this batch now (a rejected batch's
 * pre-orders move on and lose its id) and not refunded whole. A pre-order with
 * part of its units refunded after a short close keeps its address: it got, or
 * gets, the rest from this factory.
 */
const shipsFromBatch = (p: Preorder, batchId: string) => p.batchId === batchId && p.status !== 'REFUNDED' && p.status !== 'CANCELLED';

/**
 * A page of the batch's pre-orders, oldest first, with what drop-shipping needs.
 * The cursor is a position in the batch. Only pre-orders the factory still has
 * to ship are listed (design: a factory sees only the addresses it must ship
 * to), so a page may hold fewer than `limit`. A rejected batch has none: its
 * pre-orders went to the backup factory or back to their buyers, and that is a
 * 409 saying so rather than an empty list a factory could take for a glitch.
 */
export const manifestPage = async (factory: Principal, batchId: string, q: { limit: number; cursor?: string }) => {
  const batch = await ownBatch(factory, batchId);
  if (batch.status === 'WITHDRAWN') {
    throw new BatchStateError(
      `Batch ${batchId} was withdrawn (${batch.closedShortReason ?? 'its campaign failed'}): its buyers were refunded, so it has no manifest`,
    );
  }
  if (batch.status === 'REJECTED') {
    throw new BatchStateError(
      `Batch ${batchId} was rejected${batch.rejectedReason ? ` (${batch.rejectedReason})` : ''}: its pre-orders are no longer this factory's to ship, so it has no manifest`,
    );
  }
  const start = decodeCursor(q.cursor);
  const offset = start && start !== 'invalid' ? start.at : 0;
  if (start === 'invalid' || typeof offset !== 'number' || !Number.isInteger(offset) || offset < 0 || offset > batch.preorderIds.length) {
    throw invalidCursor();
  }
  const ids = batch.preorderIds.slice(offset, offset + q.limit);
  const found = new Map((await getPreorders(ids)).map((p) => [p.preorderId, p]));
  const items = ids.flatMap((id) => {
    const p = found.get(id);
    return p && shipsFromBatch(p, batchId)
      ? [{ preorderId: p.preorderId, sku: p.sku, quantity: p.quantity, status: p.status, createdAt: p.createdAt, shippingAddress: p.shippingAddress }]
      : [];
  });
  const next = offset + ids.length;
  return { batchId, items, nextCursor: next < batch.preorderIds.length ? encodeCursor({ at: next }) : undefined };
};

type Decision = { state: ProductionState; events: DomainEvent[]; also?: Parameters<typeof saveBatch>[2]['also'] } | 'unchanged';

/**
 * Read, decide, write conditionally on the version read; on a lost race read
 * again and decide again, so two reports at once are applied one after the
 * other, each checked against the other's result.
 */
const change = async (factory: Principal, batchId: string, decide: (batch: Batch, now: Date) => Promise<Decision> | Decision) => {
  for (let attempt = 0; attempt < 8; attempt++) {
    const batch = await ownBatch(factory, batchId);
    const now = new Date();
    const decision = await decide(batch, now);
    if (decision === 'unchanged') return batch;
    const saved = await saveBatch(batch, decision.state, { events: decision.events, now, ...(decision.also && { also: decision.also }) });
    if (saved) {
      await publishCommitted(decision.events);
      return (await getBatch(batchId)) ?? batch;
    }
  }
  throw new OverloadedError();
};

/** What every event about a batch names. */
const aboutBatch = (b: Batch, now: Date) => ({ campaignId: b.campaignId, batchId: b.batchId, factoryId: b.factoryId, occurredAt: now.toISOString() });

export const acceptOwnBatch = (factory: Principal, batchId: string, committedShipDate: string) =>
  change(factory, batchId, async (batch, now) => {
    const state = productionOf(batch);
    const next = accept(state, committedShipDate, now);
    if (next === state) return 'unchanged';
    const campaign = await getCampaign(batch.campaignId);
    const ceiling = campaign && campaignCeiling(campaign);
    // From now on the buyers are promised the factory's date (end of that day, UTC), never past their
    // ceiling: a factory committing later than that has until the ceiling, then the rest is refunded.
    return {
      state: { ...next, promiseDue: notPast(endOfDay(committedShipDate), ceiling) },
      events: [eventOf('batch.accepted', { ...aboutBatch(batch, now), committedShipDate }, batch.batchId)],
    };
  });

export const rejectOwnBatch = async (factory: Principal, batchId: string, reason: string): Promise<Batch> => {
  for (let attempt = 0; attempt < 8; attempt++) {
    const batch = await ownBatch(factory, batchId);
    const now = new Date();
    const state = productionOf(batch);
    const next = reject(state, reason, now);
    if (next === state) return batch;
    const campaign = await getCampaign(batch.campaignId, true);
    if (!campaign) throw new BatchNotFoundError(batchId);
    if (await rejectBatch(batch, next, campaign, now)) {
      log().info('batch rejected by its factory', { batchId, factoryId: factory.id, reason });
      return (await getBatch(batchId)) ?? batch;
    }
  }
  throw new OverloadedError();
};

export const reportOwnProgress = (factory: Principal, batchId: string, body: ProgressBody) =>
  change(factory, batchId, (batch, now) => {
    const state = productionOf(batch);
    const next = reportProgress(state, body);
    const same =
      next.status === state.status &&
      JSON.stringify(next.lines) === JSON.stringify(state.lines) &&
      next.produced === state.produced &&
      next.qcPassed === state.qcPassed &&
      next.qcFailed === state.qcFailed &&
      JSON.stringify(next.defects ?? {}) === JSON.stringify(state.defects ?? {}) &&
      next.progressBy === state.progressBy;
    if (same) return 'unchanged';
    const counts = { produced: next.produced, qcPassed: next.qcPassed, qcFailed: next.qcFailed, shipped: next.shipped, status: next.status };
    return {
      state: next,
      events: [
        eventOf(
          'batch.progressed',
          { ...aboutBatch(batch, now), ...counts, ...(body.sku && { sku: body.sku }), ...(next.defects && { defects: defectList(next.defects) }) },
          `${batchId}:${(batch.version ?? 0) + 1}`,
        ),
      ],
    };
  });

/**
 * A lot ships: the batch's counts and the shipment in one transaction. With an
 * Idempotency-Key the shipment id comes from (factory, key), so a retry finds
 * the first shipment and returns it instead of shipping twice.
 */
export const shipFromOwnBatch = async (
  factory: Principal,
  batchId: string,
  body: CreateShipmentBody,
  idempotencyKey: string | undefined,
): Promise<{ shipment: Shipment; created: boolean }> => {
  const shipmentId = newId('shp', idempotencyKey && `shipment|${factory.id}|${idempotencyKey}`);
  const hash = requestHash({ batchId, body });
  const replay = async () => {
    const existing = idempotencyKey ? await getShipment(shipmentId) : undefined;
    if (!existing) return undefined;
    if (existing.requestHash !== hash || existing.factoryId !== factory.id) throw new IdempotencyKeyReusedError();
    const { requestHash: _h, ...shipment } = existing;
    return { shipment, created: false };
  };
  const first = await replay();
  if (first) return first;
  let shipment: Shipment | undefined;
  try {
    await change(factory, batchId, async (batch, now) => {
      const next = ship(productionOf(batch), body.items, now);
      // Decided here, under the batch's version: which buyers get these units.
      const shippedBefore = Object.fromEntries(batch.lines.map((l) => [l.sku, l.shipped]));
      const line = await liveLine(batch);
      const allocations = allocateShipment(line, shippedBefore, body.items);
      // A lot that leaves a large order unfinished: not past the lots that order may arrive in.
      const reaches = partlyReached(line, shippedBefore, body.items);
      if (reaches.length > 0) {
        const lots = lotsReaching(await listShipmentsForBatch(batchId));
        const issues = lotLimitIssues(reaches, (id) => lots.get(id) ?? 0);
        if (issues.length > 0) throw new LotSplitsOrderTooOftenError(issues);
      }
      shipment = {
        shipmentId,
        batchId,
        campaignId: batch.campaignId,
        factoryId: factory.id,
        status: 'SHIPPED',
        carrier: body.carrier,
        trackingNumber: body.trackingNumber,
        items: body.items,
        units: body.items.reduce((n, i) => n + i.quantity, 0),
        createdAt: now.toISOString(),
        allocations,
        parcels: [],
        parcelsVersion: 0,
      };
      const events: DomainEvent[] = [
        eventOf(
          'shipment.created',
          {
            campaignId: batch.campaignId,
            batchId,
            factoryId: factory.id,
            shipmentId,
            occurredAt: now.toISOString(),
            carrier: body.carrier,
            trackingNumber: body.trackingNumber,
            items: body.items,
            allocations,
            quantity: shipment.units,
            shipped: next.shipped,
            status: next.status,
          },
          shipmentId,
        ),
      ];
      if (next.status === 'COMPLETED') events.push(completedEvent(batch, next, now));
      return { state: next, events, also: [shipmentPut(shipment, hash)] };
    });
  } catch (err) {
    // Lost to a retry of the same request that committed first: answer as it was answered.
    const again = await replay();
    if (again) return again;
    throw err;
  }
  return { shipment: shipment!, created: true };
};

/** One of the factory's lots; another factory's, or none, is not found. */
export const ownShipment = async (factory: Principal, shipmentId: string, consistent = false): Promise<Shipment> => {
  const found = await getShipment(shipmentId, consistent);
  if (!found || found.factoryId !== factory.id) throw new ShipmentNotFoundError(shipmentId);
  const { requestHash: _h, ...shipment } = found;
  return shipment;
};

/** The lots of one of the factory's batches, oldest first. */
export const ownBatchShipments = async (factory: Principal, batchId: string): Promise<Shipment[]> => {
  await ownBatch(factory, batchId);
  return (await listShipmentsForBatch(batchId)).filter((s) => s.factoryId === factory.id);
};

/** The carrier confirmed delivery of the whole lot. Repeating it returns the shipment unchanged. */
export const confirmOwnDelivery = async (factory: Principal, shipmentId: string): Promise<Shipment> => {
  const found = await getShipment(shipmentId);
  if (!found || found.factoryId !== factory.id) throw new ShipmentNotFoundError(shipmentId);
  const { requestHash: _h, ...shipment } = found;
  if (shipment.status === 'DELIVERED') return shipment;
  const now = new Date();
  const event = lotDeliveredEvent(shipment, now);
  if (await markDelivered(shipmentId, now, event)) await publishCommitted([event]);
  const { requestHash: _h2, ...after } = (await getShipment(shipmentId))!;
  return after;
};

const lotDeliveredEvent = (shipment: Shipment, now: Date) =>
  eventOf(
    'shipment.delivered',
    {
      campaignId: shipment.campaignId,
      batchId: shipment.batchId,
      factoryId: shipment.factoryId,
      shipmentId: shipment.shipmentId,
      occurredAt: now.toISOString(),
      items: [...shipment.items],
      quantity: shipment.units,
    },
    shipment.shipmentId,
  );

/**
 * Read the lot, decide, write conditionally on its parcels as read; on a lost
 * race read again and decide again (two requests at once apply one after the
 * other, each checked against the other's result).
 */
const changeParcels = async (
  factory: Principal,
  shipmentId: string,
  decide: (lot: Shipment, now: Date) => { write: () => Promise<boolean>; events: DomainEvent[] } | 'unchanged',
): Promise<Shipment> => {
  for (let attempt = 0; attempt < 8; attempt++) {
    const lot = await ownShipment(factory, shipmentId, true);
    const decision = decide(lot, new Date());
    if (decision === 'unchanged') return lot;
    if (await decision.write()) {
      await publishCommitted(decision.events);
      return ownShipment(factory, shipmentId, true);
    }
  }
  throw new OverloadedError();
};

/**
 * Per-buyer parcels for a lot the factory drop-ships: all or none, every one for
 * a pre-order allocated in the lot. The same parcel again changes nothing; a new
 * carrier or tracking number replaces a parcel until it is delivered
 * (`shipment.parcels_added` names those added or replaced); each buyer is then
 * told their own tracking number by the fulfillment consumer.
 */
export const attachOwnParcels = (factory: Principal, shipmentId: string, body: AddParcelsBody): Promise<Shipment> =>
  changeParcels(factory, shipmentId, (lot, now) => {
    const decision = attachParcels(lot, body.parcels, now);
    if (decision.kind === 'unchanged') return 'unchanged';
    const event = eventOf(
      'shipment.parcels_added',
      {
        campaignId: lot.campaignId,
        batchId: lot.batchId,
        factoryId: lot.factoryId,
        shipmentId,
        occurredAt: now.toISOString(),
        parcels: decision.changed.map((p) => ({ preorderId: p.preorderId, carrier: p.carrier, trackingNumber: p.trackingNumber })),
      },
      `${shipmentId}:${lot.parcelsVersion + 1}`,
    );
    return { write: () => saveParcels(lot, decision.parcels, event), events: [event] };
  });

/**
 * The carrier delivered one buyer's parcel (`shipment.parcel_delivered`); that
 * buyer's units are delivered by the fulfillment consumer. Repeating it, or
 * confirming a parcel of a lot delivered as a whole, changes nothing. The last
 * parcel of a lot whose every buyer has one delivers the lot too.
 */
export const confirmOwnParcelDelivered = (factory: Principal, shipmentId: string, preorderId: string): Promise<Shipment> =>
  changeParcels(factory, shipmentId, (lot, now) => {
    const decision = deliverParcel(lot, preorderId, now);
    if (decision.kind === 'unchanged') return 'unchanged';
    const allocation = lot.allocations.find((a) => a.preorderId === preorderId);
    const events = [
      eventOf(
        'shipment.parcel_delivered',
        {
          campaignId: lot.campaignId,
          batchId: lot.batchId,
          factoryId: lot.factoryId,
          shipmentId,
          preorderId,
          occurredAt: now.toISOString(),
          carrier: decision.parcel.carrier,
          trackingNumber: decision.parcel.trackingNumber,
          ...(allocation && { sku: allocation.sku, quantity: allocation.quantity }),
        },
        `${shipmentId}:${preorderId}`,
      ),
      ...(decision.lotDelivered ? [lotDeliveredEvent(lot, now)] : []),
    ];
    return {
      write: () => saveParcelDelivered(lot, decision.parcels, events, decision.lotDelivered ? now.toISOString() : undefined),
      events,
    };
  });

const completedEvent = (batch: Batch, next: ProductionState, now: Date) =>
  eventOf(
    'batch.completed',
    {
      ...aboutBatch(batch, now),
      status: 'COMPLETED',
      shipped: next.shipped,
      quantity: next.units,
      ...(next.closedShortReason !== undefined && { reason: next.closedShortReason }),
    },
    batch.batchId,
  );

/** The factory will make no more: COMPLETED with what shipped; the fulfillment consumer refunds the rest to the buyers. */
export const closeOwnBatchShort = (factory: Principal, batchId: string, reason: string) =>
  change(factory, batchId, (batch, now) => {
    const state = productionOf(batch);
    const next = closeShort(state, reason, now);
    if (next === state) return 'unchanged';
    return { state: next, events: [completedEvent(batch, next, now)] };
  });
