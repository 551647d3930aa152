import { fixBalanceDueBy, getCampaign, markBalancesCalled, markBalancesSettled, readDemand } from '#adapters/campaign-store.ts';
import { listWaiting } from '#adapters/batch-store.ts';
import { eventOf, forfeitEvent } from '#adapters/event-bus.ts';
import { publishCommitted } from '#adapters/outbox.ts';
import { callBalance, cancelPreorder, getPreorder, getPreorders } from '#adapters/preorder-store.ts';
import type { Campaign } from '#domain/campaign.ts';
import { noticeEntry } from '#domain/notices.ts';
import { awaitsBalance, balanceDueByFrom, balanceOf, balancesToCall, balanceWindowOver, isDepositCampaign } from '#domain/payment.ts';
import { stillHeld } from '#domain/pricing.ts';
import { localeOf, type Preorder } from '#domain/preorder.ts';
import { log } from '#shared/observability.ts';
import { flushNotifications } from '../notifications/flush.ts';
import { inParallel } from './cutting.ts';
import { PreorderListingBehindError } from './repricing.ts';

/**
 * A deposit campaign's balances (定金/尾款, domain/payment.ts), run by the
 * cutter once its demand is settled: first each deposit pre-order is told
 * its balance and its deadline (the call), then, once the deadline passed,
 * every pre-order still unpaid is cancelled with its deposit kept (the
 * forfeit), and the last cut may come. True when the forfeit ran: the
 * caller looks for that last cut.
 *
 * Both steps change each pre-order at most once (conditional writes), and
 * mark the campaign only once every unpaid pre-order was seen, which is
 * checked against the gates' `unpaid` units (a pre-order placed just before
 * close is listed a moment later): a crash or a second cutter half way repeats
 * nothing and misses no one.
 */
export const settleBalances = async (campaignId: string, now = new Date()): Promise<boolean> => {
  const campaign = await getCampaign(campaignId, true);
  if (!campaign || !isDepositCampaign(campaign) || campaign.status !== 'CLOSED') return false;
  if (balancesToCall(campaign)) {
    await callBalances(campaign, now);
    return false;
  }
  if (campaign.balancesCalledAt !== undefined && campaign.balancesSettledAt === undefined && balanceWindowOver(campaign, now)) {
    await forfeitUnpaid(campaign, now);
    return true;
  }
  return false;
};

/** The campaign's pre-orders whose balance is not paid, strongly read, and whether their units are all the gates count unpaid. */
const unpaidOf = async (campaign: Campaign): Promise<Preorder[]> => {
  const listed = await listWaiting(campaign, 'owing');
  const unpaid = (await getPreorders(listed.map((p) => p.preorderId))).filter(awaitsBalance);
  const demand = await readDemand(campaign, true);
  const units = unpaid.reduce((n, p) => n + p.quantity, 0);
  if (units < (demand.totals.awaitingBalance ?? 0)) throw new PreorderListingBehindError(campaign.campaignId);
  return unpaid;
};

const callBalances = async (read: Campaign, now: Date): Promise<void> => {
  const terms = read.payment;
  if (!terms) return;
  // The deadline is fixed once, before any buyer is told it: a second caller tells the same one.
  const campaign = await fixBalanceDueBy(read, balanceDueByFrom(terms, now), now);
  const dueBy = campaign.balanceDueBy;
  if (!dueBy) return;
  const toCall = (await unpaidOf(campaign)).filter((p) => p.balanceDue === undefined);
  const called = await inParallel(toCall, (p) => callOne(campaign, p, dueBy));
  await markBalancesCalled(campaign.campaignId, dueBy, new Date());
  log().info('balances called', { campaignId: campaign.campaignId, called: called.filter(Boolean).length, balanceDueBy: dueBy });
  await flushNotifications(toCall.filter((_, i) => called[i]).map((p) => p.preorderId));
};

/** One pre-order's balance, decided on it as read and written on condition it is unchanged (else read again); true when this call told it. */
const callOne = async (campaign: Campaign, read: Preorder, dueBy: string): Promise<boolean> => {
  for (let attempt = 0; attempt < 8; attempt++) {
    const p = attempt === 0 ? read : await getPreorder(read.preorderId, true);
    if (!p || !awaitsBalance(p) || p.balanceDue !== undefined) return false;
    const due = balanceOf(p, campaign.finalPrices);
    const now = new Date();
    const entry = noticeEntry(
      { at: now.toISOString(), status: 'ACCEPTED', step: 'balance-due' },
      'preorder.balance_due',
      { unitPrice: due.finalUnitPrice, dueBy, amount: due.balanceDue, currency: p.currency },
      localeOf(p),
    );
    const event = eventOf(
      'preorder.balance_due',
      {
        campaignId: p.campaignId,
        preorderId: p.preorderId,
        occurredAt: now.toISOString(),
        sku: p.sku,
        status: 'ACCEPTED',
        quantity: p.quantity,
        unitPrice: due.finalUnitPrice,
        balanceDue: due.balanceDue,
        balanceDueBy: dueBy,
        currency: p.currency,
        ...(p.paymentRef !== undefined && { paymentRef: p.paymentRef }),
      },
      p.preorderId,
    );
    if ((await callBalance(p, { ...due, balanceDueBy: dueBy }, entry, [event], now)) === 'done') {
      await publishCommitted([event]);
      return true;
    }
  }
  throw new Error(`pre-order ${read.preorderId} kept changing while its balance was called; the message will come back`);
};

/** Past the deadline: every pre-order still unpaid is cancelled, its deposit kept, told in the buyer's language; then the campaign is settled. */
const forfeitUnpaid = async (campaign: Campaign, now: Date): Promise<void> => {
  const dueBy = campaign.balanceDueBy ?? now.toISOString();
  for (let round = 0; round < 8; round++) {
    const unpaid = await unpaidOf(campaign);
    if (unpaid.length === 0) {
      await markBalancesSettled(campaign.campaignId, new Date());
      log().info('balance window over: the unpaid forfeited', { campaignId: campaign.campaignId });
      return;
    }
    const told = await inParallel(unpaid, async (p) => {
      const kept = stillHeld(p);
      const entry = noticeEntry({ at: now.toISOString(), status: 'CANCELLED' }, 'preorder.forfeited', { dueBy, amount: kept, currency: p.currency }, localeOf(p));
      const event = forfeitEvent(p, now, kept, 'balance-unpaid');
      if (!(await cancelPreorder(p, [entry], campaign, now, [event], 'forfeit'))) return undefined;
      await publishCommitted([event]);
      return p.preorderId;
    });
    await flushNotifications(told.filter((id): id is string => id !== undefined));
    // Round again: one that changed as it was cancelled (its refunds, a payment landing just before the deadline) is read again.
  }
  throw new Error(`the unpaid pre-orders of ${campaign.campaignId} kept changing while their deposits were forfeited; the message will come back`);
};
