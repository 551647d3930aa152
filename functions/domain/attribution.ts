import type { Commission } from './campaign.ts';
import { paidOf } from './payment.ts';
import { refundedUnitsOf, type Preorder, type PreorderSource } from './preorder.ts';

/**
 * Attribution (issue 16): what each source of a campaign's pre-orders sold, net
 * of refunds, and the commission owed on it. A source is a live room, with the
 * session and the affiliate when the pre-order named them; pre-orders that named
 * none are one row of their own (`direct`).
 *
 * Money is integers in the campaign's minor units. Commission is on net GMV
 * (what buyers paid less what was refunded to them), rounded half up per row;
 * the totals are the rows' sums, so the rows always add up to them.
 */
export interface AttributionRow {
  readonly source?: PreorderSource;
  readonly preorders: number;
  readonly units: number;
  readonly refundedUnits: number;
  readonly netUnits: number;
  /** Minor units paid. */
  readonly gmv: number;
  readonly refunded: number;
  readonly netGmv: number;
  readonly anchorCommission: number;
  readonly affiliateCommission: number;
}

export type AttributionTotals = Omit<AttributionRow, 'source'>;

/** `percent` of `amount`, half up, in integers: percents have at most two decimals (basis points). */
export const percentOf = (amount: number, percent: number): number => {
  // In BigInt: amount × basis points passes 2^53 for rows above about 9 × 10^11 minor units.
  const basisPoints = BigInt(Math.round(percent * 100));
  const scaled = BigInt(amount) * basisPoints;
  const half = scaled >= 0n ? 5_000n : -5_000n;
  return Number((scaled + half) / 10_000n);
};

const keyOf = (s: PreorderSource | undefined) => (s ? JSON.stringify([s.liveRoomId, s.sessionId ?? '', s.affiliateId ?? '']) : '');

type Tally = { source?: PreorderSource; preorders: number; units: number; refundedUnits: number; gmv: number; refunded: number };

/** An aggregation fed a page of pre-orders at a time (the campaign's may not fit one read), then read once. */
export const attributionOf = (commission: Commission | undefined) => {
  const rows = new Map<string, Tally>();
  return {
    add(page: readonly Preorder[]) {
      for (const p of page) {
        const key = keyOf(p.source);
        const t = rows.get(key) ?? { ...(p.source && { source: p.source }), preorders: 0, units: 0, refundedUnits: 0, gmv: 0, refunded: 0 };
        t.preorders += 1;
        t.units += p.quantity;
        t.refundedUnits += refundedUnitsOf(p);
        t.gmv += paidOf(p);
        t.refunded += p.refundedAmount;
        rows.set(key, t);
      }
    },
    result(): { items: AttributionRow[]; totals: AttributionTotals } {
      const items: AttributionRow[] = [...rows.values()].map((t) => {
        const netGmv = t.gmv - t.refunded;
        return {
          ...(t.source && { source: t.source }),
          preorders: t.preorders,
          units: t.units,
          refundedUnits: t.refundedUnits,
          netUnits: t.units - t.refundedUnits,
          gmv: t.gmv,
          refunded: t.refunded,
          netGmv,
          anchorCommission: commission ? percentOf(netGmv, commission.anchorPercent) : 0,
          affiliateCommission: commission && t.source?.affiliateId !== undefined ? percentOf(netGmv, commission.affiliatePercent) : 0,
        };
      });
      // Biggest sellers first; ties in a stable order (room, session, affiliate), direct last among equals.
      const order = (r: AttributionRow) => (r.source ? `0${keyOf(r.source)}` : '1');
      items.sort((a, b) => b.netGmv - a.netGmv || order(a).localeCompare(order(b)));
      const sum = (f: (r: AttributionRow) => number) => items.reduce((n, r) => n + f(r), 0);
      return {
        items,
        totals: {
          preorders: sum((r) => r.preorders),
          units: sum((r) => r.units),
          refundedUnits: sum((r) => r.refundedUnits),
          netUnits: sum((r) => r.netUnits),
          gmv: sum((r) => r.gmv),
          refunded: sum((r) => r.refunded),
          netGmv: sum((r) => r.netGmv),
          anchorCommission: sum((r) => r.anchorCommission),
          affiliateCommission: sum((r) => r.affiliateCommission),
        },
      };
    },
  };
};
