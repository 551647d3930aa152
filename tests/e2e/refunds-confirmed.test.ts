import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { LocalRuntime } from '../../lib/local/runtime.ts';
import { campaignDraft, clientFor, preorderDraft, registerFactories, startTestRuntime, untilDrained } from '../support/runtime.ts';
import { expectPublishedEventsFitTheirSchemas } from '../support/events.ts';

/**
 * Refunds the platform confirms (issue 16), over HTTP against the local
 * runtime with tokens from its OpenID issuer: every refund c2m decides is
 * listed on the pre-order and announced as `refund.requested`; the live
 * platform's payment service (the `platform` principal, client credentials)
 * confirms it once; the buyer is told "refund requested", then "refunded", in
 * their language; the campaign's trust figures count the real wait.
 */
let runtime: LocalRuntime;
let anchor: ReturnType<typeof clientFor>;
let buyer: ReturnType<typeof clientFor>;
let platform: ReturnType<typeof clientFor>;

beforeAll(async () => {
  runtime = await startTestRuntime();
  anchor = clientFor(runtime, 'anchor', 'anchor-refunds');
  buyer = clientFor(runtime, 'buyer', 'buyer-refunds-1');
  platform = clientFor(runtime, 'platform', 'pay-service');
  await registerFactories(runtime, 'factory-1');
});
afterAll(() => runtime?.stop());

type Refund = { refundId: string; amount: number; currency: string; reason: string; status: string; requestedAt: string; confirmedAt?: string };
type Preorder = {
  preorderId: string;
  status: string;
  amount: number;
  refundedAmount: number;
  paidAmount: number;
  finalUnitPrice: number;
  paymentRef?: string;
  refunds: Refund[];
  timeline: { status: string; step?: string; template: string; note: string; params: Record<string, string | number> }[];
  notifications: { template: string; message: string; locale: string }[];
};
type Problem = { status: number; title: string; detail: string; errors?: { path: string; message: string }[] };

const openCampaign = async (overrides: Record<string, unknown> = {}) => {
  const res = await anchor.post<{ campaignId: string }>('/v1/campaigns', campaignDraft(overrides));
  expect(res.status, JSON.stringify(res.body)).toBe(201);
  return res.body.campaignId;
};

const place = async (campaignId: string, overrides: Record<string, unknown> = {}, as = buyer) => {
  const res = await as.post<Preorder>(`/v1/campaigns/${campaignId}/preorders`, preorderDraft(overrides));
  expect(res.status, JSON.stringify(res.body)).toBe(202);
  return res.body;
};

const read = async (id: string, as = buyer) => {
  const res = await as.get<Preorder>(`/v1/preorders/${id}`);
  expect(res.status).toBe(200);
  return res.body;
};

const requested = (refundId: string) =>
  runtime.emulator.events.filter((e) => e.detailType === 'refund.requested' && (e.detail as { refundId: string }).refundId === refundId);

const confirm = (refundId: string, body?: Record<string, unknown>, as = platform) =>
  as.post<Refund & { preorderId: string } & Problem>(`/v1/payments/refunds/${refundId}/confirm`, body);

describe('Refunds the platform confirms', () => {
  it('A cancel is a refund requested of the platform; its confirmation is recorded once, told to the buyer, and counted in trust', async () => {
    const campaignId = await openCampaign();
    const placed = await place(campaignId, { quantity: 2, paymentRef: 'pay_2026_0001', locale: 'en' });
    expect(placed).toMatchObject({ paymentRef: 'pay_2026_0001', paidAmount: placed.amount, refunds: [] });
    const cancelled = await buyer.post<Preorder>(`/v1/preorders/${placed.preorderId}/cancel`);
    expect(cancelled.status).toBe(200);

    // The refund is on the pre-order at once, in the same write as the cancel.
    const [refund] = (await read(placed.preorderId)).refunds;
    expect(refund).toMatchObject({ amount: placed.amount, currency: 'CNY', reason: 'cancelled', status: 'REQUESTED' });
    expect(refund!.refundId).toMatch(/^rf_[0-9a-z]{24}_1$/);

    // And announced to the platform, with its payment reference, once whatever the redeliveries (one eventId).
    await untilDrained(runtime, async () => requested(refund!.refundId), (events) => events.length > 0);
    const announced = requested(refund!.refundId);
    expect(new Set(announced.map((e) => (e.detail as { eventId: string }).eventId)).size).toBe(1);
    expect(announced[0]!.detail).toMatchObject({
      refundId: refund!.refundId,
      preorderId: placed.preorderId,
      campaignId,
      amount: placed.amount,
      currency: 'CNY',
      reason: 'cancelled',
      paymentRef: 'pay_2026_0001',
    });

    // Until it is confirmed, the buyer was told a refund is on its way, not that it was paid.
    const before = await read(placed.preorderId);
    expect(before.timeline.at(-1)).toMatchObject({ template: 'preorder.refunded' });
    expect(before.timeline.at(-1)!.note).toMatch(/refund of ¥\d+\.\d\d is on its way/);
    expect(before.timeline.some((e) => e.template === 'preorder.refund_confirmed')).toBe(false);

    const confirmed = await confirm(refund!.refundId, { amount: placed.amount });
    expect(confirmed.status, JSON.stringify(confirmed.body)).toBe(200);
    expect(confirmed.body).toMatchObject({ refundId: refund!.refundId, preorderId: placed.preorderId, status: 'CONFIRMED', amount: placed.amount });

    const after = await untilDrained(
      runtime,
      () => read(placed.preorderId),
      (p) => p.notifications.some((n) => n.template === 'preorder.refund_confirmed'),
    );
    expect(after.refunds).toEqual([{ ...refund, status: 'CONFIRMED', confirmedAt: confirmed.body.confirmedAt }]);
    expect(after.refundedAmount).toBe(placed.amount);
    expect(after.timeline.at(-1)).toMatchObject({ status: 'REFUNDED', step: 'refund-confirmed', template: 'preorder.refund_confirmed' });
    expect(after.notifications.filter((n) => n.template === 'preorder.refund_confirmed')).toEqual([
      expect.objectContaining({ locale: 'en', message: expect.stringMatching(/^Your refund of ¥\d+\.\d\d has been paid back to you\.$/) }),
    ]);

    // Again, the same amount (or none): the same confirmation, nothing written, nothing told twice.
    const again = await confirm(refund!.refundId, { amount: placed.amount });
    expect(again.status).toBe(200);
    expect(again.body.confirmedAt).toBe(confirmed.body.confirmedAt);
    expect((await confirm(refund!.refundId)).status).toBe(200);
    // Another amount after the confirmation: 409 naming amount, and the record unchanged.
    const other = await confirm(refund!.refundId, { amount: placed.amount + 1 });
    expect(other.status).toBe(409);
    expect(other.body.errors?.map((e) => e.path)).toEqual(['amount']);
    await runtime.emulator.drain();
    const settled = await read(placed.preorderId);
    expect(settled.refunds).toEqual(after.refunds);
    expect(settled.timeline.filter((e) => e.template === 'preorder.refund_confirmed')).toHaveLength(1);
    expect(settled.notifications.filter((n) => n.template === 'preorder.refund_confirmed')).toHaveLength(1);
    expect(runtime.emulator.events.filter((e) => e.detailType === 'refund.confirmed' && (e.detail as { refundId: string }).refundId === refund!.refundId)).toHaveLength(1);

    // The campaign's trust figures now hold the wait from decision to confirmation.
    const trust = await anchor.get<{ refundConfirmation?: { p50Seconds: number; p95Seconds: number; count: number } }>(`/v1/campaigns/${campaignId}/trust`);
    expect(trust.status).toBe(200);
    // A histogram of powers of two: the wait (well under a minute here) is known to within its bucket.
    expect(trust.body.refundConfirmation).toMatchObject({ count: 1 });
    expect(trust.body.refundConfirmation!.p50Seconds).toBeGreaterThanOrEqual(1);
    expect(trust.body.refundConfirmation!.p95Seconds).toBeLessThanOrEqual(64);
    expectPublishedEventsFitTheirSchemas(runtime.emulator);
  });

  it('A failed campaign refunds everyone: each refund is listed, announced and confirmed on its own, told in the buyer’s language', async () => {
    const campaignId = await openCampaign({ minTotalQuantity: 50 });
    const other = clientFor(runtime, 'buyer', 'buyer-refunds-2');
    const zh = await place(campaignId, { quantity: 1 });
    const en = await place(campaignId, { quantity: 3, locale: 'en' }, other);
    expect((await anchor.post<{ status: string }>(`/v1/campaigns/${campaignId}/close`)).body.status).toBe('FAILED');
    const [a, b] = await untilDrained(
      runtime,
      () => Promise.all([read(zh.preorderId), read(en.preorderId, other)]),
      (ps) => ps.every((p) => p.refunds.length === 1),
    );
    expect(a!.refunds[0]).toMatchObject({ amount: zh.amount, reason: 'campaign-failed', status: 'REQUESTED' });
    expect(b!.refunds[0]).toMatchObject({ amount: en.amount, reason: 'campaign-failed', status: 'REQUESTED' });
    expect(a!.timeline.at(-1)!.note).toMatch(/已为您申请全额退款¥\d+\.\d\d/);
    await untilDrained(runtime, async () => [...requested(a!.refunds[0]!.refundId), ...requested(b!.refunds[0]!.refundId)], (e) => e.length >= 2);

    // Confirming one leaves the other requested.
    expect((await confirm(a!.refunds[0]!.refundId)).status).toBe(200);
    const told = await untilDrained(runtime, () => read(zh.preorderId), (p) => p.notifications.some((n) => n.template === 'preorder.refund_confirmed'));
    expect(told.notifications.find((n) => n.template === 'preorder.refund_confirmed')).toMatchObject({ locale: 'zh-CN', message: expect.stringMatching(/^退款¥\d+\.\d\d已退还给您。$/) });
    expect((await read(en.preorderId, other)).refunds[0]!.status).toBe('REQUESTED');
  });

  it('Only the platform confirms, only a refund that exists, only for its amount; a mistake writes nothing', async () => {
    const campaignId = await openCampaign();
    const placed = await place(campaignId, { quantity: 1 });
    await buyer.post(`/v1/preorders/${placed.preorderId}/cancel`);
    const refundId = (await read(placed.preorderId)).refunds[0]!.refundId;

    // A buyer (even the one refunded), an anchor, a factory: 403.
    for (const who of [buyer, anchor, clientFor(runtime, 'operator', 'op-refunds')]) {
      expect((await confirm(refundId, undefined, who)).status).toBe(403);
    }
    // Not a refund id: 400 naming it; a well-formed one that names no refund: 404 (also for a real pre-order's second refund).
    const malformed = await confirm('po_123');
    expect(malformed.status).toBe(400);
    expect(JSON.stringify(malformed.body)).toContain('refundId');
    expect((await confirm(refundId.replace(/_1$/, '_2'))).status).toBe(404);
    expect((await confirm(`rf_${'0'.repeat(24)}_1`)).status).toBe(404);
    // A body that is not the contract's: 400 naming the field.
    const badBody = await confirm(refundId, { amount: 'all of it' });
    expect(badBody.status).toBe(400);
    expect(badBody.body.errors?.map((e) => e.path)).toEqual(['amount']);
    const unknownField = await confirm(refundId, { amount: placed.amount, note: 'x' });
    expect(unknownField.status).toBe(400);
    // The first confirmation for another amount: 409 naming amount.
    const wrong = await confirm(refundId, { amount: placed.amount - 1 });
    expect(wrong.status).toBe(409);
    expect(wrong.body.errors?.map((e) => e.path)).toEqual(['amount']);

    // None of it wrote anything: still requested, nothing told.
    const p = await read(placed.preorderId);
    expect(p.refunds[0]!.status).toBe('REQUESTED');
    expect(p.timeline.some((e) => e.template === 'preorder.refund_confirmed')).toBe(false);
  });

  it('The platform lists the refunds it still owes, oldest first, a page at a time; a confirmed one leaves the list', async () => {
    type Owed = { refundId: string; preorderId: string; campaignId: string; amount: number; currency: string; reason: string; requestedAt: string; paymentRef?: string };
    const owed = async (limit = 2) => {
      const all: Owed[] = [];
      let cursor: string | undefined;
      for (let page = 0; page < 100; page++) {
        const r = await platform.get<{ items: Owed[]; nextCursor?: string }>(`/v1/payments/refunds?status=REQUESTED&limit=${limit}${cursor ? `&cursor=${encodeURIComponent(cursor)}` : ''}`);
        expect(r.status, JSON.stringify(r.body)).toBe(200);
        all.push(...r.body.items);
        cursor = r.body.nextCursor;
        if (!cursor) return all;
      }
      throw new Error('the list never ended');
    };
    const campaignId = await openCampaign();
    const placed = await Promise.all([1, 2, 3].map((q) => place(campaignId, { quantity: q, paymentRef: `pay_list_${q}` })));
    for (const p of placed) expect((await buyer.post(`/v1/preorders/${p.preorderId}/cancel`)).status).toBe(200);
    const refunds = await Promise.all(placed.map(async (p) => (await read(p.preorderId)).refunds[0]!));
    await untilDrained(runtime, owed, (list) => refunds.every((r) => list.some((o) => o.refundId === r.refundId)));

    const listed = (await owed(2)).filter((o) => o.campaignId === campaignId);
    expect(listed.map((o) => o.refundId)).toEqual([...refunds].sort((a, b) => a.requestedAt.localeCompare(b.requestedAt) || a.refundId.localeCompare(b.refundId)).map((r) => r.refundId));
    expect(listed.find((o) => o.refundId === refunds[1]!.refundId)).toEqual({
      refundId: refunds[1]!.refundId,
      preorderId: placed[1]!.preorderId,
      campaignId,
      amount: placed[1]!.amount,
      currency: 'CNY',
      reason: 'cancelled',
      requestedAt: refunds[1]!.requestedAt,
      paymentRef: 'pay_list_2',
    });
    // Oldest first across every page, and every refund once.
    const everything = await owed(1);
    expect(everything.map((o) => o.requestedAt)).toEqual([...everything.map((o) => o.requestedAt)].sort());
    expect(new Set(everything.map((o) => o.refundId)).size).toBe(everything.length);

    expect((await confirm(refunds[1]!.refundId)).status).toBe(200);
    expect((await owed()).map((o) => o.refundId)).not.toContain(refunds[1]!.refundId);
    expect((await owed()).map((o) => o.refundId)).toEqual(expect.arrayContaining([refunds[0]!.refundId, refunds[2]!.refundId]));

    // Only the platform; only the one list; only cursors it gave out.
    expect((await buyer.get('/v1/payments/refunds?status=REQUESTED')).status).toBe(403);
    const noStatus = await platform.get<Problem>('/v1/payments/refunds');
    expect(noStatus.status).toBe(400);
    expect(noStatus.body.errors?.map((e) => e.path)).toEqual(['status']);
    const forged = await platform.get<Problem>('/v1/payments/refunds?status=REQUESTED&cursor=eyJhZnRlciI6MX0');
    expect(forged.status).toBe(400);
    expect(forged.body.errors?.map((e) => e.path)).toEqual(['cursor']);
  });

  it('Two confirmations at once record one', async () => {
    const campaignId = await openCampaign();
    const placed = await place(campaignId, { quantity: 1 });
    await buyer.post(`/v1/preorders/${placed.preorderId}/cancel`);
    const refundId = (await read(placed.preorderId)).refunds[0]!.refundId;
    const answers = await Promise.all(Array.from({ length: 6 }, () => confirm(refundId)));
    expect(answers.map((a) => a.status)).toEqual(Array(6).fill(200));
    expect(new Set(answers.map((a) => a.body.confirmedAt)).size).toBe(1);
    const p = await read(placed.preorderId);
    expect(p.timeline.filter((e) => e.template === 'preorder.refund_confirmed')).toHaveLength(1);
    expect(p.refunds).toHaveLength(1);
  });
});
