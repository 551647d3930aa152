import { DeleteCommand, PutCommand, QueryCommand } from '@aws-sdk/lib-dynamodb';
import { MetricUnit } from '@aws-lambda-powertools/metrics';
import { tableName } from '#shared/config.ts';
import { log, metrics } from '#shared/observability.ts';
import { DomainEvent as DomainEventSchema, eventTypes } from '#contracts/messages.ts';
import * as z from 'zod';
import { refundsOf } from '#domain/refunds.ts';
import { batchGetItems, ddb } from './dynamo.ts';
import { eventOf, publish, type DomainEvent, type EventOf } from './event-bus.ts';
import { parseStoredPreorderItem } from './stored-items.ts';
import { putRefundsOwed, type RefundOwed } from './refund-store.ts';
import { recordRefundLatency } from './trust-store.ts';

/**
 * Transactional outbox. An event that announces a state change is written as an
 * item in the same transaction as the change, so the two cannot disagree: if the
 * change commits, the event exists. After the commit the writer publishes it and
 * deletes the item; if that fails (crash, bus down), the relay on the clock's
 * sweep publishes what is older than a minute. At least once, with stable
 * eventIds for receivers to de-duplicate.
 *
 * Keys: PK=OUTBOX#<0..7> (spread, though the rate is low) SK=<occurredAt>#<eventId>
 *       PK=OUTBOX#QUARANTINE SK=<the item's PK>#<SK>: an item the relay could not read
 *
 * An outbox item has no expiry: an event never published stays until it is (an
 * expired item would be an announcement lost without a trace). An item the
 * relay cannot read as an event is moved aside, whole, with why, and counted
 * (`OutboxItemsQuarantined`, alarmed): the relay goes on with the others rather
 * than stopping every sweep on it.
 */
const shards = 8;
const quarantinePartition = 'OUTBOX#QUARANTINE';
export const outboxMetrics = {
  quarantined: 'OutboxItemsQuarantined',
  /**
   * Seconds since the oldest unpublished event in the outbox occurred, as the relay finds it
   * before it relays (0 when the outbox is empty), every pass: an outbox that is not emptied,
   * whatever the cause, grows it pass after pass, and the outbox-age alarm pages.
   */
  oldestAgeSeconds: 'OutboxOldestItemAgeSeconds',
} as const;

const outboxKey = (e: DomainEvent) => {
  let hash = 0;
  for (const ch of e.detail.eventId) hash = (hash * 31 + ch.charCodeAt(0)) >>> 0;
  return { PK: `OUTBOX#${hash % shards}`, SK: `${e.detail.occurredAt}#${e.detail.eventId}` };
};

/** The Put to add to the transaction that makes the change the event announces. */
export const outboxPut = (e: DomainEvent) => ({
  Put: {
    TableName: tableName(),
    Item: {
      ...outboxKey(e),
      type: 'outbox',
      eventType: e.type,
      detail: e.detail,
    },
  },
});

const clear = (events: readonly DomainEvent[]) =>
  Promise.all(events.map((e) => ddb.send(new DeleteCommand({ TableName: tableName(), Key: outboxKey(e) }))));

/**
 * Both ways out of the outbox (right after the commit, or by the relay) end
 * here: each refund among the events published has its wait from decision
 * (`occurredAt`) to bus recorded in the trust tallies. After the outbox is
 * cleared and never thrown, so a failed sample cannot publish an event again.
 */
const published = async (events: readonly DomainEvent[], publishedAt: number): Promise<void> => {
  const refunds = events.filter((e): e is EventOf<'preorder.refunded'> => e.type === 'preorder.refunded');
  if (refunds.length === 0) return;
  try {
    await Promise.all(
      refunds.map((e) =>
        recordRefundLatency({
          campaignId: e.detail.campaignId,
          ...(e.detail.factoryId && { factoryId: e.detail.factoryId }),
          preorderId: e.detail.preorderId,
          seconds: (publishedAt - Date.parse(e.detail.occurredAt)) / 1000,
        }),
      ),
    );
  } catch (err) {
    log().warn('refund latency not recorded', { eventIds: refunds.map((e) => e.detail.eventId), error: err as Error });
  }
};

/**
 * The refunds the platform has not confirmed yet, of the refunded pre-orders
 * among `events`. A refund is its decision's timeline entry (domain/refunds.ts):
 * it is read off the pre-order as stored, so it is announced with the event of
 * the decision that made it, whichever way that event leaves the outbox, and no
 * decision site has anything more to write.
 *
 * `unreadable`: why, for each refunded pre-order that cannot be read (absent,
 * or not a pre-order). Its `preorder.refunded` must not leave the outbox
 * without the announcement, or the platform would never hear of the refund:
 * the relay moves it aside, alarmed, as any item it cannot follow.
 */
const refundsOwedBy = async (events: readonly DomainEvent[]): Promise<{ owed: RefundOwed[]; unreadable: Map<string, string> }> => {
  const refunded = [...new Set(events.flatMap((e) => (e.type === 'preorder.refunded' ? [e.detail.preorderId] : [])))];
  const unreadable = new Map<string, string>();
  if (refunded.length === 0) return { owed: [], unreadable };
  const items = await batchGetItems(
    tableName(),
    refunded.map((preorderId) => ({ PK: `PREORDER#${preorderId}`, SK: 'PREORDER' })),
    true,
  );
  const found = new Set(items.map((i) => String(i.PK).slice('PREORDER#'.length)));
  for (const id of refunded) if (!found.has(id)) unreadable.set(id, 'the refunded pre-order does not exist');
  const owed = items.flatMap((item): RefundOwed[] => {
    let p;
    try {
      p = parseStoredPreorderItem(item);
    } catch (err) {
      unreadable.set(String(item.PK).slice('PREORDER#'.length), `the refunded pre-order cannot be read: ${(err as Error).message}`);
      return [];
    }
    const { preorderId, campaignId, paymentRef } = p;
    return refundsOf(p)
      .filter((r) => r.status === 'REQUESTED')
      .map((r) => ({
        refundId: r.refundId,
        preorderId,
        campaignId,
        amount: r.amount,
        currency: r.currency,
        reason: r.reason,
        requestedAt: r.requestedAt,
        ...(paymentRef !== undefined && { paymentRef }),
      }));
  });
  return { owed, unreadable };
};

/** A refund owed, announced: the same refund announced again (a redelivery, a later refund of its pre-order) has the same eventId. */
const refundRequested = ({ requestedAt, ...r }: RefundOwed): DomainEvent => eventOf('refund.requested', { ...r, occurredAt: requestedAt }, r.refundId);

/**
 * The events, and the refund requests they carry (refundsOwedBy), published;
 * those that carry a refund whose pre-order cannot be read are held back, and returned, with why.
 */
const publishWithRefunds = async (events: readonly DomainEvent[]): Promise<{ sent: DomainEvent[]; held: { event: DomainEvent; why: string }[] }> => {
  const { owed, unreadable } = await refundsOwedBy(events);
  const sent: DomainEvent[] = [];
  const held: { event: DomainEvent; why: string }[] = [];
  for (const event of events) {
    const why = event.type === 'preorder.refunded' ? unreadable.get(event.detail.preorderId) : undefined;
    if (why === undefined) sent.push(event);
    else held.push({ event, why });
  }
  // On the platform's list of refunds owed first (refund-store.ts), then announced: what it hears of, it can find.
  await putRefundsOwed(owed);
  await publish([...sent, ...owed.map(refundRequested)]);
  return { sent, held };
};

/**
 * Publishes events whose outbox items were just committed, then clears them. A
 * failure here is not the caller's failure (the change is done and the relay will
 * publish), so it is logged, never thrown.
 */
export const publishCommitted = async (events: readonly DomainEvent[]): Promise<void> => {
  try {
    const { sent, held } = await publishWithRefunds(events);
    const publishedAt = Date.now();
    await clear(sent);
    await published(sent, publishedAt);
    // Left for the relay, which moves them aside (alarmed).
    if (held.length > 0) log().error('refunds held in the outbox: their pre-order cannot be read', { held: held.map((h) => ({ eventId: h.event.detail.eventId, why: h.why })) });
  } catch (err) {
    log().warn('events left in the outbox for the relay', {
      eventIds: events.map((e) => e.detail.eventId),
      error: err as Error,
    });
  }
};

/** An outbox item names an event type c2m publishes, and holds a detail that fits that type's schema. */
const OutboxItem = z.object({ eventType: z.enum(eventTypes), detail: z.unknown() });

/** The event an item holds, or why it is not one (the type, then each field that does not fit). */
const eventOfItem = (item: Record<string, unknown>): { event: DomainEvent } | { why: string } => {
  const stored = OutboxItem.safeParse(item);
  if (!stored.success) return { why: z.prettifyError(stored.error) };
  const event = DomainEventSchema.safeParse({ type: stored.data.eventType, detail: stored.data.detail });
  if (!event.success) return { why: `eventType ${stored.data.eventType}: ${z.prettifyError(event.error)}` };
  return { event: event.data };
};

/**
 * Moves an item the relay cannot read out of the outbox: the copy first (with
 * why), then the original, so a crash in between leaves a copy to overwrite
 * next time and never loses the item.
 */
const quarantine = async (item: Record<string, unknown>, why: string, now: Date): Promise<void> => {
  const original = { PK: item.PK, SK: item.SK };
  await ddb.send(
    new PutCommand({
      TableName: tableName(),
      Item: { PK: quarantinePartition, SK: `${String(item.PK)}#${String(item.SK)}`, type: 'outbox-quarantine', original: item, why: why.slice(0, 2000), quarantinedAt: now.toISOString() },
    }),
  );
  await ddb.send(new DeleteCommand({ TableName: tableName(), Key: original }));
  metrics.addMetric(outboxMetrics.quarantined, MetricUnit.Count, 1);
  log().error('outbox item is not an event; moved to OUTBOX#QUARANTINE, the relay goes on', { key: original, why: why.slice(0, 500) });
};

/** Seconds from the oldest outbox item's `occurredAt` (its sort key begins with it) to `now`; 0 when empty. One item read per shard. */
export const oldestItemAgeSeconds = async (now: Date): Promise<number> => {
  const firsts = await Promise.all(
    Array.from({ length: shards }, (_, shard) =>
      ddb.send(
        new QueryCommand({
          TableName: tableName(),
          KeyConditionExpression: 'PK = :pk',
          ExpressionAttributeValues: { ':pk': `OUTBOX#${shard}` },
          ProjectionExpression: 'SK',
          Limit: 1,
        }),
      ),
    ),
  );
  const oldest = firsts
    .map((out) => Date.parse(String(out.Items?.[0]?.SK ?? '').split('#')[0] ?? ''))
    .filter((t) => Number.isFinite(t))
    .reduce((a, b) => Math.min(a, b), Infinity);
  return oldest === Infinity ? 0 : Math.max(0, Math.round((now.getTime() - oldest) / 1000));
};

/** Publishes and clears outbox items older than `olderThanMs`; returns how many it relayed. */
export const relayOutbox = async (now: Date, olderThanMs = 60_000): Promise<number> => {
  const cutoff = new Date(now.getTime() - olderThanMs).toISOString();
  // Measured first and flushed with the pass's metrics even when publishing below fails: the failing passes are the ones it is for.
  metrics.addMetric(outboxMetrics.oldestAgeSeconds, MetricUnit.Seconds, await oldestItemAgeSeconds(now));
  let relayed = 0;
  for (let shard = 0; shard < shards; shard++) {
    let start: Record<string, unknown> | undefined;
    do {
      const out = await ddb.send(
        new QueryCommand({
          TableName: tableName(),
          KeyConditionExpression: 'PK = :pk AND SK < :cutoff',
          ExpressionAttributeValues: { ':pk': `OUTBOX#${shard}`, ':cutoff': cutoff },
          ExclusiveStartKey: start,
          Limit: 100,
        }),
      );
      const events: DomainEvent[] = [];
      const itemOf = new Map<DomainEvent, Record<string, unknown>>();
      for (const item of out.Items ?? []) {
        const read = eventOfItem(item);
        if ('event' in read) {
          events.push(read.event);
          itemOf.set(read.event, item);
        } else await quarantine(item, read.why, now);
      }
      if (events.length > 0) {
        const { sent, held } = await publishWithRefunds(events);
        const publishedAt = Date.now();
        await clear(sent);
        await published(sent, publishedAt);
        for (const h of held) await quarantine(itemOf.get(h.event)!, h.why, now);
        relayed += sent.length;
      }
      start = out.LastEvaluatedKey;
    } while (start);
  }
  if (relayed > 0) log().info('relayed events from the outbox', { relayed });
  return relayed;
};
