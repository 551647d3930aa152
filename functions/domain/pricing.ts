import type { Campaign, PriceTier, Variant, VariantDemand } from './campaign.ts';
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
 *
 * Or the campaign lists the tiers (全场阶梯价): then the net sold units of every
 * variant count, and the price reached is every variant's (they share one list
 * price, checked with the terms). Every buyer sees the same "N more units to
 * unlock", whatever they chose.
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

const netSold = (d: Pick<VariantDemand, 'ordered' | 'cancelled'> | undefined): number => (d ? d.ordered - d.cancelled : 0);

/**
 * What prices a variant: the tiers that apply to it (the campaign's, else its
 * own) and the net sold units that count towards them (every variant's, else
 * its own). Undefined when it has no tiers.
 */
export const pricingOf = (
  c: Pick<Campaign, 'variants' | 'priceTiers'>,
  sku: string,
  demand: readonly Pick<VariantDemand, 'sku' | 'ordered' | 'cancelled'>[],
): { readonly tiers: Pick<Variant, 'unitPrice' | 'priceTiers'>; readonly sold: number } | undefined => {
  const v = c.variants.find((x) => x.sku === sku);
  if (!v) return undefined;
  if (c.priceTiers?.length) return { tiers: { unitPrice: v.unitPrice, priceTiers: c.priceTiers }, sold: demand.reduce((n, d) => n + netSold(d), 0) };
  if (v.priceTiers?.length) return { tiers: v, sold: netSold(demand.find((d) => d.sku === sku)) };
  return undefined;
};

/** The lowest price any tier of the campaign can reach for a variant: what a deposit must stay below. */
export const lowestPriceOf = (v: Pick<Variant, 'unitPrice' | 'priceTiers'>, campaignTiers: readonly PriceTier[] | undefined): number =>
  Math.min(v.unitPrice, ...(v.priceTiers ?? []).map((t) => t.unitPrice), ...(campaignTiers ?? []).map((t) => t.unitPrice));

/**
 * The prices fixed at close: for each variant that made its own minimum and
 * has tiers (its own or the campaign's), the tier the net sold units reached,
 * when that is below its list price. Undefined when no price dropped. With the
 * campaign's tiers every variant's units count, a missed variant's too: buyers
 * were shown that count while they ordered, and a missed variant's buyers who
 * switch bring their units along.
 */
export const finalPricesAtClose = (
  c: Pick<Campaign, 'variants' | 'priceTiers'>,
  demand: { readonly variants: readonly Pick<VariantDemand, 'sku' | 'ordered' | 'cancelled'>[] },
  missed: readonly string[] = [],
): Record<string, number> | undefined => {
  const prices: Record<string, number> = {};
  for (const v of c.variants) {
    const pricing = pricingOf(c, v.sku, demand.variants);
    if (!pricing || missed.includes(v.sku)) continue;
    const price = tierPrice(pricing.tiers, pricing.sold);
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
