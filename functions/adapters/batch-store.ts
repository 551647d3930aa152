import { GetCommand, QueryCommand, TransactWriteCommand, UpdateCommand } from '@aws-sdk/lib-dynamodb';
import { tableName } from '#shared/config.ts';
import type { Campaign } from '#domain/campaign.ts';
import type { WaitingPreorder } from '#domain/batching.ts';
import type { Preorder, TimelineEntry } from '#domain/preorder.ts';
import { backoff, cancellation, ddb } from './dynamo.ts';
import { campaignKey, gateKey, variantSlot } from './campaign-store.ts';
import { fromItem as preorderFromItem, preorderKey, waitingPartition } from './preorder-store.ts';
import { outboxPut } from './outbox.ts';
import type { DomainEvent } from './event-bus.ts';

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
 * A cut is resumable at every step: the lease names the batch, the batch item
 * names the pre-orders planned for it, and each pre-order moves ACCEPTED → BATCHED
 * in its own transaction with its gate's `batched` counter, so the counters match
 * the pre-orders' statuses at every moment and no pre-order can be in two batches.
 */
export type BatchStatus = 'CUTTING' | 'VOID' | 'RELEASED' | 'ACCEPTED' | 'REJECTED' | 'IN_PRODUCTION' | 'PARTIALLY_SHIPPED' | 'COMPLETED';

export interface Batch {
  readonly batchId: string;
  readonly campaignId: string;
  readonly factoryId: string;
  readonly status: BatchStatus;
  readonly reason: string;
  /** Pre-orders chosen when the cut began; some may have been cancelled before they were assigned. */
  readonly planned: readonly PlannedPreorder[];
  readonly preorderIds: readonly string[];
  readonly lines: readonly { sku: string; quantity: number }[];
  readonly units: number;
  readonly createdAt: string;
  readonly releasedAt?: string;
  readonly acceptBy?: string;
  readonly produced: number;
  readonly qcPassed: number;
  readonly qcFailed: number;
  readonly shipped: number;
}

/** What a cut needs to know of a pre-order to assign it, kept on the batch so a resumed cut needs no lookup. */
export interface PlannedPreorder extends WaitingPreorder {
  readonly gateShard: number;
}

export const batchKey = (batchId: string) => ({ PK: `BATCH#${batchId}`, SK: 'BATCH' });

const fromItem = (item: Record<string, unknown>): Batch => {
  const { PK: _pk, SK: _sk, type: _type, GSI1PK: _g1, GSI1SK: _g1s, ...rest } = item;
  return rest as unknown as Batch;
};

export const getBatch = async (batchId: string, consistent = true): Promise<Batch | undefined> => {
  const out = await ddb.send(new GetCommand({ TableName: tableName(), Key: batchKey(batchId), ConsistentRead: consistent }));
  return out.Item ? fromItem(out.Item) : undefined;
};

/**
 * Every waiting pre-order of the campaign, from all its waiting-index shards
 * (eventually consistent: the gates, read strongly, say how many there must be).
 */
export const listWaiting = async (c: Pick<Campaign, 'campaignId' | 'gateShards'>): Promise<Preorder[]> => {
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
            ExpressionAttributeValues: { ':pk': waitingPartition(c.campaignId, shard) },
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

const isConditionFailure = (err: unknown) => err instanceof Error && err.name === 'ConditionalCheckFailedException';

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
  try {
    await ddb.send(
      new TransactWriteCommand({
        TransactItems: [
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
              Item: { ...batchKey(draft.batchId), type: 'batch', ...draft },
              ConditionExpression: 'attribute_not_exists(PK)',
            },
          },
        ],
      }),
    );
    return true;
  } catch (err) {
    const why = cancellation(err);
    if (why && why.codes.some((c) => c === 'ConditionalCheckFailed' || c === 'TransactionConflict')) return false;
    throw err;
  }
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
 * ACCEPTED → BATCHED for one pre-order, with its gate's `batched` counter in the
 * same transaction. A pre-order already in this batch (a resumed cut) is
 * 'already'; one cancelled or in another batch is 'skipped'.
 */
export const assignToBatch = async (
  p: PlannedPreorder,
  campaign: Pick<Campaign, 'campaignId' | 'variants'>,
  batchId: string,
  entry: TimelineEntry,
  now: Date,
): Promise<AssignOutcome> => {
  for (let attempt = 0; ; attempt++) {
    try {
      await ddb.send(
        new TransactWriteCommand({
          TransactItems: [
            {
              Update: {
                TableName: tableName(),
                Key: preorderKey(p.preorderId),
                UpdateExpression:
                  'SET #status = :batched, batchId = :b, updatedAt = :now, timeline = list_append(timeline, :entries) REMOVE GSI3PK, GSI3SK',
                ConditionExpression: '#status = :accepted',
                ExpressionAttributeNames: { '#status': 'status' },
                ExpressionAttributeValues: {
                  ':batched': 'BATCHED',
                  ':accepted': 'ACCEPTED',
                  ':b': batchId,
                  ':now': now.toISOString(),
                  ':entries': [entry],
                },
                ReturnValuesOnConditionCheckFailure: 'ALL_OLD',
              },
            },
            {
              Update: {
                TableName: tableName(),
                Key: gateKey(campaign.campaignId, p.gateShard),
                UpdateExpression: 'ADD batched.#slot :q',
                ExpressionAttributeNames: { '#slot': variantSlot(campaign, p.sku) },
                ExpressionAttributeValues: { ':q': p.quantity },
              },
            },
          ],
        }),
      );
      return 'assigned';
    } catch (err) {
      const why = cancellation(err);
      if (!why) throw err;
      if (why.codes[0] === 'ConditionalCheckFailed') {
        // Not every DynamoDB returns the old item on a cancelled transaction
        // (DynamoDB Local does not): read it when it is missing.
        const current = why.items[0] ?? (await ddb.send(new GetCommand({ TableName: tableName(), Key: preorderKey(p.preorderId), ConsistentRead: true }))).Item;
        return current?.status === 'BATCHED' && current.batchId === batchId ? 'already' : 'skipped';
      }
      if (attempt >= 8) throw err;
      await backoff(attempt);
    }
  }
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
        event: DomainEvent;
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
            'SET #status = :released, preorderIds = :ids, #lines = :lines, units = :units, releasedAt = :at, acceptBy = :by, GSI1PK = :g1, GSI1SK = :g1s',
          ExpressionAttributeNames: { '#status': 'status', '#lines': 'lines' },
          ExpressionAttributeValues: {
            ':released': 'RELEASED',
            ':cutting': 'CUTTING',
            ':ids': release.preorderIds,
            ':lines': release.lines,
            ':units': release.units,
            ':at': release.releasedAt,
            ':by': release.acceptBy,
            ':g1': `FACTORY#${release.factoryId}#BATCHES`,
            ':g1s': `${release.releasedAt}#${batchId}`,
          },
        };
  try {
    await ddb.send(
      new TransactWriteCommand({
        TransactItems: [
          { Update: { TableName: tableName(), Key: batchKey(batchId), ConditionExpression: '#status = :cutting', ...update } },
          ...(release.status === 'RELEASED' ? [outboxPut(release.event)] : ([] as ReturnType<typeof outboxPut>[])),
        ],
      }),
    );
    return true;
  } catch (err) {
    if (cancellation(err)?.codes[0] === 'ConditionalCheckFailed') return false;
    throw err;
  }
};

