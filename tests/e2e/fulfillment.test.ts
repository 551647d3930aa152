import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { LocalRuntime } from '../../lib/local/runtime.ts';
import { campaignDraft, clientFor, preorderDraft, registerFactories, startTestRuntime } from '../support/runtime.ts';

// The loop the product exists for, over HTTP on the local runtime: a factory's lots reach the
// buyers who ordered them, oldest first; delays are told and may be cancelled; a short batch is
// refunded; every buyer hears each step once; trust figures follow.

let runtime: LocalRuntime;
let anchor: ReturnType<typeof clientFor>;
let factory: ReturnType<typeof clientFor>;
const buyers: ReturnType<typeof clientFor>[] = [];
let printed: string[] = [];
const realWrite = process.stdout.write.bind(process.stdout);

beforeAll(async () => {
  runtime = await startTestRuntime();
  anchor = clientFor(runtime, 'anchor', 'anchor-1');
  factory = clientFor(runtime, 'factory', 'factory-f');
  await registerFactories(runtime, 'factory-f');
  for (let i = 0; i < 5; i++) buyers.push(clientFor(runtime, 'buyer', `buyer-${i}`));
  // The local channel prints each notification; keep what it prints.
  process.stdout.write = ((chunk: string | Uint8Array, ...rest: unknown[]) => {
    if (typeof chunk === 'string' && chunk.includes('🔔')) printed.push(chunk);
    return realWrite(chunk as never, ...(rest as []));
  }) as typeof process.stdout.write;
});
afterAll(async () => {
  process.stdout.write = realWrite;
  await runtime?.stop();
});

type Preorder = {
  preorderId: string;
  status: string;
  sku: string;
  quantity: number;
  amount: number;
  refundedAmount: number;
  promisedShipBy: string;
  delayedTo?: string;
  shipments: { shipmentId: string; quantity: number; deliveredAt?: string }[];
  shippedQuantity: number;
  deliveredQuantity: number;
  locale: 'zh-CN' | 'en';
  timeline: { at: string; status: string; note: string; step?: string; template: string; params: Record<string, unknown> }[];
  notifications: { notificationId: string; step: string; template: string; params: Record<string, unknown>; locale: string; message: string }[];
};
type Batch = { batchId: string; campaignId: string; status: string; units: number; shipped: number; lines: { sku: string; quantity: number; shipped: number }[] };

const until = async <T>(probe: () => Promise<T>, done: (t: T) => boolean, timeoutMs = 25_000): Promise<T> => {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const value = await probe();
    if (done(value) || Date.now() > deadline) return value;
    await new Promise((r) => setTimeout(r, 200));
  }
};

/** The buyer who asks for English in this CNY campaign; the others name no locale (so zh-CN). */
const englishBuyer = 3;

/** Pre-orders placed in this order: [buyer index, sku, quantity]. */
const orders: [number, string, number][] = [
  [0, 'SHIRT-M', 2],
  [1, 'SHIRT-M', 1],
  [2, 'SHIRT-S', 1],
  [3, 'SHIRT-M', 2],
  [4, 'SHIRT-M', 1],
];

const setUp = async () => {
  // Promised 1 day after closing; the factory will commit to a date well after that (a delay).
  const created = await anchor.post<{ campaignId: string; closesAt: string }>(
    '/v1/campaigns',
    // A ceiling far enough for the factory's late date: refunds at the ceiling are tests/e2e/broken-promises' business.
    campaignDraft({ factoryId: 'factory-f', lotSize: 7, promisedShipDays: 1, maxDelayDays: 60, closesAt: new Date(Date.now() + 3600_000).toISOString() }),
  );
  expect(created.status).toBe(201);
  const campaignId = created.body.campaignId;
  const ids: string[] = [];
  for (const [b, sku, quantity] of orders) {
    const r = await buyers[b]!.post<Preorder>(`/v1/campaigns/${campaignId}/preorders`, preorderDraft({ sku, quantity, ...(b === englishBuyer && { locale: 'en' }) }));
    expect(r.status).toBe(202);
    ids.push(r.body.preorderId);
  }
  const batches = await until(
    () => factory.get<{ items: Batch[] }>('/v1/factory/batches?limit=200').then((r) => r.body.items.filter((x) => x.campaignId === campaignId)),
    (x) => x.length === 1,
  );
  expect(batches).toHaveLength(1);
  return { campaignId, ids, batch: batches[0]! };
};

const read = (i: number, id: string) => buyers[orders[i]![0]]!.get<Preorder>(`/v1/preorders/${id}`).then((r) => r.body);
const readAll = (ids: string[]) => Promise.all(ids.map((id, i) => read(i, id)));
const settled = (ids: string[], done: (ps: Preorder[]) => boolean) => until(() => readAll(ids), done);
const inDays = (n: number) => new Date(Date.now() + n * 86_400_000).toISOString().slice(0, 10);

/** Every buyer heard every step once: as many notifications as timeline entries, with distinct ids, in order. */
const expectEachStepNotifiedOnce = (ps: Preorder[]) => {
  for (const p of ps) {
    expect(p.notifications.map((n) => n.message), p.preorderId).toEqual(p.timeline.map((t) => t.note));
    expect(new Set(p.notifications.map((n) => n.notificationId)).size).toBe(p.notifications.length);
  }
};

const cjk = /[\u4e00-\u9fff]/;

/**
 * What a buyer reads is in their language and names nothing internal: every notification and
 * timeline note, with no id of ours (po_, bat_, cmp_, shp_), no factory id, no amount in minor
 * units, and none of the words the factory typed.
 */
const expectReadableNotices = (p: Preorder, locale: 'zh-CN' | 'en', factoryTyped: readonly string[]) => {
  expect(p.locale, p.preorderId).toBe(locale);
  expect(p.notifications.length, p.preorderId).toBe(p.timeline.length);
  expect(p.notifications.map((n) => n.template)).toEqual(p.timeline.map((t) => t.template));
  expect(p.notifications.map((n) => n.params)).toEqual(p.timeline.map((t) => t.params));
  for (const n of p.notifications) expect(n.locale).toBe(locale);
  for (const text of [...p.notifications.map((n) => n.message), ...p.timeline.map((t) => t.note)]) {
    expect(text).not.toMatch(/\b(po|bat|cmp|shp)_|factory-f|minor units|12900|\bCNY\b/);
    for (const typed of factoryTyped) expect(text).not.toContain(typed);
    if (locale === 'zh-CN') expect(text).toMatch(cjk);
    else expect(text).not.toMatch(cjk);
  }
};
const templatesOf = (p: Preorder) => p.notifications.map((n) => n.template);
const messageOf = (p: Preorder, template: string) => p.notifications.find((n) => n.template === template)?.message;

describe('Fulfillment back to buyers over HTTP', () => {
  it('delay notice, oldest-first partial lots, a cancel after the delay, deliveries and a short close: every unit accounted for', async () => {
    const { campaignId, ids, batch } = await setUp();
    const path = `/v1/factory/batches/${batch.batchId}`;
    expect(batch.units).toBe(7);

    // Accepting with a date after the buyers' promise: everyone in production, told of the delay.
    const committed = inDays(30);
    expect((await factory.post(`${path}/accept`, { committedShipDate: committed })).status).toBe(200);
    let ps = await settled(ids, (x) => x.every((p) => p.status === 'IN_PRODUCTION' && p.notifications.length === p.timeline.length));
    for (const p of ps) {
      expect(p.status).toBe('IN_PRODUCTION');
      expect(p.promisedShipBy.slice(0, 10)).toBe(committed);
      expect(p.delayedTo?.slice(0, 10)).toBe(committed);
      expect(p.timeline.map((t) => t.step ?? t.status)).toEqual(['ACCEPTED', 'BATCHED', 'IN_PRODUCTION', 'delayed']);
    }

    // The youngest SHIRT-M buyer cancels after the delay: full refund; the batch makes one fewer.
    const cancelled = await buyers[4]!.post<Preorder>(`/v1/preorders/${ids[4]}/cancel`);
    expect(cancelled.status).toBe(200);
    expect(cancelled.body).toMatchObject({ status: 'REFUNDED', refundedAmount: cancelled.body.amount });
    expect((await factory.get<Batch>(path)).body).toMatchObject({ units: 6 });

    // 3 SHIRT-M pass QC and ship: oldest first, buyer 0 gets 2 (all), buyer 1 gets 1 (all), buyer 3 none yet.
    await factory.post(`${path}/progress`, { sku: 'SHIRT-M', produced: 5, qcPassed: 4, qcFailed: 1 });
    const lot1 = await factory.post<{ shipmentId: string }>(`${path}/shipments`, {
      carrier: 'SF Express',
      trackingNumber: 'SF3001',
      items: [{ sku: 'SHIRT-M', quantity: 3 }],
    });
    expect(lot1.status).toBe(201);
    ps = await settled(ids, (x) => x[0]!.status === 'SHIPPED' && x[1]!.status === 'SHIPPED');
    expect(ps.map((p) => p.shippedQuantity)).toEqual([2, 1, 0, 0, 0]);
    expect(ps[0]!.shipments).toMatchObject([{ shipmentId: lot1.body.shipmentId, quantity: 2 }]);

    // Buyer 3 has 1 of 2 after the next lot; a partly shipped buyer can no longer cancel.
    const lot2 = await factory.post<{ shipmentId: string }>(`${path}/shipments`, {
      carrier: 'SF Express',
      trackingNumber: 'SF3002',
      items: [{ sku: 'SHIRT-M', quantity: 1 }],
    });
    ps = await settled(ids, (x) => x[3]!.shippedQuantity === 1);
    expect(ps[3]).toMatchObject({ status: 'IN_PRODUCTION', shippedQuantity: 1 });
    expect(ps[3]!.timeline.at(-1)!.step).toBe('partly-shipped');
    expect((await buyers[3]!.post(`/v1/preorders/${ids[3]}/cancel`)).status).toBe(409);

    // Both lots delivered.
    for (const lot of [lot1, lot2]) expect((await factory.post(`/v1/factory/shipments/${lot.body.shipmentId}/delivered`)).status).toBe(200);
    ps = await settled(ids, (x) => x[0]!.status === 'DELIVERED' && x[1]!.status === 'DELIVERED' && x[3]!.deliveredQuantity === 1);
    expect(ps.map((p) => p.status)).toEqual(['DELIVERED', 'DELIVERED', 'IN_PRODUCTION', 'IN_PRODUCTION', 'REFUNDED']);

    // The factory gives up on the rest: buyer 3 is refunded 1 unit and ends DELIVERED for the one that came,
    // buyer 2 (SHIRT-S, nothing made) is refunded in full.
    const closed = await factory.post<Batch>(`${path}/close-short`, { reason: 'dye lot ran out' });
    expect(closed.status).toBe(200);
    expect(closed.body.status).toBe('COMPLETED');
    ps = await settled(ids, (x) => x[2]!.status === 'REFUNDED' && x[3]!.status === 'DELIVERED' && x.every((p) => p.notifications.length === p.timeline.length));
    expect(ps[2]).toMatchObject({ status: 'REFUNDED', refundedAmount: ps[2]!.amount });
    expect(ps[3]).toMatchObject({ status: 'DELIVERED', deliveredQuantity: 1, refundedAmount: ps[3]!.amount / 2 });
    expect(ps[3]!.timeline.map((t) => t.step ?? t.status).slice(-2)).toEqual(['partly-refunded', 'DELIVERED']);

    // Conservation per variant: ordered = delivered + in flight + refunded, from the buyers' own view.
    for (const sku of ['SHIRT-M', 'SHIRT-S']) {
      const mine = ps.filter((p) => p.sku === sku);
      const ordered = mine.reduce((n, p) => n + p.quantity, 0);
      const delivered = mine.reduce((n, p) => n + p.deliveredQuantity, 0);
      const inFlight = mine.reduce((n, p) => n + p.shippedQuantity - p.deliveredQuantity, 0);
      const refunded = mine.reduce((n, p) => n + Math.round(p.refundedAmount / (p.amount / p.quantity)), 0);
      expect(delivered + inFlight + refunded, sku).toBe(ordered);
      for (const p of mine) expect(p.shippedQuantity).toBeLessThanOrEqual(p.quantity);
    }
    expect(ps.every((p) => p.status === 'DELIVERED' || p.status === 'REFUNDED')).toBe(true);
    expectEachStepNotifiedOnce(ps);
    for (const p of ps) for (const n of p.notifications) expect(printed.some((line) => line.includes(p.preorderId) && line.includes(n.step))).toBe(true);

    // Each buyer was told every step in their own language, money as money, nothing the factory typed.
    for (const [i, p] of ps.entries()) expectReadableNotices(p, orders[i]![0] === englishBuyer ? 'en' : 'zh-CN', ['SF Express', 'dye lot']);
    expect(templatesOf(ps[3]!)).toEqual([
      'preorder.accepted',
      'preorder.batched',
      'preorder.in_production',
      'preorder.delayed_at_acceptance',
      'preorder.partly_shipped',
      'preorder.partly_delivered',
      'preorder.partly_refunded_closed_short',
      'preorder.delivered_all_made',
    ]);
    expect(messageOf(ps[3]!, 'preorder.partly_refunded_closed_short')).toContain('¥129.00');
    expect(messageOf(ps[3]!, 'preorder.partly_shipped')).toContain('SF3002');
    expect(ps[3]!.notifications.find((n) => n.template === 'preorder.partly_shipped')?.params).toMatchObject({ carrier: 'SF Express', trackingNumber: 'SF3002' });
    expect(templatesOf(ps[2]!)).toEqual(['preorder.accepted', 'preorder.batched', 'preorder.in_production', 'preorder.delayed_at_acceptance', 'preorder.refunded_closed_short']);
    expect(messageOf(ps[2]!, 'preorder.refunded_closed_short')).toContain('¥129.00');
    expect(templatesOf(ps[4]!).slice(-2)).toEqual(['preorder.cancelled_after_delay', 'preorder.refunded_after_delay']);
    expect(messageOf(ps[0]!, 'preorder.accepted')).toContain('¥258.00');
    expect(ps[0]!.notifications[0]!.params).toMatchObject({ quantity: 2, amount: 25800, currency: 'CNY' });

    // Trust: 3 buyers got what they will get, on time for their first promise; 1 unit in 5 failed QC; 3 of 7 units refunded.
    const campaignTrust = await anchor.get<Record<string, number>>(`/v1/campaigns/${campaignId}/trust`);
    expect(campaignTrust.status).toBe(200);
    expect(campaignTrust.body).toMatchObject({ preordersShipped: 3, preordersDelivered: 3, onTimeShipRate: 1, qcPassRate: 0.8 });
    expect(campaignTrust.body.refundRate).toBeCloseTo(3 / 7, 3);
    expect(campaignTrust.body.medianDaysToDelivery).toBe(0);
    const factoryTrust = await factory.get<Record<string, number>>('/v1/factory/trust');
    // The factory's own figures: on time against the date it committed to; the refunds were its doing
    // (the delay the buyer left over, and the short close).
    expect(factoryTrust.status).toBe(200);
    expect(factoryTrust.body).toMatchObject({ onTimeShipRate: 1, qcPassRate: 0.8, preordersShipped: 3, preordersDelivered: 3, unitsQcChecked: 5, unitsRefunded: 3, medianDaysToDelivery: 0 });
    expect(factoryTrust.body.refundRate).toBeCloseTo(3 / 7, 3);
  });

  it('When the factory rejects a batch with words of its own and there is no backup, each buyer is told of the refund in their language, without those words', async () => {
    // Prepare: one buyer names English, one names nothing (zh-CN in a CNY campaign); a lot of 2 releases them.
    const created = await anchor.post<{ campaignId: string }>('/v1/campaigns', campaignDraft({ factoryId: 'factory-f', lotSize: 2 }));
    const campaignId = created.body.campaignId;
    const zh = await buyers[0]!.post<Preorder>(`/v1/campaigns/${campaignId}/preorders`, preorderDraft());
    const en = await buyers[1]!.post<Preorder>(`/v1/campaigns/${campaignId}/preorders`, preorderDraft({ locale: 'en' }));
    expect([zh.status, en.status]).toEqual([202, 202]);
    const [batch] = await until(
      () => factory.get<{ items: Batch[] }>('/v1/factory/batches?limit=200').then((r) => r.body.items.filter((x) => x.campaignId === campaignId)),
      (x) => x.length === 1,
    );
    expect(batch).toBeDefined();

    // Act
    const reason = 'Kiln #3 cracked, ask Mr Wang at factory-f';
    expect((await factory.post(`/v1/factory/batches/${batch!.batchId}/reject`, { reason })).status).toBe(200);
    const read2 = (b: number, id: string) => buyers[b]!.get<Preorder>(`/v1/preorders/${id}`).then((r) => r.body);
    const [pZh, pEn] = await until(
      () => Promise.all([read2(0, zh.body.preorderId), read2(1, en.body.preorderId)]),
      (ps) => ps.every((p) => p.status === 'REFUNDED' && p.notifications.length === p.timeline.length),
    );

    // Assess
    for (const [p, locale] of [[pZh!, 'zh-CN'], [pEn!, 'en']] as const) {
      expect(p.status).toBe('REFUNDED');
      expect(templatesOf(p)).toEqual(['preorder.accepted', 'preorder.batched', 'preorder.refunded_factory_declined']);
      expect(messageOf(p, 'preorder.refunded_factory_declined')).toContain('¥129.00');
      expectReadableNotices(p, locale, ['Kiln', 'cracked', 'Wang']);
    }
  });
});
