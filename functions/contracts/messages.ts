import { z } from 'zod';
import { busFactoryEventTypes } from './webhooks.ts';

/**
 * Queue messages and event details, imported by producer and consumer alike.
 */
export const IntakeMessage = z.object({ preorderId: z.string().min(1) });
export type IntakeMessage = z.infer<typeof IntakeMessage>;

/** What reaches the campaign-clock queue: one-time schedules, the sweep, and bus events. */
export const ClockMessage = z.union([
  z.object({ kind: z.enum(['open', 'close']), campaignId: z.string().min(1) }),
  z.object({ kind: z.literal('sweep') }),
  z.object({
    'detail-type': z.enum(['campaign.closed', 'campaign.failed']),
    source: z.literal('c2m'),
    detail: z.object({ campaignId: z.string().min(1) }),
  }),
]);
export type ClockMessage = z.infer<typeof ClockMessage>;

/** One POST /v1/signals call, as queued for the aggregator; `messageId` makes a redelivery count once. */
export const SignalsMessage = z.object({
  messageId: z.string().min(1),
  liveroomId: z.string().min(1),
  signals: z
    .array(
      z.object({
        campaignId: z.string(),
        sku: z.string().optional(),
        type: z.enum(['view', 'like', 'cart', 'want', 'share']),
        count: z.number().int().positive(),
        at: z.string(),
      }),
    )
    .min(1)
    .max(500),
});
export type SignalsMessage = z.infer<typeof SignalsMessage>;

/** A request to look at a campaign's waiting pre-orders and cut what is due. */
export const CutMessage = z.union([
  z.object({ kind: z.literal('check'), campaignId: z.string().min(1) }),
  /** A rejected or expired batch: move its pre-orders to the backup factory's waiting line, or refund them. */
  z.object({ kind: z.literal('unwind'), batchId: z.string().min(1) }),
  z.object({
    'detail-type': z.enum(['campaign.closed', 'campaign.failed']),
    source: z.literal('c2m'),
    detail: z.object({ campaignId: z.string().min(1) }),
  }),
]);
export type CutMessage = z.infer<typeof CutMessage>;

export const eventTypes = [
  'campaign.opened',
  'campaign.closed',
  'campaign.failed',
  'preorder.accepted',
  'preorder.cancelled',
  'preorder.refunded',
  'batch.released',
  'batch.accepted',
  'batch.rejected',
  'batch.overdue',
  'batch.progressed',
  'shipment.created',
  'shipment.delivered',
  'shipment.parcels_added',
  'shipment.parcel_delivered',
  'batch.completed',
  'preorder.shipped',
  'preorder.delayed',
  'preorder.delivered',
  'preorder.compensated',
  'preorder.address_changed',
  'batch.units_withdrawn',
] as const;
export type EventType = (typeof eventTypes)[number];

/**
 * Every event carries `eventId`, stable for one fact (e.g. `preorder.accepted:po_…`),
 * so a consumer that sees it twice after a redelivery can tell.
 */
export const EventDetail = z.object({
  eventId: z.string(),
  occurredAt: z.string(),
  campaignId: z.string(),
  preorderId: z.string().optional(),
  status: z.string().optional(),
  sku: z.string().optional(),
  quantity: z.number().int().optional(),
  refundedAmount: z.number().int().optional(),
  batchId: z.string().optional(),
  factoryId: z.string().optional(),
  lines: z.array(z.object({ sku: z.string(), quantity: z.number().int() })).optional(),
  reason: z.string().optional(),
  acceptBy: z.string().optional(),
  committedShipDate: z.string().optional(),
  /** The date a pre-order is now promised to ship by (`preorder.delayed`). */
  promisedShipBy: z.string().optional(),
  /** Where a rejected or expired batch's pre-orders go: the backup factory, or refunds. */
  next: z.enum(['backup-factory', 'refund']).optional(),
  nextFactoryId: z.string().optional(),
  produced: z.number().int().optional(),
  qcPassed: z.number().int().optional(),
  qcFailed: z.number().int().optional(),
  shipped: z.number().int().optional(),
  shipmentId: z.string().optional(),
  carrier: z.string().optional(),
  trackingNumber: z.string().optional(),
  items: z.array(z.object({ sku: z.string(), quantity: z.number().int() })).optional(),
  /** batch.progressed: why failed units failed, the batch's totals per code. */
  defects: z.array(z.object({ code: z.string(), count: z.number().int() })).optional(),
  /** shipment.created: whose units are in the lot. */
  allocations: z.array(z.object({ preorderId: z.string(), sku: z.string(), quantity: z.number().int() })).optional(),
  /** shipment.parcels_added: the per-buyer parcels added or replaced (shipment.parcel_delivered names one by preorderId, carrier, trackingNumber). */
  parcels: z.array(z.object({ preorderId: z.string(), carrier: z.string(), trackingNumber: z.string() })).optional(),
  /** `preorder.compensated`: what the buyer is owed for a late shipment (minor units; the platform pays). */
  compensatedAmount: z.number().int().optional(),
  currency: z.string().optional(),
  /** `preorder.address_changed`: the new address, for the factory that ships to it. */
  shippingAddress: z.record(z.string(), z.string()).optional(),
});
export type EventDetail = z.infer<typeof EventDetail>;

/**
 * What the `factory-events-to-webhooks` rule puts on the webhook-events queue:
 * the EventBridge envelope of a factory event.
 */
export const FactoryEventEnvelope = z.object({
  'detail-type': z.enum(busFactoryEventTypes),
  source: z.literal('c2m'),
  detail: EventDetail,
});
export type FactoryEventEnvelope = z.infer<typeof FactoryEventEnvelope>;

/** What the webhook-deliveries queue carries: the delivery to attempt (its stored payload is what is sent). */
export const DeliveryMessage = z.object({ deliveryId: z.string().regex(/^dlv_[0-9a-z]{24}$/) });
export type DeliveryMessage = z.infer<typeof DeliveryMessage>;

/** Any c2m event as a rule delivers it to a queue: the EventBridge envelope. */
export const BusEnvelope = z.object({
  'detail-type': z.enum(eventTypes),
  source: z.literal('c2m'),
  detail: EventDetail,
});
export type BusEnvelope = z.infer<typeof BusEnvelope>;
