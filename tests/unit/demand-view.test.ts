import { describe, expect, it } from 'vitest';
import { newCampaign, type Demand } from '../../functions/domain/campaign.ts';
import { demandView } from '../../functions/handlers/campaigns/views.ts';
import type { CampaignOutlook } from '../../functions/handlers/campaigns/forecasting.ts';

const now = new Date('2026-11-21T12:00:00.000Z');
const campaign = newCampaign({
  campaignId: 'cmp_1',
  anchorId: 'a',
  now,
  draft: {
    title: 'Linen shirt',
    factoryId: 'f-1',
    currency: 'CNY',
    variants: [
      { sku: 'S', name: 'Small', unitPrice: 12900 },
      { sku: 'M', name: 'Medium', unitPrice: 12900 },
    ],
    closesAt: '2026-12-01T12:00:00.000Z',
    minTotalQuantity: 10,
    lotSize: 50,
    maxTotalQuantity: 100,
    promisedShipDays: 14,
  },
});

const counts = (view: number, like = 0) => ({ view, like, cart: 0, want: 0, share: 0 });
const signals = (view: number, recent: number) => ({ ...counts(view), last15m: counts(recent) });

const demand: Demand = {
  variants: [
    { sku: 'S', ordered: 30, cancelled: 5, batched: 0, waiting: 25 },
    { sku: 'M', ordered: 40, cancelled: 0, batched: 0, waiting: 40 },
  ],
  totals: { ordered: 70, cancelled: 5, batched: 0, waiting: 65 },
  remaining: 35,
};

/** Each variant alone may take all 35 remaining units: 25 + 35 and 40 + 35. */
const outlook: CampaignOutlook = {
  variants: [
    { sku: 'S', ordered: 25, signals: signals(10, 2), forecast: { final: 60, low: 40, high: 60, method: 'test' } },
    { sku: 'M', ordered: 40, signals: signals(20, 4), forecast: { final: 75, low: 50, high: 75, method: 'test' } },
  ],
  withoutSku: signals(1000, 100),
} as unknown as CampaignOutlook;

describe('The demand an anchor reads', () => {
  it('When every variant forecasts the whole remaining cap, the campaign total still stops at the cap', () => {
    const view = demandView(campaign, demand, outlook);
    expect(view.variants.map((v) => v.forecastFinal)).toEqual([60, 75]);
    // 65 units kept + 35 remaining = the cap of 100, not 60 + 75.
    expect(view.totals.forecastFinal).toBe(100);
  });

  it('Without a cap, the total forecast is the sum of the variants', () => {
    const { remaining: _, ...uncapped } = demand;
    expect(demandView(campaign, uncapped, outlook).totals.forecastFinal).toBe(135);
  });

  it("Signals that named no sku are shown apart and counted in the campaign's totals", () => {
    const view = demandView(campaign, demand, outlook);
    expect(view.signalsWithoutSku).toEqual(signals(1000, 100));
    expect(view.totals.signals).toEqual(signals(1030, 106));
  });
});
