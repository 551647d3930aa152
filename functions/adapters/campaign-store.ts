import { finalPricesAtClose } from '#domain/pricing.ts';
import { GetCommand, QueryCommand, UpdateCommand } from '@aws-sdk/lib-dynamodb';
import * as z from 'zod';
import { tableName } from '#shared/config.ts';
import { log } from '#shared/observability.ts';
import { isDepositCampaign } from '#domain/payment.ts';
import {
  capSlices,
  gateShardsFor,
  isFinal,
  nextTransitionAt,
  sumDemand,
  type Campaign,
  type CampaignStatus,
  type Demand,
  type GateCounts,
} from '#domain/campaign.ts';
import { closingOutcome, standingOf } from '#domain/batching.ts';
import { batchGetItems, ddb, decodeCursor, encodeCursor, failedAt, isConditionFailure, pageOfOwnerIndex, transactWrite } from './dynamo.ts';
import type { TransactItem } from './dynamo.ts';
import { outboxPut } from './outbox.ts';
import type { DomainEvent } from './event-bus.ts';
import { parseStoredCampaign, parseStoredGate, type StoredCampaignRecord } from './stored-items.ts';

/**
 * The campaign entity and its gate items.
 *
 * Keys:
 *   campaign  PK=CAMPAIGN#<id>           SK=CAMPAIGN
 *             GSI1PK=ANCHOR#<anchorId>   GSI1SK=<createdAt>#<id>     (an anchor's campaigns)
 *             GSI2PK=CLOCK               GSI2SK=<next transition>#<id> (sparse: while SCHEDULED/OPEN, and CLOSED
 *                                        until its switch window or a deposit campaign's balance window ends)
 *             GSI3PK=FACTORY#<factoryId> GSI3SK=<createdAt>#<id>     (a factory's campaigns)
 *   gate k    PK=CAMPAIGN#<id>#GATE#<k>  SK=GATE
 *             open, sealed, remaining (capped campaigns), ordered.v<n>, cancelled.v<n>, batched.v<n>
 *             (counters keyed by the variant's position, not its sku: a gate stays
 *             under 1 KB, so each transactional write costs 2 WCU, and no client
 *             string ever becomes a map key)
 *
 * Every pre-order write lands on one random gate (or several when a capped
 * campaign is nearly sold out), so a burst is spread over `gateShards` items with
 * distinct partition keys instead of one hot campaign item.
 */
export const campaignKey = (campaignId: string) => ({ PK: `CAMPAIGN#${campaignId}`, SK: 'CAMPAIGN' });
export const gateKey = (campaignId: string, shard: number) => ({ PK: `CAMPAIGN#${campaignId}#GATE#${shard}`, SK: 'GATE' });
const clockPartition = 'CLOCK';

type Item = Record<string, unknown>;

const clockIndex = (c: Campaign): Item => {
  const due = nextTransitionAt(c);
  return due ? { GSI2PK: clockPartition, GSI2SK: `${due}#${c.campaignId}` } : {};
};

export const toItem = (c: Campaign, requestHash: string): Item => ({
  ...campaignKey(c.campaignId),
  type: 'campaign',
  ...c,
  requestHash,
  GSI1PK: `ANCHOR#${c.anchorId}`,
  GSI1SK: `${c.createdAt}#${c.campaignId}`,
  GSI3PK: `FACTORY#${c.factoryId}`,
  GSI3SK: `${c.createdAt}#${c.campaignId}`,
  ...clockIndex(c),
});

/** The campaign as stored, parsed (stored-items.ts, which gives older campaigns the terms' defaults): an item that is not one fails here. */
export const fromItem = (item: Item): StoredCampaignRecord => {
  const { PK, SK: _sk, type: _type, GSI1PK: _g1, GSI1SK: _g1s, GSI2PK: _g2, GSI2SK: _g2s, GSI3PK: _g3, GSI3SK: _g3s, ...rest } = item;
  return parseStoredCampaign(rest, String(PK));
};

/** The gate counter slot of a variant: `v<position in the campaign's variants>`. */
export const variantSlot = (c: Pick<Campaign, 'variants'>, sku: string): string => {
  const index = c.variants.findIndex((v) => v.sku === sku);
  if (index < 0) throw new Error(`sku ${sku} is not a variant of this campaign`);
  return `v${index}`;
};

/**
 * What a batch's members add to each gate's `batched`: gate shard → variant
 * slot → units. Recorded on the batch at its release and added a gate at a time
 * (batch-store.ts countReleasedUnits, decision 28), not per pre-order.
 */
export const gateUnitsOf = (
  c: Pick<Campaign, 'variants'>,
  members: readonly { readonly gateShard: number; readonly sku: string; readonly quantity: number }[],
): Record<string, Record<string, number>> => {
  const byGate: Record<string, Record<string, number>> = {};
  for (const m of members) {
    const slots = (byGate[String(m.gateShard)] ??= {});
    const slot = variantSlot(c, m.sku);
    slots[slot] = (slots[slot] ?? 0) + m.quantity;
  }
  return byGate;
};

/**
 * What released batches added to a campaign's `batched`, per variant, on one
 * item beside its gates (decision 35): `PK=CAMPAIGN#<id>#RELEASED  SK=RELEASED`,
 * `batched_v<n>` top-level counters (ADD creates them, and the item, for a
 * campaign from before it). Written in the release's own transaction, once a
 * batch: only the cut that holds the campaign's lease writes it, so nothing
 * contends for it. The gates' `batched` keep what moves per pre-order after
 * (a member back in line or refunded takes its units off its own gate, which
 * may go below zero); demand is the sum of both.
 */
export const releasedUnitsKey = (campaignId: string) => ({ PK: `CAMPAIGN#${campaignId}#RELEASED`, SK: 'RELEASED' });

/** A batch's members' units into the campaign's released units, for the release's transaction. */
export const releasedUnitsUpdate = (
  c: Pick<Campaign, 'campaignId' | 'variants'>,
  members: readonly { readonly sku: string; readonly quantity: number }[],
): TransactItem => {
  const bySlot = new Map<string, number>();
  for (const m of members) bySlot.set(variantSlot(c, m.sku), (bySlot.get(variantSlot(c, m.sku)) ?? 0) + m.quantity);
  const entries = [...bySlot];
  return {
    Update: {
      TableName: tableName(),
      Key: releasedUnitsKey(c.campaignId),
      UpdateExpression: `SET #type = :type ADD ${entries.map((_, i) => `#s${i} :q${i}`).join(', ')}`,
      ExpressionAttributeNames: { '#type': 'type', ...Object.fromEntries(entries.map(([slot], i) => [`#s${i}`, `batched_${slot}`])) },
      ExpressionAttributeValues: { ':type': 'released-units', ...Object.fromEntries(entries.map(([, units], i) => [`:q${i}`, units])) },
    },
  };
};

/** One gate's `batched` gaining a batch's units (slot → units), for a transaction of the caller's. */
export const gateBatchedUpdate = (campaignId: string, shard: number, slots: Readonly<Record<string, number>>): TransactItem => {
  const entries = Object.entries(slots);
  return {
    Update: {
      TableName: tableName(),
      Key: gateKey(campaignId, shard),
      UpdateExpression: `ADD ${entries.map((_, i) => `batched.#s${i} :q${i}`).join(', ')}`,
      ExpressionAttributeNames: Object.fromEntries(entries.map(([slot], i) => [`#s${i}`, slot])),
      ExpressionAttributeValues: Object.fromEntries(entries.map(([, units], i) => [`:q${i}`, units])),
    },
  };
};

const gateItem = (c: Campaign, shard: number, cap: number | undefined): Item => ({
  ...gateKey(c.campaignId, shard),
  type: 'gate',
  campaignId: c.campaignId,
  shard,
  open: c.status === 'OPEN',
  ...(cap !== undefined && { remaining: cap }),
  ordered: Object.fromEntries(c.variants.map((_, i) => [`v${i}`, 0])),
  cancelled: Object.fromEntries(c.variants.map((_, i) => [`v${i}`, 0])),
  batched: Object.fromEntries(c.variants.map((_, i) => [`v${i}`, 0])),
  // Deposit campaigns count units whose balance is not paid (domain/payment.ts): out of the waiting line until it is.
  ...(isDepositCampaign(c) && { unpaid: Object.fromEntries(c.variants.map((_, i) => [`v${i}`, 0])) }),
});

/**
 * Creates the campaign and its gates in one transaction. When the id already
 * exists (a retried create with the same Idempotency-Key) nothing is written and
 * the stored campaign comes back for the caller to compare.
 */
export const createCampaign = async (
  c: Campaign,
  requestHash: string,
  events: readonly DomainEvent[] = [],
  /** Other owners' conditions the create holds on (the named factories are active); their index in this list is reported when one fails. */
  conditions: readonly TransactItem[] = [],
): Promise<
  { created: true } | { created: false; existing: Campaign & { requestHash: string } } | { created: false; failedConditions: number[] }
> => {
  const caps = c.maxTotalQuantity === undefined ? undefined : capSlices(c.maxTotalQuantity, c.gateShards);
  const why = await transactWrite([
    { Put: { TableName: tableName(), Item: toItem(c, requestHash), ConditionExpression: 'attribute_not_exists(PK)' } },
    ...Array.from({ length: c.gateShards }, (_, k) => ({
      Put: { TableName: tableName(), Item: gateItem(c, k, caps?.[k]) },
    })),
    ...events.map(outboxPut),
    ...conditions,
  ]);
  if (why === 'done') return { created: true };
  // A replay: the campaign is there already, whatever has become of its factories since.
  if (failedAt(why, 0)) {
    const existing = await getCampaign(c.campaignId, true);
    if (existing) return { created: false, existing };
  }
  const offset = why.codes.length - conditions.length;
  const failedConditions = conditions.flatMap((_, i) => (failedAt(why, offset + i) ? [i] : []));
  if (failedConditions.length === 0) throw new Error(`campaign ${c.campaignId} was not created: ${why.codes.join(', ')}`);
  return { created: false, failedConditions };
};

export const getCampaign = async (campaignId: string, consistent = false) => {
  const out = await ddb.send(new GetCommand({ TableName: tableName(), Key: campaignKey(campaignId), ConsistentRead: consistent }));
  return out.Item ? fromItem(out.Item) : undefined;
};

export const listCampaignsForAnchor = (anchorId: string, limit: number, cursor: string | undefined) =>
  pageOfOwnerIndex({ tableName: tableName(), owner: `ANCHOR#${anchorId}`, baseKey: campaignKey, limit, cursor, fromItem });

/** A campaign on the clock's index, as the sweep reads it: enough to tell whether it has anything to do this minute. */
export interface ClockEntry {
  readonly campaignId: string;
  readonly status: CampaignStatus;
  /** When its next step is due: its opening, its close, or (CLOSED) the end of its switch window or of its balance window. */
  readonly dueAt: string;
  /**
   * A closed deposit campaign in its balance window that promises the most a
   * buyer waits (maxWaitHours): paid pre-orders join the line all through the
   * window, so the cutter is asked every minute, as while it sells.
   */
  readonly cutsWhileBalancesDue: boolean;
}

const ClockIndexItem = z.object({
  campaignId: z.string().min(1),
  status: z.enum(['SCHEDULED', 'OPEN', 'CLOSED', 'FAILED'] as const satisfies readonly CampaignStatus[]),
  GSI2SK: z.string().regex(/^[^#]+#/),
  maxWaitHours: z.number().optional(),
  balancesCalledAt: z.string().optional(),
});

/**
 * Every campaign on the clock's index (SCHEDULED, OPEN, or CLOSED until its
 * switch window ends), soonest due first, a page at a time: the sweep sends
 * as it reads rather than holding thousands, and reads back only what it needs.
 * An item that does not read as a campaign is logged and skipped, not allowed
 * to stop the sweep for every other campaign.
 */
export async function* clockIndexPages(pageSize = 200): AsyncGenerator<ClockEntry[]> {
  let start: Record<string, unknown> | undefined;
  do {
    const out = await ddb.send(
      new QueryCommand({
        TableName: tableName(),
        IndexName: 'GSI2',
        KeyConditionExpression: 'GSI2PK = :pk',
        ProjectionExpression: 'campaignId, #status, GSI2SK, maxWaitHours, balancesCalledAt',
        ExpressionAttributeNames: { '#status': 'status' },
        ExpressionAttributeValues: { ':pk': clockPartition },
        Limit: pageSize,
        ExclusiveStartKey: start,
      }),
    );
    const page: ClockEntry[] = [];
    for (const item of out.Items ?? []) {
      const parsed = ClockIndexItem.safeParse(item);
      if (!parsed.success) {
        log().error('an item on the clock index does not read as a campaign', { item, issues: parsed.error.issues });
        continue;
      }
      const { campaignId, status, GSI2SK, maxWaitHours, balancesCalledAt } = parsed.data;
      // Settled campaigns leave the index, so one on it with its balances called is in its balance window.
      const cutsWhileBalancesDue = status === 'CLOSED' && balancesCalledAt !== undefined && maxWaitHours !== undefined;
      page.push({ campaignId, status, dueAt: GSI2SK.slice(0, GSI2SK.indexOf('#')), cutsWhileBalancesDue });
    }
    yield page;
    start = out.LastEvaluatedKey;
  } while (start);
}

/** How many of a factory's campaigns one page may read through (ended ones are filtered out) before it answers with a cursor. */
const factoryPageReadBudget = 1000;
const factorySortKey = /^\d{4}-\d{2}-\d{2}T[^#]+#cmp_[0-9a-z]{24}$/;

/**
 * A page of the factory's campaigns still SCHEDULED or OPEN, newest first.
 *
 * The factory's partition of GSI3 holds all its campaigns, ended ones included;
 * the status is a filter on it, so a page reads on until `limit` match, the
 * partition ends, or `readBudget` campaigns were read (then a page
 * may be short, even empty, with a cursor to go on). The cursor is the sort key
 * of the last campaign examined; the partition always comes from the caller.
 * (The clock's index GSI2 holds exactly the active campaigns, but of every
 * factory in one partition: reading it would cost every tenant's campaigns.)
 */
export const listActiveCampaignsForFactory = async (
  factoryId: string,
  opts: { limit: number; cursor?: string | undefined; readBudget?: number },
): Promise<{ items: Campaign[]; nextCursor: string | undefined } | 'invalid-cursor'> => {
  const start = decodeCursor(opts.cursor);
  if (start === 'invalid' || (start && !(typeof start.GSI3SK === 'string' && factorySortKey.test(start.GSI3SK)))) return 'invalid-cursor';
  const partition = `FACTORY#${factoryId}`;
  const keyAt = (sortKey: string) => ({ GSI3PK: partition, GSI3SK: sortKey, ...campaignKey(sortKey.split('#')[1] ?? '') });
  const items: Campaign[] = [];
  let position = start ? String(start.GSI3SK) : undefined;
  const budget = opts.readBudget ?? factoryPageReadBudget;
  let more = true;
  for (let read = 0; more && items.length < opts.limit && read < budget; ) {
    const out = await ddb.send(
      new QueryCommand({
        TableName: tableName(),
        IndexName: 'GSI3',
        KeyConditionExpression: 'GSI3PK = :pk',
        FilterExpression: '#status IN (:open, :scheduled)',
        ExpressionAttributeNames: { '#status': 'status' },
        ExpressionAttributeValues: { ':pk': partition, ':open': 'OPEN', ':scheduled': 'SCHEDULED' },
        ScanIndexForward: false,
        Limit: Math.min(budget - read, 200),
        ...(position && { ExclusiveStartKey: keyAt(position) }),
      }),
    );
    read += out.ScannedCount ?? 0;
    const matches = out.Items ?? [];
    const room = opts.limit - items.length;
    items.push(...matches.slice(0, room).map(fromItem));
    if (matches.length > room) {
      // Full with matches to spare: go on from the last one taken.
      position = String(matches[room - 1]!.GSI3SK);
      break;
    }
    const last = out.LastEvaluatedKey?.GSI3SK;
    more = typeof last === 'string';
    if (more) position = String(last);
  }
  return { items, nextCursor: more ? encodeCursor({ GSI3SK: position }) : undefined };
};

interface GateState extends GateCounts {
  readonly shard: number;
  readonly open: boolean;
}

/** Reads every gate of the campaign; strongly consistent when deciding (cap, close). */
export const readGates = async (
  c: Pick<Campaign, 'campaignId' | 'gateShards' | 'variants'>,
  consistent: boolean,
): Promise<GateState[]> => (await readGateItems(c, consistent, false)).gates;

/** The campaign's gates and its released units (one BatchGetItem), counters by sku. */
const readGateItems = async (
  c: Pick<Campaign, 'campaignId' | 'gateShards' | 'variants'>,
  consistent: boolean,
  withReleased = true,
): Promise<{ gates: GateState[]; released: Record<string, number> }> => {
  const bySku = (slots: Readonly<Record<string, number>> = {}): Record<string, number> =>
    Object.fromEntries(c.variants.map((v, i) => [v.sku, slots[`v${i}`] ?? 0]));
  const keys = [...Array.from({ length: c.gateShards }, (_, k) => gateKey(c.campaignId, k)), ...(withReleased ? [releasedUnitsKey(c.campaignId)] : [])];
  const items = await batchGetItems(tableName(), keys, consistent);
  const releasedItem = items.find((item) => item.SK === 'RELEASED');
  const released = Object.fromEntries(c.variants.map((v, i) => [v.sku, Number(releasedItem?.[`batched_v${i}`] ?? 0)]));
  const gates: GateState[] = items.filter((item) => item.SK === 'GATE').map((item) => {
    const gate = parseStoredGate(item, String(item.PK));
    return {
      shard: gate.shard,
      open: gate.open === true,
      ordered: bySku(gate.ordered),
      cancelled: bySku(gate.cancelled),
      batched: bySku(gate.batched),
      ...(gate.unpaid !== undefined && { unpaid: bySku(gate.unpaid) }),
      ...(gate.remaining !== undefined && { remaining: gate.remaining }),
    };
  });
  return { gates: gates.sort((a, b) => a.shard - b.shard), released };
};

/** What the campaign's gates and released batches say of its units, per variant. */
export const readDemand = async (c: Campaign, consistent = false): Promise<Demand> => {
  const { gates, released } = await readGateItems(c, consistent);
  // Counters by sku, every sku named (a sku may be spelled `__proto__`: an empty object would answer it with its prototype).
  const none = Object.fromEntries(c.variants.map((v) => [v.sku, 0]));
  return sumDemand(c, [...gates, { ordered: none, cancelled: none, batched: released }]);
};

/**
 * One small write per gate; each is idempotent, so a crash half way is finished
 * by the retry. Closing also seals a gate: an open that races a close can never
 * reopen it afterwards.
 */
const setGatesOpen = async (c: Campaign, open: boolean): Promise<void> => {
  await Promise.all(
    Array.from({ length: c.gateShards }, async (_, k) => {
      try {
        await ddb.send(
          new UpdateCommand({
            TableName: tableName(),
            Key: gateKey(c.campaignId, k),
            UpdateExpression: open ? 'SET #open = :true' : 'SET #open = :false, sealed = :true',
            ConditionExpression: open ? 'attribute_exists(PK) AND attribute_not_exists(sealed)' : 'attribute_exists(PK)',
            ExpressionAttributeNames: { '#open': 'open' },
            ExpressionAttributeValues: open ? { ':true': true } : { ':true': true, ':false': false },
          }),
        );
      } catch (err) {
        // A sealed gate stays closed; that is the point of sealing.
        if (!(open && isConditionFailure(err))) throw err;
      }
    }),
  );
};


/**
 * A campaign not open yet, changed: the campaign item replaced and its gates
 * rewritten for the new terms (their number follows the cap; nothing has been
 * counted on them, and the conditions hold only while they are still closed),
 * with the named factories' conditions, in one transaction. Conditional on the
 * campaign being as read (`updatedAt`). False when something moved meanwhile.
 */
export const replaceScheduledCampaign = async (
  before: Campaign & { requestHash: string },
  next: Campaign,
  conditions: readonly TransactItem[] = [],
): Promise<{ changed: true } | { changed: false; failedConditions: number[] }> => {
  const caps = next.maxTotalQuantity === undefined ? undefined : capSlices(next.maxTotalQuantity, next.gateShards);
  const closedGate = {
    ConditionExpression: 'attribute_not_exists(PK) OR (#open = :false AND attribute_not_exists(sealed))',
    ExpressionAttributeNames: { '#open': 'open' },
    ExpressionAttributeValues: { ':false': false },
  };
  const outcome = await transactWrite([
    {
      Put: {
        TableName: tableName(),
        Item: toItem(next, before.requestHash),
        ConditionExpression: '#status = :scheduled AND updatedAt = :seen',
        ExpressionAttributeNames: { '#status': 'status' },
        ExpressionAttributeValues: { ':scheduled': 'SCHEDULED', ':seen': before.updatedAt },
      },
    },
    ...Array.from({ length: next.gateShards }, (_, k) => ({
      Put: { TableName: tableName(), Item: gateItem(next, k, caps?.[k]), ...closedGate },
    })),
    ...Array.from({ length: Math.max(0, before.gateShards - next.gateShards) }, (_, i) => ({
      Delete: { TableName: tableName(), Key: gateKey(before.campaignId, next.gateShards + i), ...closedGate },
    })),
    ...conditions,
  ]);
  if (outcome === 'done') return { changed: true };
  const offset = outcome.codes.length - conditions.length;
  const failedConditions = conditions.flatMap((_, i) => (outcome.codes[offset + i] === 'ConditionalCheckFailed' ? [i] : []));
  return { changed: false, failedConditions };
};

/**
 * An open campaign, changed in what keeps its promises: a higher cap, a later
 * close (the clock's index moved with it), more live rooms. One transaction,
 * conditional on the campaign still OPEN as read. A raise spreads its units over
 * the gates a campaign of the new cap would have: gates up to
 * `gateShardsFor(cap)` are added (open, empty, with their share), so a cap
 * raised from 15 to 50,000 is not sold through the one gate a 15-unit campaign
 * had. A raise landing on a gate a close already sealed is harmless (a sealed
 * gate takes nothing); gates added while a close is sealing are caught by the
 * close, which commits only for the gate count it sealed (closeCampaign).
 * False when the campaign is no longer OPEN as read.
 */
export const changeOpenCampaign = async (before: Campaign, next: Campaign, capRaisedBy: number | undefined): Promise<boolean> => {
  const raise = capRaisedBy !== undefined && capRaisedBy > 0 ? capRaisedBy : 0;
  const gateShards = raise > 0 && next.maxTotalQuantity !== undefined ? Math.max(before.gateShards, gateShardsFor(next.maxTotalQuantity)) : before.gateShards;
  const sets = ['updatedAt = :now', 'closesAt = :closes', 'GSI2SK = :due', 'gateShards = :shards'];
  const values: Record<string, unknown> = {
    ':now': next.updatedAt,
    ':open': 'OPEN',
    ':seen': before.updatedAt,
    ':closes': next.closesAt,
    ':due': `${next.closesAt}#${next.campaignId}`,
    ':shards': gateShards,
  };
  // An uncapped or roomless campaign stays so: nothing is written in their place.
  if (next.maxTotalQuantity !== undefined) {
    sets.push('maxTotalQuantity = :cap');
    values[':cap'] = next.maxTotalQuantity;
  }
  if (next.liveRoomIds !== undefined) {
    sets.push('liveRoomIds = :rooms');
    values[':rooms'] = next.liveRoomIds;
  }
  if (next.firstClosesAt !== undefined) {
    sets.push('firstClosesAt = :first');
    values[':first'] = next.firstClosesAt;
  }
  const shares = raise > 0 ? capSlices(raise, gateShards) : [];
  const added = { ...next, gateShards };
  const gates: TransactItem[] = shares.flatMap((units, k): TransactItem[] => {
    if (k >= before.gateShards) {
      return [{ Put: { TableName: tableName(), Item: gateItem(added, k, units), ConditionExpression: 'attribute_not_exists(PK)' } }];
    }
    if (units === 0) return [];
    return [
      {
        Update: {
          TableName: tableName(),
          Key: gateKey(before.campaignId, k),
          UpdateExpression: 'ADD remaining :units',
          ConditionExpression: 'attribute_exists(PK)',
          ExpressionAttributeValues: { ':units': units },
        },
      },
    ];
  });
  // Gates are busy during a burst, which is when a cap is raised: conflicts are retried (longer than usual), a failed condition is not.
  const outcome = await transactWrite(
    [
      {
        Update: {
          TableName: tableName(),
          Key: campaignKey(before.campaignId),
          UpdateExpression: `SET ${sets.join(', ')}`,
          ConditionExpression: '#status = :open AND updatedAt = :seen',
          ExpressionAttributeNames: { '#status': 'status' },
          ExpressionAttributeValues: values,
        },
      },
      ...gates,
    ],
    { maxAttempts: 16 },
  );
  return outcome === 'done';
};

/**
 * SCHEDULED → OPEN. Opens the gates first, then the campaign, so the campaign is
 * never OPEN with closed gates. Returns the campaign and whether this call made
 * the transition (only that caller announces it).
 */
export const openCampaign = async (
  c: Campaign,
  now: Date,
  announce?: (opened: Campaign) => DomainEvent,
): Promise<{ campaign: Campaign; transitioned: boolean; events: DomainEvent[] }> => {
  if (c.status !== 'SCHEDULED') return { campaign: c, transitioned: false, events: [] };
  await setGatesOpen(c, true);
  const opened: Campaign = { ...c, status: 'OPEN', updatedAt: now.toISOString() };
  const events = announce ? [announce(opened)] : [];
  const committed = await transition(
    {
      TableName: tableName(),
      Key: campaignKey(c.campaignId),
      UpdateExpression: 'SET #status = :open, updatedAt = :now, GSI2PK = :clock, GSI2SK = :due',
      ConditionExpression: '#status = :scheduled',
      ExpressionAttributeNames: { '#status': 'status' },
      ExpressionAttributeValues: {
        ':open': 'OPEN',
        ':scheduled': 'SCHEDULED',
        ':now': opened.updatedAt,
        ':clock': clockPartition,
        ':due': `${c.closesAt}#${c.campaignId}`,
      },
    },
    events,
  );
  if (committed) return { campaign: opened, transitioned: true, events };
  const current = await getCampaign(c.campaignId, true);
  return { campaign: current ?? c, transitioned: false, events: [] };
};

/**
 * A conditional status change with the events that announce it (outbox), in one
 * transaction. False when the condition no longer holds (someone else moved it).
 */
const transition = async (update: Record<string, unknown>, events: readonly DomainEvent[]): Promise<boolean> =>
  (await transactWrite([{ Update: update as never }, ...events.map(outboxPut)])) === 'done';

/**
 * OPEN (or SCHEDULED) → CLOSED | FAILED. Closes every gate first; after that no
 * pre-order can be accepted, so the demand read next is final and decides the
 * outcome. Safe to repeat: a second call finds the campaign final and does nothing.
 */
export const closeCampaign = async (
  c: Campaign,
  now: Date,
  announce?: (closed: Campaign, demand: Demand) => DomainEvent,
): Promise<{ campaign: Campaign; transitioned: boolean; demand: Demand; events: DomainEvent[] }> => {
  if (c.status === 'CLOSED' || c.status === 'FAILED') {
    return { campaign: c, transitioned: false, demand: await readDemand(c), events: [] };
  }
  await setGatesOpen(c, false);
  const demand = await readDemand(c, true);
  const outcome = closingOutcome(c, standingOf(c.variants, demand.variants), now);
  const status: CampaignStatus = outcome.status;
  // Tier pricing: the price each variant's sold units reached is fixed now, with the close (domain/pricing.ts).
  const finalPrices = status === 'CLOSED' ? finalPricesAtClose(c, demand, outcome.variantsMissed) : undefined;
  const closed: Campaign = {
    ...c,
    status,
    closedAt: now.toISOString(),
    updatedAt: now.toISOString(),
    ...(outcome.variantsMissed.length > 0 && { variantsMissed: outcome.variantsMissed }),
    ...(outcome.switchBy !== undefined && { switchBy: outcome.switchBy }),
    ...(finalPrices !== undefined && { finalPrices }),
  };
  const events = announce ? [announce(closed, demand)] : [];
  // A deposit campaign that closed has its balances to call (and then their deadline): it stays on the clock's
  // index, due now, so that the clock asks the cutter again should the close's own message be lost.
  const callsBalances = status === 'CLOSED' && isDepositCampaign(c) && outcome.switchBy === undefined;
  const sets = [
    '#status = :status, closedAt = :now, updatedAt = :now',
    ...(outcome.variantsMissed.length > 0 ? ['variantsMissed = :missed'] : []),
    ...(outcome.switchBy !== undefined ? ['switchBy = :switchBy, GSI2SK = :due'] : []),
    ...(callsBalances ? ['GSI2SK = :due'] : []),
    ...(finalPrices !== undefined ? ['finalPrices = :prices'] : []),
  ];
  // With a switch window the campaign stays on the clock's index until the window ends.
  const committed = await transition(
    {
      TableName: tableName(),
      Key: campaignKey(c.campaignId),
      UpdateExpression: `SET ${sets.join(', ')}${outcome.switchBy !== undefined || callsBalances ? '' : ' REMOVE GSI2PK, GSI2SK'}`,
      // Only for the gates it sealed: a cap raised meanwhile may have added some (changeOpenCampaign).
      ConditionExpression: '#status IN (:open, :scheduled) AND gateShards = :shards',
      ExpressionAttributeNames: { '#status': 'status' },
      ExpressionAttributeValues: {
        ':shards': c.gateShards,
        ':status': status,
        ':now': closed.closedAt,
        ':open': 'OPEN',
        ':scheduled': 'SCHEDULED',
        ...(outcome.variantsMissed.length > 0 && { ':missed': outcome.variantsMissed }),
        ...(outcome.switchBy !== undefined && { ':switchBy': outcome.switchBy, ':due': `${outcome.switchBy}#${c.campaignId}` }),
        ...(callsBalances && { ':due': `${closed.closedAt}#${c.campaignId}` }),
        ...(finalPrices !== undefined && { ':prices': finalPrices }),
      },
    },
    events,
  );
  if (committed) return { campaign: closed, transitioned: true, demand, events };
  const current = await getCampaign(c.campaignId, true);
  // Gates were added while this close sealed the ones it knew: seal those too, read again, decide again.
  if (current && !isFinal(current.status) && current.gateShards !== c.gateShards) return closeCampaign(current, now, announce);
  return { campaign: current ?? c, transitioned: false, demand, events: [] };
};

/**
 * The campaign's production moves to its backup factory (after the first
 * factory rejected a batch): later cuts go there, and so do its forecasts.
 * Only from `from`, so repeating it, or a late second rejection, changes nothing.
 */
export const switchFactory = async (campaignId: string, from: string, to: string, now: Date): Promise<void> => {
  try {
    await ddb.send(
      new UpdateCommand({
        TableName: tableName(),
        Key: campaignKey(campaignId),
        UpdateExpression: 'SET factoryId = :to, GSI3PK = :g3, updatedAt = :now, previousFactoryIds = list_append(if_not_exists(previousFactoryIds, :none), :from)',
        ConditionExpression: 'factoryId = :fromId',
        ExpressionAttributeValues: { ':to': to, ':g3': `FACTORY#${to}`, ':now': now.toISOString(), ':none': [], ':from': [from], ':fromId': from },
      }),
    );
  } catch (err) {
    if (!(err instanceof Error && err.name === 'ConditionalCheckFailedException')) throw err;
  }
};

/**
 * Records when the campaign first reached its minimum (the cutter saw it on the
 * gates). Informational for the anchor: cuts decide from the gates each time,
 * so a minimum lost again to cancellations before any batch stops them again.
 */
export const markMinimumMet = async (campaignId: string, now: Date): Promise<void> => {
  await ddb.send(
    new UpdateCommand({
      TableName: tableName(),
      Key: campaignKey(campaignId),
      UpdateExpression: 'SET minimumMetAt = if_not_exists(minimumMetAt, :now)',
      ConditionExpression: 'attribute_exists(PK)',
      ExpressionAttributeValues: { ':now': now.toISOString() },
    }),
  );
};

/**
 * The end of a closed campaign's switch window was dealt with (the cutter
 * refunded what was not switched and cut the rest): the clock need not come by again.
 */
export const closeSwitchWindow = async (campaignId: string, now: Date, balancesToCall = false): Promise<void> => {
  await ddb.send(
    new UpdateCommand({
      TableName: tableName(),
      Key: campaignKey(campaignId),
      // A deposit campaign stays on the clock (due since the window's end) until its balances are called.
      UpdateExpression: `SET switchWindowClosedAt = if_not_exists(switchWindowClosedAt, :now)${balancesToCall ? '' : ' REMOVE GSI2PK, GSI2SK'}`,
      ConditionExpression: 'attribute_exists(PK)',
      ExpressionAttributeValues: { ':now': now.toISOString() },
    }),
  );
};

/** Every pre-order that paid more than its variant's final price was refunded the difference (batches/repricing.ts). */
export const markRepriced = async (campaignId: string, now: Date): Promise<void> => {
  await ddb.send(
    new UpdateCommand({
      TableName: tableName(),
      Key: campaignKey(campaignId),
      UpdateExpression: 'SET repricedAt = if_not_exists(repricedAt, :now)',
      ConditionExpression: 'attribute_exists(PK)',
      ExpressionAttributeValues: { ':now': now.toISOString() },
    }),
  );
};

/**
 * CLOSED → FAILED after its switch window: the variants that made their own
 * minimum, with whoever switched to them, fall short of `minTotalQuantity`,
 * and nothing of the campaign has been made. Announced like any failure.
 */
export const failAfterSwitchWindow = async (c: Campaign, now: Date, event: DomainEvent): Promise<boolean> =>
  transition(
    {
      TableName: tableName(),
      Key: campaignKey(c.campaignId),
      UpdateExpression: 'SET #status = :failed, updatedAt = :now, switchWindowClosedAt = :now REMOVE GSI2PK, GSI2SK',
      // Not once another cutter closed the window having found enough: from then on the campaign makes what it has (and may reprice).
      ConditionExpression: '#status = :closed AND attribute_not_exists(switchWindowClosedAt)',
      ExpressionAttributeNames: { '#status': 'status' },
      ExpressionAttributeValues: { ':failed': 'FAILED', ':closed': 'CLOSED', ':now': now.toISOString() },
    },
    [event],
  );

/**
 * A deposit campaign's balance deadline, fixed once (domain/payment.ts): the
 * first caller's `balanceDueBy` is kept, so every buyer is told the same one.
 * Returns the campaign with the deadline stored.
 */
export const fixBalanceDueBy = async (c: Campaign, balanceDueBy: string, now: Date): Promise<Campaign> => {
  const out = await ddb.send(
    new UpdateCommand({
      TableName: tableName(),
      Key: campaignKey(c.campaignId),
      UpdateExpression: 'SET balanceDueBy = if_not_exists(balanceDueBy, :by), updatedAt = :now',
      ConditionExpression: '#status = :closed',
      ExpressionAttributeNames: { '#status': 'status' },
      ExpressionAttributeValues: { ':by': balanceDueBy, ':now': now.toISOString(), ':closed': 'CLOSED' },
      ReturnValues: 'ALL_NEW',
    }),
  );
  return out.Attributes ? fromItem(out.Attributes) : c;
};

/**
 * Every deposit pre-order was told its balance: the campaign goes back on the
 * clock's index, due at the deadline, when the unpaid are forfeited and the
 * last cut comes.
 */
export const markBalancesCalled = async (campaignId: string, balanceDueBy: string, now: Date): Promise<void> => {
  await ddb.send(
    new UpdateCommand({
      TableName: tableName(),
      Key: campaignKey(campaignId),
      UpdateExpression: 'SET balancesCalledAt = if_not_exists(balancesCalledAt, :now), GSI2PK = :clock, GSI2SK = :due',
      ConditionExpression: 'attribute_exists(PK) AND attribute_not_exists(balancesSettledAt)',
      ExpressionAttributeValues: { ':now': now.toISOString(), ':clock': clockPartition, ':due': `${balanceDueBy}#${campaignId}` },
    }),
  ).catch((err: unknown) => {
    // Settled already by another cutter: nothing left for the clock.
    if (!isConditionFailure(err)) throw err;
  });
};

/** The balance window is over and every unpaid pre-order was forfeited: the clock need not come by again. */
export const markBalancesSettled = async (campaignId: string, now: Date): Promise<void> => {
  await ddb.send(
    new UpdateCommand({
      TableName: tableName(),
      Key: campaignKey(campaignId),
      UpdateExpression: 'SET balancesSettledAt = if_not_exists(balancesSettledAt, :now) REMOVE GSI2PK, GSI2SK',
      ConditionExpression: 'attribute_exists(PK)',
      ExpressionAttributeValues: { ':now': now.toISOString() },
    }),
  );
};
