import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import type { LocalRuntime } from '../../lib/local/runtime.ts';
import { campaignDraft, clientFor, preorderDraft, registerFactories, startTestRuntime } from '../support/runtime.ts';

/**
 * Per-variant minimums (the dye-lot case) over HTTP: a variant below its own
 * minimum never reaches a factory; at close its buyers may switch to a variant
 * that made its own until `switchBy`, keeping their place in line; whoever has
 * not switched by then is refunded. Time past the window is moved with a
 * controlled clock (the runtime runs in this process), never waited for.
 */
let runtime: LocalRuntime;
let anchor: ReturnType<typeof clientFor>;

beforeAll(async () => {
  runtime = await startTestRuntime();
  anchor = clientFor(runtime, 'anchor', 'anchor-variants');
  await registerFactories(runtime, 'factory-1', 'factory-dye', 'factory-dye-2', 'factory-dye-3');
});
afterAll(async () => {
  vi.useRealTimers();
  await runtime?.stop();
});

type Problem = { status: number; detail: string; errors?: { path: string }[] };
type Preorder = {
  preorderId: string;
  status: string;
  sku: string;
  switchBy?: string;
  switchedFrom?: string;
  batchId?: string;
  amount: number;
  refundedAmount: number;
  notifications: { template: string; message: string }[];
};
type Batch = { batchId: string; campaignId: string; lines: { sku: string; quantity: number }[] };

const buyers = Array.from({ length: 6 }, (_, i) => `buyer-variant-${i}`);
const buyer = (i: number) => clientFor(runtime, 'buyer', buyers[i]!);

const dyeLotCampaign = async (factoryId: string, minTotalQuantity: number) => {
  const r = await anchor.post<{ campaignId: string; variants: { sku: string; minQuantity?: number }[] }>(
    '/v1/campaigns',
    campaignDraft({
      factoryId,
      lotSize: 100,
      minTotalQuantity,
      switchWindowHours: 24,
      variants: [
        { sku: 'TEE-RED', name: 'Red', unitPrice: 9900, minQuantity: 5 },
        { sku: 'TEE-BLUE', name: 'Blue', unitPrice: 9900, minQuantity: 2 },
      ],
    }),
  );
  expect(r.status).toBe(201);
  expect(r.body.variants.map((v) => v.minQuantity)).toEqual([5, 2]);
  return r.body.campaignId;
};

const place = async (i: number, campaignId: string, sku: string) => {
  const r = await buyer(i).post<Preorder>(`/v1/campaigns/${campaignId}/preorders`, preorderDraft({ sku, quantity: 1 }));
  expect(r.status).toBe(202);
  return r.body.preorderId;
};
const read = (i: number, id: string) => buyer(i).get<Preorder>(`/v1/preorders/${id}`).then((r) => r.body);
const batchesOf = async (factoryId: string, campaignId: string) =>
  (await clientFor(runtime, 'factory', factoryId).get<{ items: Batch[] }>('/v1/factory/batches?limit=200')).body.items.filter(
    (b) => b.campaignId === campaignId,
  );

/**
 * Moves the runtime's clock past the switch window, and lets the minute tick see it.
 * Time only moves forward in this file (the gateway's throttle would refuse a clock
 * that went back), so these tests run last and real time returns after all.
 */
const pastTheWindow = async () => {
  vi.useFakeTimers({ toFake: ['Date'], shouldAdvanceTime: true });
  vi.setSystemTime(Date.now() + 25 * 3600_000);
  await runtime.emulator.fireSchedule('campaign-sweep');
  await runtime.emulator.drain();
};

describe('Per-variant minimums and switching', () => {
  it('A variant that made its own minimum is cut at close with everything else that did; the one that missed never reaches the factory', async () => {
    const factoryId = 'factory-dye-3';
    const campaignId = await dyeLotCampaign(factoryId, 2);
    await place(0, campaignId, 'TEE-RED');
    await place(3, campaignId, 'TEE-BLUE');
    await place(4, campaignId, 'TEE-BLUE');
    await runtime.emulator.drain();
    expect((await anchor.post<{ status: string }>(`/v1/campaigns/${campaignId}/close`)).body.status).toBe('CLOSED');
    await runtime.emulator.drain();
    const batches = await batchesOf(factoryId, campaignId);
    expect(batches.flatMap((b) => b.lines.map((l) => l.sku))).toEqual(['TEE-BLUE']);
  });

  it('A minQuantity above maxTotalQuantity is a 400 naming that variant’s field, and no campaign is made', async () => {
    const r = await anchor.post<Problem>(
      '/v1/campaigns',
      campaignDraft({ maxTotalQuantity: 10, variants: [{ sku: 'A', name: 'A', unitPrice: 100, minQuantity: 11 }] }),
    );
    expect(r.status).toBe(400);
    expect(r.body.errors?.map((e) => e.path)).toEqual(['variants.0.minQuantity']);
    const percent = await anchor.post<Problem>('/v1/campaigns', campaignDraft({ lateCompensation: { percent: 120, minAmount: 500, maxAmount: 10000 } }));
    expect(percent.status).toBe(400);
    expect(percent.body.errors?.map((e) => e.path)).toEqual(['lateCompensation.percent']);
  });
  it('A variant below its minimum does not sink the campaign: its buyers are offered a switch, one switches and keeps its place, the rest are refunded when the window ends', async () => {
    const factoryId = 'factory-dye';
    const campaignId = await dyeLotCampaign(factoryId, 4);
    // Red (minimum 5) gets three, blue (minimum 2) three: the campaign's 4 is met, red's own is not.
    const red = [await place(0, campaignId, 'TEE-RED'), await place(1, campaignId, 'TEE-RED'), await place(2, campaignId, 'TEE-RED')];
    const blue = [await place(3, campaignId, 'TEE-BLUE'), await place(4, campaignId, 'TEE-BLUE'), await place(5, campaignId, 'TEE-BLUE')];
    await runtime.emulator.drain();

    const closed = await anchor.post<{ status: string; variantsMissed?: string[]; switchBy?: string }>(`/v1/campaigns/${campaignId}/close`);
    expect(closed.body).toMatchObject({ status: 'CLOSED', variantsMissed: ['TEE-RED'], switchBy: expect.any(String) });
    await runtime.emulator.drain();

    // Red's buyers are told, in their language, until when they may switch.
    const offered = await read(0, red[0]!);
    expect(offered.status).toBe('ACCEPTED');
    expect(offered.switchBy).toEqual(expect.any(String));
    expect(offered.notifications.map((n) => n.template)).toContain('preorder.variant_missed_minimum');
    // Blue made its own minimum, but alone (3) it is below the campaign's 4: nothing is cut until the window ends.
    expect(await batchesOf(factoryId, campaignId)).toEqual([]);

    // Refusals: a variant that missed its own minimum, an sku the campaign does not sell, someone else's pre-order.
    expect((await buyer(1).post<Problem>(`/v1/preorders/${red[1]}/switch`, { sku: 'TEE-RED' })).status).toBe(409);
    const unknown = await buyer(1).post<Problem>(`/v1/preorders/${red[1]}/switch`, { sku: 'TEE-GOLD' });
    expect(unknown.status).toBe(400);
    expect(unknown.body.errors?.map((e) => e.path)).toEqual(['sku']);
    expect((await buyer(2).post(`/v1/preorders/${red[1]}/switch`, { sku: 'TEE-BLUE' })).status).toBe(404);
    expect((await buyer(3).post(`/v1/preorders/${blue[0]}/switch`, { sku: 'TEE-RED' })).status).toBe(409);

    const switched = await buyer(0).post<Preorder>(`/v1/preorders/${red[0]}/switch`, { sku: 'TEE-BLUE' });
    expect(switched.status).toBe(200);
    expect(switched.body).toMatchObject({ sku: 'TEE-BLUE', switchedFrom: 'TEE-RED', status: 'ACCEPTED' });
    expect((await buyer(0).post(`/v1/preorders/${red[0]}/switch`, { sku: 'TEE-BLUE' })).status).toBe(409);
    const demand = await anchor.get<{ variants: { sku: string; ordered: number; waiting: number }[] }>(`/v1/campaigns/${campaignId}/demand`);
    expect(demand.body.variants).toMatchObject([
      { sku: 'TEE-RED', ordered: 2, waiting: 2 },
      { sku: 'TEE-BLUE', ordered: 4, waiting: 4 },
    ]);

    await pastTheWindow();
    // The two who did not switch are refunded in full; the switcher is in the blue batch, first in line.
    for (const [i, id] of [[1, red[1]!], [2, red[2]!]] as const) {
      const p = await read(i, id);
      expect(p.status).toBe('REFUNDED');
      expect(p.refundedAmount).toBe(p.amount);
      expect(p.notifications.map((n) => n.template)).toContain('preorder.refunded_variant_missed');
    }
    const batches = await batchesOf(factoryId, campaignId);
    expect(batches).toHaveLength(1);
    expect(batches[0]!.lines).toMatchObject([{ sku: 'TEE-BLUE', quantity: 4 }]);
    const manifest = await clientFor(runtime, 'factory', factoryId).get<{ items: { preorderId: string }[] }>(
      `/v1/factory/batches/${batches[0]!.batchId}/manifest`,
    );
    expect(manifest.body.items.map((i) => i.preorderId)).toEqual([red[0], ...blue]);
    expect((await read(0, red[0]!)).status).toBe('BATCHED');
    // The window is over.
    expect((await buyer(1).post(`/v1/preorders/${red[1]}/switch`, { sku: 'TEE-BLUE' })).status).toBe(409);
  });

  it('When nobody switches and the variants that made their minimum fall short of the campaign’s, it fails after the window and everyone is refunded', async () => {
    const factoryId = 'factory-dye-2';
    const campaignId = await dyeLotCampaign(factoryId, 4);
    const red = [await place(0, campaignId, 'TEE-RED'), await place(1, campaignId, 'TEE-RED')];
    const blue = [await place(3, campaignId, 'TEE-BLUE'), await place(4, campaignId, 'TEE-BLUE')];
    await runtime.emulator.drain();
    expect((await anchor.post<{ status: string }>(`/v1/campaigns/${campaignId}/close`)).body.status).toBe('CLOSED');
    await runtime.emulator.drain();
    expect(await batchesOf(factoryId, campaignId)).toEqual([]);

    await pastTheWindow();
    expect((await anchor.get<{ status: string }>(`/v1/campaigns/${campaignId}`)).body.status).toBe('FAILED');
    for (const [i, id] of [[0, red[0]!], [1, red[1]!], [3, blue[0]!], [4, blue[1]!]] as const) expect((await read(i, id)).status).toBe('REFUNDED');
    expect(await batchesOf(factoryId, campaignId)).toEqual([]);
  });

});
