import { PutCommand, QueryCommand } from '@aws-sdk/lib-dynamodb';
import { tableName } from '#shared/config.ts';
import type { Campaign, Demand } from '#domain/campaign.ts';
import { ddb } from './dynamo.ts';

/**
 * A minute-by-minute record of each open campaign's net ordered units per
 * variant, written by the clock's sweep: the forecast reads the recent order
 * rate from it. One small item a campaign a minute, kept three days.
 *
 * Keys: PK=DEMANDHIST#<campaignId>  SK=<minute, ISO>   attributes v<n> = net units
 */
const ttlSeconds = 3 * 24 * 3600;
const minuteOf = (d: Date) => `${d.toISOString().slice(0, 16)}:00.000Z`;

export const recordDemandSnapshot = async (c: Pick<Campaign, 'campaignId' | 'variants'>, demand: Demand, now: Date): Promise<void> => {
  const net = Object.fromEntries(
    c.variants.map((v, i) => {
      const d = demand.variants.find((x) => x.sku === v.sku);
      return [`v${i}`, d ? d.ordered - d.cancelled : 0];
    }),
  );
  await ddb.send(
    new PutCommand({
      TableName: tableName(),
      Item: { PK: `DEMANDHIST#${c.campaignId}`, SK: minuteOf(now), type: 'demand-history', ...net, expiresAt: Math.floor(now.getTime() / 1000) + ttlSeconds },
    }),
  );
};

/** Net ordered per sku at each recorded minute of the last `minutes`, oldest first. */
export const readDemandHistory = async (
  c: Pick<Campaign, 'campaignId' | 'variants'>,
  now: Date,
  minutes = 60,
): Promise<{ at: string; bySku: Record<string, number> }[]> => {
  const out = await ddb.send(
    new QueryCommand({
      TableName: tableName(),
      KeyConditionExpression: 'PK = :pk AND SK >= :from',
      ExpressionAttributeValues: { ':pk': `DEMANDHIST#${c.campaignId}`, ':from': minuteOf(new Date(now.getTime() - minutes * 60_000)) },
    }),
  );
  return (out.Items ?? []).map((item) => ({
    at: String(item.SK),
    bySku: Object.fromEntries(c.variants.map((v, i) => [v.sku, Number(item[`v${i}`] ?? 0)])),
  }));
};
