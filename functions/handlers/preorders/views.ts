import { priceNow } from '#domain/pricing.ts';
import { defaultLocale, localeOf, type Preorder, type SentNotification } from '#domain/preorder.ts';
import { genericNotice, noticeOfEntry } from '#domain/notices.ts';
import { refundsOf } from '#domain/refunds.ts';
import { paidOf } from '#domain/payment.ts';

/** A notification as sent; one recorded before templates is shown as the generic update of its step (its text may name ids). */
const notificationView = (n: SentNotification, p: Preorder) => {
  const notice =
    n.template !== undefined
      ? { template: n.template, params: n.params ?? {}, locale: n.locale ?? localeOf(p), message: n.message }
      : genericNotice(n.step, localeOf(p));
  return { notificationId: n.notificationId, at: n.at, step: n.step, ...notice, sentAt: n.sentAt };
};

export const preorderView = (p: Preorder) => ({
  preorderId: p.preorderId,
  campaignId: p.campaignId,
  status: p.status,
  sku: p.sku,
  quantity: p.quantity,
  unitPrice: p.unitPrice,
  currency: p.currency,
  amount: p.amount,
  shippingAddress: p.shippingAddress,
  locale: p.locale ?? defaultLocale(p.currency),
  ...(p.paymentRef !== undefined && { paymentRef: p.paymentRef }),
  ...(p.source !== undefined && { source: p.source }),
  ...(p.batchId !== undefined && { batchId: p.batchId }),
  promisedShipBy: p.promisedShipBy,
  ...(p.firstPromisedShipBy !== undefined && p.firstPromisedShipBy !== p.promisedShipBy && { firstPromisedShipBy: p.firstPromisedShipBy }),
  originalPromisedShipBy: p.firstPromisedShipBy ?? p.promisedShipBy,
  ...(p.switchBy !== undefined && p.status === 'ACCEPTED' && { switchBy: p.switchBy }),
  ...(p.switchedFrom !== undefined && { switchedFrom: p.switchedFrom }),
  compensatedAmount: p.compensatedAmount ?? 0,
  ...(p.delayedTo !== undefined && { delayedTo: p.delayedTo }),
  shipments: (p.shipments ?? []).map((s) => ({
    shipmentId: s.shipmentId,
    carrier: s.carrier,
    trackingNumber: s.trackingNumber,
    quantity: s.quantity,
    shippedAt: s.shippedAt,
    ...(s.deliveredAt !== undefined && { deliveredAt: s.deliveredAt }),
  })),
  shippedQuantity: p.shippedQuantity ?? 0,
  deliveredQuantity: p.deliveredQuantity ?? 0,
  refundedAmount: p.refundedAmount,
  paidAmount: paidOf(p),
  ...(p.depositAmount !== undefined && { depositAmount: p.depositAmount }),
  ...(p.balanceDue !== undefined && { balanceDue: p.balanceDue }),
  ...(p.balanceDueBy !== undefined && { balanceDueBy: p.balanceDueBy }),
  ...(p.balancePaidAt !== undefined && { balancePaidAt: p.balancePaidAt }),
  ...(p.forfeitedAmount !== undefined && { forfeitedAmount: p.forfeitedAmount }),
  finalUnitPrice: priceNow(p),
  refunds: refundsOf(p),
  timeline: p.timeline.map((e) => {
    const { template, params, message } = noticeOfEntry(e, localeOf(p));
    return { at: e.at, status: e.status, note: message, template, params, ...(e.step !== undefined && { step: e.step }) };
  }),
  notifications: (p.notifications ?? []).map((n) => notificationView(n, p)),
  createdAt: p.createdAt,
  updatedAt: p.updatedAt,
});

/** The pre-order as it was when first accepted: what a replayed create returns. */
export const acceptedView = (p: Preorder) =>
  preorderView({
    ...p,
    status: 'ACCEPTED',
    batchId: undefined,
    refundedAmount: 0,
    timeline: p.timeline.slice(0, 1),
    updatedAt: p.createdAt,
    shipments: [],
    shippedQuantity: undefined,
    deliveredQuantity: undefined,
    delayedTo: undefined,
    firstPromisedShipBy: undefined,
    notifications: [],
    refundConfirmations: undefined,
    finalUnitPrice: undefined,
    paidAmount: p.depositAmount,
    balanceDue: undefined,
    balanceDueBy: undefined,
    balancePaidAt: undefined,
    forfeitedAmount: undefined,
  });
