import { createHmac, randomUUID, timingSafeEqual } from 'node:crypto';
import { once } from 'node:events';
import { createServer, type IncomingHttpHeaders } from 'node:http';
import type { AddressInfo } from 'node:net';
import { ChangeMessageVisibilityCommand, ReceiveMessageCommand, SQSClient } from '@aws-sdk/client-sqs';
import type { Context, SQSBatchResponse, SQSRecord } from 'aws-lambda';
import { afterAll, describe, expect, it, vi } from 'vitest';
import { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { DynamoDBDocumentClient, GetCommand, UpdateCommand } from '@aws-sdk/lib-dynamodb';
import { registerFactoryRecords, useLocalTable } from '../support/table.ts';
import { startAwsEmulator } from '../../lib/local/aws-emulator.ts';
import { envNames } from '../../lib/topology.ts';

// Webhooks in-process against DynamoDB Local, SQS on the local emulator (no consumers run: each test
// hands received messages to the dispatcher or deliverer itself), and a real HTTP receiver on 127.0.0.1.
await useLocalTable();
const emulator = await startAwsEmulator({ dataDir: null, invoke: async () => undefined, startConsumers: false });
const deliveriesQueue = envNames.queueUrl('webhook-deliveries');
const settings = {
  WEBHOOK_ALLOW_LOOPBACK: 'true',
  WEBHOOK_RETRY_BASE_SECONDS: '30',
  WEBHOOK_RETRY_MAX_SECONDS: '3600',
  WEBHOOK_MAX_TRIES: '8',
  WEBHOOK_TIMEOUT_SECONDS: '2',
  WEBHOOK_MAX_IN_FLIGHT: '2',
  WEBHOOK_SLOT_WAIT_SECONDS: '5',
};
Object.assign(process.env, {
  AWS_ENDPOINT_URL_SQS: emulator.endpoint,
  // Secrets are sealed with the emulator's KMS, as the local runtime does.
  AWS_ENDPOINT_URL_KMS: emulator.endpoint,
  [envNames.webhookSecretsKey]: emulator.kmsKeyArn,
  [deliveriesQueue]: emulator.queueUrl('webhook-deliveries'),
  ...settings,
});
afterAll(() => emulator.stop());
const ddbDoc = DynamoDBDocumentClient.from(new DynamoDBClient({}));

const { app } = await import('../../functions/handlers/factory/api.ts');
const useCases = await import('../../functions/handlers/webhooks/use-cases.ts');
const dispatcher = await import('../../functions/handlers/webhooks/dispatcher.ts');
const { dispatchEvent, deliveryIdFor } = dispatcher;
const deliverer = await import('../../functions/handlers/webhooks/deliverer.ts');
const store = await import('../../functions/adapters/webhook-store.ts');
const factories = await import('../../functions/adapters/factory-store.ts');
const { withEnvironment } = await import('../../functions/shared/config.ts');
const { DomainError } = await import('../../functions/domain/errors.ts');
const { WebhookPayload } = await import('../../functions/contracts/webhooks.ts');
type FactoryEventEnvelope = import('../../functions/contracts/messages.ts').FactoryEventEnvelope;
type Delivery = import('../../functions/domain/webhooks.ts').Delivery;

// ---------------------------------------------------------------- a receiver, as a factory would run one

interface Received {
  readonly path: string;
  readonly headers: IncomingHttpHeaders;
  readonly body: string;
}
type Answer = number | 'hang' | { status: number; headers: Record<string, string> };

const receiver = await (async () => {
  const received: Received[] = [];
  const answers = new Map<string, (n: number) => Answer>();
  const server = createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => {
      const path = req.url ?? '/';
      received.push({ path, headers: req.headers, body: Buffer.concat(chunks).toString('utf8') });
      const answer = (answers.get(path) ?? (() => 200))(received.filter((r) => r.path === path).length);
      if (answer === 'hang') return;
      if (typeof answer === 'number') res.writeHead(answer).end();
      else res.writeHead(answer.status, answer.headers).end();
    });
  });
  server.listen(0, '127.0.0.1');
  await once(server, 'listening');
  const { port } = server.address() as AddressInfo;
  return {
    /** A fresh path on the receiver, answering with `answer(n)` to its n-th request. */
    endpoint(answer: (n: number) => Answer = () => 200) {
      const path = `/hooks/${randomUUID()}`;
      answers.set(path, answer);
      return { url: `http://127.0.0.1:${port}${path}`, path, received: () => received.filter((r) => r.path === path) };
    },
    close() {
      server.closeAllConnections();
      server.close();
    },
  };
})();
afterAll(() => receiver.close());

/** What docs/webhooks.md tells a receiver to do, written independently of c2m's own code. */
const signatureIsValid = (secret: string, r: Received, nowSeconds = Math.floor(Date.now() / 1000)) => {
  const header = String(r.headers['c2m-signature'] ?? '');
  const parts = Object.fromEntries(header.split(',').map((p) => p.split('=') as [string, string]));
  const t = Number(parts.t);
  if (!Number.isInteger(t) || Math.abs(nowSeconds - t) > 300 || !parts.v1) return false;
  const expected = createHmac('sha256', secret).update(`${parts.t}.${r.body}`).digest();
  const given = Buffer.from(parts.v1, 'hex');
  return given.length === expected.length && timingSafeEqual(given, expected);
};

// ---------------------------------------------------------------- helpers

/** A fresh factory, registered as an operator would leave it (the dispatcher and deliverer serve only registered, active factories). */
const factory = async (id = `factory-${randomUUID().slice(0, 8)}`) => {
  await registerFactoryRecords(id);
  return { role: 'factory' as const, id };
};

const event = (factoryId: string, fact = randomUUID()): Extract<FactoryEventEnvelope, { 'detail-type': 'batch.released' }> => ({
  'detail-type': 'batch.released',
  source: 'c2m',
  detail: {
    eventId: `batch.released:${fact}`,
    occurredAt: new Date().toISOString(),
    campaignId: 'cmp_000000000000000000000001',
    batchId: `bat_${fact}`,
    factoryId,
    lines: [{ sku: 'SHIRT-M', quantity: 3 }],
    quantity: 3,
    reason: 'lot',
  },
});

const sqs = new SQSClient({});
/** Takes what is queued for the deliverer, as the event source mapping would: real receipt handles and receive counts. */
const receiveDeliveries = async (visibilityTimeout?: number): Promise<SQSRecord[]> => {
  const records: SQSRecord[] = [];
  for (;;) {
    const out = await sqs.send(
      new ReceiveMessageCommand({
        QueueUrl: emulator.queueUrl('webhook-deliveries'),
        MaxNumberOfMessages: 10,
        MessageSystemAttributeNames: ['All'],
        ...(visibilityTimeout !== undefined && { VisibilityTimeout: visibilityTimeout }),
      }),
    );
    const messages = out.Messages ?? [];
    records.push(
      ...messages.map((m) => ({
        messageId: m.MessageId as string,
        receiptHandle: m.ReceiptHandle as string,
        body: m.Body as string,
        attributes: {
          ApproximateReceiveCount: m.Attributes?.ApproximateReceiveCount ?? '1',
          SentTimestamp: m.Attributes?.SentTimestamp ?? '0',
          SenderId: m.Attributes?.SenderId ?? '',
          ApproximateFirstReceiveTimestamp: m.Attributes?.ApproximateFirstReceiveTimestamp ?? '0',
        },
        messageAttributes: {},
        md5OfBody: m.MD5OfBody as string,
        eventSource: 'aws:sqs',
        eventSourceARN: emulator.queueArn('webhook-deliveries'),
        awsRegion: 'us-east-1',
      })),
    );
    // With visibility 0 the same messages are visible again at once: one receive is all.
    if (messages.length < 10 || visibilityTimeout === 0) return records;
  }
};
const context = { functionName: 'webhook-deliverer', awsRequestId: 'test' } as Context;
const deliver = async (records: SQSRecord[], env: Record<string, string> = {}) =>
  ((await withEnvironment({ ...process.env, ...env }, () => deliverer.handler({ Records: records }, context))) as SQSBatchResponse).batchItemFailures.map(
    (f) => f.itemIdentifier,
  );
/** Queued messages of one delivery only: tests share the queue, so each takes its own and leaves the rest. */
const recordsFor = async (deliveryId: string, visibilityTimeout?: number) =>
  (await receiveDeliveries(visibilityTimeout)).filter((r) => JSON.parse(r.body).deliveryId === deliveryId);

const deliveryOf = async (deliveryId: string) => (await store.getDelivery(deliveryId)) as Delivery;

/** The webhook as stored, with the secret in the clear as the factory got it in the 201. */
const subscribe = async (f: Awaited<ReturnType<typeof factory>>, url: string, events: FactoryEventEnvelope['detail-type'][] = ['batch.released']) => {
  const { webhook, secret } = await useCases.createOwnWebhook(f, { url, events }, undefined);
  return { ...webhook, secret };
};

/** One event dispatched to one fresh webhook: the webhook, the delivery and its queued record. */
const oneDelivery = async (answer?: (n: number) => Answer) => {
  const f = await factory();
  const endpoint = receiver.endpoint(answer);
  const webhook = await subscribe(f, endpoint.url);
  const e = event(f.id);
  await dispatchEvent(e);
  const deliveryId = deliveryIdFor(webhook.webhookId, e.detail.eventId);
  const records = await recordsFor(deliveryId);
  expect(records).toHaveLength(1);
  return { f, endpoint, webhook, event: e, deliveryId, records };
};

const errorOf = async (p: Promise<unknown>) => {
  try {
    await p;
  } catch (err) {
    return err;
  }
  throw new Error('expected a rejection');
};

const http = (f: { id: string }) => {
  const env = { requestContext: { requestId: 'r', authorizer: { role: 'factory', sub: f.id } } } as never;
  return {
    get: async (path: string) => app.request(path, {}, env),
    post: async (path: string, body?: unknown, headers: Record<string, string> = {}) =>
      app.request(
        path,
        { method: 'POST', headers: { ...(body !== undefined && { 'content-type': 'application/json' }), ...headers }, ...(body !== undefined && { body: JSON.stringify(body) }) },
        env,
      ),
  };
};

// ---------------------------------------------------------------- subscriptions

describe('Creating and listing webhooks', () => {
  it('A factory creates a webhook and sees its secret once: 201 with the secret, and the list shows the webhook without it', async () => {
    const f = await factory();
    const res = await http(f).post('/v1/factory/webhooks', { url: 'https://hooks.factory.example.com/c2m', events: ['batch.released', 'shipment.created'] });
    expect(res.status).toBe(201);
    const created = (await res.json()) as Record<string, unknown>;
    expect(created).toMatchObject({
      webhookId: expect.stringMatching(/^whk_[0-9a-z]{24}$/),
      url: 'https://hooks.factory.example.com/c2m',
      events: ['batch.released', 'shipment.created'],
      status: 'ACTIVE',
      secret: expect.stringMatching(/^whsec_/),
    });

    const list = (await (await http(f).get('/v1/factory/webhooks')).json()) as { items: Record<string, unknown>[] };
    expect(list.items).toEqual([{ webhookId: created.webhookId, url: created.url, events: created.events, status: 'ACTIVE', createdAt: created.createdAt }]);
  });

  it('With one Idempotency-Key a retried create returns the same webhook and secret; the key with another body is 409', async () => {
    const f = await factory();
    const body = { url: 'https://hooks.factory.example.com/a', events: ['batch.accepted'] };
    const headers = { 'Idempotency-Key': 'hook-1' };
    const first = await http(f).post('/v1/factory/webhooks', body, headers);
    const again = await Promise.all([0, 1].map(() => http(f).post('/v1/factory/webhooks', body, headers)));
    expect([first.status, ...again.map((r) => r.status)]).toEqual([201, 201, 201]);
    const bodies = [await first.json(), ...(await Promise.all(again.map((r) => r.json())))];
    expect(bodies[1]).toEqual(bodies[0]);
    expect(bodies[2]).toEqual(bodies[0]);

    const reused = await http(f).post('/v1/factory/webhooks', { ...body, url: 'https://hooks.factory.example.com/b' }, headers);
    expect(reused.status).toBe(409);
    // Another factory's identical key is its own.
    expect((await http((await factory())).post('/v1/factory/webhooks', body, headers)).status).toBe(201);
    const list = (await (await http(f).get('/v1/factory/webhooks')).json()) as { items: unknown[] };
    expect(list.items).toHaveLength(1);
  });

  it('A URL the policy refuses is 400 naming url, and nothing is stored', async () => {
    const f = await factory();
    for (const url of ['http://hooks.factory.example.com/x', 'https://10.0.0.8/x', 'https://169.254.169.254/latest', 'https://u:p@hooks.factory.example.com/']) {
      const res = await http(f).post('/v1/factory/webhooks', { url, events: ['batch.released'] });
      expect(res.status, url).toBe(400);
      const problem = (await res.json()) as { errors: { path: string }[] };
      expect(problem.errors.map((e) => e.path), url).toEqual(['url']);
    }
    // Loopback is a per-deployment setting: refused where it is off.
    const off = await withEnvironment({ ...process.env, WEBHOOK_ALLOW_LOOPBACK: 'false' }, () =>
      http(f).post('/v1/factory/webhooks', { url: 'http://127.0.0.1:9/x', events: ['batch.released'] }),
    );
    expect(off.status).toBe(400);
    expect(((await (await http(f).get('/v1/factory/webhooks')).json()) as { items: unknown[] }).items).toEqual([]);
  });

  it('A factory lists only its own webhooks, newest first, a page at a time', async () => {
    const f = await factory();
    const ids: string[] = [];
    for (let i = 0; i < 3; i++) ids.push((await subscribe(f, `https://hooks.factory.example.com/${i}`)).webhookId);
    await subscribe((await factory()), 'https://hooks.other.example.com/');

    const first = (await (await http(f).get('/v1/factory/webhooks?limit=2')).json()) as { items: { webhookId: string }[]; nextCursor?: string };
    const second = (await (await http(f).get(`/v1/factory/webhooks?limit=2&cursor=${first.nextCursor}`)).json()) as { items: { webhookId: string }[] };
    expect([...first.items, ...second.items].map((w) => w.webhookId)).toEqual(ids.reverse());
    expect((await http(f).get('/v1/factory/webhooks?cursor=bogus')).status).toBe(400);
  });

  it('A factory has at most 25 webhooks; past that a create is 409, and a replay of an earlier create still answers', async () => {
    const f = await factory();
    for (let i = 0; i < 25; i++) {
      const res = await http(f).post('/v1/factory/webhooks', { url: `https://hooks.factory.example.com/${i}`, events: ['batch.released'] }, { 'Idempotency-Key': `k${i}` });
      expect(res.status).toBe(201);
    }
    const over = await http(f).post('/v1/factory/webhooks', { url: 'https://hooks.factory.example.com/25', events: ['batch.released'] });
    expect(over.status).toBe(409);
    const replay = await http(f).post('/v1/factory/webhooks', { url: 'https://hooks.factory.example.com/3', events: ['batch.released'] }, { 'Idempotency-Key': 'k3' });
    expect(replay.status).toBe(201);
  });
});

// ---------------------------------------------------------------- dispatch

describe('Dispatching factory events', () => {
  it("Each of the factory's webhooks subscribed to the event gets one delivery; others and other factories' webhooks get none", async () => {
    const f = await factory();
    const released = await subscribe(f, receiver.endpoint().url, ['batch.released', 'batch.accepted']);
    const shipments = await subscribe(f, receiver.endpoint().url, ['shipment.created']);
    const other = await subscribe((await factory()), receiver.endpoint().url, ['batch.released']);
    const e = event(f.id);

    expect(await dispatchEvent(e)).toMatchObject({ sequence: 1, webhooks: 1, created: 1, queued: 1 });

    const delivery = await deliveryOf(deliveryIdFor(released.webhookId, e.detail.eventId));
    expect(delivery).toMatchObject({ status: 'PENDING', eventId: e.detail.eventId, eventType: 'batch.released', sequence: 1, attempts: [] });
    expect(JSON.parse(delivery.payload)).toEqual({ id: e.detail.eventId, type: 'batch.released', sequence: 1, occurredAt: e.detail.occurredAt, factoryId: f.id, data: e.detail });
    // What the OpenAPI document's webhooks say a delivery is, with the event's own schema as `data`.
    expect(WebhookPayload.parse(JSON.parse(delivery.payload))).toEqual(JSON.parse(delivery.payload));
    expect(await store.getDelivery(deliveryIdFor(shipments.webhookId, e.detail.eventId))).toBeUndefined();
    expect(await store.getDelivery(deliveryIdFor(other.webhookId, e.detail.eventId))).toBeUndefined();
    expect(await recordsFor(delivery.deliveryId)).toHaveLength(1);
  });

  it("A revoked factory hears nothing more: its events make no delivery, and one queued before the revocation is not sent", async () => {
    const f = await factory();
    const endpoint = receiver.endpoint();
    const webhook = await subscribe(f, endpoint.url);
    const queued = event(f.id);
    await dispatchEvent(queued);
    const records = await recordsFor(deliveryIdFor(webhook.webhookId, queued.detail.eventId));
    expect(records).toHaveLength(1);

    expect(await factories.recordRevocation(f.id, new Date())).toMatchObject({ status: 'REVOKED' });
    expect(await dispatchEvent(event(f.id))).toEqual({ webhooks: 0, created: 0, queued: 0 });
    expect(await deliver(records)).toEqual([]); // handled, not retried
    const delivery = await deliveryOf(deliveryIdFor(webhook.webhookId, queued.detail.eventId));
    expect(delivery.status).toBe('FAILED');
    expect(delivery.attempts.at(-1)?.error).toMatch(/revoked/);
    expect(endpoint.received()).toHaveLength(0);
  });

  it('A redelivered event makes no second delivery and takes no number; while still PENDING it is queued again, once DELIVERED it is not', async () => {
    const f = await factory();
    const endpoint = receiver.endpoint();
    const webhook = await subscribe(f, endpoint.url);
    const e = event(f.id);
    await dispatchEvent(e);
    expect(await dispatchEvent(e)).toMatchObject({ sequence: 1, webhooks: 1, created: 0, queued: 1 });
    const deliveryId = deliveryIdFor(webhook.webhookId, e.detail.eventId);
    const records = await recordsFor(deliveryId);
    expect(records).toHaveLength(2);

    // Both messages come to the deliverer: the second finds the delivery DELIVERED and sends nothing.
    expect(await deliver(records.slice(0, 1))).toEqual([]);
    expect(await deliver(records.slice(1))).toEqual([]);
    expect(endpoint.received()).toHaveLength(1);

    expect(await dispatchEvent(e)).toMatchObject({ sequence: 1, webhooks: 1, created: 0, queued: 0 });
    const next = event(f.id);
    await dispatchEvent(next);
    expect((await deliveryOf(deliveryIdFor(webhook.webhookId, next.detail.eventId))).sequence).toBe(2);
    await recordsFor(deliveryIdFor(webhook.webhookId, next.detail.eventId));
  });

  it("Events of one factory dispatched at the same time get distinct, consecutive numbers, one per event: every webhook carries the event's", async () => {
    const f = await factory();
    const a = await subscribe(f, receiver.endpoint().url);
    const b = await subscribe(f, receiver.endpoint().url);
    const events = Array.from({ length: 8 }, () => event(f.id));

    await Promise.all(events.map((e) => dispatchEvent(e)));

    const numbers = await Promise.all(
      events.map(async (e) => {
        const [da, db] = await Promise.all([a, b].map((w) => deliveryOf(deliveryIdFor(w.webhookId, e.detail.eventId))));
        expect(da?.sequence).toBe(db?.sequence);
        for (const d of [da, db]) expect(JSON.parse(d?.payload ?? '{}').sequence).toBe(d?.sequence);
        for (const d of [da, db]) await recordsFor(d?.deliveryId ?? '');
        return da?.sequence;
      }),
    );
    expect(numbers.sort((x, y) => (x ?? 0) - (y ?? 0))).toEqual(Array.from({ length: 8 }, (_, i) => i + 1));
  });

  it("A buyer's new address before any factory holds the batch (no factoryId) makes no delivery", async () => {
    const fact = randomUUID();
    const changed: FactoryEventEnvelope = {
      'detail-type': 'preorder.address_changed',
      source: 'c2m',
      detail: {
        eventId: `preorder.address_changed:po_${fact}:1`,
        occurredAt: new Date().toISOString(),
        campaignId: 'cmp_000000000000000000000001',
        preorderId: `po_${fact}`,
        shippingAddress: { name: 'Wang Fang', phone: '+86 139 1111 2222', line1: '1 Nanjing Road', city: 'Shanghai', region: 'Shanghai', postalCode: '200001', country: 'CN' },
      },
    };
    expect(await dispatchEvent(changed)).toEqual({ webhooks: 0, created: 0, queued: 0 });
  });

  it('A factory event whose detail does not fit its type is refused, naming the type and the field, and goes back to the queue (then its dead-letter queue)', async () => {
    const f = await factory();
    const webhook = await subscribe(f, receiver.endpoint().url);
    const { quantity: _dropped, ...withoutQuantity } = event(f.id).detail;
    const body = JSON.stringify({ 'detail-type': 'batch.released', source: 'c2m', detail: withoutQuantity });
    const good = event(f.id);
    const record = (messageId: string, body: string) => ({ messageId, body, attributes: { ApproximateReceiveCount: '1' } }) as unknown as SQSRecord;
    const logged: string[] = [];
    const streams = [process.stdout, process.stderr].map((stream) => vi.spyOn(stream, 'write').mockImplementation((chunk) => logged.push(String(chunk)) > 0));

    const out = (await dispatcher.handler(
      { Records: [record('misfit', body), record('fits', JSON.stringify(good))] },
      { functionName: 'webhook-dispatcher', awsRequestId: 'test' } as Context,
    )) as SQSBatchResponse;

    expect(out.batchItemFailures).toEqual([{ itemIdentifier: 'misfit' }]);
    expect(await store.getDelivery(deliveryIdFor(webhook.webhookId, withoutQuantity.eventId))).toBeUndefined();
    expect(await store.getDelivery(deliveryIdFor(webhook.webhookId, good.detail.eventId))).toMatchObject({ eventType: 'batch.released' });
    for (const stream of streams) stream.mockRestore();
    expect(logged.join('')).toMatch(/batch\.released[\s\S]*detail\.quantity/);
  });
});

// ---------------------------------------------------------------- delivery

describe('Delivering', () => {
  it('The deliverer POSTs the stored payload signed with the webhook secret, with the event id, type, sequence and delivery id; a 2xx makes it DELIVERED', async () => {
    const { endpoint, webhook, event: e, deliveryId, records } = await oneDelivery(() => 204);

    expect(await deliver(records)).toEqual([]);

    const [request] = endpoint.received();
    expect(request).toBeDefined();
    if (!request) return;
    expect(signatureIsValid(webhook.secret, request)).toBe(true);
    expect(signatureIsValid('whsec_someone-else', request)).toBe(false);
    const delivery = await deliveryOf(deliveryId);
    expect(request.body).toBe(delivery.payload);
    expect(request.headers).toMatchObject({
      'content-type': 'application/json',
      'user-agent': 'c2m-webhooks/1',
      'c2m-event-id': e.detail.eventId,
      'c2m-event-type': 'batch.released',
      'c2m-sequence': String(delivery.sequence),
      'c2m-delivery-id': deliveryId,
    });
    expect(delivery).toMatchObject({ status: 'DELIVERED', deliveredAt: expect.any(String) });
    expect(delivery.attempts).toEqual([{ at: expect.any(String), statusCode: 204, durationMs: expect.any(Number) }]);
    expect(delivery.nextAttemptAt).toBeUndefined();
  });

  it('On a 500 the try is recorded, the delivery is RETRYING with its next try 15-30 s away, and the message stays invisible until then', async () => {
    const { deliveryId, records } = await oneDelivery(() => 500);

    expect(await deliver(records)).toEqual(records.map((r) => r.messageId));

    const delivery = await deliveryOf(deliveryId);
    expect(delivery.status).toBe('RETRYING');
    expect(delivery.attempts).toEqual([{ at: expect.any(String), statusCode: 500, durationMs: expect.any(Number) }]);
    const wait = (Date.parse(delivery.nextAttemptAt as string) - Date.parse(delivery.attempts[0]?.at as string)) / 1000;
    expect(wait).toBeGreaterThanOrEqual(15);
    expect(wait).toBeLessThanOrEqual(31);
    // The emulator would otherwise hand it back after the queue's timeout; ChangeMessageVisibility set 15-30 s.
    expect(await recordsFor(deliveryId)).toEqual([]);
  });

  it('The message comes back for the next try when its backoff ends, not after the queue visibility timeout (6 minutes)', async () => {
    const { deliveryId, records } = await oneDelivery((n) => (n === 1 ? 500 : 200));
    const oneSecond = { WEBHOOK_RETRY_BASE_SECONDS: '1', WEBHOOK_RETRY_MAX_SECONDS: '1' };
    expect(await deliver(records, oneSecond)).toHaveLength(1);

    const deadline = Date.now() + 10_000;
    let again: SQSRecord[] = [];
    while (again.length === 0 && Date.now() < deadline) {
      await new Promise((r) => setTimeout(r, 200));
      again = await recordsFor(deliveryId);
    }
    expect(again.map((r) => r.attributes.ApproximateReceiveCount)).toEqual(['2']);
    expect(await deliver(again, oneSecond)).toEqual([]);
    expect(await deliveryOf(deliveryId)).toMatchObject({ status: 'DELIVERED', attempts: [{ statusCode: 500 }, { statusCode: 200 }] });
  });

  it("After its last try fails the delivery is FAILED and its message is consumed: a factory's endpoint being down never reaches the (paging) dead-letter queue", async () => {
    const { deliveryId, records } = await oneDelivery(() => 503);
    const maxTries = Number(settings.WEBHOOK_MAX_TRIES);
    // Each try as if its backoff had run out at once: the delivery's own count of tries makes the eighth the last.
    let batch = records;
    for (let n = 1; n < maxTries; n++) {
      expect(await deliver(batch)).toEqual(batch.map((r) => r.messageId));
      await sqs.send(new ChangeMessageVisibilityCommand({ QueueUrl: emulator.queueUrl('webhook-deliveries'), ReceiptHandle: batch[0]?.receiptHandle, VisibilityTimeout: 0 }));
      batch = await recordsFor(deliveryId);
      expect(batch).toHaveLength(1);
    }
    expect(await deliveryOf(deliveryId)).toMatchObject({ status: 'RETRYING', tries: maxTries - 1 });

    expect(await deliver(batch)).toEqual([]); // the last try: handled, the message deleted

    expect(await deliveryOf(deliveryId)).toMatchObject({ status: 'FAILED', tries: maxTries, attemptCount: maxTries });
    expect(await recordsFor(deliveryId, 0)).toEqual([]);
    expect(emulator.deadLetters('webhook-deliveries').map((m) => JSON.parse(m.body).deliveryId)).not.toContain(deliveryId);
  });

  it('A redirect is a failed try and is not followed', async () => {
    const target = receiver.endpoint();
    const { endpoint, deliveryId, records } = await oneDelivery(() => ({ status: 302, headers: { location: target.url } }));

    expect(await deliver(records)).toHaveLength(1);

    expect(endpoint.received()).toHaveLength(1);
    expect(target.received()).toEqual([]);
    expect((await deliveryOf(deliveryId)).attempts.map((a) => a.statusCode)).toEqual([302]);
  });

  it('A receiver that does not answer within WEBHOOK_TIMEOUT_SECONDS is a failed try that says so', async () => {
    const { deliveryId, records } = await oneDelivery(() => 'hang');

    expect(await deliver(records, { WEBHOOK_TIMEOUT_SECONDS: '1' })).toHaveLength(1);

    const [attempt] = (await deliveryOf(deliveryId)).attempts;
    expect(attempt?.statusCode).toBeUndefined();
    expect(attempt?.error).toMatch(/no response within 1 s/);
  });

  it('A receiver that refuses the connection is a failed try naming the error', async () => {
    const f = await factory();
    // A port nothing listens on: bind one, then close it.
    const probe = createServer().listen(0, '127.0.0.1');
    await once(probe, 'listening');
    const { port } = probe.address() as AddressInfo;
    await new Promise((r) => probe.close(r));
    const webhook = await subscribe(f, `http://127.0.0.1:${port}/gone`);
    const e = event(f.id);
    await dispatchEvent(e);
    const deliveryId = deliveryIdFor(webhook.webhookId, e.detail.eventId);

    expect(await deliver(await recordsFor(deliveryId))).toHaveLength(1);

    expect((await deliveryOf(deliveryId)).attempts[0]?.error).toMatch(/ECONNREFUSED/);
  });

  it('A URL the policy refuses at send time is not called; the delivery is FAILED at once and the message consumed', async () => {
    const { endpoint, deliveryId, records } = await oneDelivery();

    expect(await deliver(records, { WEBHOOK_ALLOW_LOOPBACK: 'false' })).toEqual([]);

    expect(endpoint.received()).toEqual([]);
    const delivery = await deliveryOf(deliveryId);
    expect(delivery.status).toBe('FAILED');
    expect(delivery.attempts[0]?.error).toMatch(/^not sent: url must name a public host/);
  });

  it('Two tries of one delivery at once both keep their attempt', async () => {
    const f = await factory();
    const endpoint = receiver.endpoint(() => 500);
    const webhook = await subscribe(f, endpoint.url);
    const e = event(f.id);
    await dispatchEvent(e);
    await dispatchEvent(e); // still PENDING: queued a second time
    const deliveryId = deliveryIdFor(webhook.webhookId, e.detail.eventId);
    const records = await recordsFor(deliveryId);
    expect(records).toHaveLength(2);

    expect(await deliver(records)).toHaveLength(2);

    const delivery = await deliveryOf(deliveryId);
    expect(delivery.attempts.map((a) => a.statusCode)).toEqual([500, 500]);
    expect(delivery.attemptCount).toBe(2);
  });
});

// ---------------------------------------------------------------- deliveries list and replay

describe('Deliveries and replays', () => {
  it('The deliveries list shows each delivery with its attempts, newest first', async () => {
    const { f, webhook, deliveryId, records } = await oneDelivery((n) => (n === 1 ? 500 : 200));
    await deliver(records);
    const e2 = event(f.id);
    await dispatchEvent(e2);
    const second = deliveryIdFor(webhook.webhookId, e2.detail.eventId);
    await deliver(await recordsFor(second));

    const res = await http(f).get(`/v1/factory/webhooks/${webhook.webhookId}/deliveries`);
    expect(res.status).toBe(200);
    const { items } = (await res.json()) as { items: { deliveryId: string; status: string; sequence: number; attempts: { statusCode?: number }[]; nextAttemptAt?: string }[] };
    expect(items.map((d) => d.deliveryId)).toEqual([second, deliveryId]);
    expect(items[0]).toMatchObject({ status: 'DELIVERED', sequence: 2, attempts: [{ statusCode: 200 }] });
    expect(items[1]).toMatchObject({ status: 'RETRYING', sequence: 1, attempts: [{ statusCode: 500 }], nextAttemptAt: expect.any(String) });
  });

  it('A replay sends the identical body again, with the same event id and sequence; DELIVERED becomes PENDING, then DELIVERED', async () => {
    const { f, endpoint, webhook, deliveryId, records } = await oneDelivery();
    await deliver(records);

    const res = await http(f).post(`/v1/factory/webhooks/${webhook.webhookId}/deliveries/${deliveryId}/retry`);
    expect(res.status).toBe(202);
    expect(await res.json()).toMatchObject({ deliveryId, status: 'PENDING', attempts: [{ statusCode: 200 }] });
    expect(await deliver(await recordsFor(deliveryId))).toEqual([]);

    const [first, second] = endpoint.received();
    expect(second?.body).toBe(first?.body);
    expect(second?.headers['c2m-event-id']).toBe(first?.headers['c2m-event-id']);
    expect(second?.headers['c2m-sequence']).toBe(first?.headers['c2m-sequence']);
    expect(signatureIsValid(webhook.secret, second as Received)).toBe(true);
    expect(await deliveryOf(deliveryId)).toMatchObject({ status: 'DELIVERED', attemptCount: 2 });
  });

  it('When the queue cannot be reached a replay is 503 and the delivery stays as it was', async () => {
    const { f, webhook, deliveryId, records } = await oneDelivery();
    await deliver(records);

    const down = await withEnvironment({ ...process.env, [deliveriesQueue]: `${emulator.endpoint}/000000000000/no-such-queue` }, () =>
      http(f).post(`/v1/factory/webhooks/${webhook.webhookId}/deliveries/${deliveryId}/retry`),
    );
    expect(down.status).toBe(503);
    expect(down.headers.get('retry-after')).toBe('1');
    expect((await deliveryOf(deliveryId)).status).toBe('DELIVERED');
  });

  it("Another factory gets 404 for the webhook's deliveries and their replay, as for ids that do not exist", async () => {
    const { webhook, deliveryId, records } = await oneDelivery();
    await deliver(records);
    const stranger = http((await factory()));
    const paths = [
      [`/v1/factory/webhooks/${webhook.webhookId}/deliveries`, 'GET'],
      [`/v1/factory/webhooks/${webhook.webhookId}/deliveries/${deliveryId}/retry`, 'POST'],
      ['/v1/factory/webhooks/whk_000000000000000000000000/deliveries', 'GET'],
    ] as const;
    for (const [path, method] of paths) {
      const res = method === 'GET' ? await stranger.get(path) : await stranger.post(path);
      expect(res.status, path).toBe(404);
    }
    // A delivery id of another webhook, even one of the caller's own, is 404 too.
    const mine = await oneDelivery();
    await deliver(mine.records);
    const err = await errorOf(useCases.replayOwnDelivery(mine.f, mine.webhook.webhookId, deliveryId));
    expect(err).toBeInstanceOf(DomainError);
    expect((err as InstanceType<typeof DomainError>).kind).toBe('not-found');
    expect(await recordsFor(deliveryId)).toEqual([]);
  });
});

describe('Managing a webhook while deliveries are queued', () => {
  it('A delivery queued before a DELETE or a disable is not sent: FAILED, saying why, with nothing POSTed', async () => {
    const deleted = await oneDelivery();
    await useCases.deleteOwnWebhook(deleted.f, deleted.webhook.webhookId);
    expect(await deliver(deleted.records)).toEqual([]);
    expect(await deliveryOf(deleted.deliveryId)).toMatchObject({ status: 'FAILED', attempts: [{ error: expect.stringMatching(/no longer exists/) }] });
    expect(deleted.endpoint.received()).toEqual([]);

    const disabled = await oneDelivery();
    await useCases.updateOwnWebhook(disabled.f, disabled.webhook.webhookId, { enabled: false });
    expect(await deliver(disabled.records)).toEqual([]);
    expect(await deliveryOf(disabled.deliveryId)).toMatchObject({ status: 'FAILED', attempts: [{ error: expect.stringMatching(/disabled/) }] });
    expect(disabled.endpoint.received()).toEqual([]);
  });

  it("A webhook deleted and created again with the same Idempotency-Key (the same id) does not inherit the old one's deliveries", async () => {
    const f = await factory();
    const key = `again-${randomUUID()}`;
    const first = await useCases.createOwnWebhook(f, { url: receiver.endpoint().url, events: ['batch.released'] }, key);
    const e = event(f.id);
    await dispatchEvent(e);
    const oldDelivery = deliveryIdFor(first.webhook.webhookId, e.detail.eventId);
    await recordsFor(oldDelivery);
    await useCases.deleteOwnWebhook(f, first.webhook.webhookId);

    const endpoint = receiver.endpoint();
    const again = await useCases.createOwnWebhook(f, { url: endpoint.url, events: ['batch.released'] }, key);
    expect(again.webhook.webhookId).toBe(first.webhook.webhookId);
    expect((await useCases.listOwnDeliveries(f, again.webhook.webhookId, { limit: 50 })).items).toEqual([]);
    const err = await errorOf(useCases.replayOwnDelivery(f, again.webhook.webhookId, oldDelivery));
    expect((err as InstanceType<typeof DomainError>).kind).toBe('not-found');
  });

  it("A create's replay shows the secret again only within 24 hours and before a rotation; later it is 409, never a secret that no longer signs", async () => {
    const f = await factory();
    const key = `replay-${randomUUID()}`;
    const body = { url: receiver.endpoint().url, events: ['batch.released' as const] };
    const first = await useCases.createOwnWebhook(f, body, key);
    expect((await useCases.createOwnWebhook(f, body, key)).secret).toBe(first.secret);

    await useCases.rotateOwnWebhookSecret(f, first.webhook.webhookId);
    const afterRotation = await errorOf(useCases.createOwnWebhook(f, body, key));
    expect((afterRotation as Error).name).toBe('SecretNoLongerShownError');
    expect(await store.getWebhook(first.webhook.webhookId, true)).not.toHaveProperty('revealSecret');

    const later = await useCases.createOwnWebhook(f, { ...body, url: receiver.endpoint().url }, `${key}-2`);
    vi.useFakeTimers({ toFake: ['Date'], shouldAdvanceTime: true });
    try {
      vi.setSystemTime(Date.parse(later.webhook.createdAt) + 24 * 3_600_000 + 1000);
      const tooLate = await errorOf(useCases.createOwnWebhook(f, { ...body, url: later.webhook.url }, `${key}-2`));
      expect((tooLate as Error).name).toBe('SecretNoLongerShownError');
    } finally {
      vi.useRealTimers();
    }
  });

  it('A webhook stored before secrets were sealed keeps signing with its plain secret; rotating it seals both the new and the old', async () => {
    const f = await factory();
    const endpoint = receiver.endpoint();
    const { webhook } = await useCases.createOwnWebhook(f, { url: endpoint.url, events: ['batch.released'] }, undefined);
    const plain = 'whsec_stored-before-sealing';
    await ddbDoc.send(new UpdateCommand({ TableName: process.env[envNames.table], Key: store.webhookKey(webhook.webhookId), UpdateExpression: 'SET secret = :plain', ExpressionAttributeValues: { ':plain': plain } }));

    const e = event(f.id);
    await dispatchEvent(e);
    const deliveryId = deliveryIdFor(webhook.webhookId, e.detail.eventId);
    expect(await deliver(await recordsFor(deliveryId))).toEqual([]);
    expect(signatureIsValid(plain, endpoint.received()[0] as Received)).toBe(true);

    const rotated = await useCases.rotateOwnWebhookSecret(f, webhook.webhookId);
    const item = await ddbDoc.send(new GetCommand({ TableName: process.env[envNames.table], Key: store.webhookKey(webhook.webhookId) }));
    expect(JSON.stringify(item.Item)).not.toContain('whsec_');
    const next = event(f.id);
    await dispatchEvent(next);
    expect(await deliver(await recordsFor(deliveryIdFor(webhook.webhookId, next.detail.eventId)))).toEqual([]);
    const header = String(endpoint.received()[1]?.headers['c2m-signature']);
    expect(header.split(',').filter((p) => p.startsWith('v1='))).toHaveLength(2);
    // Each secret verifies against one of the two v1 values (the receiver's check takes one v1 at a time here).
    const [t, ...v1s] = header.split(',');
    const second = endpoint.received()[1] as Received;
    for (const secret of [rotated.secret, plain]) {
      expect(v1s.some((v1) => signatureIsValid(secret, { ...second, headers: { 'c2m-signature': `${t},${v1}` } })), secret).toBe(true);
    }
  });
});
