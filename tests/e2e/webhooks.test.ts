import { randomUUID } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { LocalRuntime } from '../../lib/local/runtime.ts';
import { campaignDraft, clientFor, preorderDraft, registerFactories, startTestRuntime } from '../support/runtime.ts';
import { startWebhookReceiver, type Received } from '../support/webhook-receiver.ts';

/**
 * Factory webhooks as a factory sees them: HTTP to the local runtime, and a
 * receiver of its own on 127.0.0.1 that checks every signature the way
 * docs/webhooks.md says. Retries are 1 s apart here (the deliverer's settings),
 * so the eight tries before a delivery is FAILED take seconds, not hours.
 */
let runtime: LocalRuntime;
let anchor: ReturnType<typeof clientFor>;
let buyer: ReturnType<typeof clientFor>;

beforeAll(async () => {
  runtime = await startTestRuntime({
    settings: { 'webhook-deliverer': { WEBHOOK_RETRY_BASE_SECONDS: '1', WEBHOOK_RETRY_MAX_SECONDS: '1', WEBHOOK_TIMEOUT_SECONDS: '5' } },
  });
  anchor = clientFor(runtime, 'anchor', 'anchor-1');
  buyer = clientFor(runtime, 'buyer', 'buyer-1');
});
afterAll(() => runtime?.stop());

type Problem = { status: number; errors?: { path: string }[] };
type Created = { webhookId: string; secret: string; url: string; events: string[]; status: string };
type Delivery = {
  deliveryId: string;
  eventId: string;
  eventType: string;
  sequence: number;
  status: string;
  attempts: { at: string; statusCode?: number; error?: string }[];
};

const until = async <T>(probe: () => Promise<T>, done: (t: T) => boolean, timeoutMs = 40_000): Promise<T> => {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const value = await probe();
    if (done(value) || Date.now() > deadline) return value;
    await new Promise((r) => setTimeout(r, 200));
  }
};

describe('Factory webhooks over HTTP on the local runtime', () => {
  const receivers: Array<{ close: () => void }> = [];
  afterAll(() => receivers.forEach((r) => r.close()));

  it('A released batch reaches the factory signed; a 500 is retried; a receiver that keeps failing ends FAILED without paging anyone; a replay delivers it', async () => {
    const factoryId = `factory-${randomUUID().slice(0, 8)}`;
    await registerFactories(runtime, factoryId);
    const factory = clientFor(runtime, 'factory', factoryId);
    const flaky = await startWebhookReceiver((n) => (n === 1 ? 500 : 200));
    let downUntilFixed = true;
    const down = await startWebhookReceiver(() => (downUntilFixed ? 500 : 200));
    receivers.push(flaky, down);

    // Prepare: two webhooks, then a campaign whose first pre-order fills a lot.
    const hookA = await factory.post<Created>('/v1/factory/webhooks', { url: flaky.url, events: ['batch.released'] });
    const hookB = await factory.post<Created>('/v1/factory/webhooks', { url: down.url, events: ['batch.released', 'batch.accepted'] });
    expect([hookA.status, hookB.status]).toEqual([201, 201]);
    expect(hookA.body.secret).not.toBe(hookB.body.secret);
    flaky.useSecret(hookA.body.secret);
    down.useSecret(hookB.body.secret);
    const campaign = await anchor.post<{ campaignId: string }>('/v1/campaigns', campaignDraft({ factoryId, lotSize: 1 }));
    expect(campaign.status).toBe(201);

    // Act: a buyer orders; the cutter releases a batch; batch.released goes to both webhooks.
    const order = await buyer.post<{ preorderId: string }>(`/v1/campaigns/${campaign.body.campaignId}/preorders`, preorderDraft());
    expect(order.status).toBe(202);

    // Assess: the flaky receiver got it twice, the second time answered 200.
    const deliveriesOf = async (webhookId: string) => (await factory.get<{ items: Delivery[] }>(`/v1/factory/webhooks/${webhookId}/deliveries`)).body.items;
    const [a] = await until(() => deliveriesOf(hookA.body.webhookId), (items) => items[0]?.status === 'DELIVERED');
    expect(a?.status).toBe('DELIVERED');
    expect(a?.attempts.map((t) => t.statusCode)).toEqual([500, 200]);
    expect(flaky.received).toHaveLength(2);
    expect(flaky.received.every((r) => r.signatureValid)).toBe(true);
    const [first, second] = flaky.received as [Received, Received];
    expect(second.body).toBe(first.body);
    const payload = JSON.parse(first.body) as { id: string; type: string; sequence: number; factoryId: string; data: { batchId: string; campaignId: string } };
    expect(payload).toMatchObject({ id: `batch.released:${payload.data.batchId}`, type: 'batch.released', factoryId, data: { campaignId: campaign.body.campaignId } });
    expect(first.headers).toMatchObject({
      'c2m-event-id': payload.id,
      'c2m-event-type': 'batch.released',
      'c2m-sequence': String(payload.sequence),
      'c2m-delivery-id': a?.deliveryId,
    });
    expect(a).toMatchObject({ eventId: payload.id, sequence: payload.sequence });

    // The other receiver never answers well: eight tries, then FAILED; its message is consumed, not dead-lettered.
    const [b] = await until(() => deliveriesOf(hookB.body.webhookId), (items) => items[0]?.status === 'FAILED');
    expect(b?.status).toBe('FAILED');
    expect(b?.attempts.map((t) => t.statusCode)).toEqual(Array(8).fill(500));
    expect(b?.eventId).toBe(payload.id);
    expect(down.received).toHaveLength(8);
    expect(down.received.every((r) => r.signatureValid && r.body === down.received[0]?.body)).toBe(true);
    // One number per event: both webhooks carry the event's.
    expect([a?.sequence, b?.sequence]).toEqual([payload.sequence, payload.sequence]);
    // A factory's endpoint being down is the factory's to fix: nothing reaches c2m's (paging) dead-letter queue.
    expect(runtime.emulator.depth('webhook-deliveries').dead).toBe(0);

    // The receiver is fixed; the factory replays the failed delivery: same event id, same body.
    downUntilFixed = false;
    const replay = await factory.post<Delivery>(`/v1/factory/webhooks/${hookB.body.webhookId}/deliveries/${b?.deliveryId}/retry`);
    expect(replay.status).toBe(202);
    expect(replay.body).toMatchObject({ deliveryId: b?.deliveryId, status: 'PENDING' });
    const [replayed] = await until(() => deliveriesOf(hookB.body.webhookId), (items) => items[0]?.status === 'DELIVERED');
    expect(replayed?.status).toBe('DELIVERED');
    expect(replayed?.attempts.at(-1)?.statusCode).toBe(200);
    expect(down.received).toHaveLength(9);
    expect(down.received[8]).toMatchObject({ signatureValid: true, body: down.received[0]?.body });
    expect(down.received[8]?.headers['c2m-event-id']).toBe(payload.id);
  });

  it("Another factory cannot see or replay a factory's webhooks and deliveries: 404, as for ids that do not exist", async () => {
    const ownerId = `factory-${randomUUID().slice(0, 8)}`;
    await registerFactories(runtime, ownerId);
    const owner = clientFor(runtime, 'factory', ownerId);
    const stranger = clientFor(runtime, 'factory', `factory-${randomUUID().slice(0, 8)}`);
    const receiver = await startWebhookReceiver(() => 200);
    receivers.push(receiver);
    const hook = await owner.post<Created>('/v1/factory/webhooks', { url: receiver.url, events: ['batch.released'] });
    expect(hook.status).toBe(201);
    // A delivery to replay: a lot of one, as above.
    const campaign = await anchor.post<{ campaignId: string }>('/v1/campaigns', campaignDraft({ factoryId: ownerId, lotSize: 1 }));
    await buyer.post(`/v1/campaigns/${campaign.body.campaignId}/preorders`, preorderDraft());
    const [delivery] = await until(
      async () => (await owner.get<{ items: Delivery[] }>(`/v1/factory/webhooks/${hook.body.webhookId}/deliveries`)).body.items,
      (items) => items[0]?.status === 'DELIVERED',
    );
    expect(delivery?.status).toBe('DELIVERED');

    expect((await stranger.get(`/v1/factory/webhooks/${hook.body.webhookId}/deliveries`)).status).toBe(404);
    expect((await stranger.post(`/v1/factory/webhooks/${hook.body.webhookId}/deliveries/${delivery?.deliveryId}/retry`)).status).toBe(404);
    expect((await stranger.get('/v1/factory/webhooks/whk_000000000000000000000000/deliveries')).status).toBe(404);
    expect((await stranger.get<{ items: unknown[] }>('/v1/factory/webhooks')).body.items).toEqual([]);
    // The owner's receiver got exactly the one delivery: nothing was replayed by the stranger.
    expect(receiver.received).toHaveLength(1);
  });

  it('Only a factory manages webhooks, and a URL c2m will not call is 400 naming url', async () => {
    const factory = clientFor(runtime, 'factory', `factory-${randomUUID().slice(0, 8)}`);
    expect((await buyer.post('/v1/factory/webhooks', { url: 'https://hooks.example.com/', events: ['batch.released'] })).status).toBe(403);
    expect((await anchor.get('/v1/factory/webhooks')).status).toBe(403);
    for (const url of ['https://192.168.0.10/hook', 'http://hooks.example.com/hook', 'https://user:pw@hooks.example.com/']) {
      const res = await factory.post<Problem>('/v1/factory/webhooks', { url, events: ['batch.released'] });
      expect(res.status, url).toBe(400);
      expect(res.body.errors?.map((e) => e.path), url).toEqual(['url']);
    }
    const badEvents = await factory.post<Problem>('/v1/factory/webhooks', { url: 'https://hooks.example.com/', events: ['campaign.opened'] });
    expect(badEvents.status).toBe(400);
    expect(badEvents.body.errors?.[0]?.path).toMatch(/^events/);
  });
});
