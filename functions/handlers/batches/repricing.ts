import { getCampaign, markRepriced, readDemand } from '#adapters/campaign-store.ts';
import { eventOf } from '#adapters/event-bus.ts';
import { publishCommitted } from '#adapters/outbox.ts';
import { applyPriceDrop, forEachPreorderOfCampaign, getPreorder } from '#adapters/preorder-store.ts';
import type { Campaign } from '#domain/campaign.ts';
import { demandSettled } from '#domain/batching.ts';
import { noticeEntry } from '#domain/notices.ts';
import { priceDropOf } from '#domain/pricing.ts';
import { isDepositCampaign } from '#domain/payment.ts';
import { localeOf, type Preorder } from '#domain/preorder.ts';
import { log } from '#shared/observability.ts';
import { flushNotifications } from '../notifications/flush.ts';
import { inParallel } from './cutting.ts';

export class PreorderListingBehindError extends Error {
  constructor(campaignId: string) {
    super(`The pre-orders listed for ${campaignId} do not add up to its ordered units yet; the queue will bring this back`);
  }
}

/** Are the campaign's prices final and not yet applied? Closed (not failed), and no buyer may still switch variant. */
export const repriceDue = (c: Campaign): boolean =>
  demandSettled(c) &&
  // A deposit campaign's buyers paid only their deposit: the final price lowers their balance instead (batches/balances.ts).
  !isDepositCampaign(c) &&
  c.finalPrices !== undefined &&
  c.repricedAt === undefined;

/**
 * The price drop (tier pricing, decision 39): once a closed campaign's demand
 * is settled (at close, or when its switch window ended), every pre-order that
 * paid more a unit than its variant's final price is refunded the difference
 * on each unit it keeps, once, with a timeline entry (the buyer is told) and a
 * `preorder.refunded` (reason price-drop), whose refund the platform is then
 * asked to pay (refund.requested) and confirms like any other.
 *
 * Run by the cutter; safe to repeat and to run twice at once: each drop is
 * conditional on none yet (applyPriceDrop), and the campaign is marked
 * repriced only after every pre-order was seen, which is checked against the
 * gates (a pre-order accepted just before close is listed a moment later).
 */
export const repriceCampaign = async (campaignId: string): Promise<void> => {
  const campaign = await getCampaign(campaignId, true);
  if (!campaign || !repriceDue(campaign)) return;
  const demand = await readDemand(campaign, true);
  let listedUnits = 0;
  const told: string[] = [];
  await forEachPreorderOfCampaign(campaign, async (page) => {
    listedUnits += page.reduce((n, p) => n + p.quantity, 0);
    const owed = page.filter((p) => priceDropOf(p, campaign.finalPrices) !== undefined);
    const done = await inParallel(owed, (p) => dropPrice(campaign, p));
    told.push(...owed.filter((_, i) => done[i]).map((p) => p.preorderId));
  });
  if (listedUnits < demand.totals.ordered) throw new PreorderListingBehindError(campaignId);
  await markRepriced(campaignId, new Date());
  log().info('campaign repriced at its final tier prices', { campaignId, finalPrices: campaign.finalPrices, dropped: told.length });
  await flushNotifications(told);
};

/** One pre-order's drop, decided on the pre-order as read and written on condition it is unchanged (else read again, strongly); true when this call applied it. */
const dropPrice = async (campaign: Campaign, read: Preorder): Promise<boolean> => {
  for (let attempt = 0; attempt < 8; attempt++) {
    const p = attempt === 0 ? read : await getPreorder(read.preorderId, true);
    const drop = p && priceDropOf(p, campaign.finalPrices);
    if (!p || !drop) return false;
    const now = new Date();
    const entry = noticeEntry(
      { at: now.toISOString(), status: p.status, step: 'price-dropped' },
      'preorder.price_dropped',
      { units: drop.units, unitPrice: drop.finalUnitPrice, amount: drop.amount, currency: p.currency },
      localeOf(p),
    );
    const event = eventOf(
      'preorder.refunded',
      {
        campaignId: p.campaignId,
        preorderId: p.preorderId,
        ...(p.batchId !== undefined && { batchId: p.batchId }),
        occurredAt: now.toISOString(),
        status: p.status,
        sku: p.sku,
        quantity: drop.units,
        refundedAmount: drop.amount,
        reason: 'price-drop',
      },
      `${p.preorderId}:price-drop`,
    );
    if ((await applyPriceDrop(p, drop, entry, [event], now)) === 'done') {
      await publishCommitted([event]);
      return true;
    }
  }
  throw new Error(`pre-order ${read.preorderId} kept changing while its price drop was applied; the message will come back`);
};
