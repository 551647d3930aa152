import { describe, expect, it } from 'vitest';
import fc from 'fast-check';
import {
  allocateShipment,
  delayedDate,
  filled,
  holdsNoUnits,
  lotLimitIssues,
  lotsReaching,
  maxLotsPerPreorder,
  medianOf,
  partlyReached,
  shortfalls,
  type LinePreorder,
} from '../../functions/domain/fulfillment.ts';

const p = (id: string, sku: string, quantity: number, minute: number, unitPrice = 100): LinePreorder => ({
  preorderId: id,
  sku,
  quantity,
  unitPrice,
  createdAt: `2026-12-01T10:${String(minute).padStart(2, '0')}:00.000Z`,
});
// Placed out of order on purpose: allocation goes by age, not by list position.
const line = [p('c', 'M', 2, 3), p('a', 'M', 2, 1), p('s', 'S', 1, 2), p('b', 'M', 1, 2)];

describe('Allocation of shipped units, oldest first per sku', () => {
  it('fills each pre-order before the next, across several lots', () => {
    expect(allocateShipment(line, {}, [{ sku: 'M', quantity: 3 }])).toEqual([
      { preorderId: 'a', sku: 'M', quantity: 2 },
      { preorderId: 'b', sku: 'M', quantity: 1 },
    ]);
    expect(allocateShipment(line, { M: 3 }, [{ sku: 'M', quantity: 1 }, { sku: 'S', quantity: 1 }])).toEqual([
      { preorderId: 'c', sku: 'M', quantity: 1 },
      { preorderId: 's', sku: 'S', quantity: 1 },
    ]);
    expect(allocateShipment(line, { M: 1 }, [{ sku: 'M', quantity: 2 }])).toEqual([
      { preorderId: 'a', sku: 'M', quantity: 1 },
      { preorderId: 'b', sku: 'M', quantity: 1 },
    ]);
  });

  it('for any split of a line into lots, every pre-order gets exactly its quantity, never more, and never before an older one is full', () => {
    fc.assert(
      fc.property(
        fc.array(fc.integer({ min: 1, max: 5 }), { minLength: 1, maxLength: 12 }),
        fc.array(fc.integer({ min: 1, max: 7 }), { minLength: 1, maxLength: 10 }),
        (quantities, lots) => {
          const l = quantities.map((q, i) => p(`p${i}`, 'M', q, i));
          const total = quantities.reduce((a, b) => a + b, 0);
          const got = new Map<string, number>();
          let shipped = 0;
          for (const lot of lots) {
            const q = Math.min(lot, total - shipped);
            if (q === 0) break;
            for (const a of allocateShipment(l, { M: shipped }, [{ sku: 'M', quantity: q }])) got.set(a.preorderId, (got.get(a.preorderId) ?? 0) + a.quantity);
            shipped += q;
            // Oldest first: a pre-order has units only when every older one is full.
            const filledNow = l.map((x) => got.get(x.preorderId) ?? 0);
            const firstShort = filledNow.findIndex((n, i) => n < l[i]!.quantity);
            if (firstShort >= 0) expect(filledNow.slice(firstShort + 1).every((n) => n === 0)).toBe(true);
          }
          for (const x of l) expect(got.get(x.preorderId) ?? 0).toBeLessThanOrEqual(x.quantity);
          expect([...got.values()].reduce((a, b) => a + b, 0)).toBe(shipped);
        },
      ),
      { numRuns: 300 },
    );
  });
});

describe('At most 50 lots to one order', () => {
  // An order of 2, then one of 120, then one of 60, all of sku M.
  const big = [p('small', 'M', 2, 1), p('big', 'M', 120, 2), p('next', 'M', 60, 3)];

  it('a lot ending inside a large order reaches it without finishing it, and says what would finish it', () => {
    expect(partlyReached(big, {}, [{ sku: 'M', quantity: 12 }])).toEqual([{ preorderId: 'big', sku: 'M', item: 0, toFinish: 122 }]);
    expect(partlyReached(big, { M: 12 }, [{ sku: 'M', quantity: 1 }])).toEqual([{ preorderId: 'big', sku: 'M', item: 0, toFinish: 110 }]);
  });

  it('a lot that finishes the order, stops before it, or reaches only small orders leaves none unfinished that could be split too often', () => {
    expect(partlyReached(big, { M: 12 }, [{ sku: 'M', quantity: 110 }])).toEqual([]);
    expect(partlyReached(big, {}, [{ sku: 'M', quantity: 2 }])).toEqual([]);
    expect(partlyReached(big, {}, [{ sku: 'M', quantity: 1 }])).toEqual([]);
    expect(partlyReached(big, {}, [{ sku: 'S', quantity: 1 }])).toEqual([]);
    // An order of exactly the limit can never arrive in more lots than that.
    expect(partlyReached([p('fifty', 'M', maxLotsPerPreorder, 1)], {}, [{ sku: 'M', quantity: 1 }])).toEqual([]);
  });

  it('counts each lot once per order, however many of its items reached it', () => {
    const lots = [
      { allocations: [{ preorderId: 'small' }, { preorderId: 'big' }] },
      { allocations: [{ preorderId: 'big' }, { preorderId: 'big' }] },
      { allocations: [{ preorderId: 'next' }] },
    ];
    expect(Object.fromEntries(lotsReaching(lots))).toEqual({ small: 1, big: 2, next: 1 });
  });

  it('the 50th lot to reach an order must finish it; the 49th need not', () => {
    const reach = partlyReached(big, { M: 50 }, [{ sku: 'M', quantity: 1 }]);
    expect(lotLimitIssues(reach, () => maxLotsPerPreorder - 2)).toEqual([]);
    expect(lotLimitIssues(reach, () => maxLotsPerPreorder - 1)).toEqual([
      {
        path: 'items.0.quantity',
        code: 'lot_splits_order_too_often',
        message: "one buyer's M would arrive in more than 50 lots: carry at least 72 M in this lot to finish their order",
        params: { sku: 'M', maxLots: 50, atLeast: 72 },
      },
    ]);
  });

  it('for any lots a factory sends, keeping to what each refusal asks, no order arrives in more than 50 lots and every unit ships', () => {
    fc.assert(
      fc.property(fc.array(fc.integer({ min: 1, max: 7 }), { minLength: 1, maxLength: 200 }), (sizes) => {
        const total = big.reduce((n, x) => n + x.quantity, 0);
        const lots: { allocations: { preorderId: string }[] }[] = [];
        let shipped = 0;
        for (let k = 0; shipped < total; k++) {
          let quantity = Math.min(sizes[k % sizes.length]!, total - shipped);
          const counts = lotsReaching(lots);
          const issues = lotLimitIssues(partlyReached(big, { M: shipped }, [{ sku: 'M', quantity }]), (id) => counts.get(id) ?? 0);
          // A refused factory does what the refusal asks: the smallest lot that finishes the order.
          if (issues.length > 0) quantity = Number(issues[0]!.params.atLeast);
          lots.push({ allocations: allocateShipment(big, { M: shipped }, [{ sku: 'M', quantity }]) });
          shipped += quantity;
        }
        const counts = lotsReaching(lots);
        expect(Math.max(...counts.values())).toBeLessThanOrEqual(maxLotsPerPreorder);
        expect(filled(big, 'M', shipped)).toEqual(new Map(big.map((x) => [x.preorderId, x.quantity])));
      }),
    );
  });
});

describe('Short batches', () => {
  it('refund whole pre-orders that got nothing and the missing part of those that got some, at their unit price', () => {
    const priced = [p('a', 'M', 2, 1, 100), p('b', 'M', 3, 2, 100), p('s', 'S', 1, 3, 250)];
    expect(shortfalls(priced, { M: 3 })).toEqual([
      { preorderId: 'b', units: 2, amount: 200, whole: false },
      { preorderId: 's', units: 1, amount: 250, whole: true },
    ]);
    expect(shortfalls(priced, { M: 5, S: 1 })).toEqual([]);
  });

  it('a pre-order may leave the line only while it holds no unit', () => {
    expect(holdsNoUnits(line, { M: 2 }, 'b')).toBe(true);
    expect(holdsNoUnits(line, { M: 3 }, 'b')).toBe(false);
    expect(holdsNoUnits(line, { M: 3 }, 'c')).toBe(true);
    expect(holdsNoUnits(line, {}, 'nobody')).toBe(false);
    // Removing a unit-less pre-order never moves anyone else's units.
    const without = line.filter((x) => x.preorderId !== 'c');
    expect(filled(without, 'M', 3)).toEqual(new Map([...filled(line, 'M', 3)].filter(([id]) => id !== 'c')));
  });
});

describe('Delay notices', () => {
  const promised = '2026-12-10T00:00:00.000Z';
  it('a committed date after the promise is a delay to the end of that day; before it is none', () => {
    expect(delayedDate({ promisedShipBy: promised, committedShipDate: '2026-12-20', now: new Date('2026-12-01') })).toBe('2026-12-20T23:59:59.999Z');
    expect(delayedDate({ promisedShipBy: promised, committedShipDate: '2026-12-05', now: new Date('2026-12-01') })).toBeUndefined();
  });
  it('a promise passed unshipped moves a week at a time, the same date all week', () => {
    expect(delayedDate({ promisedShipBy: promised, now: new Date('2026-12-10T00:00:01Z') })).toBe('2026-12-17T00:00:00.000Z');
    expect(delayedDate({ promisedShipBy: promised, now: new Date('2026-12-16T23:00:00Z') })).toBe('2026-12-17T00:00:00.000Z');
    expect(delayedDate({ promisedShipBy: promised, now: new Date('2026-12-17T00:00:01Z') })).toBe('2026-12-24T00:00:00.000Z');
    expect(delayedDate({ promisedShipBy: promised, now: new Date('2026-12-09') })).toBeUndefined();
  });
});

describe('Median days to delivery', () => {
  it('from a histogram, odd and even counts', () => {
    expect(medianOf({})).toBeUndefined();
    expect(medianOf({ 3: 1 })).toBe(3);
    expect(medianOf({ 1: 1, 5: 1 })).toBe(3);
    expect(medianOf({ 2: 3, 9: 1 })).toBe(2);
    expect(medianOf({ 10: 2, 1: 2 })).toBe(5.5);
  });
});
