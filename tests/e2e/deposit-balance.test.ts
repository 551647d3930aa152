import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import type { LocalRuntime } from '../../lib/local/runtime.ts';
import { campaignDraft, clientFor, preorderDraft, registerFactories, startTestRuntime, untilDrained } from '../support/runtime.ts';
import { expectPublishedEventsFitTheirSchemas } from '../support/events.ts';

/**
 * Deposit and balance (定金/尾款, issue 16), over HTTP against the local runtime:
 * a deposit campaign takes a deposit when a buyer orders (with the platform's
 * paymentRef); when the sale closes each buyer is told the balance (the tier
 * price reached, less the deposit discount, less the deposit) and its
 * deadline; the platform records balances paid, and only paid pre-orders are
 * made. At the deadline the unpaid are cancelled with their deposit kept, and
 * the last batch is cut. A sale that falls through refunds every deposit.
 * Time past the deadline is moved by the runtime's clock, never waited for;
 * it only moves forward in this file, so that test runs last.
 */
let runtime: LocalRuntime;
let anchor: ReturnType<typeof clientFor>;
let factory: ReturnType<typeof clientFor>;
let platform: ReturnType<typeof clientFor>;
const buyers: ReturnType<typeof clientFor>[] = [];

beforeAll(async () => {
  runtime = await startTestRuntime();
  anchor = clientFor(runtime, 'anchor', 'anchor-deposit');
  factory = clientFor(runtime, 'factory', 'factory-deposit');
  platform = clientFor(runtime, 'platform', 'pay-deposit');
  await registerFactories(runtime, 'factory-deposit');
  for (let i = 0; i < 8; i++) buyers.push(clientFor(runtime, 'buyer', `buyer-deposit-${i}`));
});
afterAll(() => {
  vi.useRealTimers();
  return runtime?.stop();
});

type Refund = { refundId: string; amount: number; reason: string; status: string };
type Preorder = {
  preorderId: string;
  status: string;
  sku: string;
  quantity: number;
  amount: number;
  paidAmount: number;
  refundedAmount: number;
  finalUnitPrice: number;
  depositAmount?: number;
  balanceDue?: number;
  balanceDueBy?: string;
  balancePaidAt?: string;
  forfeitedAmount?: number;
  batchId?: string;
  refunds: Refund[];
  timeline: { status: string; step?: string; template: string; note: string }[];
  notifications: { template: string; message: string; locale: string }[];
};
type VariantDemand = { sku: string; ordered: number; cancelled: number; waiting: number; awaitingBalance?: number; batched: number };
type CampaignView = { campaignId: string; status: string; balanceDueBy?: string; payment?: Record<string, unknown>; demand: VariantDemand[] };
type Problem = { status: number; title?: string; errors?: { path: string; message: string; code?: string }[] };
type Batch = { batchId: string; campaignId: string; lines: { sku: string; quantity: number }[]; reason?: string };

const payment = { mode: 'deposit', deposit: 2000, balanceWindowHours: 48, depositDiscount: 1000 };
const depositCampaign = (overrides: Record<string, unknown> = {}) =>
  campaignDraft({
    factoryId: 'factory-deposit',
    variants: [
      { sku: 'SHIRT-S', name: 'Small', unitPrice: 12900 },
      { sku: 'SHIRT-M', name: 'Medium', unitPrice: 12900, priceTiers: [{ minUnits: 3, unitPrice: 11900 }] },
    ],
    minTotalQuantity: 4,
    lotSize: 2,
    payment,
    ...overrides,
  });

const create = async (body: Record<string, unknown>) => {
  const res = await anchor.post<CampaignView>('/v1/campaigns', body);
  expect(res.status, JSON.stringify(res.body)).toBe(201);
  return res.body.campaignId;
};
const place = async (campaignId: string, buyer: number, body: Record<string, unknown>) => {
  const res = await buyers[buyer]!.post<Preorder>(`/v1/campaigns/${campaignId}/preorders`, preorderDraft(body));
  expect(res.status, JSON.stringify(res.body)).toBe(202);
  return res.body;
};
const read = async (id: string, buyer: number) => {
  const res = await buyers[buyer]!.get<Preorder>(`/v1/preorders/${id}`);
  expect(res.status).toBe(200);
  return res.body;
};
const campaignOf = async (campaignId: string) => (await anchor.get<CampaignView>(`/v1/campaigns/${campaignId}`)).body;
const medium = async (campaignId: string) => (await campaignOf(campaignId)).demand.find((d) => d.sku === 'SHIRT-M')!;
const pay = (preorderId: string, paymentRef: string, amount: number) => platform.post<Problem & Record<string, unknown>>('/v1/payments/balances', { preorderId, paymentRef, amount });
const batchesOf = async (campaignId: string) =>
  (await factory.get<{ items: Batch[] }>('/v1/factory/batches?limit=200')).body.items.filter((b) => b.campaignId === campaignId);
/** Money per pre-order: what was paid, less what came back, is what its kept units cost plus any deposit kept. */
const conserved = (p: Preorder) => {
  const kept = p.status === 'REFUNDED' || p.status === 'CANCELLED' ? 0 : p.quantity;
  expect(p.paidAmount - p.refundedAmount, p.preorderId).toBe(kept * p.finalUnitPrice + (p.forfeitedAmount ?? 0));
};

describe('Deposit and balance', () => {
  it('A deposit at or above a unit price any tier reaches, a deposit campaign without its window, or deposit terms in a campaign paid in full: 400 naming the field, nothing created', async () => {
    const before = (await anchor.get<{ items: unknown[] }>('/v1/campaigns?mine=true&limit=100')).body;
    const cases: [Record<string, unknown>, string][] = [
      [{ ...payment, deposit: 11900 }, 'payment.deposit'],
      [{ ...payment, deposit: 11000, depositDiscount: 900 }, 'payment.depositDiscount'],
      [{ mode: 'deposit', deposit: 2000 }, 'payment.balanceWindowHours'],
      [{ mode: 'deposit', balanceWindowHours: 48 }, 'payment.deposit'],
      [{ mode: 'full', deposit: 2000 }, 'payment.deposit'],
      [{ ...payment, balanceWindowHours: 0.5 }, 'payment.balanceWindowHours'],
      [{ ...payment, balanceWindowHours: 24 * 31 }, 'payment.balanceWindowHours'],
      [{ ...payment, deposit: 20.5 }, 'payment.deposit'],
    ];
    for (const [terms, path] of cases) {
      const res = await anchor.post<Problem>('/v1/campaigns', depositCampaign({ payment: terms }));
      expect(res.status, JSON.stringify(terms)).toBe(400);
      expect(res.body.errors?.map((e) => e.path), JSON.stringify(terms)).toContain(path);
    }
    expect((await anchor.get<{ items: unknown[] }>('/v1/campaigns?mine=true&limit=100')).body.items).toHaveLength(before.items.length);
  });

  it('A sale that falls through refunds every deposit in full, and nobody is asked for a balance', async () => {
    const campaignId = await create(depositCampaign({ minTotalQuantity: 10 }));
    const a = await place(campaignId, 6, { quantity: 2, paymentRef: 'pay_fail_a' });
    await runtime.emulator.drain();
    expect((await anchor.post<{ status: string }>(`/v1/campaigns/${campaignId}/close`)).body.status).toBe('FAILED');
    const refunded = await untilDrained(runtime, () => read(a.preorderId, 6), (p) => p.status === 'REFUNDED' && p.notifications.length === p.timeline.length);
    expect(refunded).toMatchObject({ paidAmount: 4000, refundedAmount: 4000, refunds: [{ amount: 4000, reason: 'campaign-failed' }] });
    expect(refunded.balanceDue).toBeUndefined();
    expect(refunded.forfeitedAmount).toBeUndefined();
    conserved(refunded);
    const owed = (await platform.get<{ items: { preorderId: string; amount: number; paymentRef?: string }[] }>('/v1/payments/refunds?status=REQUESTED&limit=200')).body.items;
    expect(owed.find((r) => r.preorderId === a.preorderId)).toMatchObject({ amount: 4000, paymentRef: 'pay_fail_a' });
  });

  it('A buyer whose variant missed its minimum who cancels before paying gets the deposit back: the fault is not theirs', async () => {
    const campaignId = await create(
      depositCampaign({
        minTotalQuantity: 1,
        variants: [
          { sku: 'SHIRT-S', name: 'Small', unitPrice: 12900, minQuantity: 5 },
          { sku: 'SHIRT-M', name: 'Medium', unitPrice: 12900 },
        ],
      }),
    );
    const small = await place(campaignId, 4, { sku: 'SHIRT-S', quantity: 1, paymentRef: 'pay_missed_s' });
    await place(campaignId, 5, { sku: 'SHIRT-M', quantity: 1, paymentRef: 'pay_missed_m' });
    await runtime.emulator.drain();
    expect((await anchor.post<{ status: string; variantsMissed?: string[] }>(`/v1/campaigns/${campaignId}/close`)).body).toMatchObject({ status: 'CLOSED', variantsMissed: ['SHIRT-S'] });
    await runtime.emulator.drain();
    const cancelled = await buyers[4]!.post<Preorder>(`/v1/preorders/${small.preorderId}/cancel`);
    expect(cancelled.status).toBe(200);
    expect(cancelled.body).toMatchObject({ status: 'REFUNDED', refundedAmount: 2000, paidAmount: 2000 });
    expect(cancelled.body.forfeitedAmount).toBeUndefined();
    await runtime.emulator.drain();
    expect((await campaignOf(campaignId)).demand.find((d) => d.sku === 'SHIRT-S')).toMatchObject({ ordered: 1, cancelled: 1, awaitingBalance: 0 });
    conserved(await read(small.preorderId, 4));
  });

  it('In the balance window whoever paid is still made within maxWaitHours: the minute tick cuts them before the deadline, the unpaid left to pay, though fewer paid than the minimums', async () => {
    // The variant made its own minimum of 3 at close, on deposits; only 2 pay at first. The minimums were settled at close
    // (the sale cannot fail now), so the 2 are made on time: a cut of them must not be voided for want of the third.
    const campaignId = await create(
      depositCampaign({ variants: [{ sku: 'SHIRT-M', name: 'Medium', unitPrice: 12900, minQuantity: 3 }], minTotalQuantity: 3, lotSize: 10, maxWaitHours: 3, maxTotalQuantity: 10 }),
    );
    const [a, b, c] = [
      await place(campaignId, 5, { quantity: 1, paymentRef: 'pay_wait_a' }),
      await place(campaignId, 6, { quantity: 1, paymentRef: 'pay_wait_b' }),
      await place(campaignId, 7, { quantity: 1, paymentRef: 'pay_wait_c' }),
    ];
    await runtime.emulator.drain();
    // Deposits paid, no balance due yet: nothing to collect, and no cursor to follow.
    expect((await platform.get(`/v1/payments/balances?campaignId=${campaignId}`)).body).toEqual({ items: [] });
    expect((await anchor.post<{ status: string }>(`/v1/campaigns/${campaignId}/close`)).body.status).toBe('CLOSED');
    const called = await untilDrained(runtime, () => read(a.preorderId, 5), (p) => p.balanceDue !== undefined);
    // ¥129 less the ¥10 discount, less the ¥20 deposit.
    expect(called.balanceDue).toBe(9900);
    // The platform's list of balances due, a page at a time, from a capped campaign's one partition: each once, in order.
    for (const limit of [1, 2]) {
      const seen: string[] = [];
      for (let cursor: string | undefined, pages = 0; pages === 0 || cursor !== undefined; pages++) {
        const page = await platform.get<{ items: { preorderId: string }[]; nextCursor?: string }>(
          `/v1/payments/balances?campaignId=${campaignId}&limit=${limit}${cursor ? `&cursor=${encodeURIComponent(cursor)}` : ''}`,
        );
        expect(page.status).toBe(200);
        expect(page.body.items.length).toBeLessThanOrEqual(limit);
        seen.push(...page.body.items.map((x) => x.preorderId));
        cursor = page.body.nextCursor;
        expect(pages).toBeLessThan(6);
      }
      expect(seen, `limit ${limit}`).toEqual([a.preorderId, b.preorderId, c.preorderId]);
    }
    expect((await pay(a.preorderId, 'pay_wait_a', 9900)).status).toBe(200);
    expect((await pay(b.preorderId, 'pay_wait_b', 9900)).status).toBe(200);
    await runtime.emulator.drain();
    // Two paid units wait (the whole minimum, but far from a lot of 10), and nobody has waited three hours: nothing cut.
    expect(await medium(campaignId)).toMatchObject({ waiting: 2, awaitingBalance: 1 });
    await runtime.emulator.fireSchedule('campaign-sweep');
    await runtime.emulator.drain();
    expect(await batchesOf(campaignId)).toEqual([]);

    // Four hours on, the deadline still 44 hours away: the minute's tick has the waiting two cut, and the unpaid one may still pay.
    vi.useFakeTimers({ toFake: ['Date'], shouldAdvanceTime: true });
    vi.setSystemTime(Date.now() + 4 * 3600_000);
    await runtime.emulator.fireSchedule('campaign-sweep');
    const [pa, pb] = await untilDrained(
      runtime,
      () => Promise.all([read(a.preorderId, 5), read(b.preorderId, 6)]),
      (xs) => xs.every((p) => p.status === 'BATCHED'),
    );
    // A few more minutes of ticks: the same batch, nobody put back in line or told twice.
    for (let minute = 1; minute <= 2; minute++) {
      vi.setSystemTime(Date.now() + 60_000);
      await runtime.emulator.fireSchedule('campaign-sweep');
      await runtime.emulator.drain();
    }
    const batches = await batchesOf(campaignId);
    expect(batches.map((x) => [x.reason, x.lines.map((l) => [l.sku, l.quantity])])).toEqual([['max-wait', [['SHIRT-M', 2]]]]);
    expect([pa.batchId, pb.batchId]).toEqual([batches[0]!.batchId, batches[0]!.batchId]);
    for (const p of [await read(a.preorderId, 5), await read(b.preorderId, 6)]) {
      expect(p.timeline.map((e) => e.template).filter((t) => t === 'preorder.back_in_line' || t === 'preorder.batched'), p.preorderId).toEqual(['preorder.batched']);
    }
    const unpaid = await read(c.preorderId, 7);
    expect(unpaid).toMatchObject({ status: 'ACCEPTED', balanceDue: 9900 });
    // The buyer's wait is counted from the order: paid now, four hours after it, it is past maxWaitHours and made at once.
    expect((await pay(c.preorderId, 'pay_wait_c', 9900)).status).toBe(200);
    await untilDrained(runtime, () => read(c.preorderId, 7), (p) => p.status === 'BATCHED');
    expect(await medium(campaignId)).toMatchObject({ waiting: 0, awaitingBalance: 0, batched: 3 });
    expect((await batchesOf(campaignId)).map((x) => x.reason)).toEqual(['max-wait', 'max-wait']);
  });

  it('Deposits when ordering, the balance at the tier price less the discount when the sale closes, only paid pre-orders made, and the unpaid forfeited at the deadline', async () => {
    const campaignId = await create(depositCampaign());
    expect((await campaignOf(campaignId)).payment).toEqual(payment);

    // No paymentRef in a deposit campaign: 400 naming it, nothing placed.
    const missing = await buyers[5]!.post<Problem>(`/v1/campaigns/${campaignId}/preorders`, preorderDraft({ quantity: 1 }));
    expect(missing.status).toBe(400);
    expect(missing.body.errors?.map((e) => e.path)).toEqual(['paymentRef']);

    const a = await place(campaignId, 0, { quantity: 2, paymentRef: 'pay_dep_a' });
    const b = await place(campaignId, 1, { quantity: 1, paymentRef: 'pay_dep_b', locale: 'en' });
    const c = await place(campaignId, 2, { quantity: 1, paymentRef: 'pay_dep_c' });
    const d = await place(campaignId, 3, { quantity: 1, paymentRef: 'pay_dep_d', locale: 'en' });
    // Each paid its deposit, ¥20 a unit; the balance is not known until the sale closes.
    expect(a).toMatchObject({ amount: 25800, paidAmount: 4000, depositAmount: 4000, status: 'ACCEPTED' });
    expect(a.balanceDue).toBeUndefined();
    await runtime.emulator.drain();
    expect((await read(a.preorderId, 0)).timeline.map((e) => e.template)).toEqual(['preorder.accepted_deposit']);
    expect((await read(b.preorderId, 1)).notifications[0]!.message).toMatch(/deposit of ¥40\.00|deposit of ¥20\.00/);
    // Counted in demand (and towards the tier), not in line.
    expect(await medium(campaignId)).toMatchObject({ ordered: 5, waiting: 0, awaitingBalance: 5 });

    // A balance before the sale closed: nothing is due yet.
    const early = await pay(a.preorderId, 'pay_dep_a', 17800);
    expect(early.status).toBe(409);
    expect(early.body.errors?.[0]).toMatchObject({ path: 'preorderId', code: 'balance_not_due' });

    // A buyer who walks away before paying the balance keeps nothing back: the deposit is kept, and the room freed.
    const cancelled = await buyers[3]!.post<Preorder>(`/v1/preorders/${d.preorderId}/cancel`);
    expect(cancelled.status).toBe(200);
    expect(cancelled.body).toMatchObject({ status: 'CANCELLED', forfeitedAmount: 2000, refundedAmount: 0, refunds: [] });
    await runtime.emulator.drain();
    expect(await medium(campaignId)).toMatchObject({ ordered: 5, cancelled: 1, awaitingBalance: 4 });

    // Close: 4 Medium sold, the ¥119 tier. Each balance: (¥119 − ¥10) a unit, less the deposit.
    expect((await anchor.post<{ status: string }>(`/v1/campaigns/${campaignId}/close`)).body.status).toBe('CLOSED');
    const [pa, pb, pc] = await untilDrained(
      runtime,
      () => Promise.all([read(a.preorderId, 0), read(b.preorderId, 1), read(c.preorderId, 2)]),
      (xs) => xs.every((p) => p.balanceDue !== undefined && p.notifications.length === p.timeline.length),
    );
    expect([pa, pb, pc].map((p) => [p.finalUnitPrice, p.balanceDue])).toEqual([
      [10900, 17800],
      [10900, 8900],
      [10900, 8900],
    ]);
    const campaign = await campaignOf(campaignId);
    expect(campaign.balanceDueBy).toEqual(pa.balanceDueBy);
    expect(Date.parse(pa.balanceDueBy!) - Date.now()).toBeGreaterThan(47 * 3600_000);
    // The lower price lowers the balance: nobody who paid a deposit is owed a price-drop refund.
    expect([pa, pb, pc].flatMap((p) => p.refunds)).toEqual([]);
    expect(pa.notifications.at(-1)).toMatchObject({ template: 'preorder.balance_due', locale: 'zh-CN' });
    expect(pa.notifications.at(-1)!.message).toMatch(/尾款¥178\.00/);
    expect(pb.notifications.at(-1)!.message).toMatch(/balance of ¥89\.00.*\(UTC\)/);
    // Nothing is made while nobody has paid.
    expect(await batchesOf(campaignId)).toEqual([]);

    // The platform's list of balances to collect: each called and unpaid pre-order, oldest first, a page at a time.
    const due = async (query: string, as = platform) => as.get<Problem & { items: { preorderId: string; balanceDue: number; paymentRef: string }[]; nextCursor?: string }>(`/v1/payments/balances?${query}`);
    const listed = await due(`campaignId=${campaignId}`);
    expect(listed.status, JSON.stringify(listed.body)).toBe(200);
    expect(listed.body.items).toEqual([
      { preorderId: a.preorderId, campaignId, paymentRef: 'pay_dep_a', quantity: 2, depositAmount: 4000, balanceDue: 17800, balanceDueBy: pa.balanceDueBy, currency: 'CNY' },
      { preorderId: b.preorderId, campaignId, paymentRef: 'pay_dep_b', quantity: 1, depositAmount: 2000, balanceDue: 8900, balanceDueBy: pa.balanceDueBy, currency: 'CNY' },
      { preorderId: c.preorderId, campaignId, paymentRef: 'pay_dep_c', quantity: 1, depositAmount: 2000, balanceDue: 8900, balanceDueBy: pa.balanceDueBy, currency: 'CNY' },
    ]);
    expect(listed.body.nextCursor).toBeUndefined();
    const paged: string[] = [];
    for (let cursor: string | undefined, pages = 0; pages === 0 || cursor !== undefined; pages++) {
      const page = await due(`campaignId=${campaignId}&limit=1${cursor ? `&cursor=${encodeURIComponent(cursor)}` : ''}`);
      expect(page.status).toBe(200);
      paged.push(...page.body.items.map((x) => x.preorderId));
      cursor = page.body.nextCursor;
      expect(pages).toBeLessThan(5);
    }
    expect(paged).toEqual([a.preorderId, b.preorderId, c.preorderId]);
    // Asked wrongly: 400 naming the field; an unknown campaign 404; a buyer or the anchor 403.
    expect((await due('')).body.errors?.map((e) => e.path)).toEqual(['campaignId']);
    expect((await due(`campaignId=${campaignId}&cursor=bm9wZQ`)).body.errors?.map((e) => e.path)).toEqual(['cursor']);
    expect((await due('campaignId=cmp_000000000000000000000000')).status).toBe(404);
    expect((await due(`campaignId=${campaignId}`, buyers[0]!)).status).toBe(403);
    expect((await due(`campaignId=${campaignId}`, anchor)).status).toBe(403);

    // The platform records balances: a foreign reference, a wrong amount, an unknown pre-order, a buyer: refused, nothing written.
    const foreign = await pay(a.preorderId, 'pay_dep_b', 17800);
    expect([foreign.status, foreign.body.errors?.[0]?.path]).toEqual([409, 'paymentRef']);
    const wrong = await pay(a.preorderId, 'pay_dep_a', 17000);
    expect([wrong.status, wrong.body.errors?.[0]?.path]).toEqual([409, 'amount']);
    expect((await pay('po_000000000000000000000000', 'pay_x', 100)).status).toBe(404);
    expect((await buyers[0]!.post('/v1/payments/balances', { preorderId: a.preorderId, paymentRef: 'pay_dep_a', amount: 17800 })).status).toBe(403);
    expect((await read(a.preorderId, 0)).paidAmount).toBe(4000);

    const paidA = await pay(a.preorderId, 'pay_dep_a', 17800);
    expect(paidA.status, JSON.stringify(paidA.body)).toBe(200);
    expect(paidA.body).toMatchObject({ preorderId: a.preorderId, amount: 17800, paidAmount: 21800 });
    // Again: the same answer, nothing twice; again for another amount: refused.
    expect((await pay(a.preorderId, 'pay_dep_a', 17800)).body).toEqual(paidA.body);
    expect((await pay(a.preorderId, 'pay_dep_a', 8900)).status).toBe(409);
    expect((await pay(b.preorderId, 'pay_dep_b', 8900)).status).toBe(200);
    await runtime.emulator.drain();
    // The sale met its minimum at close on its deposits and cannot fail now: who paid is made as lots fill. A's two units
    // are a lot (2) at once; B's one waits for the next lot, or the deadline.
    await untilDrained(runtime, () => medium(campaignId), (m) => m.batched === 2);
    expect(await medium(campaignId)).toMatchObject({ waiting: 1, awaitingBalance: 1, batched: 2 });
    // Paid: off the list.
    expect((await due(`campaignId=${campaignId}`)).body.items.map((x) => x.preorderId)).toEqual([c.preorderId]);
    const told = await read(a.preorderId, 0);
    expect(told).toMatchObject({ paidAmount: 21800, status: 'BATCHED', balancePaidAt: expect.any(String) });
    expect(told.timeline.slice(-2).map((e) => e.template)).toEqual(['preorder.balance_paid', 'preorder.batched']);
    expect((await batchesOf(campaignId)).map((x) => [x.reason, x.lines.map((l) => [l.sku, l.quantity])])).toEqual([['lot', [['SHIRT-M', 2]]]]);

    // Past the deadline: the unpaid one is cancelled, its deposit kept; the paid one still waiting goes in the last batch.
    vi.useFakeTimers({ toFake: ['Date'], shouldAdvanceTime: true });
    vi.setSystemTime(Date.now() + 49 * 3600_000);
    await runtime.emulator.fireSchedule('campaign-sweep');
    const [fa, fb, fc] = await untilDrained(
      runtime,
      () => Promise.all([read(a.preorderId, 0), read(b.preorderId, 1), read(c.preorderId, 2)]),
      (xs) => xs[2]!.status === 'CANCELLED' && xs[0]!.status === 'BATCHED' && xs[1]!.status === 'BATCHED' && xs.every((p) => p.notifications.length === p.timeline.length),
    );
    expect(fc).toMatchObject({ status: 'CANCELLED', forfeitedAmount: 2000, refundedAmount: 0, paidAmount: 2000, refunds: [] });
    expect(fc.timeline.at(-1)).toMatchObject({ status: 'CANCELLED', template: 'preorder.forfeited' });
    expect(fc.notifications.at(-1)!.message).toMatch(/定金¥20\.00不予退还/);
    const batches = await batchesOf(campaignId);
    const byReason = (reason: string) => batches.find((x) => x.reason === reason)!;
    expect(batches.map((x) => [x.reason, x.lines.map((l) => [l.sku, l.quantity])]).sort()).toEqual([
      ['final', [['SHIRT-M', 1]]],
      ['lot', [['SHIRT-M', 2]]],
    ]);
    expect(fa.batchId).toBe(byReason('lot').batchId);
    expect(fb.batchId).toBe(byReason('final').batchId);
    // Too late for the unpaid one now, and nothing is left to collect.
    expect((await due(`campaignId=${campaignId}`)).body.items).toEqual([]);
    const late = await pay(c.preorderId, 'pay_dep_c', 8900);
    expect(late.status).toBe(409);
    expect((await medium(campaignId)).awaitingBalance).toBe(0);
    for (const p of [fa, fb, fc, (await read(d.preorderId, 3))]) conserved(p);
    expectPublishedEventsFitTheirSchemas(runtime.emulator);
  });
});
