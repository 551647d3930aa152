import { eventOf } from '#adapters/event-bus.ts';
import { publishCommitted } from '#adapters/outbox.ts';
import { getPreorder, getPreorders, recordRefundConfirmation } from '#adapters/preorder-store.ts';
import { tallyRefundConfirmation } from '#adapters/trust-store.ts';
import { deleteRefundOwed, listRefundsOwed, refundOwedDelete, type RefundOwed } from '#adapters/refund-store.ts';
import { InvalidInputError, OverloadedError, RefundAmountMismatchError, RefundNotFoundError } from '#domain/errors.ts';
import { noticeEntry } from '#domain/notices.ts';
import { localeOf } from '#domain/preorder.ts';
import { parseRefundId, refundsOf, type Refund } from '#domain/refunds.ts';
import { log } from '#shared/observability.ts';
import type { Principal } from '#shared/principal.ts';
import { flushNotifications } from '../notifications/flush.ts';

export type ConfirmedRefund = Refund & { readonly preorderId: string };

/**
 * The platform paid a refund back. Recorded once: the refund becomes
 * CONFIRMED, the buyer's timeline says "refunded" (told at once, and by the
 * notifier on `refund.confirmed` should this flush not finish), and the
 * campaign's trust figures count the wait from decision to confirmation.
 *
 * Again for the same amount: the confirmation as recorded, 200, nothing
 * written. For another amount, first or again: 409 naming `amount`, nothing
 * written: c2m never records a refund paid for more or less than it decided.
 */
export const confirmRefund = async (platform: Principal, refundId: string, amount: number | undefined): Promise<ConfirmedRefund> => {
  const ref = parseRefundId(refundId);
  if (!ref) throw new RefundNotFoundError(refundId);
  for (let round = 0; round < 8; round++) {
    const p = await getPreorder(ref.preorderId, true);
    const refund = p && refundsOf(p).find((r) => r.refundId === refundId);
    if (!p || !refund) throw new RefundNotFoundError(refundId);
    if (amount !== undefined && amount !== refund.amount) {
      throw new RefundAmountMismatchError(refundId, refund.amount, amount, refund.status === 'CONFIRMED');
    }
    if (refund.status === 'CONFIRMED') return { ...refund, preorderId: p.preorderId };

    const now = new Date();
    const confirmedAt = now.toISOString();
    const entry = noticeEntry({ at: confirmedAt, status: p.status, step: 'refund-confirmed' }, 'preorder.refund_confirmed', { amount: refund.amount, currency: refund.currency }, localeOf(p));
    const event = eventOf(
      'refund.confirmed',
      { campaignId: p.campaignId, preorderId: p.preorderId, occurredAt: confirmedAt, refundId, amount: refund.amount, currency: refund.currency, requestedAt: refund.requestedAt },
      refundId,
    );
    // 'stale': another confirmation won the race (the next read answers as for a repeat), or the pre-order moved on.
    if ((await recordRefundConfirmation(p, { refundId, confirmedAt }, entry, [event], [refundOwedDelete(refund)])) === 'stale') continue;

    log().info('refund confirmed by the platform', { refundId, preorderId: p.preorderId, campaignId: p.campaignId, amount: refund.amount, platform: platform.id });
    await publishCommitted([event]);
    try {
      await tallyRefundConfirmation({ campaignId: p.campaignId, preorderId: p.preorderId, seconds: (now.getTime() - Date.parse(refund.requestedAt)) / 1000 });
    } catch (err) {
      // A lost sample must not turn a recorded confirmation into an error the platform would retry.
      log().warn('refund confirmation not tallied', { refundId, error: err as Error });
    }
    try {
      await flushNotifications([p.preorderId]);
    } catch (err) {
      // Recorded is recorded: the notifier tells it on refund.confirmed (outbox), and a retry would only read it back.
      log().warn('refund confirmation not told yet; the notifier will', { refundId, error: err as Error });
    }
    return { ...refund, status: 'CONFIRMED', confirmedAt, preorderId: p.preorderId };
  }
  // The pre-order moved under every try (a burst of its lots): the platform tries again later.
  throw new OverloadedError();
};

/**
 * The refunds the platform still owes, oldest first: what it reconciles against, whatever
 * became of the `refund.requested` events. Each listed refund is checked against its
 * pre-order (one BatchGetItem a page): one confirmed meanwhile is left out, and its stale
 * marker deleted.
 */
export const listOwedRefunds = async (limit: number, cursor: string | undefined) => {
  const page = await listRefundsOwed({ limit, cursor });
  if (page === 'invalid-cursor') throw new InvalidInputError('The cursor is not one this API gave out', [{ path: 'cursor', message: 'invalid cursor' }]);
  const preorders = new Map((await getPreorders([...new Set(page.items.map((r) => r.preorderId))])).map((p) => [p.preorderId, p]));
  const stillOwed = (r: RefundOwed) => {
    const p = preorders.get(r.preorderId);
    return p !== undefined && refundsOf(p).some((x) => x.refundId === r.refundId && x.status === 'REQUESTED');
  };
  const stale = page.items.filter((r) => !stillOwed(r));
  await Promise.all(stale.map(deleteRefundOwed));
  return { items: page.items.filter(stillOwed), ...(page.nextCursor && { nextCursor: page.nextCursor }) };
};
