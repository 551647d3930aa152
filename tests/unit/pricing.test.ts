import { describe, expect, it } from 'vitest';
import { finalPricesAtClose, lowestPriceOf, pricingOf, tierPrice } from '../../functions/domain/pricing.ts';
import type { Campaign } from '../../functions/domain/campaign.ts';

/** Tier pricing (阶梯价): a variant's own tiers count its own units; the campaign's (全场阶梯价) count every variant's and price them all. */
const own: Pick<Campaign, 'variants' | 'priceTiers'> = {
  variants: [
    { sku: 'S', name: 'Small', unitPrice: 12900 },
    { sku: 'M', name: 'Medium', unitPrice: 12900, priceTiers: [{ minUnits: 5, unitPrice: 11900 }] },
  ],
};
const wide: Pick<Campaign, 'variants' | 'priceTiers'> = {
  variants: [
    { sku: 'S', name: 'Small', unitPrice: 12900 },
    { sku: 'M', name: 'Medium', unitPrice: 12900 },
  ],
  priceTiers: [
    { minUnits: 5, unitPrice: 11900 },
    { minUnits: 8, unitPrice: 9900 },
  ],
};
const sold = (s: number, m: number, cancelledS = 0) => [
  { sku: 'S', ordered: s + cancelledS, cancelled: cancelledS },
  { sku: 'M', ordered: m, cancelled: 0 },
];

describe('Tier pricing', () => {
  it("A variant's own tiers count only its own units: 3 Small and 3 Medium leave Medium at its list price", () => {
    expect(pricingOf(own, 'S', sold(3, 3))).toBeUndefined();
    expect(pricingOf(own, 'M', sold(3, 3))).toMatchObject({ sold: 3 });
    expect(finalPricesAtClose(own, { variants: sold(3, 3) })).toBeUndefined();
    expect(finalPricesAtClose(own, { variants: sold(0, 5) })).toEqual({ M: 11900 });
  });

  it("The campaign's tiers count every variant's net units and drop every variant's price; cancelled units do not count", () => {
    expect(pricingOf(wide, 'S', sold(3, 3))).toMatchObject({ sold: 6 });
    expect(finalPricesAtClose(wide, { variants: sold(3, 3) })).toEqual({ S: 11900, M: 11900 });
    expect(finalPricesAtClose(wide, { variants: sold(4, 4) })).toEqual({ S: 9900, M: 9900 });
    expect(finalPricesAtClose(wide, { variants: sold(1, 3, 4) })).toBeUndefined();
  });

  it("A variant that missed its own minimum gets no price (its buyers are refunded or switch), but its units still counted towards the campaign's tier", () => {
    expect(finalPricesAtClose(wide, { variants: sold(4, 4) }, ['S'])).toEqual({ M: 9900 });
  });

  it('The lowest price a deposit must stay below is the lowest of the list price, its own tiers and the campaign tiers', () => {
    expect(lowestPriceOf({ unitPrice: 12900 }, wide.priceTiers)).toBe(9900);
    expect(lowestPriceOf({ unitPrice: 12900, priceTiers: [{ minUnits: 5, unitPrice: 11900 }] }, undefined)).toBe(11900);
    expect(tierPrice({ unitPrice: 12900, priceTiers: wide.priceTiers }, 7)).toBe(11900);
  });
});
