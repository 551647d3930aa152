import { getCampaign, readDemand } from '#adapters/campaign-store.ts';
import {
  assignToBatch,
  endCut,
  getBatch,
  listWaiting,
  releaseBatch,
  startCut,
  type PlannedPreorder,
} from '#adapters/batch-store.ts';
import { cancelPreorder, getPreorders } from '#adapters/preorder-store.ts';
import { eventOf, type DomainEvent } from '#adapters/event-bus.ts';
import { publishCommitted } from '#adapters/outbox.ts';
import { acceptBy, batchLines, cutReason, oldestFirst, selectForBatch } from '#domain/batching.ts';
import type { Campaign } from '#domain/campaign.ts';
import type { Preorder } from '#domain/preorder.ts';
import { newId } from '#shared/ids.ts';
import { log } from '#shared/observability.ts';
import { acceptWindowHours } from '#shared/config.ts';

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
    if (campaign.status === 'FAILED') return refundFailedCampaign(campaign);
    if (campaign.cutting) {
      await finishCut(campaign, campaign.cutting);
      continue;
    }
    const plan = await planCut(campaign);
    if (!plan) return;
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
        })),
        preorderIds: [],
        lines: [],
        units: 0,
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
 * The waiting index is eventually consistent, so its candidates are confirmed
 * with a strongly consistent read, and the gates say how many must be waiting.
 */
const planCut = async (campaign: Campaign) => {
  for (let attempt = 0; ; attempt++) {
    const demand = await readDemand(campaign, true);
    if (demand.totals.waiting <= 0) return undefined;
    const listed = await listWaiting(campaign);
    const confirmed = (await getPreorders(listed.map((p) => p.preorderId))).filter((p) => p.status === 'ACCEPTED').sort(oldestFirst);
    const reason = cutReason({
      status: campaign.status,
      lotSize: campaign.lotSize,
      ...(campaign.maxWaitHours !== undefined && { maxWaitHours: campaign.maxWaitHours }),
      waitingUnits: demand.totals.waiting,
      ...(confirmed[0] && { oldestWaitingAt: confirmed[0].createdAt }),
      now: new Date(),
    });
    if (!reason) return undefined;
    // The index has not caught up with the gates when it shows fewer units than
    // the cut needs: a final batch takes all, a lot needs a full lot.
    const listedUnits = confirmed.reduce((n, p) => n + p.quantity, 0);
    const behind =
      listedUnits < demand.totals.waiting && (reason === 'final' || (reason === 'lot' && listedUnits < campaign.lotSize));
    if (!behind && confirmed.length > 0) {
      return { reason, picked: selectForBatch(confirmed, campaign.lotSize, reason).slice(0, maxPreordersPerBatch) };
    }
    if (attempt >= 5) throw new WaitingIndexBehindError(campaign.campaignId);
    await new Promise((r) => setTimeout(r, 100 * (attempt + 1)));
  }
};

/**
 * Assigns the batch's planned pre-orders (each exactly once: ACCEPTED → BATCHED
 * is conditional), releases it with its event, and frees the campaign's lease.
 * Any step may have been done already by a cutter that crashed.
 */
const finishCut = async (campaign: Campaign, batchId: string): Promise<void> => {
  const batch = await getBatch(batchId);
  if (batch?.status === 'CUTTING') {
    const now = new Date();
    const deadline = acceptBy(now, acceptWindowHours());
    const entry = {
      at: now.toISOString(),
      status: 'BATCHED' as const,
      note: `In production batch ${batchId}; the factory confirms its ship date by ${deadline}`,
    };
    const outcomes = await inParallel(batch.planned, (p) => assignToBatch(p, campaign, batchId, entry, now));
    const assigned: PlannedPreorder[] = batch.planned.filter((_, i) => outcomes[i] !== 'skipped');
    if (assigned.length === 0) {
      await releaseBatch(batchId, { status: 'VOID' });
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
      });
      if (released) {
        log().info('batch released', { campaignId: campaign.campaignId, batchId, units, preorders: assigned.length, reason: batch.reason });
        await publishCommitted([event]);
      }
    }
  }
  await endCut(campaign.campaignId, batchId);
};

/**
 * A failed campaign refunds every open pre-order in full, each once (the same
 * conditional transaction as a buyer's cancel), with a timeline entry saying
 * why and a `preorder.refunded` event. A crash half way is resumed by the
 * redelivered message: what was refunded is no longer waiting.
 */
export const refundFailedCampaign = async (campaign: Campaign): Promise<void> => {
  for (;;) {
    const waiting = await listWaiting(campaign);
    if (waiting.length === 0) {
      const demand = await readDemand(campaign, true);
      if (demand.totals.waiting > 0) throw new WaitingIndexBehindError(campaign.campaignId);
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

const refundOne = async (campaign: Campaign, p: Preorder): Promise<DomainEvent[]> => {
  const now = new Date();
  const event = eventOf(
    'preorder.refunded',
    { campaignId: campaign.campaignId, preorderId: p.preorderId, occurredAt: now.toISOString(), status: 'REFUNDED', sku: p.sku, quantity: p.quantity, refundedAmount: p.amount, reason: 'campaign-failed' },
    p.preorderId,
  );
  const entry = {
    at: now.toISOString(),
    status: 'REFUNDED' as const,
    note: `The campaign closed below its minimum of ${campaign.minTotalQuantity} units and will not be produced; ${p.amount} ${p.currency} (minor units) refunded in full`,
  };
  const refunded = await cancelPreorder(p, [entry], campaign, now, [event]);
  return refunded ? [event] : [];
};
