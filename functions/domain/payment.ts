import type { Campaign, PaymentTerms } from './campaign.ts';
import type { Preorder } from './preorder.ts';
import { demandSettled } from './batching.ts';

/**
 * Deposit and balance (定金/尾款, issue 16, decision 40): pure, no I/O.
 *
 * In a deposit campaign a buyer pays `deposit` a unit when they order (the
 * platform gives the pre-order its `paymentRef`). The deposit is the buyer's
 * commitment: their units count in demand, take room under the cap and help
 * reach the minimum and the tiers, but they are not made until the balance is
 * paid. When the sale's demand is settled (the close, or the end of the switch
 * window), the price is fixed (the tier reached, less `depositDiscount` a unit:
 * 付定金立减) and every deposit pre-order gets `balanceDue` (that price on every
 * unit, less the deposit) and `balanceDueBy`. The platform records each balance
 * paid (POST /v1/payments/balances); only then does the pre-order join the
 * waiting line, and lots are cut as usual; the last cut comes at `balanceDueBy`.
 *
 * Unpaid at `balanceDueBy`, or cancelled by the buyer before paying, the
 * pre-order is cancelled and the deposit forfeited: the buyer walked away.
 * When the fault is the seller's (the campaign failed, the variant missed its
 * minimum, the ceiling passed) whatever was paid is refunded, as for any
 * pre-order. Money stays conserved per pre-order:
 *   paid − refunded = units kept × finalUnitPrice + forfeited.
 */

export const isDepositCampaign = (c: Pick<Campaign, 'payment'>): boolean => c.payment?.mode === 'deposit';

/** What the buyer has paid for the pre-order: its deposit, then the balance too; a pre-order paid in full paid `amount`. */
export const paidOf = (p: Pick<Preorder, 'amount' | 'paidAmount'>): number => p.paidAmount ?? p.amount;

/** A deposit pre-order whose balance is not paid: not in the waiting line, not made. */
export const awaitsBalance = (p: Pick<Preorder, 'depositAmount' | 'balancePaidAt' | 'status'>): boolean =>
  p.depositAmount !== undefined && p.balancePaidAt === undefined && p.status === 'ACCEPTED';

/**
 * The price a unit of a deposit pre-order finally costs, and the balance
 * that leaves: the variant's price at close (never above what the buyer
 * ordered at: one who switched from a cheaper variant keeps their price),
 * less the deposit discount, on every unit, less the deposit paid.
 */
export const balanceOf = (
  p: Pick<Preorder, 'sku' | 'quantity' | 'unitPrice' | 'depositAmount' | 'depositDiscount'>,
  finalPrices: Readonly<Record<string, number>> | undefined,
): { readonly finalUnitPrice: number; readonly balanceDue: number } => {
  const listed = Math.min(p.unitPrice, finalPrices?.[p.sku] ?? p.unitPrice);
  const finalUnitPrice = listed - (p.depositDiscount ?? 0);
  return { finalUnitPrice, balanceDue: finalUnitPrice * p.quantity - (p.depositAmount ?? 0) };
};

/** When balances called at `calledAt` are due: the campaign's balance window later. */
export const balanceDueByFrom = (terms: PaymentTerms, calledAt: Date): string =>
  new Date(calledAt.getTime() + (terms.balanceWindowHours ?? 0) * 3600_000).toISOString();

/**
 * Are the balances of a closed deposit campaign to be called now? Its demand
 * is settled (closed, and nobody may still switch variant) and they have not
 * been called yet.
 */
export const balancesToCall = (c: Campaign): boolean => demandSettled(c) && isDepositCampaign(c) && c.balancesCalledAt === undefined;

/** Has the balance window of a called deposit campaign ended (the unpaid are forfeited, the last cut is due)? */
export const balanceWindowOver = (c: Pick<Campaign, 'balanceDueBy'>, now: Date): boolean =>
  c.balanceDueBy !== undefined && Date.parse(c.balanceDueBy) <= now.getTime();

/**
 * Is a closed campaign still waiting for balances (so its cuts are lot and
 * max-wait cuts, not the final one)? A deposit campaign until its balances
 * are called and then until their window ends and the unpaid are forfeited.
 */
export const awaitingBalances = (c: Campaign): boolean => isDepositCampaign(c) && c.status === 'CLOSED' && c.balancesSettledAt === undefined;

/**
 * Are the campaign's minimums settled while its balances are due? A deposit
 * campaign that closed, whose demand is settled (nobody may switch variant any
 * more) and whose balances are not settled: it met its minimums at close on
 * its buyers' commitments, and cannot fail any more for want of balances
 * (decision 40). So a cut in the window needs not carry a whole minimum, and
 * is not voided for falling short of one: whoever paid is made as lots fill or
 * as they wait too long, and the last cut at the deadline makes the rest.
 */
export const minimumsSettledAwaitingBalances = (c: Campaign): boolean => awaitingBalances(c) && demandSettled(c);
