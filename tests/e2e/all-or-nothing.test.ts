import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { LocalRuntime } from '../../lib/local/runtime.ts';
import { campaignDraft, clientFor, preorderDraft, registerFactories, startTestRuntime } from '../support/runtime.ts';

/**
 * All-or-nothing, over HTTP on the local runtime: nothing of a campaign below
 * its minimum reaches a factory (its batch list, a manifest, an event a
 * webhook would carry), and a failed campaign refunds every pre-order,
 * whatever state it reached.
 */
let runtime: LocalRuntime;
let anchor: ReturnType<typeof clientFor>;
let buyer: ReturnType<typeof clientFor>;

beforeAll(async () => {
  runtime = await startTestRuntime();
  anchor = clientFor(runtime, 'anchor', 'anchor-aon');
  buyer = clientFor(runtime, 'buyer', 'buyer-aon');
  await registerFactories(runtime, 'factory-aon-2', 'factory-aon-10', 'factory-aon-25', 'factory-aon-first', 'factory-aon-withdraw');
});
afterAll(() => runtime?.stop());

type Preorder = { preorderId: string; status: string; batchId?: string; amount: number; refundedAmount: number; sku: string };
type Batch = { batchId: string; campaignId: string; status: string; withdrawnAt?: string; lines: { sku: string; quantity: number }[] };
type Demand = { totals: { ordered: number; batched: number; waiting: number; cancelled: number } };

const factoryClient = (id: string) => clientFor(runtime, 'factory', id);

const open = async (terms: Record<string, unknown>) => {
  const r = await anchor.post<{ campaignId: string }>('/v1/campaigns', campaignDraft(terms));
  expect(r.status).toBe(201);
  return r.body.campaignId;
};

const order = async (campaignId: string, quantities: number[], sku = 'SHIRT-M') => {
  const ids: string[] = [];
  for (const quantity of quantities) {
    const r = await buyer.post<Preorder>(`/v1/campaigns/${campaignId}/preorders`, preorderDraft({ quantity, sku }));
    expect(r.status).toBe(202);
    ids.push(r.body.preorderId);
  }
  // Intake, the cutter and the notifier have all looked at every pre-order.
  await runtime.emulator.drain();
  return ids;
};

const read = (id: string) => buyer.get<Preorder>(`/v1/preorders/${id}`).then((r) => r.body);
const batchesOf = async (factoryId: string, campaignId: string) =>
  (await factoryClient(factoryId).get<{ items: Batch[] }>('/v1/factory/batches?limit=200')).body.items.filter((b) => b.campaignId === campaignId);
const eventsOf = (type: string, campaignId: string) =>
  runtime.emulator.events.filter((e) => e.detailType === type && (e.detail as { campaignId?: string }).campaignId === campaignId);

describe('All-or-nothing: no batch below the minimum, whatever the lot size', () => {
  for (const lotSize of [2, 10, 25]) {
    const relation = lotSize < 10 ? 'lot < minimum' : lotSize === 10 ? 'lot = minimum' : 'lot > minimum';
    it(`(${relation}) four pre-orders in a campaign of minimum 10 reach no factory; closing fails it and refunds all four`, async () => {
      const factoryId = `factory-aon-${lotSize}`;
      const campaignId = await open({ factoryId, lotSize, minTotalQuantity: 10 });
      const ids = await order(campaignId, [1, 1, 1, 1]);

      // While below the minimum: every pre-order waits, the factory has nothing.
      expect((await Promise.all(ids.map(read))).map((p) => p.status)).toEqual(['ACCEPTED', 'ACCEPTED', 'ACCEPTED', 'ACCEPTED']);
      expect(await batchesOf(factoryId, campaignId)).toEqual([]);
      expect(eventsOf('batch.released', campaignId)).toEqual([]);
      const campaign = await anchor.get<{ minimumMetAt?: string }>(`/v1/campaigns/${campaignId}`);
      expect(campaign.body.minimumMetAt).toBeUndefined();

      expect((await anchor.post<{ status: string }>(`/v1/campaigns/${campaignId}/close`)).body.status).toBe('FAILED');
      await runtime.emulator.drain();
      const after = await Promise.all(ids.map(read));
      expect(after.map((p) => p.status)).toEqual(['REFUNDED', 'REFUNDED', 'REFUNDED', 'REFUNDED']);
      for (const p of after) expect(p.refundedAmount).toBe(p.amount);
      expect(await batchesOf(factoryId, campaignId)).toEqual([]);
      expect(eventsOf('batch.released', campaignId)).toEqual([]);
      const demand = (await anchor.get<Demand>(`/v1/campaigns/${campaignId}/demand`)).body;
      expect(demand.totals).toMatchObject({ ordered: 4, cancelled: 4, batched: 0, waiting: 0 });
    });
  }

  it('Once the minimum is met the first batch takes the whole minimum, not one lot, so later cancels cannot sink it', async () => {
    const factoryId = 'factory-aon-first';
    const campaignId = await open({ factoryId, lotSize: 2, minTotalQuantity: 6 });
    const first = await order(campaignId, [1, 1, 1, 1, 1]);
    expect(await batchesOf(factoryId, campaignId)).toEqual([]);
    const [sixth] = await order(campaignId, [1]);
    const batches = await batchesOf(factoryId, campaignId);
    expect(batches).toHaveLength(1);
    expect(batches[0]!.lines).toMatchObject([{ sku: 'SHIRT-M', quantity: 6 }]);
    expect((await Promise.all([...first, sixth!].map(read))).every((p) => p.status === 'BATCHED')).toBe(true);
    expect((await anchor.get<{ minimumMetAt?: string }>(`/v1/campaigns/${campaignId}`)).body.minimumMetAt).toEqual(expect.any(String));

    // Past the minimum, plain lots.
    await order(campaignId, [1, 1]);
    const lots = await batchesOf(factoryId, campaignId);
    expect(lots.map((b) => b.lines[0]!.quantity).sort()).toEqual([2, 6]);
    // A waiting pre-order's cancel leaves the campaign at its minimum: batched units cannot be cancelled.
    const [late] = await order(campaignId, [1]);
    expect((await buyer.post(`/v1/preorders/${late}/cancel`)).status).toBe(200);
    expect((await anchor.post<{ status: string }>(`/v1/campaigns/${campaignId}/close`)).body.status).toBe('CLOSED');
  });

  it('A campaign taken back below its minimum by a factory that declined a batch fails at close: its other batch is withdrawn and every buyer refunded', async () => {
    const factoryId = 'factory-aon-withdraw';
    const campaignId = await open({ factoryId, lotSize: 2, minTotalQuantity: 4 });
    const firstLot = await order(campaignId, [1, 1, 1, 1]);
    const secondLot = await order(campaignId, [1, 1]);
    const batches = await batchesOf(factoryId, campaignId);
    expect(batches).toHaveLength(2);
    const big = batches.find((b) => b.lines[0]!.quantity === 4)!;
    const small = batches.find((b) => b.lines[0]!.quantity === 2)!;
    const factory = factoryClient(factoryId);
    // The factory accepts the small batch, then declines the big one; no backup, so its four buyers are refunded.
    expect((await factory.post(`/v1/factory/batches/${small.batchId}/accept`, { committedShipDate: new Date(Date.now() + 5 * 86400_000).toISOString().slice(0, 10) })).status).toBe(200);
    expect((await factory.post(`/v1/factory/batches/${big.batchId}/reject`, { reason: 'kiln down' })).status).toBe(200);
    await runtime.emulator.drain();
    expect((await Promise.all(firstLot.map(read))).every((p) => p.status === 'REFUNDED')).toBe(true);

    // Two units left against a minimum of four: closing fails the campaign.
    expect((await anchor.post<{ status: string }>(`/v1/campaigns/${campaignId}/close`)).body.status).toBe('FAILED');
    await runtime.emulator.drain();
    const refunded = await Promise.all(secondLot.map(read));
    expect(refunded.map((p) => p.status)).toEqual(['REFUNDED', 'REFUNDED']);
    for (const p of refunded) expect(p.refundedAmount).toBe(p.amount);

    const withdrawn = (await factory.get<Batch>(`/v1/factory/batches/${small.batchId}`)).body;
    expect(withdrawn.status).toBe('WITHDRAWN');
    expect(withdrawn.withdrawnAt).toEqual(expect.any(String));
    expect((await factory.get(`/v1/factory/batches/${small.batchId}/manifest`)).status).toBe(409);
    // The factory can do nothing more with it.
    expect((await factory.post(`/v1/factory/batches/${small.batchId}/progress`, { produced: 1, qcPassed: 1, qcFailed: 0 })).status).toBe(409);
    const told = eventsOf('batch.units_withdrawn', campaignId);
    expect(told).toHaveLength(1);
    expect(told[0]!.detail).toMatchObject({ batchId: small.batchId, factoryId, lines: [{ sku: 'SHIRT-M', quantity: 2 }], reason: 'campaign-failed' });
    const demand = (await anchor.get<Demand>(`/v1/campaigns/${campaignId}/demand`)).body;
    expect(demand.totals).toMatchObject({ ordered: 6, cancelled: 6, batched: 0, waiting: 0 });
  });
});
