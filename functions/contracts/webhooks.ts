import * as z from './zod.ts';
import { Id, ListQuery, Timestamp } from './common.ts';
import { busFactoryEventTypes, eventDetails, unionPerType } from './messages.ts';

export { busFactoryEventTypes };

/** Factory webhooks: subscriptions, and the record of every delivery with its attempts. */

export const WebhookId = Id('whk', 'webhookId');
export const DeliveryId = Id('dlv', 'deliveryId');

export const WebhookParams = z.object({ webhookId: WebhookId });
export const DeliveryParams = z.object({ webhookId: WebhookId, deliveryId: DeliveryId });

/** The events a factory may subscribe to: those, and its webhook disabled for failing. */
export const webhookEventTypes = [...busFactoryEventTypes, 'webhook.disabled'] as const;
export const WebhookEventType = z.enum(webhookEventTypes);

/** What a delivery or the feed may carry: any of those, and the `webhook.test` a factory asks for (never subscribed to). */
export const factoryEventTypes = [...webhookEventTypes, 'webhook.test'] as const;
export const FactoryEventType = z.enum(factoryEventTypes);
export type FactoryEventType = (typeof factoryEventTypes)[number];

export const CreateWebhookBody = z
  .object({
    url: z.string().max(2048).url('url is an absolute URL').openapi({ example: 'https://factory.example.com/c2m-events' }),
    events: z
      .array(WebhookEventType)
      .min(1)
      .max(webhookEventTypes.length)
      .refine((events) => new Set(events).size === events.length, 'each event at most once'),
  })
  .strict()
  .openapi('CreateWebhook');
export type CreateWebhookBody = z.infer<typeof CreateWebhookBody>;

export const UpdateWebhookBody = z
  .object({
    url: z.string().max(2048).url('url is an absolute URL').optional(),
    events: CreateWebhookBody.shape.events.optional(),
    enabled: z.boolean().optional().openapi({ description: 'false: nothing is delivered until true again; true also clears a disable for failing' }),
  })
  .strict()
  .refine((b) => b.url !== undefined || b.events !== undefined || b.enabled !== undefined, { message: 'name at least one of url, events, enabled', path: ['url'] })
  .openapi('UpdateWebhook');
export type UpdateWebhookBody = z.infer<typeof UpdateWebhookBody>;

export const WebhookView = z
  .object({
    webhookId: WebhookId,
    url: z.string(),
    events: z.array(WebhookEventType),
    status: z.enum(['ACTIVE', 'DISABLED']),
    disabledReason: z.enum(['BY_FACTORY', 'FAILING']).optional().openapi({ description: 'FAILING: every try failed for 3 days; a webhook.disabled event said so' }),
    disabledAt: Timestamp.optional(),
    failingSince: Timestamp.optional().openapi({ description: 'Every try since then has failed; at 3 days the webhook is disabled' }),
    secretRotatedAt: Timestamp.optional(),
    previousSecretExpiresAt: Timestamp.optional().openapi({ description: 'Until then deliveries carry a second v1= signed with the secret before the rotation' }),
    createdAt: Timestamp,
    updatedAt: Timestamp.optional(),
  })
  .openapi('Webhook');

export const SecretRotated = z
  .object({
    secret: z.string().openapi({ description: 'Shown once. Deliveries are signed with it and, until previousSecretExpiresAt, with the one before (two v1= values)' }),
    previousSecretExpiresAt: Timestamp,
  })
  .openapi('WebhookSecretRotated');

export const WebhookCreated = WebhookView.extend({
  secret: z.string().openapi({
    description: 'Shown once. Deliveries carry C2M-Signature: t=<unix>,v1=<hex HMAC-SHA256(secret, t + "." + body)>',
  }),
}).openapi('WebhookCreated');

export const WebhookList = z.object({ items: z.array(WebhookView), nextCursor: z.string().optional() }).openapi('WebhookList');

export const DeliveryAttempt = z
  .object({
    at: Timestamp,
    statusCode: z.number().int().optional(),
    error: z.string().optional(),
    durationMs: z.number().int(),
  })
  .openapi('DeliveryAttempt');

export const DeliveryView = z
  .object({
    deliveryId: DeliveryId,
    webhookId: WebhookId,
    eventId: z.string(),
    eventType: FactoryEventType,
    sequence: z.number().int().openapi({ description: "The event's number in the factory's feed: the same on every webhook and in GET /v1/factory/events" }),
    status: z.enum(['PENDING', 'DELIVERED', 'RETRYING', 'FAILED']),
    attempts: z.array(DeliveryAttempt),
    nextAttemptAt: Timestamp.optional(),
    createdAt: Timestamp,
    deliveredAt: Timestamp.optional(),
  })
  .openapi('WebhookDelivery');

export const DeliveryList = z.object({ items: z.array(DeliveryView), nextCursor: z.string().optional() }).openapi('WebhookDeliveryList');

export const DeliveryListQuery = ListQuery;

// ---------------------------------------------------------------- the change feed

export const FeedQuery = z.object({
  after: z.coerce.number().int().min(0).default(0).openapi({ description: 'The last sequence already handled; 0 for the oldest kept (30 days)' }),
  limit: z.coerce.number().int().min(1).max(200).default(50),
});

// ---------------------------------------------------------------- what a factory hears

/** `webhook.disabled`: one of the factory's webhooks was switched off for failing. */
export const WebhookDisabledEvent = z
  .object({
    webhookId: WebhookId,
    url: z.string(),
    reason: z.literal('FAILING'),
    failingSince: Timestamp,
    disabledAt: Timestamp,
  })
  .openapi('WebhookDisabledEvent', { description: 'Every try of one of your webhooks failed for 3 days: it is DISABLED until you enable it again' });

/** `webhook.test`: what the factory asked for with POST …/test. */
export const WebhookTestEvent = z
  .object({ webhookId: WebhookId, url: z.string(), message: z.string() })
  .openapi('WebhookTestEvent', { description: 'A test delivery you asked for' });

/**
 * What each event a factory hears carries as `data`: a bus event's detail,
 * with the very schema its producers and consumers use, or a webhook's own.
 */
export const factoryEventData = {
  ...eventDetails,
  'webhook.disabled': WebhookDisabledEvent,
  'webhook.test': WebhookTestEvent,
} satisfies Record<FactoryEventType, z.ZodType>;
export type FactoryEventDataOf<T extends FactoryEventType> = z.infer<(typeof factoryEventData)[T]>;

export const FeedEventView = unionPerType(factoryEventData, factoryEventTypes, 'type', 'data', {
  sequence: z.number().int().openapi({ description: 'Per factory, increasing by one, in the order c2m numbered the events' }),
  id: z.string().openapi({ description: "The event's stable id, as webhooks carry it: de-duplicate by it" }),
  occurredAt: Timestamp,
}).openapi('FactoryEvent', { description: 'The event, as a webhook delivery carries it (docs/webhooks.md); `data` is the schema of its `type`' });
export type FeedEventView = z.infer<typeof FeedEventView>;

/** The body of a webhook delivery: the event, numbered, with its detail as `data`. */
export const WebhookPayload = unionPerType(factoryEventData, factoryEventTypes, 'type', 'data', {
  id: z.string().openapi({ description: "The event's stable id, `<type>:<fact id>`: the same event delivered twice has the same id. De-duplicate on it" }),
  sequence: z.number().int().openapi({ description: "The event's number in the factory's feed, the same on all its webhooks" }),
  occurredAt: Timestamp,
  factoryId: z.string(),
});
export type WebhookPayload = z.infer<typeof WebhookPayload>;

export const FeedPage = z
  .object({
    items: z.array(FeedEventView),
    nextAfter: z.number().int().openapi({ description: 'Pass as `after` next time: the last sequence returned, or `after` when nothing was new' }),
  })
  .openapi('FactoryEventPage');

// ---------------------------------------------------------------- deliveries, as the OpenAPI document's webhooks

const DeliveryHeaders = z.object({
  'c2m-signature': z.string().openapi({ description: 't=<unix seconds>,v1=<hex HMAC-SHA256(secret, t + "." + body)> (two v1 for 24 hours after a rotation)' }),
  'c2m-event-id': z.string().openapi({ description: 'The body\'s `id`' }),
  'c2m-sequence': z.string().openapi({ description: "The body's `sequence`" }),
  'c2m-delivery-id': DeliveryId,
});

/** `batch.units_withdrawn` → `onBatchUnitsWithdrawn`. */
const operationName = (type: string) => `on${type.replace(/(^|[._])([a-z])/g, (_, __: string, c: string) => c.toUpperCase())}`;

/**
 * One webhook per event type a factory may get, for the OpenAPI document's
 * `webhooks`: what c2m POSTs to a subscribed URL, its body being that type's
 * option of WebhookPayload, so `data` is documented with the event's own schema.
 */
export const webhookDeliveries = WebhookPayload.options.map((payload) => {
  const type = payload.shape.type.value;
  return {
    method: 'post' as const,
    path: type,
    operationId: operationName(type),
    tags: ['webhooks'],
    summary: `A ${type} event, POSTed to each webhook subscribed to it (docs/webhooks.md)`,
    security: [],
    request: {
      headers: DeliveryHeaders.extend({ 'c2m-event-type': z.literal(type) }),
      body: { content: { 'application/json': { schema: payload } }, required: true },
    },
    responses: {
      200: { description: 'Any 2xx within 10 seconds: delivered' },
      400: { description: 'Any other status, a redirect, a timeout or no connection: a failed try, retried up to 8 tries in all' },
    },
  };
});
