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

export interface TimelineEntry {
  readonly at: string;
  readonly status: PreorderStatus;
  readonly note: string;
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
  readonly status: PreorderStatus;
  /** The production batch, once the pre-order is in one. */
  readonly batchId?: string;
  readonly promisedShipBy: string;
  readonly refundedAmount: number;
  readonly timeline: readonly TimelineEntry[];
  readonly gateTakes: readonly GateTake[];
  readonly createdAt: string;
  readonly updatedAt: string;
}

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
    status: 'ACCEPTED',
    promisedShipBy: promisedShipBy(input.campaign),
    refundedAmount: 0,
    timeline: [{ at, status: 'ACCEPTED', note: 'Pre-order accepted; it will be produced once the campaign batches it' }],
    gateTakes: input.gateTakes,
    createdAt: at,
    updatedAt: at,
  };
};

/** Before batching a buyer may cancel for a full refund; a batched pre-order is being produced. */
export const isCancellable = (p: Pick<Preorder, 'status'>): boolean => p.status === 'ACCEPTED';

export const cancellationEntry = (now: Date, amount: number, currency: string): TimelineEntry => ({
  at: now.toISOString(),
  status: 'REFUNDED',
  note: `Cancelled by the buyer before production; ${amount} ${currency} (minor units) refunded in full`,
});
