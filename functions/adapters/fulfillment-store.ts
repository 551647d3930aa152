import { freeUnitsPart } from './buyer-limit-store.ts';
import { tableName } from '#shared/config.ts';
import type { Campaign } from '#domain/campaign.ts';
import type { Preorder, PreorderShipment, PreorderStatus, TimelineEntry } from '#domain/preorder.ts';
import { guardedTransact, type TransactItem } from './dynamo.ts';
import { gateKey, variantSlot } from './campaign-store.ts';
import { preorderKey } from './preorder-store.ts';
import { outboxPut } from './outbox.ts';
import type { DomainEvent } from './event-bus.ts';

/**
 * A pre-order's life after its batch is accepted: in production, shipped
 * (possibly in several lots), delivered, refunded for units that never ship,
 * told of delays; and the trust tallies those steps feed.
 *
 * Every change is one transaction, conditional on the pre-order being as it was
 * read (status, batch, and the quantity counters it moves), with its timeline
 * entry, its events (outbox) and its tallies: a redelivered message, or two
 * consumers at once, change nothing twice.
 *
 * The trust tallies these steps feed are the trust item's (trust-store.ts);
 * re-exported here for the stores that add them to their transactions.
 */
export { readTally, tallies, trustKey, trustShards, type Tally } from './trust-store.ts';


export type Outcome = 'done' | 'stale' | 'not-applicable';

/**
 * One conditional change of a pre-order, with what goes with it. 'stale' means
 * the pre-order changed since it was read: read it again and decide again.
 * 'not-applicable' means the guard (status, batch) no longer holds at all.
 */
const change = async (input: {
  p: Preorder;
  guard: string;
  guardValues?: Record<string, unknown>;
  set: Record<string, unknown>;
  remove?: readonly string[];
  entries: readonly TimelineEntry[];
  also?: readonly TransactItem[];
  events?: readonly DomainEvent[];
  now: Date;
}): Promise<Outcome> => {
  const names: Record<string, string> = { '#status': 'status' };
  const values: Record<string, unknown> = { ':now': input.now.toISOString(), ':entries': input.entries, ...input.guardValues };
  const sets = ['updatedAt = :now', 'timeline = list_append(timeline, :entries)'];
  for (const [key, value] of Object.entries(input.set)) {
    names[`#${key}`] = key;
    values[`:set_${key}`] = value;
    sets.push(`#${key} = :set_${key}`);
  }
  for (const key of input.remove ?? []) names[`#${key}`] = key;
  // The counters a change moves are part of its guard: it was decided on the values read. What was refunded
  // too: a refund pays at the price as read, and a price drop landing in between would make it pay twice.
  const counters = [
    input.p.shippedQuantity === undefined ? 'attribute_not_exists(shippedQuantity)' : 'shippedQuantity = :shippedQ',
    input.p.deliveredQuantity === undefined ? 'attribute_not_exists(deliveredQuantity)' : 'deliveredQuantity = :deliveredQ',
    'refundedAmount = :refundedQ',
  ].join(' AND ');
  values[':refundedQ'] = input.p.refundedAmount;
  if (input.p.shippedQuantity !== undefined) values[':shippedQ'] = input.p.shippedQuantity;
  if (input.p.deliveredQuantity !== undefined) values[':deliveredQ'] = input.p.deliveredQuantity;
  const outcome = await guardedTransact([
    {
      Update: {
        TableName: tableName(),
        Key: preorderKey(input.p.preorderId),
        UpdateExpression: `SET ${sets.join(', ')}${input.remove?.length ? ` REMOVE ${input.remove.map((k) => `#${k}`).join(', ')}` : ''}`,
        ConditionExpression: `(${input.guard}) AND ${counters}`,
        ExpressionAttributeNames: names,
        ExpressionAttributeValues: values,
        ReturnValuesOnConditionCheckFailure: 'ALL_OLD',
      },
    },
    ...(input.also ?? []),
    ...(input.events ?? []).map(outboxPut),
  ]);
  return outcome === 'done' ? 'done' : 'stale';
};

const inBatch = (statuses: readonly PreorderStatus[]) => ({
  guard: `batchId = :batch AND #status IN (${statuses.map((_, i) => `:st${i}`).join(', ')})`,
  values: (batchId: string) => ({ ':batch': batchId, ...Object.fromEntries(statuses.map((s, i) => [`:st${i}`, s])) }),
});

/** BATCHED → IN_PRODUCTION when the factory accepts, with the promise it implies (a later date is a delay notice). */
export const startProduction = (
  p: Preorder,
  batchId: string,
  promisedShipBy: string,
  entries: readonly TimelineEntry[],
  events: readonly DomainEvent[],
  now: Date,
) => {
  const g = inBatch(['BATCHED']);
  const delayed = promisedShipBy > p.promisedShipBy;
  return change({
    p,
    guard: g.guard,
    guardValues: g.values(batchId),
    set: {
      status: 'IN_PRODUCTION',
      promisedShipBy,
      firstPromisedShipBy: p.firstPromisedShipBy ?? p.promisedShipBy,
      ...(delayed && { delayedTo: promisedShipBy }),
    },
    entries,
    events,
    now,
  });
};

/** A delay notice on a pre-order still waiting for its units: the new date, and the right to cancel. */
export const noticeDelay = (p: Preorder, batchId: string, newDate: string, entry: TimelineEntry, event: DomainEvent, now: Date) => {
  const g = inBatch(['BATCHED', 'IN_PRODUCTION']);
  return change({
    p,
    guard: `${g.guard} AND promisedShipBy < :newDate`,
    guardValues: { ...g.values(batchId), ':newDate': newDate },
    set: { promisedShipBy: newDate, delayedTo: newDate, firstPromisedShipBy: p.firstPromisedShipBy ?? p.promisedShipBy },
    entries: [entry],
    events: [event],
    now,
  });
};

/**
 * Units of one shipment reach the pre-order: appended to its shipments; the
 * pre-order is SHIPPED once it has every unit it will get (and its tallies
 * count it). A shipment is applied to a pre-order once (`shipmentIds`).
 */
export const applyShipment = (
  p: Preorder,
  batchId: string,
  shipment: PreorderShipment,
  next: { status: PreorderStatus; full: boolean; compensatedAmount?: number },
  entries: readonly TimelineEntry[],
  events: readonly DomainEvent[],
  also: readonly TransactItem[],
  now: Date,
) => {
  const g = inBatch(['BATCHED', 'IN_PRODUCTION']);
  return change({
    p,
    guard: `${g.guard} AND NOT contains(shipmentIds, :sid)`,
    guardValues: { ...g.values(batchId), ':sid': shipment.shipmentId },
    set: {
      status: next.status,
      shipments: [...(p.shipments ?? []), shipment],
      shipmentIds: [...(p.shipments ?? []).map((s) => s.shipmentId), shipment.shipmentId],
      shippedQuantity: (p.shippedQuantity ?? 0) + shipment.quantity,
      firstPromisedShipBy: p.firstPromisedShipBy ?? p.promisedShipBy,
      ...(next.compensatedAmount !== undefined && { compensatedAmount: next.compensatedAmount }),
    },
    remove: next.full ? ['delayedTo'] : [],
    entries,
    events,
    also,
    now,
  });
};

/** A shipment's units arrived: counted on the pre-order, which is DELIVERED once everything it will get has. */
export const applyDelivery = (
  p: Preorder,
  batchId: string,
  shipmentId: string,
  next: { status: PreorderStatus; shipments: readonly PreorderShipment[]; deliveredQuantity: number },
  entries: readonly TimelineEntry[],
  events: readonly DomainEvent[],
  also: readonly TransactItem[],
  now: Date,
) =>
  change({
    p,
    guard: 'batchId = :batch AND contains(shipmentIds, :sid) AND NOT contains(deliveredShipmentIds, :sid)',
    guardValues: { ':batch': batchId, ':sid': shipmentId },
    set: {
      status: next.status,
      shipments: next.shipments,
      deliveredQuantity: next.deliveredQuantity,
      deliveredShipmentIds: [...(p.shipments ?? []).filter((s) => s.deliveredAt).map((s) => s.shipmentId), shipmentId],
    },
    entries,
    events,
    also,
    now,
  });

/**
 * The lot's units for this pre-order travel in a parcel of their own: the
 * pre-order's entry for that lot (at `index`) takes the parcel's carrier and
 * tracking number, on condition that the entry still has the label it was read
 * with (a second relabel or a delivery in between makes it 'stale').
 */
export const relabelShipment = (
  p: Preorder,
  batchId: string,
  index: number,
  label: { carrier: string; trackingNumber: string },
  entries: readonly TimelineEntry[],
  now: Date,
) => {
  const read = p.shipments?.[index];
  if (!read) return Promise.resolve<Outcome>('not-applicable');
  const at = `shipments[${index}]`;
  return change({
    p,
    guard: `batchId = :batch AND #status = :readStatus AND ${at}.shipmentId = :sid AND ${at}.trackingNumber = :oldTracking AND ${at}.carrier = :oldCarrier AND attribute_not_exists(${at}.deliveredAt)`,
    guardValues: { ':batch': batchId, ':readStatus': p.status, ':sid': read.shipmentId, ':oldTracking': read.trackingNumber, ':oldCarrier': read.carrier },
    set: { shipments: (p.shipments ?? []).map((s, i) => (i === index ? { ...s, ...label } : s)) },
    entries,
    now,
  });
};

/**
 * Units that will never ship are refunded: the whole pre-order (REFUNDED) or
 * the missing part (refundedAmount, and the pre-order ends DELIVERED for what
 * arrives). Its gate moves those units from batched to cancelled, in the same
 * transaction, so demand keeps ordered = batched + waiting + cancelled.
 */
export const refundUnits = (
  p: Preorder,
  campaign: Pick<Campaign, 'campaignId' | 'variants' | 'maxPerBuyer'>,
  batchId: string,
  refund: { units: number; amount: number; status: PreorderStatus },
  entries: readonly TimelineEntry[],
  events: readonly DomainEvent[],
  also: readonly TransactItem[],
  now: Date,
) => {
  const g = inBatch(['BATCHED', 'IN_PRODUCTION']);
  const shard = p.gateTakes[0]?.shard ?? 0;
  return change({
    p,
    guard: `${g.guard} AND attribute_not_exists(refundedUnits)`,
    guardValues: g.values(batchId),
    set: { status: refund.status, refundedUnits: refund.units, refundedAmount: p.refundedAmount + refund.amount },
    remove: ['delayedTo'],
    entries,
    events,
    also: [
      {
        Update: {
          TableName: tableName(),
          Key: gateKey(p.campaignId, shard),
          UpdateExpression: 'ADD batched.#slot :minus, cancelled.#slot :units',
          ExpressionAttributeNames: { '#slot': variantSlot(campaign, p.sku) },
          ExpressionAttributeValues: { ':minus': -refund.units, ':units': refund.units },
        },
      },
      ...freeUnitsPart(campaign, p.buyerId, refund.units),
      ...also,
    ],
    now,
  });
};
