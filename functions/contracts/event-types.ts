/**
 * The names of c2m's events, as plain lists: the topology's rules are built
 * from them, so they must not pull a schema library into every bundle. Each
 * event's detail schema is in messages.ts (`eventDetails`, which must name
 * exactly `eventTypes`).
 */

/** Every event c2m publishes. Each has its own detail schema below; `eventDetails` must name exactly these. */
export const eventTypes = [
  'campaign.opened',
  'campaign.closed',
  'campaign.failed',
  'preorder.accepted',
  'preorder.cancelled',
  'preorder.balance_due',
  'preorder.balance_paid',
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
  'refund.requested',
  'refund.confirmed',
] as const;
export type EventType = (typeof eventTypes)[number];

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
] as const satisfies readonly EventType[];
export type BusFactoryEventType = (typeof busFactoryEventTypes)[number];
