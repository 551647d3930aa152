import { describe, expect, it } from 'vitest';
import { batchedMeetsMinimums, closingOutcome, planEarlyCut, standingOf, type VariantStanding } from '../../functions/domain/batching.ts';
import { ceilingOf, lateCompensation } from '../../functions/domain/fulfillment.ts';

const now = new Date('2026-12-01T12:00:00Z');
const waiting = (n: number, sku = 'S', quantity = 1) =>
  Array.from({ length: n }, (_, i) => ({ preorderId: `po_${sku}${String(i).padStart(4, '0')}`, sku, quantity, createdAt: new Date(now.getTime() - (n - i) * 1000).toISOString() }));
const standing = (v: Partial<VariantStanding> & { sku: string }): VariantStanding => ({ net: 0, batched: 0, ...v });

describe('All-or-nothing cuts (planEarlyCut)', () => {
  it('Cuts nothing while net ordered units are below the campaign minimum, whatever the lot size', () => {
    for (const lotSize of [2, 10, 25]) {
      expect(planEarlyCut({ waiting: waiting(9), lotSize, minTotalQuantity: 10, variants: [standing({ sku: 'S', net: 9 })], now })).toBeUndefined();
    }
  });

  it('The first batch takes the whole minimum, not one lot; later ones are plain lots', () => {
    const first = planEarlyCut({ waiting: waiting(10), lotSize: 2, minTotalQuantity: 10, variants: [standing({ sku: 'S', net: 10 })], now });
    expect(first).toMatchObject({ reason: 'lot' });
    expect(first!.picked).toHaveLength(10);
    const later = planEarlyCut({ waiting: waiting(3), lotSize: 2, minTotalQuantity: 10, variants: [standing({ sku: 'S', net: 13, batched: 10 })], now });
    expect(later!.picked).toHaveLength(2);
  });

  it('A variant below its own minimum is never cut; one entering production goes in with its whole minimum', () => {
    const variants = [standing({ sku: 'S', net: 3, minQuantity: 5 }), standing({ sku: 'M', net: 6, minQuantity: 6 })];
    const plan = planEarlyCut({ waiting: [...waiting(3, 'S'), ...waiting(6, 'M')], lotSize: 2, minTotalQuantity: 1, variants, now });
    expect(plan!.picked.every((p) => p.sku === 'M')).toBe(true);
    expect(plan!.picked).toHaveLength(6);
  });

  it('A max-wait cut may be below a lot, never below what the minimum still needs', () => {
    const old = waiting(4).map((p) => ({ ...p, createdAt: '2026-11-30T00:00:00.000Z' }));
    const variants = [standing({ sku: 'S', net: 4 })];
    expect(planEarlyCut({ waiting: old, lotSize: 100, maxWaitHours: 1, minTotalQuantity: 4, variants, now })).toMatchObject({ reason: 'max-wait' });
    expect(planEarlyCut({ waiting: old, lotSize: 100, maxWaitHours: 48, minTotalQuantity: 4, variants, now })).toBeUndefined();
  });

  it('A batch keeps its promise only if what is batched meets the campaign minimum and each of its variants’ own', () => {
    expect(batchedMeetsMinimums(10, [standing({ sku: 'S', batched: 10 })], ['S'])).toBe(true);
    expect(batchedMeetsMinimums(10, [standing({ sku: 'S', batched: 8 })], ['S'])).toBe(false);
    expect(batchedMeetsMinimums(1, [standing({ sku: 'S', batched: 3, minQuantity: 5 }), standing({ sku: 'M', batched: 9 })], ['M'])).toBe(true);
    expect(batchedMeetsMinimums(1, [standing({ sku: 'S', batched: 3, minQuantity: 5 })], ['S'])).toBe(false);
  });
});

describe('Closing with per-variant minimums (closingOutcome)', () => {
  const terms = { minTotalQuantity: 4, switchWindowHours: 24 };
  it('Below the campaign minimum it fails; a variant below its own does not sink it and opens a switch window', () => {
    expect(closingOutcome(terms, [standing({ sku: 'S', net: 3 })], now)).toEqual({ status: 'FAILED', variantsMissed: [] });
    const closed = closingOutcome(terms, [standing({ sku: 'S', net: 3, minQuantity: 5 }), standing({ sku: 'M', net: 3, minQuantity: 2 })], now);
    expect(closed).toEqual({ status: 'CLOSED', variantsMissed: ['S'], switchBy: '2026-12-02T12:00:00.000Z' });
  });
  it('No window when nobody holds the missed variant, or nowhere is left to switch to', () => {
    expect(closingOutcome(terms, [standing({ sku: 'S', net: 0, minQuantity: 5 }), standing({ sku: 'M', net: 5 })], now)).toEqual({ status: 'CLOSED', variantsMissed: ['S'] });
    expect(closingOutcome(terms, [standing({ sku: 'S', net: 4, minQuantity: 5 })], now)).toEqual({ status: 'CLOSED', variantsMissed: ['S'] });
  });
  it('Standing is read from the gates’ counts, variant by variant', () => {
    expect(standingOf([{ sku: 'S', minQuantity: 2 }, { sku: 'M' }], [{ sku: 'S', ordered: 5, cancelled: 1, batched: 2 }])).toEqual([
      { sku: 'S', net: 4, batched: 2, minQuantity: 2 },
      { sku: 'M', net: 0, batched: 0 },
    ]);
  });
});

describe('Broken promises (ceiling and compensation)', () => {
  const p = { amount: 25_800, originalPromisedShipBy: '2026-12-08T12:00:00.000Z' };
  const terms = { percent: 10, minAmount: 500, maxAmount: 10_000 };
  it('The ceiling is the original promise plus maxDelayDays', () => {
    expect(ceilingOf(p, 14)).toBe('2026-12-22T12:00:00.000Z');
  });
  it('Compensation is a share of the amount within its bounds, and only for a lot after the original promise', () => {
    expect(lateCompensation(terms, p, '2026-12-09T00:00:00.000Z')).toBe(2_580);
    expect(lateCompensation(terms, p, '2026-12-08T12:00:00.000Z')).toBe(0);
    expect(lateCompensation(terms, { ...p, amount: 1_000 }, '2026-12-09T00:00:00.000Z')).toBe(500);
    expect(lateCompensation(terms, { ...p, amount: 1_000_000 }, '2026-12-09T00:00:00.000Z')).toBe(10_000);
    expect(lateCompensation(undefined, p, '2026-12-09T00:00:00.000Z')).toBe(0);
  });
});
