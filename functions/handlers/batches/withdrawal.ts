import { getBatch, listBatchesForCampaign, markUnwound, productionOf, saveBatch } from '#adapters/batch-store.ts';
import { eventOf } from '#adapters/event-bus.ts';
import { publishCommitted } from '#adapters/outbox.ts';
import type { Campaign } from '#domain/campaign.ts';
import { withdraw } from '#domain/production.ts';
import { log } from '#shared/observability.ts';
import { ceilingReason } from '../fulfillment/ceiling.ts';
import { refundShortfall } from '../fulfillment/use-cases.ts';

/**
 * c2m takes a batch back from its factory: it becomes WITHDRAWN (the factory
 * can make and ship no more of it, and hears so by `batch.units_withdrawn`),
 * and every unit of it that has not shipped is refunded to its buyer, whatever
 * state the pre-order reached: in full when nothing of it shipped, the rest
 * when part did (the short-batch refund, refundShortfall, each pre-order once).
 *
 * Two reasons:
 * - all-or-nothing after the fact: the campaign failed. Cuts wait for the
 *   minimum and the first batch takes the whole minimum, so a campaign only
 *   gets here with batches when a factory's own failures (a rejection with no
 *   backup, cancels after its delay) took it below its minimum before it
 *   closed, or a cut raced the close;
 * - the ceiling passed while the batch was still waiting for a factory to
 *   accept it (one accepted is closed short at the ceiling instead: ceiling.ts).
 *
 * Safe to repeat and to crash half way: the withdrawal is the batch's
 * compare-and-set, each refund is conditional on the pre-order as read, and a
 * withdrawn batch is marked unwound only after its refunds.
 */
export type WithdrawalReason = 'campaign-failed' | 'ceiling';

export const withdrawFailedCampaignBatches = async (campaign: Campaign, alsoBatchIds: readonly string[] = []): Promise<void> => {
  const listed = await listBatchesForCampaign(campaign.campaignId);
  const ids = [...new Set([...listed.map((b) => b.batchId), ...alsoBatchIds])];
  for (const batchId of ids) await withdrawBatch(batchId, 'campaign-failed');
};

export const withdrawBatch = async (batchId: string, reason: WithdrawalReason): Promise<void> => {
  for (let attempt = 0; attempt < 10; attempt++) {
    const batch = await getBatch(batchId);
    if (!batch || batch.status === 'CUTTING' || batch.status === 'VOID' || batch.unwoundAt) return;
    if (batch.status === 'WITHDRAWN') {
      await refundShortfall(batchId);
      await markUnwound(batchId, new Date());
      return;
    }
    const withdrawn = withdraw(productionOf(batch), new Date());
    if (!withdrawn) return; // rejected (its own unwind refunds it) or completed
    const next = reason === 'ceiling' ? { ...withdrawn, closedShortReason: ceilingReason } : withdrawn;
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
        reason,
      },
      reason === 'ceiling' ? `${batchId}:ceiling` : batchId,
    );
    if (await saveBatch(batch, next, { events: [event], now })) {
      await publishCommitted([event]);
      log().warn(reason === 'ceiling' ? 'batch withdrawn: its buyers’ ceiling passed before a factory accepted it' : 'batch withdrawn: its campaign failed', {
        batchId,
        campaignId: batch.campaignId,
        factoryId: batch.factoryId,
      });
    }
  }
  throw new Error(`batch ${batchId} kept changing while it was being withdrawn; the queue will bring this back`);
};
