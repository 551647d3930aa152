import { describe, expect, it } from 'vitest';
import { useLocalTable } from '../support/table.ts';
import { testCampaign } from '../support/campaigns.ts';

// Adapters against DynamoDB Local, in-process: no HTTP, no queues.
await useLocalTable();
const campaigns = await import('../../functions/adapters/campaign-store.ts');
const preorders = await import('../../functions/adapters/preorder-store.ts');
const { newPreorder } = await import('../../functions/domain/preorder.ts');
const { newId } = await import('../../functions/shared/ids.ts');
const { CampaignCapReachedError, CampaignNotOpenError } = await import('../../functions/domain/errors.ts');

const address = { name: 'A', phone: '+8612345', line1: 'l', city: 'c', region: 'r', postalCode: '100000', country: 'CN' };

const createCampaign = async (overrides: { maxTotalQuantity?: number; opensAt?: string; minTotalQuantity?: number } = {}) => {
  const campaign = testCampaign(overrides);
  expect((await campaigns.createCampaign(campaign, 'hash')).created).toBe(true);
  return campaign;
};

const place = (campaign: Awaited<ReturnType<typeof createCampaign>>, sku: string, quantity: number) =>
  preorders.placePreorder(
    (gateTakes) =>
      newPreorder({
        preorderId: newId('po'),
        campaign,
        buyerId: 'b',
        sku,
        unitPrice: 100,
        quantity,
        shippingAddress: address,
        gateTakes,
        now: new Date(),
      }),
    campaign,
    quantity,
    'hash',
  );

describe('Campaign gates against DynamoDB Local', () => {
  it('Concurrent placements on an uncapped campaign are all counted, per sku, across its 64 gates', async () => {
    const campaign = await createCampaign();
    expect(campaign.gateShards).toBe(64);
    const results = await Promise.all(Array.from({ length: 200 }, (_, i) => place(campaign, i % 2 ? 'A' : 'B', 1 + (i % 3))));
    expect(results.every((r) => r.placed)).toBe(true);
    const gates = await campaigns.readGates(campaign, true);
    expect(gates).toHaveLength(64);
    // Spread: no gate took more than a small share of the burst.
    const perGate = gates.map((g) => (g.ordered.A ?? 0) + (g.ordered.B ?? 0));
    expect(Math.max(...perGate)).toBeLessThan(60);
    const demand = await campaigns.readDemand(campaign, true);
    const expected = (sku: string) =>
      Array.from({ length: 200 }, (_, i) => i).filter((i) => (i % 2 ? 'A' : 'B') === sku).reduce((n, i) => n + 1 + (i % 3), 0);
    expect(demand.variants.map((v) => [v.sku, v.ordered])).toEqual([
      ['A', expected('A')],
      ['B', expected('B')],
    ]);
  });

  it('Under a cap, orders of mixed sizes never take more units than the cap, and the refusal says how many are left', async () => {
    const campaign = await createCampaign({ maxTotalQuantity: 50 });
    const settled = await Promise.allSettled(Array.from({ length: 60 }, (_, i) => place(campaign, 'A', 1 + (i % 4))));
    const accepted = settled.flatMap((s, i) => (s.status === 'fulfilled' ? [1 + (i % 4)] : []));
    const refused = settled.filter((s) => s.status === 'rejected');
    expect(refused.every((s) => s.status === 'rejected' && s.reason instanceof CampaignCapReachedError)).toBe(true);
    const units = accepted.reduce((a, b) => a + b, 0);
    expect(units).toBeLessThanOrEqual(50);
    const demand = await campaigns.readDemand(campaign, true);
    expect(demand.totals.ordered).toBe(units);
    expect(demand.remaining).toBe(50 - units);
    // What is left is less than the smallest refused order could use (1..4 units each).
    expect(50 - units).toBeLessThan(4);
  });

  it('Once closing has sealed the gates, an open that raced it cannot reopen them and nothing more is accepted', async () => {
    const campaign = await createCampaign({ opensAt: new Date(Date.now() + 60_000).toISOString() });
    expect(campaign.status).toBe('SCHEDULED');
    const closed = await campaigns.closeCampaign(campaign, new Date());
    expect(closed.transitioned).toBe(true);
    const reopened = await campaigns.openCampaign(campaign, new Date()); // a late open with a stale copy
    expect(reopened.transitioned).toBe(false);
    expect((await campaigns.readGates(campaign, true)).every((g) => !g.open)).toBe(true);
    await expect(place({ ...campaign, status: 'OPEN' }, 'A', 1)).rejects.toBeInstanceOf(CampaignNotOpenError);
  });

  it('Placements racing a close are either counted in the outcome the close decided or refused, never in between', async () => {
    const campaign = await createCampaign({ minTotalQuantity: 1 });
    const racing = Array.from({ length: 80 }, () => place(campaign, 'A', 1).then(() => 'accepted' as const, (e: unknown) => e));
    await new Promise((r) => setTimeout(r, 5));
    const closed = await campaigns.closeCampaign(campaign, new Date());
    const outcomes = await Promise.all(racing);
    const accepted = outcomes.filter((o) => o === 'accepted').length;
    expect(outcomes.every((o) => o === 'accepted' || o instanceof CampaignNotOpenError)).toBe(true);
    // The demand the close read is final: nothing accepted after it.
    expect(closed.demand.totals.ordered).toBe(accepted);
    expect((await campaigns.readDemand(campaign, true)).totals.ordered).toBe(accepted);
  });

  it('Cancelling returns units under the cap and into cancelled exactly once', async () => {
    const campaign = await createCampaign({ maxTotalQuantity: 16 });
    const placed = await place(campaign, 'B', 5);
    if (!placed.placed) throw new Error('not placed');
    const entries = [{ at: new Date().toISOString(), status: 'REFUNDED' as const, note: 'x' }];
    const [first, second] = await Promise.all([
      preorders.cancelPreorder(placed.preorder, entries, campaign, new Date(), []),
      preorders.cancelPreorder(placed.preorder, entries, campaign, new Date(), []),
    ]);
    expect([first, second].filter(Boolean)).toHaveLength(1);
    const demand = await campaigns.readDemand(campaign, true);
    expect(demand.variants.find((v) => v.sku === 'B')).toMatchObject({ ordered: 5, cancelled: 5, waiting: 0 });
    expect(demand.remaining).toBe(16);
  });

  it('A cap raised during a burst on its gates is spread over them and sold to the unit; on a stale read or after the close it changes nothing', async () => {
    const campaign = await createCampaign({ maxTotalQuantity: 40 });
    const burst = Array.from({ length: 60 }, () => place(campaign, 'A', 1).then(() => 'accepted' as const, (e: unknown) => e));
    const raised = await campaigns.changeOpenCampaign(campaign, { ...campaign, maxTotalQuantity: 50, updatedAt: new Date().toISOString() }, 10);
    const outcomes = await Promise.all(burst);
    expect(raised).toBe(true);
    expect(outcomes.every((o) => o === 'accepted' || o instanceof CampaignCapReachedError)).toBe(true);
    // 50 units want a sixth gate: read the gates the campaign has now.
    const now = (await campaigns.getCampaign(campaign.campaignId, true))!;
    expect(now.gateShards).toBe(6);
    const demand = await campaigns.readDemand(now, true);
    expect(demand.totals.ordered + (demand.remaining ?? 0)).toBe(50);
    expect(demand.totals.ordered).toBe(outcomes.filter((o) => o === 'accepted').length);

    // The change was read before another one landed: refused.
    expect(await campaigns.changeOpenCampaign(campaign, { ...campaign, maxTotalQuantity: 60 }, 20)).toBe(false);
    expect((await campaigns.getCampaign(campaign.campaignId, true))!.maxTotalQuantity).toBe(50);
    expect((await campaigns.readDemand(now, true)).remaining).toBe(demand.remaining);
    // After the close: refused, and no gate gains a unit.
    const other = await createCampaign({ maxTotalQuantity: 16 });
    await campaigns.closeCampaign(other, new Date());
    expect(await campaigns.changeOpenCampaign(other, { ...other, maxTotalQuantity: 30 }, 14)).toBe(false);
    expect((await campaigns.readDemand(other, true)).remaining).toBe(16);
  });

  it('A cap raised far past its creation size gets the gates a campaign that big would have; a close holding the old gate count seals the new ones too', async () => {
    const campaign = await createCampaign({ maxTotalQuantity: 8 });
    expect(campaign.gateShards).toBe(1);
    const stale = (await campaigns.getCampaign(campaign.campaignId, true))!;
    expect(await campaigns.changeOpenCampaign(stale, { ...stale, maxTotalQuantity: 8000, updatedAt: new Date().toISOString() }, 7992)).toBe(true);
    const raised = (await campaigns.getCampaign(campaign.campaignId, true))!;
    expect(raised.gateShards).toBe(64);
    const gates = await campaigns.readGates(raised, true);
    expect(gates).toHaveLength(64);
    expect(gates.reduce((n, g) => n + (g.remaining ?? 0), 0)).toBe(8000);
    // The new units are shared evenly (124 or 125 each); the first gate also keeps its own 8.
    expect(gates.map((g) => g.remaining ?? 0).slice(1).every((r) => r === 124 || r === 125)).toBe(true);
    expect(gates.every((g) => g.open)).toBe(true);
    const placed = await Promise.all(Array.from({ length: 40 }, () => place(raised, 'B', 2)));
    expect(placed.every((r) => r.placed)).toBe(true);

    // The close read the campaign before the raise (one gate): it seals that one, finds the count moved, and seals them all.
    const closed = await campaigns.closeCampaign(stale, new Date());
    expect(closed.campaign.status).toBe('CLOSED');
    expect(closed.demand.totals.ordered).toBe(80);
    expect((await campaigns.readGates(raised, true)).every((g) => !g.open)).toBe(true);
    await expect(place(raised, 'B', 1)).rejects.toBeInstanceOf(CampaignNotOpenError);
  });

  it('A change before opening loses to an opening that got there first: gates and cap stay as the opening left them', async () => {
    const campaign = await createCampaign({ maxTotalQuantity: 16, opensAt: new Date(Date.now() + 3600_000).toISOString() });
    const before = (await campaigns.getCampaign(campaign.campaignId, true))!;
    await campaigns.openCampaign(before, new Date());
    const next = { ...before, maxTotalQuantity: 400, gateShards: 50, updatedAt: new Date().toISOString() };
    expect((await campaigns.replaceScheduledCampaign(before, next)).changed).toBe(false);
    const gates = await campaigns.readGates(campaign, true);
    expect(gates).toHaveLength(2);
    expect(gates.every((g) => g.open)).toBe(true);
    expect((await campaigns.readDemand(campaign, true)).remaining).toBe(16);
  });
});
