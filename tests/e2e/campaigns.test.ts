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

type CampaignBody = { campaignId: string; title: string; status: string; factoryId?: string; lotSize?: number; demand: { sku: string; ordered: number }[] };

const waitFor = async <T>(probe: () => Promise<T>, done: (t: T) => boolean, timeoutMs = 20_000): Promise<T> => {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const value = await probe();
    if (done(value) || Date.now() > deadline) return value;
    await new Promise((r) => setTimeout(r, 200));
  }
};

describe('Anchor campaigns over HTTP on the local runtime', () => {
  it('When an anchor opens a campaign without opensAt, it is OPEN at once with zero demand per variant', async () => {
    const res = await anchor.post<CampaignBody>('/v1/campaigns', campaignDraft());
    expect(res.status).toBe(201);
    expect(res.body.campaignId).toMatch(/^cmp_/);
    expect(res.body.status).toBe('OPEN');
    expect(res.body.demand).toEqual([
      { sku: 'SHIRT-S', ordered: 0, cancelled: 0, batched: 0, waiting: 0 },
      { sku: 'SHIRT-M', ordered: 0, cancelled: 0, batched: 0, waiting: 0 },
    ]);
    expect(runtime.emulator.events.some((e) => e.detailType === 'campaign.opened')).toBe(true);
  });

  it('The owner sees its business terms; a buyer or another anchor sees only public fields', async () => {
    const { body } = await anchor.post<CampaignBody>('/v1/campaigns', campaignDraft());
    const own = await anchor.get<CampaignBody>(`/v1/campaigns/${body.campaignId}`);
    expect(own.body).toMatchObject({ factoryId: 'factory-1', lotSize: 50, minTotalQuantity: 1 });
    for (const viewer of [buyer, clientFor(runtime, 'anchor', 'anchor-2')]) {
      const pub = await viewer.get<CampaignBody>(`/v1/campaigns/${body.campaignId}`);
      expect(pub.status).toBe(200);
      expect(pub.body.title).toBe('Hand-stitched linen shirt');
      expect(pub.body).not.toHaveProperty('factoryId');
      expect(pub.body).not.toHaveProperty('lotSize');
      expect(pub.body).not.toHaveProperty('anchorId');
    }
  });

  it('Creating twice with one Idempotency-Key gives one campaign; the key with another body is 409', async () => {
    const withKey = { idempotencyKey: 'campaign-once' };
    const draft = campaignDraft({ closesAt: '2099-01-01T00:00:00.000Z' });
    const first = await anchor.post<CampaignBody>('/v1/campaigns', draft, withKey);
    const second = await anchor.post<CampaignBody>('/v1/campaigns', draft, withKey);
    expect([first.status, second.status]).toEqual([201, 201]);
    expect(second.body.campaignId).toBe(first.body.campaignId);
    const other = await anchor.post('/v1/campaigns', { ...draft, title: 'Another' }, withKey);
    expect(other.status).toBe(409);
    // After the campaign moved on, a replay still answers what the first call answered.
    await buyer.post(`/v1/campaigns/${first.body.campaignId}/preorders`, preorderDraft());
    expect((await anchor.post(`/v1/campaigns/${first.body.campaignId}/close`)).status).toBe(200);
    const late = await anchor.post<CampaignBody>('/v1/campaigns', draft, withKey);
    expect(late.status).toBe(201);
    expect(late.body).toEqual(first.body);
  });

  it("An anchor's list holds only its own campaigns, newest first", async () => {
    const lister = clientFor(runtime, 'anchor', 'lister');
    const a = await lister.post<CampaignBody>('/v1/campaigns', campaignDraft({ title: 'A' }));
    await new Promise((r) => setTimeout(r, 3));
    const b = await lister.post<CampaignBody>('/v1/campaigns', campaignDraft({ title: 'B' }));
    const list = await lister.get<{ items: { campaignId: string }[] }>('/v1/campaigns?mine=true');
    expect(list.body.items.map((c) => c.campaignId)).toEqual([b.body.campaignId, a.body.campaignId]);
    expect((await buyer.get('/v1/campaigns?mine=true')).status).toBe(403);
  });

  it('Closing early with enough demand is CLOSED; below minTotalQuantity it is FAILED; closing again is 409', async () => {
    const enough = await anchor.post<CampaignBody>('/v1/campaigns', campaignDraft({ minTotalQuantity: 2 }));
    await buyer.post(`/v1/campaigns/${enough.body.campaignId}/preorders`, preorderDraft({ quantity: 2 }));
    const closed = await anchor.post<CampaignBody>(`/v1/campaigns/${enough.body.campaignId}/close`);
    expect(closed.status).toBe(200);
    expect(closed.body.status).toBe('CLOSED');
    expect((await anchor.post(`/v1/campaigns/${enough.body.campaignId}/close`)).status).toBe(409);

    const short = await anchor.post<CampaignBody>('/v1/campaigns', campaignDraft({ minTotalQuantity: 5 }));
    await buyer.post(`/v1/campaigns/${short.body.campaignId}/preorders`, preorderDraft({ quantity: 4 }));
    const failed = await anchor.post<CampaignBody>(`/v1/campaigns/${short.body.campaignId}/close`);
    expect(failed.body.status).toBe('FAILED');
    expect(runtime.emulator.events.some((e) => e.detailType === 'campaign.failed')).toBe(true);
  });

  it("Another anchor can neither close a campaign nor read its demand: 404; a buyer gets 403", async () => {
    const { body } = await anchor.post<CampaignBody>('/v1/campaigns', campaignDraft());
    const other = clientFor(runtime, 'anchor', 'anchor-2');
    expect((await other.post(`/v1/campaigns/${body.campaignId}/close`)).status).toBe(404);
    expect((await other.get(`/v1/campaigns/${body.campaignId}/demand`)).status).toBe(404);
    expect((await buyer.get(`/v1/campaigns/${body.campaignId}/demand`)).status).toBe(403);
    expect((await buyer.post(`/v1/campaigns/${body.campaignId}/close`)).status).toBe(403);
    expect((await anchor.get<CampaignBody>(`/v1/campaigns/${body.campaignId}`)).body.status).toBe('OPEN');
  });

  it('The scheduler opens a campaign at opensAt and closes it at closesAt, with no request to make it happen', async () => {
    // Wide enough apart that a loaded machine still fits each request in its window.
    const opensAt = new Date(Date.now() + 3_000).toISOString();
    const closesAt = new Date(Date.now() + 9_000).toISOString();
    const { body } = await anchor.post<CampaignBody>('/v1/campaigns', campaignDraft({ opensAt, closesAt, minTotalQuantity: 0 }));
    expect(body.status).toBe('SCHEDULED');
    const early = await buyer.post(`/v1/campaigns/${body.campaignId}/preorders`, preorderDraft());
    expect(early.status).toBe(409);

    const opened = await waitFor(() => anchor.get<CampaignBody>(`/v1/campaigns/${body.campaignId}`), (r) => r.body.status !== 'SCHEDULED');
    expect(opened.body.status).toBe('OPEN');
    expect((await buyer.post(`/v1/campaigns/${body.campaignId}/preorders`, preorderDraft())).status).toBe(202);

    const closed = await waitFor(() => anchor.get<CampaignBody>(`/v1/campaigns/${body.campaignId}`), (r) => r.body.status === 'CLOSED');
    expect(closed.body.status).toBe('CLOSED');
    expect((await buyer.post(`/v1/campaigns/${body.campaignId}/preorders`, preorderDraft())).status).toBe(409);
    expect(closed.body.demand.find((d) => d.sku === 'SHIRT-M')?.ordered).toBe(1);
  });
});
