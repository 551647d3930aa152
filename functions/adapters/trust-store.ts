import { UpdateCommand } from '@aws-sdk/lib-dynamodb';
import { tableName } from '#shared/config.ts';
import { latencyBucket } from '#domain/trust.ts';
import { batchGetItems, ddb, type TransactItem } from './dynamo.ts';

/**
 * Trust tallies, the item that feeds `GET /v1/campaigns/{id}/trust` and
 * `GET /v1/factory/trust`: PK=TRUST#CAMPAIGN#<id>#<shard> and
 * TRUST#FACTORY#<id>#<shard>, SK=TRUST, shard = a hash of the pre-order id
 * mod 4, so a lot delivered to two thousand buyers does not queue on one item.
 * Readers sum the shards.
 *
 * Counts are ADDed in the same transactions as the steps they count
 * (`tallies`), so they exist exactly once. Refund latency is the exception: it
 * is measured when the event is published, after its transaction, so it is one
 * UpdateItem of its own (`recordRefundLatency`).
 */
export const trustShards = 4;
export const trustKey = (kind: 'CAMPAIGN' | 'FACTORY', id: string, shard: number) => ({ PK: `TRUST#${kind}#${id}#${shard}`, SK: 'TRUST' });
const shardOf = (preorderId: string) => [...preorderId].reduce((h, ch) => (h * 31 + ch.charCodeAt(0)) >>> 0, 7) % trustShards;

export interface Tally {
  /** Pre-orders fully shipped, and of those by their promised date (campaign) or the committed date (factory). */
  readonly shipped?: number;
  readonly shippedOnTime?: number;
  /** Whole days from pre-order to delivery, as a histogram. */
  readonly deliveredAfterDays?: number;
  /** Units refunded because of the factory (rejected without backup, closed short), and units batched to it. */
  readonly refundedUnits?: number;
  readonly batchedUnits?: number;
  /** Late shipments compensated: how many, and how much (minor units of `currency`). */
  readonly compensated?: number;
  readonly compensatedAmount?: number;
  readonly currency?: string;
  /** Units refunded by the clock at the ceiling (they count in `refundedUnits` too). */
  readonly ceilingRefundedUnits?: number;
  /**
   * Pre-orders refunded at the ceiling without a unit shipped: promises broken
   * that never reach `shipped`, so the on-time rate counts them as late.
   */
  readonly unshippedAtCeiling?: number;
}


const tallyUpdate = (kind: 'CAMPAIGN' | 'FACTORY', id: string, preorderId: string, t: Tally): TransactItem | undefined => {
  const adds: string[] = [];
  const names: Record<string, string> = {};
  const values: Record<string, number> = {};
  for (const key of ['shipped', 'shippedOnTime', 'refundedUnits', 'batchedUnits', 'compensated', 'ceilingRefundedUnits', 'unshippedAtCeiling'] as const) {
    if (t[key]) {
      adds.push(`${key} :${key}`);
      values[`:${key}`] = t[key];
    }
  }
  if (t.compensatedAmount && t.currency) {
    // Per currency (a factory's campaigns may sell in several): flat attributes `comp<CUR>`.
    names['#comp'] = `comp${t.currency}`;
    adds.push('#comp :compAmount');
    values[':compAmount'] = t.compensatedAmount;
  }
  if (t.deliveredAfterDays !== undefined) {
    // A map of day → count needs the map to exist first: kept as flat attributes `d<days>`.
    names['#day'] = `d${t.deliveredAfterDays}`;
    adds.push('#day :one', 'delivered :one');
    values[':one'] = 1;
  }
  if (adds.length === 0) return undefined;
  return {
    Update: {
      TableName: tableName(),
      Key: trustKey(kind, id, shardOf(preorderId)),
      UpdateExpression: `ADD ${adds.join(', ')}`,
      ...(Object.keys(names).length > 0 && { ExpressionAttributeNames: names }),
      ExpressionAttributeValues: values,
    },
  };
};

/** The tally updates to add to the transaction of the step they count. */
export const tallies = (campaignId: string, factoryId: string, preorderId: string, campaign: Tally, factory: Tally): TransactItem[] =>
  [tallyUpdate('CAMPAIGN', campaignId, preorderId, campaign), tallyUpdate('FACTORY', factoryId, preorderId, factory)].filter(
    (x): x is TransactItem => x !== undefined,
  );

/**
 * One refund event published: its wait from decision to bus, ADDed to its log2
 * bucket (`rl<k>`, see domain/trust.ts) on the campaign's shard and, when the
 * refund names a factory, the factory's. Not in a transaction: the event is
 * already out, and a lost sample must not hold up or repeat a publish.
 */
export const recordRefundLatency = async (refund: { campaignId: string; factoryId?: string; preorderId: string; seconds: number }): Promise<void> => {
  const add = (kind: 'CAMPAIGN' | 'FACTORY', id: string) =>
    ddb.send(
      new UpdateCommand({
        TableName: tableName(),
        Key: trustKey(kind, id, shardOf(refund.preorderId)),
        UpdateExpression: 'ADD #bucket :one',
        ExpressionAttributeNames: { '#bucket': `rl${latencyBucket(refund.seconds)}` },
        ExpressionAttributeValues: { ':one': 1 },
      }),
    );
  await Promise.all([add('CAMPAIGN', refund.campaignId), ...(refund.factoryId ? [add('FACTORY', refund.factoryId)] : [])]);
};

/**
 * One refund the platform confirmed: the wait from c2m's decision to the
 * platform's confirmation (the buyer's real wait for the money), ADDed to its
 * log2 bucket (`rc<k>`) on the campaign's shard. Recorded by the one
 * confirmation that wrote it; like the refund latency, not in its transaction.
 */
export const tallyRefundConfirmation = async (refund: { campaignId: string; preorderId: string; seconds: number }): Promise<void> => {
  await ddb.send(
    new UpdateCommand({
      TableName: tableName(),
      Key: trustKey('CAMPAIGN', refund.campaignId, shardOf(refund.preorderId)),
      UpdateExpression: 'ADD #bucket :one',
      ExpressionAttributeNames: { '#bucket': `rc${latencyBucket(refund.seconds)}` },
      ExpressionAttributeValues: { ':one': 1 },
    }),
  );
};

/**
 * The summed tallies of a campaign or a factory, with its histograms (days to
 * delivery, refund latency) and compensation per currency.
 */
export const readTally = async (kind: 'CAMPAIGN' | 'FACTORY', id: string) => {
  // Every shard or no answer: a shard DynamoDB left unprocessed is asked again, never summed as zero.
  const shards = await batchGetItems(
    tableName(),
    Array.from({ length: trustShards }, (_, k) => trustKey(kind, id, k)),
  );
  const sum = {
    shipped: 0,
    shippedOnTime: 0,
    refundedUnits: 0,
    batchedUnits: 0,
    delivered: 0,
    compensated: 0,
    ceilingRefundedUnits: 0,
    unshippedAtCeiling: 0,
    days: {} as Record<string, number>,
    refundLatency: {} as Record<string, number>,
    refundConfirmation: {} as Record<string, number>,
    compensatedAmounts: {} as Record<string, number>,
  };
  const into = (histogram: Record<string, number>, key: string, value: unknown) => {
    histogram[key] = (histogram[key] ?? 0) + Number(value);
  };
  for (const item of shards) {
    for (const key of ['shipped', 'shippedOnTime', 'refundedUnits', 'batchedUnits', 'delivered', 'compensated', 'ceilingRefundedUnits', 'unshippedAtCeiling'] as const) {
      sum[key] += Number(item[key] ?? 0);
    }
    for (const [k, v] of Object.entries(item)) {
      if (/^d\d+$/.test(k)) into(sum.days, k.slice(1), v);
      else if (/^rl\d+$/.test(k)) into(sum.refundLatency, k.slice(2), v);
      else if (/^rc\d+$/.test(k)) into(sum.refundConfirmation, k.slice(2), v);
      else if (/^comp[A-Z]{3}$/.test(k)) into(sum.compensatedAmounts, k.slice(4), v);
    }
  }
  return sum;
};
