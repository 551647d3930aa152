import { getFactory } from '#adapters/factory-store.ts';
import { isActive } from '#domain/factories.ts';
import { getCampaign, switchFactory } from '#adapters/campaign-store.ts';
import { getBatch, markUnwound, saveBatch, productionOf, unwindPreorder, type Batch } from '#adapters/batch-store.ts';
import { getPreorder, getPreorders } from '#adapters/preorder-store.ts';
import { eventOf, refundedInFull, type DomainEvent } from '#adapters/event-bus.ts';
import { publishCommitted } from '#adapters/outbox.ts';
import { requestUnwind } from '#adapters/queues.ts';
import type { Campaign } from '#domain/campaign.ts';
import { localeOf, type Preorder } from '#domain/preorder.ts';
import { stillHeld } from '#domain/pricing.ts';
import { noticeEntry } from '#domain/notices.ts';
import { expire, markOverdue, type ProductionState } from '#domain/production.ts';
import { overdueGraceHours } from '#shared/config.ts';
import { log } from '#shared/observability.ts';
import { inParallel, settleCampaign } from './cutting.ts';
import { withdrawBatch } from './withdrawal.ts';
import { flushNotifications } from '../notifications/flush.ts';

/**
 * Where a rejected batch's pre-orders go: to the campaign's backup factory when
 * it has one and this batch was not already the backup's; otherwise back to
 * their buyers as refunds.
 */
export const afterRejection = (campaign: Pick<Campaign, 'backupFactoryId'>, batch: Pick<Batch, 'factoryId'>) =>
  campaign.backupFactoryId !== undefined && campaign.backupFactoryId !== batch.factoryId
    ? ({ next: 'backup-factory', nextFactoryId: campaign.backupFactoryId } as const)
    : ({ next: 'refund' } as const);

/**
 * Rejects a batch (the factory said no, or let it expire): REJECTED with its
 * `batch.rejected` event in one transaction, then the unwind is asked for. If
 * that message is lost the clock asks again (a rejected batch stays on the
 * clock index until it is unwound).
 */
export const rejectBatch = async (
  batch: Batch,
  decided: ProductionState,
  campaign: Campaign,
  now: Date,
): Promise<boolean> => {
  const route = afterRejection(campaign, batch);
  const event = eventOf(
    'batch.rejected',
    {
      campaignId: batch.campaignId,
      batchId: batch.batchId,
      factoryId: batch.factoryId,
      occurredAt: now.toISOString(),
      ...(decided.rejectedReason !== undefined && { reason: decided.rejectedReason }),
      ...route,
    },
    batch.batchId,
  );
  const saved = await saveBatch(batch, { ...decided, ...route }, { events: [event], now });
  if (!saved) return false;
  await publishCommitted([event]);
  await requestUnwind(batch.batchId).catch((err: unknown) =>
    log().warn('unwind not requested; the clock will ask again', { batchId: batch.batchId, error: err as Error }),
  );
  return true;
};

/**
 * Moves each pre-order of a rejected batch on, once: back to waiting (and the
 * campaign to its backup factory, whose next cut takes them, oldest first) or
 * refunded in full with a timeline entry and `preorder.refunded`. Safe to repeat
 * and to crash half way: each step is conditional on the pre-order still being
 * in this batch.
 */
export const unwindBatch = async (batchId: string): Promise<void> => {
  const batch = await getBatch(batchId);
  if (!batch || batch.status !== 'REJECTED' || batch.unwoundAt) return;
  const campaign = await getCampaign(batch.campaignId, true);
  if (!campaign) throw new Error(`campaign ${batch.campaignId} of batch ${batchId} is missing`);
  const now = new Date();
  // The backup takes the batch only while an operator still lets it act for c2m: a revoked backup means refunds.
  const toBackup =
    batch.next === 'backup-factory' && batch.nextFactoryId !== undefined && isActive(await getFactory(batch.nextFactoryId, true));
  if (toBackup) await switchFactory(campaign.campaignId, batch.factoryId, batch.nextFactoryId!, now);

  // The factory's reason stays with the batch (its own view); a buyer is told a fixed phrase, never what a factory typed.
  const preorders = await getPreorders(batch.preorderIds);
  const events = await inParallel(preorders, async (p): Promise<DomainEvent[]> => {
    if ((p.status !== 'BATCHED' && p.status !== 'IN_PRODUCTION') || p.batchId !== batchId) return [];
    // A closed campaign's variant that missed its minimum is never cut again: its buyers cannot wait for the backup.
    const neverCutAgain = campaign.status === 'CLOSED' && (campaign.variantsMissed ?? []).includes(p.sku);
    if (toBackup && !neverCutAgain) {
      const entry = noticeEntry({ at: now.toISOString(), status: 'ACCEPTED' }, 'preorder.moved_to_backup_factory', {}, localeOf(p));
      await unwindPreorder(p, campaign, batchId, 'waiting', entry, [], now);
      return [];
    }
    return refund(p, campaign, batch, now);
  });
  await publishCommitted(events.flat());
  await markUnwound(batchId, now);
  await flushNotifications(batch.preorderIds);
  log().info('rejected batch unwound', { batchId, campaignId: batch.campaignId, to: toBackup ? batch.nextFactoryId : 'refunds', preorders: preorders.length });
  if (toBackup) await settleCampaign(campaign.campaignId);
};

/** Refunds what the buyer still holds; a pre-order that changed since it was read (a price drop landed) is read again. */
const refund = async (read: Preorder, campaign: Campaign, batch: Batch, now: Date): Promise<DomainEvent[]> => {
  for (let attempt = 0, p: Preorder | undefined = read; attempt < 8; attempt++, p = await getPreorder(read.preorderId, true)) {
    if (!p || (p.status !== 'BATCHED' && p.status !== 'IN_PRODUCTION') || p.batchId !== batch.batchId) return [];
    const event = refundedInFull(p, 'batch-rejected', now, batch.batchId);
    const entry = noticeEntry(
      { at: now.toISOString(), status: 'REFUNDED' },
      'preorder.refunded_factory_declined',
      { amount: stillHeld(p), currency: p.currency },
      localeOf(p),
    );
    if ((await unwindPreorder(p, campaign, batch.batchId, 'refund', entry, [event], now)) === 'done') return [event];
  }
  throw new Error(`pre-order ${read.preorderId} kept changing while its rejected batch was unwound; the message will come back`);
};

/**
 * The clock's look at a batch that came due: past `acceptBy` it is escalated
 * (`batch.overdue`, once); past the grace period it is rejected; a rejected one
 * not yet unwound is unwound again.
 */
export const escalateBatch = async (batchId: string, now: Date): Promise<void> => {
  for (let attempt = 0; attempt < 5; attempt++) {
    const batch = await getBatch(batchId);
    if (!batch) return;
    if (batch.status === 'REJECTED') {
      if (!batch.unwoundAt) await requestUnwind(batchId);
      return;
    }
    if (batch.status !== 'RELEASED') return;
    // Still waiting for a factory at its buyers' ceiling: taken back and refunded, not escalated again.
    if (batch.ceilingAt !== undefined && Date.parse(batch.ceilingAt) <= now.getTime()) return withdrawBatch(batchId, 'ceiling');
    const state = productionOf(batch);
    const expired = expire(state, now);
    if (expired) {
      const campaign = await getCampaign(batch.campaignId, true);
      if (!campaign) return;
      if (await rejectBatch(batch, expired, campaign, now)) {
        log().warn('batch expired unaccepted', { batchId, factoryId: batch.factoryId });
        return;
      }
      continue;
    }
    const overdue = markOverdue(state, now, overdueGraceHours());
    if (!overdue) return;
    const event = eventOf(
      'batch.overdue',
      {
        campaignId: batch.campaignId,
        batchId,
        factoryId: batch.factoryId,
        occurredAt: now.toISOString(),
        acceptBy: state.acceptBy,
        ...(overdue.escalateAt !== undefined && { reason: `not accepted by ${state.acceptBy}; rejected at ${overdue.escalateAt} unless accepted first` }),
      },
      batchId,
    );
    if (await saveBatch(batch, overdue, { events: [event], now })) {
      await publishCommitted([event]);
      log().warn('batch overdue', { batchId, factoryId: batch.factoryId, escalateAt: overdue.escalateAt });
      return;
    }
  }
};
