import type { Preorder } from '#domain/preorder.ts';

interface ShipmentView {
  carrier: string;
  trackingNumber: string;
  quantity: number;
}
interface NotificationView {
  at: string;
  step: string;
  message: string;
}

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
  ...(p.batchId !== undefined && { batchId: p.batchId }),
  promisedShipBy: p.promisedShipBy,
  // Shipments arrive with the factory API.
  shipments: [] as ShipmentView[],
  refundedAmount: p.refundedAmount,
  timeline: [...p.timeline],
  // The notifier arrives with fulfilment; until then nothing has been sent.
  notifications: [] as NotificationView[],
  createdAt: p.createdAt,
  updatedAt: p.updatedAt,
});

/** The pre-order as it was when first accepted: what a replayed create returns. */
export const acceptedView = (p: Preorder) =>
  preorderView({ ...p, status: 'ACCEPTED', batchId: undefined, refundedAmount: 0, timeline: p.timeline.slice(0, 1), updatedAt: p.createdAt });
