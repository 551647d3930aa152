import * as z from './zod.ts';
import { Timestamp } from './common.ts';
import { defectCodes } from '#domain/defects.ts';
import { locales, type PreorderStatus } from '#domain/preorder.ts';
import { refundReasons } from '#domain/refunds.ts';
import type { FactoryBatchStatus } from '#domain/production.ts';

/**
 * Queue messages, stream records and events, imported by producer and consumer alike.
 */

/**
 * What the intake takes from a pre-order's stream record (the item as placed,
 * `NEW_IMAGE`): enough to list it, tell its buyer it was accepted and announce
 * it. Parsed, not cast: a record that is not this is set aside and logged,
 * never half-followed.
 */
export const PlacedPreorderImage = z.object({
  type: z.literal('preorder'),
  preorderId: z.string().min(1),
  campaignId: z.string().min(1),
  buyerId: z.string().min(1),
  createdAt: z.string().min(1),
  status: z.string().min(1),
  sku: z.string().min(1),
  quantity: z.number().int().positive(),
  currency: z.string().min(1),
  /** Absent on pre-orders stored before they had one (localeOf gives the currency's). */
  locale: z.enum(locales).optional(),
  gateTakes: z.array(z.object({ shard: z.number().int().nonnegative(), units: z.number().int().positive() })).min(1),
  /** Its first entry is the "accepted" step intake tells. */
  timeline: z
    .array(
      z.object({
        at: z.string().min(1),
        status: z.string().min(1),
        step: z.string().optional(),
        template: z.string().optional(),
        params: z.record(z.string(), z.union([z.string(), z.number()])).optional(),
        note: z.string().optional(),
      }),
    )
    .min(1),
  /** Set on pre-orders whose "accepted" intake tells (Preorder.acceptedOnIntake). */
  acceptedOnIntake: z.boolean().optional(),
});
export type PlacedPreorderImage = z.infer<typeof PlacedPreorderImage>;

// ---------------------------------------------------------------- events

// The lists of event types live apart, free of zod, for the topology (and so every function's bundle) to import.
export { busFactoryEventTypes, eventTypes, type BusFactoryEventType, type EventType } from './event-types.ts';
import { busFactoryEventTypes, eventTypes, type EventType } from './event-types.ts';

const id = z.string().min(1);
const units = z.number().int();
const amount = z.number().int().openapi({ description: 'Minor units of `currency` (fen, cents)' });
const skuUnits = z.array(z.object({ sku: z.string(), quantity: units }));
const preorderStatuses = ['ACCEPTED', 'BATCHED', 'IN_PRODUCTION', 'SHIPPED', 'DELIVERED', 'CANCELLED', 'REFUNDED'] as const satisfies readonly PreorderStatus[];
const batchStatuses = ['RELEASED', 'ACCEPTED', 'REJECTED', 'IN_PRODUCTION', 'PARTIALLY_SHIPPED', 'COMPLETED', 'WITHDRAWN'] as const satisfies readonly FactoryBatchStatus[];

/**
 * Every event carries `eventId`, stable for one fact (e.g. `preorder.accepted:po_…`),
 * so a consumer that sees it twice after a redelivery can tell; when the fact
 * happened; and the campaign it belongs to.
 */
const common = { eventId: id, occurredAt: Timestamp, campaignId: id };
const ofPreorder = { ...common, preorderId: id, sku: z.string() };
const ofBatch = { ...common, batchId: id, factoryId: id };
const ofShipment = { ...ofBatch, shipmentId: id };
/** A pre-order's step while it is in a batch: the batch and the factory that holds it. */
const ofBatchedPreorder = { ...ofPreorder, batchId: id, factoryId: id };

/** One type's detail schema, named (and described) for the OpenAPI document, where factory events are its webhooks' `data`. */
const detail = <S extends z.ZodRawShape>(name: string, description: string, shape: S) => z.object(shape).openapi(name, { description });

/**
 * The detail of each event type: exactly what its producers send, required
 * where every producer sets it, optional only where one legitimately does not.
 * Unknown fields are dropped when parsed (not refused), so a producer may add
 * a field before its consumers know it; the types refuse one at compile time.
 */
export const eventDetails = {
  'campaign.opened': detail('CampaignOpenedEvent', 'The campaign opened for pre-orders', { ...common, status: z.literal('OPEN') }),
  'campaign.closed': detail('CampaignClosedEvent', 'The campaign closed having made its minimum', {
    ...common,
    status: z.literal('CLOSED'),
    quantity: units.openapi({ description: 'Units ordered and not cancelled at the close' }),
  }),
  'campaign.failed': detail('CampaignFailedEvent', 'The campaign ended below its minimum: every pre-order is refunded', {
    ...common,
    status: z.literal('FAILED'),
    quantity: units.optional().openapi({ description: 'Units ordered and not cancelled, when it failed at its close' }),
    reason: z.literal('below-minimum-after-switching').optional().openapi({ description: 'Set when it failed after its switch window rather than at its close' }),
  }),
  'preorder.accepted': detail('PreorderAcceptedEvent', 'A buyer pre-ordered', { ...ofPreorder, status: z.literal('ACCEPTED'), quantity: units }),
  'preorder.cancelled': detail('PreorderCancelledEvent', 'The buyer cancelled (a `preorder.refunded` follows), or a deposit pre-order was cancelled with its deposit kept', {
    ...ofPreorder,
    status: z.literal('CANCELLED'),
    quantity: units,
    forfeitedAmount: amount.optional().openapi({ description: 'Deposit campaigns: the deposit kept (no refund follows) when the balance was never paid' }),
    reason: z
      .enum(['buyer', 'balance-unpaid'])
      .optional()
      .openapi({ description: '`balance-unpaid`: the balance was not paid by balanceDueBy; absent or `buyer`: the buyer cancelled' }),
  }),
  'preorder.balance_paid': detail('PreorderBalancePaidEvent', "The platform recorded a deposit pre-order's balance paid: it is in line for production", {
    ...ofPreorder,
    status: z.literal('ACCEPTED'),
    quantity: units,
    amount,
    currency: z.string(),
  }),
  'preorder.balance_due': detail('PreorderBalanceDueEvent', "A deposit campaign's sale closed: the pre-order's balance is due (POST /v1/payments/balances)", {
    ...ofPreorder,
    status: z.literal('ACCEPTED'),
    quantity: units,
    unitPrice: amount.openapi({ description: 'What a unit finally costs: the price at close less the deposit discount' }),
    balanceDue: amount,
    balanceDueBy: Timestamp,
    currency: z.string(),
    paymentRef: z.string().optional().openapi({ description: "The platform's reference of the deposit paid: the balance is recorded against it" }),
  }),
  'preorder.refunded': detail('PreorderRefundedEvent', 'c2m owes the buyer a refund (in full, or for the units that will never ship)', {
    ...ofPreorder,
    status: z.enum(preorderStatuses).openapi({ description: "The pre-order's status after the refund: REFUNDED when in full" }),
    quantity: units.openapi({ description: 'Units refunded' }),
    refundedAmount: amount,
    batchId: id.optional(),
    factoryId: id.optional(),
    reason: z
      .enum(['campaign-failed', 'batch-rejected', 'variant-below-minimum', 'ceiling', 'batch-closed-short', 'price-drop'])
      .optional()
      .openapi({ description: 'Why c2m refunded; absent when the buyer cancelled (with `preorder.cancelled`). `price-drop`: the campaign closed at a lower tier price, and the difference on the units kept is refunded (the status is unchanged)' }),
  }),
  'batch.released': detail('BatchReleasedEvent', 'A batch was cut for the factory, to accept by its deadline', {
    ...ofBatch,
    lines: skuUnits,
    quantity: units,
    reason: z.string().openapi({ description: 'Why it was cut: `lot`, `max-wait` or `final`' }),
  }),
  'batch.accepted': detail('BatchAcceptedEvent', 'The factory accepted the batch', { ...ofBatch, committedShipDate: z.string() }),
  'batch.rejected': detail('BatchRejectedEvent', 'The factory rejected the batch, or let it expire', {
    ...ofBatch,
    reason: z.string().optional().openapi({ description: "The factory's reason, when it gave one" }),
    next: z.enum(['backup-factory', 'refund']).openapi({ description: "Where the batch's pre-orders go: the backup factory, or refunds" }),
    nextFactoryId: id.optional().openapi({ description: 'The backup factory, when `next` is backup-factory' }),
  }),
  'batch.overdue': detail('BatchOverdueEvent', 'The batch was not accepted by its deadline', {
    ...ofBatch,
    acceptBy: z.string(),
    reason: z.string().optional().openapi({ description: 'When it will be treated as rejected, if not accepted first' }),
  }),
  'batch.progressed': detail('BatchProgressedEvent', 'The factory reported production and QC counts (cumulative)', {
    ...ofBatch,
    status: z.enum(batchStatuses),
    produced: units,
    qcPassed: units,
    qcFailed: units,
    shipped: units,
    sku: z.string().optional().openapi({ description: 'The line reported, when the factory reports per sku' }),
    defects: z.array(z.object({ code: z.enum(defectCodes), count: units })).optional().openapi({ description: "Why failed units failed: the batch's totals per code" }),
  }),
  'shipment.created': detail('ShipmentCreatedEvent', 'The factory shipped a lot', {
    ...ofShipment,
    carrier: z.string(),
    trackingNumber: z.string(),
    items: skuUnits,
    allocations: z
      .array(z.object({ preorderId: id, sku: z.string(), quantity: units }))
      .openapi({ description: 'Whose units are in the lot, oldest pre-orders first per sku; they sum to `items`' }),
    quantity: units,
    shipped: units.openapi({ description: 'Units of the batch shipped so far, this lot included' }),
    status: z.enum(batchStatuses).openapi({ description: "The batch's status after this lot" }),
  }),
  'shipment.delivered': detail('ShipmentDeliveredEvent', 'The carrier delivered the whole lot', { ...ofShipment, items: skuUnits, quantity: units }),
  'shipment.parcels_added': detail('ShipmentParcelsAddedEvent', 'The factory named per-buyer parcels for a lot', {
    ...ofShipment,
    parcels: z.array(z.object({ preorderId: id, carrier: z.string(), trackingNumber: z.string() })).openapi({ description: 'The parcels added or replaced' }),
  }),
  'shipment.parcel_delivered': detail('ShipmentParcelDeliveredEvent', "The carrier delivered one buyer's parcel", {
    ...ofShipment,
    preorderId: id,
    carrier: z.string(),
    trackingNumber: z.string(),
    sku: z.string().optional().openapi({ description: "The pre-order's units in the lot (absent if the lot holds none of them)" }),
    quantity: units.optional(),
  }),
  'batch.completed': detail('BatchCompletedEvent', 'The batch will ship no more: what did not ship is refunded', {
    ...ofBatch,
    status: z.literal('COMPLETED'),
    shipped: units,
    quantity: units,
    reason: z.string().optional().openapi({ description: 'Why it closed short, when it did' }),
  }),
  'preorder.shipped': detail('PreorderShippedEvent', 'Every unit the buyer will get has shipped', { ...ofBatchedPreorder, status: z.literal('SHIPPED'), quantity: units }),
  'preorder.delayed': detail('PreorderDelayedEvent', 'The pre-order is now promised to ship later; the buyer may cancel', {
    ...ofBatchedPreorder,
    status: z.enum(['BATCHED', 'IN_PRODUCTION']),
    promisedShipBy: z.string().openapi({ description: 'The date the pre-order is now promised to ship by' }),
    committedShipDate: z.string().optional().openapi({ description: "The factory's date, when the delay comes from its acceptance" }),
  }),
  'preorder.delivered': detail('PreorderDeliveredEvent', 'Every unit the buyer will get was delivered', { ...ofBatchedPreorder, status: z.literal('DELIVERED'), quantity: units }),
  'preorder.compensated': detail('PreorderCompensatedEvent', 'The buyer is owed compensation for a late shipment (the platform pays)', {
    ...ofBatchedPreorder,
    status: z.enum(['IN_PRODUCTION', 'SHIPPED']),
    compensatedAmount: amount,
    currency: z.string(),
    promisedShipBy: z.string().openapi({ description: 'The date promised when the buyer ordered' }),
  }),
  'preorder.address_changed': detail('PreorderAddressChangedEvent', 'The buyer sends the pre-order to a new address', {
    ...common,
    preorderId: id,
    shippingAddress: z
      .object({
        name: z.string(),
        phone: z.string(),
        line1: z.string(),
        line2: z.string().optional(),
        city: z.string(),
        region: z.string(),
        postalCode: z.string(),
        country: z.string(),
      })
      .openapi({ description: 'The whole new address (the same fields as in the manifest)' }),
    batchId: id.optional().openapi({ description: 'The batch, when a factory holds it (then the factory is told)' }),
    factoryId: id.optional(),
  }),
  'batch.units_withdrawn': detail('BatchUnitsWithdrawnEvent', 'c2m took back the units the factory has not shipped', {
    ...ofBatch,
    lines: skuUnits.openapi({ description: 'The units withdrawn, per sku' }),
    quantity: units,
    reason: z.enum(['campaign-failed', 'ceiling']),
  }),
  'refund.requested': detail('RefundRequestedEvent', "c2m decided a refund: the platform's payment service pays it back and confirms it (POST /v1/payments/refunds/{refundId}/confirm)", {
    ...common,
    preorderId: id,
    refundId: id,
    amount: amount.openapi({ description: 'Minor units of `currency` to pay back' }),
    currency: z.string(),
    reason: z.enum(refundReasons),
    paymentRef: z.string().optional().openapi({ description: "The platform's reference of the payment to refund, when the pre-order was placed with one" }),
  }),
  'refund.confirmed': detail('RefundConfirmedEvent', 'The platform confirmed it paid a refund back', {
    ...common,
    preorderId: id,
    refundId: id,
    amount,
    currency: z.string(),
    requestedAt: Timestamp.openapi({ description: 'When c2m decided it: the time from this to occurredAt is how long the buyer waited for the money' }),
  }),
} satisfies Record<EventType, z.ZodObject>;

/** The detail of an event of type `T`, as parsed. */
export type EventDetailOf<T extends EventType> = z.infer<(typeof eventDetails)[T]>;

// ---------------------------------------------------------------- one object per type

/** The option of `unionPerType` for type `T`: `K` holds the type, `F` its schema from `M`, and `C` is common to all. */
type OptionFor<M extends Record<string, z.ZodType>, T extends keyof M & string, K extends string, F extends string, C extends z.ZodRawShape> = z.ZodObject<
  Omit<C, K | F> & { [P in K]: z.ZodLiteral<T> } & { [P in F]: M[T] },
  z.core.$strip
>;
type OptionsFor<M extends Record<string, z.ZodType>, Ts extends readonly (keyof M & string)[], K extends string, F extends string, C extends z.ZodRawShape> = {
  -readonly [I in keyof Ts]: OptionFor<M, Ts[I], K, F, C>;
};

/**
 * A discriminated union with one object per type in `types`: `key` holds the
 * type, `field` that type's schema from `schemas`, and `shared` the fields
 * every option has. An envelope whose detail does not fit its type is refused,
 * naming the field.
 */
export const unionPerType = <
  M extends Record<string, z.ZodType>,
  const Ts extends readonly [keyof M & string, ...(keyof M & string)[]],
  K extends string,
  F extends string,
  C extends z.ZodRawShape = Record<never, never>,
>(
  schemas: M,
  types: Ts,
  key: K,
  field: F,
  shared?: C,
) =>
  z.discriminatedUnion(
    key,
    // Array.map forgets which option is which; OptionsFor restores it, type by type.
    types.map((t) => z.object({ ...shared, [key]: z.literal(t), [field]: schemas[t] })) as OptionsFor<M, Ts, K, F, C>,
  );

const fromBus = { source: z.literal('c2m') };

/** Any c2m event as a rule delivers it to a queue: the EventBridge envelope, its detail checked against its type's schema. */
export const BusEnvelope = unionPerType(eventDetails, eventTypes, 'detail-type', 'detail', fromBus);
export type BusEnvelope = z.infer<typeof BusEnvelope>;

/**
 * What the `factory-events-to-webhooks` rule puts on the webhook-events queue:
 * the EventBridge envelope of a factory event.
 */
export const FactoryEventEnvelope = unionPerType(eventDetails, busFactoryEventTypes, 'detail-type', 'detail', fromBus);
export type FactoryEventEnvelope = z.infer<typeof FactoryEventEnvelope>;

/** An event as c2m's code holds it and the outbox stores it: its type and its detail. */
export const DomainEvent = unionPerType(eventDetails, eventTypes, 'type', 'detail');
export type DomainEvent = z.infer<typeof DomainEvent>;

/** A campaign that closed or failed, as the clock and the cutter get it from the bus. */
const CampaignEnded = unionPerType(eventDetails, ['campaign.closed', 'campaign.failed'], 'detail-type', 'detail', fromBus);
/** A balance paid, as the cutter gets it from the bus: a lot of its campaign may be waiting now. */
const BalancePaidOnBus = unionPerType(eventDetails, ['preorder.balance_paid'], 'detail-type', 'detail', fromBus);

/** An event whose detail does not fit its type's schema (or of no type c2m publishes): refused where it is parsed. */
export class EventNotValidError extends Error {
  override readonly name = 'EventNotValidError';
  constructor(
    readonly eventType: string,
    readonly issues: readonly { readonly path: string; readonly message: string }[],
  ) {
    super(`${eventType} event refused: ${issues.map((i) => `${i.path || '(root)'}: ${i.message}`).join('; ')}`);
  }
}

/** What a consumer calls on a message body: the envelope, or an EventNotValidError naming the type and the fields. */
export const parseEnvelope = <S extends z.ZodType>(schema: S, body: unknown): z.infer<S> => {
  const parsed = schema.safeParse(body);
  if (parsed.success) return parsed.data;
  const type = typeof body === 'object' && body !== null && 'detail-type' in body ? String(body['detail-type']) : 'untyped';
  throw new EventNotValidError(
    type,
    parsed.error.issues.map((i) => ({ path: i.path.map(String).join('.'), message: i.message })),
  );
};

// ---------------------------------------------------------------- queue messages

/**
 * What the sweep fans out, one message per piece of work, each retried and
 * dead-lettered on its own: a campaign's minute (`tick`: its transition if due,
 * its demand snapshot and forecast, its max-wait cut request) and a batch that
 * came due (`batch-due`). `at` is the sweep's time, and the work is done as of it,
 * so a repeat of the message decides the same (and writes the same minute's snapshot).
 */
export const ClockWork = z.discriminatedUnion('kind', [
  z.object({ kind: z.literal('tick'), campaignId: z.string().min(1), at: Timestamp }),
  z.object({ kind: z.literal('batch-due'), batchId: z.string().min(1), at: Timestamp }),
]);
export type ClockWork = z.infer<typeof ClockWork>;

/** What reaches the campaign-clock queue: one-time schedules, the sweep, the work it fans out, and bus events. */
export const ClockMessage = z.union([
  z.object({ kind: z.enum(['open', 'close']), campaignId: z.string().min(1) }),
  z.object({ kind: z.literal('sweep') }),
  ClockWork,
  CampaignEnded,
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
  CampaignEnded,
  BalancePaidOnBus,
]);
export type CutMessage = z.infer<typeof CutMessage>;

/** What the webhook-deliveries queue carries: the delivery to attempt (its stored payload is what is sent). */
export const DeliveryMessage = z.object({ deliveryId: z.string().regex(/^dlv_[0-9a-z]{24}$/) });
export type DeliveryMessage = z.infer<typeof DeliveryMessage>;
