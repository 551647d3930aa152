import type { Context, SQSBatchResponse, SQSEvent, SQSRecord } from 'aws-lambda';
import { commitParts, packParts, partsOfMessage, type ResolvedSignal, type SignalPart } from '#adapters/signal-store.ts';
import { variantSlot } from '#adapters/campaign-store.ts';
import { SignalsMessage } from '#contracts/messages.ts';
import type { Campaign } from '#domain/campaign.ts';
import { flushMetrics, log, logger, withLogKeys } from '#shared/observability.ts';
import { cachedCampaign } from './campaign-cache.ts';

/** What one batch cost; logged once per batch. */
export interface AggregationReport {
  readonly records: number;
  readonly signals: number;
  /** Message parts committed by this batch, and parts found already committed (redeliveries). */
  readonly parts: number;
  readonly alreadyApplied: number;
  /** TransactWriteItems calls, the cancelled ones included: the batch's writes. */
  readonly transactions: number;
  /** Items written by the committed transactions (markers plus counter updates). */
  readonly items: number;
  readonly failed: number;
}

const parse = (record: SQSRecord): SignalsMessage | undefined => {
  try {
    return SignalsMessage.parse(JSON.parse(record.body));
  } catch (err) {
    log().error('signals message is not valid; it will reach the dead-letter queue', { messageId: record.messageId, error: err as Error });
    return undefined;
  }
};

/** `v<index>` of the sku, or `_`; a sku the campaign no longer sells still counts, for the campaign. */
const slotOf = (campaign: Campaign, sku: string | undefined): string => {
  if (sku === undefined || !campaign.variants.some((v) => v.sku === sku)) {
    if (sku !== undefined) log().warn('signal for a sku the campaign does not sell; counted for the campaign', { campaignId: campaign.campaignId, sku });
    return '_';
  }
  return variantSlot(campaign, sku);
};

/**
 * Folds a whole SQS batch at once: every message becomes one part (or a few,
 * past 99 counters) guarded by its marker, the parts are packed into as few
 * TransactWriteItems as the 100-item ceiling allows, and committed one after
 * another (they share counter items, so in parallel they would conflict). A
 * record fails, and comes back, when any of its parts failed; its committed
 * parts are then skipped on redelivery by their markers.
 */
export const aggregate = async (records: readonly SQSRecord[], now = new Date()): Promise<{ failed: Set<string>; report: AggregationReport }> => {
  const failed = new Set<string>();
  const messages = new Map<string, SignalsMessage>();
  for (const record of records) {
    const message = parse(record);
    if (message) messages.set(record.messageId, message);
    else failed.add(record.messageId);
  }

  const campaignIds = new Set([...messages.values()].flatMap((m) => m.signals.map((s) => s.campaignId)));
  const campaigns = new Map<string, Campaign | undefined>();
  await Promise.all(
    [...campaignIds].map(async (id) => {
      try {
        campaigns.set(id, await cachedCampaign(id));
      } catch (err) {
        log().warn('campaign not readable; its signals come back later', { campaignId: id, error: err as Error });
        campaigns.set(id, undefined);
      }
    }),
  );

  // Parts by marker: a message delivered twice in one batch (a retried POST is queued again) is one part.
  const parts = new Map<string, SignalPart>();
  const markersOf = new Map<string, string[]>();
  let signals = 0;
  for (const [recordId, message] of messages) {
    const resolved: ResolvedSignal[] = [];
    for (const s of message.signals) {
      const campaign = campaigns.get(s.campaignId);
      if (!campaign) break;
      resolved.push({ campaignId: s.campaignId, slot: slotOf(campaign, s.sku), type: s.type, count: s.count, at: s.at });
    }
    if (resolved.length < message.signals.length) {
      failed.add(recordId);
      continue;
    }
    try {
      const own = partsOfMessage(message.messageId, resolved);
      for (const part of own) if (!parts.has(part.marker)) parts.set(part.marker, part);
      markersOf.set(recordId, own.map((p) => p.marker));
      signals += resolved.length;
    } catch (err) {
      log().error('signals message has a bad time; it will reach the dead-letter queue', { messageId: recordId, error: err as Error });
      failed.add(recordId);
    }
  }

  const notCommitted = new Set<string>();
  let transactions = 0;
  let items = 0;
  let committed = 0;
  let alreadyApplied = 0;
  for (const group of packParts([...parts.values()])) {
    const outcome = await commitParts(group, now);
    transactions += outcome.calls;
    items += outcome.items;
    committed += outcome.applied.length;
    alreadyApplied += outcome.alreadyApplied.length;
    if (outcome.notCommitted.length > 0) {
      log().warn('signals transaction failed; its messages come back', { parts: outcome.notCommitted.length, error: outcome.error as Error });
      for (const marker of outcome.notCommitted) notCommitted.add(marker);
    }
  }
  for (const [recordId, markers] of markersOf) if (markers.some((m) => notCommitted.has(m))) failed.add(recordId);

  const report: AggregationReport = { records: records.length, signals, parts: committed, alreadyApplied, transactions, items, failed: failed.size };
  log().info('signals aggregated', { ...report });
  return { failed, report };
};

/** The demand-signals consumer: reports failed records back (ReportBatchItemFailures) so SQS redelivers only those. */
export const handler = async (event: SQSEvent, context: Context): Promise<SQSBatchResponse> => {
  logger.addContext(context);
  try {
    return await withLogKeys({ function: context.functionName, awsRequestId: context.awsRequestId }, async () => {
      const { failed } = await aggregate(event.Records);
      return { batchItemFailures: [...failed].map((itemIdentifier) => ({ itemIdentifier })) };
    });
  } finally {
    flushMetrics();
  }
};
