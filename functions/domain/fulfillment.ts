import { promisedShipBy } from './preorder.ts';

/**
 * Fulfillment rules: pure, no I/O. Which buyer gets which shipped unit, what a
 * short batch refunds, and when a buyer must hear of a delay.
 *
 * Allocation is a function of the batch, not of history: per sku, the batch's
 * live pre-orders stand in line oldest first, and the first `shipped` units of
 * that sku go down the line, filling each pre-order before the next. A shipment
 * gets the units between the sku's shipped count before it and after it. Every
 * shipment's allocation is computed in the same conditional write that counts
 * it on the batch, so allocations never overlap and never exceed a pre-order.
 * A pre-order leaves the line (a cancel after a delay notice) only while it has
 * no unit yet; everyone younger has none either, so nobody's units move.
 */

export interface LinePreorder {
  readonly preorderId: string;
  readonly sku: string;
  readonly quantity: number;
  readonly unitPrice: number;
  readonly createdAt: string;
}

export interface Allocation {
  readonly preorderId: string;
  readonly sku: string;
  readonly quantity: number;
}

const byAge = (a: LinePreorder, b: LinePreorder) => a.createdAt.localeCompare(b.createdAt) || a.preorderId.localeCompare(b.preorderId);

/** Units of `sku` each live pre-order holds once `shipped` units of it have gone out. */
export const filled = (line: readonly LinePreorder[], sku: string, shipped: number): Map<string, number> => {
  const out = new Map<string, number>();
  let left = shipped;
  for (const p of line.filter((x) => x.sku === sku).sort(byAge)) {
    const take = Math.min(p.quantity, Math.max(0, left));
    out.set(p.preorderId, take);
    left -= take;
  }
  return out;
};

/**
 * The units of one shipment, per pre-order: the difference between what each
 * holds after it and before it. `shippedBefore` is the batch's per-sku count
 * before this shipment.
 */
export const allocateShipment = (
  line: readonly LinePreorder[],
  shippedBefore: Readonly<Record<string, number>>,
  items: readonly { sku: string; quantity: number }[],
): Allocation[] =>
  items.flatMap((item) => {
    const before = filled(line, item.sku, shippedBefore[item.sku] ?? 0);
    const after = filled(line, item.sku, (shippedBefore[item.sku] ?? 0) + item.quantity);
    return [...after].flatMap(([preorderId, units]) => {
      const quantity = units - (before.get(preorderId) ?? 0);
      return quantity > 0 ? [{ preorderId, sku: item.sku, quantity }] : [];
    });
  });

/**
 * The most lots one pre-order's units arrive in. Each lot that reaches a buyer
 * is a parcel entry and a step (shipped, delivered, a relabel) on their
 * pre-order, which DynamoDB holds in one item of at most 400 KB and charges by
 * the KB on every later write: without a bound, 999 units shipped a unit a lot
 * would outgrow the item. A lot never needs to split one buyer's order that
 * often; the factory is told what to carry instead (lotLimitIssues).
 */
export const maxLotsPerPreorder = 50;

/**
 * A pre-order a lot would reach without finishing it, and what the lot would
 * have to carry of its sku to finish it. (Stopping short of it is no way out
 * once it matters: only an order some lot reached already can be at its limit,
 * and the next lot of its sku starts inside it.)
 */
export interface PartReach {
  readonly preorderId: string;
  readonly sku: string;
  /** The lot's item of that sku (its index in the request). */
  readonly item: number;
  /** Units of the sku this lot must carry to finish the pre-order. */
  readonly toFinish: number;
}

/**
 * The pre-orders a lot reaches without finishing them: per sku at most one,
 * the last in line it reaches, and only those with more units than
 * `maxLotsPerPreorder` (one with fewer cannot be split that often: each lot
 * brings it at least one unit).
 */
export const partlyReached = (
  line: readonly LinePreorder[],
  shippedBefore: Readonly<Record<string, number>>,
  items: readonly { sku: string; quantity: number }[],
): PartReach[] =>
  items.flatMap((item, index) => {
    const before = shippedBefore[item.sku] ?? 0;
    const after = before + item.quantity;
    let start = 0;
    for (const p of line.filter((x) => x.sku === item.sku).sort(byAge)) {
      const end = start + p.quantity;
      if (start < after && after < end && p.quantity > maxLotsPerPreorder) {
        return [{ preorderId: p.preorderId, sku: item.sku, item: index, toFinish: end - before }];
      }
      start = end;
    }
    return [];
  });

/** How many of a batch's lots reached each pre-order (one a lot, however many of its items did). */
export const lotsReaching = (lots: readonly { readonly allocations: readonly { readonly preorderId: string }[] }[]): Map<string, number> => {
  const counts = new Map<string, number>();
  for (const lot of lots) for (const id of new Set(lot.allocations.map((a) => a.preorderId))) counts.set(id, (counts.get(id) ?? 0) + 1);
  return counts;
};

/**
 * What a lot must change so that no pre-order it reaches without finishing
 * arrives in more than `maxLotsPerPreorder` lots: `lotsSoFar` counts the lots
 * that reached each of them already. One issue per item at fault, naming what
 * it must carry; none when the lot may ship.
 */
export const lotLimitIssues = (reaches: readonly PartReach[], lotsSoFar: (preorderId: string) => number) =>
  reaches
    .filter((r) => lotsSoFar(r.preorderId) + 1 >= maxLotsPerPreorder)
    .map((r) => ({
      path: `items.${r.item}.quantity`,
      code: 'lot_splits_order_too_often',
      message: `one buyer's ${r.sku} would arrive in more than ${maxLotsPerPreorder} lots: carry at least ${r.toFinish} ${r.sku} in this lot to finish their order`,
      params: { sku: r.sku, maxLots: maxLotsPerPreorder, atLeast: r.toFinish },
    }));

export interface Shortfall {
  readonly preorderId: string;
  /** Units that will never ship. */
  readonly units: number;
  /** What is refunded for them, in minor units. */
  readonly amount: number;
  /** True when nothing of the pre-order shipped: it is refunded whole. */
  readonly whole: boolean;
}

/** A batch closed short: every live pre-order's units beyond what shipped are refunded. */
export const shortfalls = (line: readonly LinePreorder[], shippedBySku: Readonly<Record<string, number>>): Shortfall[] => {
  const skus = [...new Set(line.map((p) => p.sku))];
  const got = new Map(skus.flatMap((sku) => [...filled(line, sku, shippedBySku[sku] ?? 0)]));
  return line.flatMap((p) => {
    const units = p.quantity - (got.get(p.preorderId) ?? 0);
    return units > 0 ? [{ preorderId: p.preorderId, units, amount: units * p.unitPrice, whole: units === p.quantity }] : [];
  });
};

/** May this pre-order leave its batch's line? Only while none of its units has shipped. */
export const holdsNoUnits = (line: readonly LinePreorder[], shippedBySku: Readonly<Record<string, number>>, preorderId: string): boolean => {
  const p = line.find((x) => x.preorderId === preorderId);
  if (!p) return false;
  return (filled(line, p.sku, shippedBySku[p.sku] ?? 0).get(preorderId) ?? 0) === 0;
};

const weekMs = 7 * 24 * 3600_000;
const dayMs = 24 * 3600_000;

/** A committed ship date (YYYY-MM-DD) as the last moment of that day, UTC. */
export const endOfDay = (date: string): string => `${date}T23:59:59.999Z`;

/**
 * The ship date a buyer is now promised, when it is later than the one they
 * have: the factory's committed date (end of that day, UTC) when it is later;
 * and once a promise has passed unshipped, a week past it (then a week past
 * that, and so on), so a slipping batch moves its buyers' date in steps they
 * are told about, not every minute.
 */
export const delayedDate = (input: { promisedShipBy: string; committedShipDate?: string; now: Date }): string | undefined => {
  const promised = Date.parse(input.promisedShipBy);
  const committed = input.committedShipDate ? Date.parse(endOfDay(input.committedShipDate)) : 0;
  const late = input.now.getTime() - promised;
  const slipped = late > 0 ? promised + Math.ceil(late / weekMs) * weekMs : 0;
  const next = Math.max(committed, slipped);
  return next > promised ? new Date(next).toISOString() : undefined;
};

/** A histogram { value: count } as [value, count] pairs with a count, smallest value first, and their total. */
export const histogramEntries = (histogram: Readonly<Record<string, number>>) => {
  const entries = Object.entries(histogram)
    .map(([k, n]) => [Number(k), n] as const)
    .filter(([, n]) => n > 0)
    .sort((a, b) => a[0] - b[0]);
  return { entries, total: entries.reduce((s, [, n]) => s + n, 0) };
};

/** Median of a histogram { value: count } (days from pre-order to delivery), or undefined when empty. */
export const medianOf = (histogram: Readonly<Record<string, number>>): number | undefined => {
  const { entries, total } = histogramEntries(histogram);
  if (total === 0) return undefined;
  const lowMid = Math.floor((total - 1) / 2);
  const highMid = Math.floor(total / 2);
  let seen = 0;
  let low: number | undefined;
  for (const [value, n] of entries) {
    if (low === undefined && seen + n > lowMid) low = value;
    if (seen + n > highMid) return ((low ?? value) + value) / 2;
    seen += n;
  }
  return undefined;
};

/**
 * The latest a pre-order's units may ship: the date promised when it was
 * placed plus the campaign's ceiling (`maxDelayDays`). Past it, what has not
 * shipped is refunded by the clock, whatever the factory says.
 */
export const ceilingOf = (p: { readonly originalPromisedShipBy: string }, maxDelayDays: number): string =>
  new Date(Date.parse(p.originalPromisedShipBy) + maxDelayDays * dayMs).toISOString();

/**
 * A campaign's ceiling: every pre-order of it was promised, when placed, the
 * campaign's close plus its promised days. A close moved later while open
 * promises later buyers a later date, but the earliest buyers keep theirs, so
 * the ceiling counts from the first close: no one's promise is broken.
 */
export const campaignCeiling = (c: {
  readonly closesAt: string;
  readonly firstClosesAt?: string;
  readonly promisedShipDays: number;
  readonly maxDelayDays: number;
}): string => ceilingOf({ originalPromisedShipBy: promisedShipBy({ ...c, closesAt: c.firstClosesAt ?? c.closesAt }) }, c.maxDelayDays);

/** The earlier of a date and an optional ceiling: nothing is promised past the ceiling. */
export const notPast = (date: string, ceiling: string | undefined): string => (ceiling !== undefined && ceiling < date ? ceiling : date);

/**
 * What a buyer is owed for units shipped after the original promise: the
 * campaign's share of the pre-order's amount, rounded to the minor unit and
 * kept between its bounds (Pinduoduo pays 10 % within 5–100 yuan). Zero when
 * the campaign promises none or the lot was on time.
 */
export const lateCompensation = (
  terms: { readonly percent: number; readonly minAmount: number; readonly maxAmount: number } | undefined,
  p: { readonly amount: number; readonly originalPromisedShipBy: string },
  shippedAt: string,
): number => {
  if (!terms || shippedAt <= p.originalPromisedShipBy) return 0;
  return Math.min(terms.maxAmount, Math.max(terms.minAmount, Math.round((p.amount * terms.percent) / 100)));
};
