import { AsyncLocalStorage } from 'node:async_hooks';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import fc from 'fast-check';
import type { LocalRuntime } from '../../lib/local/runtime.ts';
import { routes, type FunctionName, type RouteSpec } from '../../lib/topology.ts';
import { roles, type Role } from '../../functions/shared/principal.ts';
import { ddb } from '../../functions/adapters/dynamo.ts';
import { campaignDraft, clientFor, preorderDraft, registerFactories, startTestRuntime } from '../support/runtime.ts';
import { silenceBuyerNotifications } from '../support/quiet.ts';

// Every HTTP route, fuzzed with malformed and hostile input (fast-check): mutated bodies, wrong
// types, unknown and prototype-polluting keys, huge and odd strings, broken JSON, odd ids and query
// strings, wrong roles. Whatever comes in: never a 5xx, and a request that is refused (4xx) has
// written nothing: every DynamoDB write the runtime commits is counted per invocation.

const invocation = new AsyncLocalStorage<{ fn: FunctionName; writes: number }>();
const apiCalls: { fn: FunctionName; writes: number }[] = [];
const isWrite = (name: unknown) => /^(Put|Update|Delete|TransactWrite|BatchWrite)(Item|Items)?Command$/.test(String(name));
ddb.middlewareStack.add(
  (next, context) => async (args) => {
    const out = await next(args);
    const store = invocation.getStore();
    if (store && isWrite(context.commandName)) store.writes++; // committed: it did not throw
    return out;
  },
  { step: 'initialize', name: 'countCommittedWrites' },
);

let runtime: LocalRuntime;
let restore: () => void;
const ids: Record<string, string> = {};
/** One token per role, fetched once: the properties below send thousands of requests. */
const tokens = {} as Record<Role, string>;
const answers = new Map<string, number>();

const roleOf = (r: RouteSpec): Role =>
  r.fn === 'campaigns-api' ? 'anchor' : r.fn === 'preorders-api' ? 'buyer' : r.fn === 'signals-api' ? 'liveroom' : r.fn === 'factory-api' ? 'factory' : 'operator';
const client = (role: Role) => clientFor(runtime, role, role === 'factory' ? 'factory-fz' : `${role}-fz`);

beforeAll(async () => {
  runtime = await startTestRuntime({ wrapInvoke: (fn, _e, invoke) => {
    const store = { fn, writes: 0 };
    if (fn.endsWith('-api')) apiCalls.push(store);
    return invocation.run(store, invoke);
  } });
  restore = silenceBuyerNotifications();
  // factory-1 is campaignDraft()'s (the template of POST /v1/campaigns); factory-fz-spare is the real id revoke is fuzzed with.
  await registerFactories(runtime, 'factory-fz', 'factory-1', 'factory-fz-spare');
  ids.factoryId = 'factory-fz-spare';
  for (const role of roles) tokens[role] = await client(role).token();
  // Real ids of every kind, so fuzzed requests reach the code behind the id checks too.
  const anchor = client('anchor');
  const campaign = await anchor.post<{ campaignId: string }>('/v1/campaigns', campaignDraft({ factoryId: 'factory-fz', lotSize: 1 }));
  ids.campaignId = campaign.body.campaignId;
  const factory = client('factory');
  const hook = await factory.post<{ webhookId: string }>('/v1/factory/webhooks', { url: 'http://127.0.0.1:9/none', events: ['batch.released', 'batch.accepted'] });
  ids.webhookId = hook.body.webhookId;
  const preorder = await client('buyer').post<{ preorderId: string }>(`/v1/campaigns/${ids.campaignId}/preorders`, preorderDraft());
  ids.preorderId = preorder.body.preorderId;
  for (let i = 0; i < 100 && !ids.batchId; i++) {
    const list = await factory.get<{ items: { batchId: string }[] }>('/v1/factory/batches');
    if (list.body.items[0]) ids.batchId = list.body.items[0].batchId;
    else await new Promise((r) => setTimeout(r, 100));
  }
  await factory.post(`/v1/factory/batches/${ids.batchId}/accept`, { committedShipDate: '2099-01-01' });
  await factory.post(`/v1/factory/batches/${ids.batchId}/progress`, { produced: 1, qcPassed: 1, qcFailed: 0 });
  const shipment = await factory.post<{ shipmentId: string }>(`/v1/factory/batches/${ids.batchId}/shipments`, { carrier: 'SF', trackingNumber: 'SF0001', items: [{ sku: 'SHIRT-M', quantity: 1 }] });
  ids.shipmentId = shipment.body.shipmentId;
  const deliveries = await factory.get<{ items: { deliveryId: string }[] }>(`/v1/factory/webhooks/${ids.webhookId}/deliveries`);
  ids.deliveryId = deliveries.body.items[0]?.deliveryId ?? 'dlv_000000000000000000000000';
  expect(Object.values(ids).every(Boolean)).toBe(true);
});
afterAll(async () => {
  restore?.();
  await runtime?.stop();
  console.log(`fuzz: answers by route and status\n${[...answers].sort().map(([k, n]) => `  ${k.padEnd(72)} ${n}`).join('\n')}`);
});

/** A valid body for each creating route: fuzzing mutates it, so requests get past the first check. */
const template = (path: string): Record<string, unknown> | undefined => {
  const last = path.split('/').at(-1)!;
  if (path === '/v1/campaigns') return campaignDraft();
  if (last === 'preorders') return preorderDraft();
  if (last === 'signals') return { signals: [{ campaignId: ids.campaignId, sku: 'SHIRT-M', type: 'view', count: 3, at: new Date().toISOString() }] };
  if (last === 'accept') return { committedShipDate: '2099-01-02' };
  if (last === 'reject' || last === 'close-short') return { reason: 'fuzz' };
  if (last === 'progress') return { sku: 'SHIRT-M', produced: 1, qcPassed: 1, qcFailed: 0 };
  if (last === 'shipments') return { carrier: 'SF', trackingNumber: 'SF0002', items: [{ sku: 'SHIRT-M', quantity: 1 }] };
  if (last === 'parcels') return { parcels: [{ preorderId: ids.preorderId, carrier: 'SF', trackingNumber: 'SF0003' }] };
  if (path === '/v1/factory/webhooks') return { url: 'https://example.com/hook', events: ['batch.released'] };
  if (path === '/v1/operator/factories') return { factoryId: 'factory-fz-new', name: 'Fuzzed Works' };
  return undefined;
};

const hostile = fc.oneof(
  fc.string(),
  fc.string({ unit: 'binary', maxLength: 50 }),
  fc.integer(),
  fc.double(),
  fc.boolean(),
  fc.constant(null),
  fc.constant(''),
  fc.constant('x'.repeat(20_000)),
  fc.constantFrom('../../etc/passwd', '<script>alert(1)</script>', "' OR 1=1 --", '${jndi:ldap://x}', '\u0000', '%00', '🔥'.repeat(100)),
  fc.array(fc.jsonValue(), { maxLength: 3 }),
  fc.dictionary(fc.constantFrom('__proto__', 'constructor', 'prototype', 'a'), fc.jsonValue(), { maxKeys: 2 }),
  fc.constant(-1),
  fc.constant(Number.MAX_SAFE_INTEGER),
);

type Body = { json: unknown } | { raw: string } | undefined;
const bodyFor = (tpl: Record<string, unknown> | undefined): fc.Arbitrary<Body> => {
  const whole = fc.oneof(
    fc.jsonValue().map((json) => ({ json })),
    fc.constantFrom('{', '{"a":', 'null', '[]', '"str"', '{"__proto__":{"polluted":true}}', '\u0000').map((raw) => ({ raw })),
  );
  if (!tpl) return fc.oneof(fc.constant(undefined), whole);
  const keys = Object.keys(tpl);
  return fc.oneof(
    { weight: 4, arbitrary: fc.record({ key: fc.constantFrom(...keys), value: hostile }).map(({ key, value }) => ({ json: { ...tpl, [key]: value } })) },
    { weight: 1, arbitrary: fc.constantFrom(...keys).map((key) => ({ json: Object.fromEntries(Object.entries(tpl).filter(([k]) => k !== key)) })) },
    { weight: 1, arbitrary: fc.record({ key: fc.constantFrom('__proto__', 'constructor', 'extra', 'status', 'buyerId', 'factoryId'), value: hostile }).map(({ key, value }) => ({ raw: JSON.stringify({ ...tpl }).replace(/^\{/, `{${JSON.stringify(key)}:${JSON.stringify(value) ?? 'null'},`) })) },
    { weight: 1, arbitrary: whole },
  );
};

const idLike = fc.oneof(
  { weight: 3, arbitrary: fc.constant('real') },
  { weight: 1, arbitrary: fc.string({ maxLength: 40 }).map((s) => encodeURIComponent(s) || 'x') },
  { weight: 1, arbitrary: fc.constantFrom('..%2F..%2Fadmin', 'cmp_000000000000000000000000', 'po_' + 'z'.repeat(24), 'bat_'.padEnd(400, 'a'), '%00', 'null', 'undefined') },
);

const queryLike = fc.oneof(
  fc.constant(''),
  fc.record({ limit: fc.oneof(fc.integer({ min: -5, max: 500 }).map(String), fc.string({ maxLength: 5 })), cursor: fc.oneof(fc.constant(undefined), fc.base64String({ maxLength: 60 }), fc.string({ maxLength: 30 })), status: fc.oneof(fc.constant(undefined), fc.string({ maxLength: 12 }), fc.constant('RELEASED')), mine: fc.constantFrom('true', 'false', '1', '') })
    .map((q) => `?${Object.entries(q).filter(([, v]) => v !== undefined).map(([k, v]) => `${k}=${encodeURIComponent(String(v))}`).join('&')}`),
);

describe('Every route, fuzzed', () => {
  for (const route of routes) {
    it(`${route.method} ${route.path}: hostile input is a 4xx naming the problem, never a 5xx, and a refused request writes nothing`, async () => {
      await fc.assert(
        fc.asyncProperty(
          fc.record({ id: idLike, body: bodyFor(template(route.path)), query: queryLike, wrongRole: fc.boolean(), key: fc.oneof(fc.constant(undefined), fc.string({ maxLength: 200 })) }),
          async ({ id, body: generated, query, wrongRole, key }) => {
            const body = route.method === 'POST' ? generated : undefined; // fetch refuses a GET with a body
            const path = route.path.replace(/\{(\w+)\}/g, (_, name: string) => (id === 'real' ? ids[name]! : id));
            const role = wrongRole && route.auth ? (roleOf(route) === 'buyer' ? 'factory' : 'buyer') : roleOf(route);
            const headers: Record<string, string> = {
              authorization: `Bearer ${tokens[role]}`,
              ...(body !== undefined && { 'content-type': 'application/json' }),
              ...(key !== undefined && /^[\x20-\x7e]*$/.test(key) && { 'idempotency-key': key }),
            };
            const before = apiCalls.length;
            const res = await fetch(`${runtime.url}${path}${route.method === 'GET' ? query : ''}`, {
              method: route.method,
              headers,
              ...(body !== undefined && { body: 'raw' in body ? body.raw : JSON.stringify(body.json) }),
            });
            const text = await res.text();
            answers.set(`${route.method} ${route.path} ${res.status}`, (answers.get(`${route.method} ${route.path} ${res.status}`) ?? 0) + 1);
            expect(res.status, `${route.method} ${path} → ${text.slice(0, 300)}`).toBeLessThan(500);
            if (res.status >= 400) {
              expect(res.headers.get('content-type') ?? '', text.slice(0, 200)).toMatch(/problem\+json/);
              const written = apiCalls.slice(before).reduce((n, c) => n + c.writes, 0);
              expect(written, `${route.method} ${path} was refused (${res.status}) but wrote ${written} item(s)`).toBe(0);
            }
          },
        ),
        { numRuns: 40, seed: 20261122 },
      );
    }, 120_000);
  }
});
