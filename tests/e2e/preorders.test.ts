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
  await registerFactories(runtime, 'factory-1');
});
afterAll(() => runtime?.stop());

const openCampaign = async (overrides: Record<string, unknown> = {}) => {
  const res = await anchor.post<{ campaignId: string }>('/v1/campaigns', campaignDraft(overrides));
  expect(res.status).toBe(201);
  return res.body.campaignId;
};

type Demand = { variants: { sku: string; ordered: number; cancelled: number; waiting: number }[]; totals: { ordered: number; waiting: number }; remaining?: number };
const demandOf = async (campaignId: string) => {
  const res = await anchor.get<Demand>(`/v1/campaigns/${campaignId}/demand`);
  expect(res.status).toBe(200);
  return res.body;
};

describe('Buyer pre-orders over HTTP on the local runtime', () => {
  it('When a buyer pre-orders, it is 202 ACCEPTED with a promised ship date, readable by that buyer', async () => {
    const campaignId = await openCampaign();
    const res = await buyer.post<{ preorderId: string; status: string; promisedShipBy: string; amount: number }>(
      `/v1/campaigns/${campaignId}/preorders`,
      preorderDraft({ quantity: 2 }),
    );
    expect(res.status).toBe(202);
    expect(res.body.status).toBe('ACCEPTED');
    expect(res.body.amount).toBe(2 * 12900);
    expect(Date.parse(res.body.promisedShipBy)).toBeGreaterThan(Date.now() + 14 * 86_400_000);
    const read = await buyer.get<{ preorderId: string; timeline: unknown[] }>(`/v1/preorders/${res.body.preorderId}`);
    expect(read.status).toBe(200);
    expect(read.body.timeline).toHaveLength(1);
    // On the buyer's list once intake has read it off the table's stream, a moment after the 202.
    await runtime.emulator.drain();
    const mine = await buyer.get<{ items: { preorderId: string }[] }>('/v1/preorders?mine=true');
    expect(mine.body.items.map((p) => p.preorderId)).toContain(res.body.preorderId);
  });

  it('When a buyer sends one pre-order 5 times with one Idempotency-Key, it is one pre-order and counts 1 in demand', async () => {
    const campaignId = await openCampaign();
    const withKey = { idempotencyKey: 'order-once-1' };
    const sequential = [];
    for (let i = 0; i < 3; i++) sequential.push(await buyer.post(`/v1/campaigns/${campaignId}/preorders`, preorderDraft(), withKey));
    const concurrent = await Promise.all(
      [0, 1].map(() => buyer.post(`/v1/campaigns/${campaignId}/preorders`, preorderDraft(), withKey)),
    );
    const replies = [...sequential, ...concurrent];
    expect(replies.map((r) => r.status)).toEqual([202, 202, 202, 202, 202]);
    expect(new Set(replies.map((r) => r.body.preorderId)).size).toBe(1);
    for (const r of replies) expect(r.body).toEqual(replies[0]?.body);
    const demand = await demandOf(campaignId);
    expect(demand.totals.ordered).toBe(1);
  });

  it('When the same Idempotency-Key comes with a different body, it is 409 and nothing more is counted', async () => {
    const campaignId = await openCampaign();
    const withKey = { idempotencyKey: 'order-reused' };
    expect((await buyer.post(`/v1/campaigns/${campaignId}/preorders`, preorderDraft(), withKey)).status).toBe(202);
    const reused = await buyer.post(`/v1/campaigns/${campaignId}/preorders`, preorderDraft({ quantity: 3 }), withKey);
    expect(reused.status).toBe(409);
    expect(reused.headers.get('content-type')).toContain('application/problem+json');
    expect((await demandOf(campaignId)).totals.ordered).toBe(1);
  });

  it('When 300 buyers race for a cap of 100, exactly 100 are accepted, the rest get 409, and demand shows 100', async () => {
    const campaignId = await openCampaign({ maxTotalQuantity: 100, minTotalQuantity: 0 });
    const buyers = Array.from({ length: 300 }, (_, i) => clientFor(runtime, 'buyer', `racer-${i}`));
    const replies = await Promise.all(buyers.map((b) => b.post(`/v1/campaigns/${campaignId}/preorders`, preorderDraft())));
    const statuses = replies.map((r) => r.status);
    expect(statuses.filter((s) => s === 202)).toHaveLength(100);
    expect(statuses.filter((s) => s === 409)).toHaveLength(200);
    const demand = await demandOf(campaignId);
    expect(demand.totals.ordered).toBe(100);
    expect(demand.remaining).toBe(0);
    const refused = replies.find((r) => r.status === 409);
    expect(String(refused?.body.detail)).toMatch(/units left/);
  });

  it('A large order in a nearly sold-out campaign takes the last units across gates, and one more unit is refused', async () => {
    const campaignId = await openCampaign({ maxTotalQuantity: 40, minTotalQuantity: 0 });
    // 40 units over 5 gates of 8: 37 singles leave 3 units scattered over gates.
    for (let i = 0; i < 37; i++) expect((await buyer.post(`/v1/campaigns/${campaignId}/preorders`, preorderDraft())).status).toBe(202);
    const big = await buyer.post(`/v1/campaigns/${campaignId}/preorders`, preorderDraft({ quantity: 3 }));
    expect(big.status).toBe(202);
    expect((await buyer.post(`/v1/campaigns/${campaignId}/preorders`, preorderDraft())).status).toBe(409);
    const demand = await demandOf(campaignId);
    expect(demand.totals.ordered).toBe(40);
    expect(demand.remaining).toBe(0);
  });

  it('When a buyer cancels before batching, it is REFUNDED in full, demand drops, and a second cancel is 409 changing nothing', async () => {
    const campaignId = await openCampaign({ maxTotalQuantity: 10, minTotalQuantity: 0 });
    const placed = await buyer.post<{ preorderId: string }>(`/v1/campaigns/${campaignId}/preorders`, preorderDraft({ quantity: 4 }));
    expect(placed.status).toBe(202);
    expect((await demandOf(campaignId)).remaining).toBe(6);

    const cancelled = await buyer.post<{ status: string; refundedAmount: number; timeline: { status: string }[] }>(
      `/v1/preorders/${placed.body.preorderId}/cancel`,
    );
    expect(cancelled.status).toBe(200);
    expect(cancelled.body.status).toBe('REFUNDED');
    expect(cancelled.body.refundedAmount).toBe(4 * 12900);
    expect(cancelled.body.timeline.map((t) => t.status)).toEqual(['ACCEPTED', 'CANCELLED', 'REFUNDED']);
    const after = await demandOf(campaignId);
    expect(after.variants.find((v) => v.sku === 'SHIRT-M')).toMatchObject({ ordered: 4, cancelled: 4, waiting: 0 });
    expect(after.remaining).toBe(10);

    const again = await buyer.post(`/v1/preorders/${placed.body.preorderId}/cancel`);
    expect(again.status).toBe(409);
    expect(await demandOf(campaignId)).toEqual(after);
  });

  it('A buyer never sees or cancels another buyer’s pre-order: 404, not 403', async () => {
    const campaignId = await openCampaign();
    const placed = await buyer.post<{ preorderId: string }>(`/v1/campaigns/${campaignId}/preorders`, preorderDraft());
    const other = clientFor(runtime, 'buyer', 'buyer-2');
    expect((await other.get(`/v1/preorders/${placed.body.preorderId}`)).status).toBe(404);
    expect((await other.post(`/v1/preorders/${placed.body.preorderId}/cancel`)).status).toBe(404);
    const list = await other.get<{ items: unknown[] }>('/v1/preorders?mine=true');
    expect(list.body.items).toEqual([]);
    expect((await buyer.get(`/v1/preorders/${placed.body.preorderId}`)).status).toBe(200);
  });

  it('A closed campaign refuses pre-orders with 409, and a retry of an accepted one still replays 202', async () => {
    const campaignId = await openCampaign({ minTotalQuantity: 0 });
    const first = await buyer.post(`/v1/campaigns/${campaignId}/preorders`, preorderDraft(), { idempotencyKey: 'before-close' });
    expect(first.status).toBe(202);
    expect((await anchor.post(`/v1/campaigns/${campaignId}/close`)).status).toBe(200);
    expect((await buyer.post(`/v1/campaigns/${campaignId}/preorders`, preorderDraft())).status).toBe(409);
    const retry = await buyer.post(`/v1/campaigns/${campaignId}/preorders`, preorderDraft(), { idempotencyKey: 'before-close' });
    expect(retry.status).toBe(202);
    expect(retry.body.preorderId).toBe(first.body.preorderId);
    expect((await demandOf(campaignId)).totals.ordered).toBe(1);
  });

  it('A buyer’s list pages with limit and cursor, newest first, without repeats', async () => {
    const campaignId = await openCampaign();
    const pager = clientFor(runtime, 'buyer', 'pager');
    const ids: string[] = [];
    for (let i = 0; i < 5; i++) {
      const r = await pager.post<{ preorderId: string }>(`/v1/campaigns/${campaignId}/preorders`, preorderDraft());
      ids.push(r.body.preorderId);
      await new Promise((r) => setTimeout(r, 3)); // distinct creation times make "newest first" well defined
    }
    await runtime.emulator.drain(); // listed once intake has read them off the table's stream
    const seen: string[] = [];
    let cursor: string | undefined;
    do {
      const page = await pager.get<{ items: { preorderId: string }[]; nextCursor?: string }>(
        `/v1/preorders?mine=true&limit=2${cursor ? `&cursor=${cursor}` : ''}`,
      );
      expect(page.status).toBe(200);
      expect(page.body.items.length).toBeLessThanOrEqual(2);
      seen.push(...page.body.items.map((p) => p.preorderId));
      cursor = page.body.nextCursor;
    } while (cursor);
    expect(seen).toEqual([...ids].reverse());
  });
});
