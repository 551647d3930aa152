import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { LocalRuntime } from '../../lib/local/runtime.ts';
import { campaignDraft, clientFor, preorderDraft, registerFactories, startTestRuntime, untilDrained, type Reply } from '../support/runtime.ts';

// Per-buyer parcels over HTTP on the local runtime: a factory drop-ships a lot in one parcel per
// buyer, each buyer sees their own parcel's tracking, a parcel's delivery delivers that buyer only,
// and a request that is wrong anywhere writes nothing.

let runtime: LocalRuntime;
let anchor: ReturnType<typeof clientFor>;
let factory: ReturnType<typeof clientFor>;
let stranger: ReturnType<typeof clientFor>;
const buyers: ReturnType<typeof clientFor>[] = [];

beforeAll(async () => {
  runtime = await startTestRuntime();
  anchor = clientFor(runtime, 'anchor', 'anchor-parcels');
  factory = clientFor(runtime, 'factory', 'factory-parcels');
  stranger = clientFor(runtime, 'factory', 'factory-stranger');
  await registerFactories(runtime, 'factory-parcels', 'factory-stranger');
  for (let i = 0; i < 3; i++) buyers.push(clientFor(runtime, 'buyer', `buyer-parcels-${i}`));
});
afterAll(async () => {
  await runtime?.stop();
});

type Parcel = { preorderId: string; carrier: string; trackingNumber: string; deliveredAt?: string };
type Lot = {
  shipmentId: string;
  status: 'SHIPPED' | 'DELIVERED';
  trackingNumber: string;
  deliveredAt?: string;
  allocations: { preorderId: string; sku: string; quantity: number }[];
  parcels: Parcel[];
};
type Preorder = {
  preorderId: string;
  status: string;
  quantity: number;
  shipments: { shipmentId: string; carrier: string; trackingNumber: string; quantity: number; deliveredAt?: string }[];
  deliveredQuantity: number;
  timeline: { template: string; note: string; step?: string }[];
  notifications: { template: string; message: string; locale: string; params: Record<string, unknown> }[];
};
type Problem = { status: number; detail: string; errors?: { path: string; message: string; code?: string }[] };

const expectProblem = (r: Reply, status: number, field?: string) => {
  expect(r.status, JSON.stringify(r.body)).toBe(status);
  expect(r.headers.get('content-type')).toMatch(/application\/problem\+json/);
  if (field) expect(((r.body as unknown as Problem).errors ?? []).map((e) => e.path)).toContain(field);
};

/** A campaign of factory-parcels whose pre-orders (buyer i orders quantities[i] of SHIRT-M) fill one lot that ships whole. */
const shippedLot = async (quantities: number[], locales: ('en' | undefined)[] = []) => {
  const units = quantities.reduce((n, q) => n + q, 0);
  const created = await anchor.post<{ campaignId: string }>('/v1/campaigns', campaignDraft({ factoryId: 'factory-parcels', lotSize: units }));
  expect(created.status).toBe(201);
  const campaignId = created.body.campaignId;
  const ids: string[] = [];
  for (const [i, quantity] of quantities.entries()) {
    const placed = await buyers[i]!.post<Preorder>(`/v1/campaigns/${campaignId}/preorders`, preorderDraft({ quantity, ...(locales[i] && { locale: locales[i] }) }));
    expect(placed.status).toBe(202);
    ids.push(placed.body.preorderId);
  }
  const [batch] = await untilDrained(
    runtime,
    () => factory.get<{ items: { batchId: string; campaignId: string }[] }>('/v1/factory/batches?limit=200').then((r) => r.body.items.filter((b) => b.campaignId === campaignId)),
    (found) => found.length === 1,
  );
  const path = `/v1/factory/batches/${batch!.batchId}`;
  expect((await factory.post(`${path}/accept`, { committedShipDate: new Date(Date.now() + 5 * 86_400_000).toISOString().slice(0, 10) })).status).toBe(200);
  expect((await factory.post(`${path}/progress`, { produced: units, qcPassed: units, qcFailed: 0 })).status).toBe(200);
  const lot = await factory.post<Lot>(`${path}/shipments`, { carrier: 'SF Express', trackingNumber: 'LOT-0001', items: [{ sku: 'SHIRT-M', quantity: units }] });
  expect(lot.status).toBe(201);
  expect(lot.body.parcels).toEqual([]);
  const read = (i: number) => buyers[i]!.get<Preorder>(`/v1/preorders/${ids[i]}`).then((r) => r.body);
  const readAll = () => Promise.all(ids.map((_, i) => read(i)));
  await untilDrained(runtime, readAll, (ps) => ps.every((p) => p.status === 'SHIPPED' && p.notifications.length === p.timeline.length));
  return { campaignId, ids, lot: lot.body, read, readAll };
};

const eventsOf = (type: string, shipmentId: string) =>
  runtime.emulator.events.filter((e) => e.detailType === type && (e.detail as { shipmentId?: string }).shipmentId === shipmentId);
const templates = (p: Preorder) => p.notifications.map((n) => n.template);

describe('Per-buyer parcels of a drop-shipped lot', () => {
  it('each buyer sees only their own parcel, a parcel delivered delivers that buyer only, and the whole lot still delivers the rest', async () => {
    // Prepare: three buyers in one lot of 4 (buyer 1 reads English).
    const { campaignId, ids, lot, read, readAll } = await shippedLot([1, 2, 1], [undefined, 'en', undefined]);
    const lotPath = `/v1/factory/shipments/${lot.shipmentId}`;
    const parcelsOf = async () => (await factory.get<Lot>(lotPath)).body.parcels;

    // Wrong anywhere: 400 naming the field, and nothing written.
    expectProblem(await factory.post(`${lotPath}/parcels`, { parcels: [] }), 400, 'parcels');
    expectProblem(
      await factory.post(`${lotPath}/parcels`, { parcels: [{ preorderId: ids[0], carrier: 'EMS', trackingNumber: 'PAR-A1' }, { preorderId: ids[0], carrier: 'EMS', trackingNumber: 'PAR-A2' }] }),
      400,
      'parcels.1.preorderId',
    );
    const notInLot = 'po_000000000000000000000000';
    const stray = await factory.post<Problem>(`${lotPath}/parcels`, {
      parcels: [
        { preorderId: ids[0], carrier: 'EMS', trackingNumber: 'PAR-A1' },
        { preorderId: notInLot, carrier: 'EMS', trackingNumber: 'PAR-X1' },
      ],
    });
    expectProblem(stray, 400, 'parcels.1.preorderId');
    expect(stray.body.errors).toHaveLength(1);
    expectProblem(await factory.post(`${lotPath}/parcels`, { parcels: [{ preorderId: ids[0], carrier: 'EMS', trackingNumber: 'no spaces!' }] }), 400, 'parcels.0.trackingNumber');
    // A parcel that was never attached cannot be delivered.
    expectProblem(await factory.post(`${lotPath}/parcels/${ids[0]}/delivered`), 404);
    // Another factory's lot is not found, exactly like a missing one.
    const mine = { parcels: [{ preorderId: ids[0], carrier: 'EMS', trackingNumber: 'PAR-A1' }] };
    expectProblem(await stranger.post(`${lotPath}/parcels`, mine), 404);
    expectProblem(await stranger.get(lotPath), 404);
    expectProblem(await factory.post('/v1/factory/shipments/shp_000000000000000000000000/parcels', mine), 404);
    await runtime.emulator.drain();
    expect(await parcelsOf()).toEqual([]);
    expect(eventsOf('shipment.parcels_added', lot.shipmentId)).toEqual([]);

    // Act: parcels for buyers 0 and 1; buyer 2 keeps the lot's tracking.
    const attached = await factory.post<Lot>(`${lotPath}/parcels`, {
      parcels: [
        { preorderId: ids[1], carrier: 'EMS', trackingNumber: 'PAR-B1' },
        { preorderId: ids[0], carrier: 'YTO Express', trackingNumber: 'PAR-A1' },
      ],
    });
    expect(attached.status).toBe(200);
    // In the lot's allocation order (oldest pre-order first), whatever order they were sent in.
    expect(attached.body.parcels).toEqual([
      { preorderId: ids[0], carrier: 'YTO Express', trackingNumber: 'PAR-A1' },
      { preorderId: ids[1], carrier: 'EMS', trackingNumber: 'PAR-B1' },
    ]);
    expect((await factory.get<{ items: Lot[] }>(`/v1/factory/batches/${(await factory.get<{ batchId: string }>(lotPath)).body.batchId}/shipments`)).body.items[0]!.parcels).toEqual(attached.body.parcels);

    // Assess: each buyer sees their own tracking, told once in their language; nobody sees another's.
    let ps = await untilDrained(runtime, readAll, (x) => x[0]!.shipments[0]!.trackingNumber === 'PAR-A1' && x[1]!.shipments[0]!.trackingNumber === 'PAR-B1' && x.every((p) => p.notifications.length === p.timeline.length));
    expect(ps.map((p) => p.shipments.map((s) => [s.carrier, s.trackingNumber]))).toEqual([[['YTO Express', 'PAR-A1']], [['EMS', 'PAR-B1']], [['SF Express', 'LOT-0001']]]);
    expect(JSON.stringify(ps[0])).not.toContain('PAR-B1');
    expect(JSON.stringify(ps[1])).not.toContain('PAR-A1');
    expect(JSON.stringify(ps[2])).not.toMatch(/PAR-/);
    expect((await buyers[0]!.get(`/v1/preorders/${ids[1]}`)).status).toBe(404);
    expect(templates(ps[0]!).at(-1)).toBe('preorder.tracking_changed');
    expect(ps[0]!.notifications.at(-1)!.message).toMatch(/PAR-A1/);
    expect(ps[0]!.notifications.at(-1)!.message).toMatch(/[\u4e00-\u9fff]/);
    expect(ps[1]!.notifications.at(-1)).toMatchObject({ template: 'preorder.tracking_changed', locale: 'en', params: { quantity: 2, carrier: 'EMS', trackingNumber: 'PAR-B1' } });
    expect(ps[1]!.notifications.at(-1)!.message).toBe('Your 2 units on the way now travel in a parcel of your own: tracking number PAR-B1.');
    for (const p of ps) for (const n of p.notifications) expect(n.message).not.toMatch(/\b(po|bat|cmp|shp)_|YTO Express|EMS|factory-parcels/);
    expect(templates(ps[2]!)).not.toContain('preorder.tracking_changed');
    expect(eventsOf('shipment.parcels_added', lot.shipmentId).map((e) => (e.detail as { parcels: Parcel[] }).parcels.map((x) => x.trackingNumber))).toEqual([['PAR-A1', 'PAR-B1']]);

    // The same parcels again change nothing: no event, no notice.
    const told = ps.map((p) => p.notifications.length);
    expect((await factory.post<Lot>(`${lotPath}/parcels`, { parcels: [{ preorderId: ids[0], carrier: 'YTO Express', trackingNumber: 'PAR-A1' }] })).body.parcels).toEqual(attached.body.parcels);
    // A new tracking number replaces a parcel not yet delivered, and its buyer is told the new one.
    const relabelled = await factory.post<Lot>(`${lotPath}/parcels`, { parcels: [{ preorderId: ids[1], carrier: 'EMS', trackingNumber: 'PAR-B2' }] });
    expect(relabelled.status).toBe(200);
    expect(relabelled.body.parcels.map((x) => x.trackingNumber)).toEqual(['PAR-A1', 'PAR-B2']);
    ps = await untilDrained(runtime, readAll, (x) => x[1]!.shipments[0]!.trackingNumber === 'PAR-B2' && x.every((p) => p.notifications.length === p.timeline.length));
    expect(ps.map((p) => p.notifications.length)).toEqual([told[0], told[1]! + 1, told[2]]);
    expect(ps[1]!.notifications.at(-1)!.message).toContain('PAR-B2');
    expect(eventsOf('shipment.parcels_added', lot.shipmentId)).toHaveLength(2);

    // Buyer 0's parcel is delivered: buyer 0 only, once, however often it is confirmed.
    const delivered = await factory.post<Lot>(`${lotPath}/parcels/${ids[0]}/delivered`);
    expect(delivered.status).toBe(200);
    expect(delivered.body.status).toBe('SHIPPED');
    const deliveredAt = delivered.body.parcels[0]!.deliveredAt;
    expect(deliveredAt).toEqual(expect.any(String));
    expect(delivered.body.parcels[1]!.deliveredAt).toBeUndefined();
    expect((await factory.post<Lot>(`${lotPath}/parcels/${ids[0]}/delivered`)).body.parcels[0]!.deliveredAt).toBe(deliveredAt);
    ps = await untilDrained(runtime, readAll, (x) => x[0]!.status === 'DELIVERED' && x.every((p) => p.notifications.length === p.timeline.length));
    expect(ps.map((p) => p.status)).toEqual(['DELIVERED', 'SHIPPED', 'SHIPPED']);
    expect(ps[0]!.shipments[0]).toMatchObject({ trackingNumber: 'PAR-A1', deliveredAt });
    expect(ps[0]!.notifications.at(-1)).toMatchObject({ template: 'preorder.delivered', params: { quantity: 1, trackingNumber: 'PAR-A1' } });
    expect(eventsOf('shipment.parcel_delivered', lot.shipmentId)).toHaveLength(1);
    const deliveredEvents = () => runtime.emulator.events.filter((e) => e.detailType === 'preorder.delivered' && ids.includes((e.detail as { preorderId?: string }).preorderId ?? ''));
    expect(deliveredEvents().map((e) => (e.detail as { preorderId: string }).preorderId)).toEqual([ids[0]]);
    expect((await anchor.get<{ preordersDelivered: number; medianDaysToDelivery?: number }>(`/v1/campaigns/${campaignId}/trust`)).body).toMatchObject({ preordersDelivered: 1, medianDaysToDelivery: 0 });

    // A delivered parcel's label no longer changes: 409, nothing written (the rest of the request neither).
    const late = await factory.post(`${lotPath}/parcels`, {
      parcels: [
        { preorderId: ids[2], carrier: 'EMS', trackingNumber: 'PAR-C1' },
        { preorderId: ids[0], carrier: 'EMS', trackingNumber: 'PAR-A9' },
      ],
    });
    expectProblem(late, 409);
    expect((await parcelsOf()).map((x) => x.trackingNumber)).toEqual(['PAR-A1', 'PAR-B2']);

    // The whole lot is delivered: the others follow; buyer 0 keeps its own delivery, told once.
    const whole = await factory.post<Lot>(`${lotPath}/delivered`);
    expect(whole.status).toBe(200);
    expect(whole.body.status).toBe('DELIVERED');
    expect(whole.body.parcels.map((x) => x.deliveredAt)).toEqual([deliveredAt, whole.body.deliveredAt]);
    ps = await untilDrained(runtime, readAll, (x) => x.every((p) => p.status === 'DELIVERED' && p.notifications.length === p.timeline.length));
    expect(ps[0]!.shipments[0]!.deliveredAt).toBe(deliveredAt);
    expect(ps.map((p) => templates(p).filter((t) => t === 'preorder.delivered').length)).toEqual([1, 1, 1]);
    expect(ps[1]!.notifications.at(-1)!.params).toMatchObject({ trackingNumber: 'PAR-B2' });
    expect(ps[2]!.notifications.at(-1)!.params).toMatchObject({ trackingNumber: 'LOT-0001' });
    expect(deliveredEvents()).toHaveLength(3);
    expect((await anchor.get<{ preordersDelivered: number }>(`/v1/campaigns/${campaignId}/trust`)).body.preordersDelivered).toBe(3);
    // A delivered lot takes no new parcel; a parcel of it confirmed again changes nothing.
    expectProblem(await factory.post(`${lotPath}/parcels`, { parcels: [{ preorderId: ids[2], carrier: 'EMS', trackingNumber: 'PAR-C1' }] }), 409);
    expect((await factory.post<Lot>(`${lotPath}/parcels/${ids[1]}/delivered`)).body).toEqual(whole.body);
    expect(eventsOf('shipment.parcel_delivered', lot.shipmentId)).toHaveLength(1);
  });

  it('When every buyer of a lot has a parcel and the last one is delivered, the lot is delivered too, once', async () => {
    const { ids, lot, readAll } = await shippedLot([1, 1]);
    const lotPath = `/v1/factory/shipments/${lot.shipmentId}`;
    const attached = await factory.post<Lot>(`${lotPath}/parcels`, {
      parcels: ids.map((preorderId, i) => ({ preorderId, carrier: 'EMS', trackingNumber: `PAR-${i}` })),
    });
    expect(attached.status).toBe(200);
    expect((await factory.post<Lot>(`${lotPath}/parcels/${ids[0]}/delivered`)).body.status).toBe('SHIPPED');
    const last = await factory.post<Lot>(`${lotPath}/parcels/${ids[1]}/delivered`);
    expect(last.body.status).toBe('DELIVERED');
    expect(last.body.deliveredAt).toBe(last.body.parcels[1]!.deliveredAt);
    // The lot delivered as a whole afterwards changes nothing either.
    expect((await factory.post<Lot>(`${lotPath}/delivered`)).body).toEqual(last.body);
    const ps = await untilDrained(runtime, readAll, (x) => x.every((p) => p.status === 'DELIVERED' && p.notifications.length === p.timeline.length));
    expect(ps.map((p) => p.shipments[0]!.trackingNumber)).toEqual(['PAR-0', 'PAR-1']);
    expect(ps.map((p) => templates(p).filter((t) => t === 'preorder.delivered').length)).toEqual([1, 1]);
    expect(eventsOf('shipment.delivered', lot.shipmentId)).toHaveLength(1);
    expect(eventsOf('shipment.parcel_delivered', lot.shipmentId)).toHaveLength(2);
  });
});
