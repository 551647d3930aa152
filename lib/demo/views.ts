/**
 * The parts of the API's answers the demo reads, as an outside client sees
 * them (docs: ../shared/api.md, GET /v1/openapi.json). Written out here rather
 * than imported from functions/contracts on purpose: the demo is a client of
 * the HTTP contract, and should break loudly if the contract moves under it.
 */
export type SignalType = 'view' | 'like' | 'cart' | 'want' | 'share';
export const signalTypes: readonly SignalType[] = ['view', 'like', 'cart', 'want', 'share'];

export interface VariantDemand {
  sku: string;
  ordered: number;
  cancelled: number;
  batched: number;
  waiting: number;
  signals: Record<SignalType, number>;
  forecastFinal: number;
}

export interface Demand {
  campaignId: string;
  variants: VariantDemand[];
  totals: { ordered: number; cancelled: number; batched: number; waiting: number; forecastFinal: number };
  remaining?: number;
}

export interface Campaign {
  campaignId: string;
  status: string;
  maxTotalQuantity?: number;
  promisedShipDays: number;
}

export interface BatchLine {
  sku: string;
  quantity: number;
  produced?: number;
  qcPassed?: number;
  qcFailed?: number;
  shipped: number;
}

export interface Batch {
  batchId: string;
  campaignId: string;
  factoryId: string;
  status: string;
  reason: string;
  lines: BatchLine[];
  units: number;
  preorderCount: number;
  releasedAt: string;
  committedShipDate?: string;
  produced: number;
  qcPassed: number;
  qcFailed: number;
  shipped: number;
}

export interface ManifestEntry {
  preorderId: string;
  sku: string;
  quantity: number;
  status: string;
}

export interface Shipment {
  shipmentId: string;
  batchId: string;
  units: number;
  status: string;
}

export interface Preorder {
  preorderId: string;
  campaignId: string;
  status: string;
  sku: string;
  quantity: number;
  unitPrice: number;
  amount: number;
  batchId?: string;
  promisedShipBy: string;
  delayedTo?: string;
  shippedQuantity: number;
  deliveredQuantity: number;
  refundedAmount: number;
  timeline: { at: string; status: string; note: string; step?: string }[];
  notifications: { notificationId: string; step: string; message: string }[];
}

export interface Trust {
  onTimeShipRate?: number;
  qcPassRate?: number;
  refundRate?: number;
  medianDaysToDelivery?: number;
  preordersShipped: number;
  preordersDelivered: number;
  unitsQcChecked: number;
  unitsRefunded: number;
}

export const finalStatuses = new Set(['DELIVERED', 'REFUNDED']);

/** Units of a pre-order that were refunded: all of it once REFUNDED, else what its refunded amount pays for. */
export const refundedUnits = (p: Preorder): number =>
  p.status === 'REFUNDED' ? p.quantity : Math.round(p.refundedAmount / (p.unitPrice || p.amount / p.quantity));
