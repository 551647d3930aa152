import { createServer, type Server } from 'node:http';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { LocalRuntime } from '../../lib/local/runtime.ts';
import { routes as topologyRoutes } from '../../lib/topology.ts';
import { campaignDraft, clientFor, preorderDraft, registerFactories, startTestRuntime, type Reply } from '../support/runtime.ts';

// A factory integrating over HTTP against the local runtime: its batches from release to delivery,
// rejection to the backup factory, and every factory route tried with another factory's token.

let runtime: LocalRuntime;
let anchor: ReturnType<typeof clientFor>;
let buyer: ReturnType<typeof clientFor>;
let factoryA: ReturnType<typeof clientFor>;
let factoryB: ReturnType<typeof clientFor>;
let receiver: Server;
let receiverUrl: string;
let tokenA: string;

beforeAll(async () => {
  runtime = await startTestRuntime();
  anchor = clientFor(runtime, 'anchor', 'anchor-1');
  buyer = clientFor(runtime, 'buyer', 'buyer-1');
  factoryA = clientFor(runtime, 'factory', 'factory-a');
  factoryB = clientFor(runtime, 'factory', 'factory-b');
  await registerFactories(runtime, 'factory-a', 'factory-b', 'factory-fc');
  receiver = createServer((req, res) => {
    req.resume();
    req.on('end', () => res.writeHead(200).end());
  });
  await new Promise<void>((r) => receiver.listen(0, '127.0.0.1', r));
  receiverUrl = `http://127.0.0.1:${(receiver.address() as { port: number }).port}/hooks`;
});
afterAll(async () => {
  await runtime?.stop();
  receiver?.close();
});

type Batch = {
  batchId: string;
  campaignId: string;
  status: string;
  lines: { sku: string; quantity: number; produced?: number; qcPassed?: number; shipped: number }[];
  units: number;
  produced: number;
  qcPassed: number;
  qcFailed: number;
  shipped: number;
  committedShipDate?: string;
  rejectedReason?: string;
};
type Page<T> = { items: T[]; nextCursor?: string };
type Problem = { status: number; detail: string; errors?: { path: string; message: string }[] };

const until = async <T>(probe: () => Promise<T>, done: (t: T) => boolean, timeoutMs = 25_000): Promise<T> => {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const value = await probe();
    if (done(value) || Date.now() > deadline) return value;
    await new Promise((r) => setTimeout(r, 200));
  }
};

const batchesOf = (client: ReturnType<typeof clientFor>, campaignId: string) =>
  client.get<Page<Batch>>('/v1/factory/batches?limit=200').then((r) => r.body.items.filter((b) => b.campaignId === campaignId));

/** A campaign for factory-a (backup factory-b) whose 4 pre-orders of 1 unit are cut into two batches of 2. */
const twoBatches = async () => {
  const created = await anchor.post<{ campaignId: string }>(
    '/v1/campaigns',
    campaignDraft({ factoryId: 'factory-a', backupFactoryId: 'factory-b', lotSize: 2 }),
  );
  expect(created.status).toBe(201);
  const campaignId = created.body.campaignId;
  const preorderIds: string[] = [];
  for (const sku of ['SHIRT-M', 'SHIRT-S', 'SHIRT-M', 'SHIRT-M']) {
    const r = await buyer.post<{ preorderId: string }>(`/v1/campaigns/${campaignId}/preorders`, preorderDraft({ sku }));
    expect(r.status).toBe(202);
    preorderIds.push(r.body.preorderId);
  }
  const batches = await until(() => batchesOf(factoryA, campaignId), (b) => b.length === 2);
  expect(batches).toHaveLength(2);
  return { campaignId, preorderIds, batches };
};

const expectProblem = (r: Reply, status: number, match?: RegExp) => {
  expect(r.status, JSON.stringify(r.body)).toBe(status);
  expect(r.headers.get('content-type')).toMatch(/application\/problem\+json/);
  if (match) expect((r.body as unknown as Problem).detail).toMatch(match);
};

describe('A factory works its batches over HTTP', () => {
  it('lists its batches newest first with cursors and a status filter, reads one, and its manifest with addresses', async () => {
    const { batches, preorderIds } = await twoBatches();
    const [newer, older] = batches;
    const first = await factoryA.get<Page<Batch>>('/v1/factory/batches?limit=1');
    expect(first.body.items[0]!.batchId).toBe(newer!.batchId);
    const second = await factoryA.get<Page<Batch>>(`/v1/factory/batches?limit=1&cursor=${first.body.nextCursor}`);
    expect(second.body.items[0]!.batchId).toBe(older!.batchId);
    expectProblem(await factoryA.get('/v1/factory/batches?cursor=bm90LWEtY3Vyc29y'), 400);
    expectProblem(await factoryA.get('/v1/factory/batches?status=SHIPPING'), 400);

    const one = await factoryA.get<Batch & { acceptBy: string; releasedAt: string }>(`/v1/factory/batches/${older!.batchId}`);
    expect(one.status).toBe(200);
    expect(one.body).toMatchObject({ status: 'RELEASED', units: 2, produced: 0, qcPassed: 0, qcFailed: 0, shipped: 0 });
    expect(Date.parse(one.body.acceptBy) - Date.parse(one.body.releasedAt)).toBe(24 * 3600_000);

    const manifest = await factoryA.get<{ items: { preorderId: string; quantity: number; shippingAddress: { name: string; line1: string } }[] }>(
      `/v1/factory/batches/${older!.batchId}/manifest`,
    );
    expect(manifest.status).toBe(200);
    expect(manifest.body.items.map((i) => i.preorderId)).toEqual(preorderIds.slice(0, 2)); // oldest first
    expect(manifest.body.items[0]!.shippingAddress).toMatchObject({ name: 'Li Wei', line1: '88 Century Avenue' });
    const paged = await factoryA.get<{ items: unknown[]; nextCursor?: string }>(`/v1/factory/batches/${older!.batchId}/manifest?limit=1`);
    expect(paged.body.items).toHaveLength(1);
    const rest = await factoryA.get<{ items: { preorderId: string }[]; nextCursor?: string }>(
      `/v1/factory/batches/${older!.batchId}/manifest?limit=1&cursor=${paged.body.nextCursor}`,
    );
    expect(rest.body.items[0]!.preorderId).toBe(preorderIds[1]);
    expect(rest.body.nextCursor).toBeUndefined();
  });

  it('gives its manifest as a spreadsheet with Accept: text/csv: BOM, header, the address in columns, a typed formula escaped, pages by Link; a rejected batch has none', async () => {
    const created = await anchor.post<{ campaignId: string }>('/v1/campaigns', campaignDraft({ factoryId: 'factory-a', lotSize: 2 }));
    const campaignId = created.body.campaignId;
    const address = preorderDraft().shippingAddress;
    for (const name of ['=HYPERLINK("http://x.test","click")', '李伟, 二号']) {
      const r = await buyer.post(`/v1/campaigns/${campaignId}/preorders`, preorderDraft({ shippingAddress: { ...address, name } }));
      expect(r.status).toBe(202);
    }
    const [batch] = await until(() => batchesOf(factoryA, campaignId), (b) => b.length === 1);
    const csv = (path: string) => fetch(`${runtime.url}${path}`, { headers: { authorization: `Bearer ${tokenA}`, accept: 'text/csv' } });
    tokenA = await factoryA.token();
    const first = await csv(`/v1/factory/batches/${batch!.batchId}/manifest?limit=1`);
    expect(first.status).toBe(200);
    expect(first.headers.get('content-type')).toBe('text/csv; charset=utf-8');
    expect([...new Uint8Array(await first.clone().arrayBuffer()).slice(0, 3)]).toEqual([0xef, 0xbb, 0xbf]);
    const rows = (await first.text()).replace(/^\uFEFF/, '').split('\r\n');
    expect(rows[0]).toBe('preorderId,sku,quantity,status,createdAt,name,phone,line1,line2,city,region,postalCode,country');
    // A phone's leading + is escaped too: a spreadsheet would read it as the start of a formula.
    expect(rows[1]).toMatch(/^po_[0-9a-z]{24},SHIRT-M,1,BATCHED,[^,]+,"'=HYPERLINK\(""http:\/\/x\.test"",""click""\)",'\+86 138 0000 0000,88 Century Avenue,,Shanghai,Shanghai,200120,CN$/);
    const link = first.headers.get('link')!;
    expect(link).toMatch(/^<\/v1\/factory\/batches\/bat_[0-9a-z]{24}\/manifest\?limit=1&cursor=[^>]+>; rel="next"$/);
    const second = await csv(link.slice(1, link.indexOf('>')));
    const rest = (await second.text()).replace(/^\uFEFF/, '').split('\r\n');
    expect(rest[1]).toContain('"李伟, 二号"');
    expect(second.headers.get('link')).toBeNull();

    expect((await factoryA.post(`/v1/factory/batches/${batch!.batchId}/reject`, { reason: 'no linen this month' })).status).toBe(200);
    const refused = await csv(`/v1/factory/batches/${batch!.batchId}/manifest`);
    expect(refused.status).toBe(409);
    expect(refused.headers.get('content-type')).toMatch(/application\/problem\+json/);
  });

  it("traces each lot to its buyers: the shipment, the batch's lots and shipment.created say whose units, oldest first, summing to the lot", async () => {
    const { batches, preorderIds } = await twoBatches();
    const batch = batches.find((b) => b.lines.length === 2)!; // the older: SHIRT-M (preorderIds[0]) and SHIRT-S (preorderIds[1])
    const path = `/v1/factory/batches/${batch.batchId}`;
    expect((await factoryA.post(`${path}/accept`, { committedShipDate: '2099-12-24' })).status).toBe(200);
    for (const sku of ['SHIRT-M', 'SHIRT-S']) expect((await factoryA.post(`${path}/progress`, { sku, produced: 1, qcPassed: 1, qcFailed: 0 })).status).toBe(200);
    type Lot = { shipmentId: string; items: { sku: string; quantity: number }[]; allocations: { preorderId: string; sku: string; quantity: number }[] };
    const lot = await factoryA.post<Lot>(`${path}/shipments`, { carrier: 'SF Express', trackingNumber: 'SF-T1', items: [{ sku: 'SHIRT-M', quantity: 1 }, { sku: 'SHIRT-S', quantity: 1 }] });
    expect(lot.status).toBe(201);
    const expected = [
      { preorderId: preorderIds[0]!, sku: 'SHIRT-M', quantity: 1 },
      { preorderId: preorderIds[1]!, sku: 'SHIRT-S', quantity: 1 },
    ];
    const sorted = (a: Lot['allocations']) => [...a].sort((x, y) => x.sku.localeCompare(y.sku));
    expect(sorted(lot.body.allocations)).toEqual(sorted(expected));
    const one = await factoryA.get<Lot>(`/v1/factory/shipments/${lot.body.shipmentId}`);
    expect(one.status).toBe(200);
    expect(sorted(one.body.allocations)).toEqual(sorted(expected));
    const listed = await factoryA.get<{ items: Lot[] }>(`${path}/shipments`);
    expect(listed.body.items.map((l) => l.shipmentId)).toEqual([lot.body.shipmentId]);
    for (const l of listed.body.items) {
      for (const item of l.items) expect(l.allocations.filter((a) => a.sku === item.sku).reduce((n, a) => n + a.quantity, 0)).toBe(item.quantity);
    }
    await runtime.emulator.drain();
    const event = runtime.emulator.events.find((e) => e.detailType === 'shipment.created' && (e.detail as { shipmentId?: string }).shipmentId === lot.body.shipmentId);
    expect(sorted((event?.detail as { allocations: Lot['allocations'] }).allocations)).toEqual(sorted(expected));
    // Another factory's lot and batch are not found.
    expect((await factoryB.get(`/v1/factory/shipments/${lot.body.shipmentId}`)).status).toBe(404);
    expect((await factoryB.get(`${path}/shipments`)).status).toBe(404);
  });

  it('says why units failed QC with published codes, cumulative; the batch, its campaign batch view and the trust figures show them; a wrong code or count is a 4xx naming it', async () => {
    const { campaignId, batches } = await twoBatches();
    const batch = batches.find((b) => b.lines.length === 1)!; // two SHIRT-M
    const path = `/v1/factory/batches/${batch.batchId}`;
    expect((await factoryA.post(`${path}/accept`, { committedShipDate: '2099-12-24' })).status).toBe(200);
    const first = await factoryA.post<Batch & { defects: unknown[] }>(`${path}/progress`, { produced: 3, qcPassed: 1, qcFailed: 2, defects: [{ code: 'stitching', count: 1 }] });
    expect(first.status).toBe(200);
    expect(first.body.defects).toEqual([{ code: 'stitching', count: 1 }]);
    const second = await factoryA.post<Batch & { defects: unknown[] }>(`${path}/progress`, { produced: 4, qcPassed: 2, qcFailed: 2, defects: [{ code: 'colour', count: 1 }] });
    expect(second.body.defects).toEqual([
      { code: 'stitching', count: 1 },
      { code: 'colour', count: 1 },
    ]);
    const bad = async (body: unknown, field: string) => {
      const r = await factoryA.post<Problem>(`${path}/progress`, body);
      expect(r.status, JSON.stringify(r.body)).toBe(400);
      expect((r.body.errors ?? []).map((e) => e.path)).toContain(field);
    };
    await bad({ produced: 4, qcPassed: 2, qcFailed: 2, defects: [{ code: 'glue', count: 1 }] }, 'defects.0.code');
    await bad({ produced: 4, qcPassed: 2, qcFailed: 2, defects: [{ code: 'size', count: 1 }, { code: 'size', count: 1 }] }, 'defects');
    await bad({ produced: 4, qcPassed: 2, qcFailed: 2, defects: [{ code: 'size', count: 3 }] }, 'defects');
    expectProblem(await factoryA.post(`${path}/progress`, { produced: 4, qcPassed: 2, qcFailed: 2, defects: [{ code: 'stitching', count: 0 }] }), 409, /cannot go backwards/);
    const own = await anchor.get<{ items: { defects: unknown[] }[] }>(`/v1/campaigns/${campaignId}/batches`);
    expect(own.body.items.find((b) => b.defects.length > 0)!.defects).toEqual(second.body.defects);
    const trust = await anchor.get<{ qcDefects?: unknown[] }>(`/v1/campaigns/${campaignId}/trust`);
    expect(trust.body.qcDefects).toEqual(second.body.defects);
  });

  it('accepts, reports progress, ships partial lots and confirms delivery; bad reports get a 409 that says why', async () => {
    const { batches, preorderIds } = await twoBatches();
    const batch = batches.find((b) => b.lines.length === 2)!; // the older one: SHIRT-S and SHIRT-M
    const path = `/v1/factory/batches/${batch.batchId}`;

    expectProblem(await factoryA.post(`${path}/progress`, { produced: 1, qcPassed: 1, qcFailed: 0 }), 409, /RELEASED batch cannot be reported on/);
    const past = await factoryA.post<Problem>(`${path}/accept`, { committedShipDate: '2020-01-01' });
    expectProblem(past, 400);
    expect(past.body.errors?.[0]?.path).toBe('committedShipDate');
    const accepted = await factoryA.post<Batch>(`${path}/accept`, { committedShipDate: '2099-12-24' });
    expect(accepted.status).toBe(200);
    expect(accepted.body).toMatchObject({ status: 'ACCEPTED', committedShipDate: '2099-12-24' });
    expect((await factoryA.post<Batch>(`${path}/accept`, { committedShipDate: '2099-12-24' })).status).toBe(200); // a retry
    expectProblem(await factoryA.post(`${path}/accept`, { committedShipDate: '2099-12-25' }), 409);

    const progressed = await factoryA.post<Batch>(`${path}/progress`, { sku: 'SHIRT-M', produced: 1, qcPassed: 1, qcFailed: 0 });
    expect(progressed.body).toMatchObject({ status: 'IN_PRODUCTION', produced: 1, qcPassed: 1 });
    expectProblem(await factoryA.post(`${path}/progress`, { sku: 'SHIRT-M', produced: 0, qcPassed: 0, qcFailed: 0 }), 409, /cannot go backwards/);
    expectProblem(await factoryA.post(`${path}/progress`, { sku: 'SHIRT-M', produced: 3, qcPassed: 2, qcFailed: 0 }), 409, /more than the 1 ordered/);
    const unknownSku = await factoryA.post<Problem>(`${path}/progress`, { sku: 'SHIRT-XL', produced: 1, qcPassed: 0, qcFailed: 0 });
    expectProblem(unknownSku, 400);
    expect(unknownSku.body.errors?.[0]?.path).toBe('sku');
    expectProblem(await factoryA.post(`${path}/progress`, { sku: 'SHIRT-M', produced: 1, qcPassed: 2, qcFailed: 0 }), 400);

    const tooMany = await factoryA.post(`${path}/shipments`, { carrier: 'SF Express', trackingNumber: 'SF1001', items: [{ sku: 'SHIRT-S', quantity: 1 }] });
    expectProblem(tooMany, 409, /Only 0 SHIRT-S have passed QC/);
    const lot = await factoryA.post<{ shipmentId: string; status: string; units: number }>(
      `${path}/shipments`,
      { carrier: 'SF Express', trackingNumber: 'SF1002', items: [{ sku: 'SHIRT-M', quantity: 1 }] },
      { idempotencyKey: 'lot-1' },
    );
    expect(lot.status).toBe(201);
    expect(lot.body).toMatchObject({ status: 'SHIPPED', units: 1 });
    const again = await factoryA.post<{ shipmentId: string }>(
      `${path}/shipments`,
      { carrier: 'SF Express', trackingNumber: 'SF1002', items: [{ sku: 'SHIRT-M', quantity: 1 }] },
      { idempotencyKey: 'lot-1' },
    );
    expect(again.body.shipmentId).toBe(lot.body.shipmentId);
    expect((await factoryA.get<Batch>(path)).body).toMatchObject({ status: 'PARTIALLY_SHIPPED', shipped: 1 });

    await factoryA.post(`${path}/progress`, { sku: 'SHIRT-S', produced: 1, qcPassed: 1, qcFailed: 0 });
    const last = await factoryA.post<{ shipmentId: string }>(`${path}/shipments`, {
      carrier: 'SF Express',
      trackingNumber: 'SF1003',
      items: [{ sku: 'SHIRT-S', quantity: 1 }],
    });
    expect(last.status).toBe(201);
    expect((await factoryA.get<Batch>(path)).body).toMatchObject({ status: 'COMPLETED', shipped: 2 });
    const delivered = await factoryA.post<{ status: string; deliveredAt: string }>(`/v1/factory/shipments/${last.body.shipmentId}/delivered`);
    expect(delivered.status).toBe(200);
    expect(delivered.body.status).toBe('DELIVERED');
    expect(preorderIds).toHaveLength(4);
  });

  it("a rejected batch's pre-orders go to the backup factory, and the buyer's timeline says so", async () => {
    const { batches, campaignId } = await twoBatches();
    const batch = batches[0]!;
    const rejected = await factoryA.post<Batch>(`/v1/factory/batches/${batch.batchId}/reject`, { reason: 'kiln down for a month' });
    expect(rejected.status).toBe(200);
    expect(rejected.body).toMatchObject({ status: 'REJECTED', rejectedReason: 'kiln down for a month' });
    expectProblem(await factoryA.post(`/v1/factory/batches/${batch.batchId}/accept`, { committedShipDate: '2099-12-24' }), 409);
    expect((await factoryA.get<Page<Batch>>('/v1/factory/batches?status=REJECTED&limit=200')).body.items.map((b) => b.batchId)).toContain(batch.batchId);
    // Its buyers are no longer factory-a's to ship to: the batch stays readable, its addresses do not.
    const gone = await factoryA.get<Problem>(`/v1/factory/batches/${batch.batchId}/manifest`);
    expectProblem(gone, 409, /was rejected \(kiln down for a month\)/);
    expect(JSON.stringify(gone.body)).not.toContain('Century Avenue');

    const backup = await until(() => batchesOf(factoryB, campaignId), (b) => b.length === 1);
    expect(backup).toHaveLength(1);
    expect(backup[0]!.units).toBe(batch.units);
    const manifest = await factoryB.get<{ items: { preorderId: string }[] }>(`/v1/factory/batches/${backup[0]!.batchId}/manifest`);
    const preorder = await buyer.get<{ batchId: string; timeline: { status: string; note: string; template: string }[] }>(`/v1/preorders/${manifest.body.items[0]!.preorderId}`);
    expect(preorder.body.batchId).toBe(backup[0]!.batchId);
    // The buyer is told the factory could not take it, in fixed words: not the factory's reason, not which factories.
    expect(preorder.body.timeline.map((t) => t.template)).toContain('preorder.moved_to_backup_factory');
    expect(preorder.body.timeline.map((t) => t.note).join(' | ')).not.toMatch(/kiln|factory-[ab]|bat_/);
    expect((await anchor.get<{ factoryId: string }>(`/v1/campaigns/${campaignId}`)).body.factoryId).toBe('factory-b');
    expectProblem(await factoryA.get(`/v1/factory/batches/${batch.batchId}/manifest`), 409); // still, after they moved on
  });

  it("lists forecasts for every open and scheduled campaign of the factory a page at a time, as api.md's lists go", async () => {
    const maker = clientFor(runtime, 'factory', 'factory-fc');
    const older = await anchor.post<{ campaignId: string }>('/v1/campaigns', campaignDraft({ factoryId: 'factory-fc', title: 'older' }));
    const later = new Date(Date.now() + 3600_000).toISOString();
    const newer = await anchor.post<{ campaignId: string }>(
      '/v1/campaigns',
      campaignDraft({ factoryId: 'factory-fc', title: 'newer', opensAt: later, closesAt: new Date(Date.now() + 7200_000).toISOString() }),
    );
    const ended = await anchor.post<{ campaignId: string }>('/v1/campaigns', campaignDraft({ factoryId: 'factory-fc', title: 'ended' }));
    expect((await anchor.post(`/v1/campaigns/${ended.body.campaignId}/close`)).status).toBe(200);

    type Forecast = { campaignId: string; title: string; status: string; closesAt: string; variants: { sku: string; ordered: number; forecastFinal: number; method: string }[] };
    const first = await maker.get<Page<Forecast>>('/v1/factory/forecasts?limit=1');
    expect(first.status).toBe(200);
    expect(first.body.items.map((f) => [f.campaignId, f.status])).toEqual([[newer.body.campaignId, 'SCHEDULED']]);
    expect(first.body.items[0]).toMatchObject({ title: 'newer', closesAt: expect.any(String), variants: [{ sku: 'SHIRT-S', ordered: 0 }, { sku: 'SHIRT-M', ordered: 0 }] });
    expect(first.body.nextCursor).toEqual(expect.any(String));
    const rest: Forecast[] = [];
    for (let cursor = first.body.nextCursor; cursor; ) {
      const page = await maker.get<Page<Forecast>>(`/v1/factory/forecasts?limit=1&cursor=${cursor}`);
      expect(page.status).toBe(200);
      rest.push(...page.body.items);
      cursor = page.body.nextCursor;
    }
    expect(rest.map((f) => [f.campaignId, f.status])).toEqual([[older.body.campaignId, 'OPEN']]); // the closed one is not listed
    expect((await maker.get<Page<Forecast>>('/v1/factory/forecasts')).body.items.map((f) => f.campaignId)).toEqual([newer.body.campaignId, older.body.campaignId]);
    expectProblem(await maker.get('/v1/factory/forecasts?cursor=bm90LWEtY3Vyc29y'), 400);
    expectProblem(await maker.get('/v1/factory/forecasts?limit=201'), 400);
  });
});

describe('Tenant isolation: every factory route, with another factory token', () => {
  it('reads and changes nothing of factory-a: 404 on every id, and its lists show none of it', async () => {
    // The intruder is factory-b, this campaign's own backup factory: the nearest neighbour factory-a has.
    const intruder = factoryB;
    const { batches, preorderIds } = await twoBatches();
    const batch = batches[0]!;
    const allEvents = ['batch.released', 'batch.accepted', 'batch.rejected', 'batch.overdue', 'batch.progressed', 'batch.completed', 'shipment.created', 'shipment.delivered'];
    // Subscribed to everything: any change the intruder managed to make to factory-a's batch or shipment would be delivered here.
    const webhook = await factoryA.post<{ webhookId: string }>('/v1/factory/webhooks', { url: receiverUrl, events: allEvents });
    expect(webhook.status).toBe(201);
    await factoryA.post(`/v1/factory/batches/${batch.batchId}/accept`, { committedShipDate: '2099-12-24' });
    await factoryA.post(`/v1/factory/batches/${batch.batchId}/progress`, { produced: 2, qcPassed: 1, qcFailed: 0 });
    const shipment = await factoryA.post<{ shipmentId: string }>(`/v1/factory/batches/${batch.batchId}/shipments`, {
      carrier: 'SF Express',
      trackingNumber: 'SF2001',
      items: [{ sku: batch.lines[0]!.sku, quantity: 1 }],
    });
    expect(shipment.status).toBe(201);
    expect((await factoryA.post(`/v1/factory/batches/${batch.batchId}/progress`, { produced: 2, qcPassed: 2, qcFailed: 0 })).status).toBe(200);
    const deliveriesPath = `/v1/factory/webhooks/${webhook.body.webhookId}/deliveries`;
    const deliveries = await until(
      () => factoryA.get<Page<{ deliveryId: string; eventType: string }>>(deliveriesPath),
      (r) => ['batch.accepted', 'batch.progressed', 'shipment.created'].every((t) => r.body.items.some((d) => d.eventType === t)),
    );
    const deliveryId = deliveries.body.items[0]!.deliveryId;
    // The shipment reaches its buyer asynchronously: wait for that before taking the picture.
    await until(
      () => Promise.all(preorderIds.map((id) => buyer.get<{ status: string }>(`/v1/preorders/${id}`))),
      (all) => all.some((r) => r.body.status === 'SHIPPED'),
    );

    /** Everything factory-a can read about itself (and its buyers' view of its shipment), once the pipeline is quiet. */
    const factoryAState = async () => ({
      batch: (await factoryA.get(`/v1/factory/batches/${batch.batchId}`)).body,
      batches: (await factoryA.get('/v1/factory/batches?limit=200')).body,
      manifest: (await factoryA.get(`/v1/factory/batches/${batch.batchId}/manifest`)).body,
      webhooks: (await factoryA.get('/v1/factory/webhooks?limit=200')).body,
      deliveries: (await factoryA.get(`${deliveriesPath}?limit=200`)).body,
      trust: (await factoryA.get('/v1/factory/trust')).body,
      // Which campaigns and what they ordered; the forecast itself moves with the clock.
      forecasts: (await factoryA.get<Page<{ campaignId: string; variants: { sku: string; ordered: number }[] }>>('/v1/factory/forecasts?limit=200')).body.items.map(
        (f) => [f.campaignId, f.variants.map((v) => [v.sku, v.ordered])],
      ),
      preorders: (await Promise.all(preorderIds.map((id) => buyer.get(`/v1/preorders/${id}`)))).map((r) => r.body),
    });
    const quiet = async () => {
      let last = JSON.stringify(await factoryAState());
      for (let i = 0; i < 40; i++) {
        await new Promise((r) => setTimeout(r, 750));
        const now = JSON.stringify(await factoryAState());
        if (now === last) return JSON.parse(now) as Awaited<ReturnType<typeof factoryAState>>;
        last = now;
      }
      throw new Error('factory-a never settled');
    };
    const before = await quiet();
    expect(before.trust).toMatchObject({ unitsQcChecked: expect.any(Number) });
    expect((before.webhooks as Page<{ webhookId: string }>).items.map((w) => w.webhookId)).toContain(webhook.body.webhookId);

    const ids: Record<string, string> = {
      batchId: batch.batchId,
      shipmentId: shipment.body.shipmentId,
      webhookId: webhook.body.webhookId,
      deliveryId,
      preorderId: preorderIds[0]!,
    };
    const bodies: Record<string, unknown> = {
      accept: { committedShipDate: '2099-12-24' },
      reject: { reason: 'mine now' },
      'close-short': { reason: 'mine now' },
      progress: { produced: 2, qcPassed: 2, qcFailed: 0 },
      shipments: { carrier: 'X', trackingNumber: 'XX0001', items: [{ sku: batch.lines[0]!.sku, quantity: 1 }] },
      // A well-formed request, so that only the ownership check can refuse it.
      parcels: { parcels: [{ preorderId: preorderIds[0]!, carrier: 'X', trackingNumber: 'XX0002' }] },
      webhooks: { url: `${receiverUrl}/intruder`, events: allEvents },
    };
    const factoryRoutes = topologyRoutes.filter((r) => r.fn === 'factory-api');
    expect(factoryRoutes.length).toBeGreaterThanOrEqual(13);
    let intruderWebhook: string | undefined;
    for (const route of factoryRoutes) {
      const path = route.path.replace(/\{(\w+)\}/g, (_, name: string) => ids[name]!);
      const last = route.path.split('/').at(-1)!;
      const reply = route.method === 'GET' ? await intruder.get(path) : await intruder.post(path, bodies[last] ?? {});
      if (route.path.includes('{')) {
        expectProblem(reply, 404);
        continue;
      }
      if (route.method === 'POST') {
        // Creating a webhook of its own is allowed: it is factory-b's, and only factory-b lists it.
        expect(route.path).toBe('/v1/factory/webhooks');
        expect(reply.status, JSON.stringify(reply.body)).toBe(201);
        intruderWebhook = (reply.body as { webhookId: string }).webhookId;
        expect(intruderWebhook).not.toBe(webhook.body.webhookId);
        continue;
      }
      expect(reply.status, route.path).toBe(200);
      const text = JSON.stringify(reply.body);
      for (const id of [...Object.values(ids), ...preorderIds, batch.campaignId]) expect(text, `${route.path} leaks ${id}`).not.toContain(id);
    }
    expect(intruderWebhook).toBeDefined();
    const theirHooks = await intruder.get<Page<{ webhookId: string }>>('/v1/factory/webhooks?limit=200');
    expect(theirHooks.body.items.map((w) => w.webhookId)).toContain(intruderWebhook);

    // Nothing of factory-a changed: its batches, manifest, webhooks, deliveries, trust figures and forecasts,
    // and its buyers' pre-orders with the shipment, read once the pipeline is quiet again.
    const after = await quiet();
    expect(after).toEqual(before);

    // factory-a's next event goes to factory-a's webhook only, never to the intruder's.
    await factoryA.post(`/v1/factory/batches/${batch.batchId}/shipments`, {
      carrier: 'SF Express',
      trackingNumber: 'SF2002',
      items: [{ sku: batch.lines[0]!.sku, quantity: 1 }],
    });
    const seen = await until(
      () => factoryA.get<Page<{ eventType: string }>>(`${deliveriesPath}?limit=200`),
      (r) => r.body.items.filter((d) => d.eventType === 'shipment.created').length === 2,
    );
    expect(seen.body.items.filter((d) => d.eventType === 'shipment.created')).toHaveLength(2);
    expect((await intruder.get<Page<unknown>>(`/v1/factory/webhooks/${intruderWebhook}/deliveries`)).body.items).toEqual([]);

    // Other roles are refused outright.
    expectProblem(await buyer.get('/v1/factory/batches'), 403);
    expectProblem(await anchor.post(`/v1/factory/batches/${batch.batchId}/accept`, { committedShipDate: '2099-12-24' }), 403);
  });

  it('the OpenAPI document describes every factory route with its request and response schemas', async () => {
    const doc = (await (await fetch(`${runtime.url}/v1/openapi.json`)).json()) as {
      paths: Record<string, Record<string, { requestBody?: { content: Record<string, { schema: unknown }> }; responses: Record<string, { content?: Record<string, { schema: unknown }> }> }>>;
    };
    for (const route of topologyRoutes.filter((r) => r.fn === 'factory-api')) {
      const op = doc.paths[route.path]?.[route.method.toLowerCase()];
      expect(op, `${route.method} ${route.path}`).toBeDefined();
      const ok = Object.entries(op!.responses).find(([code]) => code.startsWith('2'));
      // A DELETE answers 204 with nothing to describe; every other success has a body.
      if (ok?.[0] === '204') expect(route.method, `${route.path}: 204`).toBe('DELETE');
      else expect(ok?.[1].content?.['application/json']?.schema, `${route.path} success schema`).toBeDefined();
      expect(op!.responses['404'] ?? op!.responses['403'], `${route.path} problems`).toBeDefined();
      const needsBody = (route.method === 'POST' && !/\/(delivered|retry|rotate-secret|test)$/.test(route.path)) || route.method === 'PATCH';
      if (needsBody) expect(op!.requestBody?.content['application/json']?.schema, `${route.path} request schema`).toBeDefined();
    }
  });
});
