import { EventBridgeClient, PutEventsCommand } from '@aws-sdk/client-eventbridge';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { localCredentials, localRegion } from '../../lib/local/dynamodb.ts';
import type { LocalRuntime } from '../../lib/local/runtime.ts';
import { campaignDraft, clientFor, preorderDraft, registerFactories, startTestRuntime, untilDrained } from '../support/runtime.ts';
import { expectPublishedEventsFitTheirSchemas } from '../support/events.ts';

/**
 * Tier pricing (阶梯价, issue 16), over HTTP against the local runtime: a
 * variant's price falls as its net sold units pass its tiers; demand says how
 * many more units unlock the next price; at close the price the sold units
 * reached is fixed, and every buyer who paid more is refunded the difference
 * on the units they keep, once, told in their language and asked of the
 * platform like any refund. A later refund pays back at the new price: money
 * stays conserved.
 */
let runtime: LocalRuntime;
let anchor: ReturnType<typeof clientFor>;
let factory: ReturnType<typeof clientFor>;
let platform: ReturnType<typeof clientFor>;
const buyers: ReturnType<typeof clientFor>[] = [];

beforeAll(async () => {
  runtime = await startTestRuntime();
  anchor = clientFor(runtime, 'anchor', 'anchor-tiers');
  factory = clientFor(runtime, 'factory', 'factory-tiers');
  platform = clientFor(runtime, 'platform', 'pay-tiers');
  await registerFactories(runtime, 'factory-tiers');
  for (let i = 0; i < 6; i++) buyers.push(clientFor(runtime, 'buyer', `buyer-tiers-${i}`));
});
afterAll(() => runtime?.stop());

type Refund = { refundId: string; amount: number; reason: string; status: string };
type Preorder = {
  preorderId: string;
  status: string;
  sku: string;
  quantity: number;
  unitPrice: number;
  amount: number;
  refundedAmount: number;
  paidAmount: number;
  finalUnitPrice: number;
  batchId?: string;
  refunds: Refund[];
  timeline: { status: string; step?: string; template: string; note: string; params: Record<string, string | number> }[];
  notifications: { template: string; message: string; locale: string }[];
};
type VariantDemand = { sku: string; ordered: number; cancelled: number; unitPriceNow?: number; nextTier?: { minUnits: number; unitPrice: number; unitsToUnlock: number } };
type NextTier = { minUnits: number; unitPrice: number; unitsToUnlock: number };
type CampaignView = {
  status: string;
  finalPrices?: Record<string, number>;
  variants: { sku: string; priceTiers?: { minUnits: number; unitPrice: number }[] }[];
  priceTiers?: { minUnits: number; unitPrice: number }[];
  nextTier?: NextTier;
  demand: VariantDemand[];
};
type Problem = { status: number; errors?: { path: string; message: string }[] };

const tiers = [
  { minUnits: 3, unitPrice: 11900 },
  { minUnits: 6, unitPrice: 9900 },
];
const tiered = (overrides: Record<string, unknown> = {}) =>
  campaignDraft({
    factoryId: 'factory-tiers',
    variants: [
      { sku: 'SHIRT-S', name: 'Small', unitPrice: 12900 },
      { sku: 'SHIRT-M', name: 'Medium', unitPrice: 12900, priceTiers: tiers },
    ],
    ...overrides,
  });

const place = async (campaignId: string, buyer: number, body: Record<string, unknown>) => {
  const res = await buyers[buyer]!.post<Preorder>(`/v1/campaigns/${campaignId}/preorders`, preorderDraft(body));
  expect(res.status, JSON.stringify(res.body)).toBe(202);
  return res.body;
};
const read = async (id: string, buyer: number) => {
  const res = await buyers[buyer]!.get<Preorder>(`/v1/preorders/${id}`);
  expect(res.status).toBe(200);
  return res.body;
};
const mediumDemand = async (campaignId: string) => {
  const res = await anchor.get<CampaignView>(`/v1/campaigns/${campaignId}`);
  expect(res.status).toBe(200);
  return res.body.demand.find((d) => d.sku === 'SHIRT-M')!;
};
/** Units the pre-order keeps: all of them unless refunded whole. */
const kept = (p: Preorder) => (p.status === 'REFUNDED' ? 0 : p.quantity);

describe('Tier pricing', () => {
  it('Tiers must go up in units and down in price, below the list price: else 400 naming the tier, and nothing is created', async () => {
    const before = (await anchor.get<{ items: unknown[] }>('/v1/campaigns?mine=true&limit=100')).body;
    const cases: [unknown, RegExp][] = [
      [[{ minUnits: 5, unitPrice: 11900 }, { minUnits: 5, unitPrice: 9900 }], /priceTiers\.1\.minUnits/],
      [[{ minUnits: 5, unitPrice: 11900 }, { minUnits: 3, unitPrice: 9900 }], /priceTiers\.1\.minUnits/],
      [[{ minUnits: 5, unitPrice: 11900 }, { minUnits: 9, unitPrice: 11900 }], /priceTiers\.1\.unitPrice/],
      [[{ minUnits: 5, unitPrice: 12900 }], /priceTiers\.0\.unitPrice/],
      [[{ minUnits: 0, unitPrice: 100 }], /priceTiers\.0\.minUnits/],
      [[{ minUnits: 5, unitPrice: 100, note: 'x' }], /priceTiers\.0/],
      [[], /priceTiers/],
    ];
    for (const [priceTiers, path] of cases) {
      const res = await anchor.post<Problem>('/v1/campaigns', tiered({ variants: [{ sku: 'SHIRT-M', name: 'Medium', unitPrice: 12900, priceTiers }] }));
      expect(res.status, JSON.stringify(priceTiers)).toBe(400);
      expect(res.body.errors?.map((e) => e.path).join(' ')).toMatch(path);
    }
    expect((await anchor.get<{ items: unknown[] }>('/v1/campaigns?mine=true&limit=100')).body.items).toHaveLength(before.items.length);
  });

  it('Demand says how many more units unlock the next price; at close the buyers who paid more are refunded the difference once, and a later refund pays back at the new price', async () => {
    const created = await anchor.post<CampaignView & { campaignId: string }>('/v1/campaigns', tiered());
    expect(created.status, JSON.stringify(created.body)).toBe(201);
    const campaignId = created.body.campaignId;
    expect(created.body.variants.find((v) => v.sku === 'SHIRT-M')!.priceTiers).toEqual(tiers);

    // Nothing sold: the list price, 3 more to unlock ¥119.
    expect(await mediumDemand(campaignId)).toMatchObject({ unitPriceNow: 12900, nextTier: { minUnits: 3, unitPrice: 11900, unitsToUnlock: 3 } });
    const a = await place(campaignId, 0, { quantity: 2, paymentRef: 'pay_tier_a' });
    const b = await place(campaignId, 1, { quantity: 2, locale: 'en', paymentRef: 'pay_tier_b' });
    const small = await place(campaignId, 2, { sku: 'SHIRT-S', quantity: 1 });
    // Everyone pays the list price when they order.
    expect([a, b].map((p) => [p.amount, p.finalUnitPrice])).toEqual([
      [25800, 12900],
      [25800, 12900],
    ]);
    await runtime.emulator.drain();
    expect(await mediumDemand(campaignId)).toMatchObject({ ordered: 4, unitPriceNow: 11900, nextTier: { minUnits: 6, unitPrice: 9900, unitsToUnlock: 2 } });
    // Two more reach the last tier; a cancel takes the campaign back below it.
    const c = await place(campaignId, 3, { quantity: 2 });
    await runtime.emulator.drain();
    const atTop = await mediumDemand(campaignId);
    expect(atTop).toMatchObject({ ordered: 6, unitPriceNow: 9900 });
    expect(atTop.nextTier).toBeUndefined();
    expect((await buyers[3]!.post(`/v1/preorders/${c.preorderId}/cancel`)).status).toBe(200);
    await runtime.emulator.drain();
    expect(await mediumDemand(campaignId)).toMatchObject({ ordered: 6, cancelled: 2, unitPriceNow: 11900, nextTier: { unitsToUnlock: 2 } });

    // Close: 4 Medium sold, ¥119 a unit. Fixed on the campaign, and applied to each Medium buyer still in.
    expect((await anchor.post<{ status: string }>(`/v1/campaigns/${campaignId}/close`)).body.status).toBe('CLOSED');
    const [pa, pb, ps, pc] = await untilDrained(
      runtime,
      () => Promise.all([read(a.preorderId, 0), read(b.preorderId, 1), read(small.preorderId, 2), read(c.preorderId, 3)]),
      (xs) => xs[0]!.refunds.length === 1 && xs[1]!.refunds.length === 1 && xs.every((p) => p.notifications.length === p.timeline.length),
    );
    const campaign = (await anchor.get<CampaignView>(`/v1/campaigns/${campaignId}`)).body;
    expect(campaign.finalPrices).toEqual({ 'SHIRT-M': 11900 });
    expect(campaign.demand.find((d) => d.sku === 'SHIRT-M')).toMatchObject({ unitPriceNow: 11900 });
    for (const p of [pa!, pb!]) {
      expect(p).toMatchObject({ paidAmount: 25800, finalUnitPrice: 11900, refundedAmount: 2000 });
      expect(p.refunds).toEqual([expect.objectContaining({ amount: 2000, reason: 'price-drop', status: 'REQUESTED' })]);
      expect(p.timeline.filter((e) => e.step === 'price-dropped')).toEqual([
        expect.objectContaining({ template: 'preorder.price_dropped', params: { units: 2, unitPrice: 11900, amount: 2000, currency: 'CNY' } }),
      ]);
      expect(p.notifications.filter((n) => n.template === 'preorder.price_dropped')).toHaveLength(1);
    }
    // Told in each buyer's language, money as money.
    expect(pa!.notifications.find((n) => n.template === 'preorder.price_dropped')!.message).toBe('参团人数达到阶梯，价格降至每件¥119.00；已为您申请退款¥20.00（您2件的差价）。');
    expect(pb!.notifications.find((n) => n.template === 'preorder.price_dropped')!.message).toBe(
      'Enough buyers joined to drop the price to ¥119.00 a unit; a refund of ¥20.00 for the difference on your 2 units is on its way to you.',
    );
    // No tiers on Small, and the cancelled buyer had everything back already: nothing more.
    expect(ps).toMatchObject({ finalUnitPrice: 12900, refundedAmount: 0, refunds: [] });
    expect(pc!.refunds.map((r) => r.reason)).toEqual(['cancelled']);
    expect(pc!.refundedAmount).toBe(pc!.paidAmount);

    // The platform is asked for each drop with the buyer's payment reference, once.
    const asked = await untilDrained(
      runtime,
      async () => runtime.emulator.events.filter((e) => e.detailType === 'refund.requested' && (e.detail as { campaignId: string }).campaignId === campaignId),
      (es) => es.length >= 3,
    );
    expect(asked.filter((e) => (e.detail as { reason: string }).reason === 'price-drop').map((e) => e.detail)).toEqual(
      expect.arrayContaining([
        expect.objectContaining({ refundId: pa!.refunds[0]!.refundId, amount: 2000, paymentRef: 'pay_tier_a', reason: 'price-drop' }),
        expect.objectContaining({ refundId: pb!.refunds[0]!.refundId, amount: 2000, paymentRef: 'pay_tier_b', reason: 'price-drop' }),
      ]),
    );
    expect((await platform.post(`/v1/payments/refunds/${pa!.refunds[0]!.refundId}/confirm`, { amount: 2000 })).status).toBe(200);

    // The close announced again (EventBridge delivers at least once): the cutter looks again, nobody is repriced twice.
    const closed = runtime.emulator.events.find((e) => e.detailType === 'campaign.closed' && (e.detail as { campaignId: string }).campaignId === campaignId)!;
    const bus = new EventBridgeClient({ endpoint: runtime.emulator.endpoint, region: localRegion, credentials: localCredentials });
    await bus.send(
      new PutEventsCommand({ Entries: [{ EventBusName: runtime.emulator.busName, Source: 'c2m', DetailType: closed.detailType, Detail: JSON.stringify(closed.detail) }] }),
    );
    await runtime.emulator.drain();
    const again = await read(a.preorderId, 0);
    expect(again.refunds).toHaveLength(1);
    expect(again.refundedAmount).toBe(2000);

    // The final batch goes to the factory, which makes nothing and closes it short: each buyer gets back what they still
    // hold, at the price they finally pay (2 × ¥119), not the list price.
    const batchId = again.batchId!;
    expect(batchId).toBeDefined();
    const path = `/v1/factory/batches/${batchId}`;
    expect((await factory.post(`${path}/accept`, { committedShipDate: new Date(Date.now() + 10 * 86_400_000).toISOString().slice(0, 10) })).status).toBe(200);
    expect((await factory.post(`${path}/close-short`, { reason: 'loom broke' })).status).toBe(200);
    const after = await untilDrained(
      runtime,
      () => Promise.all([read(a.preorderId, 0), read(b.preorderId, 1), read(small.preorderId, 2)]),
      (xs) => xs.every((p) => p.status === 'REFUNDED'),
    );
    expect(after[0]!.refunds.map((r) => [r.reason, r.amount])).toEqual([
      ['price-drop', 2000],
      ['batch-closed-short', 23800],
    ]);
    // Money conserved, for every buyer: paid − refunded = units kept × what a unit finally costs, and never more back than paid.
    for (const p of [...after, pc!]) {
      expect(p.refundedAmount).toBe(p.refunds.reduce((n, r) => n + r.amount, 0));
      expect(p.refundedAmount).toBeLessThanOrEqual(p.paidAmount);
      expect(p.paidAmount - p.refundedAmount).toBe(kept(p) * p.finalUnitPrice);
    }
    expectPublishedEventsFitTheirSchemas(runtime.emulator);
  });

  it('A campaign whose units stay below the first tier keeps its list price: no drop, no refund', async () => {
    const created = await anchor.post<{ campaignId: string }>('/v1/campaigns', tiered());
    const campaignId = created.body.campaignId;
    const p = await place(campaignId, 4, { quantity: 2 });
    expect((await anchor.post<{ status: string }>(`/v1/campaigns/${campaignId}/close`)).body.status).toBe('CLOSED');
    await runtime.emulator.drain();
    const campaign = (await anchor.get<CampaignView>(`/v1/campaigns/${campaignId}`)).body;
    expect(campaign.finalPrices).toBeUndefined();
    expect(campaign.demand.find((d) => d.sku === 'SHIRT-M')).toMatchObject({ unitPriceNow: 12900 });
    expect(await read(p.preorderId, 4)).toMatchObject({ finalUnitPrice: 12900, refundedAmount: 0, refunds: [] });
  });

  it('Tiers for the whole campaign (全场阶梯价): the units of every variant count and the price of every variant drops; the variants need one list price and no tiers of their own, else 400 naming the field', async () => {
    const before = (await anchor.get<{ items: unknown[] }>('/v1/campaigns?mine=true&limit=100')).body;
    const refused: [Record<string, unknown>, string][] = [
      // Variants at two prices: one tier price cannot replace both.
      [{ variants: [{ sku: 'SHIRT-S', name: 'Small', unitPrice: 11900 }, { sku: 'SHIRT-M', name: 'Medium', unitPrice: 12900 }], priceTiers: [{ minUnits: 3, unitPrice: 9900 }] }, 'priceTiers'],
      // Tiers twice: the campaign's and a variant's.
      [{ priceTiers: [{ minUnits: 3, unitPrice: 9900 }] }, 'variants.1.priceTiers'],
      // Not below the list price, or not ascending.
      [{ variants: [{ sku: 'SHIRT-S', name: 'Small', unitPrice: 12900 }], priceTiers: [{ minUnits: 3, unitPrice: 12900 }] }, 'priceTiers.0.unitPrice'],
      [{ variants: [{ sku: 'SHIRT-S', name: 'Small', unitPrice: 12900 }], priceTiers: [{ minUnits: 3, unitPrice: 11900 }, { minUnits: 2, unitPrice: 9900 }] }, 'priceTiers.1.minUnits'],
      // A deposit no tier price leaves a balance above.
      [
        { variants: [{ sku: 'SHIRT-S', name: 'Small', unitPrice: 12900 }], priceTiers: [{ minUnits: 3, unitPrice: 1900 }], payment: { mode: 'deposit', deposit: 2000, balanceWindowHours: 24 } },
        'payment.deposit',
      ],
    ];
    for (const [overrides, path] of refused) {
      const res = await anchor.post<Problem>('/v1/campaigns', tiered(overrides));
      expect(res.status, JSON.stringify(overrides)).toBe(400);
      expect(res.body.errors?.map((e) => e.path), JSON.stringify(overrides)).toContain(path);
    }
    expect((await anchor.get<{ items: unknown[] }>('/v1/campaigns?mine=true&limit=100')).body.items).toHaveLength(before.items.length);

    const wide = [
      { minUnits: 3, unitPrice: 11900 },
      { minUnits: 5, unitPrice: 10900 },
    ];
    const created = await anchor.post<CampaignView & { campaignId: string }>(
      '/v1/campaigns',
      tiered({ variants: [{ sku: 'SHIRT-S', name: 'Small', unitPrice: 12900 }, { sku: 'SHIRT-M', name: 'Medium', unitPrice: 12900 }], priceTiers: wide }),
    );
    expect(created.status, JSON.stringify(created.body)).toBe(201);
    const campaignId = created.body.campaignId;
    expect(created.body.priceTiers).toEqual(wide);
    const view = async () => (await anchor.get<CampaignView>(`/v1/campaigns/${campaignId}`)).body;
    expect((await view()).nextTier).toEqual({ minUnits: 3, unitPrice: 11900, unitsToUnlock: 3 });

    // Two Small and two Medium: four units of the campaign reach ¥119 for both sizes; one more unlocks ¥109.
    const s = await place(campaignId, 0, { sku: 'SHIRT-S', quantity: 2, paymentRef: 'pay_wide_s' });
    const m = await place(campaignId, 1, { sku: 'SHIRT-M', quantity: 2, locale: 'en', paymentRef: 'pay_wide_m' });
    await runtime.emulator.drain();
    const selling = await view();
    expect(selling.nextTier).toEqual({ minUnits: 5, unitPrice: 10900, unitsToUnlock: 1 });
    expect(selling.demand.map((d) => [d.sku, d.unitPriceNow, d.nextTier])).toEqual([
      ['SHIRT-S', 11900, undefined],
      ['SHIRT-M', 11900, undefined],
    ]);
    // The demand the console polls says the same.
    const demand = (await anchor.get<{ nextTier?: NextTier; variants: VariantDemand[] }>(`/v1/campaigns/${campaignId}/demand`)).body;
    expect(demand.nextTier).toEqual({ minUnits: 5, unitPrice: 10900, unitsToUnlock: 1 });
    expect(demand.variants.map((d) => d.unitPriceNow)).toEqual([11900, 11900]);
    // While OPEN the tiers cannot change: buyers ordered on them.
    const change = await anchor.patch<Problem>(`/v1/campaigns/${campaignId}`, { priceTiers: [{ minUnits: 2, unitPrice: 9900 }] });
    expect(change.status).toBe(409);
    expect(change.body.errors?.map((e) => e.path)).toEqual(['priceTiers']);

    // Close at four units: both sizes at ¥119, each buyer refunded ¥10 a unit once.
    expect((await anchor.post<{ status: string }>(`/v1/campaigns/${campaignId}/close`)).body.status).toBe('CLOSED');
    const [ps, pm] = await untilDrained(
      runtime,
      () => Promise.all([read(s.preorderId, 0), read(m.preorderId, 1)]),
      (xs) => xs.every((p) => p.refunds.length === 1 && p.notifications.length === p.timeline.length),
    );
    const closed = await view();
    expect(closed.finalPrices).toEqual({ 'SHIRT-S': 11900, 'SHIRT-M': 11900 });
    expect(closed.nextTier).toBeUndefined();
    for (const p of [ps!, pm!]) {
      expect(p).toMatchObject({ paidAmount: 25800, finalUnitPrice: 11900, refundedAmount: 2000 });
      expect(p.refunds).toEqual([expect.objectContaining({ amount: 2000, reason: 'price-drop' })]);
      expect(p.paidAmount - p.refundedAmount).toBe(kept(p) * p.finalUnitPrice);
    }
    expect(pm!.notifications.find((n) => n.template === 'preorder.price_dropped')!.message).toMatch(/¥119\.00 a unit; a refund of ¥20\.00/);
    expectPublishedEventsFitTheirSchemas(runtime.emulator);
  });
});
