import { GetCommand, QueryCommand } from '@aws-sdk/lib-dynamodb';
import { tableName } from '#shared/config.ts';
import { OverloadedError } from '#domain/errors.ts';
import { FeedEventView } from '#contracts/webhooks.ts';
import { log } from '#shared/observability.ts';
import { backoff, ddb, failedAt, transactWrite } from './dynamo.ts';

/**
 * A factory's change feed: every event about its batches and shipments,
 * numbered once per factory. The number is the one its webhooks carry
 * (`sequence`, `C2M-Sequence`), and `GET /v1/factory/events?after=` reads the
 * same events in that order for a factory that polls instead.
 *
 * Keys:
 *   counter  PK=FACTORY#<factoryId>            SK=WEBHOOKSEQ   seq   (the factory's last event number)
 *   marker   PK=FEEDEVENT#<factoryId>#<eventId> SK=FEEDEVENT    sequence            (TTL 30 days)
 *   entry    PK=FEED#<factoryId>               SK=<sequence, 12 digits>  id, type, occurredAt, data (TTL 30 days)
 *
 * The three are written in one transaction, the counter moving from the value
 * read to the next only if the marker is new: an event handed to the
 * dispatcher twice keeps its first number and burns none, and since a number
 * is taken only after the one before it was committed with its entry, a
 * strongly consistent read of the feed never skips a number that a later
 * read would fill in. A poller that saw N may ask for `after=N` and miss
 * nothing.
 */
const counterKey = (factoryId: string) => ({ PK: `FACTORY#${factoryId}`, SK: 'WEBHOOKSEQ' });
const markerKey = (factoryId: string, eventId: string) => ({ PK: `FEEDEVENT#${factoryId}#${eventId}`, SK: 'FEEDEVENT' });
const feedPartition = (factoryId: string) => `FEED#${factoryId}`;
const sortKeyOf = (sequence: number) => String(sequence).padStart(12, '0');

/** Kept as long as webhook deliveries: a poller further behind reads batches and shipments instead. */
export const feedRetentionDays = 30;
/** Tries at the factory's next number: another event of the factory taking it first is the usual reason to try again. */
const maxAttempts = 10;

export interface NewFeedEvent {
  readonly factoryId: string;
  readonly eventId: string;
  readonly type: string;
  readonly occurredAt: string;
  readonly data: Record<string, unknown>;
}

/**
 * An entry as the feed serves it, its data checked against its type's schema.
 * One that does not fit (written by an older c2m, or by hand) is served as it
 * was stored and delivered, and logged: a poller must see every number, and
 * the same data its webhooks got, rather than a gap or an error for the page.
 */
const fromEntry = (item: Record<string, unknown>): FeedEventView => {
  const entry = { sequence: Number(item.sequence), id: String(item.id), type: String(item.eventType), occurredAt: String(item.occurredAt), data: item.data ?? {} };
  const parsed = FeedEventView.safeParse(entry);
  if (parsed.success) return parsed.data;
  log().error('feed entry does not fit its event type; served as stored', { id: entry.id, type: entry.type, issues: parsed.error.issues.slice(0, 5) });
  return entry as FeedEventView;
};

const readMarker = async (factoryId: string, eventId: string): Promise<number | undefined> => {
  const out = await ddb.send(
    new GetCommand({
      TableName: tableName(),
      Key: markerKey(factoryId, eventId),
      ConsistentRead: true,
      ProjectionExpression: '#sequence',
      ExpressionAttributeNames: { '#sequence': 'sequence' },
    }),
  );
  return out.Item ? Number(out.Item.sequence) : undefined;
};

/**
 * Gives the event the factory's next number and records it in the feed, or
 * returns the number it already has: `created` says which.
 */
export const numberEvent = async (event: NewFeedEvent, now: Date): Promise<{ sequence: number; created: boolean }> => {
  const known = await readMarker(event.factoryId, event.eventId);
  if (known !== undefined) return { sequence: known, created: false };
  const expiresAt = Math.floor(now.getTime() / 1000) + feedRetentionDays * 86_400;
  for (let attempt = 0; ; attempt++) {
    const counter = await ddb.send(
      new GetCommand({ TableName: tableName(), Key: counterKey(event.factoryId), ConsistentRead: true, ProjectionExpression: 'seq' }),
    );
    const current = Number(counter.Item?.seq ?? 0);
    const sequence = current + 1;
    const outcome = await transactWrite([
      {
        Update: {
          TableName: tableName(),
          Key: counterKey(event.factoryId),
          UpdateExpression: 'SET seq = :next, #type = :type',
          ConditionExpression: current === 0 ? 'attribute_not_exists(seq)' : 'seq = :current',
          ExpressionAttributeNames: { '#type': 'type' },
          ExpressionAttributeValues: { ':next': sequence, ':type': 'event-sequence', ...(current !== 0 && { ':current': current }) },
        },
      },
      {
        Put: {
          TableName: tableName(),
          Item: { ...markerKey(event.factoryId, event.eventId), type: 'feed-marker', sequence, expiresAt },
          ConditionExpression: 'attribute_not_exists(PK)',
        },
      },
      {
        Put: {
          TableName: tableName(),
          Item: {
            PK: feedPartition(event.factoryId),
            SK: sortKeyOf(sequence),
            type: 'feed-event',
            sequence,
            id: event.eventId,
            eventType: event.type,
            occurredAt: event.occurredAt,
            data: event.data,
            expiresAt,
          },
          ConditionExpression: 'attribute_not_exists(PK)',
        },
      },
    ], { onConflict: 'return' });
    if (outcome === 'done') return { sequence, created: true };
    if (failedAt(outcome, 1)) {
      const again = await readMarker(event.factoryId, event.eventId);
      if (again !== undefined) return { sequence: again, created: false };
    }
    // Another event of this factory took the number, or the transaction met another: read the counter again.
    if (attempt + 1 >= maxAttempts) throw new OverloadedError();
    await backoff(attempt);
  }
};

/** The events numbered after `after`, in order, at most `limit`; `nextAfter` is the last one's number (or `after`). */
export const readFeed = async (factoryId: string, after: number, limit: number): Promise<{ items: FeedEventView[]; nextAfter: number }> => {
  const out = await ddb.send(
    new QueryCommand({
      TableName: tableName(),
      KeyConditionExpression: 'PK = :pk AND SK > :after',
      ExpressionAttributeValues: { ':pk': feedPartition(factoryId), ':after': sortKeyOf(after) },
      ConsistentRead: true,
      Limit: limit,
    }),
  );
  const items = (out.Items ?? []).map(fromEntry);
  return { items, nextAfter: items.at(-1)?.sequence ?? after };
};
