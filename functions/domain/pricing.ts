import type { Campaign, Demand, Variant } from './campaign.ts';
import { refundedUnitsOf, type Preorder } from './preorder.ts';

/**
 * Tier pricing (阶梯价, issue 16, decision 39): pure, no I/O.
 *
 * A variant may list tiers: once its net sold units (ordered less cancelled)
 * reach a tier's `minUnits`, its unit price is that tier's. Buyers pay the
 * list price when they order; when the campaign closes the price its units
 * reached is fixed (`Campaign.finalPrices`), and every buyer who paid more is
 * refunded the difference on each unit they keep, once (the price drop).
 * From then on the pre-order costs `finalUnitPrice` a unit, so a later refund
 * of a unit (a short batch, the ceiling) pays that back, and a refund of the
 * whole pays back what is still held. Money stays conserved: for every
 * pre-order, paid − refunded = units kept × the price it finally costs.
 */

/** The unit price the variant's net sold units reach: the last tier reached, else the list price. */
export const tierPrice = (v: Pick<Variant, 'unitPrice' | 'priceTiers'>, soldUnits: number): number =>
  (v.priceTiers ?? []).reduce((price, t) => (soldUnits >= t.minUnits && t.unitPrice < price ? t.unitPrice : price), v.unitPrice);

/** The next tier the variant's sold units have not reached, and how many more units unlock it. */
export const nextTier = (
  v: Pick<Variant, 'priceTiers'>,
  soldUnits: number,
): { readonly minUnits: number; readonly unitPrice: number; readonly unitsToUnlock: number } | undefined => {
  const next = (v.priceTiers ?? []).find((t) => t.minUnits > soldUnits);
  return next && { minUnits: next.minUnits, unitPrice: next.unitPrice, unitsToUnlock: next.minUnits - soldUnits };
};

/**
 * The prices fixed at close: for each variant that made its own minimum and
 * has tiers, the tier its net sold units reached, when that is below its list
 * price. Undefined when no price dropped.
 */
export const finalPricesAtClose = (
  c: Pick<Campaign, 'variants'>,
  demand: Pick<Demand, 'variants'>,
  missed: readonly string[] = [],
): Record<string, number> | undefined => {
  const prices: Record<string, number> = {};
  for (const v of c.variants) {
    if (!v.priceTiers?.length || missed.includes(v.sku)) continue;
    const d = demand.variants.find((x) => x.sku === v.sku);
    const price = tierPrice(v, d ? d.ordered - d.cancelled : 0);
    if (price < v.unitPrice) prices[v.sku] = price;
  }
  return Object.keys(prices).length > 0 ? prices : undefined;
};

/**
 * What a unit of the pre-order costs the buyer now: the price at close once it dropped (or, in a deposit
 * campaign, once balances were called), else what they ordered at, less a deposit discount.
 */
export const priceNow = (p: Pick<Preorder, 'unitPrice' | 'finalUnitPrice' | 'depositDiscount'>): number => p.finalUnitPrice ?? p.unitPrice - (p.depositDiscount ?? 0);

/** What the buyer paid for the pre-order and has not been refunded: a refund of the whole pays back exactly this. */
export const stillHeld = (p: Pick<Preorder, 'amount' | 'paidAmount' | 'refundedAmount'>): number => (p.paidAmount ?? p.amount) - p.refundedAmount;

/**
 * The price drop owed to one pre-order: the difference between what it paid a
 * unit and its variant's final price, on every unit it keeps. Undefined when
 * none is owed: no drop for its variant, one applied already, a price no
 * higher (a buyer who switched from a cheaper variant keeps their price), or
 * nothing kept (refunded whole).
 */
export const priceDropOf = (
  p: Pick<Preorder, 'sku' | 'status' | 'quantity' | 'unitPrice' | 'finalUnitPrice' | 'shippedQuantity' | 'refundedUnits'>,
  finalPrices: Readonly<Record<string, number>> | undefined,
): { readonly finalUnitPrice: number; readonly units: number; readonly amount: number } | undefined => {
  const final = finalPrices?.[p.sku];
  if (final === undefined || p.finalUnitPrice !== undefined || final >= p.unitPrice || p.status === 'REFUNDED') return undefined;
  const units = p.quantity - refundedUnitsOf(p);
  return units > 0 ? { finalUnitPrice: final, units, amount: units * (p.unitPrice - final) } : undefined;
};
