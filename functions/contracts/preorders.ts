import * as z from './zod.ts';
import { Id, Timestamp } from './common.ts';
import { CampaignId } from './campaigns.ts';
import { noticeTemplates } from '#domain/notices.ts';
import { refundReasons } from '#domain/refunds.ts';

export const PreorderId = Id('po', 'preorderId');

const text = (max: number) => z.string().trim().min(1).max(max);

export const ShippingAddress = z
  .object({
    name: text(100),
    phone: z.string().regex(/^\+?[0-9 ()-]{5,24}$/, 'phone is 5-24 digits, spaces, ( ) - and an optional leading +'),
    line1: text(200),
    line2: text(200).optional(),
    city: text(100),
    region: text(100),
    postalCode: z.string().regex(/^[A-Za-z0-9 -]{2,12}$/, 'postalCode is 2-12 letters, digits, spaces or -'),
    country: z.string().regex(/^[A-Z]{2}$/, 'country is an ISO 3166-1 alpha-2 code such as CN'),
  })
  .strict()
  .openapi('ShippingAddress');

/** A payment as the live platform's payment service names it. */
export const PaymentRef = z
  .string()
  .regex(/^[A-Za-z0-9_.:-]{1,128}$/, 'paymentRef is 1-128 letters, digits or _ . : -')
  .openapi({ example: 'pay_20261201_8842' });

const SourceId = z.string().regex(/^[A-Za-z0-9_.:-]{1,64}$/, 'ids are 1-64 letters, digits or _ . : -');

/** Where a pre-order came from: the live room, the session of it, the affiliate who shared it. */
export const PreorderSource = z
  .object({
    liveRoomId: SourceId.openapi({ description: "The live room it was placed from; when the campaign names liveRoomIds, one of them" }),
    sessionId: SourceId.optional().openapi({ description: "The room's broadcast session" }),
    affiliateId: SourceId.optional().openapi({ description: 'The affiliate (推广者) whose link brought the buyer: paid commission.affiliatePercent' }),
  })
  .strict()
  .openapi('PreorderSource');

export const CreatePreorderBody = z
  .object({
    sku: z.string().min(1).max(64),
    quantity: z.number().int().min(1).max(999),
    shippingAddress: ShippingAddress,
    locale: z.enum(['zh-CN', 'en']).optional().openapi({ description: "The language of the buyer's notices; default zh-CN in a CNY campaign, en otherwise" }),
    paymentRef: PaymentRef.optional().openapi({
      description:
        "The live platform's reference of the buyer's payment for this pre-order: every refund of it names this reference (refund.requested), for the payment service to pay back. Required in a deposit campaign (the deposit's payment; its balance is recorded against the same reference)",
    }),
    source: PreorderSource.optional().openapi({ description: 'Attribution: units, GMV and commission per source (GET /v1/campaigns/{campaignId}/attribution)' }),
  })
  .strict()
  .openapi('CreatePreorder');
export type CreatePreorderBody = z.infer<typeof CreatePreorderBody>;

export const SwitchVariantBody = z
  .object({ sku: z.string().min(1).max(64).openapi({ description: 'A variant of the same campaign that made its own minimum' }) })
  .strict()
  .openapi('SwitchVariant');
export type SwitchVariantBody = z.infer<typeof SwitchVariantBody>;

export const PreorderStatus = z.enum(['ACCEPTED', 'BATCHED', 'IN_PRODUCTION', 'SHIPPED', 'DELIVERED', 'CANCELLED', 'REFUNDED']);

const NoticeTemplate = z.enum(noticeTemplates).openapi({ description: 'A stable name of what the buyer is told, such as preorder.batched' });
const NoticeParams = z
  .record(z.string(), z.union([z.string(), z.number()]))
  .openapi({ description: 'The values the notice is rendered from (amounts in minor units with their currency, dates as YYYY-MM-DD)' });
const NoticeLocale = z.enum(['zh-CN', 'en']);

export const RefundId = z
  .string()
  .regex(/^rf_[0-9a-z]{24}_[1-9][0-9]{0,2}$/, 'refundId is rf_ followed by 24 lowercase letters or digits, _ and a number')
  .openapi({ example: 'rf_01jd8x2k9m3n4p5q6r7s8t9v_1' });

export const RefundView = z
  .object({
    refundId: RefundId,
    amount: z.number().int().min(1).openapi({ description: 'Minor units of the currency, owed back to the buyer' }),
    currency: z.string().length(3),
    reason: z.enum(refundReasons).openapi({ description: 'Why c2m decided the refund' }),
    status: z.enum(['REQUESTED', 'CONFIRMED']).openapi({ description: 'REQUESTED: decided by c2m, announced as refund.requested; CONFIRMED: the platform confirmed it paid' }),
    requestedAt: Timestamp,
    confirmedAt: Timestamp.optional(),
  })
  .openapi('Refund');

export const PreorderView = z
  .object({
    preorderId: PreorderId,
    campaignId: CampaignId,
    status: PreorderStatus,
    sku: z.string(),
    quantity: z.number().int(),
    unitPrice: z.number().int(),
    currency: z.string(),
    amount: z.number().int(),
    shippingAddress: ShippingAddress,
    locale: z.enum(['zh-CN', 'en']),
    paymentRef: PaymentRef.optional(),
    source: PreorderSource.optional(),
    batchId: z.string().optional(),
    promisedShipBy: Timestamp.openapi({ description: 'The campaign promise, then the factory commitment, then any delay notice' }),
    firstPromisedShipBy: Timestamp.optional().openapi({ description: 'The date promised at order time, when it has moved since' }),
    originalPromisedShipBy: Timestamp.openapi({ description: 'The date promised at order time; the ceiling (maxDelayDays) and late compensation count from it' }),
    switchBy: Timestamp.optional().openapi({ description: "Its variant missed its own minimum: until then it may switch to one that made its own (POST …/switch); then it is refunded" }),
    switchedFrom: z.string().optional().openapi({ description: 'The sku first ordered, once switched' }),
    compensatedAmount: z.number().int().openapi({ description: 'Minor units owed to the buyer for a shipment after the original promise (paid by the platform)' }),
    delayedTo: Timestamp.optional().openapi({ description: 'Set by a delay notice: the buyer may cancel for a full refund until units ship' }),
    shipments: z.array(
      z.object({
        shipmentId: z.string(),
        carrier: z.string(),
        trackingNumber: z.string(),
        quantity: z.number().int(),
        shippedAt: Timestamp,
        deliveredAt: Timestamp.optional(),
      }),
    ).openapi({ description: "The lots with this pre-order's units; carrier and trackingNumber are the buyer's own parcel's when the factory drop-ships it in one, else the lot's" }),
    shippedQuantity: z.number().int(),
    deliveredQuantity: z.number().int(),
    refundedAmount: z.number().int(),
    paidAmount: z.number().int().openapi({ description: 'Minor units the buyer paid for the pre-order: the amount, or in a deposit campaign the deposit, then the balance too' }),
    depositAmount: z.number().int().optional().openapi({ description: 'Deposit campaigns: minor units paid as the deposit when ordered' }),
    balanceDue: z.number().int().optional().openapi({
      description: 'Deposit campaigns, once the sale closed: minor units of the balance (the final price, less the deposit discount, on every unit, less the deposit). Stays once paid (balancePaidAt)',
    }),
    balanceDueBy: Timestamp.optional().openapi({ description: 'Deposit campaigns: the balance must be paid by then (POST /v1/payments/balances), else the pre-order is cancelled and the deposit forfeited' }),
    balancePaidAt: Timestamp.optional().openapi({ description: 'When the platform recorded the balance paid: from then on the pre-order is in line for production' }),
    forfeitedAmount: z.number().int().optional().openapi({ description: 'The deposit kept when the buyer cancelled before paying the balance or left it unpaid past balanceDueBy' }),
    finalUnitPrice: z.number().int().openapi({
      description:
        'What a unit costs the buyer, in minor units: unitPrice, or once the campaign closed at a lower tier price (priceTiers), that price; the difference was refunded (reason price-drop). In a deposit campaign, less depositDiscount, and the lower price lowers the balance instead',
    }),
    refunds: z.array(RefundView).openapi({
      description: 'Every refund c2m decided, oldest first: the platform pays each and confirms it (POST /v1/payments/refunds/{refundId}/confirm). Their amounts add up to refundedAmount',
    }),
    timeline: z.array(
      z.object({
        at: Timestamp,
        status: PreorderStatus,
        note: z.string().openapi({ description: "The notice rendered in the pre-order's locale" }),
        template: NoticeTemplate,
        params: NoticeParams,
        step: z.enum(['delayed', 'partly-shipped', 'partly-refunded', 'partly-delivered', 'address-changed', 'compensated', 'switch-offered', 'switched', 'back-in-line', 'tracking-changed', 'refund-confirmed', 'price-dropped', 'balance-due', 'balance-paid']).optional(),
      }),
    ),
    notifications: z.array(
      z.object({
        notificationId: z.string().openapi({ description: 'Stable: the channel may repeat a message, never with another id' }),
        at: Timestamp,
        step: z.string(),
        template: NoticeTemplate,
        params: NoticeParams,
        locale: NoticeLocale,
        message: z.string().openapi({ description: 'The notice rendered in `locale`' }),
        sentAt: Timestamp,
      }),
    ),
    createdAt: Timestamp,
    updatedAt: Timestamp,
  })
  .openapi('Preorder');

export const PreorderList = z
  .object({ items: z.array(PreorderView), nextCursor: z.string().optional() })
  .openapi('PreorderList');

export const PreorderParams = z.object({ preorderId: PreorderId.openapi({ param: { name: 'preorderId', in: 'path' } }) });
