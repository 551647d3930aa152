import { getBatch, listBatchesForCampaign, markUnwound, productionOf, saveBatch, unwindPreorder, type Batch } from '#adapters/batch-store.ts';
import { getPreorders } from '#adapters/preorder-store.ts';
import { eventOf, type DomainEvent } from '#adapters/event-bus.ts';
import { publishCommitted } from '#adapters/outbox.ts';
import type { Campaign } from '#domain/campaign.ts';
import { localeOf, type Preorder } from '#domain/preorder.ts';
import { noticeEntry } from '#domain/notices.ts';
import { withdraw } from '#domain/production.ts';
import { log } from '#shared/observability.ts';
import { flushNotifications } from '../notifications/flush.ts';
import { campaignFailedRefund, inParallel } from './cutting.ts';

/**
 * All-or-nothing, after the fact: a failed campaign leaves its factories
 * nothing. Every live batch of it is WITHDRAWN (the factory can make and ship
 * no more of it, and hears so by `batch.units_withdrawn`), and every pre-order
 * in it that has not shipped is refunded in full, whatever state it reached.
 *
 * Cuts wait for the minimum and the first batch takes the whole minimum, so a
 * campaign only gets here with batches when a factory's own failures (a
 * rejection with no backup, a cancel after a delay) took it back below its
 * minimum before it closed, or a cut raced the close.
 *
 * Safe to repeat and to crash half way: the withdrawal is the batch's
 * compare-and-set, each refund is conditional on the pre-order still being in
 * the batch, and a withdrawn batch is marked unwound only after its refunds.
 */
export const withdrawFailedCampaignBatches = async (campaign: Campaign, alsoBatchIds: readonly string[] = []): Promise<void> => {
  const listed = await listBatchesForCampaign(campaign.campaignId);
  const ids = [...new Set([...listed.map((b) => b.batchId), ...alsoBatchIds])];
  for (const batchId of ids) await withdrawOne(campaign, batchId);
};

const withdrawOne = async (campaign: Campaign, batchId: string): Promise<void> => {
  for (let attempt = 0; attempt < 10; attempt++) {
    const batch = await getBatch(batchId);
    if (!batch || batch.status === 'CUTTING' || batch.status === 'VOID' || batch.unwoundAt) return;
    if (batch.status === 'WITHDRAWN') return refundWithdrawn(campaign, batch);
    const next = withdraw(productionOf(batch), new Date());
    if (!next) return; // rejected (its own unwind refunds it) or completed
    const now = new Date(next.withdrawnAt ?? Date.now());
    const unshipped = batch.lines.map((l) => ({ sku: l.sku, quantity: l.quantity - l.shipped })).filter((l) => l.quantity > 0);
    const event = eventOf(
      'batch.units_withdrawn',
      {
        campaignId: batch.campaignId,
        batchId,
        factoryId: batch.factoryId,
        occurredAt: now.toISOString(),
        lines: unshipped,
        quantity: unshipped.reduce((n, l) => n + l.quantity, 0),
        reason: 'campaign-failed',
      },
      batchId,
    );
    if (await saveBatch(batch, next, { events: [event], now })) {
      await publishCommitted([event]);
      log().warn('batch withdrawn: its campaign failed', { batchId, campaignId: batch.campaignId, factoryId: batch.factoryId });
    }
  }
  throw new Error(`batch ${batchId} kept changing while it was being withdrawn; the queue will bring this back`);
};

const refundWithdrawn = async (campaign: Campaign, batch: Batch): Promise<void> => {
  const now = new Date();
  const preorders = await getPreorders(batch.preorderIds);
  const events = await inParallel(preorders, (p) => refundOne(campaign, batch, p, now));
  await publishCommitted(events.flat());
  await markUnwound(batch.batchId, now);
  await flushNotifications(batch.preorderIds);
};

const refundOne = async (campaign: Campaign, batch: Batch, p: Preorder, now: Date): Promise<DomainEvent[]> => {
  // Units already in the buyer's hands were made and paid for; the rest is refunded with them.
  if ((p.status !== 'BATCHED' && p.status !== 'IN_PRODUCTION') || p.batchId !== batch.batchId || (p.shippedQuantity ?? 0) > 0) return [];
  const { event, entry } = campaignFailedRefund(campaign, p, now, batch.batchId);
  return (await unwindPreorder(p, campaign, batch.batchId, 'refund', entry, [event], now)) === 'done' ? [event] : [];
};
