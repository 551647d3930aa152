import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { LocalRuntime } from '../../lib/local/runtime.ts';
import { campaignDraft, clientFor, preorderDraft, registerFactories, startTestRuntime } from '../support/runtime.ts';

/** 限购 over HTTP: one buyer holds at most `maxPerBuyer` units of a campaign, however they order. */
let runtime: LocalRuntime;
let anchor: ReturnType<typeof clientFor>;

beforeAll(async () => {
  runtime = await startTestRuntime();
  anchor = clientFor(runtime, 'anchor', 'anchor-limit');
  await registerFactories(runtime, 'factory-1', 'factory-limit');
});
afterAll(() => runtime?.stop());

type Problem = { status: number; title: string; detail: string; errors?: { path: string }[] };
type Preorder = { preorderId: string; status: string };

const open = async (terms: Record<string, unknown>) => {
  const r = await anchor.post<{ campaignId: string; maxPerBuyer?: number }>('/v1/campaigns', campaignDraft({ lotSize: 1_000, ...terms }));
  expect(r.status).toBe(201);
  return r.body;
};

describe('Purchase limit (maxPerBuyer)', () => {
  it('The campaign shows its limit; a pre-order past it is 409 "Purchase limit reached" naming the limit, and nothing is written', async () => {
    const campaign = await open({ maxPerBuyer: 3 });
    expect(campaign.maxPerBuyer).toBe(3);
    const buyer = clientFor(runtime, 'buyer', 'buyer-limit-1');
    // A first order alone past the limit is refused as well.
    const tooMany = await buyer.post<Problem>(`/v1/campaigns/${campaign.campaignId}/preorders`, preorderDraft({ quantity: 4 }));
    expect(tooMany.status).toBe(409);
    expect(tooMany.body.title).toBe('Purchase limit reached');
    expect((await buyer.post(`/v1/campaigns/${campaign.campaignId}/preorders`, preorderDraft({ quantity: 2 }))).status).toBe(202);
    const refused = await buyer.post<Problem>(`/v1/campaigns/${campaign.campaignId}/preorders`, preorderDraft({ quantity: 2 }));
    expect(refused.status).toBe(409);
    expect(refused.headers.get('content-type')).toContain('application/problem+json');
    expect(refused.body.title).toBe('Purchase limit reached');
    expect(refused.body.detail).toMatch(/at most 3 units per buyer/);
    // Room for one more, and the refused order was not counted anywhere.
    expect((await buyer.post(`/v1/campaigns/${campaign.campaignId}/preorders`, preorderDraft({ quantity: 1, sku: 'SHIRT-S' }))).status).toBe(202);
    const demand = await anchor.get<{ totals: { ordered: number } }>(`/v1/campaigns/${campaign.campaignId}/demand`);
    expect(demand.body.totals.ordered).toBe(3);
    await runtime.emulator.drain(); // listed once intake has read them off the table's stream
    const mine = await buyer.get<{ items: Preorder[] }>('/v1/preorders?mine=true');
    expect(mine.body.items.filter((p) => p.status === 'ACCEPTED')).toHaveLength(2);
    // Another buyer has their own limit.
    const other = clientFor(runtime, 'buyer', 'buyer-limit-2');
    expect((await other.post(`/v1/campaigns/${campaign.campaignId}/preorders`, preorderDraft({ quantity: 3 }))).status).toBe(202);
  });

  it('Twenty concurrent orders of one unit from one buyer, each with its own Idempotency-Key, accept exactly maxPerBuyer units', async () => {
    const campaign = await open({ maxPerBuyer: 5 });
    const buyer = clientFor(runtime, 'buyer', 'buyer-limit-burst');
    const replies = await Promise.all(
      Array.from({ length: 20 }, (_, i) =>
        buyer.post<Preorder | Problem>(`/v1/campaigns/${campaign.campaignId}/preorders`, preorderDraft({ quantity: 1 }), { idempotencyKey: `tap-${i}` }),
      ),
    );
    const statuses = replies.map((r) => r.status);
    expect(statuses.filter((s) => s === 202)).toHaveLength(5);
    expect(statuses.every((s) => s === 202 || s === 409 || s === 429)).toBe(true);
    expect(replies.filter((r) => r.status === 409).every((r) => (r.body as Problem).title === 'Purchase limit reached')).toBe(true);
    const demand = await anchor.get<{ totals: { ordered: number } }>(`/v1/campaigns/${campaign.campaignId}/demand`);
    expect(demand.body.totals.ordered).toBe(5);
    // A retry of an accepted order is answered as the first time, not refused by the limit.
    const first = replies.findIndex((r) => r.status === 202);
    const retry = await buyer.post<Preorder>(`/v1/campaigns/${campaign.campaignId}/preorders`, preorderDraft({ quantity: 1 }), { idempotencyKey: `tap-${first}` });
    expect(retry.status).toBe(202);
    expect(retry.body.preorderId).toBe((replies[first]!.body as Preorder).preorderId);
  });

  it('A cancelled unit frees room again, so a buyer who cancels may order again up to the limit, but not past it', async () => {
    const campaign = await open({ maxPerBuyer: 2 });
    const buyer = clientFor(runtime, 'buyer', 'buyer-limit-cancel');
    const placed = await buyer.post<Preorder>(`/v1/campaigns/${campaign.campaignId}/preorders`, preorderDraft({ quantity: 2 }));
    expect(placed.status).toBe(202);
    expect((await buyer.post(`/v1/campaigns/${campaign.campaignId}/preorders`, preorderDraft({ quantity: 1 }))).status).toBe(409);
    expect((await buyer.post(`/v1/preorders/${placed.body.preorderId}/cancel`)).status).toBe(200);
    expect((await buyer.post(`/v1/campaigns/${campaign.campaignId}/preorders`, preorderDraft({ quantity: 2 }))).status).toBe(202);
    expect((await buyer.post(`/v1/campaigns/${campaign.campaignId}/preorders`, preorderDraft({ quantity: 1 }))).status).toBe(409);
  });

  it('Units refunded because the factory declined their batch free the room too, while the campaign still sells', async () => {
    const campaign = await open({ maxPerBuyer: 2, minTotalQuantity: 1, lotSize: 2, factoryId: 'factory-limit' });
    const buyer = clientFor(runtime, 'buyer', 'buyer-limit-declined');
    const placed = await buyer.post<Preorder>(`/v1/campaigns/${campaign.campaignId}/preorders`, preorderDraft({ quantity: 2 }));
    expect(placed.status).toBe(202);
    await runtime.emulator.drain();
    const factory = clientFor(runtime, 'factory', 'factory-limit');
    const batch = (await buyer.get<{ batchId?: string; status: string }>(`/v1/preorders/${placed.body.preorderId}`)).body;
    expect(batch.status).toBe('BATCHED');
    expect((await buyer.post(`/v1/campaigns/${campaign.campaignId}/preorders`, preorderDraft({ quantity: 1 }))).status).toBe(409);
    expect((await factory.post(`/v1/factory/batches/${batch.batchId}/reject`, { reason: 'no capacity' })).status).toBe(200);
    await runtime.emulator.drain();
    expect((await buyer.get<Preorder>(`/v1/preorders/${placed.body.preorderId}`)).body.status).toBe('REFUNDED');
    expect((await buyer.post(`/v1/campaigns/${campaign.campaignId}/preorders`, preorderDraft({ quantity: 2 }))).status).toBe(202);
  });

  it('A limit that is not a positive whole number, or above the cap, is a 400 naming maxPerBuyer, and no campaign is made', async () => {
    for (const maxPerBuyer of [-1, 0, 1.5]) {
      const r = await anchor.post<Problem>('/v1/campaigns', campaignDraft({ maxPerBuyer }));
      expect(r.status).toBe(400);
      expect(r.body.errors?.map((e) => e.path)).toContain('maxPerBuyer');
    }
    const above = await anchor.post<Problem>('/v1/campaigns', campaignDraft({ maxPerBuyer: 20, maxTotalQuantity: 10 }));
    expect(above.status).toBe(400);
    expect(above.body.errors?.map((e) => e.path)).toContain('maxPerBuyer');
    const mine = await anchor.get<{ items: { maxPerBuyer?: number }[] }>('/v1/campaigns?mine=true&limit=200');
    expect(mine.body.items.some((c) => c.maxPerBuyer === 20 || (c.maxPerBuyer ?? 1) < 1)).toBe(false);
  });
});
