import { describe, expect, it } from 'vitest';
import { Commission } from '../../functions/contracts/campaigns.ts';
import { attributionOf, percentOf } from '../../functions/domain/attribution.ts';
import type { Preorder } from '../../functions/domain/preorder.ts';

const preorder = (over: Partial<Preorder>): Preorder =>
  ({ quantity: 1, amount: 12900, refundedAmount: 0, status: 'ACCEPTED', ...over }) as Preorder;

describe('Attribution arithmetic', () => {
  it('A percent of an amount is half up, in integers, for percents with two decimals', () => {
    expect(percentOf(12900, 12.5)).toBe(1613); // 1612.5
    expect(percentOf(12899, 12.5)).toBe(1612); // 1612.375
    expect(percentOf(1, 50)).toBe(1); // 0.5
    expect(percentOf(1, 49.99)).toBe(0);
    expect(percentOf(0, 30)).toBe(0);
    // 0.07 × 100 is 7.000000000000001 in floating point: basis points keep it exact.
    expect(percentOf(1_000_000, 0.07)).toBe(700);
    // Past 2^53 as a product of amount and basis points: still exact.
    expect(percentOf(2_000_000_000_003, 12.5)).toBe(250_000_000_000);
  });

  it('A commission takes any percent with two decimals, floating point notwithstanding, and refuses a third', () => {
    for (const percent of [0, 0.07, 1.1, 2.2, 4.35, 12.5, 33.33, 100]) {
      expect(Commission.safeParse({ anchorPercent: percent, affiliatePercent: 0 }).success, String(percent)).toBe(true);
    }
    for (let cents = 0; cents <= 10_000; cents += 7) expect(Commission.safeParse({ anchorPercent: cents / 100, affiliatePercent: 0 }).success, String(cents / 100)).toBe(true);
    for (const percent of [0.001, 10.125, 99.999]) expect(Commission.safeParse({ anchorPercent: percent, affiliatePercent: 0 }).success, String(percent)).toBe(false);
  });

  it('Rows sum to the totals, commission included, and a whole refund leaves a source nothing to earn', () => {
    const tally = attributionOf({ anchorPercent: 12.5, affiliatePercent: 3.33 });
    const room = { liveRoomId: 'r1', affiliateId: 'a1' };
    tally.add([
      preorder({ source: room, quantity: 3, amount: 38700 }),
      preorder({ source: room, quantity: 1, amount: 12901, status: 'REFUNDED', refundedAmount: 12901 }),
      preorder({ source: { liveRoomId: 'r2' }, quantity: 2, amount: 25801, status: 'DELIVERED', refundedUnits: 1, refundedAmount: 12900 }),
    ]);
    tally.add([preorder({ quantity: 1, amount: 99 })]);
    const { items, totals } = tally.result();
    expect(items.map((r) => [r.source?.liveRoomId, r.netUnits, r.netGmv, r.anchorCommission, r.affiliateCommission])).toEqual([
      ['r1', 3, 38700, 4838, 1289],
      ['r2', 1, 12901, 1613, 0],
      [undefined, 1, 99, 12, 0],
    ]);
    for (const k of ['preorders', 'units', 'refundedUnits', 'netUnits', 'gmv', 'refunded', 'netGmv', 'anchorCommission', 'affiliateCommission'] as const) {
      expect(totals[k], k).toBe(items.reduce((n, r) => n + r[k], 0));
    }
  });
});
