import { eventOf } from '#adapters/event-bus.ts';
import { publishCommitted } from '#adapters/outbox.ts';
import { getPreorder, recordBalancePaid } from '#adapters/preorder-store.ts';
import { waitingOldestFirst } from '#adapters/batch-store.ts';
import { decodeCursor, encodeCursor } from '#adapters/dynamo.ts';
import { BalanceNotPayableError, CampaignNotFoundError, InvalidInputError, OverloadedError, PreorderNotFoundError } from '#domain/errors.ts';
import { noticeEntry } from '#domain/notices.ts';
import { awaitsBalance, balanceWindowOver, paidOf } from '#domain/payment.ts';
import { localeOf, type Preorder } from '#domain/preorder.ts';
import type { PayBalanceBody } from '#contracts/payments.ts';
import { log } from '#shared/observability.ts';
import type { Principal } from '#shared/principal.ts';
import { flushNotifications } from '../notifications/flush.ts';
import { cachedCampaign } from '../preorders/campaign-cache.ts';

export interface BalancePaid {
  readonly preorderId: string;
  readonly paymentRef: string;
  readonly amount: number;
  readonly paidAmount: number;
  readonly balancePaidAt: string;
}

const paid = (p: Preorder): BalancePaid => ({
  preorderId: p.preorderId,
  paymentRef: p.paymentRef ?? '',
  amount: p.balanceDue ?? 0,
  paidAmount: paidOf(p),
  balancePaidAt: p.balancePaidAt ?? '',
});

/**
 * The platform reports a deposit pre-order's balance paid (domain/payment.ts).
 * Recorded once, in one transaction: what was paid, the buyer's timeline
 * ("paid in full", told at once), the pre-order moved into the waiting line and
 * its units out of the gate's `unpaid`, and `preorder.balance_paid`, which asks
 * the cutter to look (a lot may be waiting now).
 *
 * The same report again: 200 with what was recorded, nothing written. Anything
 * c2m cannot record is refused naming the field, nothing written: an unknown
 * pre-order (404), one that takes no balance, another payment's reference, an
 * amount that is not the balance due, a balance not due yet or past its
 * deadline, or a pre-order no longer waiting (409).
 */
export const payBalance = async (platform: Principal, body: PayBalanceBody): Promise<BalancePaid> => {
  for (let round = 0; round < 8; round++) {
    const p = await getPreorder(body.preorderId, true);
    if (!p) throw new PreorderNotFoundError(body.preorderId);
    const refuse = (message: string, path: string, code: string, params?: Record<string, string | number>) =>
      new BalanceNotPayableError(message, { path, code, message, ...(params && { params }) });
    if (p.depositAmount === undefined) throw refuse('This pre-order was paid in full when placed: it has no balance', 'preorderId', 'no_balance');
    if (p.paymentRef !== body.paymentRef) throw refuse("paymentRef is not this pre-order's payment", 'paymentRef', 'payment_ref_mismatch');
    if (p.balancePaidAt !== undefined) {
      if (body.amount !== p.balanceDue) throw refuse(`The balance was paid already, for ${p.balanceDue}`, 'amount', 'balance_amount_mismatch', { amount: p.balanceDue ?? 0 });
      return paid(p);
    }
    const now = new Date();
    // Too late, whether or not the cutter has cancelled it yet: one answer, and the platform pays the money back.
    if (p.forfeitedAmount !== undefined || (p.balanceDueBy !== undefined && Date.parse(p.balanceDueBy) <= now.getTime())) {
      const message = p.balanceDueBy ? `The balance was due by ${p.balanceDueBy}: the pre-order is cancelled, return the payment` : 'The pre-order was cancelled before its balance was paid: return the payment';
      throw refuse(message, 'preorderId', 'balance_window_closed', p.balanceDueBy ? { balanceDueBy: p.balanceDueBy } : undefined);
    }
    if (p.status !== 'ACCEPTED') throw refuse(`The pre-order is ${p.status.toLowerCase()}: no balance is due`, 'preorderId', 'balance_not_due');
    if (p.balanceDue === undefined || p.balanceDueBy === undefined) throw refuse('The sale has not closed yet: no balance is due', 'preorderId', 'balance_not_due');
    if (body.amount !== p.balanceDue) throw refuse(`amount must be ${p.balanceDue}, the balance due in minor units`, 'amount', 'balance_amount_mismatch', { amount: p.balanceDue });
    const campaign = await cachedCampaign(p.campaignId);
    if (!campaign) throw new CampaignNotFoundError(p.campaignId);
    const entry = noticeEntry({ at: now.toISOString(), status: 'ACCEPTED', step: 'balance-paid' }, 'preorder.balance_paid', { amount: p.balanceDue, currency: p.currency }, localeOf(p));
    const event = eventOf(
      'preorder.balance_paid',
      { campaignId: p.campaignId, preorderId: p.preorderId, occurredAt: now.toISOString(), sku: p.sku, quantity: p.quantity, status: 'ACCEPTED', amount: p.balanceDue, currency: p.currency },
      p.preorderId,
    );
    // 'stale': paid by a racing report (the next read answers as for a repeat), or cancelled, or past due meanwhile.
    if ((await recordBalancePaid(p, campaign, entry, [event], now)) === 'stale') continue;
    log().info('balance paid', { preorderId: p.preorderId, campaignId: p.campaignId, amount: p.balanceDue, platform: platform.id });
    await publishCommitted([event]);
    try {
      await flushNotifications([p.preorderId]);
    } catch (err) {
      // Recorded is recorded: the next flush of the pre-order tells it.
      log().warn('balance paid, not told yet', { preorderId: p.preorderId, error: err as Error });
    }
    return paid({ ...p, balancePaidAt: now.toISOString(), paidAmount: paidOf(p) + p.balanceDue });
  }
  throw new OverloadedError();
};

/** Where a page of the list ended: a sort key of the waiting index (`<createdAt>#<preorderId>`). */
const owingSortKey = /^\d{4}-\d{2}-\d{2}T[^#]{1,40}#po_[0-9a-z]{24}$/;

/**
 * The balances of a deposit campaign that are due now, oldest order first:
 * what the platform collects, and reconciles against should a
 * `preorder.balance_due` have gone astray. Read from the campaign's owing
 * partitions through the cutter's merge of the waiting index (eventually
 * consistent: a balance paid a moment ago may still show, and paying it again
 * answers as for a repeat). A pre-order past its deadline (a payment would be
 * refused) is left out, so a page may be short and still have a cursor.
 */
export const listBalancesDue = async (campaignId: string, limit: number, cursor: string | undefined, now = new Date()) => {
  const start = decodeCursor(cursor);
  if (start === 'invalid' || (start && !(typeof start.after === 'string' && owingSortKey.test(start.after)))) {
    throw new InvalidInputError('The cursor is not one this API gave out', [{ path: 'cursor', message: 'invalid cursor' }]);
  }
  const campaign = await cachedCampaign(campaignId);
  if (!campaign) throw new CampaignNotFoundError(campaignId);
  // Nothing is due before the balances are called, nor once their window is over: no need to read who owes.
  const windowOpen = campaign.balancesCalledAt !== undefined && campaign.balancesSettledAt === undefined && !balanceWindowOver(campaign, now);
  if (!windowOpen) return { items: [] };
  // One past the page says whether there is another.
  const read: Preorder[] = [];
  for await (const p of waitingOldestFirst(campaign, limit + 1, { line: 'owing', ...(start && { after: String(start.after) }) })) {
    read.push(p);
    if (read.length > limit) break;
  }
  const page = read.slice(0, limit);
  const last = page.at(-1);
  const due = page.filter((p) => awaitsBalance(p) && p.balanceDue !== undefined && p.balanceDueBy !== undefined && Date.parse(p.balanceDueBy) > now.getTime() && p.paymentRef !== undefined);
  return {
    items: due.map((p) => ({
      preorderId: p.preorderId,
      campaignId: p.campaignId,
      paymentRef: p.paymentRef ?? '',
      quantity: p.quantity,
      depositAmount: p.depositAmount ?? 0,
      balanceDue: p.balanceDue ?? 0,
      balanceDueBy: p.balanceDueBy ?? '',
      currency: p.currency,
    })),
    ...(read.length > limit && last && { nextCursor: encodeCursor({ after: `${last.createdAt}#${last.preorderId}` }) }),
  };
};
