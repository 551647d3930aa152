import type { SQSRecord } from 'aws-lambda';
import { sqsConsumer } from '../queue/consumer.ts';
import { clockIndexPages, getCampaign, readDemand } from '#adapters/campaign-store.ts';
import { recordDemandSnapshot } from '#adapters/demand-history.ts';
import { enqueueClockWork, requestCut } from '#adapters/queues.ts';
import { unscheduleCampaign } from '#adapters/schedules.ts';
import { relayOutbox } from '#adapters/outbox.ts';
import { ClockMessage, type ClockWork } from '#contracts/messages.ts';
import { log } from '#shared/observability.ts';
import { advanceCampaign } from './transitions.ts';
import { balancesToCall } from '#domain/payment.ts';
import { variantOutlook } from './forecasting.ts';
import { batchesDuePages, getBatch, productionOf, saveBatch, type Batch } from '#adapters/batch-store.ts';
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

/** Some of the sweep's messages were refused by SQS even when sent again: the sweep fails, and is retried, rather than drop them quietly. */
export class ClockWorkNotQueuedError extends Error {
  override readonly name = 'ClockWorkNotQueuedError';
  constructor(readonly refused: number) {
    super(`${refused} of the sweep's messages were refused by the campaign-clock queue`);
  }
}

/**
 * The minute sweep only finds the work and fans it out, one message each on
 * this queue: a `tick` for every campaign that is open or has a step due, a
 * `batch-due` for every batch that came due. Each is done, retried and
 * dead-lettered on its own, so thousands of campaigns do not have to fit in one
 * invocation and one that fails stops no other. The campaigns are read a page
 * at a time and each page is sent before the next is read. The outbox relay is
 * one query of one partition, for all campaigns at once: it stays here.
 *
 * A sweep that fails part way is retried whole; the ticks it sends again are
 * repeats of work that is idempotent (see campaignMinute).
 */
export const sweep = async (now: Date): Promise<void> => {
  const at = now.toISOString();
  let refused = 0;
  for await (const page of clockIndexPages()) {
    // A SCHEDULED campaign not yet due, or a CLOSED one whose switch window has not ended, has nothing to do this minute;
    // one whose balances are due and that cuts who waited too long may (paid pre-orders join the line all through the window).
    const ticks = page.filter((c) => c.status === 'OPEN' || c.cutsWhileBalancesDue || Date.parse(c.dueAt) <= now.getTime());
    refused += await enqueueClockWork(ticks.map((c): ClockWork => ({ kind: 'tick', campaignId: c.campaignId, at })));
  }
  for await (const due of batchesDuePages(now)) {
    refused += await enqueueClockWork(due.map((batchId): ClockWork => ({ kind: 'batch-due', batchId, at })));
  }
  await relayOutbox(now);
  if (refused > 0) throw new ClockWorkNotQueuedError(refused);
};

/**
 * One campaign's minute (its `tick`), as of the sweep's time `now`: the step
 * due (it opens or closes; a closed campaign whose switch window ended is
 * handed to the cutter, which refunds the unswitched and cuts the rest; a
 * closed deposit campaign's balances to call, or their deadline, likewise); then,
 * while it is open, the demand snapshot the forecast reads its order rate from
 * (with the forecast made then, for the anchor's chart), and, where pre-orders
 * may not wait forever (maxWaitHours), a nudge to the cutter, which decides
 * whether anyone has waited long enough: while it sells, and while a deposit
 * campaign's balances are due (who paid joins the line then).
 *
 * Idempotent, so a redelivered or duplicated tick changes nothing twice: the
 * transitions are conditional on the status read (only the call that made one
 * announces it); the snapshot is keyed by campaign and minute
 * (DEMANDHIST#<id>, <minute>), so a repeat of the minute's tick puts the same
 * item again rather than adding one; and a cut request is harmless when
 * repeated (the cutter settles only what is due).
 */
export const campaignMinute = async (campaignId: string, now: Date): Promise<void> => {
  const found = await getCampaign(campaignId, true);
  if (!found) {
    log().warn('tick for an unknown campaign', { campaignId });
    return;
  }
  if (found.status === 'CLOSED') {
    if (found.switchBy !== undefined && found.switchWindowClosedAt === undefined && Date.parse(found.switchBy) <= now.getTime()) await requestCut(campaignId);
    // A deposit campaign's balances not called yet (its close's message may be lost), or their deadline: the cutter
    // calls them, or forfeits the unpaid and makes the last cut.
    else if (balancesToCall(found) || (found.balanceDueBy !== undefined && found.balancesSettledAt === undefined && Date.parse(found.balanceDueBy) <= now.getTime())) {
      await requestCut(campaignId);
    } else if (found.balancesCalledAt !== undefined && found.balancesSettledAt === undefined && found.maxWaitHours !== undefined) {
      // In the balance window: whoever paid waits in line, and a max-wait cut may come due before the deadline.
      if ((await readDemand(found)).totals.waiting > 0) await requestCut(campaignId);
    }
    return;
  }
  // Does nothing unless a transition is due at `now`.
  const campaign = await advanceCampaign(found, now);
  if (campaign.status !== 'OPEN') return;
  const demand = await readDemand(campaign);
  // The forecast made at this minute too: the anchor's chart shows how it moved.
  const outlook = await variantOutlook(campaign, demand, now);
  await recordDemandSnapshot(campaign, demand, now, Object.fromEntries(outlook.map((o) => [o.sku, o.forecast])));
  if (campaign.maxWaitHours !== undefined && demand.totals.waiting > 0) await requestCut(campaignId);
};

/**
 * A batch that came due (its `batch-due` message), as of the sweep's time
 * `now`: past its acceptance deadline or grace period, rejected and not yet
 * unwound, or in production past its buyers' promised date (delay notices,
 * then due again at the new date). Each step is conditional on the batch as
 * read (its version), and a buyer is told of a date once: a repeat finds
 * nothing left to do.
 */
export const escalateDueBatch = async (batchId: string, now: Date): Promise<void> => {
  const batch = await getBatch(batchId);
  if (batch && (batch.status === 'ACCEPTED' || batch.status === 'IN_PRODUCTION' || batch.status === 'PARTIALLY_SHIPPED')) {
    await delayBatch(batch, now);
  } else {
    await escalateBatch(batchId, now);
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
  switch (message.kind) {
    case 'sweep':
      return sweep(new Date());
    case 'tick':
      return campaignMinute(message.campaignId, new Date(message.at));
    case 'batch-due':
      return escalateDueBatch(message.batchId, new Date(message.at));
    case 'open':
    case 'close': {
      const campaign = await getCampaign(message.campaignId, true);
      if (!campaign) return advanceWhenDue(message.campaignId, undefined);
      return advanceWhenDue(message.campaignId, message.kind === 'open' ? campaign.opensAt : campaign.closesAt);
    }
  }
};

export const handler = sqsConsumer(recordHandler);
