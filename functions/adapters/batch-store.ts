import { GetCommand, PutCommand, QueryCommand, UpdateCommand } from '@aws-sdk/lib-dynamodb';
import { paidOf } from '#domain/payment.ts';
import { tableName } from '#shared/config.ts';
import type { Campaign } from '#domain/campaign.ts';
import { oldestFirst, type WaitingPreorder } from '#domain/batching.ts';
import type { Locale, Preorder, TimelineEntry } from '#domain/preorder.ts';
import { backoff, ddb, failedAt, guardedTransact, isConditionFailure, transactWrite, writeItem, type TransactItem } from './dynamo.ts';
import { campaignKey, gateBatchedUpdate, gateKey, gateUnitsOf, releasedUnitsUpdate, variantSlot } from './campaign-store.ts';
import { OverloadedError } from '#domain/errors.ts';
import { fromItem as preorderFromItem, getPreorders, owingPartition, preorderKey, waitingPartition } from './preorder-store.ts';
import { outboxPut } from './outbox.ts';
import { parseStoredBatch, parseStoredBatchPlan, planLine } from './stored-items.ts';
import type { DomainEvent } from './event-bus.ts';
import type { FactoryBatchStatus, ProductionState } from '#domain/production.ts';
import type { LinePreorder } from '#domain/fulfillment.ts';
import { tallies } from './fulfillment-store.ts';
import { freeUnitsPart } from './buyer-limit-store.ts';

/**
 * The batch entity, the waiting index and the per-campaign cut lease.
 *
 * Keys:
 *   batch     PK=BATCH#<id>  SK=BATCH
 *             GSI1PK=FACTORY#<factoryId>#BATCHES  GSI1SK=<releasedAt>#<id>   (a factory's batches, newest first)
 *   waiting   GSI3PK=WAIT#<campaignId>#<gate shard>  GSI3SK=<createdAt>#<preorderId>
 *             on ACCEPTED pre-orders only (sparse), spread over the same shards as the gates
 *   lease     campaign.cutting = <batchId> while a batch is being cut; campaign.cuts = cuts finished
 *
 * A cut is resumable at every step: the lease names the batch, the batch's plan
 * (`BATCHPLAN#<id> / PLAN`, written before the lease) names the pre-orders planned for it, each pre-order moves ACCEPTED → BATCHED
 * by one conditional write (so none can be in two batches), and the release
 * adds its units to the campaign's `batched` in its own transaction, on one item
 * beside the gates (releasedUnitsUpdate, decision 35). Outside a cut the
 * counters match the pre-orders' statuses; while one runs, until its release,
 * the pre-orders it assigned still count as waiting, and nothing decides on
 * that: the cut holds the campaign's lease, and finishing it comes first. (A cut
 * begun before decision 35 adds its units to its gates after the release, a
 * gate at a time, each once: countReleasedUnits, decision 28.)
 */
export type BatchStatus = 'CUTTING' | 'VOID' | FactoryBatchStatus;

export interface Batch extends Omit<ProductionState, 'status' | 'acceptBy'> {
  readonly acceptBy?: string;
  readonly batchId: string;
  readonly campaignId: string;
  readonly factoryId: string;
  readonly status: BatchStatus;
  readonly reason: string;
  /** Pre-orders chosen when the cut began (read from its plan item while CUTTING or VOID; empty after release). */
  readonly planned: readonly PlannedPreorder[];
  /** The pre-orders in the batch, oldest first (kept in the batch's members item). */
  readonly preorderIds: readonly string[];
  readonly createdAt: string;
  readonly releasedAt?: string;
  /** Optimistic concurrency: every change after release is conditional on it. */
  readonly version?: number;
  /** After a rejection: where its pre-orders go, and when that was done. */
  readonly next?: 'backup-factory' | 'refund';
  readonly nextFactoryId?: string;
  readonly unwoundAt?: string;
  /** How many pre-orders it holds (on the header, so lists need not read the members). */
  readonly preorderCount?: number;
  /** While in production: the date its buyers are promised; the clock sends delay notices when it passes. */
  readonly promiseDue?: string;
  /** Its buyers' ceiling (their original promise + maxDelayDays): a batch not yet accepted by then is withdrawn and refunded. */
  readonly ceilingAt?: string;
  /**
   * Set when the cut began (decision 28): its units go into the gates' `batched`
   * after its release, one gate at a time (`gateUnits`, `gatesCounted`), not per
   * pre-order as it is assigned. Absent on batches cut before that.
   */
  readonly countsAtRelease?: boolean;
  /**
   * Set when the cut began (decision 35): its units go into the campaign's
   * released units in the release's own transaction, not gate by gate after
   * (no `gateUnits`). Batches begun before count gate by gate, as they did.
   */
  readonly countsInRelease?: boolean;
  /**
   * Set when the cut began with its plan on an item of its own (`BATCHPLAN#<id> / PLAN`,
   * written by startCut), not on the header: read with the batch while it is CUTTING or VOID.
   * Absent on batches planned on their header.
   */
  readonly planApart?: boolean;
  /** Released with `countsAtRelease`: the units to add to each gate (shard → variant slot → units). */
  readonly gateUnits?: Readonly<Record<string, Readonly<Record<string, number>>>>;
  /** The gates whose units were added already (each exactly once): marks `BATCH#<id> / COUNTED#<shard>` beside the batch. */
  readonly gatesCounted?: ReadonlySet<number>;
}

/** What a cut needs to know of a pre-order to assign it, kept with the batch (its plan item) so a resumed cut needs no lookup. */
export interface PlannedPreorder extends WaitingPreorder {
  readonly gateShard: number;
  /** The buyer's language, for the batched notice (absent on batches planned before notices had one). */
  readonly locale?: Locale;
}

export const batchKey = (batchId: string) => ({ PK: `BATCH#${batchId}`, SK: 'BATCH' });
/**
 * A cut's plan, in a partition of its own so that reading a batch (one Query of
 * its partition) never reads it once the batch is released: only a cut, and
 * the put-back of a VOID one, need it.
 */
const planKey = (batchId: string) => ({ PK: `BATCHPLAN#${batchId}`, SK: 'PLAN' });
/** A plan is needed while its cut runs; DynamoDB's TTL deletes it, free, this long after. */
const planKeptDays = 30;
const membersKey = (batchId: string) => ({ PK: `BATCH#${batchId}`, SK: 'MEMBERS' });
/** The mark that gate `shard` holds this batch's units in its `batched` (countReleasedUnits). */
const gateCountedKey = (batchId: string, shard: number) => ({ PK: `BATCH#${batchId}`, SK: `COUNTED#${shard}` });

/** A campaign's released batches (GSI3), for its trust figures. */
export const campaignBatchesPartition = (campaignId: string) => `BATCHES#${campaignId}`;

/** Released batches past `acceptBy` or their grace period are found here by the clock (sparse). */
export const batchClockPartition = 'BATCHCLOCK';

/** The batch as stored, with its MEMBERS item when read with it, parsed (stored-items.ts): an item that is not one fails here. */
const fromItem = (item: Record<string, unknown>, members?: Record<string, unknown>): Batch => {
  const { PK, SK: _sk, type: _type, GSI1PK: _g1, GSI1SK: _g1s, GSI2PK: _g2, GSI2SK: _g2s, GSI3PK: _g3, GSI3SK: _g3s, ...rest } = item;
  return parseStoredBatch(rest, String(PK), members);
};

/** The batch with its members, strongly consistent by default (one Query of the batch's two items). */
export const getBatch = async (batchId: string, consistent = true): Promise<Batch | undefined> => {
  const out = await ddb.send(
    new QueryCommand({
      TableName: tableName(),
      KeyConditionExpression: 'PK = :pk',
      ExpressionAttributeValues: { ':pk': batchKey(batchId).PK },
      ConsistentRead: consistent,
    }),
  );
  const header = out.Items?.find((i) => i.SK === 'BATCH');
  if (!header) return undefined;
  const counted = (out.Items ?? []).flatMap((i) => (String(i.SK).startsWith('COUNTED#') ? [Number(String(i.SK).slice('COUNTED#'.length))] : []));
  const batch = { ...fromItem(header, out.Items?.find((i) => i.SK === 'MEMBERS')), ...(counted.length > 0 && { gatesCounted: new Set(counted) }) };
  // Its plan, while a cut may still need it: assigning its pre-orders, or putting a VOID one's back.
  return batch.planApart && (batch.status === 'CUTTING' || batch.status === 'VOID') ? { ...batch, planned: await readPlan(batch, consistent) } : batch;
};

const readPlan = async (batch: Batch, consistent: boolean): Promise<PlannedPreorder[]> => {
  const out = await ddb.send(new GetCommand({ TableName: tableName(), Key: planKey(batch.batchId), ConsistentRead: consistent }));
  if (out.Item) return parseStoredBatchPlan(out.Item, `${planKey(batch.batchId).PK} PLAN`);
  // Written before the lease that names the batch (startCut): a cut whose plan is gone is one a deploy or a person broke.
  if (batch.status === 'CUTTING') throw new Error(`batch ${batch.batchId} is planned apart, and its plan is not in the table`);
  // A VOID batch's, after the TTL: its pre-orders went back in line long ago.
  return [];
};

/**
 * A factory's released batches, newest first, optionally of one status. The
 * status is a filter over the factory's index partition, so a page is filled
 * by reading on until `limit` match or the partition ends.
 */
export const listBatchesForFactory = async (
  factoryId: string,
  opts: { limit: number; status?: FactoryBatchStatus; startKey?: Record<string, unknown> },
): Promise<{ items: Batch[]; lastKey?: Record<string, unknown> }> => {
  const items: Batch[] = [];
  let start = opts.startKey;
  for (let reads = 0; reads < 20; reads++) {
    const out = await ddb.send(
      new QueryCommand({
        TableName: tableName(),
        IndexName: 'GSI1',
        KeyConditionExpression: 'GSI1PK = :pk',
        ...(opts.status && { FilterExpression: '#status = :status', ExpressionAttributeNames: { '#status': 'status' } }),
        ExpressionAttributeValues: { ':pk': `FACTORY#${factoryId}#BATCHES`, ...(opts.status && { ':status': opts.status }) },
        ScanIndexForward: false,
        Limit: opts.limit - items.length,
        ExclusiveStartKey: start,
      }),
    );
    items.push(...(out.Items ?? []).map((i) => fromItem(i)));
    start = out.LastEvaluatedKey;
    if (!start || items.length >= opts.limit) break;
  }
  return { items, ...(start && { lastKey: start }) };
};

/**
 * Batches whose acceptance deadline or grace period has passed, for the clock:
 * every one of them, a page at a time (each page can be sent on before the next
 * is read). Once a page capped the minute's sweep at 100 batches, and a busy
 * minute's others waited for the next sweeps.
 */
export async function* batchesDuePages(now: Date, pageSize = 100): AsyncGenerator<string[]> {
  let start: Record<string, unknown> | undefined;
  do {
    const out = await ddb.send(
      new QueryCommand({
        TableName: tableName(),
        IndexName: 'GSI2',
        KeyConditionExpression: 'GSI2PK = :pk AND GSI2SK <= :now',
        ExpressionAttributeValues: { ':pk': batchClockPartition, ':now': `${now.toISOString()}#~` },
        Limit: pageSize,
        ...(start && { ExclusiveStartKey: start }),
      }),
    );
    const page = (out.Items ?? []).map((i) => String(i.batchId));
    if (page.length > 0) yield page;
    start = out.LastEvaluatedKey;
  } while (start);
}

/**
 * The campaign's waiting pre-orders oldest first, merged over its waiting-index
 * shards, each shard read a page at a time as the merge uses it up: a cut reads
 * about what it takes, not every waiting pre-order (a hot room may have a
 * hundred thousand). Eventually consistent, like the index: callers confirm.
 * `line: 'owing'` reads a deposit campaign's unpaid pre-orders instead (the
 * same index's other partitions), and `after` starts past a sort key
 * (`<createdAt>#<preorderId>`), where a page of a list ended.
 */
export async function* waitingOldestFirst(
  c: Pick<Campaign, 'campaignId' | 'gateShards'>,
  expected = 50,
  opts: { readonly line?: 'waiting' | 'owing'; readonly after?: string } = {},
): AsyncGenerator<Preorder> {
  type Shard = { readonly pk: string; buffer: Preorder[]; start: Record<string, unknown> | undefined; done: boolean; page: number };
  // A first page of about the expected count spread over the shards; a shard the merge keeps draining reads more each time.
  const first = Math.max(1, Math.ceil(expected / c.gateShards));
  const partition = opts.line === 'owing' ? owingPartition : waitingPartition;
  const shards: Shard[] = Array.from({ length: c.gateShards }, (_, k) => ({ pk: partition(c.campaignId, k), buffer: [], start: undefined, done: false, page: first }));
  const refill = async (s: Shard) => {
    if (s.buffer.length > 0 || s.done) return;
    const out = await ddb.send(
      new QueryCommand({
        TableName: tableName(),
        IndexName: 'GSI3',
        KeyConditionExpression: opts.after === undefined ? 'GSI3PK = :pk' : 'GSI3PK = :pk AND GSI3SK > :after',
        ExpressionAttributeValues: { ':pk': s.pk, ...(opts.after !== undefined && { ':after': opts.after }) },
        Limit: s.page,
        ...(s.start && { ExclusiveStartKey: s.start }),
      }),
    );
    s.buffer.push(...(out.Items ?? []).map(preorderFromItem));
    s.start = out.LastEvaluatedKey;
    s.done = s.start === undefined;
    s.page = Math.min(200, s.page * 2);
  };
  for (;;) {
    await Promise.all(shards.map(refill));
    let best: Shard | undefined;
    for (const s of shards) if (s.buffer.length > 0 && (!best || oldestFirst(s.buffer[0]!, best.buffer[0]!) < 0)) best = s;
    if (!best) return;
    yield best.buffer.shift()!;
  }
}

/**
 * Every waiting pre-order of the campaign, from all its waiting-index shards
 * (eventually consistent: the gates, read strongly, say how many there must be).
 */
export const listWaiting = async (c: Pick<Campaign, 'campaignId' | 'gateShards'>, line: 'waiting' | 'owing' = 'waiting'): Promise<Preorder[]> => {
  const shards = await Promise.all(
    Array.from({ length: c.gateShards }, async (_, shard) => {
      const found: Preorder[] = [];
      let start: Record<string, unknown> | undefined;
      do {
        const out = await ddb.send(
          new QueryCommand({
            TableName: tableName(),
            IndexName: 'GSI3',
            KeyConditionExpression: 'GSI3PK = :pk',
            ExpressionAttributeValues: { ':pk': (line === 'waiting' ? waitingPartition : owingPartition)(c.campaignId, shard) },
            ExclusiveStartKey: start,
          }),
        );
        found.push(...(out.Items ?? []).map(preorderFromItem));
        start = out.LastEvaluatedKey;
      } while (start);
      return found;
    }),
  );
  return shards.flat();
};


/**
 * Takes the campaign's cut lease and writes the planned batch in one
 * transaction, so whoever sees the lease also finds the batch to finish.
 *
 * The plan was made from reads taken after the campaign showed `cuts` finished
 * cuts and no lease; the lease is granted only if that is still so. A cut that
 * started or ended in between would have planned some of the same pre-orders,
 * so this plan is stale and the caller plans again (optimistic concurrency, no
 * timeouts): a batch never starts with pre-orders another batch has taken.
 */
export const startCut = async (draft: Batch, seenCuts: number): Promise<boolean> => {
  // The plan first, on its own item, a plain write of about 75 bytes a pre-order: in the lease's transaction it
  // cost twice that, and on the header it was written again by the release (issue 14). Unique to this batch id,
  // so a lease lost below leaves only an item nothing names, which the TTL removes.
  const { planned, ...header } = draft;
  await ddb.send(
    new PutCommand({
      TableName: tableName(),
      Item: {
        ...planKey(draft.batchId),
        type: 'batch-plan',
        planned: planned.map(planLine),
        expiresAt: Math.floor(Date.parse(draft.createdAt) / 1000) + planKeptDays * 86_400,
      },
    }),
  );
  // A conflict is an answer here too: whoever holds the campaign or the batch is moving them; plan again.
  const outcome = await transactWrite([
    {
      Update: {
        TableName: tableName(),
        Key: campaignKey(draft.campaignId),
        UpdateExpression: 'SET cutting = :b',
        ConditionExpression: `attribute_exists(PK) AND attribute_not_exists(cutting) AND ${seenCuts === 0 ? 'attribute_not_exists(cuts)' : 'cuts = :n'}`,
        ExpressionAttributeValues: { ':b': draft.batchId, ...(seenCuts !== 0 && { ':n': seenCuts }) },
      },
    },
    {
      Put: {
        TableName: tableName(),
        Item: { ...batchKey(draft.batchId), type: 'batch', ...header, planApart: true },
        ConditionExpression: 'attribute_not_exists(PK)',
      },
    },
  ], { onConflict: 'return' });
  if (outcome === 'done') return true;
  if (outcome.codes.some((c) => c === 'ConditionalCheckFailed' || c === 'TransactionConflict')) return false;
  throw new OverloadedError();
};

/** Frees the lease of a finished cut and counts it; only the lease's own batch can end it. */
export const endCut = async (campaignId: string, batchId: string): Promise<void> => {
  try {
    await ddb.send(
      new UpdateCommand({
        TableName: tableName(),
        Key: campaignKey(campaignId),
        UpdateExpression: 'REMOVE cutting ADD cuts :one',
        ConditionExpression: 'cutting = :b',
        ExpressionAttributeValues: { ':b': batchId, ':one': 1 },
      }),
    );
  } catch (err) {
    if (!isConditionFailure(err)) throw err; // someone else ended it already
  }
};

export type AssignOutcome = 'assigned' | 'already' | 'skipped';

/**
 * ACCEPTED → BATCHED for one pre-order: one conditional UpdateItem of the
 * pre-order alone (it leaves the waiting index). Its units become `batched`
 * with the release, for the whole batch at once (decision 35), so a cut costs
 * one write per pre-order, not a two-item transaction. A pre-order already in this batch (a resumed cut) is 'already';
 * one cancelled, in another batch, or put back out of this one is 'skipped'.
 */
export const assignToBatch = async (
  p: PlannedPreorder,
  batchId: string,
  entry: TimelineEntry,
  now: Date,
  /**
   * For a batch whose cut began before counting at release (no `countsAtRelease`,
   * in flight across a deploy): its gate's `batched` moves with the pre-order,
   * in one transaction, as it did then.
   */
  countOnGate?: Pick<Campaign, 'campaignId' | 'variants'>,
): Promise<AssignOutcome> => {
  const update = {
    TableName: tableName(),
    Key: preorderKey(p.preorderId),
    UpdateExpression: 'SET #status = :batched, batchId = :b, updatedAt = :now, timeline = list_append(timeline, :entries) REMOVE GSI3PK, GSI3SK',
    // Not one this batch already put back in line (a cut given up while another finisher was still assigning).
    ConditionExpression: '#status = :accepted AND (attribute_not_exists(leftBatch) OR leftBatch <> :b)',
    ExpressionAttributeNames: { '#status': 'status' },
    ExpressionAttributeValues: { ':batched': 'BATCHED', ':accepted': 'ACCEPTED', ':b': batchId, ':now': now.toISOString(), ':entries': [entry] },
  };
  const outcome = countOnGate
    ? await transactWrite([{ Update: update }, gateBatchedUpdate(countOnGate.campaignId, p.gateShard, { [variantSlot(countOnGate, p.sku)]: p.quantity })])
    : await writeItem(new UpdateCommand(update));
  if (outcome === 'done') return 'assigned';
  // Rare (a resumed cut, a buyer who cancelled since the plan): read what it is now.
  const current = (await ddb.send(new GetCommand({ TableName: tableName(), Key: preorderKey(p.preorderId), ConsistentRead: true }))).Item;
  return current?.status === 'BATCHED' && current.batchId === batchId ? 'already' : 'skipped';
};

/**
 * CUTTING → RELEASED, with its `batch.released` event in the same transaction
 * (outbox), or CUTTING → VOID when every planned pre-order was cancelled first.
 * Only one caller wins, so the batch is released, and announced, once.
 */
export const releaseBatch = async (
  batchId: string,
  release:
    | {
        status: 'RELEASED';
        preorderIds: string[];
        lines: { sku: string; quantity: number }[];
        units: number;
        releasedAt: string;
        acceptBy: string;
        factoryId: string;
        campaignId: string;
        event: DomainEvent;
        ceilingAt?: string;
        /** The batch's members as planned (gate shard, sku, units): what `batched` gains with the release (decision 35), or its gates after it (countReleasedUnits, a cut from before). */
        members: readonly PlannedPreorder[];
        variants: Campaign['variants'];
        /** Whether the cut began counting at release (its `countsAtRelease`); a batch from before counted its units as it assigned them. */
        countsAtRelease: boolean;
        /** Whether it counts them in this transaction, on the campaign's released units (its `countsInRelease`, decision 35), not gate by gate after. */
        countsInRelease: boolean;
      }
    | { status: 'VOID' },
): Promise<boolean> => {
  const update: { UpdateExpression: string; ExpressionAttributeNames: Record<string, string>; ExpressionAttributeValues: Record<string, unknown> } =
    release.status === 'VOID'
      ? {
          UpdateExpression: 'SET #status = :void',
          ExpressionAttributeNames: { '#status': 'status' },
          ExpressionAttributeValues: { ':void': 'VOID', ':cutting': 'CUTTING' },
        }
      : {
          UpdateExpression:
            `SET #status = :released, #lines = :lines, units = :units, releasedAt = :at, acceptBy = :by, version = :one, preorderCount = :count, GSI1PK = :g1, GSI1SK = :g1s, GSI2PK = :clock, GSI2SK = :due, GSI3PK = :g3, GSI3SK = :g1s${release.ceilingAt !== undefined ? ', ceilingAt = :ceiling' : ''}${release.countsAtRelease && !release.countsInRelease ? ', gateUnits = :gateUnits' : ''} REMOVE planned`,
          ExpressionAttributeNames: { '#status': 'status', '#lines': 'lines' },
          ExpressionAttributeValues: {
            ':released': 'RELEASED',
            ':cutting': 'CUTTING',
            ':one': 1,
            ':clock': batchClockPartition,
            // Due at its acceptance deadline, or at its buyers' ceiling if that comes first.
            ':due': `${release.ceilingAt !== undefined && release.ceilingAt < release.acceptBy ? release.ceilingAt : release.acceptBy}#${batchId}`,
            ...(release.ceilingAt !== undefined && { ':ceiling': release.ceilingAt }),
            ':g3': campaignBatchesPartition(release.campaignId),
            ':count': release.preorderIds.length,
            ':lines': release.lines,
            ':units': release.units,
            ':at': release.releasedAt,
            ':by': release.acceptBy,
            ':g1': `FACTORY#${release.factoryId}#BATCHES`,
            ':g1s': `${release.releasedAt}#${batchId}`,
            ...(release.countsAtRelease && !release.countsInRelease && { ':gateUnits': gateUnitsOf({ variants: release.variants }, release.members) }),
          },
        };
  const outcome = await transactWrite([
    { Update: { TableName: tableName(), Key: batchKey(batchId), ConditionExpression: '#status = :cutting', ...update } },
    ...(release.status === 'RELEASED'
      ? [
          { Put: { TableName: tableName(), Item: { ...membersKey(batchId), type: 'batch-members', preorderIds: release.preorderIds } } },
          outboxPut(release.event),
          // The factory's trust tally: units it was given (its refund rate's denominator).
          ...tallies(release.campaignId, release.factoryId, batchId, {}, { batchedUnits: release.units }),
          // Its units into the campaign's `batched`, once, with the release (decision 35).
          ...(release.countsInRelease ? [releasedUnitsUpdate({ campaignId: release.campaignId, variants: release.variants }, release.members)] : []),
        ]
      : []),
  ]);
  // Only the batch carries a condition: refused means another cutter released or voided it first.
  return outcome === 'done';
};

/**
 * Adds a released batch's units to its gates' `batched`, one gate at a time,
 * each in a transaction with a mark beside the batch (`COUNTED#<shard>`, put on
 * condition it does not exist): exactly once per gate, however often it is
 * repeated and however many finishers do it at once. Not in the release's own
 * transaction: that would hold every gate of the campaign at once, and during a
 * burst each is inside a placement's transaction most of the time. Gate by
 * gate, in an order of its own so concurrent finishers share the work, a gate
 * that is busy is tried again after the others. The caller runs it before
 * freeing the campaign's lease, so the next plan reads counted gates.
 */
export const countReleasedUnits = async (batch: Pick<Batch, 'batchId' | 'campaignId' | 'gateUnits' | 'gatesCounted'>): Promise<void> => {
  let left = Object.keys(batch.gateUnits ?? {})
    .map(Number)
    .filter((k) => !batch.gatesCounted?.has(k))
    .sort(() => Math.random() - 0.5);
  for (let round = 0; left.length > 0; round++) {
    const busy: number[] = [];
    for (const k of left) {
      const outcome = await transactWrite(
        [
          gateBatchedUpdate(batch.campaignId, k, batch.gateUnits![String(k)]!),
          { Put: { TableName: tableName(), Item: { ...gateCountedKey(batch.batchId, k), type: 'batch-gate-counted' }, ConditionExpression: 'attribute_not_exists(PK)' } },
        ],
        // A busy gate is tried again after the others, not waited on here.
        { onConflict: 'return' },
      );
      // Its mark exists: another finisher counted this gate. Anything else (the gate in a placement's transaction, throttling): later.
      if (outcome !== 'done' && !failedAt(outcome, 1)) busy.push(k);
    }
    if (busy.length > 0 && round >= 20) throw new OverloadedError();
    if (busy.length === 0) return;
    await backoff(round, 20, 500);
    // Another finisher may have counted some of them meanwhile: only the rest are tried again.
    const counted = (await getBatch(batch.batchId))?.gatesCounted;
    left = busy.filter((k) => !counted?.has(k));
  }
};

/** The factory-facing state of a released batch. */
export const productionOf = (b: Batch): ProductionState => {
  if (b.status === 'CUTTING' || b.status === 'VOID' || !b.acceptBy) throw new Error(`batch ${b.batchId} is not released`);
  return { ...b, status: b.status, acceptBy: b.acceptBy };
};

const mutable = [
  'status',
  'lines',
  'produced',
  'qcPassed',
  'qcFailed',
  'defects',
  'shipped',
  'progressBy',
  'overdueAt',
  'escalateAt',
  'acceptedAt',
  'committedShipDate',
  'rejectedAt',
  'rejectedReason',
  'completedAt',
  'closedShortReason',
  'withdrawnAt',
  'promiseDue',
  'units',
  'next',
  'nextFactoryId',
] as const;

export type { TransactItem };

/**
 * Writes a released batch's next state, its events (outbox) and any other
 * items in one transaction, on condition that nobody changed the batch since
 * it was read (`version`). False when somebody did: read again and decide again.
 * The clock index follows the state: a RELEASED batch is due at its deadline or
 * grace end, a REJECTED one until it is unwound; any other status leaves it.
 */
export type BatchChange = ProductionState & Partial<Pick<Batch, 'next' | 'nextFactoryId' | 'promiseDue'>>;

/** The conditional update of a batch header from `before` to `next` (for a transaction of the caller's). */
export const batchUpdate = (before: Batch, next: BatchChange, now: Date): TransactItem => {
  const names: Record<string, string> = {};
  const values: Record<string, unknown> = { ':v': before.version ?? 0, ':one': 1 };
  const sets: string[] = ['version = version + :one', 'updatedAt = :now'];
  const removes: string[] = [];
  values[':now'] = now.toISOString();
  for (const key of mutable) {
    const value = (next as unknown as Record<string, unknown>)[key];
    if (value !== undefined) {
      names[`#${key}`] = key;
      sets.push(`#${key} = :${key}`);
      values[`:${key}`] = value;
    } else if ((before as unknown as Record<string, unknown>)[key] !== undefined) {
      names[`#${key}`] = key;
      removes.push(`#${key}`);
    }
  }
  // A rejected batch stays due until its pre-orders are unwound (markUnwound), so
  // the clock re-sends the unwind if the message after the commit was lost; one in
  // production is due when its buyers' promised date passes (delay notices).
  const due =
    next.status === 'RELEASED'
      ? earlier(next.escalateAt ?? next.acceptBy, before.ceilingAt)
      : next.status === 'REJECTED'
        ? next.rejectedAt
        : next.status === 'ACCEPTED' || next.status === 'IN_PRODUCTION' || next.status === 'PARTIALLY_SHIPPED'
          ? next.promiseDue
          : undefined;
  if (due) {
    sets.push('GSI2PK = :clock', 'GSI2SK = :due');
    values[':clock'] = batchClockPartition;
    values[':due'] = `${due}#${before.batchId}`;
  } else {
    removes.push('GSI2PK', 'GSI2SK');
  }
  return {
    Update: {
      TableName: tableName(),
      Key: batchKey(before.batchId),
      UpdateExpression: `SET ${sets.join(', ')}${removes.length ? ` REMOVE ${removes.join(', ')}` : ''}`,
      ConditionExpression: 'version = :v',
      ExpressionAttributeNames: names,
      ExpressionAttributeValues: values,
    },
  };
};

export const saveBatch = async (
  before: Batch,
  next: BatchChange,
  opts: { events?: readonly DomainEvent[]; also?: readonly TransactItem[]; now: Date },
): Promise<boolean> => {
  // A conflict means the batch is being changed by someone else: the caller reads it again, as after a failed condition.
  const outcome = await transactWrite([batchUpdate(before, next, opts.now), ...(opts.also ?? []), ...(opts.events ?? []).map(outboxPut)], {
    onConflict: 'return',
  });
  if (outcome === 'done') return true;
  if (failedAt(outcome, 0) || outcome.codes.includes('TransactionConflict')) return false;
  if (outcome.codes.includes('ConditionalCheckFailed')) throw new Error(`batch ${before.batchId}: an item written with its change was refused: ${outcome.codes.join(', ')}`);
  throw new OverloadedError();
};

/** Marks a rejected batch's pre-orders as dealt with (the unwind is finished). */
export const markUnwound = async (batchId: string, now: Date): Promise<void> => {
  await ddb.send(
    new UpdateCommand({
      TableName: tableName(),
      Key: batchKey(batchId),
      UpdateExpression: 'SET unwoundAt = if_not_exists(unwoundAt, :now) REMOVE GSI2PK, GSI2SK',
      ExpressionAttributeValues: { ':now': now.toISOString() },
    }),
  );
};

const earlier = (date: string, other: string | undefined) => (other !== undefined && other < date ? other : date);

export type UnwindOutcome = 'done' | 'already';

/**
 * One pre-order of a rejected batch, BATCHED (or IN_PRODUCTION, when the
 * factory accepted and then rejected before making anything) in it → waiting again (for the
 * backup factory) or REFUNDED in full, with its gate counters in the same
 * transaction, so conservation holds at every moment. Conditional on the
 * pre-order still being in this batch: repeating it (a redelivered unwind, two
 * unwinders) changes nothing.
 */
export const unwindPreorder = async (
  p: Preorder,
  campaign: Pick<Campaign, 'campaignId' | 'variants' | 'maxTotalQuantity' | 'maxPerBuyer'>,
  batchId: string,
  to: 'waiting' | 'refund',
  entry: TimelineEntry,
  events: readonly DomainEvent[],
  now: Date,
  /** More of the same transaction (the trust tallies of a refund, say). */
  also: readonly TransactItem[] = [],
  /**
   * Whether the pre-order's units are in its gate's `batched`: true for a
   * released batch; false for a cut given up before its release (its batch
   * VOID) that counted at release: its pre-orders never left `waiting` there.
   */
  countedInGates = true,
): Promise<UnwindOutcome> => {
  const capped = campaign.maxTotalQuantity !== undefined;
  const slot = variantSlot(campaign, p.sku);
  const first = p.gateTakes[0] ?? { shard: 0, units: p.quantity };
  // Back to waiting, the buyer keeps the latest date they were told: the first
  // promise, or the delay they were notified of (and did not cancel over). So a
  // backup factory committing to that same date is no news, and no second notice.
  const promise = p.delayedTo ?? p.firstPromisedShipBy ?? p.promisedShipBy;
  const preorderUpdate =
    to === 'waiting'
      ? {
          UpdateExpression:
            'SET #status = :accepted, updatedAt = :now, timeline = list_append(timeline, :entries), GSI3PK = :wpk, GSI3SK = :wsk, promisedShipBy = :promise, leftBatch = :b REMOVE batchId, delayedTo',
          ExpressionAttributeValues: {
            ':promise': promise,
            ':accepted': 'ACCEPTED',
            ':wpk': waitingPartition(p.campaignId, first.shard),
            ':wsk': `${p.createdAt}#${p.preorderId}`,
          },
        }
      : {
          UpdateExpression: 'SET #status = :refunded, refundedAmount = :amount, updatedAt = :now, timeline = list_append(timeline, :entries) REMOVE delayedTo',
          ExpressionAttributeValues: { ':refunded': 'REFUNDED', ':amount': paidOf(p) },
        };
  const gateUpdates = p.gateTakes.map((take, i) => {
    const adds = [
      ...(i === 0 && countedInGates ? ['batched.#slot :minus'] : []),
      ...(i === 0 && to === 'refund' ? ['cancelled.#slot :q'] : []),
      ...(capped && to === 'refund' ? ['remaining :units'] : []),
    ];
    return adds.length === 0
      ? undefined
      : {
          Update: {
            TableName: tableName(),
            Key: gateKey(p.campaignId, take.shard),
            UpdateExpression: `ADD ${adds.join(', ')}`,
            ...(i === 0 && { ExpressionAttributeNames: { '#slot': slot } }),
            ExpressionAttributeValues: {
              ...(i === 0 && countedInGates && { ':minus': -p.quantity }),
              ...(i === 0 && to === 'refund' && { ':q': p.quantity }),
              ...(capped && to === 'refund' && { ':units': take.units }),
            },
          },
        };
  });
  const outcome = await guardedTransact([
    {
      Update: {
        TableName: tableName(),
        Key: preorderKey(p.preorderId),
        // Accepted and then rejected before any production: its pre-orders may be IN_PRODUCTION already.
        // A refund pays back what is still held as read: on condition that no other refund (a price drop) landed since.
        ConditionExpression: `#status IN (:batched, :inProduction) AND batchId = :b${to === 'refund' ? ' AND refundedAmount = :before' : ''}`,
        ...preorderUpdate,
        ExpressionAttributeNames: { '#status': 'status' },
        ExpressionAttributeValues: {
          ...preorderUpdate.ExpressionAttributeValues,
          ...(to === 'refund' && { ':before': p.refundedAmount }),
          ':batched': 'BATCHED',
          ':inProduction': 'IN_PRODUCTION',
          ':b': batchId,
          ':now': now.toISOString(),
          ':entries': [entry],
        },
      },
    },
    ...gateUpdates.filter((u) => u !== undefined),
    ...(to === 'refund' ? freeUnitsPart(campaign, p.buyerId, p.quantity) : []),
    ...also,
    ...events.map(outboxPut),
  ]);
  return outcome === 'done' ? 'done' : 'already';
};

/** A campaign's released batches (headers only), for its trust figures. */
export const listBatchesForCampaign = async (campaignId: string): Promise<Batch[]> => {
  const items: Batch[] = [];
  let start: Record<string, unknown> | undefined;
  do {
    const out = await ddb.send(
      new QueryCommand({
        TableName: tableName(),
        IndexName: 'GSI3',
        KeyConditionExpression: 'GSI3PK = :pk',
        ExpressionAttributeValues: { ':pk': campaignBatchesPartition(campaignId) },
        ExclusiveStartKey: start,
      }),
    );
    items.push(...(out.Items ?? []).map((i) => fromItem(i)));
    start = out.LastEvaluatedKey;
  } while (start);
  return items;
};

/**
 * A buyer's cancel after a delay notice, for a pre-order in this batch with no
 * unit shipped: REFUNDED in full, its gate moving the units from batched to
 * cancelled (and back under the cap), and the batch making that many fewer, all
 * in one transaction, conditional on the batch's version (so no shipment can
 * have been counted for those units in between) and on the pre-order as read.
 */
export const cancelFromBatch = async (
  p: Preorder,
  campaign: Pick<Campaign, 'campaignId' | 'variants' | 'maxTotalQuantity' | 'maxPerBuyer'>,
  batch: Batch,
  next: BatchChange,
  entries: readonly TimelineEntry[],
  events: readonly DomainEvent[],
  now: Date,
): Promise<boolean> => {
  const capped = campaign.maxTotalQuantity !== undefined;
  const slot = variantSlot(campaign, p.sku);
  // Any refusal or contention (the pre-order, its batch's version) is the caller's to read again.
  const outcome = await transactWrite([
    {
      Update: {
        TableName: tableName(),
        Key: preorderKey(p.preorderId),
        UpdateExpression:
          'SET #status = :refunded, refundedAmount = :amount, updatedAt = :now, timeline = list_append(timeline, :entries) REMOVE delayedTo',
        ConditionExpression:
          'batchId = :b AND #status = :was AND attribute_exists(delayedTo) AND (attribute_not_exists(shippedQuantity) OR shippedQuantity = :zero) AND refundedAmount = :before',
        ExpressionAttributeNames: { '#status': 'status' },
        ExpressionAttributeValues: {
          ':refunded': 'REFUNDED',
          ':before': p.refundedAmount,
          ':amount': paidOf(p),
          ':now': now.toISOString(),
          ':entries': entries,
          ':b': batch.batchId,
          ':was': p.status,
          ':zero': 0,
        },
      },
    },
    ...p.gateTakes.map((take, i) => ({
      Update: {
        TableName: tableName(),
        Key: gateKey(p.campaignId, take.shard),
        UpdateExpression: `ADD ${[...(i === 0 ? ['batched.#slot :minus', 'cancelled.#slot :q'] : []), ...(capped ? ['remaining :units'] : [])].join(', ')}`,
        ...(i === 0 && { ExpressionAttributeNames: { '#slot': slot } }),
        ExpressionAttributeValues: {
          ...(i === 0 && { ':minus': -p.quantity, ':q': p.quantity }),
          ...(capped && { ':units': take.units }),
        },
      },
    })).filter((u) => Object.keys(u.Update.ExpressionAttributeValues).length > 0),
    batchUpdate(batch, next, now),
    ...tallies(p.campaignId, batch.factoryId, p.preorderId, {}, { refundedUnits: p.quantity }),
    ...freeUnitsPart(campaign, p.buyerId, p.quantity),
    ...events.map(outboxPut),
  ], { onConflict: 'return' });
  if (outcome === 'done') return true;
  if (outcome.codes.some((c) => c === 'ConditionalCheckFailed' || c === 'TransactionConflict')) return false;
  throw new OverloadedError();
};

/** The batch's pre-orders still waiting for units from it (one cancelled after a delay has left), with what allocation needs. */
export const liveLine = async (batch: Pick<Batch, 'batchId' | 'preorderIds'>): Promise<LinePreorder[]> =>
  (await getPreorders(batch.preorderIds))
    .filter((p) => p.batchId === batch.batchId && p.status !== 'REFUNDED')
    .map((p) => ({ preorderId: p.preorderId, sku: p.sku, quantity: p.quantity, unitPrice: p.unitPrice, createdAt: p.createdAt }));

/**
 * A transaction part that writes nothing and holds only while the batch is as
 * read (its `version`; none while it is still being cut): for a change made
 * elsewhere that was decided on the batch's state, such as which units a lot
 * counted on it went to.
 */
export const batchUnchanged = (before: Pick<Batch, 'batchId' | 'version'>): TransactItem => ({
  ConditionCheck: {
    TableName: tableName(),
    Key: batchKey(before.batchId),
    ConditionExpression: before.version === undefined ? 'attribute_not_exists(version)' : 'version = :v',
    ...(before.version !== undefined && { ExpressionAttributeValues: { ':v': before.version } }),
  },
});
