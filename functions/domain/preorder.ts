import type { RefundConfirmation } from './refunds.ts';
import type { Campaign } from './campaign.ts';
import { dayOf, noticeEntry, type NoticeParamValues, type NoticeTemplate } from './notices.ts';

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

/** The language of a pre-order's notices; items stored before pre-orders had one get the default. */
export const localeOf = (p: { readonly locale?: Locale; readonly currency: string }): Locale => p.locale ?? defaultLocale(p.currency);

export interface TimelineEntry {
  readonly at: string;
  readonly status: PreorderStatus;
  /**
   * Free text on entries stored before templates, and the rendering stored with
   * entries written before decision 28; absent on newer ones, whose notice is
   * rendered from `template` and `params` in the pre-order's locale when read
   * (noticeOfEntry): the text is not stored twice, and the pre-order item stays
   * under 1 KB through the cut.
   */
  readonly note?: string;
  /** What the note says, as a stable name and values (absent on entries stored before templates). */
  readonly template?: NoticeTemplate;
  readonly params?: NoticeParamValues;
  /** A step that is not a change of status: a delay notice, part of the order shipped or refunded, a new address. */
  readonly step?:
    | 'delayed'
    | 'partly-shipped'
    | 'partly-refunded'
    | 'partly-delivered'
    | 'address-changed'
    | 'compensated'
    | 'switch-offered'
    | 'switched'
    | 'back-in-line'
    | 'tracking-changed'
    | 'refund-confirmed'
    | 'price-dropped'
    | 'balance-due'
    | 'balance-paid';
  /**
   * Set on the "batched" entry of a cut begun since decision 34: that step is
   * told with a page of its batch's members and recorded once for the page
   * (notice-store.ts, `BATCHTOLD#<batchId> / PAGE#<page>`), not claimed and
   * recorded on this pre-order's notices item. Never shown to the buyer.
   */
  readonly toldBy?: BatchPageRef;
}

/** A page of a batch's members whose "batched" step is told, and recorded, together. */
export interface BatchPageRef {
  readonly batchId: string;
  readonly page: number;
}

export interface PreorderSource {
  readonly liveRoomId: string;
  readonly sessionId?: string;
  readonly affiliateId?: string;
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
  /** Absent on notifications recorded before templates. */
  readonly template?: NoticeTemplate;
  readonly params?: NoticeParamValues;
  readonly locale?: Locale;
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
  /** The platform's reference of the buyer's payment, when given: every refund of the pre-order names it (refund.requested). */
  readonly paymentRef?: string;
  /** Where it came from (attribution): the live room, its session, the affiliate. */
  readonly source?: PreorderSource;
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
  /**
   * What the buyer was told, step by step, as read with the pre-order
   * (getPreorderWithNotices). Kept on the pre-order's notices item
   * (notice-store.ts); only pre-orders older than that item carry some on
   * their own item, and keep them.
   */
  readonly notifications?: readonly SentNotification[];
  /** How many steps the notices item counts as sent (absent: no notices item yet), the guard of every notification write. */
  readonly notifiedCount?: number;
  /** A flush's claim on the unsent steps, from the notices item. */
  readonly notifyLease?: NotificationLease;
  /** Owed for shipping after the original promise (late compensation), recorded once. */
  readonly compensatedAmount?: number;
  /** Its variant missed its own minimum: until then the buyer may switch to one that made its own. */
  readonly switchBy?: string;
  /** The sku ordered first, once the buyer switched away from it. */
  readonly switchedFrom?: string;
  /**
   * Its "accepted" step is told by intake, from the table's stream, and
   * recorded on its order ref (`toldAt`), not claimed and recorded on its
   * notices item by a flush (decision 28): set on every pre-order placed since.
   * A flush leaves such a pre-order alone until intake has told it.
   */
  readonly acceptedOnIntake?: boolean;
  /**
   * Set once, by the price drop at close (domain/pricing.ts), when its
   * variant's tier price fell below what the buyer paid a unit: the
   * difference on every unit kept was refunded then, and every later refund of
   * a unit is at this price. Absent: the buyer pays `unitPrice`.
   */
  readonly finalUnitPrice?: number;
  /**
   * Deposit and balance (domain/payment.ts). `paidAmount`: what the buyer has
   * paid (absent: `amount`, paid in full when ordered); `depositAmount` and
   * `depositDiscount` (a unit) mark a deposit pre-order; `balanceDue` and
   * `balanceDueBy` are set when the sale's balances are called, and
   * `balancePaidAt` when the platform records the balance paid;
   * `forfeitedAmount` is the deposit kept when it was never paid.
   */
  readonly paidAmount?: number;
  readonly depositAmount?: number;
  readonly depositDiscount?: number;
  readonly balanceDue?: number;
  readonly balanceDueBy?: string;
  readonly balancePaidAt?: string;
  readonly forfeitedAmount?: number;
  /** What the platform's payment service confirmed paid back, once per refund (domain/refunds.ts: the refunds are timeline entries). */
  readonly refundConfirmations?: readonly RefundConfirmation[];
}

/** Units that will never reach the buyer: refunded, or given up with a deposit kept (a CANCELLED deposit pre-order). */
export const refundedUnitsOf = (p: Pick<Preorder, 'status' | 'quantity' | 'shippedQuantity' | 'refundedUnits'>): number =>
  p.status === 'REFUNDED' || p.status === 'CANCELLED' ? p.quantity - (p.shippedQuantity ?? 0) : (p.refundedUnits ?? 0);

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
  paymentRef?: string;
  source?: PreorderSource;
  /** In a deposit campaign: the deposit a unit and the discount it buys off the balance. */
  deposit?: { readonly perUnit: number; readonly discount?: number };
  gateTakes: readonly GateTake[];
  now: Date;
}): Preorder => {
  const at = input.now.toISOString();
  const locale = input.locale ?? defaultLocale(input.campaign.currency);
  const amount = input.unitPrice * input.quantity;
  const depositAmount = input.deposit && input.deposit.perUnit * input.quantity;
  const promised = promisedShipBy(input.campaign);
  return {
    preorderId: input.preorderId,
    campaignId: input.campaign.campaignId,
    buyerId: input.buyerId,
    sku: input.sku,
    quantity: input.quantity,
    unitPrice: input.unitPrice,
    currency: input.campaign.currency,
    amount,
    shippingAddress: input.shippingAddress,
    locale,
    ...(input.paymentRef !== undefined && { paymentRef: input.paymentRef }),
    ...(input.source !== undefined && { source: input.source }),
    status: 'ACCEPTED',
    promisedShipBy: promised,
    refundedAmount: 0,
    acceptedOnIntake: true,
    ...(depositAmount !== undefined && {
      paidAmount: depositAmount,
      depositAmount,
      ...(input.deposit?.discount !== undefined && { depositDiscount: input.deposit.discount }),
    }),
    timeline: [
      depositAmount !== undefined
        ? noticeEntry(
            { at, status: 'ACCEPTED' },
            'preorder.accepted_deposit',
            { quantity: input.quantity, amount: depositAmount, currency: input.campaign.currency, closesAt: dayOf(input.campaign.closesAt) },
            locale,
          )
        : noticeEntry(
            { at, status: 'ACCEPTED' },
            'preorder.accepted',
            { quantity: input.quantity, amount, currency: input.campaign.currency, promisedShipBy: dayOf(promised) },
            locale,
          ),
    ],
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

export const cancellationEntry = (now: Date, amount: number, currency: string, locale: Locale): TimelineEntry =>
  noticeEntry({ at: now.toISOString(), status: 'REFUNDED' }, 'preorder.refunded', { amount, currency }, locale);

/** Until a unit of it ships, a buyer may send the pre-order somewhere else. */
export const addressChangeableStatuses = ['ACCEPTED', 'BATCHED', 'IN_PRODUCTION'] as const satisfies readonly PreorderStatus[];

/**
 * May the shipping address still change? Only while no unit has shipped: the
 * pre-order's own count, and for a batched one the batch's allocations too (a
 * lot counted on the batch may not have reached the pre-order yet).
 */
export const isAddressChangeable = (p: Pick<Preorder, 'status' | 'shippedQuantity'>): boolean =>
  (addressChangeableStatuses as readonly PreorderStatus[]).includes(p.status) && (p.shippedQuantity ?? 0) === 0;

/**
 * How often a buyer may change a pre-order's address. Each change is a step on
 * the pre-order (told to the buyer, and to the factory once it holds the
 * batch), stored in its one item; a bound keeps that item, and what every
 * later write of it costs, bounded too. Ten is far more than a real move needs.
 */
export const maxAddressChanges = 10;

/** The address changes a pre-order has had (its `address-changed` steps). */
export const addressChangesOf = (p: Pick<Preorder, 'timeline'>): number => p.timeline.filter((e) => e.step === 'address-changed').length;

const addressFields = ['name', 'phone', 'line1', 'line2', 'city', 'region', 'postalCode', 'country'] as const;

/** The same address field by field: sending it again changes nothing. */
export const sameAddress = (a: ShippingAddress, b: ShippingAddress): boolean => addressFields.every((f) => a[f] === b[f]);
