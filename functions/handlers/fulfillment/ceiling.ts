import { getCampaign } from '#adapters/campaign-store.ts';
import { productionOf, saveBatch, type Batch } from '#adapters/batch-store.ts';
import { eventOf } from '#adapters/event-bus.ts';
import { publishCommitted } from '#adapters/outbox.ts';
import { getPreorders } from '#adapters/preorder-store.ts';
import { ceilingOf } from '#domain/fulfillment.ts';
import { closeShort } from '#domain/production.ts';
import { log } from '#shared/observability.ts';

/** What the factory reads as the batch's close-short reason when the clock took the rest back. */
export const ceilingReason = 'not shipped by the latest date promised to its buyers: the rest was refunded';

/**
 * The earliest ceiling among the batch's pre-orders that still wait for units:
 * the date promised at order time plus the campaign's `maxDelayDays`.
 * Undefined when nothing waits.
 */
export const batchCeiling = async (batch: Batch, maxDelayDays: number): Promise<string | undefined> => {
  const waiting = (await getPreorders(batch.preorderIds)).filter(
    (p) => p.batchId === batch.batchId && (p.status === 'BATCHED' || p.status === 'IN_PRODUCTION') && (p.shippedQuantity ?? 0) + (p.refundedUnits ?? 0) < p.quantity,
  );
  const ceilings = waiting.map((p) => ceilingOf({ originalPromisedShipBy: p.firstPromisedShipBy ?? p.promisedShipBy }, maxDelayDays));
  return ceilings.sort()[0];
};

/**
 * A broken promise pays out by itself: past the ceiling, the batch is closed
 * short by c2m (COMPLETED, `withdrawnAt` set, its lines shrunk to what
 * shipped), the factory hears `batch.units_withdrawn` and can ship no more of
 * it, and `batch.completed` sends the fulfillment consumer to refund every unit
 * that did not ship, each once, as for a short batch (refundShortfall).
 *
 * The whole batch goes at its earliest ceiling: a campaign's pre-orders are
 * promised its close plus promisedShipDays when placed, the same date unless
 * the anchor moved the close later while open, and then the earliest buyers'
 * date is the one no one may wait past.
 */
export const refundAtCeiling = async (batch: Batch, now: Date): Promise<boolean> => {
  const state = productionOf(batch);
  if (state.status !== 'ACCEPTED' && state.status !== 'IN_PRODUCTION' && state.status !== 'PARTIALLY_SHIPPED') return false;
  const closed = closeShort(state, ceilingReason, now);
  const withdrawn = closed.lines.map((l) => ({ sku: l.sku, quantity: l.quantity - l.shipped })).filter((l) => l.quantity > 0);
  const next = {
    ...closed,
    withdrawnAt: now.toISOString(),
    lines: closed.lines.map((l) => ({ ...l, quantity: l.shipped })),
    units: closed.shipped,
  };
  const common = { campaignId: batch.campaignId, batchId: batch.batchId, factoryId: batch.factoryId, occurredAt: now.toISOString() };
  const events = [
    eventOf('batch.units_withdrawn', { ...common, lines: withdrawn, quantity: withdrawn.reduce((n, l) => n + l.quantity, 0), reason: 'ceiling' }, `${batch.batchId}:ceiling`),
    eventOf('batch.completed', { ...common, status: 'COMPLETED', shipped: next.shipped, quantity: next.units, reason: ceilingReason }, batch.batchId),
  ];
  if (!(await saveBatch(batch, next, { events, now }))) return false;
  await publishCommitted(events);
  log().warn('batch past its buyers’ ceiling: unshipped units withdrawn and refunded', { batchId: batch.batchId, factoryId: batch.factoryId, withdrawn });
  return true;
};

/** The campaign's ceiling in days, for a batch the clock looks at. */
export const maxDelayDaysOf = async (batch: Batch): Promise<number | undefined> => (await getCampaign(batch.campaignId))?.maxDelayDays;
