import { z } from '@hono/zod-openapi';
import { Id, ListQuery, Timestamp } from './common.ts';

/** Factory webhooks: subscriptions, and the record of every delivery with its attempts. */

export const WebhookId = Id('whk', 'webhookId');
export const DeliveryId = Id('dlv', 'deliveryId');

export const WebhookParams = z.object({ webhookId: WebhookId });
export const DeliveryParams = z.object({ webhookId: WebhookId, deliveryId: DeliveryId });

/** The events a factory may subscribe to: the ones about its own batches and shipments. */
export const webhookEventTypes = [
  'batch.released',
  'batch.accepted',
  'batch.rejected',
  'batch.overdue',
  'batch.progressed',
  'batch.completed',
  'shipment.created',
  'shipment.delivered',
  'batch.units_withdrawn',
  'preorder.address_changed',
] as const;
export const WebhookEventType = z.enum(webhookEventTypes);

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

export const WebhookView = z
  .object({
    webhookId: WebhookId,
    url: z.string(),
    events: z.array(WebhookEventType),
    status: z.enum(['ACTIVE']),
    createdAt: Timestamp,
  })
  .openapi('Webhook');

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
    eventType: WebhookEventType,
    sequence: z.number().int().openapi({ description: 'Per-factory, increasing in the order c2m handled the events' }),
    status: z.enum(['PENDING', 'DELIVERED', 'RETRYING', 'FAILED']),
    attempts: z.array(DeliveryAttempt),
    nextAttemptAt: Timestamp.optional(),
    createdAt: Timestamp,
    deliveredAt: Timestamp.optional(),
  })
  .openapi('WebhookDelivery');

export const DeliveryList = z.object({ items: z.array(DeliveryView), nextCursor: z.string().optional() }).openapi('WebhookDeliveryList');

export const DeliveryListQuery = ListQuery;
