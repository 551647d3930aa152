import { SQSClient, SendMessageCommand } from '@aws-sdk/client-sqs';
import { DeleteCommand, GetCommand, PutCommand, QueryCommand } from '@aws-sdk/lib-dynamodb';
import { queueUrl, tableName } from '#shared/config.ts';
import { signalTypes, type SignalType } from '#contracts/signals.ts';
import type { SignalsMessage } from '#contracts/messages.ts';
import type { Campaign } from '#domain/campaign.ts';
import type { SignalCounts, SignalMinute } from '#domain/forecast.ts';
import * as z from 'zod';
import { batchGetItems, ddb, failedAt, transactWrite } from './dynamo.ts';

/**
 * Demand signals: the live room's request record, the aggregator's per-minute
 * and total counters, and the markers that make each queued message count once.
 *
 * Keys:
 *   request   PK=SIGREQ#<messageId>                  SK=SIGREQ   requestHash, accepted, rejected   (TTL 7 days)
 *             messageId = hash(liveroomId | Idempotency-Key): only written when the call carries a key
 *   minute    PK=SIGNALS#<campaignId>#<slot>          SK=MIN#<yyyy-mm-ddThh:mm>  view, like, cart, want, share  (TTL 3 days)
 *   total     PK=SIGNALS#<campaignId>#<slot>          SK=TOTAL    view, like, cart, want, share
 *   marker    PK=SIGMSG#<messageId>[#<part>]          SK=SIGMSG   (TTL 7 days)
 *
 * `slot` is the variant's position (`v3`, as on the gates, so no client string
 * becomes a key) or `_` for signals sent without a sku. A variant's minutes and
 * total share one partition, so "the last hour" is one Query.
 *
 * Counting is exactly once without one write per signal: a queued message's
 * contribution commits in one TransactWriteItems with its marker
 * (`attribute_not_exists`), and many messages share a transaction, their
 * contributions merged per counter item. A redelivered message fails on its
 * marker and is left out.
 */
const requestTtlSeconds = 7 * 24 * 3600;
const markerTtlSeconds = 7 * 24 * 3600;
const minuteTtlSeconds = 3 * 24 * 3600;
/** DynamoDB's ceiling on the items of one TransactWriteItems. */
const maxTransactionItems = 100;
/** A message's part is one marker plus at most this many counter updates. */
export const maxBucketsPerPart = maxTransactionItems - 1;

type Item = Record<string, unknown>;

export const signalRequestKey = (messageId: string) => ({ PK: `SIGREQ#${messageId}`, SK: 'SIGREQ' });
export const signalMarkerKey = (marker: string) => ({ PK: `SIGMSG#${marker}`, SK: 'SIGMSG' });
export const signalCounterKey = (campaignId: string, slot: string, minute?: string) => ({
  PK: `SIGNALS#${campaignId}#${slot}`,
  SK: minute === undefined ? 'TOTAL' : `MIN#${minute}`,
});

/** `yyyy-mm-ddThh:mm` in UTC: the minute a signal's `at` falls in. */
export const minuteOf = (at: string | Date): string => new Date(at).toISOString().slice(0, 16);

const nowSeconds = (now: Date) => Math.floor(now.getTime() / 1000);

// ---------------------------------------------------------------- the request (signals API)

export interface SignalRequest {
  readonly messageId: string;
  readonly requestHash: string;
  readonly accepted: number;
  /** The signals of the request not counted, by index, with why: a replay answers and queues as the first call did. */
  readonly rejected: readonly { readonly index: number; readonly reason: string }[];
}

const StoredSignalRequest = z.object({
  requestHash: z.string(),
  accepted: z.number().int(),
  // Requests recorded before signals could be rejected have none.
  rejected: z.array(z.object({ index: z.number().int(), reason: z.string() })).default([]),
  expiresAt: z.number(),
});

/**
 * Records a live room's keyed request before its signals are queued. False when
 * the key was already used (and has not expired): the stored request comes back
 * for the caller to compare.
 */
export const claimSignalRequest = async (
  request: SignalRequest,
  now: Date,
): Promise<{ claimed: true } | { claimed: false; existing: SignalRequest }> => {
  try {
    await ddb.send(
      new PutCommand({
        TableName: tableName(),
        Item: {
          ...signalRequestKey(request.messageId),
          type: 'signal-request',
          ...request,
          createdAt: now.toISOString(),
          expiresAt: nowSeconds(now) + requestTtlSeconds,
        },
        // TTL deletes lazily: an expired request no longer holds its key.
        ConditionExpression: 'attribute_not_exists(PK) OR expiresAt < :now',
        ExpressionAttributeValues: { ':now': nowSeconds(now) },
      }),
    );
    return { claimed: true };
  } catch (err) {
    if (!(err instanceof Error && err.name === 'ConditionalCheckFailedException')) throw err;
    const existing = await getSignalRequest(request.messageId, now);
    if (!existing) throw err;
    return { claimed: false, existing };
  }
};

export const getSignalRequest = async (messageId: string, now: Date): Promise<SignalRequest | undefined> => {
  const out = await ddb.send(new GetCommand({ TableName: tableName(), Key: signalRequestKey(messageId), ConsistentRead: true }));
  if (!out.Item) return undefined;
  const item = StoredSignalRequest.parse(out.Item);
  if (item.expiresAt < nowSeconds(now)) return undefined;
  return { messageId, requestHash: item.requestHash, accepted: item.accepted, rejected: item.rejected };
};

/** Forgets a request whose signals could not be queued, so that retrying it works. */
export const releaseSignalRequest = async (request: SignalRequest): Promise<void> => {
  try {
    await ddb.send(
      new DeleteCommand({
        TableName: tableName(),
        Key: signalRequestKey(request.messageId),
        ConditionExpression: 'requestHash = :hash',
        ExpressionAttributeValues: { ':hash': request.requestHash },
      }),
    );
  } catch (err) {
    if (!(err instanceof Error && err.name === 'ConditionalCheckFailedException')) throw err;
  }
};

const sqs = new SQSClient({});

/** One SendMessage for one whole POST /v1/signals call. */
export const enqueueSignals = async (message: SignalsMessage): Promise<void> => {
  await sqs.send(new SendMessageCommand({ QueueUrl: queueUrl('demand-signals'), MessageBody: JSON.stringify(message) }));
};

// ---------------------------------------------------------------- counting (aggregator)

/** One counter item's increments. */
export interface CounterUpdate {
  readonly campaignId: string;
  readonly slot: string;
  /** Undefined for the campaign × slot total. */
  readonly minute: string | undefined;
  readonly counts: Partial<Record<SignalType, number>>;
}

/** What commits exactly once: one marker and the counter updates it guards (at most 99). */
export interface SignalPart {
  readonly marker: string;
  /** Keyed by `PK|SK` of the counter item. */
  readonly updates: ReadonlyMap<string, CounterUpdate>;
}

export interface ResolvedSignal {
  readonly campaignId: string;
  /** `v<index>` of the variant, or `_` for a signal without sku. */
  readonly slot: string;
  readonly type: SignalType;
  readonly count: number;
  readonly at: string;
}

const counterId = (campaignId: string, slot: string, minute: string | undefined) => {
  const key = signalCounterKey(campaignId, slot, minute);
  return `${key.PK}|${key.SK}`;
};

const addTo = (into: Map<string, CounterUpdate>, id: string, base: Omit<CounterUpdate, 'counts'>, counts: CounterUpdate['counts']) => {
  const current = into.get(id);
  const merged: Partial<Record<SignalType, number>> = { ...current?.counts };
  for (const type of signalTypes) {
    const n = counts[type];
    if (n) merged[type] = (merged[type] ?? 0) + n;
  }
  into.set(id, { ...base, counts: merged });
};

/**
 * Folds one message's signals into counter updates (per minute and total, per
 * campaign × slot) and cuts them into parts of at most 99 updates. The cut is
 * deterministic (sorted counter keys), so a redelivered message yields the same
 * parts under the same markers: `<messageId>` alone, or `<messageId>#<part>`
 * when it needs more than one.
 */
export const partsOfMessage = (messageId: string, signals: readonly ResolvedSignal[]): SignalPart[] => {
  const updates = new Map<string, CounterUpdate>();
  for (const s of signals) {
    const minute = minuteOf(s.at);
    const counts = { [s.type]: s.count };
    addTo(updates, counterId(s.campaignId, s.slot, minute), { campaignId: s.campaignId, slot: s.slot, minute }, counts);
    addTo(updates, counterId(s.campaignId, s.slot, undefined), { campaignId: s.campaignId, slot: s.slot, minute: undefined }, counts);
  }
  const ids = [...updates.keys()].sort();
  if (ids.length <= maxBucketsPerPart) return [{ marker: messageId, updates }];
  const parts: SignalPart[] = [];
  for (let start = 0; start < ids.length; start += maxBucketsPerPart) {
    const slice = ids.slice(start, start + maxBucketsPerPart);
    parts.push({ marker: `${messageId}#${parts.length}`, updates: new Map(slice.map((id) => [id, updates.get(id) as CounterUpdate])) });
  }
  return parts;
};

/**
 * Groups parts into transactions: each transaction holds its parts' markers and
 * the union of their counter updates, at most 100 items. Messages of one live
 * room mostly hit the same few counters, so a batch of 100 messages usually
 * packs into one or two transactions.
 */
export const packParts = (parts: readonly SignalPart[]): SignalPart[][] => {
  const transactions: SignalPart[][] = [];
  let current: SignalPart[] = [];
  let counters = new Set<string>();
  for (const part of parts) {
    const added = [...part.updates.keys()].filter((id) => !counters.has(id));
    if (current.length > 0 && current.length + 1 + counters.size + added.length > maxTransactionItems) {
      transactions.push(current);
      current = [];
      counters = new Set();
    }
    current.push(part);
    for (const id of part.updates.keys()) counters.add(id);
  }
  if (current.length > 0) transactions.push(current);
  return transactions;
};

const mergeUpdates = (parts: readonly SignalPart[]): CounterUpdate[] => {
  const merged = new Map<string, CounterUpdate>();
  for (const part of parts) for (const [id, u] of part.updates) addTo(merged, id, u, u.counts);
  return [...merged.values()];
};

const markerPut = (marker: string, now: Date) => ({
  Put: {
    TableName: tableName(),
    Item: { ...signalMarkerKey(marker), type: 'signal-marker', expiresAt: nowSeconds(now) + markerTtlSeconds },
    ConditionExpression: 'attribute_not_exists(PK)',
  },
});

const counterUpdate = (u: CounterUpdate) => {
  const types = signalTypes.filter((t) => u.counts[t]);
  const names: Record<string, string> = { '#type': 'type' };
  const values: Record<string, unknown> = { ':type': u.minute === undefined ? 'signal-total' : 'signal-minute' };
  const adds = types.map((t, i) => {
    names[`#c${i}`] = t;
    values[`:c${i}`] = u.counts[t];
    return `#c${i} :c${i}`;
  });
  let set = 'SET #type = :type';
  if (u.minute !== undefined) {
    // Deterministic from the minute, so every writer sets the same value.
    values[':exp'] = Math.floor(Date.parse(`${u.minute}:00Z`) / 1000) + minuteTtlSeconds;
    set += ', expiresAt = :exp';
  }
  return {
    Update: {
      TableName: tableName(),
      Key: signalCounterKey(u.campaignId, u.slot, u.minute),
      UpdateExpression: `${set} ADD ${adds.join(', ')}`,
      ExpressionAttributeNames: names,
      ExpressionAttributeValues: values,
    },
  };
};

export interface TransactionOutcome {
  /** Markers whose parts this call committed. */
  readonly applied: string[];
  /** Markers already present: those parts were committed before (a redelivery). */
  readonly alreadyApplied: string[];
  /** Markers whose parts could not be committed, with why; empty on success. */
  readonly notCommitted: string[];
  readonly error?: unknown;
  /** Transactions asked for (transactWrite calls); a try retried inside one on contention is not counted again. */
  readonly calls: number;
  /** Items written by the committed call (markers plus counter updates). */
  readonly items: number;
}

/**
 * Commits a packed group of parts in one TransactWriteItems. Parts whose marker
 * already exists are dropped and the rest retried; conflicts and throttling are
 * retried with backoff. What still cannot be committed is reported, not thrown,
 * so the caller can fail just those messages.
 */
export const commitParts = async (parts: readonly SignalPart[], now: Date): Promise<TransactionOutcome> => {
  let pending = [...parts];
  const alreadyApplied: string[] = [];
  let calls = 0;
  while (pending.length > 0) {
    const updates = mergeUpdates(pending);
    const transactItems = [...pending.map((p) => markerPut(p.marker, now)), ...updates.map(counterUpdate)];
    let outcome: Awaited<ReturnType<typeof transactWrite>>;
    try {
      calls++;
      outcome = await transactWrite(transactItems);
    } catch (err) {
      // Still contended after the retries, or DynamoDB failing: these parts are the caller's to retry.
      return { applied: [], alreadyApplied, notCommitted: pending.map((p) => p.marker), error: err, calls, items: 0 };
    }
    if (outcome === 'done') return { applied: pending.map((p) => p.marker), alreadyApplied, notCommitted: [], calls, items: transactItems.length };
    const why = outcome;
    const done = new Set(pending.filter((_, i) => failedAt(why, i)).map((p) => p.marker));
    if (done.size === 0) {
      const error = new Error(`signal counters refused an update: ${why.codes.join(', ')}`);
      return { applied: [], alreadyApplied, notCommitted: pending.map((p) => p.marker), error, calls, items: 0 };
    }
    alreadyApplied.push(...done);
    pending = pending.filter((p) => !done.has(p.marker));
  }
  return { applied: [], alreadyApplied, notCommitted: [], calls, items: 0 };
};

// ---------------------------------------------------------------- reading (demand, forecasts)

export interface SignalSeries {
  /** Since the campaign began. */
  readonly totals: SignalCounts;
  /** The current minute and the 14 before it. */
  readonly last15m: SignalCounts;
  /** Per-minute rows of the last 60 minutes (the current one included), oldest first; minutes without signals are absent. */
  readonly recent: SignalMinute[];
}

export interface CampaignSignals {
  readonly bySku: Record<string, SignalSeries>;
  /** Signals sent for the campaign without a sku. */
  readonly campaign: SignalSeries;
}

const zero = (): Record<SignalType, number> => ({ view: 0, like: 0, cart: 0, want: 0, share: 0 });
const countsOf = (item: Item | undefined): SignalCounts => {
  const out = zero();
  for (const t of signalTypes) if (typeof item?.[t] === 'number') out[t] = item[t];
  return out;
};
const sum = (rows: readonly SignalCounts[]): SignalCounts => {
  const out = zero();
  for (const r of rows) for (const t of signalTypes) out[t] += r[t];
  return out;
};

const readTotals = async (keys: Item[]): Promise<Map<string, Item>> =>
  new Map((await batchGetItems(tableName(), keys)).map((item) => [String(item.PK), item]));

const readMinutes = async (campaignId: string, slot: string, from: string, to: string): Promise<SignalMinute[]> => {
  const { PK } = signalCounterKey(campaignId, slot);
  const rows: SignalMinute[] = [];
  let start: Item | undefined;
  do {
    const out = await ddb.send(
      new QueryCommand({
        TableName: tableName(),
        KeyConditionExpression: 'PK = :pk AND SK BETWEEN :from AND :to',
        ExpressionAttributeValues: { ':pk': PK, ':from': `MIN#${from}`, ':to': `MIN#${to}` },
        ExclusiveStartKey: start,
      }),
    );
    for (const item of out.Items ?? []) {
      rows.push({ at: `${String(item.SK).slice('MIN#'.length)}:00.000Z`, ...countsOf(item) });
    }
    start = out.LastEvaluatedKey;
  } while (start);
  return rows;
};

/**
 * A campaign's signals per variant (and those sent without a sku): totals, the
 * last 15 minutes and the per-minute rows of the last hour. One BatchGetItem for
 * the totals and one Query per slot, run together.
 */
export const readSignals = async (
  campaign: Pick<Campaign, 'campaignId' | 'variants'>,
  now: Date,
): Promise<CampaignSignals> => {
  const slots = ['_', ...campaign.variants.map((_, i) => `v${i}`)];
  const current = Math.floor(now.getTime() / 60_000) * 60_000;
  const to = minuteOf(new Date(current));
  const from = minuteOf(new Date(current - 59 * 60_000));
  const last15From = minuteOf(new Date(current - 14 * 60_000));
  const [totals, minutes] = await Promise.all([
    readTotals(slots.map((slot) => signalCounterKey(campaign.campaignId, slot))),
    Promise.all(slots.map((slot) => readMinutes(campaign.campaignId, slot, from, to))),
  ]);
  const series = slots.map((slot, i): SignalSeries => {
    const recent = minutes[i] ?? [];
    return {
      totals: countsOf(totals.get(signalCounterKey(campaign.campaignId, slot).PK)),
      last15m: sum(recent.filter((r) => minuteOf(r.at) >= last15From)),
      recent,
    };
  });
  return {
    campaign: series[0] as SignalSeries,
    bySku: Object.fromEntries(campaign.variants.map((v, i) => [v.sku, series[i + 1] as SignalSeries])),
  };
};

/** Per-minute signal rows of the campaign between `from` and `to` (inclusive), per variant and for the campaign as a whole. */
export const readSignalMinutes = async (
  campaign: Pick<Campaign, 'campaignId' | 'variants'>,
  from: Date,
  to: Date,
): Promise<{ bySku: Record<string, SignalMinute[]>; campaign: SignalMinute[] }> => {
  const slots = ['_', ...campaign.variants.map((_, i) => `v${i}`)];
  const rows = await Promise.all(slots.map((slot) => readMinutes(campaign.campaignId, slot, minuteOf(from), minuteOf(to))));
  return {
    campaign: rows[0] ?? [],
    bySku: Object.fromEntries(campaign.variants.map((v, i) => [v.sku, rows[i + 1] ?? []])),
  };
};
