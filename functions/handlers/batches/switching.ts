import { listWaiting } from '#adapters/batch-store.ts';
import { refundedInFull, type DomainEvent } from '#adapters/event-bus.ts';
import { publishCommitted } from '#adapters/outbox.ts';
import { cancelPreorder, getPreorders, offerSwitch } from '#adapters/preorder-store.ts';
import type { Campaign } from '#domain/campaign.ts';
import { dayOf, noticeEntry } from '#domain/notices.ts';
import { localeOf, type Preorder } from '#domain/preorder.ts';
import { stillHeld } from '#domain/pricing.ts';
import { isDepositCampaign } from '#domain/payment.ts';
import { log } from '#shared/observability.ts';
import { flushNotifications } from '../notifications/flush.ts';
import { inParallel } from './cutting.ts';

/**
 * Per-variant minimums (the dye-lot case), after a campaign closed: the buyers
 * of a variant below its own minimum are told they may switch until `switchBy`
 * (POST /v1/preorders/{id}/switch), keeping their place in line; whoever has
 * not switched by then is refunded in full. Both walk the variant's waiting
 * pre-orders and change each at most once (conditional writes), so a crash or
 * a second cutter half way repeats nothing.
 */
const waitingOnMissedVariants = async (campaign: Campaign): Promise<Preorder[]> => {
  const missed = new Set(campaign.variantsMissed ?? []);
  // In a deposit campaign, before balances are called, everyone is unpaid: listed on the owing side of the index.
  const lines = await Promise.all([listWaiting(campaign), ...(isDepositCampaign(campaign) ? [listWaiting(campaign, 'owing')] : [])]);
  const listed = lines.flat().filter((p) => missed.has(p.sku));
  return (await getPreorders(listed.map((p) => p.preorderId))).filter((p) => p.status === 'ACCEPTED' && missed.has(p.sku));
};

export const offerSwitches = async (campaign: Campaign): Promise<void> => {
  const switchBy = campaign.switchBy;
  if (!switchBy) return;
  const now = new Date();
  const toTell = (await waitingOnMissedVariants(campaign)).filter((p) => p.switchBy === undefined);
  if (toTell.length === 0) return;
  const told = await inParallel(toTell, (p) =>
    offerSwitch(
      p,
      switchBy,
      noticeEntry({ at: now.toISOString(), status: 'ACCEPTED', step: 'switch-offered' }, 'preorder.variant_missed_minimum', { sku: p.sku, switchBy: dayOf(switchBy) }, localeOf(p)),
      now,
    ),
  );
  log().info('buyers of variants below their minimum offered a switch', { campaignId: campaign.campaignId, told: told.filter(Boolean).length, switchBy });
  await flushNotifications(toTell.map((p) => p.preorderId));
};

export const refundMissedVariants = async (campaign: Campaign): Promise<void> => {
  const now = new Date();
  const left = await waitingOnMissedVariants(campaign);
  if (left.length === 0) return;
  const events = await inParallel(left, async (p): Promise<DomainEvent[]> => {
    const event = refundedInFull(p, 'variant-below-minimum', now);
    const entry = noticeEntry({ at: now.toISOString(), status: 'REFUNDED' }, 'preorder.refunded_variant_missed', { sku: p.sku, amount: stillHeld(p), currency: p.currency }, localeOf(p));
    return (await cancelPreorder(p, [entry], campaign, now, [event])) ? [event] : [];
  });
  await publishCommitted(events.flat());
  log().info('unswitched pre-orders of variants below their minimum refunded', { campaignId: campaign.campaignId, refunded: events.flat().length });
};
