import { afterAll, afterEach, beforeAll, describe, expect, it, vi } from 'vitest';
import type { LocalRuntime } from '../../lib/local/runtime.ts';
import { campaignDraft, clientFor, preorderDraft, registerFactories, startTestRuntime, type Reply, untilDrained } from '../support/runtime.ts';

// What the anchor's console reads and changes, over HTTP against the local runtime:
// PATCH of a campaign before and while it is open, its batches as production goes,
// its buyers' pre-orders (JSON and CSV, no addresses) and the demand history behind the chart.

let runtime: LocalRuntime;
let anchor: ReturnType<typeof clientFor>;
let factory: ReturnType<typeof clientFor>;

beforeAll(async () => {
  runtime = await startTestRuntime();
  anchor = clientFor(runtime, 'anchor', 'console-anchor');
  factory = clientFor(runtime, 'factory', 'console-factory');
  await registerFactories(runtime, 'console-factory', 'console-backup');
});
afterAll(() => runtime?.stop());
afterEach(() => {
  vi.useRealTimers();
});

type Problem = { status: number; title: string; detail: string; errors?: { path: string; message: string; code?: string; params?: Record<string, unknown> }[] };
type Campaign = {
  campaignId: string;
  status: string;
  title: string;
  closesAt: string;
  opensAt: string;
  maxTotalQuantity?: number;
  remaining?: number;
  liveRoomIds?: string[];
  variants: { sku: string; unitPrice: number }[];
};

/** A request with the client's token, any method and Accept, answered as the raw Response (the CSV test reads its bytes: the BOM). */
const raw = async (client: ReturnType<typeof clientFor>, method: string, path: string, init: { body?: unknown; accept?: string } = {}) =>
  fetch(`${runtime.url}${path}`, {
    method,
    headers: {
      authorization: `Bearer ${await client.token()}`,
      ...(init.body !== undefined && { 'content-type': 'application/json' }),
      ...(init.accept && { accept: init.accept }),
    },
    ...(init.body !== undefined && { body: JSON.stringify(init.body) }),
  });

const patch = async <T = Campaign>(path: string, body: unknown, client = anchor): Promise<Reply<T>> => {
  const res = await raw(client, 'PATCH', path, { body });
  return { status: res.status, headers: res.headers, body: (await res.json()) as T };
};

const fieldsOf = (r: Reply) => ((r.body as unknown as Problem).errors ?? []).map((e) => e.path);

const buyers = (n: number) => Array.from({ length: n }, (_, i) => clientFor(runtime, 'buyer', `console-buyer-${i}`));

const until = <T>(probe: () => Promise<T>, done: (t: T) => boolean, timeoutMs = 25_000) => untilDrained(runtime, probe, done, timeoutMs);

describe('PATCH /v1/campaigns/{id} before the campaign opens', () => {
  it('changes any term; a cap set before opening holds once it opens, over the gates resized for it', async () => {
    const created = await anchor.post<Campaign>(
      '/v1/campaigns',
      campaignDraft({ factoryId: 'console-factory', opensAt: new Date(Date.now() + 3600_000).toISOString(), closesAt: new Date(Date.now() + 7200_000).toISOString() }),
    );
    expect(created.body.status).toBe('SCHEDULED');
    const id = created.body.campaignId;
    const changed = await patch(`/v1/campaigns/${id}`, {
      title: '手工亚麻衬衫 · 第二批',
      maxTotalQuantity: 3,
      variants: [{ sku: 'SHIRT-L', name: 'Large', unitPrice: 15900 }],
      backupFactoryId: 'console-backup',
    });
    expect(changed.status, JSON.stringify(changed.body)).toBe(200);
    expect(changed.body).toMatchObject({ status: 'SCHEDULED', title: '手工亚麻衬衫 · 第二批', maxTotalQuantity: 3, remaining: 3 });
    expect(changed.body.variants).toEqual([{ sku: 'SHIRT-L', name: 'Large', unitPrice: 15900 }]);

    // Opening now: the first pre-order opens it (gates first), and the new cap is what it sells.
    expect((await patch(`/v1/campaigns/${id}`, { opensAt: new Date().toISOString() })).status).toBe(200);
    const [fan] = buyers(1);
    const first = await fan!.post(`/v1/campaigns/${id}/preorders`, preorderDraft({ sku: 'SHIRT-L', quantity: 3 }));
    expect(first.status, JSON.stringify(first.body)).toBe(202);
    const over = await fan!.post<Problem>(`/v1/campaigns/${id}/preorders`, preorderDraft({ sku: 'SHIRT-L', quantity: 1 }));
    expect(over.status).toBe(409);
    expect((await fan!.post(`/v1/campaigns/${id}/preorders`, preorderDraft({ sku: 'SHIRT-M' }))).status).toBe(400);
    expect((await anchor.get<Campaign>(`/v1/campaigns/${id}`)).body).toMatchObject({ status: 'OPEN', remaining: 0 });
  });

  it('null takes an optional term away before opening (the cap, tiers for the whole campaign, a deposit sale); while it sells, 409 naming it', async () => {
    const created = await anchor.post<Campaign & { priceTiers?: unknown; payment?: unknown }>(
      '/v1/campaigns',
      campaignDraft({
        factoryId: 'console-factory',
        backupFactoryId: 'console-backup',
        maxWaitHours: 6,
        maxTotalQuantity: 40,
        variants: [{ sku: 'SHIRT-M', name: 'Medium', unitPrice: 12900 }],
        priceTiers: [{ minUnits: 10, unitPrice: 11900 }],
        payment: { mode: 'deposit', deposit: 2000, balanceWindowHours: 24 },
        opensAt: new Date(Date.now() + 3600_000).toISOString(),
        closesAt: new Date(Date.now() + 7200_000).toISOString(),
      }),
    );
    expect(created.status, JSON.stringify(created.body)).toBe(201);
    const id = created.body.campaignId;
    // The same tiers cannot go on the variant while the campaign keeps its own: the merged terms are refused, nothing written.
    const twice = await patch(`/v1/campaigns/${id}`, { variants: [{ sku: 'SHIRT-M', name: 'Medium', unitPrice: 12900, priceTiers: [{ minUnits: 10, unitPrice: 11900 }] }] });
    expect([twice.status, fieldsOf(twice)]).toEqual([400, ['variants.0.priceTiers']]);
    // Moved to the variant in one change, with the cap and the deposit taken away.
    const changed = await patch<Campaign & { priceTiers?: unknown; payment?: unknown }>(`/v1/campaigns/${id}`, {
      priceTiers: null,
      variants: [{ sku: 'SHIRT-M', name: 'Medium', unitPrice: 12900, priceTiers: [{ minUnits: 10, unitPrice: 11900 }] }],
      maxTotalQuantity: null,
      payment: null,
    });
    expect(changed.status, JSON.stringify(changed.body)).toBe(200);
    for (const gone of ['priceTiers', 'maxTotalQuantity', 'remaining', 'payment']) expect(changed.body, gone).not.toHaveProperty(gone);
    expect(changed.body.variants[0]).toMatchObject({ priceTiers: [{ minUnits: 10, unitPrice: 11900 }] });
    // Sent again: no change; a term it never had: no change either.
    expect((await patch(`/v1/campaigns/${id}`, { priceTiers: null, commission: null })).status).toBe(200);
    // A required term cannot be taken away.
    expect(fieldsOf(await patch(`/v1/campaigns/${id}`, { title: null }))).toEqual(['title']);

    // Open: buyers ordered on its terms, none is taken away.
    expect((await patch(`/v1/campaigns/${id}`, { opensAt: new Date().toISOString() })).status).toBe(200);
    const [fan] = buyers(1);
    expect((await fan!.post(`/v1/campaigns/${id}/preorders`, preorderDraft({ sku: 'SHIRT-M', quantity: 1 }))).status).toBe(202);
    // (switchWindowHours is at its default: null asks for no change there.)
    const whileOpen = await patch(`/v1/campaigns/${id}`, { backupFactoryId: null, maxWaitHours: null, switchWindowHours: null });
    expect(whileOpen.status).toBe(409);
    expect(fieldsOf(whileOpen)).toEqual(['backupFactoryId', 'maxWaitHours']);
    expect((await anchor.get<Campaign & { backupFactoryId?: string; maxWaitHours?: number }>(`/v1/campaigns/${id}`)).body).toMatchObject({ backupFactoryId: 'console-backup', maxWaitHours: 6 });
  });

  it('checks the merged terms like a create (400 naming the field) and writes nothing then', async () => {
    const created = await anchor.post<Campaign>(
      '/v1/campaigns',
      campaignDraft({ factoryId: 'console-factory', minTotalQuantity: 10, opensAt: new Date(Date.now() + 3600_000).toISOString(), closesAt: new Date(Date.now() + 7200_000).toISOString() }),
    );
    const id = created.body.campaignId;
    const belowMinimum = await patch(`/v1/campaigns/${id}`, { maxTotalQuantity: 5 });
    expect(belowMinimum.status).toBe(400);
    expect(fieldsOf(belowMinimum)).toEqual(['maxTotalQuantity']);
    const unknownFactory = await patch(`/v1/campaigns/${id}`, { factoryId: 'nobody-registered-this' });
    expect(unknownFactory.status).toBe(400);
    expect(fieldsOf(unknownFactory)).toEqual(['factoryId']);
    const closesBeforeOpening = await patch(`/v1/campaigns/${id}`, { closesAt: new Date(Date.now() + 1800_000).toISOString() });
    expect(fieldsOf(closesBeforeOpening)).toEqual(['closesAt']);
    const badVariant = await patch(`/v1/campaigns/${id}`, { variants: [{ sku: 'A B', name: 'x', unitPrice: 1 }] });
    expect(badVariant.status).toBe(400);
    expect(fieldsOf(badVariant)).toEqual(['variants.0.sku']);
    expect((await patch(`/v1/campaigns/${id}`, { status: 'OPEN' })).status).toBe(400);
    expect((await patch(`/v1/campaigns/${id}`, {})).status).toBe(400);
    const after = await anchor.get<Campaign & { factoryId: string; minTotalQuantity: number }>(`/v1/campaigns/${id}`);
    expect(after.body).toMatchObject({ factoryId: 'console-factory', minTotalQuantity: 10, closesAt: created.body.closesAt });
    expect(after.body).not.toHaveProperty('maxTotalQuantity');
  });

  it("another anchor's campaign is not found, and a buyer may not change campaigns", async () => {
    const created = await anchor.post<Campaign>('/v1/campaigns', campaignDraft({ factoryId: 'console-factory' }));
    expect((await patch(`/v1/campaigns/${created.body.campaignId}`, { title: 'mine now' }, clientFor(runtime, 'anchor', 'someone-else'))).status).toBe(404);
    expect((await patch(`/v1/campaigns/${created.body.campaignId}`, { title: 'mine now' }, buyers(1)[0])).status).toBe(403);
  });
});

describe('PATCH /v1/campaigns/{id} while it is OPEN', () => {
  it('raises the cap of a sold-out campaign and the new units sell, and no more', async () => {
    const created = await anchor.post<Campaign>('/v1/campaigns', campaignDraft({ factoryId: 'console-factory', maxTotalQuantity: 16 }));
    const id = created.body.campaignId;
    const fans = buyers(4);
    for (const fan of fans) expect((await fan.post(`/v1/campaigns/${id}/preorders`, preorderDraft({ quantity: 4 }))).status).toBe(202);
    expect((await fans[0]!.post(`/v1/campaigns/${id}/preorders`, preorderDraft())).status).toBe(409);

    const lower = await patch(`/v1/campaigns/${id}`, { maxTotalQuantity: 12 });
    expect(lower.status).toBe(409);
    expect(fieldsOf(lower)).toEqual(['maxTotalQuantity']);
    // A code and its values with the English, for a console that says it in the anchor's language.
    expect((lower.body as unknown as Problem).errors![0]).toMatchObject({ code: 'cap_only_raised', params: { cap: 16 } });
    const raised = await patch(`/v1/campaigns/${id}`, { maxTotalQuantity: 21 });
    expect(raised.status, JSON.stringify(raised.body)).toBe(200);
    expect(raised.body).toMatchObject({ maxTotalQuantity: 21, remaining: 5 });

    // The pre-order path remembers "sold out" for a second (a burst is refused without re-reading every gate):
    // past that second, on the controlled clock, the new units sell.
    vi.useFakeTimers({ toFake: ['Date'], shouldAdvanceTime: true });
    vi.setSystemTime(Date.now() + 1_100);

    const placed = await Promise.all(Array.from({ length: 7 }, (_, i) => fans[i % 4]!.post(`/v1/campaigns/${id}/preorders`, preorderDraft())));
    expect(placed.filter((r) => r.status === 202)).toHaveLength(5);
    expect(placed.filter((r) => r.status === 409)).toHaveLength(2);
    expect((await anchor.get<Campaign>(`/v1/campaigns/${id}`)).body.remaining).toBe(0);
    vi.useRealTimers();
  });

  it('moves the close later (never earlier), adds live rooms (never drops one), and refuses every other field by name', async () => {
    const closesAt = new Date(Date.now() + 3600_000).toISOString();
    const created = await anchor.post<Campaign>('/v1/campaigns', campaignDraft({ factoryId: 'console-factory', closesAt, liveRoomIds: ['room-a'] }));
    const id = created.body.campaignId;
    const earlier = await patch(`/v1/campaigns/${id}`, { closesAt: new Date(Date.now() + 1800_000).toISOString() });
    expect(earlier.status).toBe(409);
    expect(fieldsOf(earlier)).toEqual(['closesAt']);
    const later = new Date(Date.now() + 5400_000).toISOString();
    const moved = await patch(`/v1/campaigns/${id}`, { closesAt: later, liveRoomIds: ['room-a', 'room-b'] });
    expect(moved.status, JSON.stringify(moved.body)).toBe(200);
    expect(moved.body).toMatchObject({ closesAt: later, liveRoomIds: ['room-a', 'room-b'] });
    const dropped = await patch(`/v1/campaigns/${id}`, { liveRoomIds: ['room-b'] });
    expect(fieldsOf(dropped)).toEqual(['liveRoomIds']);
    // Not past the earliest buyers' ceiling: at most maxDelayDays (14) after the first close.
    const tooLate = await patch(`/v1/campaigns/${id}`, { closesAt: new Date(Date.parse(closesAt) + 15 * 24 * 3600_000).toISOString() });
    expect(tooLate.status).toBe(409);
    expect(fieldsOf(tooLate)).toEqual(['closesAt']);

    const others = await patch(`/v1/campaigns/${id}`, { title: 'Renamed', lotSize: 7, closesAt: later });
    expect(others.status).toBe(409);
    expect((others.body as unknown as Problem).title).toBe('Change not allowed');
    expect(fieldsOf(others)).toEqual(['title', 'lotSize']);
    // The stored values again are no change at all.
    expect((await patch(`/v1/campaigns/${id}`, { title: created.body.title, closesAt: later })).status).toBe(200);

    const uncapped = await patch(`/v1/campaigns/${id}`, { maxTotalQuantity: 100 });
    expect(fieldsOf(uncapped)).toEqual(['maxTotalQuantity']);
    const closed = await anchor.post<Campaign>(`/v1/campaigns/${id}/close`);
    expect(closed.body.status).toBe('FAILED');
    expect(fieldsOf(await patch(`/v1/campaigns/${id}`, { closesAt: new Date(Date.now() + 9000_000).toISOString() }))).toEqual(['closesAt']);
  });
});

type AnchorPreorder = { preorderId: string; buyerId: string; status: string; sku: string; quantity: number; amount: number; createdAt: string };

describe("GET /v1/campaigns/{id}/preorders: the campaign's buyers, without their addresses", () => {
  it('pages newest first across every gate shard with no repeats, filters by status and by buyer, and holds no address or phone', async () => {
    const created = await anchor.post<Campaign>('/v1/campaigns', campaignDraft({ factoryId: 'console-factory' }));
    const id = created.body.campaignId;
    const fans = buyers(3);
    const placed: string[] = [];
    for (let i = 0; i < 11; i++) {
      const r = await fans[i % 3]!.post<{ preorderId: string }>(`/v1/campaigns/${id}/preorders`, preorderDraft({ quantity: 1 + (i % 2) }));
      expect(r.status).toBe(202);
      placed.push(r.body.preorderId);
    }
    const cancelled = await fans[0]!.post(`/v1/preorders/${placed[3]}/cancel`);
    expect(cancelled.status).toBe(200);
    // A pre-order joins the anchor's list when intake reads it off the table's stream, a moment after its 202.
    await runtime.emulator.drain();

    const seen: AnchorPreorder[] = [];
    let cursor: string | undefined;
    do {
      const page = await anchor.get<{ items: AnchorPreorder[]; nextCursor?: string }>(`/v1/campaigns/${id}/preorders?limit=4${cursor ? `&cursor=${cursor}` : ''}`);
      expect(page.status).toBe(200);
      expect(page.body.items.length).toBeLessThanOrEqual(4);
      seen.push(...page.body.items);
      cursor = page.body.nextCursor;
    } while (cursor);
    expect(seen.map((p) => p.preorderId)).toEqual([...placed].reverse());
    expect(JSON.stringify(seen)).not.toMatch(/Century Avenue|138 0000|shippingAddress|phone/);

    const refunded = await anchor.get<{ items: AnchorPreorder[] }>(`/v1/campaigns/${id}/preorders?status=REFUNDED`);
    expect(refunded.body.items.map((p) => p.preorderId)).toEqual([placed[3]]);
    const accepted: string[] = [];
    cursor = undefined;
    do {
      const page: Reply<{ items: AnchorPreorder[]; nextCursor?: string }> = await anchor.get(`/v1/campaigns/${id}/preorders?status=ACCEPTED&limit=3${cursor ? `&cursor=${cursor}` : ''}`);
      expect(page.body.items.every((p) => p.status === 'ACCEPTED')).toBe(true);
      accepted.push(...page.body.items.map((p) => p.preorderId));
      cursor = page.body.nextCursor;
    } while (cursor);
    expect(accepted).toEqual([...placed].reverse().filter((id) => id !== placed[3]));
    const one = await anchor.get<{ items: AnchorPreorder[] }>(`/v1/campaigns/${id}/preorders?buyerId=console-buyer-1`);
    expect(one.body.items.map((p) => p.preorderId)).toEqual([placed[10], placed[7], placed[4], placed[1]]);

    expect((await anchor.get(`/v1/campaigns/${id}/preorders?status=LOST`)).status).toBe(400);
    expect((await anchor.get(`/v1/campaigns/${id}/preorders?cursor=bm90LWEtY3Vyc29y`)).status).toBe(400);
    expect((await clientFor(runtime, 'anchor', 'someone-else').get(`/v1/campaigns/${id}/preorders`)).status).toBe(404);
  });

  it('with Accept: text/csv gives the same page as a spreadsheet: BOM, header, amounts as money, and the next page in a Link header', async () => {
    const created = await anchor.post<Campaign>('/v1/campaigns', campaignDraft({ factoryId: 'console-factory' }));
    const id = created.body.campaignId;
    const [fan] = buyers(1);
    for (let i = 0; i < 3; i++) expect((await fan!.post(`/v1/campaigns/${id}/preorders`, preorderDraft({ quantity: 2 }))).status).toBe(202);
    await runtime.emulator.drain();

    const res = await raw(anchor, 'GET', `/v1/campaigns/${id}/preorders?limit=2`, { accept: 'text/csv' });
    expect(res.status).toBe(200);
    expect(res.headers.get('content-type')).toMatch(/^text\/csv; charset=utf-8/);
    const bytes = new Uint8Array(await res.clone().arrayBuffer());
    expect([...bytes.slice(0, 3)]).toEqual([0xef, 0xbb, 0xbf]);
    const lines = (await res.text()).replace(/^\uFEFF/, '').trimEnd().split('\r\n');
    expect(lines[0]).toBe(
      'preorderId,buyerId,sku,quantity,unitPrice,amount,currency,status,batchId,promisedShipBy,originalPromisedShipBy,shippedQuantity,deliveredQuantity,refundedAmount,compensatedAmount,locale,createdAt,updatedAt',
    );
    expect(lines).toHaveLength(3);
    expect(lines[1]).toMatch(/^po_[0-9a-z]{24},console-buyer-0,SHIRT-M,2,129\.00,258\.00,CNY,ACCEPTED,,/);
    const link = res.headers.get('link');
    expect(link).toMatch(/^<\/v1\/campaigns\/cmp_[0-9a-z]{24}\/preorders\?limit=2&cursor=[^>]+>; rel="next"$/);
    const next = await raw(anchor, 'GET', link!.slice(1, link!.indexOf('>')), { accept: 'text/csv' });
    const rest = (await next.text()).replace(/^\uFEFF/, '').trimEnd().split('\r\n');
    expect(rest).toHaveLength(2);
    expect(next.headers.get('link')).toBeNull();
    // JSON stays the default, as for every other route.
    expect((await raw(anchor, 'GET', `/v1/campaigns/${id}/preorders`)).headers.get('content-type')).toMatch(/application\/json/);
  });
});

type CampaignBatch = {
  status: string;
  factoryId: string;
  acceptBy: string;
  committedShipDate?: string;
  units: number;
  lines: { sku: string; quantity: number; produced: number; qcPassed: number; qcFailed: number; shipped: number }[];
  produced: number;
  qcPassed: number;
  shipped: number;
  refunds: { preorders: number; units: number; amount: number };
  delays: { preorders: number };
};

describe('GET /v1/campaigns/{id}/batches: production as the anchor follows it', () => {
  it('shows each batch from release through acceptance, QC and shipment, per sku', async () => {
    const created = await anchor.post<Campaign>('/v1/campaigns', campaignDraft({ factoryId: 'console-factory', lotSize: 3 }));
    const id = created.body.campaignId;
    const fans = buyers(3);
    for (const [i, sku] of ['SHIRT-M', 'SHIRT-S', 'SHIRT-M'].entries()) {
      expect((await fans[i]!.post(`/v1/campaigns/${id}/preorders`, preorderDraft({ sku }))).status).toBe(202);
    }
    const released = await until(
      () => anchor.get<{ items: CampaignBatch[]; currency: string }>(`/v1/campaigns/${id}/batches`),
      (r) => r.body.items?.length === 1,
    );
    expect(released.body.currency).toBe('CNY');
    expect(released.body.items[0]).toMatchObject({ status: 'RELEASED', factoryId: 'console-factory', units: 3, produced: 0, shipped: 0 });
    expect(JSON.stringify(released.body)).not.toMatch(/Century Avenue|shippingAddress/);

    const factoryBatch = (await factory.get<{ items: { batchId: string; campaignId: string }[] }>('/v1/factory/batches?limit=200')).body.items.find(
      (b) => b.campaignId === id,
    )!;
    const path = `/v1/factory/batches/${factoryBatch.batchId}`;
    expect((await factory.post(`${path}/accept`, { committedShipDate: '2099-12-24' })).status).toBe(200);
    expect((await factory.post(`${path}/progress`, { sku: 'SHIRT-M', produced: 2, qcPassed: 2, qcFailed: 0 })).status).toBe(200);
    expect((await factory.post(`${path}/progress`, { sku: 'SHIRT-S', produced: 1, qcPassed: 0, qcFailed: 1 })).status).toBe(200);
    expect((await factory.post(`${path}/shipments`, { carrier: 'SF Express', trackingNumber: 'SF-C1', items: [{ sku: 'SHIRT-M', quantity: 2 }] })).status).toBe(201);

    const now = await until(
      () => anchor.get<{ items: CampaignBatch[] }>(`/v1/campaigns/${id}/batches`),
      (r) => r.body.items[0]?.status === 'PARTIALLY_SHIPPED',
    );
    const batch = now.body.items[0]!;
    expect(batch).toMatchObject({ committedShipDate: '2099-12-24', produced: 3, qcPassed: 2, qcFailed: 1, shipped: 2 });
    expect(batch.lines.find((l) => l.sku === 'SHIRT-M')).toEqual({ sku: 'SHIRT-M', quantity: 2, produced: 2, qcPassed: 2, qcFailed: 0, shipped: 2 });
    expect(batch.lines.find((l) => l.sku === 'SHIRT-S')).toEqual({ sku: 'SHIRT-S', quantity: 1, produced: 1, qcPassed: 0, qcFailed: 1, shipped: 0 });
    expect(batch.refunds).toEqual({ preorders: 0, units: 0, amount: 0 });
    // The factory closes the batch short: the unshipped buyer is refunded, and the anchor sees it on the batch.
    expect((await factory.post(`${path}/close-short`, { reason: 'dye lot failed QC' })).status).toBe(200);

    const short = await until(
      () => anchor.get<{ items: CampaignBatch[] }>(`/v1/campaigns/${id}/batches`),
      (r) => r.body.items[0]?.refunds.preorders === 1,
    );
    expect(short.body.items[0]).toMatchObject({ status: 'COMPLETED', refunds: { preorders: 1, units: 1, amount: 12900 } });
  });
});

type History = {
  from: string;
  to: string;
  stepSeconds: number;
  maxTotalQuantity?: number;
  variants: { sku: string; points: { at: string; ordered: number; forecastFinal?: number; forecastLow?: number; forecastHigh?: number }[]; forecastFinal: number }[];
};

describe('GET /v1/campaigns/{id}/demand/history: the series behind the chart', () => {
  it("holds the clock's minutes with the forecast made then, and a live last point that moves with each pre-order", async () => {
    const created = await anchor.post<Campaign>('/v1/campaigns', campaignDraft({ factoryId: 'console-factory', maxTotalQuantity: 40 }));
    const id = created.body.campaignId;
    const [fan] = buyers(1);
    expect((await fan!.post(`/v1/campaigns/${id}/preorders`, preorderDraft({ quantity: 2 }))).status).toBe(202);
    await runtime.emulator.fireSchedule('campaign-sweep');
    await runtime.emulator.drain();

    const first = await anchor.get<History>(`/v1/campaigns/${id}/demand/history`);
    expect(first.status, JSON.stringify(first.body)).toBe(200);
    expect(first.body).toMatchObject({ stepSeconds: 60, maxTotalQuantity: 40 });
    const medium = first.body.variants.find((v) => v.sku === 'SHIRT-M')!;
    const recorded = medium.points.filter((p) => p.forecastFinal !== undefined);
    expect(recorded.length).toBeGreaterThanOrEqual(2); // the clock's minute and the live point
    expect(recorded[0]!.ordered).toBe(2);
    expect(recorded[0]!.forecastLow!).toBeLessThanOrEqual(recorded[0]!.forecastFinal!);
    expect(recorded[0]!.forecastHigh!).toBeGreaterThanOrEqual(recorded[0]!.forecastFinal!);
    expect(recorded[0]!.forecastHigh!).toBeLessThanOrEqual(40);

    expect((await fan!.post(`/v1/campaigns/${id}/preorders`, preorderDraft({ quantity: 3 }))).status).toBe(202);
    const second = await anchor.get<History>(`/v1/campaigns/${id}/demand/history`);
    expect(second.body.variants.find((v) => v.sku === 'SHIRT-M')!.points.at(-1)!.ordered).toBe(5);

    const scheduled = await anchor.post<Campaign>(
      '/v1/campaigns',
      campaignDraft({ factoryId: 'console-factory', opensAt: new Date(Date.now() + 3600_000).toISOString(), closesAt: new Date(Date.now() + 7200_000).toISOString() }),
    );
    const before = await anchor.get<History>(`/v1/campaigns/${scheduled.body.campaignId}/demand/history`);
    expect(before.status).toBe(200);
    expect(before.body.variants.map((v) => v.points)).toEqual([[], []]);

    const wide = await anchor.get<Problem>(`/v1/campaigns/${id}/demand/history?from=2026-01-01T00:00:00Z&to=2026-01-05T00:00:00Z`);
    expect(wide.status).toBe(400);
    expect(fieldsOf(wide as Reply)).toEqual(['from']);
    expect((await clientFor(runtime, 'anchor', 'someone-else').get(`/v1/campaigns/${id}/demand/history`)).status).toBe(404);
  });
});
