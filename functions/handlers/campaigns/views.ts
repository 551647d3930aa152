import type { Campaign, Demand } from '#domain/campaign.ts';
import type { Principal } from '#shared/tokens.ts';

export const isOwner = (c: Pick<Campaign, 'anchorId'>, p: Principal): boolean =>
  p.role === 'operator' || (p.role === 'anchor' && p.id === c.anchorId);

/** Public fields for everyone; the anchor's business terms only for the owner. */
export const campaignSummary = (c: Campaign, owner: boolean) => ({
  campaignId: c.campaignId,
  title: c.title,
  status: c.status,
  currency: c.currency,
  variants: c.variants.map((v) => ({ sku: v.sku, name: v.name, unitPrice: v.unitPrice })),
  opensAt: c.opensAt,
  closesAt: c.closesAt,
  ...(c.closedAt !== undefined && { closedAt: c.closedAt }),
  promisedShipDays: c.promisedShipDays,
  ...(c.maxTotalQuantity !== undefined && { maxTotalQuantity: c.maxTotalQuantity }),
  ...(owner && {
    anchorId: c.anchorId,
    factoryId: c.factoryId,
    ...(c.backupFactoryId !== undefined && { backupFactoryId: c.backupFactoryId }),
    minTotalQuantity: c.minTotalQuantity,
    lotSize: c.lotSize,
    ...(c.maxWaitHours !== undefined && { maxWaitHours: c.maxWaitHours }),
    createdAt: c.createdAt,
    updatedAt: c.updatedAt,
  }),
});

export const campaignView = (c: Campaign, demand: Demand, owner: boolean) => ({
  ...campaignSummary(c, owner),
  demand: [...demand.variants],
  ...(demand.remaining !== undefined && { remaining: demand.remaining }),
});

type Outlook = Awaited<ReturnType<typeof import('./forecasting.ts').variantOutlook>>;

/** Demand per variant with its signals and forecast (the outlook is computed from `demand`, variant by variant). */
export const demandView = (c: Campaign, demand: Demand, outlook: Outlook) => ({
  campaignId: c.campaignId,
  variants: demand.variants.map((v, i) => {
    const o = outlook[i];
    if (!o || o.sku !== v.sku) throw new Error(`outlook does not match demand at ${v.sku}`);
    return {
      ...v,
      signals: o.signals,
      forecastFinal: o.forecast.final,
      forecastLow: o.forecast.low,
      forecastHigh: o.forecast.high,
      forecastMethod: o.forecast.method,
    };
  }),
  totals: {
    ...demand.totals,
    forecastFinal: outlook.reduce((n, o) => n + o.forecast.final, 0),
  },
  ...(demand.remaining !== undefined && { remaining: demand.remaining }),
});
