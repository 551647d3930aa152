import type { SQSRecord } from 'aws-lambda';
import { sqsConsumer } from '../queue/consumer.ts';
import { getCampaign, listActiveCampaigns, listCampaignsDue, readDemand } from '#adapters/campaign-store.ts';
import { recordDemandSnapshot } from '#adapters/demand-history.ts';
import { requestCut } from '#adapters/queues.ts';
import { unscheduleCampaign } from '#adapters/schedules.ts';
import { relayOutbox } from '#adapters/outbox.ts';
import { ClockMessage } from '#contracts/messages.ts';
import { log } from '#shared/observability.ts';
import { advanceCampaign } from './use-cases.ts';
import { variantOutlook } from './forecasting.ts';
import { getBatch, listBatchesDue, productionOf, saveBatch, type Batch } from '#adapters/batch-store.ts';
import { delayedDate } from '#domain/fulfillment.ts';
import { noticeDelays } from '../fulfillment/use-cases.ts';
import { escalateBatch } from '../batches/unwinding.ts';
import { batchCeiling, maxDelayDaysOf, refundAtCeiling } from '../fulfillment/ceiling.ts';

/** A schedule may fire a moment early; wait for the due time rather than act early or a visibility timeout late. */
const maxEarlyWaitMs = 30_000;

const advanceWhenDue = async (campaignId: string, dueAt: string | undefined) => {
  const wait = dueAt ? Date.parse(dueAt) - Date.now() : 0;
  if (wait > maxEarlyWaitMs) return; // fired far too early: the sweep or the right schedule will act
  if (wait > 0) await new Promise((r) => setTimeout(r, wait));
  const campaign = await getCampaign(campaignId, true);
  if (!campaign) {
    log().warn('clock message for an unknown campaign', { campaignId });
    return;
  }
  await advanceCampaign(campaign, new Date());
};

/**
 * Per open campaign, once a minute: the demand snapshot the forecast reads its
 * order rate from (with the forecast made then, for the anchor's chart), and, where pre-orders may not wait forever (maxWaitHours), a
 * nudge to the cutter, which decides whether anyone has waited long enough.
 */
const everyMinute = async (now: Date) => {
  for (const campaign of await listActiveCampaigns()) {
    if (campaign.status !== 'OPEN') continue;
    const demand = await readDemand(campaign);
    // The forecast made at this minute too: the anchor's chart shows how it moved.
    const outlook = await variantOutlook(campaign, demand, now);
    await recordDemandSnapshot(campaign, demand, now, Object.fromEntries(outlook.map((o) => [o.sku, o.forecast])));
    if (campaign.maxWaitHours !== undefined && demand.totals.waiting > 0) await requestCut(campaign.campaignId);
  }
};

/**
 * Batches that came due: past their acceptance deadline or grace period,
 * rejected and not yet unwound, or in production past their buyers' promised
 * date (delay notices, then due again at the new date).
 */
export const escalateBatches = async (now: Date) => {
  for (const batchId of await listBatchesDue(now)) {
    const batch = await getBatch(batchId);
    if (batch && (batch.status === 'ACCEPTED' || batch.status === 'IN_PRODUCTION' || batch.status === 'PARTIALLY_SHIPPED')) {
      await delayBatch(batch, now);
    } else {
      await escalateBatch(batchId, now);
    }
  }
};

const delayBatch = async (batch: Batch, now: Date) => {
  if (!batch.promiseDue || Date.parse(batch.promiseDue) > now.getTime()) return;
  const maxDelayDays = await maxDelayDaysOf(batch);
  const ceiling = maxDelayDays === undefined ? undefined : await batchCeiling(batch, maxDelayDays);
  // Past the latest date its buyers were promised: the unshipped units are refunded, not delayed again.
  if (ceiling !== undefined && Date.parse(ceiling) <= now.getTime()) {
    await refundAtCeiling(batch, now);
    return;
  }
  const slipped = delayedDate({ promisedShipBy: batch.promiseDue, now });
  if (!slipped) return;
  // Never promise past the ceiling: the buyer is told the latest date, and at it the rest is refunded.
  const newDate = ceiling !== undefined && ceiling < slipped ? ceiling : slipped;
  await noticeDelays(batch, newDate);
  // Due again at the new date; if this loses to a factory change, the next tick sees the batch again.
  await saveBatch(batch, { ...productionOf(batch), promiseDue: newDate }, { now });
};

const recordHandler = async (record: SQSRecord): Promise<void> => {
  const message = ClockMessage.parse(JSON.parse(record.body));
  if ('detail-type' in message) {
    // A closed or failed campaign needs no more schedules.
    await unscheduleCampaign(message.detail.campaignId);
    return;
  }
  if (message.kind === 'sweep') {
    for (const campaign of await listCampaignsDue(new Date())) {
      // A closed campaign is due when its switch window ends: the cutter refunds the unswitched and cuts the rest.
      if (campaign.status === 'CLOSED') await requestCut(campaign.campaignId);
      else await advanceCampaign(campaign, new Date());
    }
    await relayOutbox(new Date());
    await everyMinute(new Date());
    await escalateBatches(new Date());
    return;
  }
  const campaign = await getCampaign(message.campaignId, true);
  if (!campaign) return advanceWhenDue(message.campaignId, undefined);
  await advanceWhenDue(message.campaignId, message.kind === 'open' ? campaign.opensAt : campaign.closesAt);
};

export const handler = sqsConsumer(recordHandler);
