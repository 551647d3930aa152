import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { decodeJwt, decodeProtectedHeader, generateKeyPair, SignJWT } from 'jose';
import type { LocalRuntime } from '../../lib/local/runtime.ts';
import { campaignDraft, clientFor, preorderDraft, registerFactories, startTestRuntime } from '../support/runtime.ts';

let runtime: LocalRuntime;
let anchor: ReturnType<typeof clientFor>;
let buyer: ReturnType<typeof clientFor>;
let campaignId: string;

beforeAll(async () => {
  runtime = await startTestRuntime();
  anchor = clientFor(runtime, 'anchor', 'anchor-1');
  buyer = clientFor(runtime, 'buyer', 'buyer-1');
  await registerFactories(runtime, 'factory-1');
  campaignId = ((await anchor.post<{ campaignId: string }>('/v1/campaigns', campaignDraft())).body).campaignId;
});
afterAll(() => runtime?.stop());

type Problem = { type: string; title: string; status: number; detail: string; errors?: { path: string; message: string }[] };

/** After every refused request: the buyer has no open pre-order and demand is still zero. */
const nothingWritten = async () => {
  // A pre-order that slipped through would be listed once intake has read the table's stream: wait for it.
  await runtime.emulator.drain();
  const mine = await buyer.get<{ items: { status: string }[] }>('/v1/preorders?mine=true');
  expect(mine.body.items.filter((p) => p.status !== 'REFUNDED')).toEqual([]);
  const demand = await anchor.get<{ totals: { ordered: number } }>(`/v1/campaigns/${campaignId}/demand`);
  expect(demand.body.totals.ordered).toBe(0);
};

const expectProblem = (res: { status: number; headers: Headers; body: unknown }, status: number, path?: string) => {
  expect(res.status).toBe(status);
  expect(res.headers.get('content-type')).toContain('application/problem+json');
  const body = res.body as Problem;
  expect(body).toMatchObject({ status, title: expect.any(String), detail: expect.any(String) });
  if (path) expect(body.errors?.map((e) => e.path)).toContain(path);
};

describe('Bad input gets a clear 4xx naming the field, and writes nothing', () => {
  const preorders = () => `/v1/campaigns/${campaignId}/preorders`;

  it('Malformed JSON is 400', async () => {
    expectProblem(await buyer.post(preorders(), '{"sku": "SHIRT-M", "quantity": '), 400);
    await nothingWritten();
  });

  it('A wrong type is 400 naming the field', async () => {
    expectProblem(await buyer.post(preorders(), preorderDraft({ quantity: 'two' })), 400, 'quantity');
    expectProblem(await buyer.post(preorders(), preorderDraft({ shippingAddress: { ...preorderDraft().shippingAddress, country: 'China' } })), 400, 'shippingAddress.country');
    await nothingWritten();
  });

  it('Zero, negative and fractional quantities are 400 naming quantity', async () => {
    for (const quantity of [0, -1, 1.5]) expectProblem(await buyer.post(preorders(), preorderDraft({ quantity })), 400, 'quantity');
    await nothingWritten();
  });

  it('An unknown sku is 400 naming sku and listing what the campaign sells', async () => {
    const res = await buyer.post<Problem>(preorders(), preorderDraft({ sku: 'SHIRT-XXL' }));
    expectProblem(res, 400, 'sku');
    expect(res.body.errors?.[0]?.message).toContain('SHIRT-M');
    await nothingWritten();
  });

  it('An unknown field is 400 naming it, so a typo never silently drops a setting', async () => {
    expectProblem(await buyer.post(preorders(), { ...preorderDraft(), quantiy: 2 }), 400);
    const res = await anchor.post<Problem>('/v1/campaigns', { ...campaignDraft(), maxTotalQuantiy: 10 });
    expectProblem(res, 400);
    expect(JSON.stringify(res.body.errors)).toContain('maxTotalQuantiy');
    await nothingWritten();
  });

  it('An oversize body is 413', async () => {
    const huge = { ...preorderDraft(), shippingAddress: { ...preorderDraft().shippingAddress, line2: 'x'.repeat(200_000) } };
    expectProblem(await buyer.post(preorders(), huge), 413);
    await nothingWritten();
  });

  it('A body that is not JSON is 415', async () => {
    expectProblem(await buyer.post(preorders(), 'sku=SHIRT-M', { headers: { 'content-type': 'application/x-www-form-urlencoded' } }), 415);
    await nothingWritten();
  });

  it('A missing or forged token is 401', async () => {
    const noToken = await fetch(`${runtime.url}${preorders()}`, { method: 'POST', body: JSON.stringify(preorderDraft()), headers: { 'content-type': 'application/json' } });
    expect(noToken.status).toBe(401);
    expect(noToken.headers.get('content-type')).toContain('application/problem+json');
    // The buyer's own claims and the issuer's kid, signed with a key the issuer never held.
    const real = await buyer.token();
    const { privateKey } = await generateKeyPair('ES256');
    const forged = await new SignJWT(decodeJwt(real)).setProtectedHeader({ alg: 'ES256', kid: decodeProtectedHeader(real).kid! }).sign(privateKey);
    const refused = await fetch(`${runtime.url}${preorders()}`, {
      method: 'POST',
      body: JSON.stringify(preorderDraft()),
      headers: { 'content-type': 'application/json', authorization: `Bearer ${forged}` },
    });
    expect(refused.status).toBe(401);
    expect(refused.headers.get('content-type')).toContain('application/problem+json');
    await nothingWritten();
  });

  it('A factory token on a buyer route is 403', async () => {
    const factory = clientFor(runtime, 'factory', 'factory-1');
    expectProblem(await factory.post(preorders(), preorderDraft()), 403);
    expectProblem(await factory.get('/v1/preorders?mine=true'), 403);
    await nothingWritten();
  });

  it('A wrong role is 403 even when the body is also wrong: the role is checked first', async () => {
    const factory = clientFor(runtime, 'factory', 'factory-1');
    expectProblem(await factory.post(preorders(), { nonsense: true }), 403);
    expectProblem(await buyer.post('/v1/campaigns', { nonsense: true }), 403);
    await nothingWritten();
  });

  it('Hostile input is a 4xx, never a 500: forged cursors, bad percent-encoding, prototype keys, huge numbers, arrays for objects', async () => {
    const forgedCursor = Buffer.from(JSON.stringify({ GSI1SK: '' })).toString('base64url');
    expectProblem(await buyer.get(`/v1/preorders?mine=true&cursor=${forgedCursor}`), 400, 'cursor');
    const otherTenant = Buffer.from(JSON.stringify({ GSI1SK: 'x', GSI1PK: 'BUYER#someone-else' })).toString('base64url');
    expectProblem(await buyer.get(`/v1/preorders?mine=true&cursor=${otherTenant}`), 400, 'cursor');
    const badEncoding = await fetch(`${runtime.url}/v1/preorders/%E0%A4%A`, { headers: { authorization: `Bearer ${await buyer.token()}` } });
    expect(badEncoding.status).toBeGreaterThanOrEqual(400);
    expect(badEncoding.status).toBeLessThan(500);
    expectProblem(await buyer.post(preorders(), preorderDraft({ quantity: 1e308 })), 400, 'quantity');
    expectProblem(await buyer.post(preorders(), [preorderDraft()]), 400);
    expectProblem(await buyer.post(preorders(), preorderDraft({ shippingAddress: ['x'] })), 400, 'shippingAddress');
    expectProblem(await buyer.post(preorders(), ''), 400);
    await nothingWritten();
    // A sku spelled like a prototype key is just a sku.
    const odd = await anchor.post<{ campaignId: string }>('/v1/campaigns', campaignDraft({ variants: [{ sku: '__proto__', name: 'odd', unitPrice: 100 }] }));
    expect(odd.status).toBe(201);
    const placed = await buyer.post(`/v1/campaigns/${odd.body.campaignId}/preorders`, preorderDraft({ sku: '__proto__' }));
    expect(placed.status).toBe(202);
    const demand = await anchor.get<{ variants: { sku: string; ordered: number }[] }>(`/v1/campaigns/${odd.body.campaignId}/demand`);
    expect(demand.body.variants).toEqual([expect.objectContaining({ sku: '__proto__', ordered: 1 })]);
    await buyer.post(`/v1/preorders/${placed.body.preorderId}/cancel`);
  });

  it('A campaign that does not exist is 404; a malformed id is 400 naming campaignId', async () => {
    expectProblem(await buyer.post('/v1/campaigns/cmp_000000000000000000000000/preorders', preorderDraft()), 404);
    expectProblem(await buyer.post('/v1/campaigns/nope/preorders', preorderDraft()), 400, 'campaignId');
    await nothingWritten();
  });

  it('Campaign terms that contradict each other are 400 naming the field', async () => {
    const past = await anchor.post<Problem>('/v1/campaigns', campaignDraft({ closesAt: '2020-01-01T00:00:00Z' }));
    expectProblem(past, 400, 'closesAt');
    expectProblem(await anchor.post('/v1/campaigns', campaignDraft({ minTotalQuantity: 10, maxTotalQuantity: 5 })), 400, 'maxTotalQuantity');
    expectProblem(
      await anchor.post('/v1/campaigns', campaignDraft({ variants: [{ sku: 'A', name: 'a', unitPrice: 1 }, { sku: 'A', name: 'b', unitPrice: 1 }] })),
      400,
      'variants.1.sku',
    );
    expectProblem(await anchor.post('/v1/campaigns', campaignDraft({ currency: 'yuan' })), 400, 'currency');
  });

  it('A list cursor that this API did not give out is 400 naming cursor; a bad limit names limit', async () => {
    expectProblem(await buyer.get('/v1/preorders?mine=true&cursor=garbage'), 400, 'cursor');
    expectProblem(await buyer.get('/v1/preorders?mine=true&limit=500'), 400, 'limit');
  });

  it('Health and the OpenAPI document need no token; the document lists every route', async () => {
    expect((await fetch(`${runtime.url}/v1/health`)).status).toBe(200);
    const doc = (await (await fetch(`${runtime.url}/v1/openapi.json`)).json()) as { openapi: string; paths: Record<string, Record<string, unknown>> };
    expect(doc.openapi).toBe('3.1.0');
    for (const route of runtime.served().routes) {
      expect(doc.paths[route.path], route.path).toHaveProperty(route.method.toLowerCase());
    }
  });
});
