import { describe, expect, it } from 'vitest';
import {
  acceptsPreordersAt,
  capSlices,
  closingStatus,
  gateShardsFor,
  newCampaign,
  planCapTakes,
  sumDemand,
} from '../../functions/domain/campaign.ts';

const draft = {
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
  promisedShipDays: 14,
};
const now = new Date('2026-11-21T12:00:00.000Z');

describe('campaign rules', () => {
  it('When no opensAt is given, the campaign opens now', () => {
    const c = newCampaign({ campaignId: 'cmp_1', anchorId: 'a', draft, now });
    expect(c.status).toBe('OPEN');
    expect(c.opensAt).toBe(now.toISOString());
  });

  it('When opensAt is in the future, the campaign waits SCHEDULED and accepts nothing until then', () => {
    const c = newCampaign({ campaignId: 'cmp_1', anchorId: 'a', draft: { ...draft, opensAt: '2026-11-22T00:00:00Z' }, now });
    expect(c.status).toBe('SCHEDULED');
    expect(acceptsPreordersAt(c, now)).toBe(false);
    expect(acceptsPreordersAt(c, new Date('2026-11-22T00:00:01Z'))).toBe(true);
  });

  it('A campaign accepts nothing at or after closesAt, even before the clock closes it', () => {
    const c = newCampaign({ campaignId: 'cmp_1', anchorId: 'a', draft, now });
    expect(acceptsPreordersAt(c, new Date('2026-12-01T11:59:59.999Z'))).toBe(true);
    expect(acceptsPreordersAt(c, new Date('2026-12-01T12:00:00.000Z'))).toBe(false);
  });

  it('Closing below the minimum (net of cancellations) fails the campaign; at the minimum it closes', () => {
    expect(closingStatus({ minTotalQuantity: 10 }, 9)).toBe('FAILED');
    expect(closingStatus({ minTotalQuantity: 10 }, 10)).toBe('CLOSED');
  });

  it('An uncapped campaign spreads writes over 64 gates; a small cap gets fewer, never zero', () => {
    expect(gateShardsFor(undefined)).toBe(64);
    expect(gateShardsFor(100)).toBe(12);
    expect(gateShardsFor(3)).toBe(1);
    expect(gateShardsFor(1_000_000)).toBe(64);
  });

  it('The cap is split over the gates without losing or inventing a unit', () => {
    for (const [cap, shards] of [[100, 12], [7, 1], [1001, 64]] as const) {
      const slices = capSlices(cap, shards);
      expect(slices).toHaveLength(shards);
      expect(slices.reduce((a, b) => a + b, 0)).toBe(cap);
      expect(Math.max(...slices) - Math.min(...slices)).toBeLessThanOrEqual(1);
    }
  });

  it('A quantity that fits one gate is taken from one gate', () => {
    expect(planCapTakes([0, 3, 0], 2, () => 0)).toEqual([{ shard: 1, units: 2 }]);
  });

  it('A quantity no single gate holds is taken from several, largest first', () => {
    expect(planCapTakes([2, 1, 3], 5)).toEqual([
      { shard: 2, units: 3 },
      { shard: 0, units: 2 },
    ]);
  });

  it('A quantity beyond what all gates hold is refused', () => {
    expect(planCapTakes([2, 1, 0], 4)).toBeUndefined();
  });

  it('Demand sums every gate per sku: waiting = ordered - cancelled - batched', () => {
    const demand = sumDemand({ variants: draft.variants, maxTotalQuantity: 20 }, [
      { ordered: { S: 3, M: 1 }, cancelled: { S: 1, M: 0 }, remaining: 4 },
      { ordered: { S: 2, M: 0 }, cancelled: { S: 0, M: 0 }, remaining: 10 },
    ]);
    expect(demand.variants).toEqual([
      { sku: 'S', ordered: 5, cancelled: 1, batched: 0, waiting: 4 },
      { sku: 'M', ordered: 1, cancelled: 0, batched: 0, waiting: 1 },
    ]);
    expect(demand.totals).toEqual({ ordered: 6, cancelled: 1, batched: 0, waiting: 5 });
    expect(demand.remaining).toBe(14);
  });
});
