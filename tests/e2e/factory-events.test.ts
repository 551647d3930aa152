import { randomUUID } from 'node:crypto';
import { once } from 'node:events';
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { DecryptCommand, KMSClient } from '@aws-sdk/client-kms';
import { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { DynamoDBDocumentClient, GetCommand } from '@aws-sdk/lib-dynamodb';
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import type { LocalRuntime } from '../../lib/local/runtime.ts';
import type { CallOptions } from '../../demo/support/api-client.ts';
import { campaignDraft, clientFor, preorderDraft, registerFactories, startTestRuntime, untilDrained } from '../support/runtime.ts';
import { startWebhookReceiver, verifySignature } from '../support/webhook-receiver.ts';

/**
 * The factory kit's event side, over HTTP on the local runtime: the change feed
 * a factory behind a firewall polls, and webhooks a factory manages itself
 * (change, disable, delete, rotate the secret, test), secrets sealed at rest,
 * a webhook that keeps failing disabled by itself, and one slow endpoint held
 * to its share of the deliverers. Retries are 1 s apart and a delivery gets
 * two tries here, so failures settle in seconds.
 */
let runtime: LocalRuntime;
let anchor: ReturnType<typeof clientFor>;
let buyer: ReturnType<typeof clientFor>;

beforeAll(async () => {
  runtime = await startTestRuntime({
    // Longer than a batch of slow POSTs takes, as on AWS (6 minutes there): a message is not handed to a second
    // deliverer while the first still holds it. Retries do not wait for it; they set their own visibility.
    visibilityTimeoutSeconds: 30,
    settings: {
      'webhook-deliverer': {
        WEBHOOK_RETRY_BASE_SECONDS: '1',
        WEBHOOK_RETRY_MAX_SECONDS: '1',
        WEBHOOK_MAX_TRIES: '2',
        WEBHOOK_TIMEOUT_SECONDS: '5',
        WEBHOOK_MAX_IN_FLIGHT: '2',
        WEBHOOK_SLOT_WAIT_SECONDS: '1',
      },
    },
  });
  anchor = clientFor(runtime, 'anchor', 'anchor-events');
  buyer = clientFor(runtime, 'buyer', 'buyer-events');
});
afterAll(async () => {
  vi.useRealTimers();
  await runtime?.stop();
});

const receivers: Array<{ close: () => void }> = [];
afterAll(() => receivers.forEach((r) => r.close()));

type Problem = { status: number; errors?: { path: string }[] };
type Hook = {
  webhookId: string;
  url: string;
  events: string[];
  status: 'ACTIVE' | 'DISABLED';
  disabledReason?: string;
  disabledAt?: string;
  failingSince?: string;
  secretRotatedAt?: string;
  previousSecretExpiresAt?: string;
  updatedAt?: string;
  secret?: string;
};
type Delivery = { deliveryId: string; eventId: string; eventType: string; sequence: number; status: string; attempts: { statusCode?: number }[] };
type FeedEvent = { sequence: number; id: string; type: string; occurredAt: string; data: Record<string, unknown> };
type Feed = { items: FeedEvent[]; nextAfter: number };

const newFactory = async () => {
  const id = `factory-${randomUUID().slice(0, 8)}`;
  await registerFactories(runtime, id);
  return { id, api: clientFor(runtime, 'factory', id) };
};

const receiver = async (status: (n: number) => number = () => 200) => {
  const r = await startWebhookReceiver(status);
  receivers.push(r);
  return r;
};

const subscribe = async (factory: ReturnType<typeof clientFor>, url: string, events: string[], opts?: CallOptions) => {
  const created = await factory.post<Hook & { secret: string }>('/v1/factory/webhooks', { url, events }, opts);
  expect(created.status, JSON.stringify(created.body)).toBe(201);
  return created.body;
};

const hooksOf = async (factory: ReturnType<typeof clientFor>) => (await factory.get<{ items: Hook[] }>('/v1/factory/webhooks')).body.items;
const hookOf = async (factory: ReturnType<typeof clientFor>, webhookId: string) => (await hooksOf(factory)).find((h) => h.webhookId === webhookId);
const deliveriesOf = async (factory: ReturnType<typeof clientFor>, webhookId: string) =>
  (await factory.get<{ items: Delivery[] }>(`/v1/factory/webhooks/${webhookId}/deliveries`)).body.items;
const feedOf = async (factory: ReturnType<typeof clientFor>, query = '') => {
  const res = await factory.get<Feed>(`/v1/factory/events${query}`);
  expect(res.status, JSON.stringify(res.body)).toBe(200);
  return res.body;
};
const until = <T>(probe: () => Promise<T>, done: (t: T) => boolean, timeoutMs?: number) => untilDrained(runtime, probe, done, timeoutMs);

/** A campaign of lots of one for `factoryId`, and `orders` pre-orders: each fills a lot, so each releases a batch. */
const releaseBatches = async (factoryId: string, orders: number) => {
  const campaign = await anchor.post<{ campaignId: string }>('/v1/campaigns', campaignDraft({ factoryId, lotSize: 1 }));
  expect(campaign.status, JSON.stringify(campaign.body)).toBe(201);
  for (let i = 0; i < orders; i++) {
    expect((await buyer.post(`/v1/campaigns/${campaign.body.campaignId}/preorders`, preorderDraft())).status).toBe(202);
  }
  return campaign.body.campaignId;
};

describe('The change feed: what a factory that cannot take webhooks polls', () => {
  it('lists the same events, ids and numbers its webhooks carry, in order, a page at a time from `after`; another factory sees none of them', async () => {
    const { id: factoryId, api: factory } = await newFactory();
    const got = await receiver();
    const hook = await subscribe(factory, got.url, ['batch.released', 'batch.accepted']);
    got.useSecret(hook.secret);

    await releaseBatches(factoryId, 2);
    await until(() => deliveriesOf(factory, hook.webhookId), (items) => items.length === 2 && items.every((d) => d.status === 'DELIVERED'));

    // The whole feed: both releases, numbered 1 and 2, as the webhook carried them.
    const all = await feedOf(factory);
    expect(all.items.map((e) => [e.sequence, e.type])).toEqual([
      [1, 'batch.released'],
      [2, 'batch.released'],
    ]);
    expect(all.nextAfter).toBe(2);
    const bodies = got.received.map((r) => JSON.parse(r.body) as FeedEvent & { factoryId: string });
    expect(got.received.every((r) => r.signatureValid)).toBe(true);
    for (const event of all.items) {
      const delivered = bodies.find((b) => b.id === event.id);
      expect(delivered, event.id).toMatchObject({ sequence: event.sequence, type: event.type, occurredAt: event.occurredAt, data: event.data });
      expect(got.received.find((r) => r.headers['c2m-event-id'] === event.id)?.headers['c2m-sequence']).toBe(String(event.sequence));
    }

    // A page at a time: `nextAfter` is where the next poll starts; nothing new leaves it where it was.
    const first = await feedOf(factory, '?after=0&limit=1');
    expect(first).toEqual({ items: [all.items[0]], nextAfter: 1 });
    const second = await feedOf(factory, `?after=${first.nextAfter}&limit=1`);
    expect(second).toEqual({ items: [all.items[1]], nextAfter: 2 });
    expect(await feedOf(factory, `?after=${second.nextAfter}`)).toEqual({ items: [], nextAfter: 2 });

    // The factory accepts one batch: the next number, on the feed and on the webhook alike.
    const batchId = String(all.items[0]?.data.batchId);
    expect((await factory.post(`/v1/factory/batches/${batchId}/accept`, { committedShipDate: '2099-12-24' })).status).toBe(200);
    const accepted = await until(() => feedOf(factory, '?after=2'), (page) => page.items.length > 0);
    expect(accepted.items).toEqual([expect.objectContaining({ sequence: 3, id: `batch.accepted:${batchId}`, type: 'batch.accepted' })]);
    await until(async () => got.received.some((r) => r.headers['c2m-event-type'] === 'batch.accepted'), Boolean);
    expect(got.received.find((r) => r.headers['c2m-event-type'] === 'batch.accepted')?.headers).toMatchObject({ 'c2m-event-id': `batch.accepted:${batchId}`, 'c2m-sequence': '3' });

    // Another factory's feed is its own: empty, and it cannot read this one's.
    const { api: stranger } = await newFactory();
    expect(await feedOf(stranger)).toEqual({ items: [], nextAfter: 0 });
  });

  it('a factory with no webhook at all still has every event on its feed', async () => {
    const { id: factoryId, api: factory } = await newFactory();
    await releaseBatches(factoryId, 1);
    const feed = await until(() => feedOf(factory), (page) => page.items.length === 1);
    expect(feed.items[0]).toMatchObject({ sequence: 1, type: 'batch.released', data: { factoryId } });
  });

  it('refuses a bad `after` or `limit` with 400 naming it', async () => {
    const { api: factory } = await newFactory();
    for (const [query, field] of [
      ['?after=-1', 'after'],
      ['?after=abc', 'after'],
      ['?limit=0', 'limit'],
      ['?limit=201', 'limit'],
    ] as const) {
      const res = await factory.get<Problem>(`/v1/factory/events${query}`);
      expect(res.status, query).toBe(400);
      expect(res.body.errors?.map((e) => e.path), query).toContain(field);
    }
  });
});

describe('Webhooks a factory manages', () => {
  it('PATCH changes the URL, the events and whether it is on; a disabled webhook gets nothing while its feed still does; bad input is 400 naming the field, nothing changed', async () => {
    const { id: factoryId, api: factory } = await newFactory();
    const before = await receiver();
    const after = await receiver();
    const hook = await subscribe(factory, before.url, ['batch.accepted']);
    after.useSecret(hook.secret);

    const changed = await factory.patch<Hook>(`/v1/factory/webhooks/${hook.webhookId}`, { url: after.url, events: ['batch.released', 'batch.accepted'] });
    expect(changed.status, JSON.stringify(changed.body)).toBe(200);
    expect(changed.body).toMatchObject({ webhookId: hook.webhookId, url: after.url, events: ['batch.released', 'batch.accepted'], status: 'ACTIVE', updatedAt: expect.any(String) });
    expect(changed.body).not.toHaveProperty('secret');

    // A release now goes to the new URL only.
    await releaseBatches(factoryId, 1);
    await until(async () => after.received.length, (n) => n === 1);
    expect(before.received).toHaveLength(0);
    expect(after.received[0]).toMatchObject({ signatureValid: true, headers: expect.objectContaining({ 'c2m-event-type': 'batch.released' }) });

    // Off: the next release is on the feed, and no delivery is made for the webhook.
    const off = await factory.patch<Hook>(`/v1/factory/webhooks/${hook.webhookId}`, { enabled: false });
    expect(off.body).toMatchObject({ status: 'DISABLED', disabledReason: 'BY_FACTORY', disabledAt: expect.any(String) });
    await releaseBatches(factoryId, 1);
    await until(() => feedOf(factory), (page) => page.items.length === 2);
    await runtime.emulator.drain();
    expect(await deliveriesOf(factory, hook.webhookId)).toHaveLength(1);
    expect(after.received).toHaveLength(1);

    // Bad input: 400 naming the field, and the webhook as it was.
    const asItWas = await hookOf(factory, hook.webhookId);
    for (const [body, field] of [
      [{}, 'url'],
      [{ url: 'https://10.0.0.8/hooks' }, 'url'],
      [{ url: 'not a url' }, 'url'],
      [{ events: ['batch.exploded'] }, 'events.0'],
      [{ events: [] }, 'events'],
      [{ enabled: 'yes' }, 'enabled'],
      [{ secret: 'mine' }, ''],
    ] as const) {
      const res = await factory.patch<Problem>(`/v1/factory/webhooks/${hook.webhookId}`, body);
      expect(res.status, JSON.stringify(body)).toBe(400);
      if (field) expect(res.body.errors?.map((e) => e.path), JSON.stringify(body)).toContain(field);
    }
    expect(await hookOf(factory, hook.webhookId)).toEqual(asItWas);

    // On again.
    const on = await factory.patch<Hook>(`/v1/factory/webhooks/${hook.webhookId}`, { enabled: true });
    expect(on.body.status).toBe('ACTIVE');
    expect(on.body).not.toHaveProperty('disabledReason');
  });

  it("another factory's webhook is 404 to PATCH, DELETE, rotate and test, as an id that does not exist, and nothing changes", async () => {
    const { api: owner } = await newFactory();
    const { api: stranger } = await newFactory();
    const got = await receiver();
    const hook = await subscribe(owner, got.url, ['batch.released']);
    const asItWas = await hookOf(owner, hook.webhookId);
    for (const id of [hook.webhookId, 'whk_000000000000000000000000']) {
      expect((await stranger.patch(`/v1/factory/webhooks/${id}`, { enabled: false })).status).toBe(404);
      expect((await stranger.delete(`/v1/factory/webhooks/${id}`)).status).toBe(404);
      expect((await stranger.post(`/v1/factory/webhooks/${id}/rotate-secret`)).status).toBe(404);
      expect((await stranger.post(`/v1/factory/webhooks/${id}/test`)).status).toBe(404);
    }
    await runtime.emulator.drain();
    expect(await hookOf(owner, hook.webhookId)).toEqual(asItWas);
    expect(got.received).toHaveLength(0);
  });

  it('DELETE is 204; the webhook and its deliveries are gone, nothing more is sent to it, and a second DELETE is 404', async () => {
    const { api: factory } = await newFactory();
    const got = await receiver();
    const hook = await subscribe(factory, got.url, ['batch.released']);
    expect((await factory.post(`/v1/factory/webhooks/${hook.webhookId}/test`)).status).toBe(202);
    await until(async () => got.received.length, (n) => n === 1);

    const deleted = await factory.delete(`/v1/factory/webhooks/${hook.webhookId}`);
    expect(deleted.status).toBe(204);
    expect(deleted.body).toEqual({});
    expect(await hookOf(factory, hook.webhookId)).toBeUndefined();
    expect((await factory.get(`/v1/factory/webhooks/${hook.webhookId}/deliveries`)).status).toBe(404);
    expect((await factory.post(`/v1/factory/webhooks/${hook.webhookId}/test`)).status).toBe(404);
    expect((await factory.delete(`/v1/factory/webhooks/${hook.webhookId}`)).status).toBe(404);
    await runtime.emulator.drain();
    expect(got.received).toHaveLength(1);
  });

  it('test delivers a webhook.test now, signed, numbered on the feed like any event, and listed with the deliveries', async () => {
    const { api: factory } = await newFactory();
    const got = await receiver();
    const hook = await subscribe(factory, got.url, ['batch.released']);
    got.useSecret(hook.secret);

    const queued = await factory.post<Delivery>(`/v1/factory/webhooks/${hook.webhookId}/test`);
    expect(queued.status).toBe(202);
    expect(queued.body).toMatchObject({ eventType: 'webhook.test', status: 'PENDING', sequence: 1 });
    await until(async () => got.received.length, (n) => n === 1);
    const body = JSON.parse(got.received[0]?.body ?? '{}') as FeedEvent;
    expect(got.received[0]?.signatureValid).toBe(true);
    expect(body).toMatchObject({ id: queued.body.eventId, type: 'webhook.test', sequence: 1, data: { webhookId: hook.webhookId } });
    expect((await feedOf(factory)).items).toEqual([expect.objectContaining({ sequence: 1, id: queued.body.eventId, type: 'webhook.test' })]);
    const [listed] = await until(() => deliveriesOf(factory, hook.webhookId), (items) => items[0]?.status === 'DELIVERED');
    expect(listed).toMatchObject({ deliveryId: queued.body.deliveryId, eventType: 'webhook.test', attempts: [{ statusCode: 200 }] });
  });

  it('secrets are sealed at rest, bound to their webhook and use: the table holds no secret, and the signing copy does not open as another use', async () => {
    const { api: factory } = await newFactory();
    const got = await receiver();
    const hook = await subscribe(factory, got.url, ['batch.released'], { idempotencyKey: `seal-${randomUUID()}` });

    const ddb = DynamoDBDocumentClient.from(new DynamoDBClient({ endpoint: runtime.dynamoEndpoint }));
    const item = (await ddb.send(new GetCommand({ TableName: runtime.tableName, Key: { PK: `WEBHOOK#${hook.webhookId}`, SK: 'WEBHOOK' } }))).Item ?? {};
    const stored = JSON.stringify(item);
    expect(stored).not.toContain(hook.secret);
    expect(stored).not.toContain('whsec_');
    expect(item.secret).toMatch(/^kms1:/);
    expect(item.revealSecret).toMatch(/^kms1:/);

    const kms = new KMSClient({ endpoint: runtime.emulator.endpoint });
    const open = (sealed: unknown, use: string) =>
      kms.send(
        new DecryptCommand({
          CiphertextBlob: Buffer.from(String(sealed).slice('kms1:'.length), 'base64'),
          EncryptionContext: { 'c2m:webhookId': hook.webhookId, 'c2m:use': use },
        }),
      );
    expect(Buffer.from((await open(item.secret, 'sign')).Plaintext ?? []).toString()).toBe(hook.secret);
    await expect(open(item.secret, 'reveal')).rejects.toMatchObject({ name: 'InvalidCiphertextException' });
    await expect(
      kms.send(new DecryptCommand({ CiphertextBlob: Buffer.from(String(item.secret).slice(5), 'base64'), EncryptionContext: { 'c2m:webhookId': 'whk_000000000000000000000000', 'c2m:use': 'sign' } })),
    ).rejects.toMatchObject({ name: 'InvalidCiphertextException' });
  });
});

describe('One slow endpoint takes no more than its share of the deliverers', () => {
  it('at most WEBHOOK_MAX_IN_FLIGHT POSTs reach it at once; the rest wait in the queue without costing a try, and another webhook is served meanwhile', async () => {
    const { api: factory } = await newFactory();
    let inFlight = 0;
    let most = 0;
    const slowArrivals: number[] = [];
    const slow = createServer((req, res) => {
      inFlight++;
      most = Math.max(most, inFlight);
      slowArrivals.push(performance.now());
      req.resume();
      // A receiver that takes its time: 1.5 s per answer (well inside the 5 s timeout).
      setTimeout(() => {
        inFlight--;
        res.writeHead(200).end();
      }, 1500);
    });
    slow.listen(0, '127.0.0.1');
    await once(slow, 'listening');
    receivers.push({ close: () => (slow.closeAllConnections(), slow.close()) });
    const fast = await receiver();

    const slowHook = await subscribe(factory, `http://127.0.0.1:${(slow.address() as AddressInfo).port}/slow`, ['batch.released']);
    const fastHook = await subscribe(factory, fast.url, ['batch.released']);
    for (let i = 0; i < 6; i++) expect((await factory.post(`/v1/factory/webhooks/${slowHook.webhookId}/test`)).status).toBe(202);
    expect((await factory.post(`/v1/factory/webhooks/${fastHook.webhookId}/test`)).status).toBe(202);

    await until(async () => fast.received.length, (n) => n === 1);
    const fastServedAt = fast.received[0]?.arrivedAt ?? Infinity;
    const settled = await until(() => deliveriesOf(factory, slowHook.webhookId), (items) => items.length === 6 && items.every((d) => d.status === 'DELIVERED'), 60_000);

    expect(most, JSON.stringify(settled.map((d) => d.attempts))).toBe(2);
    // Waiting for a slot is not a try: each delivery was POSTed once.
    expect(settled.map((d) => d.attempts.length), JSON.stringify(settled.map((d) => d.attempts))).toEqual(Array(6).fill(1));
    expect(slowArrivals).toHaveLength(6);
    // The fast endpoint did not wait for the slow one's backlog.
    expect(fastServedAt).toBeLessThan(slowArrivals.at(-1) ?? 0);
  });
});

describe('A webhook that keeps failing', () => {
  it('is disabled by itself after 3 days of failed tries, says why, and the factory is told on its feed and its other webhooks; nothing is dead-lettered', async () => {
    const { api: factory } = await newFactory();
    const down = await receiver(() => 500);
    const listening = await receiver();
    const failing = await subscribe(factory, down.url, ['batch.released']);
    const watcher = await subscribe(factory, listening.url, ['webhook.disabled']);
    listening.useSecret(watcher.secret);
    const failedTest = async () => {
      const sent = down.received.length;
      expect((await factory.post(`/v1/factory/webhooks/${failing.webhookId}/test`)).status).toBe(202);
      await until(async () => down.received.length, (n) => n === sent + 2); // two tries
      await runtime.emulator.drain();
    };
    vi.useFakeTimers({ toFake: ['Date'], shouldAdvanceTime: true });
    const start = Date.now();

    await failedTest();
    const first = await hookOf(factory, failing.webhookId);
    expect(first).toMatchObject({ status: 'ACTIVE', failingSince: expect.any(String) });

    // Two days on, still failing: still on.
    vi.setSystemTime(start + 2 * 86_400_000);
    await failedTest();
    expect(await hookOf(factory, failing.webhookId)).toMatchObject({ status: 'ACTIVE', failingSince: first?.failingSince });

    // Past three days of nothing but failures: off, with the reason.
    vi.setSystemTime(start + 3 * 86_400_000 + 60_000);
    await failedTest();
    const off = await hookOf(factory, failing.webhookId);
    expect(off).toMatchObject({ status: 'DISABLED', disabledReason: 'FAILING', disabledAt: expect.any(String), failingSince: first?.failingSince });

    const told = await until(async () => listening.received, (r) => r.length === 1);
    const event = JSON.parse(told[0]?.body ?? '{}') as FeedEvent;
    expect(told[0]?.signatureValid).toBe(true);
    expect(event).toMatchObject({ type: 'webhook.disabled', data: { webhookId: failing.webhookId, reason: 'FAILING', failingSince: first?.failingSince } });
    expect((await feedOf(factory)).items.find((e) => e.type === 'webhook.disabled')).toMatchObject({ id: event.id, sequence: event.sequence });
    expect(runtime.emulator.depth('webhook-deliveries').dead).toBe(0);

    // Disabled, its events are not sent; switched on again, it starts afresh.
    const on = await factory.patch<Hook>(`/v1/factory/webhooks/${failing.webhookId}`, { enabled: true });
    expect(on.body.status).toBe('ACTIVE');
    expect(on.body).not.toHaveProperty('failingSince');
  });

  it('a rotated secret: both sign for 24 hours (two v1=, newest first), then only the new one', async () => {
    const { api: factory } = await newFactory();
    const got = await receiver();
    const hook = await subscribe(factory, got.url, ['batch.released']);
    const oldSecret = hook.secret;

    const rotated = await factory.post<{ secret: string; previousSecretExpiresAt: string }>(`/v1/factory/webhooks/${hook.webhookId}/rotate-secret`);
    expect(rotated.status).toBe(200);
    expect(rotated.body.secret).toMatch(/^whsec_/);
    expect(rotated.body.secret).not.toBe(oldSecret);
    expect(Date.parse(rotated.body.previousSecretExpiresAt) - Date.now()).toBeGreaterThan(23.9 * 3_600_000);
    expect(await hookOf(factory, hook.webhookId)).toMatchObject({ secretRotatedAt: expect.any(String), previousSecretExpiresAt: rotated.body.previousSecretExpiresAt });

    const signed = async () => {
      const n = got.received.length;
      expect((await factory.post(`/v1/factory/webhooks/${hook.webhookId}/test`)).status).toBe(202);
      const [received] = (await until(async () => got.received, (r) => r.length === n + 1)).slice(n);
      const header = String(received?.headers['c2m-signature']);
      return { header, body: received?.body ?? '', v1: header.split(',').filter((p) => p.startsWith('v1=')) };
    };
    const during = await signed();
    expect(during.v1).toHaveLength(2);
    expect(verifySignature(oldSecret, during.header, during.body)).toBe(true);
    expect(verifySignature(rotated.body.secret, during.header, during.body)).toBe(true);
    expect(verifySignature(rotated.body.secret, `${during.header.split(',')[0]},${during.v1[0]}`, during.body)).toBe(true);

    vi.useFakeTimers({ toFake: ['Date'], shouldAdvanceTime: true });
    vi.setSystemTime(Date.parse(rotated.body.previousSecretExpiresAt) + 60_000);
    const later = await signed();
    expect(later.v1).toHaveLength(1);
    expect(verifySignature(rotated.body.secret, later.header, later.body)).toBe(true);
    expect(verifySignature(oldSecret, later.header, later.body)).toBe(false);
  });
});
