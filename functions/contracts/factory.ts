import * as z from './zod.ts';
import { Id, ListQuery, Timestamp } from './common.ts';
import { ShippingAddress } from './preorders.ts';
import { CampaignForecast } from './signals.ts';
import { defectCodes } from '#domain/defects.ts';

/** What a factory reads and sends about its production batches and shipments. */

export const BatchId = Id('bat', 'batchId');
export const ShipmentId = Id('shp', 'shipmentId');
const CampaignId = Id('cmp', 'campaignId');
const PreorderId = Id('po', 'preorderId');

export const BatchParams = z.object({ batchId: BatchId });
export const ShipmentParams = z.object({ shipmentId: ShipmentId });
export const ParcelParams = z.object({ shipmentId: ShipmentId, preorderId: PreorderId });

export const batchStatuses = ['RELEASED', 'ACCEPTED', 'REJECTED', 'IN_PRODUCTION', 'PARTIALLY_SHIPPED', 'COMPLETED', 'WITHDRAWN'] as const;
export const BatchStatus = z.enum(batchStatuses);

const count = z.number().int().min(0).max(10_000_000);
const Sku = z.string().regex(/^[A-Za-z0-9._-]{1,64}$/, 'sku is 1-64 letters, digits or . _ -');
const text = (max: number) => z.string().trim().min(1).max(max);

export const DefectCode = z.enum(defectCodes).openapi('DefectCode', { description: 'Why units failed QC' });
export const DefectCount = z.object({ code: DefectCode, count }).strict().openapi('DefectCount');

export const BatchLine = z
  .object({
    sku: z.string(),
    quantity: z.number().int(),
    /** Per-sku counts; absent while the factory reports only totals. */
    produced: z.number().int().optional(),
    qcPassed: z.number().int().optional(),
    qcFailed: z.number().int().optional(),
    shipped: z.number().int(),
    defects: z.array(DefectCount).optional().openapi({ description: 'Per-sku defects, when reported per sku' }),
  })
  .openapi('BatchLine');

export const BatchView = z
  .object({
    batchId: BatchId,
    campaignId: CampaignId,
    factoryId: z.string(),
    status: BatchStatus,
    reason: z.string().openapi({ description: 'Why it was cut: lot, max-wait or final' }),
    lines: z.array(BatchLine),
    units: z.number().int(),
    preorderCount: z.number().int(),
    releasedAt: Timestamp,
    acceptBy: Timestamp,
    overdueAt: Timestamp.optional().openapi({ description: 'When the batch was escalated for not being accepted by acceptBy' }),
    acceptedAt: Timestamp.optional(),
    committedShipDate: z.string().optional(),
    rejectedAt: Timestamp.optional(),
    rejectedReason: z.string().optional(),
    completedAt: Timestamp.optional(),
    closedShortReason: z.string().optional().openapi({ description: 'Why it was completed before every unit shipped: your reason, or c2m\'s at the buyers\' ceiling' }),
    withdrawnAt: Timestamp.optional().openapi({
      description: 'When c2m took back what had not shipped: its campaign failed (status WITHDRAWN) or its buyers\' ceiling passed (COMPLETED); see batch.units_withdrawn',
    }),
    produced: z.number().int(),
    qcPassed: z.number().int(),
    qcFailed: z.number().int(),
    defects: z.array(DefectCount).openapi({ description: 'Why failed units failed, per code (codes with a count only)' }),
    shipped: z.number().int(),
  })
  .openapi('Batch');

export const BatchList = z.object({ items: z.array(BatchView), nextCursor: z.string().optional() }).openapi('BatchList');

export const BatchListQuery = ListQuery.extend({ status: BatchStatus.optional() });

export const ManifestEntry = z
  .object({
    preorderId: PreorderId,
    sku: z.string(),
    quantity: z.number().int(),
    status: z.string(),
    createdAt: Timestamp,
    shippingAddress: ShippingAddress,
  })
  .openapi('ManifestEntry');

export const Manifest = z
  .object({ batchId: BatchId, items: z.array(ManifestEntry), nextCursor: z.string().optional() })
  .openapi('Manifest');

/** A calendar date (YYYY-MM-DD), the day the factory commits to ship by. */
const CalendarDate = z
  .string()
  .regex(/^\d{4}-\d{2}-\d{2}$/, 'committedShipDate is a date such as 2026-12-24')
  .refine((s) => !Number.isNaN(Date.parse(`${s}T00:00:00Z`)) && new Date(`${s}T00:00:00Z`).toISOString().startsWith(s), 'not a calendar date');

export const AcceptBatchBody = z.object({ committedShipDate: CalendarDate }).strict().openapi('AcceptBatch');
export const RejectBatchBody = z.object({ reason: text(500) }).strict().openapi('RejectBatch');

export const ProgressBody = z
  .object({
    sku: Sku.optional().openapi({ description: 'The sku these counts are for; absent, they are the batch totals' }),
    produced: count,
    qcPassed: count,
    qcFailed: count,
    defects: z
      .array(DefectCount)
      .max(defectCodes.length)
      .optional()
      .openapi({ description: 'Why the failed units failed, cumulative per code like the counts (a code left out keeps its count); at most qcFailed in all' }),
  })
  .strict()
  .refine((b) => b.qcPassed + b.qcFailed <= b.produced, { path: ['qcPassed'], message: 'qcPassed + qcFailed cannot exceed produced' })
  .refine((b) => new Set((b.defects ?? []).map((d) => d.code)).size === (b.defects ?? []).length, { path: ['defects'], message: 'each code at most once', params: { code: 'duplicate_defect' } })
  .refine((b) => (b.defects ?? []).reduce((n, d) => n + d.count, 0) <= b.qcFailed, { path: ['defects'], message: 'defects cannot add up to more than qcFailed', params: { code: 'defects_above_failed' } })
  .openapi('Progress');
export type ProgressBody = z.infer<typeof ProgressBody>;

export const ShipmentItems = z
  .array(z.object({ sku: Sku, quantity: z.number().int().min(1).max(1_000_000) }).strict())
  .min(1)
  .max(100)
  .refine((items) => new Set(items.map((i) => i.sku)).size === items.length, 'each sku at most once');

const TrackingNumber = z.string().regex(/^[A-Za-z0-9-]{4,64}$/, 'trackingNumber is 4-64 letters, digits or -');

export const CreateShipmentBody = z
  .object({
    carrier: text(100),
    trackingNumber: TrackingNumber,
    items: ShipmentItems,
  })
  .strict()
  .openapi('CreateShipment');
export type CreateShipmentBody = z.infer<typeof CreateShipmentBody>;

/** The most parcels one request may name: a lot's buyers can be more, sent over several requests. */
export const maxParcelsPerRequest = 500;

export const AddParcelsBody = z
  .object({
    parcels: z
      .array(z.object({ preorderId: PreorderId, carrier: text(100), trackingNumber: TrackingNumber }).strict())
      .min(1)
      .max(maxParcelsPerRequest)
      .superRefine((parcels, ctx) => {
        const seen = new Set<string>();
        parcels.forEach((p, i) => {
          if (seen.has(p.preorderId)) ctx.addIssue({ code: 'custom', path: [i, 'preorderId'], message: 'each pre-order at most once', params: { code: 'duplicate_preorder' } });
          seen.add(p.preorderId);
        });
      })
      .openapi({ description: 'One parcel per buyer (pre-order) of the lot; pre-orders of the lot not named keep the lot\'s tracking' }),
  })
  .strict()
  .openapi('AddParcels');
export type AddParcelsBody = z.infer<typeof AddParcelsBody>;

export const ParcelView = z
  .object({
    preorderId: PreorderId,
    carrier: z.string(),
    trackingNumber: z.string(),
    deliveredAt: Timestamp.optional().openapi({ description: 'Confirmed for this parcel, or for the whole lot' }),
  })
  .openapi('Parcel', { description: "One buyer's own parcel of a drop-shipped lot" });

export const ShipmentView = z
  .object({
    shipmentId: ShipmentId,
    batchId: BatchId,
    campaignId: CampaignId,
    status: z.enum(['SHIPPED', 'DELIVERED']),
    carrier: z.string(),
    trackingNumber: z.string(),
    items: z.array(z.object({ sku: z.string(), quantity: z.number().int() })),
    units: z.number().int(),
    createdAt: Timestamp,
    deliveredAt: Timestamp.optional(),
    allocations: z
      .array(z.object({ preorderId: PreorderId, sku: z.string(), quantity: z.number().int() }))
      .openapi({ description: "Whose units are in the lot: decided when it was counted (oldest pre-orders first, per sku); they sum to the lot's items" }),
    parcels: z
      .array(ParcelView)
      .openapi({ description: "Per-buyer parcels named by the factory (POST …/parcels), in allocation order; [] when the lot travels under its own tracking only" }),
  })
  .openapi('Shipment');

export const ShipmentList = z.object({ items: z.array(ShipmentView) }).openapi('ShipmentList', { description: "A batch's lots, oldest first" });

export const CloseShortBody = z.object({ reason: text(500) }).strict().openapi('CloseShort');

/** p50 and p95 of a wait kept as a powers-of-two histogram (domain/trust.ts), with how many it holds. */
const waitFigures = (counted: string) =>
  z.object({
    p50Seconds: z.number().min(0),
    p95Seconds: z.number().min(0),
    count: z.number().int().min(1).openapi({ description: counted }),
  });

/** How a campaign or a factory has kept its promises so far; rates are 0-1, absent until there is anything to measure. */
export const TrustView = z
  .object({
    onTimeShipRate: z.number().min(0).max(1).optional().openapi({
      description:
        'Pre-orders fully shipped by the date first promised to the buyer (campaign) or committed by the factory (factory), of those fully shipped or refunded at the ceiling: a broken promise counts as late (one refunded at the ceiling with nothing shipped, and one part-shipped whose rest was refunded there)',
    }),
    qcPassRate: z.number().min(0).max(1).optional().openapi({ description: 'Units that passed QC, of those QC-checked' }),
    qcDefects: z.array(DefectCount).optional().openapi({ description: 'Why units failed QC, per code, as the factories reported' }),
    refundRate: z.number().min(0).max(1).optional().openapi({
      description:
        'Units refunded, of units ordered (campaign: every refund, buyer cancels and ceiling refunds included); of units batched to the factory (factory: refunds it caused, rejections without a backup, short closes and units refunded at the ceiling)',
    }),
    medianDaysToDelivery: z.number().min(0).optional().openapi({ description: 'Whole days from pre-order to delivery, median' }),
    preordersShipped: z.number().int(),
    preordersDelivered: z.number().int(),
    unitsQcChecked: z.number().int(),
    unitsRefunded: z.number().int(),
    unitsRefundedAtCeiling: z.number().int().min(0).openapi({
      description: "Units refunded by c2m because they had not shipped by the date first promised plus the campaign's maxDelayDays (they count in the factory's unitsRefunded too)",
    }),
    compensation: z
      .object({
        count: z.number().int().min(0).openapi({ description: 'Pre-orders compensated for a late shipment (each at most once)' }),
        amounts: z
          .array(z.object({ currency: z.string().length(3), amount: z.number().int().min(0).openapi({ description: 'Minor units' }) }))
          .openapi({ description: 'What was owed to buyers, per currency (a factory may sell in several), in minor units; c2m records it, the platform pays' }),
      })
      .openapi({ description: 'Compensation for shipments later than the date promised at order time' }),
    refundLatency: waitFigures('Refund events measured (an event published twice counts twice)')
      .optional()
      .openapi({
        description:
          "Seconds from a refund decision (its event's occurredAt) to the event's publication on the bus. Kept as a histogram of powers of two: each percentile is the upper bound of its bucket (1, 2, 4, 8… s), never below the true value and at most twice it (1 for anything up to a second). Absent until a refund event was published; a factory's counts only refunds of its batches",
      }),
    refundConfirmation: waitFigures('Refunds the platform confirmed')
      .optional()
      .openapi({
        description:
          "Seconds from a refund decision to the platform's confirmation that it paid the buyer back: how long buyers really wait for their money. The same powers-of-two histogram as refundLatency. Campaigns only (the platform, not the factory, pays); absent until a refund was confirmed",
      }),
  })
  .openapi('Trust');

/**
 * `GET /v1/factory/forecasts`: every SCHEDULED or OPEN campaign of the factory,
 * newest first, a page at a time. A page can hold fewer than `limit` (even none)
 * and still carry a `nextCursor`: follow it until it is absent.
 */
export const FactoryForecastsQuery = ListQuery;

export const FactoryForecastList = z
  .object({ items: z.array(CampaignForecast), nextCursor: z.string().optional() })
  .openapi('FactoryForecastList');
