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
  /** Deposit campaigns: units whose balance is not paid yet (counted in ordered, not in line). */
  awaitingBalance?: number;
  signals: Record<SignalType, number>;
  forecastFinal: number;
}

export interface Demand {
  campaignId: string;
  variants: VariantDemand[];
  totals: { ordered: number; cancelled: number; batched: number; waiting: number; awaitingBalance?: number; forecastFinal: number };
  remaining?: number;
}

export interface LateCompensation {
  percent: number;
  minAmount: number;
  maxAmount: number;
}

export interface PriceTier {
  minUnits: number;
  unitPrice: number;
}

/** A deposit campaign's terms (定金/尾款): minor units a unit, the balance window in hours. */
export interface DepositTerms {
  mode: 'deposit';
  deposit: number;
  balanceWindowHours: number;
  depositDiscount?: number;
}

export interface Campaign {
  campaignId: string;
  status: string;
  currency: string;
  variants: { sku: string; name: string; unitPrice: number; minQuantity?: number; priceTiers?: PriceTier[] }[];
  closesAt: string;
  maxTotalQuantity?: number;
  promisedShipDays: number;
  maxPerBuyer?: number;
  maxDelayDays: number;
  lateCompensation?: LateCompensation;
  switchWindowHours: number;
  payment?: DepositTerms | { mode: 'full' };
  /** Deposit campaigns, once the balances were called: the deadline for every balance. */
  balanceDueBy?: string;
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
  currency: string;
  amount: number;
  batchId?: string;
  promisedShipBy: string;
  /** The date promised at order time: the ceiling and late compensation count from it. */
  originalPromisedShipBy: string;
  /** Its variant missed its own minimum: it may switch until then. */
  switchBy?: string;
  /** The sku first ordered, once switched. */
  switchedFrom?: string;
  /** Owed for a shipment after the original promise (minor units; the platform pays). */
  compensatedAmount: number;
  delayedTo?: string;
  shipments: { shipmentId: string; quantity: number; shippedAt: string; deliveredAt?: string }[];
  shippedQuantity: number;
  deliveredQuantity: number;
  refundedAmount: number;
  /** What the buyer paid for it, and what a unit finally costs them (minor units). */
  paidAmount: number;
  finalUnitPrice: number;
  /** Deposit campaigns: the deposit paid when ordered; the balance asked once the sale closed, its deadline, when it was paid. */
  depositAmount?: number;
  balanceDue?: number;
  balanceDueBy?: string;
  balancePaidAt?: string;
  /** The deposit kept: the buyer cancelled before paying the balance, or left it unpaid past balanceDueBy. */
  forfeitedAmount?: number;
  /** Every refund c2m decided, and whether the platform confirmed paying it. */
  refunds: { refundId: string; amount: number; reason: string; status: 'REQUESTED' | 'CONFIRMED'; requestedAt: string; confirmedAt?: string }[];
  timeline: { at: string; status: string; note: string; template: string; step?: string }[];
  notifications: { notificationId: string; step: string; template: string; message: string }[];
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
  /** Units c2m refunded by itself because they had not shipped by the original promise plus maxDelayDays. */
  unitsRefundedAtCeiling: number;
  /** Pre-orders compensated for a late shipment, and what they are owed per currency (minor units). */
  compensation: { count: number; amounts: { currency: string; amount: number }[] };
  /** From a refund's decision to its event on the bus, in seconds (to the next power of two). */
  refundLatency?: { p50Seconds: number; p95Seconds: number; count: number };
  /** From a refund's decision to the platform's confirmation that it paid, in seconds (to the next power of two). */
  refundConfirmation?: { p50Seconds: number; p95Seconds: number; count: number };
}

export const finalStatuses = new Set(['DELIVERED', 'REFUNDED']);

/** The problem `title` of a pre-order past the campaign's `maxPerBuyer` (a 409). */
export const limitTitle = 'Purchase limit reached';

/** Money as a buyer reads it: ¥25.80 for 2580 CNY minor units. */
export const money = (amount: number, currency = 'CNY'): string => {
  const symbol: Record<string, string> = { CNY: '¥', USD: '$', EUR: '€' };
  const major = (amount / 100).toLocaleString('en-US', { minimumFractionDigits: 2, maximumFractionDigits: 2 });
  return symbol[currency] !== undefined ? `${symbol[currency]}${major}` : `${major} ${currency}`;
};

/** What a late pre-order is owed under the campaign's terms: percent of its amount, rounded, within the bounds. */
export const compensationFor = (terms: LateCompensation, amount: number): number =>
  Math.min(terms.maxAmount, Math.max(terms.minAmount, Math.round((amount * terms.percent) / 100)));

/** Units of a pre-order that were refunded: all of it once REFUNDED, else what its refunded amount pays for. */
export const refundedUnits = (p: Preorder): number =>
  p.status === 'REFUNDED' ? p.quantity : Math.round(p.refundedAmount / (p.unitPrice || p.amount / p.quantity));

/**
 * The unit price a variant's units sold (ordered less cancelled) reach under its tiers: the
 * lowest tier price whose minUnits they reach, else the list price. The demo's own reading of the
 * campaign's terms, which the checks hold the balances the API asked against.
 */
export const tierPriceReached = (v: { readonly unitPrice: number; readonly priceTiers?: readonly PriceTier[] }, sold: number): number =>
  Math.min(v.unitPrice, ...(v.priceTiers ?? []).filter((t) => sold >= t.minUnits).map((t) => t.unitPrice));
