import { z } from '@hono/zod-openapi';
import { Id, ListQuery, Timestamp } from './common.ts';

/** Factory webhooks: subscriptions, and the record of every delivery with its attempts. */

export const WebhookId = Id('whk', 'webhookId');
export const DeliveryId = Id('dlv', 'deliveryId');

export const WebhookParams = z.object({ webhookId: WebhookId });
export const DeliveryParams = z.object({ webhookId: WebhookId, deliveryId: DeliveryId });

/** The events about a factory's batches and shipments that the bus carries to its feed and webhooks. */
export const busFactoryEventTypes = [
  'batch.released',
  'batch.accepted',
  'batch.rejected',
  'batch.overdue',
  'batch.progressed',
  'batch.completed',
  'shipment.created',
  'shipment.delivered',
  'shipment.parcels_added',
  'shipment.parcel_delivered',
  'batch.units_withdrawn',
  'preorder.address_changed',
] as const;

/** The events a factory may subscribe to: those, and its webhook disabled for failing. */
export const webhookEventTypes = [...busFactoryEventTypes, 'webhook.disabled'] as const;
export const WebhookEventType = z.enum(webhookEventTypes);

/** What a delivery or the feed may carry: any of those, and the `webhook.test` a factory asks for (never subscribed to). */
export const factoryEventTypes = [...webhookEventTypes, 'webhook.test'] as const;
export const FactoryEventType = z.enum(factoryEventTypes);

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

export const FeedEventView = z
  .object({
    sequence: z.number().int().openapi({ description: "Per factory, increasing by one, in the order c2m numbered the events" }),
    id: z.string().openapi({ description: "The event's stable id, as webhooks carry it: de-duplicate by it" }),
    type: FactoryEventType,
    occurredAt: Timestamp,
    data: z.record(z.string(), z.unknown()).openapi({ description: 'The event, as a webhook delivery carries it (docs/webhooks.md)' }),
  })
  .openapi('FactoryEvent');

export const FeedPage = z
  .object({
    items: z.array(FeedEventView),
    nextAfter: z.number().int().openapi({ description: 'Pass as `after` next time: the last sequence returned, or `after` when nothing was new' }),
  })
  .openapi('FactoryEventPage');
