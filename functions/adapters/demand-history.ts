import { PutCommand, QueryCommand } from '@aws-sdk/lib-dynamodb';
import { tableName } from '#shared/config.ts';
import type { Campaign, Demand } from '#domain/campaign.ts';
import { ddb } from './dynamo.ts';

/**
 * A minute-by-minute record of each open campaign's net ordered units per
 * variant, and the forecast made then, written by the campaign's minute tick
 * (one message per open campaign, fanned out by the clock's sweep): the
 * forecast reads the recent order rate from it, the anchor's chart the whole
 * series. One small item a campaign a minute, kept three days: keyed by the
 * minute, so a tick delivered twice puts the same item again, never a second.
 *
 * Keys: PK=DEMANDHIST#<campaignId>  SK=<minute, ISO>
 *       attributes v<n> = net units, f<n> / lo<n> / hi<n> = forecast final, low, high
 */
const ttlSeconds = 3 * 24 * 3600;
const minuteOf = (d: Date) => `${d.toISOString().slice(0, 16)}:00.000Z`;

export interface ForecastAt {
  readonly final: number;
  readonly low: number;
  readonly high: number;
}

export const recordDemandSnapshot = async (
  c: Pick<Campaign, 'campaignId' | 'variants'>,
  demand: Demand,
  now: Date,
  /** Per sku, the forecast made at this minute. */
  forecasts: Readonly<Record<string, ForecastAt>> = {},
): Promise<void> => {
  const net = Object.fromEntries(
    c.variants.flatMap((v, i) => {
      const d = demand.variants.find((x) => x.sku === v.sku);
      const f = forecasts[v.sku];
      return [[`v${i}`, d ? d.ordered - d.cancelled : 0], ...(f ? [[`f${i}`, f.final], [`lo${i}`, f.low], [`hi${i}`, f.high]] : [])];
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

export interface DemandSnapshot {
  readonly at: string;
  /** Per sku: net units, and the forecast made then (absent on minutes recorded before forecasts were). */
  readonly bySku: Record<string, { ordered: number; forecast?: ForecastAt }>;
}

/** The recorded minutes between `from` and `to` (inclusive), oldest first. */
export const readDemandSeries = async (c: Pick<Campaign, 'campaignId' | 'variants'>, from: Date, to: Date): Promise<DemandSnapshot[]> => {
  const found: DemandSnapshot[] = [];
  let start: Record<string, unknown> | undefined;
  do {
    const out = await ddb.send(
      new QueryCommand({
        TableName: tableName(),
        KeyConditionExpression: 'PK = :pk AND SK BETWEEN :from AND :to',
        ExpressionAttributeValues: { ':pk': `DEMANDHIST#${c.campaignId}`, ':from': minuteOf(from), ':to': minuteOf(to) },
        ExclusiveStartKey: start,
      }),
    );
    for (const item of out.Items ?? []) {
      const num = (key: string) => (typeof item[key] === 'number' ? (item[key] as number) : undefined);
      found.push({
        at: String(item.SK),
        bySku: Object.fromEntries(
          c.variants.map((v, i) => {
            const [final, low, high] = [num(`f${i}`), num(`lo${i}`), num(`hi${i}`)];
            return [v.sku, { ordered: num(`v${i}`) ?? 0, ...(final !== undefined && low !== undefined && high !== undefined && { forecast: { final, low, high } }) }];
          }),
        ),
      });
    }
    start = out.LastEvaluatedKey;
  } while (start);
  return found;
};
