import type { Campaign } from './campaign.ts';

/** Pre-order rules: pure, no I/O. */
export type PreorderStatus =
  | 'ACCEPTED'
  | 'BATCHED'
  | 'IN_PRODUCTION'
  | 'SHIPPED'
  | 'DELIVERED'
  | 'CANCELLED'
  | 'REFUNDED';

export interface ShippingAddress {
  readonly name: string;
  readonly phone: string;
  readonly line1: string;
  readonly line2?: string;
  readonly city: string;
  readonly region: string;
  readonly postalCode: string;
  readonly country: string;
}

/** The languages a buyer is told things in. */
export const locales = ['zh-CN', 'en'] as const;
export type Locale = (typeof locales)[number];

/** A buyer who names no locale hears Chinese in a CNY campaign and English otherwise. */
export const defaultLocale = (currency: string): Locale => (currency === 'CNY' ? 'zh-CN' : 'en');

export interface TimelineEntry {
  readonly at: string;
  readonly status: PreorderStatus;
  readonly note: string;
  /** A step that is not a change of status: a delay notice, part of the order shipped or refunded. */
  readonly step?: 'delayed' | 'partly-shipped' | 'partly-refunded' | 'partly-delivered';
}

/** A lot of this pre-order's units, as the buyer sees it. */
export interface PreorderShipment {
  readonly shipmentId: string;
  readonly carrier: string;
  readonly trackingNumber: string;
  readonly quantity: number;
  readonly shippedAt: string;
  readonly deliveredAt?: string;
}

/** A step the buyer was sent through the notification channel (one per timeline entry). */
export interface SentNotification {
  readonly notificationId: string;
  readonly at: string;
  readonly step: string;
  readonly message: string;
  readonly sentAt: string;
}

/**
 * A flush's claim on a pre-order's unsent steps: it alone sends them until it
 * records them (which clears the claim) or the claim expires.
 */
export interface NotificationLease {
  readonly leaseId: string;
  /** Epoch milliseconds; once past, another flush may claim (and resend) the same steps. */
  readonly expiresAt: number;
}

/** Units of a pre-order taken from one gate item; cancelling gives them back there. */
export interface GateTake {
  readonly shard: number;
  readonly units: number;
}

export interface Preorder {
  readonly preorderId: string;
  readonly campaignId: string;
  readonly buyerId: string;
  readonly sku: string;
  readonly quantity: number;
  readonly unitPrice: number;
  readonly currency: string;
  readonly amount: number;
  readonly shippingAddress: ShippingAddress;
  /** The language of this buyer's notices. */
  readonly locale: Locale;
  readonly status: PreorderStatus;
  /** The production batch, once the pre-order is in one. */
  readonly batchId?: string;
  readonly promisedShipBy: string;
  readonly refundedAmount: number;
  readonly timeline: readonly TimelineEntry[];
  readonly gateTakes: readonly GateTake[];
  readonly createdAt: string;
  readonly updatedAt: string;
  /** Fulfillment, once units ship (absent until then). */
  readonly shipments?: readonly PreorderShipment[];
  readonly shippedQuantity?: number;
  readonly deliveredQuantity?: number;
  /** Units refunded because they will never ship (a batch closed short). */
  readonly refundedUnits?: number;
  /** The ship date promised at order time; `promisedShipBy` moves with delay notices. */
  readonly firstPromisedShipBy?: string;
  /** Set by a delay notice: the buyer may now cancel for a full refund until units ship. */
  readonly delayedTo?: string;
  readonly notifications?: readonly SentNotification[];
  /** How many notifications are recorded (the length of `notifications`), the guard of every notification write. */
  readonly notifiedCount?: number;
  readonly notifyLease?: NotificationLease;
  /** Owed for shipping after the original promise (late compensation), recorded once. */
  readonly compensatedAmount?: number;
}

/** The step a timeline entry tells the buyer about. */
export const stepOf = (e: TimelineEntry): string => e.step ?? e.status;

const dayMs = 24 * 3600 * 1000;

/**
 * The date promised at order time: the campaign's closing date plus its promised
 * production days (a pre-order cannot ship before the campaign's demand is known).
 */
export const promisedShipBy = (c: Pick<Campaign, 'closesAt' | 'promisedShipDays'>): string =>
  new Date(Date.parse(c.closesAt) + c.promisedShipDays * dayMs).toISOString();

export const newPreorder = (input: {
  preorderId: string;
  campaign: Pick<Campaign, 'campaignId' | 'currency' | 'closesAt' | 'promisedShipDays'>;
  buyerId: string;
  sku: string;
  unitPrice: number;
  quantity: number;
  shippingAddress: ShippingAddress;
  locale?: Locale;
  gateTakes: readonly GateTake[];
  now: Date;
}): Preorder => {
  const at = input.now.toISOString();
  return {
    preorderId: input.preorderId,
    campaignId: input.campaign.campaignId,
    buyerId: input.buyerId,
    sku: input.sku,
    quantity: input.quantity,
    unitPrice: input.unitPrice,
    currency: input.campaign.currency,
    amount: input.unitPrice * input.quantity,
    shippingAddress: input.shippingAddress,
    locale: input.locale ?? defaultLocale(input.campaign.currency),
    status: 'ACCEPTED',
    promisedShipBy: promisedShipBy(input.campaign),
    refundedAmount: 0,
    timeline: [{ at, status: 'ACCEPTED', note: 'Pre-order accepted; it will be produced once the campaign batches it' }],
    gateTakes: input.gateTakes,
    createdAt: at,
    updatedAt: at,
  };
};

/**
 * Before batching a buyer may cancel for a full refund; a batched pre-order is
 * being produced, unless the buyer was told of a delay and none of their units
 * has shipped yet (the batch then makes fewer; checked against it too).
 */
export const isCancellable = (p: Pick<Preorder, 'status' | 'delayedTo' | 'shippedQuantity'>): boolean =>
  p.status === 'ACCEPTED' ||
  ((p.status === 'BATCHED' || p.status === 'IN_PRODUCTION') && p.delayedTo !== undefined && (p.shippedQuantity ?? 0) === 0);

export const cancellationEntry = (now: Date, amount: number, currency: string): TimelineEntry => ({
  at: now.toISOString(),
  status: 'REFUNDED',
  note: `Cancelled by the buyer before production; ${amount} ${currency} (minor units) refunded in full`,
});
