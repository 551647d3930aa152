import { DeleteCommand, QueryCommand } from '@aws-sdk/lib-dynamodb';
import { tableName } from '#shared/config.ts';
import { log } from '#shared/observability.ts';
import { EventDetail, eventTypes } from '#contracts/messages.ts';
import { z } from 'zod';
import { ddb } from './dynamo.ts';
import { publish, type DomainEvent } from './event-bus.ts';
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
 */
const shards = 8;
const ttlSeconds = 7 * 24 * 3600;

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
      expiresAt: Math.floor(Date.now() / 1000) + ttlSeconds,
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
  const refunds = events.filter((e) => e.type === 'preorder.refunded');
  if (refunds.length === 0) return;
  try {
    await Promise.all(
      refunds.map((e) =>
        recordRefundLatency({
          campaignId: e.detail.campaignId,
          ...(e.detail.factoryId && { factoryId: e.detail.factoryId }),
          preorderId: e.detail.preorderId ?? e.detail.eventId,
          seconds: (publishedAt - Date.parse(e.detail.occurredAt)) / 1000,
        }),
      ),
    );
  } catch (err) {
    log().warn('refund latency not recorded', { eventIds: refunds.map((e) => e.detail.eventId), error: err as Error });
  }
};

/**
 * Publishes events whose outbox items were just committed, then clears them. A
 * failure here is not the caller's failure (the change is done and the relay will
 * publish), so it is logged, never thrown.
 */
export const publishCommitted = async (events: readonly DomainEvent[]): Promise<void> => {
  try {
    await publish(events);
    const publishedAt = Date.now();
    await clear(events);
    await published(events, publishedAt);
  } catch (err) {
    log().warn('events left in the outbox for the relay', {
      eventIds: events.map((e) => e.detail.eventId),
      error: err as Error,
    });
  }
};

const OutboxItem = z.object({ eventType: z.enum(eventTypes), detail: EventDetail });

/** Publishes and clears outbox items older than `olderThanMs`; returns how many it relayed. */
export const relayOutbox = async (now: Date, olderThanMs = 60_000): Promise<number> => {
  const cutoff = new Date(now.getTime() - olderThanMs).toISOString();
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
      const events = (out.Items ?? []).map((item) => {
        const parsed = OutboxItem.parse(item);
        return { type: parsed.eventType, detail: parsed.detail };
      });
      if (events.length > 0) {
        await publish(events);
        const publishedAt = Date.now();
        await clear(events);
        await published(events, publishedAt);
        relayed += events.length;
      }
      start = out.LastEvaluatedKey;
    } while (start);
  }
  if (relayed > 0) log().info('relayed events from the outbox', { relayed });
  return relayed;
};
