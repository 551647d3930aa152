import { randomUUID } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { LocalRuntime } from '../../lib/local/runtime.ts';
import { campaignDraft, clientFor, preorderDraft, registerFactories, startTestRuntime } from '../support/runtime.ts';
import { startWebhookReceiver } from '../support/webhook-receiver.ts';

/**
 * A buyer changes where their pre-order goes, over HTTP against the local
 * runtime: until a unit of it has shipped, and the factory that holds its batch
 * hears of it through its manifest and its webhooks.
 */
let runtime: LocalRuntime;
let anchor: ReturnType<typeof clientFor>;
let buyer: ReturnType<typeof clientFor>;

beforeAll(async () => {
  runtime = await startTestRuntime({
    settings: { 'webhook-deliverer': { WEBHOOK_RETRY_BASE_SECONDS: '1', WEBHOOK_RETRY_MAX_SECONDS: '1', WEBHOOK_TIMEOUT_SECONDS: '5' } },
  });
  anchor = clientFor(runtime, 'anchor', 'anchor-1');
  buyer = clientFor(runtime, 'buyer', 'buyer-addr-1');
  await registerFactories(runtime, 'factory-1');
});
afterAll(() => runtime?.stop());

type Address = { name: string; phone: string; line1: string; line2?: string; city: string; region: string; postalCode: string; country: string };
type Preorder = {
  preorderId: string;
  status: string;
  batchId?: string;
  shippingAddress: Address;
  shippedQuantity: number;
  timeline: { at: string; status: string; note: string; step?: string }[];
  notifications: { step: string; message: string }[];
  updatedAt: string;
};
type Problem = { status: number; detail: string; errors?: { path: string; message: string }[] };
type Batch = { batchId: string; campaignId: string; status: string };

const original = preorderDraft().shippingAddress as Address;
const moved: Address = {
  name: 'Wang Fang',
  phone: '+86 139 1111 2222',
  line1: '1 Nanjing Road',
  line2: 'Flat 12B',
  city: 'Shanghai',
  region: 'Shanghai',
  postalCode: '200001',
  country: 'CN',
};
const { line2: _line2, ...movedWithoutLine2 } = moved;
const movedAgain: Address = { ...movedWithoutLine2, line1: '500 Huaihai Road', postalCode: '200020' };

/** Polls `probe` until `done`, or fails the test after `timeoutMs`. */
const until = async <T>(what: string, probe: () => Promise<T>, done: (t: T) => boolean, timeoutMs = 25_000): Promise<T> => {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const value = await probe();
    if (done(value)) return value;
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}: last saw ${JSON.stringify(value).slice(0, 500)}`);
    await new Promise((r) => setTimeout(r, 200));
  }
};

const read = async (id: string, as = buyer) => {
  const res = await as.get<Preorder>(`/v1/preorders/${id}`);
  expect(res.status).toBe(200);
  return res.body;
};

const place = async (campaignId: string, overrides: Record<string, unknown> = {}) => {
  const res = await buyer.post<Preorder>(`/v1/campaigns/${campaignId}/preorders`, preorderDraft(overrides));
  expect(res.status).toBe(202);
  return res.body.preorderId;
};

const openCampaign = async (overrides: Record<string, unknown> = {}) => {
  const res = await anchor.post<{ campaignId: string }>('/v1/campaigns', campaignDraft(overrides));
  expect(res.status, JSON.stringify(res.body)).toBe(201);
  return res.body.campaignId;
};

/** A campaign of lots of 2 for a factory of its own, two pre-orders of one unit, and the batch they were cut into. */
const batchedPair = async (factoryId: string) => {
  await registerFactories(runtime, factoryId);
  const factory = clientFor(runtime, 'factory', factoryId);
  const campaignId = await openCampaign({ factoryId, lotSize: 2 });
  const first = await place(campaignId);
  const second = await place(campaignId);
  const [batch] = await until(
    'the batch to be released',
    async () => (await factory.get<{ items: Batch[] }>('/v1/factory/batches?limit=200')).body.items.filter((b) => b.campaignId === campaignId),
    (items) => items.length === 1,
  );
  await until('both pre-orders to be batched', () => Promise.all([read(first), read(second)]), (ps) => ps.every((p) => p.status === 'BATCHED'));
  return { factory, campaignId, first, second, batchId: batch!.batchId };
};

const manifestAddressOf = async (factory: ReturnType<typeof clientFor>, batchId: string, preorderId: string) => {
  const res = await factory.get<{ items: { preorderId: string; shippingAddress: Address }[] }>(`/v1/factory/batches/${batchId}/manifest`);
  expect(res.status).toBe(200);
  return res.body.items.find((i) => i.preorderId === preorderId)?.shippingAddress;
};

describe('A buyer changes the shipping address of a pre-order until a unit of it ships', () => {
  const receivers: { close: () => void }[] = [];
  afterAll(() => receivers.forEach((r) => r.close()));

  it('While ACCEPTED, the change is 200 with the new address, GET shows it with an address-changed step the buyer is told of, and sending it again changes nothing', async () => {
    const campaignId = await openCampaign();
    const id = await place(campaignId);

    const res = await buyer.put<Preorder>(`/v1/preorders/${id}/shipping-address`, moved);
    expect(res.status, JSON.stringify(res.body)).toBe(200);
    expect(res.body).toMatchObject({ preorderId: id, status: 'ACCEPTED', shippingAddress: moved });
    const step = res.body.timeline.at(-1);
    expect(step).toMatchObject({ status: 'ACCEPTED', step: 'address-changed' });
    expect(step?.note).not.toMatch(/po_|cmp_|bat_/);

    const after = await read(id);
    expect(after.shippingAddress).toEqual(moved);
    expect(after.timeline).toEqual(res.body.timeline);

    const again = await buyer.put<Preorder>(`/v1/preorders/${id}/shipping-address`, moved);
    expect(again.status).toBe(200);
    expect(again.body.timeline).toHaveLength(after.timeline.length);
    expect(again.body.updatedAt).toBe(after.updatedAt);

    const told = await until('the buyer to be told of the change', () => read(id), (p) => p.notifications.some((n) => n.step === 'address-changed'));
    expect(told.notifications.filter((n) => n.step === 'address-changed')).toHaveLength(1);
  });

  it("Once batched, the factory's manifest shows the new address and its webhook for preorder.address_changed receives it, signed; a change before batching is not sent to it", async () => {
    const factoryId = `factory-${randomUUID().slice(0, 8)}`;
    await registerFactories(runtime, factoryId);
    const factory = clientFor(runtime, 'factory', factoryId);
    const receiver = await startWebhookReceiver();
    receivers.push(receiver);
    const hook = await factory.post<{ webhookId: string; secret: string }>('/v1/factory/webhooks', { url: receiver.url, events: ['preorder.address_changed'] });
    expect(hook.status).toBe(201);
    receiver.useSecret(hook.body.secret);

    // Before batching: the manifest will carry the address, the factory is not told.
    const campaignId = await openCampaign({ factoryId, lotSize: 2 });
    const first = await place(campaignId);
    expect((await buyer.put(`/v1/preorders/${first}/shipping-address`, moved)).status).toBe(200);
    await place(campaignId);
    const [batch] = await until(
      'the batch to be released',
      async () => (await factory.get<{ items: Batch[] }>('/v1/factory/batches?limit=200')).body.items.filter((b) => b.campaignId === campaignId),
      (items) => items.length === 1,
    );
    await until('the pre-order to be batched', () => read(first), (p) => p.status === 'BATCHED');
    expect(await manifestAddressOf(factory, batch!.batchId, first)).toEqual(moved);

    // Batched: the change reaches the factory's manifest and its webhook.
    const res = await buyer.put<Preorder>(`/v1/preorders/${first}/shipping-address`, movedAgain);
    expect(res.status, JSON.stringify(res.body)).toBe(200);
    expect(res.body).toMatchObject({ status: 'BATCHED', batchId: batch!.batchId, shippingAddress: movedAgain });
    expect(await manifestAddressOf(factory, batch!.batchId, first)).toEqual(movedAgain);

    await until('the webhook delivery', async () => receiver.received.length, (n) => n >= 1);
    await runtime.emulator.drain(20_000);
    // At least once: a receiver de-duplicates on the event id, and finds one event, the change made while batched.
    const events = new Set(receiver.received.map((r) => (JSON.parse(r.body) as { id: string }).id));
    expect(events.size, receiver.received.map((r) => r.body).join('\n')).toBe(1);
    const [delivery] = receiver.received;
    expect(receiver.received.every((r) => r.signatureValid && r.body === delivery!.body)).toBe(true);
    const payload = JSON.parse(delivery!.body) as { id: string; type: string; factoryId: string; data: Record<string, unknown> };
    expect(payload).toMatchObject({
      type: 'preorder.address_changed',
      factoryId,
      data: { campaignId, preorderId: first, batchId: batch!.batchId, factoryId, shippingAddress: movedAgain },
    });
    expect(payload.id).toMatch(/^preorder\.address_changed:/);
  });

  it('After a unit has shipped the change is 409 and nothing is written, even before the lot reaches the pre-order; its batch-mate without units may still change', async () => {
    const { factory, first, second, batchId } = await batchedPair(`factory-${randomUUID().slice(0, 8)}`);
    const path = `/v1/factory/batches/${batchId}`;
    expect((await factory.post(`${path}/accept`, { committedShipDate: '2099-12-24' })).status).toBe(200);
    expect((await factory.post(`${path}/progress`, { sku: 'SHIRT-M', produced: 2, qcPassed: 2, qcFailed: 0 })).status).toBe(200);
    const lot = await factory.post(`${path}/shipments`, { carrier: 'SF Express', trackingNumber: 'SF0000000001', items: [{ sku: 'SHIRT-M', quantity: 1 }] });
    expect(lot.status).toBe(201);

    // The lot went to the oldest pre-order: counted on the batch, whether or not the pre-order shows it yet
    // (tests/integration/address-change.test.ts holds the fulfillment back to show the batch alone refuses it).
    const refused = await buyer.put<Problem>(`/v1/preorders/${first}/shipping-address`, moved);
    expect(refused.status).toBe(409);
    expect(refused.headers.get('content-type')).toContain('application/problem+json');
    expect(refused.body.detail).toMatch(/can no longer change/);

    const shipped = await until('the lot to reach the pre-order', () => read(first), (p) => p.shippedQuantity === 1);
    expect(shipped.status).toBe('SHIPPED');
    expect((await buyer.put(`/v1/preorders/${first}/shipping-address`, moved)).status).toBe(409);
    const after = await read(first);
    expect(after.shippingAddress).toEqual(original);
    expect(after.timeline.filter((e) => e.step === 'address-changed')).toEqual([]);
    expect(await manifestAddressOf(factory, batchId, first)).toEqual(original);

    // The other pre-order of the batch has no unit yet.
    expect((await buyer.put(`/v1/preorders/${second}/shipping-address`, moved)).status).toBe(200);
    expect(await manifestAddressOf(factory, batchId, second)).toEqual(moved);
  });

  it('A cancelled (refunded) pre-order is 409 and unchanged', async () => {
    const campaignId = await openCampaign();
    const id = await place(campaignId);
    expect((await buyer.post(`/v1/preorders/${id}/cancel`)).status).toBe(200);
    const before = await read(id);
    const res = await buyer.put<Problem>(`/v1/preorders/${id}/shipping-address`, moved);
    expect(res.status).toBe(409);
    expect(res.body.detail).toMatch(/REFUNDED/);
    expect(await read(id)).toEqual(before);
  });

  it('An address changes at most ten times: the eleventh is 409 saying so, and nothing is written; sending the current one again is still 200', async () => {
    const campaignId = await openCampaign();
    const id = await place(campaignId);
    // Intake has told the buyer it was accepted: from here only the changes move the pre-order.
    await runtime.emulator.drain();
    for (let k = 1; k <= 10; k++) {
      const res = await buyer.put<Preorder>(`/v1/preorders/${id}/shipping-address`, { ...moved, line1: `${k} Nanjing Road` });
      expect(res.status, JSON.stringify(res.body)).toBe(200);
    }
    const before = await read(id);
    expect(before.timeline.filter((e) => e.step === 'address-changed')).toHaveLength(10);

    const res = await buyer.put<Problem>(`/v1/preorders/${id}/shipping-address`, movedAgain);
    expect(res.status).toBe(409);
    expect(res.body.detail).toMatch(/changed 10 times/);
    expect(await read(id)).toEqual(before);
    expect((await buyer.put<Preorder>(`/v1/preorders/${id}/shipping-address`, before.shippingAddress)).status).toBe(200);
  });

  it("Another buyer's pre-order is 404 as if it did not exist, a bad address is 400 naming the field, only a buyer may call; nothing is written", async () => {
    const campaignId = await openCampaign();
    const id = await place(campaignId);
    // Intake has told the buyer it was accepted: nothing else moves the pre-order from here.
    await runtime.emulator.drain();
    const before = await read(id);
    const stranger = clientFor(runtime, 'buyer', 'buyer-addr-2');

    const theirs = await stranger.put<Problem>(`/v1/preorders/${id}/shipping-address`, moved);
    expect(theirs.status).toBe(404);
    expect(theirs.headers.get('content-type')).toContain('application/problem+json');
    expect((await stranger.put('/v1/preorders/po_000000000000000000000000/shipping-address', moved)).status).toBe(404);

    const cases: [string, unknown, string][] = [
      ['a postalCode with symbols', { ...moved, postalCode: '#$%!' }, 'postalCode'],
      ['no city', (({ city: _c, ...rest }) => rest)(moved), 'city'],
      ['a country that is not ISO', { ...moved, country: 'China' }, 'country'],
      ['an unknown field', { ...moved, floor: 3 }, '(body)'],
    ];
    for (const [name, body, field] of cases) {
      const res = await buyer.put<Problem>(`/v1/preorders/${id}/shipping-address`, body);
      expect(res.status, name).toBe(400);
      expect(res.headers.get('content-type'), name).toContain('application/problem+json');
      expect(res.body.errors?.map((e) => e.path), name).toContain(field);
    }
    const notJson = await buyer.put<Problem>(`/v1/preorders/${id}/shipping-address`, 'line1=here', { headers: { 'content-type': 'text/plain' } });
    expect(notJson.status).toBe(415);

    const factory = clientFor(runtime, 'factory', 'factory-1');
    expect((await factory.put(`/v1/preorders/${id}/shipping-address`, moved)).status).toBe(403);
    expect((await anchor.put(`/v1/preorders/${id}/shipping-address`, moved)).status).toBe(403);

    expect(await read(id)).toEqual(before);
  });
});
