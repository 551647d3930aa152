import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import type { LocalRuntime } from '../../lib/local/runtime.ts';
import { silenceBuyerNotifications } from '../support/quiet.ts';
import { campaignDraft, clientFor, preorderDraft, registerFactories, startTestRuntime, untilDrained, type Reply } from '../support/runtime.ts';

// At most 50 lots to one order (docs/factory.md), over HTTP on the local runtime: a factory that ships a
// large order a unit a lot may bring it in 49 lots that leave it unfinished; the 50th must finish it. The
// refusal is a 409 that names the item and what it must carry, and writes nothing; the buyer's side of it
// stays as it was: every unit arrives, in 50 lots, and the order ends SHIPPED.

let runtime: LocalRuntime;
let anchor: ReturnType<typeof clientFor>;
let factory: ReturnType<typeof clientFor>;
let earlyBuyer: ReturnType<typeof clientFor>;
let bigBuyer: ReturnType<typeof clientFor>;
/** What the local notification channel sent, one line a message (silenced: the big order alone makes 50). */
const heard: string[] = [];
let restoreStdout: () => void = () => {};

beforeAll(async () => {
  restoreStdout = silenceBuyerNotifications((chunk) => heard.push(...chunk.split('\n').filter((l) => l.includes('🔔'))));
  runtime = await startTestRuntime();
  anchor = clientFor(runtime, 'anchor', 'anchor-lots');
  factory = clientFor(runtime, 'factory', 'factory-lots');
  earlyBuyer = clientFor(runtime, 'buyer', 'buyer-lots-early');
  bigBuyer = clientFor(runtime, 'buyer', 'buyer-lots-big');
  await registerFactories(runtime, 'factory-lots');
});
afterAll(async () => {
  await runtime?.stop();
  vi.useRealTimers();
  restoreStdout();
});

type Batch = { batchId: string; campaignId: string; status: string; units: number; shipped: number; lines: { sku: string; quantity: number; shipped: number }[] };
type Lot = { shipmentId: string; trackingNumber: string; allocations: { preorderId: string; sku: string; quantity: number }[] };
type Preorder = {
  preorderId: string;
  status: string;
  quantity: number;
  shipments: { shipmentId: string; quantity: number }[];
  shippedQuantity: number;
  timeline: { status: string; step?: string }[];
  notifications: { template: string }[];
};
type Issue = { path: string; code?: string; message: string; params?: Record<string, string | number> };
type Problem = { status: number; title: string; detail: string; errors?: Issue[] };

const sku = 'SHIRT-M';
const early = 2;
const big = 60;
const units = early + big;
const maxLots = 50;

/** The old order first, the big one a second later by the test's clock (so the line's order does not rest on two writes' milliseconds). */
const placeOrders = async (campaignId: string) => {
  const first = await earlyBuyer.post<Preorder>(`/v1/campaigns/${campaignId}/preorders`, preorderDraft({ sku, quantity: early }));
  expect(first.status, JSON.stringify(first.body)).toBe(202);
  if (!vi.isFakeTimers()) vi.useFakeTimers({ toFake: ['Date'], shouldAdvanceTime: true });
  vi.setSystemTime(Date.now() + 1_000);
  const second = await bigBuyer.post<Preorder>(`/v1/campaigns/${campaignId}/preorders`, preorderDraft({ sku, quantity: big }));
  expect(second.status, JSON.stringify(second.body)).toBe(202);
  return { earlyId: first.body.preorderId, bigId: second.body.preorderId };
};

describe('At most 50 lots to one order', () => {
  it('the lot that would be the 50th to leave a 60-unit order unfinished is refused, naming what finishes it; that lot ships, and the buyer has all 60 in 50 lots', async () => {
    // Prepare: a campaign cut into one batch of 62 SHIRT-M: an older order of 2, then one buyer's 60.
    const created = await anchor.post<{ campaignId: string }>('/v1/campaigns', campaignDraft({ factoryId: 'factory-lots', lotSize: units }));
    expect(created.status, JSON.stringify(created.body)).toBe(201);
    const { campaignId } = created.body;
    const { earlyId, bigId } = await placeOrders(campaignId);
    const [batch] = await untilDrained(
      runtime,
      () => factory.get<{ items: Batch[] }>('/v1/factory/batches?limit=200').then((r) => r.body.items.filter((b) => b.campaignId === campaignId)),
      (found) => found.length === 1,
    );
    expect(batch).toMatchObject({ units, lines: [{ sku, quantity: units, shipped: 0 }] });
    const path = `/v1/factory/batches/${batch!.batchId}`;
    const manifest = await factory.get<{ items: { preorderId: string; quantity: number }[] }>(`${path}/manifest`);
    expect(manifest.body.items.map((i) => [i.preorderId, i.quantity])).toEqual([[earlyId, early], [bigId, big]]);
    expect((await factory.post(`${path}/accept`, { committedShipDate: new Date(Date.now() + 5 * 86_400_000).toISOString().slice(0, 10) })).status).toBe(200);
    expect((await factory.post(`${path}/progress`, { produced: units, qcPassed: units, qcFailed: 0 })).status).toBe(200);

    let n = 0;
    const shipLot = (quantity: number) => factory.post<Lot | Problem>(`${path}/shipments`, { carrier: 'SF Express', trackingNumber: `LOT-${String(++n).padStart(4, '0')}`, items: [{ sku, quantity }] });
    const shipOk = async (quantity: number) => {
      const r = await shipLot(quantity);
      expect(r.status, `lot ${n} of ${quantity}: ${JSON.stringify(r.body)}`).toBe(201);
      return r.body as Lot;
    };

    // Act: a lot of 1 to the older order, a lot of 2 that finishes it and brings the big order its first
    // unit (the first lot to reach it), then 48 lots of 1: 49 lots have reached the big order, 49 of its 60 units.
    const lots: Lot[] = [];
    lots.push(await shipOk(1));
    expect(lots[0]!.allocations).toEqual([{ preorderId: earlyId, sku, quantity: 1 }]);
    lots.push(await shipOk(2));
    expect(lots[1]!.allocations).toEqual([
      { preorderId: earlyId, sku, quantity: 1 },
      { preorderId: bigId, sku, quantity: 1 },
    ]);
    for (let i = 0; i < maxLots - 2; i++) lots.push(await shipOk(1));
    const reachingBig = lots.filter((l) => l.allocations.some((a) => a.preorderId === bigId));
    expect(reachingBig).toHaveLength(maxLots - 1);
    for (const l of lots.slice(2)) expect(l.allocations).toEqual([{ preorderId: bigId, sku, quantity: 1 }]);
    const shippedSoFar = early + (maxLots - 1);
    const left = big - (maxLots - 1);
    expect(left).toBe(11);
    const before = (await factory.get<Batch>(path)).body;
    expect(before).toMatchObject({ status: 'PARTIALLY_SHIPPED', shipped: shippedSoFar, lines: [{ sku, shipped: shippedSoFar }] });
    const lotList = async () => (await factory.get<{ items: Lot[] }>(`${path}/shipments`)).body.items.map((l) => l.shipmentId).sort();
    const listedBefore = await lotList();
    expect(listedBefore).toEqual(lots.map((l) => l.shipmentId).sort());

    // Assess: the 50th lot to reach the big order without finishing it is refused, a unit or ten of it alike.
    for (const quantity of [1, left - 1]) {
      const refused = await shipLot(quantity);
      expect(refused.status, JSON.stringify(refused.body)).toBe(409);
      expect(refused.headers.get('content-type')).toMatch(/application\/problem\+json/);
      const problem = refused.body as Problem;
      expect(problem.title).toBe('Lot would split an order too often');
      expect(problem.errors).toHaveLength(1);
      const [issue] = problem.errors!;
      expect(issue).toMatchObject({ path: 'items.0.quantity', code: 'lot_splits_order_too_often' });
      // The order has units already: the lot cannot stop before it; it must finish it.
      expect(issue!.params).toEqual({ sku, maxLots, atLeast: left });
      expect(issue!.message).toContain(`at least ${left} ${sku}`);
      expect(issue!.message).not.toMatch(/at most/);
      // Nothing of it was written: the batch's counts and its lots are as they were.
      const after = (await factory.get<Batch>(path)).body;
      expect(after).toMatchObject({ status: 'PARTIALLY_SHIPPED', shipped: shippedSoFar, lines: [{ sku, shipped: shippedSoFar }] });
      expect(await lotList()).toEqual(listedBefore);
    }

    // The lot that carries exactly atLeast ships and finishes the order, and the batch.
    const last = await shipOk(left);
    expect(last.allocations).toEqual([{ preorderId: bigId, sku, quantity: left }]);
    lots.push(last);
    expect((await factory.get<Batch>(path)).body).toMatchObject({ status: 'COMPLETED', shipped: units, lines: [{ sku, shipped: units }] });
    expect(await lotList()).toEqual(lots.map((l) => l.shipmentId).sort());

    // The buyers' side: every unit arrived, the big order in 50 lots (the last with 11), both SHIPPED, each told each step once.
    const read = (client: ReturnType<typeof clientFor>, id: string) => client.get<Preorder>(`/v1/preorders/${id}`).then((r: Reply<Preorder>) => r.body);
    const [p0, p1] = await untilDrained(
      runtime,
      () => Promise.all([read(earlyBuyer, earlyId), read(bigBuyer, bigId)]),
      (ps) => ps.every((p) => p.status === 'SHIPPED' && p.notifications.length === p.timeline.length),
      60_000,
    );
    expect(p0).toMatchObject({ status: 'SHIPPED', quantity: early, shippedQuantity: early });
    expect(p0!.shipments.map((s) => [s.shipmentId, s.quantity])).toEqual([[lots[0]!.shipmentId, 1], [lots[1]!.shipmentId, 1]]);
    expect(p1).toMatchObject({ status: 'SHIPPED', quantity: big, shippedQuantity: big });
    expect(p1!.shipments).toHaveLength(maxLots);
    expect(p1!.shipments.reduce((s, x) => s + x.quantity, 0)).toBe(big);
    expect(new Set(p1!.shipments.map((s) => s.shipmentId))).toEqual(new Set([...reachingBig, last].map((l) => l.shipmentId)));
    expect(p1!.shipments.find((s) => s.shipmentId === last.shipmentId)!.quantity).toBe(left);
    // One SHIPPED step at the end, partly-shipped before it: never told "shipped" twice.
    expect(p1!.timeline.filter((t) => t.status === 'SHIPPED' && t.step === undefined)).toHaveLength(1);
    expect(p1!.timeline.at(-1)!.status).toBe('SHIPPED');
    expect(p1!.notifications.filter((x) => x.template === 'preorder.partly_shipped')).toHaveLength(maxLots - 1);
    // The refused lots were never on the bus either: one shipment.created per lot that shipped.
    const onBus = runtime.emulator.events.filter((e) => e.detailType === 'shipment.created' && (e.detail as { batchId?: string }).batchId === batch!.batchId);
    expect(onBus.map((e) => (e.detail as { shipmentId: string }).shipmentId).sort()).toEqual(lots.map((l) => l.shipmentId).sort());
    // What the channel sent the big order's buyer is what the order records: each step once.
    expect(heard.filter((l) => l.includes(bigId))).toHaveLength(p1!.notifications.length);
  }, 90_000);
});
