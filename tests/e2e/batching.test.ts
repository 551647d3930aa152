import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { LocalRuntime } from '../../lib/local/runtime.ts';
import { campaignDraft, clientFor, preorderDraft, registerFactories, startTestRuntime } from '../support/runtime.ts';

let runtime: LocalRuntime;
let anchor: ReturnType<typeof clientFor>;
let buyer: ReturnType<typeof clientFor>;

beforeAll(async () => {
  runtime = await startTestRuntime();
  anchor = clientFor(runtime, 'anchor', 'anchor-1');
  buyer = clientFor(runtime, 'buyer', 'buyer-1');
  await registerFactories(runtime, 'factory-1', 'factory-forecast');
});
afterAll(() => runtime?.stop());

type PreorderBody = {
  preorderId: string;
  status: string;
  batchId?: string;
  refundedAmount: number;
  amount: number;
  timeline: { status: string; note: string; template: string; params: Record<string, unknown> }[];
};
type DemandBody = {
  variants: { sku: string; ordered: number; batched: number; waiting: number; cancelled: number; forecastFinal: number; signals: Record<string, unknown> }[];
  totals: { ordered: number; batched: number; waiting: number; cancelled: number; forecastFinal: number };
};

const until = async <T>(probe: () => Promise<T>, done: (t: T) => boolean, timeoutMs = 25_000): Promise<T> => {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const value = await probe();
    if (done(value) || Date.now() > deadline) return value;
    await new Promise((r) => setTimeout(r, 200));
  }
};

const placeSome = async (campaignId: string, quantities: number[]) => {
  const ids: string[] = [];
  for (const quantity of quantities) {
    const r = await buyer.post<PreorderBody>(`/v1/campaigns/${campaignId}/preorders`, preorderDraft({ quantity }));
    expect(r.status).toBe(202);
    ids.push(r.body.preorderId);
  }
  return ids;
};
const read = (id: string) => buyer.get<PreorderBody>(`/v1/preorders/${id}`).then((r) => r.body);

describe('Demand becomes production, over HTTP on the local runtime', () => {
  it('A campaign whose closesAt is a few seconds ahead is closed by the scheduler, and its final batch appears', async () => {
    const { body } = await anchor.post<{ campaignId: string }>(
      '/v1/campaigns',
      campaignDraft({ closesAt: new Date(Date.now() + 8_000).toISOString(), lotSize: 1_000, minTotalQuantity: 1 }),
    );
    const ids = await placeSome(body.campaignId, [1, 2, 3]);
    const last = await until(() => read(ids[2]!), (p) => p.status === 'BATCHED');
    expect(last.status).toBe('BATCHED');
    const all = await Promise.all(ids.map(read));
    expect(all.every((p) => p.status === 'BATCHED' && p.batchId === last.batchId)).toBe(true);
    expect(all[0]!.timeline.map((t) => t.status)).toEqual(['ACCEPTED', 'BATCHED']);
    // The gates count a batch's units once its cut is released (decision 28): a moment after its buyers see BATCHED.
    const demand = await until(() => anchor.get<DemandBody>(`/v1/campaigns/${body.campaignId}/demand`), (r) => r.body.totals.batched === 6);
    expect(demand.body.totals).toMatchObject({ ordered: 6, batched: 6, waiting: 0, cancelled: 0 });
    expect((await anchor.get<{ status: string }>(`/v1/campaigns/${body.campaignId}`)).body.status).toBe('CLOSED');
    // In production now: the buyer can no longer cancel.
    expect((await buyer.post(`/v1/preorders/${ids[0]}/cancel`)).status).toBe(409);
    expect(runtime.emulator.events.filter((e) => e.detailType === 'batch.released' && (e.detail as { batchId: string }).batchId === last.batchId)).toHaveLength(1);
  });

  it('A lot is cut as soon as the waiting units reach lotSize, while the campaign stays open', async () => {
    const { body } = await anchor.post<{ campaignId: string }>('/v1/campaigns', campaignDraft({ lotSize: 4 }));
    const ids = await placeSome(body.campaignId, [1, 1, 1, 1, 1]);
    await until(() => anchor.get<DemandBody>(`/v1/campaigns/${body.campaignId}/demand`), (r) => r.body.totals.batched >= 4);
    const demand = await anchor.get<DemandBody>(`/v1/campaigns/${body.campaignId}/demand`);
    expect(demand.body.totals).toMatchObject({ ordered: 5, batched: 4, waiting: 1 });
    const statuses = (await Promise.all(ids.map(read))).map((p) => p.status);
    expect(statuses.filter((s) => s === 'BATCHED')).toHaveLength(4);
    expect(statuses[4]).toBe('ACCEPTED'); // the newest waits for the next lot
  });

  it('The clock’s minute tick cuts a batch for pre-orders that waited maxWaitHours, though the lot is not full', async () => {
    const { body } = await anchor.post<{ campaignId: string }>('/v1/campaigns', campaignDraft({ lotSize: 100, maxWaitHours: 0.0005 }));
    const ids = await placeSome(body.campaignId, [1, 2]);
    await new Promise((r) => setTimeout(r, 2_000));
    await runtime.emulator.fireSchedule('campaign-sweep'); // what rate(1 minute) does on its own
    const batched = await until(() => Promise.all(ids.map(read)), (ps) => ps.every((p) => p.status === 'BATCHED'));
    expect(batched.map((p) => p.status)).toEqual(['BATCHED', 'BATCHED']);
  });

  it('A campaign that closes below its minimum fails, and every pre-order is refunded in full with the reason on its timeline', async () => {
    const { body } = await anchor.post<{ campaignId: string }>('/v1/campaigns', campaignDraft({ minTotalQuantity: 10 }));
    const ids = await placeSome(body.campaignId, [2, 3]);
    expect((await anchor.post<{ status: string }>(`/v1/campaigns/${body.campaignId}/close`)).body.status).toBe('FAILED');
    const refunded = await until(() => Promise.all(ids.map(read)), (ps) => ps.every((p) => p.status === 'REFUNDED'));
    for (const p of refunded) {
      expect(p.status).toBe('REFUNDED');
      expect(p.refundedAmount).toBe(p.amount);
      expect(p.timeline.at(-1)).toMatchObject({ template: 'preorder.refunded_campaign_failed', params: { minTotalQuantity: 10 } });
    }
    const demand = await anchor.get<DemandBody>(`/v1/campaigns/${body.campaignId}/demand`);
    expect(demand.body.totals).toMatchObject({ ordered: 5, cancelled: 5, waiting: 0, batched: 0 });
    const refundEvents = runtime.emulator.events.filter(
      (e) => e.detailType === 'preorder.refunded' && (e.detail as { campaignId: string }).campaignId === body.campaignId,
    );
    expect(new Set(refundEvents.map((e) => (e.detail as { eventId: string }).eventId)).size).toBe(2);
  });

  it('Demand shows a forecast per variant, never below what is ordered; a factory reads forecasts for its own campaigns only', async () => {
    const { body } = await anchor.post<{ campaignId: string }>('/v1/campaigns', campaignDraft({ factoryId: 'factory-forecast', lotSize: 1_000 }));
    await placeSome(body.campaignId, [2, 1]);
    const demand = await anchor.get<DemandBody>(`/v1/campaigns/${body.campaignId}/demand`);
    for (const v of demand.body.variants) {
      expect(v.forecastFinal).toBeGreaterThanOrEqual(v.ordered - v.cancelled);
      expect(v.signals).toMatchObject({ view: expect.any(Number), last15m: expect.any(Object) });
    }
    expect(demand.body.totals.forecastFinal).toBeGreaterThanOrEqual(3);

    const factory = clientFor(runtime, 'factory', 'factory-forecast');
    const mine = await factory.get<{ items: { campaignId: string; variants: { sku: string; ordered: number; forecastFinal: number }[] }[] }>('/v1/factory/forecasts');
    expect(mine.status).toBe(200);
    const item = mine.body.items.find((i) => i.campaignId === body.campaignId);
    expect(item?.variants.find((v) => v.sku === 'SHIRT-M')?.ordered).toBe(3);
    const other = clientFor(runtime, 'factory', 'someone-else');
    expect((await other.get<{ items: { campaignId: string }[] }>('/v1/factory/forecasts')).body.items.map((i) => i.campaignId)).not.toContain(body.campaignId);
    expect((await buyer.get('/v1/factory/forecasts')).status).toBe(403);
  });
});
