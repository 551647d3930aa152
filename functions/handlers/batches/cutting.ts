import { closeSwitchWindow, failAfterSwitchWindow, getCampaign, markMinimumMet, readDemand } from '#adapters/campaign-store.ts';
import {
  assignToBatch,
  countReleasedUnits,
  endCut,
  unwindPreorder,
  getBatch,
  listWaiting,
  releaseBatch,
  waitingOldestFirst,
  startCut,
  type Batch,
  type PlannedPreorder,
} from '#adapters/batch-store.ts';
import { cancelPreorder, getPreorders } from '#adapters/preorder-store.ts';
import { eventOf, refundedInFull, type DomainEvent } from '#adapters/event-bus.ts';
import { publishCommitted } from '#adapters/outbox.ts';
import {
  acceptBy,
  awaitingSwitches,
  batchedMeetsMinimums,
  type CutReason,
  batchLines,
  minimumMet,
  oldestFirst,
  planEarlyCut,
  selectForBatch,
  standingOf,
  variantsMeetingMinimum,
  type VariantStanding,
} from '#domain/batching.ts';
import type { Campaign } from '#domain/campaign.ts';
import { campaignCeiling } from '#domain/fulfillment.ts';
import { defaultLocale, localeOf, type Preorder, type TimelineEntry } from '#domain/preorder.ts';
import { stillHeld } from '#domain/pricing.ts';
import { batchPageOf, batchPageSize, recordPageUntold } from '#adapters/notice-store.ts';
import { dayOf, noticeEntry } from '#domain/notices.ts';
import { newId } from '#shared/ids.ts';
import { log } from '#shared/observability.ts';
import { acceptWindowHours } from '#shared/config.ts';
import { withdrawFailedCampaignBatches } from './withdrawal.ts';
import { offerSwitches, refundMissedVariants } from './switching.ts';
import { repriceCampaign } from './repricing.ts';
import { settleBalances } from './balances.ts';
import { awaitingBalances, isDepositCampaign, minimumsSettledAwaitingBalances } from '#domain/payment.ts';

/** A batch's manifest lives on its item (400 KB at most): past this many pre-orders a cut makes another batch. */
export const maxPreordersPerBatch = 2_000;
/** Parallel DynamoDB transactions per cutter: enough to keep the table busy, few enough to leave room for orders. */
const parallel = 16;

/**
 * Runs `fn` over `items`, `parallel` at a time. On the first failure no new item
 * starts, the ones in flight finish, and then the failure is thrown: the caller
 * never returns while its writes are still landing.
 */
export const inParallel = async <T, R>(items: readonly T[], fn: (item: T) => Promise<R>): Promise<R[]> => {
  const results = new Array<R>(items.length);
  let next = 0;
  let failure: { error: unknown } | undefined;
  await Promise.all(
    Array.from({ length: Math.min(parallel, items.length) }, async () => {
      while (next < items.length && !failure) {
        const i = next++;
        try {
          results[i] = await fn(items[i] as T);
        } catch (error) {
          failure ??= { error };
        }
      }
    }),
  );
  if (failure) throw failure.error;
  return results;
};

export class WaitingIndexBehindError extends Error {
  constructor(campaignId: string) {
    super(`The waiting index of ${campaignId} does not show every waiting pre-order yet; the queue will bring this back`);
  }
}

/**
 * Brings a campaign's waiting pre-orders up to date: cuts every batch that is
 * due (lot size reached, oldest waited too long, or the campaign closed) or, for
 * a failed campaign, refunds them all. Safe to run concurrently and to repeat:
 * a cut in progress is finished before a new one starts, and every step is a
 * conditional write.
 */
export const settleCampaign = async (campaignId: string): Promise<void> => {
  for (let round = 0; round < 1_000; round++) {
    const campaign = await getCampaign(campaignId, true);
    if (!campaign) return;
    if (campaign.cutting) {
      // Even for a failed campaign: a cut that raced the close is finished first, so
      // its batch is known (and withdrawn below) rather than left half made.
      await finishCut(campaign, campaign.cutting);
      if (campaign.status === 'FAILED') await withdrawFailedCampaignBatches(campaign, [campaign.cutting]);
      continue;
    }
    if (campaign.status === 'FAILED') return refundFailedCampaign(campaign);
    const switching = awaitingSwitches(campaign);
    const windowOpen = switching && campaign.switchBy !== undefined && Date.now() < Date.parse(campaign.switchBy);
    if (switching) await (windowOpen ? offerSwitches(campaign) : refundMissedVariants(campaign));
    const plan = await planCut(campaign, windowOpen);
    // Another cut took the lease (or ended) while this one planned: look again.
    if (plan === 'restart') continue;
    if (plan === 'fail') {
      await failBelowMinimumAfterSwitching(campaign);
      continue;
    }
    if (!plan) {
      if (switching && !windowOpen) await closeSwitchWindow(campaignId, new Date(), isDepositCampaign(campaign));
      // Demand is settled now (closed, nobody may switch any more): who paid more than the final tier price gets the
      // difference back. Not while buyers may still switch; repriceCampaign reads the campaign again (the window may have closed just above).
      if (campaign.status === 'CLOSED' && campaign.finalPrices !== undefined && !campaign.repricedAt && !windowOpen && !isDepositCampaign(campaign)) await repriceCampaign(campaignId);
      // A deposit campaign: its balances are called once demand is settled; at their deadline the unpaid are forfeited, and then the last cut is due.
      if (isDepositCampaign(campaign) && campaign.status === 'CLOSED' && !windowOpen && !campaign.balancesSettledAt && (await settleBalances(campaignId))) continue;
      return;
    }
    const { reason, picked } = plan;
    const batchId = newId('bat');
    const started = await startCut(
      {
        batchId,
        campaignId,
        factoryId: campaign.factoryId,
        status: 'CUTTING',
        reason,
        planned: picked.map((p) => ({
          preorderId: p.preorderId,
          sku: p.sku,
          quantity: p.quantity,
          createdAt: p.createdAt,
          gateShard: p.gateTakes[0]?.shard ?? 0,
          locale: localeOf(p),
        })),
        preorderIds: [],
        lines: [],
        units: 0,
        countsAtRelease: true,
        countsInRelease: true,
        createdAt: new Date().toISOString(),
        produced: 0,
        qcPassed: 0,
        qcFailed: 0,
        shipped: 0,
      },
      campaign.cuts ?? 0,
    );
    if (!started) continue; // another cut began or ended since our reads: look again
    await finishCut(campaign, batchId);
  }
};

/**
 * What is due now, if anything: the reason and the pre-orders, oldest first.
 * While the campaign sells, nothing is cut below its minimum (planEarlyCut);
 * once it closed, the final batch takes every waiting pre-order of the
 * variants that met their own minimum. The waiting index is eventually
 * consistent, so its candidates are confirmed with a strongly consistent
 * read, and the gates say how many must be waiting.
 */
const planCut = async (campaign: Campaign & { readonly cuts?: number }, switchWindowOpen = false): Promise<{ reason: CutReason; picked: Preorder[] } | 'fail' | 'restart' | undefined> => {
  // Closed, every balance paid or forfeited: the last cut takes everyone waiting. Until then cuts are of lots and of those who waited too long.
  const final = campaign.status === 'CLOSED' && !awaitingBalances(campaign);
  // In a deposit campaign's balance window the minimums were settled at close: its cuts are plain lots and max-wait cuts.
  const settledMinimums = minimumsSettledAwaitingBalances(campaign);
  for (let attempt = 0; ; attempt++) {
    const demand = await readDemand(campaign, true);
    const standing = settledMinimums ? withoutMinimums(standingOf(campaign.variants, demand.variants)) : standingOf(campaign.variants, demand.variants);
    const minTotalQuantity = settledMinimums ? 0 : campaign.minTotalQuantity;
    // Closed: the variants that made their own minimum at close (switching only adds to them).
    const eligible = new Set(
      campaign.status === 'CLOSED' ? campaign.variants.map((v) => v.sku).filter((sku) => !campaign.variantsMissed?.includes(sku)) : variantsMeetingMinimum(standing),
    );
    const eligibleWaiting = demand.variants.filter((v) => eligible.has(v.sku)).reduce((n, v) => n + v.waiting, 0);
    // What the eligible variants hold: in a deposit campaign, also the units whose balance is not due yet (nobody pays during a switch window).
    const eligibleHeld = eligibleWaiting + demand.variants.filter((v) => eligible.has(v.sku)).reduce((n, v) => n + (v.awaitingBalance ?? 0), 0);
    const switching = awaitingSwitches(campaign);
    if (switching && demand.totals.batched + eligibleHeld < campaign.minTotalQuantity) {
      // What the variants that made their own minimum hold falls short of the
      // campaign's (and nothing is made yet: a first cut takes the whole minimum):
      // wait for switches, then the campaign fails after all.
      return switchWindowOpen ? undefined : 'fail';
    }
    if (demand.totals.waiting <= 0) return undefined;
    // What a lot cut needs waiting: a lot, and a first batch the whole minimum (planEarlyCut).
    const lotDueByGates = eligibleWaiting >= Math.max(campaign.lotSize, minTotalQuantity - demand.totals.batched);
    if (!final) {
      // Below the minimum nothing is cut: no need to read who waits (a hot room may have thousands).
      if (!minimumMet(minTotalQuantity, standing)) return undefined;
      if (!campaign.minimumMetAt) await markMinimumMet(campaign.campaignId, new Date());
      if (!lotDueByGates && campaign.maxWaitHours === undefined) return undefined;
    }
    const makePlan = (confirmed: readonly Preorder[]) =>
      final
        ? { reason: 'final' as const, picked: selectForBatch(confirmed, campaign.lotSize, 'final') }
        : campaign.status === 'FAILED'
          ? undefined
          : planEarlyCut({
              waiting: confirmed,
              lotSize: campaign.lotSize,
              ...(campaign.maxWaitHours !== undefined && { maxWaitHours: campaign.maxWaitHours }),
              minTotalQuantity,
              variants: standing,
              now: new Date(),
            });
    // Read the waiting oldest first, a page at a time, until the plan made from
    // what was read is the plan all of them would give (or there is no more):
    // reading more only adds newer pre-orders, which a plan takes last.
    const { confirmed, exhausted } = await readWaitingUntil(campaign, eligible, (read) => {
      if (final) return read.length >= maxPreordersPerBatch;
      if (!lotDueByGates) {
        // Only a max-wait cut can be due (the gates say less than a lot waits): none while the oldest has not waited that long.
        const oldest = read[0];
        return oldest !== undefined && campaign.maxWaitHours !== undefined && Date.now() - Date.parse(oldest.createdAt) < campaign.maxWaitHours * 3600_000;
      }
      const plan = makePlan(read);
      return plan?.reason === 'lot' && takesWholeMinimums(plan.picked, standing);
    });
    const plan = makePlan(confirmed);
    // The index has not caught up with the gates when, read to its end, it shows
    // fewer units than the gates say wait: a final batch takes all of them, and a
    // planned cut might be due once the rest shows.
    const listedUnits = confirmed.reduce((n, p) => n + p.quantity, 0);
    const behind = exhausted && listedUnits < eligibleWaiting && (final || (!plan && lotDueByGates));
    if (!behind) return plan && plan.picked.length > 0 ? { reason: plan.reason, picked: plan.picked.slice(0, maxPreordersPerBatch) } : undefined;
    // A cut another cutter began since the campaign was read has taken some of what the gates still call waiting: not a lagging index.
    const now = await getCampaign(campaign.campaignId, true);
    if (now?.cutting !== undefined || (now?.cuts ?? 0) !== (campaign.cuts ?? 0)) return 'restart';
    if (attempt >= 5) throw new WaitingIndexBehindError(campaign.campaignId);
    await new Promise((r) => setTimeout(r, 100 * (attempt + 1)));
  }
};

/**
 * The campaign's waiting pre-orders of the eligible variants, oldest first,
 * confirmed by a strongly consistent read (the index lags), read in growing
 * steps until `enough` says the plan cannot change by reading on.
 */
const readWaitingUntil = async (
  campaign: Campaign,
  eligible: ReadonlySet<string>,
  enough: (confirmed: readonly Preorder[]) => boolean,
): Promise<{ confirmed: Preorder[]; exhausted: boolean }> => {
  const firstStep = Math.max(50, campaign.lotSize);
  const line = waitingOldestFirst(campaign, firstStep);
  const confirmed: Preorder[] = [];
  for (let step = firstStep; ; step *= 2) {
    const listed: Preorder[] = [];
    let exhausted = false;
    while (listed.length < step) {
      const next = await line.next();
      if (next.done) {
        exhausted = true;
        break;
      }
      if (eligible.has(next.value.sku)) listed.push(next.value);
    }
    // Confirmed by a strong read, variant included: the index's copy may be older than a switch.
    confirmed.push(...(await getPreorders(listed.map((p) => p.preorderId))).filter((p) => p.status === 'ACCEPTED' && eligible.has(p.sku)));
    confirmed.sort(oldestFirst);
    if (exhausted) return { confirmed, exhausted };
    if (enough(confirmed)) {
      await line.return(undefined);
      return { confirmed, exhausted };
    }
  }
};

/** Every variant in the plan that enters with its own minimum has it whole (planEarlyCut tops up from what it was given). */
const takesWholeMinimums = (picked: readonly Preorder[], standing: readonly { sku: string; batched: number; minQuantity?: number }[]): boolean =>
  standing.every((v) => {
    const have = picked.filter((p) => p.sku === v.sku).reduce((n, p) => n + p.quantity, 0);
    return have === 0 || v.minQuantity === undefined || v.batched + have >= v.minQuantity;
  });

/**
 * Assigns the batch's planned pre-orders (each exactly once: ACCEPTED → BATCHED
 * is conditional), releases it with its event, adds its units to its gates, and
 * frees the campaign's lease. Any step may have been done already by a cutter
 * that crashed, or be under way in another finisher of the same cut: only one
 * of RELEASED and VOID wins, and a VOID batch's pre-orders are put back only
 * after VOID won, by whoever sees it (a put-back one cannot be assigned to this
 * batch again).
 */
const finishCut = async (campaign: Campaign, batchId: string): Promise<void> => {
  const batch = await getBatch(batchId);
  if (batch?.status === 'CUTTING') {
    const now = new Date();
    const deadline = acceptBy(now, acceptWindowHours());
    // The step is told with its page of the batch's members (notifications/batch-pages.ts), not on its own.
    const entry = (p: PlannedPreorder, i: number): TimelineEntry => ({
      ...noticeEntry({ at: now.toISOString(), status: 'BATCHED' }, 'preorder.batched', { confirmBy: dayOf(deadline) }, p.locale ?? defaultLocale(campaign.currency)),
      toldBy: { batchId, page: batchPageOf(i) },
    });
    // A cut begun before counting at release (across a deploy) counts each pre-order on its gate as it goes, as it did then.
    const legacy = batch.countsAtRelease === true ? undefined : campaign;
    const outcomes = await inParallel(
      batch.planned.map((p, i) => ({ p, i })),
      ({ p, i }) => assignToBatch(p, batchId, entry(p, i), now, legacy),
    );
    const assigned: PlannedPreorder[] = batch.planned.filter((_, i) => outcomes[i] !== 'skipped');
    if (assigned.length === 0) {
      await releaseBatch(batchId, { status: 'VOID' });
    } else if (batch.reason !== 'final' && !(await keepsMinimums(campaign, assigned, batch.countsAtRelease === true))) {
      // Buyers cancelled planned pre-orders before they were assigned, and what is
      // left would send a factory less than a minimum: nothing goes, all go back in line (below).
      if (await releaseBatch(batchId, { status: 'VOID' })) log().info('cut abandoned: it would have released less than a minimum', { campaignId: campaign.campaignId, batchId });
    } else {
      const lines = batchLines(assigned, campaign.variants.map((v) => v.sku));
      const units = assigned.reduce((n, p) => n + p.quantity, 0);
      const event = eventOf(
        'batch.released',
        { campaignId: campaign.campaignId, batchId, factoryId: campaign.factoryId, occurredAt: now.toISOString(), lines, quantity: units, reason: batch.reason },
        batchId,
      );
      const released = await releaseBatch(batchId, {
        status: 'RELEASED',
        preorderIds: assigned.map((p) => p.preorderId),
        lines,
        units,
        releasedAt: now.toISOString(),
        acceptBy: deadline,
        factoryId: campaign.factoryId,
        campaignId: campaign.campaignId,
        event,
        ceilingAt: campaignCeiling(campaign),
        members: assigned,
        variants: campaign.variants,
        countsAtRelease: batch.countsAtRelease === true,
        countsInRelease: batch.countsInRelease === true,
      });
      if (released) {
        log().info('batch released', { campaignId: campaign.campaignId, batchId, units, preorders: assigned.length, reason: batch.reason });
        await publishCommitted([event]);
      }
    }
  }
  // Whoever won: a VOID batch's assigned pre-orders go back in line; a released one's units into its gates,
  // for a cut begun before its release counted them (countsInRelease); none for one since (no gateUnits).
  const settled = batch?.status === 'CUTTING' ? await getBatch(batchId) : batch;
  if (settled?.status === 'VOID') await putBack(campaign, settled, new Date());
  else if (settled && settled.status !== 'CUTTING' && settled.countsAtRelease) await countReleasedUnits(settled);
  await endCut(campaign.campaignId, batchId);
};

/** The variants' standing with no minimum of their own: what a cut sees once the minimums are settled. */
const withoutMinimums = (standing: readonly VariantStanding[]): VariantStanding[] => standing.map(({ minQuantity: _min, ...v }) => v);

const keepsMinimums = async (campaign: Campaign, assigned: readonly PlannedPreorder[], countsAtRelease: boolean): Promise<boolean> => {
  // Settled at close (a deposit campaign's balance window): a cut of whoever paid keeps every promise there is.
  if (minimumsSettledAwaitingBalances(campaign)) return true;
  // The gates count this cut's pre-orders as batched only after its release: count them in here.
  const adding = (sku: string) => (countsAtRelease ? assigned.filter((p) => p.sku === sku).reduce((n, p) => n + p.quantity, 0) : 0);
  const counts = (await readDemand(campaign, true)).variants.map((v) => ({ ...v, batched: v.batched + adding(v.sku) }));
  return batchedMeetsMinimums(campaign.minTotalQuantity, standingOf(campaign.variants, counts), [...new Set(assigned.map((p) => p.sku))]);
};

/** A VOID batch's pre-orders still in it go back in line (each once: the unwind is conditional on being in this batch). */
const putBack = async (campaign: Campaign, batch: Batch, now: Date): Promise<void> => {
  const entry = (p: Preorder) => noticeEntry({ at: now.toISOString(), status: 'ACCEPTED', step: 'back-in-line' }, 'preorder.back_in_line', {}, localeOf(p));
  // Nobody is told "batched" with a page of a batch never released: its pages say so, and each member's step goes
  // out as any step does (with "back in line"), rather than waiting on a page that will never come.
  const pageCount = Math.ceil(batch.planned.length / batchPageSize);
  await inParallel(
    Array.from({ length: pageCount }, (_, page) => page),
    (page) => recordPageUntold({ batchId: batch.batchId, page }, now.toISOString()),
  );
  const preorders = (await getPreorders(batch.planned.map((p) => p.preorderId))).filter((p) => p.status === 'BATCHED' && p.batchId === batch.batchId);
  // A cut that counts at release never put these units in the gates' `batched`; one from before did.
  await inParallel(preorders, (p) => unwindPreorder(p, campaign, batch.batchId, 'waiting', entry(p), [], now, [], !batch.countsAtRelease));
};

/**
 * A failed campaign leaves its factories nothing (its batches are withdrawn and
 * their buyers refunded: withdrawal.ts) and refunds every waiting pre-order in full, each once (the same
 * conditional transaction as a buyer's cancel), with a timeline entry saying
 * why and a `preorder.refunded` event. A crash half way is resumed by the
 * redelivered message: what was refunded is no longer waiting.
 */
export const refundFailedCampaign = async (campaign: Campaign): Promise<void> => {
  await withdrawFailedCampaignBatches(campaign);
  for (;;) {
    // A deposit campaign's unpaid pre-orders too: the sale fell through, so the deposits come back (the seller's fault, not the buyer's).
    const waiting = [...(await listWaiting(campaign)), ...(isDepositCampaign(campaign) ? await listWaiting(campaign, 'owing') : [])];
    if (waiting.length === 0) {
      const demand = await readDemand(campaign, true);
      if (demand.totals.waiting + (demand.totals.awaitingBalance ?? 0) > 0) throw new WaitingIndexBehindError(campaign.campaignId);
      return;
    }
    for (let i = 0; i < waiting.length; i += 100) {
      const chunk = waiting.slice(i, i + 100);
      const events = await inParallel(chunk, (p) => refundOne(campaign, p));
      await publishCommitted(events.flat());
    }
    log().info('refunded a failed campaign’s pre-orders', { campaignId: campaign.campaignId, refunded: waiting.length });
  }
};

/** A failed campaign's refund of one pre-order: its event and the buyer's notice. */
export const campaignFailedRefund = (campaign: Campaign, p: Preorder, now: Date, batchId?: string) => ({
  event: refundedInFull(p, 'campaign-failed', now, batchId),
  entry: noticeEntry(
    { at: now.toISOString(), status: 'REFUNDED' },
    'preorder.refunded_campaign_failed',
    { minTotalQuantity: campaign.minTotalQuantity, amount: stillHeld(p), currency: p.currency },
    localeOf(p),
  ),
});

const refundOne = async (campaign: Campaign, p: Preorder): Promise<DomainEvent[]> => {
  const { event, entry } = campaignFailedRefund(campaign, p, new Date());
  return (await cancelPreorder(p, [entry], campaign, new Date(entry.at), [event])) ? [event] : [];
};

/** CLOSED → FAILED once the switch window is over and the variants that made their minimum still fall short. */
const failBelowMinimumAfterSwitching = async (campaign: Campaign): Promise<void> => {
  const now = new Date();
  const event = eventOf('campaign.failed', { campaignId: campaign.campaignId, occurredAt: now.toISOString(), status: 'FAILED', reason: 'below-minimum-after-switching' }, campaign.campaignId);
  if (await failAfterSwitchWindow(campaign, now, event)) {
    log().info('campaign FAILED after its switch window', { campaignId: campaign.campaignId });
    await publishCommitted([event]);
  }
};
