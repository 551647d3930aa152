import { createServer, type Server } from 'node:http';
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import { C2mApiError, C2mAuthError, createC2mClient, unwrap, type RetryEvent } from '@c2m/factory-client';
import type { LocalRuntime } from '../../lib/local/runtime.ts';
import { apiCalls, tokenRequests, watched, worldOf, type Seen } from '../support/factory-client.ts';
import { silenceBuyerNotifications } from '../support/quiet.ts';
import { startTestRuntime, untilDrained } from '../support/runtime.ts';

/**
 * The typed factory client (clients/typescript) as a factory's integration uses it: its own
 * client id and secret, HTTP to the local runtime, nothing of c2m's imported. Time that must
 * pass (a token's hour) is moved with a controlled clock, in the last tests, and only forward
 * while the runtime runs. Throttling: factory-client-throttle.test.ts.
 */
let restoreStdout: () => void;
beforeAll(() => {
  restoreStdout = silenceBuyerNotifications();
});
afterAll(() => {
  restoreStdout();
  vi.useRealTimers();
});

/**
 * The network between the factory and the runtime, losing one answer: the first request that
 * `lose` picks is passed on and answered by the runtime, and then the connection is cut before
 * the answer reaches the client (a timeout or a reset after the work was done).
 */
const lossyLink = async (target: string, lose: (method: string, path: string) => boolean) => {
  const passed: { method: string; path: string; idempotencyKey?: string; status: number }[] = [];
  let lost = false;
  const server: Server = createServer((req, res) => {
    void (async () => {
      const chunks: Buffer[] = [];
      for await (const chunk of req) chunks.push(chunk as Buffer);
      const headers = Object.fromEntries(
        Object.entries(req.headers).filter((e): e is [string, string] => typeof e[1] === 'string' && !['host', 'connection', 'content-length'].includes(e[0])),
      );
      const answer = await fetch(`${target}${req.url}`, { method: req.method, headers, ...(chunks.length > 0 && { body: Buffer.concat(chunks) }) });
      const body = Buffer.from(await answer.arrayBuffer());
      const path = new URL(req.url ?? '/', target).pathname;
      passed.push({ method: req.method ?? '', path, status: answer.status, ...(headers['idempotency-key'] && { idempotencyKey: headers['idempotency-key'] }) });
      if (!lost && lose(req.method ?? '', path)) {
        lost = true;
        req.socket.destroy();
        return;
      }
      res.writeHead(answer.status, { 'content-type': answer.headers.get('content-type') ?? 'application/json', ...(answer.headers.get('retry-after') && { 'retry-after': answer.headers.get('retry-after')! }) });
      res.end(body);
    })();
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  return { url: `http://127.0.0.1:${(server.address() as { port: number }).port}`, passed, close: () => server.close() };
};

describe('The factory client against the local runtime', () => {
  let runtime: LocalRuntime;
  let world: ReturnType<typeof worldOf>;
  beforeAll(async () => {
    runtime = await startTestRuntime();
    world = worldOf(runtime);
  });
  afterAll(() => runtime?.stop());

  it('With only its client id and secret, a factory finds the token endpoint through the API\'s own document, and ten calls at once share one token request', async () => {
    // Prepare
    const { clientId, clientSecret } = await world.register('factory-discovers');
    const traffic: Seen[] = [];
    const c2m = createC2mClient({ baseUrl: runtime.url, credentials: { clientId, clientSecret }, fetch: watched(traffic) });

    // Act
    const answers = await Promise.all(Array.from({ length: 10 }, () => c2m.factory.trust()));

    // Assess
    expect(answers).toHaveLength(10);
    expect(tokenRequests(traffic)).toBe(1);
    expect(traffic.filter((t) => t.path === '/v1/openapi.json')).toHaveLength(1);
    expect(traffic.filter((t) => t.path.endsWith('/.well-known/openid-configuration'))).toHaveLength(1);
    expect(apiCalls(traffic).map((t) => t.status)).toEqual(Array(10).fill(200));
  });

  it('An answer other than success is thrown as a C2mApiError carrying the problem, each bad field named', async () => {
    // Prepare
    const { clientId, clientSecret } = await world.register('factory-typo');
    const c2m = createC2mClient({ baseUrl: runtime.url, credentials: { clientId, clientSecret } });
    const nobodys = 'bat_000000000000000000000000';

    // Act
    const invalid = await c2m.factory.accept(nobodys, { committedShipDate: 'next tuesday' }).catch((err: unknown) => err);
    const unknown = await c2m.factory.batch(nobodys).catch((err: unknown) => err);

    // Assess
    expect(invalid).toBeInstanceOf(C2mApiError);
    const problem = invalid as C2mApiError;
    expect(problem.status).toBe(400);
    expect(new Set(problem.errors.map((e) => e.path))).toEqual(new Set(['committedShipDate']));
    expect(problem.operation).toBe(`POST /v1/factory/batches/${nobodys}/accept`);
    expect(problem.message).toContain('committedShipDate');
    expect(unknown).toBeInstanceOf(C2mApiError);
    expect((unknown as C2mApiError).status).toBe(404);
  });

  it('Lists are iterated across their pages: every manifest entry and every webhook exactly once, and the manifest as one CSV document', async () => {
    // Prepare: a batch of five pre-orders, and five webhooks; pages of two.
    const { factoryId, clientId, clientSecret } = await world.register('factory-pages');
    const traffic: Seen[] = [];
    const c2m = createC2mClient({ baseUrl: runtime.url, credentials: { clientId, clientSecret }, fetch: watched(traffic) });
    const { batch, preorderIds } = await world.releasedBatch(c2m, factoryId, 5);
    const hooks: string[] = [];
    for (let i = 0; i < 5; i++) hooks.push((await c2m.factory.createWebhook({ url: `https://factory.example.com/hooks/${i}`, events: ['batch.released'] })).webhookId);
    traffic.length = 0;

    // Act
    const entries: string[] = [];
    for await (const entry of c2m.factory.manifest(batch.batchId, { limit: 2 })) entries.push(entry.preorderId);
    const manifestPages = traffic.filter((t) => t.path.endsWith('/manifest')).length;
    const webhooks = await c2m.factory.webhooks({ limit: 2 }).all();
    const batches: string[] = [];
    for await (const b of c2m.factory.batches({ limit: 1 })) batches.push(b.batchId);
    const csv = await c2m.factory.manifestCsv(batch.batchId, { limit: 2 });

    // Assess: the buyers' own pre-order ids, each once, over three pages.
    expect(manifestPages).toBe(3);
    expect([...entries].sort()).toEqual([...preorderIds].sort());
    expect(webhooks.map((w) => w.webhookId).sort()).toEqual([...hooks].sort());
    expect(batches).toEqual([batch.batchId]);
    expect(csv.startsWith('\uFEFFpreorderId,')).toBe(true);
    const rows = csv.slice(1).split('\r\n').filter(Boolean);
    expect(rows).toHaveLength(1 + 5);
    expect(rows.slice(1).map((r) => r.split(',')[0]).sort()).toEqual([...preorderIds].sort());
    expect(csv.indexOf('\uFEFF', 1)).toBe(-1);
  });

  it('The change feed is read on from a sequence, two at a time: every event once, in order, as one long page has them, and a second read from the last one finds nothing new', async () => {
    // Prepare: a batch released, accepted and reported on, its events numbered for the factory.
    const { factoryId, clientId, clientSecret } = await world.register('factory-feed');
    const c2m = createC2mClient({ baseUrl: runtime.url, credentials: { clientId, clientSecret } });
    const { batch } = await world.releasedBatch(c2m, factoryId, 2);
    await c2m.factory.accept(batch.batchId, { committedShipDate: new Date(Date.now() + 5 * 86_400_000).toISOString().slice(0, 10) });
    await c2m.factory.progress(batch.batchId, { produced: 1, qcPassed: 0, qcFailed: 0 });
    await c2m.factory.progress(batch.batchId, { produced: 2, qcPassed: 1, qcFailed: 0 });
    const longPage = await untilDrained(
      runtime,
      async () => unwrap(await c2m.raw.GET('/v1/factory/events', { params: { query: { after: 0, limit: 200 } } })).items,
      (items) => items.filter((e) => e.type === 'batch.progressed').length === 2,
    );

    // Act
    const paged = await c2m.factory.events({ after: 0, limit: 2 }).all();
    const last = paged.at(-1)!.sequence;
    const later = await c2m.factory.events({ after: last, limit: 2 }).all();

    // Assess
    expect(longPage.length).toBeGreaterThanOrEqual(4);
    expect(paged.map((e) => e.id)).toEqual(longPage.map((e) => e.id));
    expect(paged.map((e) => e.sequence)).toEqual(longPage.map((_, i) => longPage[0]!.sequence + i));
    expect(paged.map((e) => e.type).slice(0, 2)).toEqual(['batch.released', 'batch.accepted']);
    expect(later).toEqual([]);
  });

  it('A lot whose answer was lost is sent again with the same Idempotency-Key and ships once', async () => {
    // Prepare: an accepted batch of three, made and passed QC, reached through a link that loses the first shipment's answer.
    const { factoryId, clientId, clientSecret } = await world.register('factory-lossy');
    const direct = createC2mClient({ baseUrl: runtime.url, credentials: { clientId, clientSecret } });
    const { batch } = await world.releasedBatch(direct, factoryId, 3);
    await direct.factory.accept(batch.batchId, { committedShipDate: new Date(Date.now() + 5 * 86_400_000).toISOString().slice(0, 10) });
    await direct.factory.progress(batch.batchId, { produced: 3, qcPassed: 3, qcFailed: 0 });
    const link = await lossyLink(runtime.url, (method, path) => method === 'POST' && path.endsWith('/shipments'));
    const retries: RetryEvent[] = [];
    const c2m = createC2mClient({ baseUrl: link.url, credentials: { clientId, clientSecret }, onRetry: (e) => retries.push(e), sleep: async () => undefined });

    try {
      // Act
      const lot = await c2m.factory.ship(batch.batchId, { carrier: 'SF Express', trackingNumber: 'SF0000000001', items: [{ sku: 'SHIRT-M', quantity: 2 }] });

      // Assess: two tries under one key, one lot, two units shipped (not four).
      const tries = link.passed.filter((p) => p.method === 'POST' && p.path.endsWith('/shipments'));
      expect(tries).toHaveLength(2);
      expect(tries[0]!.idempotencyKey).toMatch(/^[0-9a-f-]{36}$/);
      expect(tries[1]!.idempotencyKey).toBe(tries[0]!.idempotencyKey);
      expect(retries.map((r) => r.reason)).toEqual(['no-answer']);
      const lots = await direct.factory.shipments(batch.batchId);
      expect(lots.map((l) => l.shipmentId)).toEqual([lot.shipmentId]);
      expect((await direct.factory.batch(batch.batchId)).shipped).toBe(2);
    } finally {
      link.close();
    }
  });

  it('A caller\'s own Idempotency-Key is sent as given: a second call with it is answered with the first lot', async () => {
    const { factoryId, clientId, clientSecret } = await world.register('factory-keys');
    const c2m = createC2mClient({ baseUrl: runtime.url, credentials: { clientId, clientSecret } });
    const { batch } = await world.releasedBatch(c2m, factoryId, 2);
    await c2m.factory.accept(batch.batchId, { committedShipDate: new Date(Date.now() + 5 * 86_400_000).toISOString().slice(0, 10) });
    await c2m.factory.progress(batch.batchId, { produced: 2, qcPassed: 2, qcFailed: 0 });
    const lot = { carrier: 'JD Logistics', trackingNumber: 'JD0000000001', items: [{ sku: 'SHIRT-M', quantity: 1 }] };

    const first = await c2m.factory.ship(batch.batchId, lot, { idempotencyKey: `${batch.batchId}:lot-1` });
    const again = await c2m.factory.ship(batch.batchId, lot, { idempotencyKey: `${batch.batchId}:lot-1` });
    const other = await c2m.factory.ship(batch.batchId, lot);

    expect(again.shipmentId).toBe(first.shipmentId);
    expect(other.shipmentId).not.toBe(first.shipmentId);
    expect((await c2m.factory.batch(batch.batchId)).shipped).toBe(2);
  });

  it('Tokens from the caller\'s own getter: asked again once after a 401, and the second 401 is the caller\'s to see', async () => {
    // Prepare
    const { factoryId } = await world.register('factory-getter');
    const good = await runtime.token('factory', factoryId);
    const recovering: boolean[] = [];
    const hopeless: boolean[] = [];
    const traffic: Seen[] = [];
    const recovers = createC2mClient({ baseUrl: runtime.url, token: ({ refresh }) => (recovering.push(refresh), refresh ? good : 'a-token-gone-stale') });
    const never = createC2mClient({ baseUrl: runtime.url, token: ({ refresh }) => (hopeless.push(refresh), 'not-a-token'), fetch: watched(traffic) });

    // Act
    const trust = await recovers.factory.trust();
    const refused = await never.factory.trust().catch((err: unknown) => err);

    // Assess
    expect(trust).toBeTypeOf('object');
    expect(recovering).toEqual([false, true]);
    expect(refused).toBeInstanceOf(C2mApiError);
    expect((refused as C2mApiError).status).toBe(401);
    expect(hopeless).toEqual([false, true]);
    expect(apiCalls(traffic).map((t) => t.status)).toEqual([401, 401]);
  });

  it('A revoked factory is told by the issuer (invalid_client), and nothing is sent to the API', async () => {
    // Prepare
    const { factoryId, clientId, clientSecret } = await world.register('factory-revoked');
    await world.revoke(factoryId);
    const traffic: Seen[] = [];
    const c2m = createC2mClient({ baseUrl: runtime.url, credentials: { clientId, clientSecret }, fetch: watched(traffic) });

    // Act
    const failure = await c2m.factory.trust().catch((err: unknown) => err);

    // Assess
    expect(failure).toBeInstanceOf(C2mAuthError);
    expect(failure).toMatchObject({ status: 401, error: 'invalid_client' });
    expect(apiCalls(traffic)).toEqual([]);
  });

  // Last: these move the clock forward by hours (never back while the runtime runs).
  it('An hour\'s token is renewed half a minute before it runs out, before any call is refused, and then reused', async () => {
    // Prepare
    vi.useFakeTimers({ toFake: ['Date'], shouldAdvanceTime: true });
    const { clientId, clientSecret } = await world.register('factory-hourly');
    const traffic: Seen[] = [];
    const c2m = createC2mClient({ baseUrl: runtime.url, credentials: { clientId, clientSecret }, fetch: watched(traffic) });
    await c2m.factory.trust();

    // Act
    vi.setSystemTime(Date.now() + 59.5 * 60_000);
    await c2m.factory.trust();
    await c2m.factory.trust();

    // Assess
    expect(tokenRequests(traffic)).toBe(2);
    expect(apiCalls(traffic).map((t) => t.status)).toEqual([200, 200, 200]);
  });

  it('A factory whose clock runs behind sends an expired token, is refused (401), renews it and is served: the call succeeds', async () => {
    // Prepare: the client's clock stops; the world's moves on two hours.
    const { clientId, clientSecret } = await world.register('factory-behind');
    const traffic: Seen[] = [];
    const retries: RetryEvent[] = [];
    const stopped = Date.now();
    const c2m = createC2mClient({
      baseUrl: runtime.url,
      credentials: { clientId, clientSecret },
      now: () => stopped,
      fetch: watched(traffic),
      onRetry: (e) => retries.push(e),
    });
    await c2m.factory.trust();
    vi.setSystemTime(Date.now() + 2 * 3600_000);

    // Act
    const trust = await c2m.factory.trust();

    // Assess
    expect(trust).toBeTypeOf('object');
    expect(apiCalls(traffic).map((t) => t.status)).toEqual([200, 401, 200]);
    expect(tokenRequests(traffic)).toBe(2);
    expect(retries.map((r) => r.reason)).toEqual(['unauthorized']);
  });
});
