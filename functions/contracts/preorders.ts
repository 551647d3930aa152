import * as z from './zod.ts';
import { Id, Timestamp } from './common.ts';
import { CampaignId } from './campaigns.ts';
import { noticeTemplates } from '#domain/notices.ts';

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

export const CreatePreorderBody = z
  .object({
    sku: z.string().min(1).max(64),
    quantity: z.number().int().min(1).max(999),
    shippingAddress: ShippingAddress,
    locale: z.enum(['zh-CN', 'en']).optional().openapi({ description: "The language of the buyer's notices; default zh-CN in a CNY campaign, en otherwise" }),
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
    timeline: z.array(
      z.object({
        at: Timestamp,
        status: PreorderStatus,
        note: z.string().openapi({ description: "The notice rendered in the pre-order's locale" }),
        template: NoticeTemplate,
        params: NoticeParams,
        step: z.enum(['delayed', 'partly-shipped', 'partly-refunded', 'partly-delivered', 'address-changed', 'compensated', 'switch-offered', 'switched', 'back-in-line', 'tracking-changed']).optional(),
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
