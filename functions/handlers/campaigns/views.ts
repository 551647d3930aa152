import { isFinal, type Campaign, type Demand, type VariantDemand } from '#domain/campaign.ts';
import { nextTier, pricingOf, tierPrice } from '#domain/pricing.ts';
import type { Principal } from '#shared/principal.ts';
import { signalTypes } from '#contracts/signals.ts';
import type { CampaignOutlook } from './forecasting.ts';

export const isOwner = (c: Pick<Campaign, 'anchorId'>, p: Principal): boolean =>
  p.role === 'operator' || (p.role === 'anchor' && p.id === c.anchorId);

/** Public fields for everyone; the anchor's business terms only for the owner. */
export const campaignSummary = (c: Campaign, owner: boolean) => ({
  campaignId: c.campaignId,
  title: c.title,
  status: c.status,
  currency: c.currency,
  variants: c.variants.map((v) => ({
    sku: v.sku,
    name: v.name,
    unitPrice: v.unitPrice,
    ...(v.minQuantity !== undefined && { minQuantity: v.minQuantity }),
    ...(v.priceTiers !== undefined && { priceTiers: v.priceTiers.map((t) => ({ ...t })) }),
  })),
  ...(c.priceTiers !== undefined && { priceTiers: c.priceTiers.map((t) => ({ ...t })) }),
  opensAt: c.opensAt,
  closesAt: c.closesAt,
  ...(c.closedAt !== undefined && { closedAt: c.closedAt }),
  promisedShipDays: c.promisedShipDays,
  ...(c.maxTotalQuantity !== undefined && { maxTotalQuantity: c.maxTotalQuantity }),
  ...(c.maxPerBuyer !== undefined && { maxPerBuyer: c.maxPerBuyer }),
  maxDelayDays: c.maxDelayDays,
  ...(c.lateCompensation !== undefined && { lateCompensation: c.lateCompensation }),
  switchWindowHours: c.switchWindowHours,
  ...(c.minimumMetAt !== undefined && { minimumMetAt: c.minimumMetAt }),
  ...(c.variantsMissed !== undefined && { variantsMissed: [...c.variantsMissed] }),
  ...(c.switchBy !== undefined && { switchBy: c.switchBy }),
  ...(c.finalPrices !== undefined && { finalPrices: { ...c.finalPrices } }),
  ...(c.payment !== undefined && { payment: { ...c.payment } }),
  ...(c.balanceDueBy !== undefined && { balanceDueBy: c.balanceDueBy }),
  ...(owner && {
    anchorId: c.anchorId,
    factoryId: c.factoryId,
    ...(c.backupFactoryId !== undefined && { backupFactoryId: c.backupFactoryId }),
    minTotalQuantity: c.minTotalQuantity,
    lotSize: c.lotSize,
    ...(c.maxWaitHours !== undefined && { maxWaitHours: c.maxWaitHours }),
    ...(c.liveRoomIds !== undefined && { liveRoomIds: [...c.liveRoomIds] }),
    ...(c.commission !== undefined && { commission: c.commission }),
    createdAt: c.createdAt,
    updatedAt: c.updatedAt,
  }),
});

/**
 * A tiered variant's price as its demand stands: the tier its net sold units
 * (or, with the campaign's tiers, every variant's) reached and, while the
 * campaign sells and the tiers are the variant's own, how many more units
 * unlock the next ("N more to unlock ¥X"). Once it closed, the price fixed then.
 */
const withPrice = (c: Campaign, demand: Demand, d: VariantDemand) => {
  const pricing = pricingOf(c, d.sku, demand.variants);
  if (!pricing) return d;
  // Closed: the price fixed then (the list price when none dropped); failed: nothing was sold, at any tier.
  if (isFinal(c.status)) return { ...d, unitPriceNow: c.finalPrices?.[d.sku] ?? pricing.tiers.unitPrice };
  const next = c.priceTiers?.length ? undefined : nextTier(pricing.tiers, pricing.sold);
  return { ...d, unitPriceNow: tierPrice(pricing.tiers, pricing.sold), ...(next && { nextTier: next }) };
};

/** The campaign's own tiers, while it sells: the next one, counted in units of any variant (the campaign view's `nextTier`). */
const campaignNextTier = (c: Campaign, demand: Demand) => {
  if (!c.priceTiers?.length || isFinal(c.status)) return undefined;
  return nextTier(c, demand.variants.reduce((n, d) => n + d.ordered - d.cancelled, 0));
};

export const campaignView = (c: Campaign, demand: Demand, owner: boolean) => {
  const next = campaignNextTier(c, demand);
  return {
    ...campaignSummary(c, owner),
    demand: demand.variants.map((d) => withPrice(c, demand, d)),
    ...(next && { nextTier: next }),
    ...(demand.remaining !== undefined && { remaining: demand.remaining }),
  };
};

type SignalSummary = CampaignOutlook['withoutSku'];

const addSignals = (xs: readonly SignalSummary[]): SignalSummary => {
  const sum = (pick: (s: SignalSummary) => Record<(typeof signalTypes)[number], number>) =>
    Object.fromEntries(signalTypes.map((t) => [t, xs.reduce((n, s) => n + pick(s)[t], 0)])) as Record<(typeof signalTypes)[number], number>;
  return { ...sum((s) => s), last15m: sum((s) => s.last15m) };
};

/** Demand per variant with its signals and forecast (the outlook is computed from `demand`, variant by variant). */
export const demandView = (c: Campaign, demand: Demand, outlook: CampaignOutlook) => {
  const variants = demand.variants.map((v, i) => {
    const o = outlook.variants[i];
    if (!o || o.sku !== v.sku) throw new Error(`outlook does not match demand at ${v.sku}`);
    return {
      ...withPrice(c, demand, v),
      signals: o.signals,
      forecastFinal: o.forecast.final,
      forecastLow: o.forecast.low,
      forecastHigh: o.forecast.high,
      forecastMethod: o.forecast.method,
    };
  });
  // Each variant's forecast is capped by the campaign's remaining units on its own;
  // together they may not pass the cap either.
  const forecastSum = variants.reduce((n, v) => n + v.forecastFinal, 0);
  const kept = demand.totals.ordered - demand.totals.cancelled;
  const forecastFinal = demand.remaining !== undefined ? Math.min(forecastSum, kept + demand.remaining) : forecastSum;
  const next = campaignNextTier(c, demand);
  return {
    campaignId: c.campaignId,
    variants,
    ...(next && { nextTier: next }),
    totals: {
      ...demand.totals,
      signals: addSignals([...variants.map((v) => v.signals), outlook.withoutSku]),
      forecastFinal,
    },
    signalsWithoutSku: outlook.withoutSku,
    ...(demand.remaining !== undefined && { remaining: demand.remaining }),
  };
};
