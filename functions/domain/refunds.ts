import type { NoticeTemplate } from './notices.ts';
import type { Preorder, TimelineEntry } from './preorder.ts';

/**
 * Refunds as the buyer and the platform see them (issue 16, decision 36). c2m
 * moves no money: it decides what a buyer is owed back, the live platform's
 * payment service pays it, and c2m records what the platform confirms.
 *
 * A refund is not an item of its own. Every refund c2m decides is already a
 * timeline entry of its pre-order, written in the decision's own write (the
 * cancel, the failed campaign, the short batch, the ceiling, the factory that
 * declined, the variant that missed its minimum), with the amount in its
 * params. The refund is that entry: its id is the pre-order's and its place
 * among the pre-order's refund entries (the timeline only grows), so no
 * decision site writes anything more, and a decision cannot exist without its
 * refund or the other way round. What the platform confirms is recorded on the
 * pre-order too, once per refund (`refundConfirmations`).
 */
export const refundReasons = [
  'cancelled',
  'cancelled-after-delay',
  'campaign-failed',
  'factory-declined',
  'batch-closed-short',
  'ceiling',
  'variant-missed',
  'price-drop',
] as const;
export type RefundReason = (typeof refundReasons)[number];

/** The timeline templates that decide a refund, and why. Each carries `amount` and `currency` in its params. */
export const refundTemplates: Readonly<Partial<Record<NoticeTemplate, RefundReason>>> = {
  'preorder.refunded': 'cancelled',
  'preorder.refunded_after_delay': 'cancelled-after-delay',
  'preorder.refunded_campaign_failed': 'campaign-failed',
  'preorder.partly_refunded_campaign_failed': 'campaign-failed',
  'preorder.refunded_factory_declined': 'factory-declined',
  'preorder.refunded_closed_short': 'batch-closed-short',
  'preorder.partly_refunded_closed_short': 'batch-closed-short',
  'preorder.refunded_at_ceiling': 'ceiling',
  'preorder.refunded_variant_missed': 'variant-missed',
  'preorder.price_dropped': 'price-drop',
};

export type RefundStatus = 'REQUESTED' | 'CONFIRMED';

export interface Refund {
  readonly refundId: string;
  /** Minor units of `currency`. */
  readonly amount: number;
  readonly currency: string;
  readonly reason: RefundReason;
  readonly status: RefundStatus;
  /** When c2m decided it (its timeline entry). */
  readonly requestedAt: string;
  readonly confirmedAt?: string;
}

/** The platform's confirmation of one refund, as stored on the pre-order. */
export interface RefundConfirmation {
  readonly refundId: string;
  readonly confirmedAt: string;
}

const preorderIdPattern = /^po_([0-9a-z]{24})$/;
const refundIdPattern = /^rf_([0-9a-z]{24})_([1-9][0-9]{0,2})$/;

/** `rf_<the pre-order id's 24 characters>_<n>`: the n-th refund decided for that pre-order (1, 2, …). */
export const refundIdOf = (preorderId: string, n: number): string => {
  const m = preorderIdPattern.exec(preorderId);
  if (!m) throw new Error(`not a pre-order id: ${preorderId}`);
  return `rf_${m[1]}_${n}`;
};

/** The pre-order a refund id belongs to, and which of its refunds it is; undefined for a string that is no refund id. */
export const parseRefundId = (refundId: string): { preorderId: string; n: number } | undefined => {
  const m = refundIdPattern.exec(refundId);
  return m ? { preorderId: `po_${m[1]}`, n: Number(m[2]) } : undefined;
};

const refundOfEntry = (e: TimelineEntry): { reason: RefundReason; amount: number; currency: string } | undefined => {
  const reason = e.template === undefined ? undefined : refundTemplates[e.template];
  if (reason === undefined) return undefined;
  const amount = e.params?.amount;
  const currency = e.params?.currency;
  // A refund entry always has both (the templates' types say so); one without cannot be paid and is not listed.
  if (typeof amount !== 'number' || typeof currency !== 'string') return undefined;
  return { reason, amount, currency };
};

/** Every refund decided for the pre-order, oldest first, with what the platform confirmed. */
export const refundsOf = (p: Pick<Preorder, 'preorderId' | 'timeline' | 'refundConfirmations'>): Refund[] => {
  const confirmed = new Map((p.refundConfirmations ?? []).map((c) => [c.refundId, c.confirmedAt]));
  const refunds: Refund[] = [];
  for (const entry of p.timeline) {
    const r = refundOfEntry(entry);
    if (!r) continue;
    const refundId = refundIdOf(p.preorderId, refunds.length + 1);
    const confirmedAt = confirmed.get(refundId);
    refunds.push({
      refundId,
      ...r,
      status: confirmedAt === undefined ? 'REQUESTED' : 'CONFIRMED',
      requestedAt: entry.at,
      ...(confirmedAt !== undefined && { confirmedAt }),
    });
  }
  return refunds;
};
