import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { LocalRuntime } from '../../lib/local/runtime.ts';
import { campaignDraft, clientFor, registerFactories, startTestRuntime } from '../support/runtime.ts';

let runtime: LocalRuntime;
let anchor: ReturnType<typeof clientFor>;
let liveroom: ReturnType<typeof clientFor>;

beforeAll(async () => {
  runtime = await startTestRuntime();
  anchor = clientFor(runtime, 'anchor', 'anchor-1');
  liveroom = clientFor(runtime, 'liveroom', 'room-1');
  await registerFactories(runtime, 'factory-1');
});
afterAll(() => runtime?.stop());

const openCampaign = async (overrides: Record<string, unknown> = {}) => {
  const res = await anchor.post<{ campaignId: string }>('/v1/campaigns', campaignDraft(overrides));
  expect(res.status).toBe(201);
  return res.body.campaignId;
};

type Counts = { view: number; like: number; cart: number; want: number; share: number };
type Problem = { status: number; detail: string; errors?: { path: string; message: string }[] };
type Demand = { variants: { sku: string; signals?: Counts & { last15m: Counts } }[] };

const none: Counts = { view: 0, like: 0, cart: 0, want: 0, share: 0 };
const signal = (campaignId: string, overrides: Record<string, unknown> = {}) => ({
  campaignId,
  sku: 'SHIRT-M',
  type: 'like',
  count: 1,
  at: new Date().toISOString(),
  ...overrides,
});

/** The demand endpoint's signals for `sku`, once they equal `wanted` (the aggregator runs behind a queue), or the last seen after the timeout. */
const signalsOf = async (campaignId: string, sku: string, wanted: unknown, timeoutMs = 15_000) => {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const res = await anchor.get<Demand>(`/v1/campaigns/${campaignId}/demand`);
    expect(res.status).toBe(200);
    const seen = res.body.variants.find((v) => v.sku === sku)?.signals;
    if (JSON.stringify(seen) === JSON.stringify(wanted) || Date.now() > deadline) return seen;
    await new Promise((r) => setTimeout(r, 100));
  }
};

const fieldsOf = (body: Problem) => (body.errors ?? []).map((e) => e.path);

describe('Live room signals over HTTP on the local runtime', () => {
  it('When a live room posts signals, it is 202 with the number accepted, and the anchor sees them in demand per variant', async () => {
    const campaignId = await openCampaign();
    const res = await liveroom.post<{ accepted: number }>('/v1/signals', {
      signals: [
        signal(campaignId, { type: 'view', count: 120 }),
        signal(campaignId, { type: 'like', count: 30 }),
        signal(campaignId, { type: 'cart', count: 4 }),
        signal(campaignId, { type: 'want', count: 9 }),
        signal(campaignId, { sku: 'SHIRT-S', type: 'share', count: 2 }),
        signal(campaignId, { type: 'view', count: 80 }),
        // Without a sku: a campaign-wide signal, not any variant's.
        { campaignId, type: 'view', count: 1000, at: new Date().toISOString() },
        // An hour ago: in the total, not in the last 15 minutes.
        signal(campaignId, { type: 'cart', count: 5, at: new Date(Date.now() - 3600_000).toISOString() }),
      ],
    });
    expect(res.status).toBe(202);
    expect(res.body).toEqual({ accepted: 8, rejected: [] });

    const m = { view: 200, like: 30, cart: 9, want: 9, share: 0, last15m: { view: 200, like: 30, cart: 4, want: 9, share: 0 } };
    expect(await signalsOf(campaignId, 'SHIRT-M', m)).toEqual(m);
    const s = { ...none, share: 2, last15m: { ...none, share: 2 } };
    expect(await signalsOf(campaignId, 'SHIRT-S', s)).toEqual(s);

    // The signal without a sku is the campaign's: shown apart, and in the totals with every variant's.
    const demand = await anchor.get<{ signalsWithoutSku: unknown; totals: { signals: unknown } }>(`/v1/campaigns/${campaignId}/demand`);
    expect(demand.body.signalsWithoutSku).toEqual({ ...none, view: 1000, last15m: { ...none, view: 1000 } });
    expect(demand.body.totals.signals).toEqual({
      view: 1200,
      like: 30,
      cart: 9,
      want: 9,
      share: 2,
      last15m: { view: 1200, like: 30, cart: 4, want: 9, share: 2 },
    });
  });

  it('Invalid signals are 400 naming the field that is wrong, and nothing is counted', async () => {
    const campaignId = await openCampaign();
    const cases: [string, unknown, string, RegExp?][] = [
      ['no signals', { signals: [] }, 'signals'],
      ['501 signals', { signals: Array.from({ length: 501 }, () => signal(campaignId)) }, 'signals'],
      ['a type not in the list', { signals: [signal(campaignId, { type: 'dislike' })] }, 'signals.0.type'],
      ['a count of 0', { signals: [signal(campaignId), signal(campaignId, { count: 0 })] }, 'signals.1.count'],
      ['an unknown campaign', { signals: [signal('cmp_000000000000000000000000')] }, 'signals.0.campaignId', /no such campaign/],
      ['a sku the campaign does not sell', { signals: [signal(campaignId), signal(campaignId, { sku: 'HAT-L' })] }, 'signals.1.sku', /SHIRT-S, SHIRT-M/],
      ['an `at` more than 24 hours old', { signals: [signal(campaignId, { at: new Date(Date.now() - 25 * 3600_000).toISOString() })] }, 'signals.0.at', /24 hours/],
      ['an `at` more than 5 minutes ahead', { signals: [signal(campaignId, { at: new Date(Date.now() + 10 * 60_000).toISOString() })] }, 'signals.0.at', /future/],
    ];
    for (const [name, body, field, message] of cases) {
      const res = await liveroom.post<Problem>('/v1/signals', body);
      expect(res.status, name).toBe(400);
      expect(res.headers.get('content-type'), name).toContain('application/problem+json');
      expect(fieldsOf(res.body), name).toContain(field);
      if (message) expect(res.body.errors?.find((e) => e.path === field)?.message, name).toMatch(message);
    }

    await runtime.emulator.drain(20_000);
    expect(await signalsOf(campaignId, 'SHIRT-M', { ...none, last15m: none }, 0)).toEqual({ ...none, last15m: none });
  });

  it('Only a live room may post signals: a buyer is 403 whatever the body', async () => {
    const campaignId = await openCampaign();
    const buyer = clientFor(runtime, 'buyer', 'buyer-1');
    expect((await buyer.post('/v1/signals', { signals: [signal(campaignId)] })).status).toBe(403);
    expect((await buyer.post('/v1/signals', { signals: [] })).status).toBe(403);
    expect((await anchor.post('/v1/signals', { signals: [signal(campaignId)] })).status).toBe(403);
  });

  it('When a live room retries with one Idempotency-Key, the signals count once; the key with another body is 409', async () => {
    const campaignId = await openCampaign();
    const body = { signals: [signal(campaignId, { type: 'want', count: 7 }), signal(campaignId, { type: 'cart', count: 3 })] };
    const withKey = { idempotencyKey: 'burst-42' };
    const replies = [await liveroom.post('/v1/signals', body, withKey)];
    replies.push(...(await Promise.all([0, 1].map(() => liveroom.post('/v1/signals', body, withKey)))));
    replies.push(await liveroom.post('/v1/signals', body, withKey));
    expect(replies.map((r) => r.status)).toEqual([202, 202, 202, 202]);
    for (const r of replies) expect(r.body).toEqual({ accepted: 2, rejected: [] });

    const reused = await liveroom.post<Problem>('/v1/signals', { signals: [signal(campaignId, { type: 'want', count: 700 })] }, withKey);
    expect(reused.status).toBe(409);
    expect(reused.headers.get('content-type')).toContain('application/problem+json');

    // Another live room's key is its own.
    const other = clientFor(runtime, 'liveroom', 'room-2');
    expect((await other.post('/v1/signals', { signals: [signal(campaignId, { type: 'share', count: 1 })] }, withKey)).status).toBe(202);

    await runtime.emulator.drain(20_000);
    const wanted = { ...none, want: 7, cart: 3, share: 1, last15m: { ...none, want: 7, cart: 3, share: 1 } };
    expect(await signalsOf(campaignId, 'SHIRT-M', wanted)).toEqual(wanted);
  });

  describe("A campaign's own live rooms", () => {
    type Answer = { accepted: number; rejected: { index: number; reason: string }[] };
    const roomA = () => clientFor(runtime, 'liveroom', 'room-a');
    const roomB = () => clientFor(runtime, 'liveroom', 'room-b');
    const notOurs = { reason: expect.stringMatching(/not one of the campaign's rooms/) as unknown as string };

    it("When a campaign names room-a, room-a's signals count and room-b's are 202 but listed as rejected by index, and never reach demand", async () => {
      const campaignId = await openCampaign({ liveRoomIds: ['room-a'] });

      const fromA = await roomA().post<Answer>('/v1/signals', { signals: [signal(campaignId, { type: 'want', count: 5 })] });
      expect(fromA.status).toBe(202);
      expect(fromA.body).toEqual({ accepted: 1, rejected: [] });

      const fromB = await roomB().post<Answer>('/v1/signals', {
        signals: [signal(campaignId, { type: 'like', count: 100 }), signal(campaignId, { type: 'want', count: 50 })],
      });
      expect(fromB.status).toBe(202);
      expect(fromB.body).toEqual({ accepted: 0, rejected: [{ index: 0, ...notOurs }, { index: 1, ...notOurs }] });

      await runtime.emulator.drain(20_000);
      const onlyA = { ...none, want: 5, last15m: { ...none, want: 5 } };
      expect(await signalsOf(campaignId, 'SHIRT-M', onlyA, 0)).toEqual(onlyA);
    });

    it('When one call mixes campaigns, only the signals of rooms each campaign accepts count; a campaign without liveRoomIds takes any room', async () => {
      const own = await openCampaign({ liveRoomIds: ['room-a', 'room-c'] });
      const open = await openCampaign();

      const mixed = await roomB().post<Answer>('/v1/signals', {
        signals: [
          signal(open, { type: 'cart', count: 3 }),
          signal(own, { type: 'view', count: 40 }),
          signal(open, { sku: 'SHIRT-S', type: 'share', count: 2 }),
          signal(own, { sku: 'SHIRT-S', type: 'want', count: 9 }),
        ],
      });
      expect(mixed.status).toBe(202);
      expect(mixed.body).toEqual({ accepted: 2, rejected: [{ index: 1, ...notOurs }, { index: 3, ...notOurs }] });
      const fromA = await roomA().post<Answer>('/v1/signals', { signals: [signal(own, { type: 'view', count: 7 }), signal(open, { type: 'view', count: 1 })] });
      expect(fromA.body).toEqual({ accepted: 2, rejected: [] });

      await runtime.emulator.drain(20_000);
      const openM = { ...none, cart: 3, view: 1, last15m: { ...none, cart: 3, view: 1 } };
      const openS = { ...none, share: 2, last15m: { ...none, share: 2 } };
      const ownM = { ...none, view: 7, last15m: { ...none, view: 7 } };
      const ownS = { ...none, last15m: none };
      expect(await signalsOf(open, 'SHIRT-M', openM, 0)).toEqual(openM);
      expect(await signalsOf(open, 'SHIRT-S', openS, 0)).toEqual(openS);
      expect(await signalsOf(own, 'SHIRT-M', ownM, 0)).toEqual(ownM);
      expect(await signalsOf(own, 'SHIRT-S', ownS, 0)).toEqual(ownS);
    });

    it('When a room retries a call with one Idempotency-Key, every reply is the first one, rejections included, and it counts once', async () => {
      const own = await openCampaign({ liveRoomIds: ['room-a'] });
      const open = await openCampaign();
      const body = { signals: [signal(own, { type: 'want', count: 4 }), signal(open, { type: 'want', count: 6 })] };
      const withKey = { idempotencyKey: 'mixed-burst-1' };
      const replies = [await roomB().post<Answer>('/v1/signals', body, withKey)];
      replies.push(...(await Promise.all([0, 1].map(() => roomB().post<Answer>('/v1/signals', body, withKey)))));
      expect(replies.map((r) => r.status)).toEqual([202, 202, 202]);
      for (const r of replies) expect(r.body).toEqual({ accepted: 1, rejected: [{ index: 0, ...notOurs }] });

      const allRejected = { signals: [signal(own, { type: 'like', count: 8 })] };
      const first = await roomB().post<Answer>('/v1/signals', allRejected, { idempotencyKey: 'all-rejected-1' });
      const again = await roomB().post<Answer>('/v1/signals', allRejected, { idempotencyKey: 'all-rejected-1' });
      expect([first.status, again.status]).toEqual([202, 202]);
      expect(again.body).toEqual(first.body);
      expect(first.body).toEqual({ accepted: 0, rejected: [{ index: 0, ...notOurs }] });

      await runtime.emulator.drain(20_000);
      const openM = { ...none, want: 6, last15m: { ...none, want: 6 } };
      expect(await signalsOf(open, 'SHIRT-M', openM, 0)).toEqual(openM);
      expect(await signalsOf(own, 'SHIRT-M', { ...none, last15m: none }, 0)).toEqual({ ...none, last15m: none });
    });
  });
});
