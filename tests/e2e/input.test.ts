import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { LocalRuntime } from '../../lib/local/runtime.ts';
import { campaignDraft, clientFor, preorderDraft, startTestRuntime } from '../support/runtime.ts';

let runtime: LocalRuntime;
let anchor: ReturnType<typeof clientFor>;
let buyer: ReturnType<typeof clientFor>;
let campaignId: string;

beforeAll(async () => {
  runtime = await startTestRuntime();
  anchor = clientFor(runtime.url, runtime.tokenSecret, 'anchor', 'anchor-1');
  buyer = clientFor(runtime.url, runtime.tokenSecret, 'buyer', 'buyer-1');
  campaignId = ((await anchor.post<{ campaignId: string }>('/v1/campaigns', campaignDraft())).body).campaignId;
});
afterAll(() => runtime?.stop());

type Problem = { type: string; title: string; status: number; detail: string; errors?: { path: string; message: string }[] };

/** After every refused request: the buyer has no pre-order and demand is still zero. */
const nothingWritten = async () => {
  expect((await buyer.get<{ items: unknown[] }>('/v1/preorders?mine=true')).body.items).toEqual([]);
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
    expectProblem(await buyer.post(preorders(), 'sku=SHIRT-M', { 'content-type': 'application/x-www-form-urlencoded' }), 415);
    await nothingWritten();
  });

  it('A missing or forged token is 401', async () => {
    const noToken = await fetch(`${runtime.url}${preorders()}`, { method: 'POST', body: JSON.stringify(preorderDraft()), headers: { 'content-type': 'application/json' } });
    expect(noToken.status).toBe(401);
    expect(noToken.headers.get('content-type')).toContain('application/problem+json');
    const forged = clientFor(runtime.url, 'not-the-secret', 'buyer', 'buyer-1');
    expect((await forged.post(preorders(), preorderDraft())).status).toBe(401);
    await nothingWritten();
  });

  it('A factory token on a buyer route is 403', async () => {
    const factory = clientFor(runtime.url, runtime.tokenSecret, 'factory', 'factory-1');
    expectProblem(await factory.post(preorders(), preorderDraft()), 403);
    expectProblem(await factory.get('/v1/preorders?mine=true'), 403);
    await nothingWritten();
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
