import * as z from './zod.ts';
import { Id, Timestamp } from './common.ts';
import { SignalSummary } from './signals.ts';
import { defectCodes } from '#domain/defects.ts';

export const CampaignId = Id('cmp', 'campaignId');
const PartnerId = z.string().regex(/^[A-Za-z0-9_.:-]{1,64}$/, 'ids are 1-64 letters, digits or _ . : -');
const Sku = z.string().regex(/^[A-Za-z0-9._-]{1,64}$/, 'sku is 1-64 letters, digits or . _ -');
const Count = z.number().int().min(0).max(10_000_000);

export const VariantInput = z
  .object({
    sku: Sku,
    name: z.string().trim().min(1).max(200),
    unitPrice: z.number().int().min(1).max(100_000_000).openapi({ description: 'Minor units', example: 12900 }),
    minQuantity: z
      .number()
      .int()
      .min(1)
      .max(10_000_000)
      .optional()
      .openapi({ description: "The variant's own minimum: below it at close, its buyers may switch to a variant that made its own, or are refunded" }),
  })
  .strict();

export const LateCompensation = z
  .object({
    percent: z.number().gt(0).max(100).openapi({ description: "Share of the pre-order's amount paid for shipping after the original promise", example: 10 }),
    minAmount: z.number().int().min(0).max(100_000_000).openapi({ description: 'Minor units', example: 500 }),
    maxAmount: z.number().int().min(0).max(100_000_000).openapi({ description: 'Minor units', example: 10000 }),
  })
  .strict()
  .superRefine((c, ctx) => {
    if (c.maxAmount < c.minAmount) ctx.addIssue({ code: 'custom', path: ['maxAmount'], message: 'maxAmount must be at least minAmount', params: { code: 'max_below_min' } });
  })
  .openapi('LateCompensation');

/** A campaign's terms as an anchor writes them; the create body checks them together, a change checks them merged with the stored ones. */
const CampaignTerms = z
  .object({
    title: z.string().trim().min(1).max(200),
    factoryId: PartnerId,
    backupFactoryId: PartnerId.optional(),
    currency: z.string().regex(/^[A-Z]{3}$/, 'currency is an ISO 4217 code such as CNY'),
    // At most 24 variants keeps every gate item under 1 KB (2 WCU a transactional write).
    variants: z.array(VariantInput).min(1).max(24),
    opensAt: Timestamp.optional().openapi({ description: 'Absent: open now' }),
    closesAt: Timestamp,
    minTotalQuantity: Count,
    lotSize: z.number().int().min(1).max(1_000_000),
    maxWaitHours: z.number().positive().max(24 * 90).optional(),
    maxTotalQuantity: z.number().int().min(1).max(10_000_000).optional(),
    promisedShipDays: z.number().int().min(1).max(365),
    maxPerBuyer: z.number().int().min(1).max(100_000).optional().openapi({ description: 'Units one buyer may hold in this campaign (限购); cancelled or refunded units free room' }),
    maxDelayDays: z
      .number()
      .int()
      .min(1)
      .max(365)
      .optional()
      .openapi({ description: 'Default 14: units not shipped by the original promise plus this many days are refunded by themselves' }),
    lateCompensation: LateCompensation.optional(),
    liveRoomIds: z
      .array(PartnerId)
      .min(1)
      .max(50)
      .optional()
      .openapi({ description: "The live rooms whose signals count for this campaign; absent: any room's" }),
    switchWindowHours: z
      .number()
      .positive()
      .max(24 * 14)
      .optional()
      .openapi({ description: 'Default 24: how long buyers of a variant below its minimum may switch to another variant' }),
  })
  .strict();

/** The rules between terms, for a create and for a change of a campaign not yet open (merged with what is stored). */
const checkTerms = (b: z.infer<typeof CampaignTerms>, ctx: z.RefinementCtx) => {
  const skus = new Set<string>();
  b.variants.forEach((v, i) => {
    if (skus.has(v.sku)) ctx.addIssue({ code: 'custom', path: ['variants', i, 'sku'], message: `sku ${v.sku} appears twice`, params: { code: 'duplicate_sku' } });
    skus.add(v.sku);
  });
  if (b.backupFactoryId !== undefined && b.backupFactoryId === b.factoryId) {
    ctx.addIssue({ code: 'custom', path: ['backupFactoryId'], message: 'backupFactoryId must differ from factoryId', params: { code: 'same_backup_factory' } });
  }
  const opens = b.opensAt ? Date.parse(b.opensAt) : Date.now();
  if (Date.parse(b.closesAt) <= Math.max(opens, Date.now())) {
    ctx.addIssue({ code: 'custom', path: ['closesAt'], message: 'closesAt must be in the future and after opensAt', params: { code: 'closes_before_opening' } });
  }
  if (b.maxTotalQuantity !== undefined && b.maxTotalQuantity < b.minTotalQuantity) {
    ctx.addIssue({ code: 'custom', path: ['maxTotalQuantity'], message: 'maxTotalQuantity must be at least minTotalQuantity', params: { code: 'cap_below_minimum' } });
  }
  b.variants.forEach((v, i) => {
    if (v.minQuantity !== undefined && b.maxTotalQuantity !== undefined && v.minQuantity > b.maxTotalQuantity) {
      ctx.addIssue({ code: 'custom', path: ['variants', i, 'minQuantity'], message: 'minQuantity cannot be above maxTotalQuantity', params: { code: 'variant_minimum_above_cap' } });
    }
  });
  if (b.maxPerBuyer !== undefined && b.maxTotalQuantity !== undefined && b.maxPerBuyer > b.maxTotalQuantity) {
    ctx.addIssue({ code: 'custom', path: ['maxPerBuyer'], message: 'maxPerBuyer cannot be above maxTotalQuantity', params: { code: 'limit_above_cap' } });
  }
  if (b.liveRoomIds !== undefined && new Set(b.liveRoomIds).size !== b.liveRoomIds.length) {
    ctx.addIssue({ code: 'custom', path: ['liveRoomIds'], message: 'each live room at most once', params: { code: 'duplicate_room' } });
  }
};

export const CreateCampaignBody = CampaignTerms.superRefine(checkTerms).openapi('CreateCampaign');
export type CreateCampaignBody = z.infer<typeof CreateCampaignBody>;

export const UpdateCampaignBody = CampaignTerms.partial()
  .strict()
  .refine((b) => Object.keys(b).length > 0, { message: 'name at least one field to change' })
  .openapi('UpdateCampaign', {
    description:
      'Before the campaign opens: any field of the create body (checked together with the stored ones). While OPEN: only maxTotalQuantity raised, closesAt later and liveRoomIds added (the stored rooms kept); any other change is 409 naming the field. A field sent with its stored value is no change.',
  });
export type UpdateCampaignBody = z.infer<typeof UpdateCampaignBody>;

export const VariantDemand = z
  .object({
    sku: z.string(),
    ordered: z.number().int(),
    cancelled: z.number().int().openapi({ description: 'Cancelled by buyers or refunded because the campaign failed' }),
    batched: z.number().int(),
    waiting: z.number().int(),
  })
  .openapi('VariantDemand');

export const VariantDemandOutlook = VariantDemand.extend({
  signals: SignalSummary,
  forecastFinal: z.number().int().openapi({ description: 'Expected final net ordered units at closesAt (docs/forecast.md)' }),
  forecastLow: z.number().int(),
  forecastHigh: z.number().int(),
  forecastMethod: z.string(),
}).openapi('VariantDemandOutlook');

export const Demand = z
  .object({
    campaignId: CampaignId,
    variants: z.array(VariantDemandOutlook),
    totals: z.object({
      ordered: z.number().int(),
      cancelled: z.number().int(),
      batched: z.number().int(),
      waiting: z.number().int(),
      signals: SignalSummary.openapi({ description: "Every signal of the campaign: its variants' and those that named no sku" }),
      forecastFinal: z
        .number()
        .int()
        .openapi({ description: "Sum of the variants' forecasts, never above the units the cap still allows" }),
    }),
    signalsWithoutSku: SignalSummary.openapi({ description: 'Signals the live room sent without a sku (about the campaign as a whole)' }),
    remaining: z.number().int().optional().openapi({ description: 'Units left under maxTotalQuantity' }),
  })
  .openapi('Demand');

export const CampaignStatus = z.enum(['SCHEDULED', 'OPEN', 'CLOSED', 'FAILED']);

export const CampaignView = z
  .object({
    campaignId: CampaignId,
    title: z.string(),
    status: CampaignStatus,
    currency: z.string(),
    variants: z.array(z.object({ sku: z.string(), name: z.string(), unitPrice: z.number().int(), minQuantity: z.number().int().optional() })),
    opensAt: Timestamp,
    closesAt: Timestamp,
    closedAt: Timestamp.optional(),
    promisedShipDays: z.number().int(),
    maxTotalQuantity: z.number().int().optional(),
    maxPerBuyer: z.number().int().optional(),
    maxDelayDays: z.number().int().openapi({ description: 'Unshipped units are refunded by themselves this many days after the original promise' }),
    lateCompensation: LateCompensation.optional(),
    switchWindowHours: z.number(),
    minimumMetAt: Timestamp.optional().openapi({ description: 'When the campaign reached minTotalQuantity; no batch is cut before' }),
    variantsMissed: z.array(z.string()).optional().openapi({ description: 'At close: the skus below their own minQuantity, never made' }),
    switchBy: Timestamp.optional().openapi({ description: "Until when buyers of a missed variant may switch to one that made its minimum; then they are refunded" }),
    demand: z.array(VariantDemand),
    remaining: z.number().int().optional(),
    // Owner-only fields below.
    anchorId: z.string().optional(),
    factoryId: z.string().optional(),
    backupFactoryId: z.string().optional(),
    minTotalQuantity: z.number().int().optional(),
    lotSize: z.number().int().optional(),
    maxWaitHours: z.number().optional(),
    liveRoomIds: z.array(z.string()).optional(),
    createdAt: Timestamp.optional(),
    updatedAt: Timestamp.optional(),
  })
  .openapi('Campaign', { description: 'Public fields for every role; anchorId, factories, minimum, lot size and times for the owner' });

export const CampaignSummary = CampaignView.omit({ demand: true, remaining: true }).openapi('CampaignSummary');

export const CampaignList = z
  .object({ items: z.array(CampaignSummary), nextCursor: z.string().optional() })
  .openapi('CampaignList');

export const CampaignParams = z.object({ campaignId: CampaignId.openapi({ param: { name: 'campaignId', in: 'path' } }) });

// ---------------------------------------------------------------- what the anchor's console reads

const Money = z.number().int().openapi({ description: 'Minor units of the campaign currency' });
const Units = z.number().int().min(0);

export const CampaignBatchLine = z
  .object({
    sku: z.string(),
    quantity: Units.openapi({ description: 'Units the batch makes of this sku (shrinks when units are refunded out of it)' }),
    produced: Units,
    qcPassed: Units,
    qcFailed: Units,
    shipped: Units,
  })
  .openapi('CampaignBatchLine');

export const CampaignBatch = z
  .object({
    batchId: z.string(),
    status: z.enum(['RELEASED', 'ACCEPTED', 'REJECTED', 'IN_PRODUCTION', 'PARTIALLY_SHIPPED', 'COMPLETED', 'WITHDRAWN']),
    factoryId: z.string(),
    reason: z.string().openapi({ description: 'Why it was cut: lot, max-wait or final' }),
    units: Units,
    preorderCount: Units,
    releasedAt: Timestamp,
    acceptBy: Timestamp.openapi({ description: 'The factory must accept or reject it by then' }),
    acceptedAt: Timestamp.optional(),
    committedShipDate: z.string().optional().openapi({ description: 'The day the factory committed to ship by (YYYY-MM-DD)' }),
    rejectedAt: Timestamp.optional(),
    rejectedReason: z.string().optional(),
    next: z.enum(['backup-factory', 'refund']).optional().openapi({ description: 'After a rejection: where its buyers went' }),
    completedAt: Timestamp.optional(),
    closedShortReason: z.string().optional(),
    withdrawnAt: Timestamp.optional(),
    lines: z.array(CampaignBatchLine),
    produced: Units,
    qcPassed: Units,
    qcFailed: Units,
    defects: z
      .array(z.object({ code: z.enum(defectCodes), count: Units }))
      .openapi({ description: 'Why units failed QC, per code, as the factory reported (stitching, colour, size, material, print, damage, other)' }),
    shipped: Units,
    promisedShipBy: Timestamp.optional().openapi({ description: "The date its buyers are promised now (the factory's commitment, or a delay notice's)" }),
    delays: z
      .object({
        preorders: Units.openapi({ description: 'Its pre-orders whose promised date moved after they were placed' }),
        latestPromisedShipBy: Timestamp.optional(),
      })
      .openapi({ description: 'Delay notices sent to its buyers' }),
    refunds: z
      .object({ preorders: Units, units: Units, amount: Money })
      .openapi({ description: 'Refunds of its pre-orders: cancelled after a delay, rejected without a backup, closed short or past the ceiling' }),
    compensation: z.object({ preorders: Units, amount: Money }).openapi({ description: 'Owed to its buyers for shipping after the original promise' }),
  })
  .openapi('CampaignBatch');

export const CampaignBatchList = z
  .object({ campaignId: CampaignId, currency: z.string(), items: z.array(CampaignBatch) })
  .openapi('CampaignBatchList', { description: "Every batch cut from the campaign that reached a factory, oldest first" });

export const preorderStatuses = ['ACCEPTED', 'BATCHED', 'IN_PRODUCTION', 'SHIPPED', 'DELIVERED', 'CANCELLED', 'REFUNDED'] as const;

export const CampaignPreordersQuery = z.object({
  status: z.enum(preorderStatuses).optional(),
  buyerId: z.string().min(1).max(128).optional().openapi({ description: "One buyer's pre-orders in this campaign (a fan asking after theirs)" }),
  limit: z.coerce.number().int().min(1).max(1000).default(50).openapi({ description: 'Default 50; up to 1000 (CSV pages for an export)' }),
  cursor: z.string().max(1024).optional(),
});

export const CampaignPreorder = z
  .object({
    preorderId: z.string(),
    buyerId: z.string().openapi({ description: "The buyer's id on the live platform" }),
    sku: z.string(),
    quantity: Units,
    unitPrice: Money,
    amount: Money,
    currency: z.string(),
    status: z.enum(preorderStatuses),
    batchId: z.string().optional(),
    promisedShipBy: Timestamp,
    originalPromisedShipBy: Timestamp,
    shippedQuantity: Units,
    deliveredQuantity: Units,
    refundedAmount: Money,
    compensatedAmount: Money,
    locale: z.enum(['zh-CN', 'en']),
    createdAt: Timestamp,
    updatedAt: Timestamp,
  })
  .openapi('CampaignPreorder', { description: 'A pre-order as its anchor sees it: states and amounts, no address or phone' });

export const CampaignPreorderList = z
  .object({ items: z.array(CampaignPreorder), nextCursor: z.string().optional() })
  .openapi('CampaignPreorderList', { description: 'Newest first. With Accept: text/csv the same page as CSV, the next cursor in a Link header' });

export const DemandHistoryQuery = z
  .object({
    from: Timestamp.optional().openapi({ description: 'Default: three hours before `to`, not before the campaign opened' }),
    to: Timestamp.optional().openapi({ description: 'Default: now (or when it closed)' }),
  })
  .superRefine((q, ctx) => {
    if (q.from && q.to && Date.parse(q.from) >= Date.parse(q.to)) ctx.addIssue({ code: 'custom', path: ['from'], message: 'from must be before to', params: { code: 'from_after_to' } });
    if (q.from && q.to && Date.parse(q.to) - Date.parse(q.from) > 72 * 3600_000) {
      ctx.addIssue({ code: 'custom', path: ['from'], message: 'at most 72 hours between from and to', params: { code: 'window_too_wide' } });
    }
  });

const SignalCountsView = z.object({ view: Units, like: Units, cart: Units, want: Units, share: Units }).openapi('SignalCounts');

export const DemandPoint = z
  .object({
    at: Timestamp.openapi({ description: 'The minute' }),
    ordered: z.number().int().openapi({ description: 'Net ordered units (ordered less cancelled) at that minute' }),
    forecastFinal: z.number().int().optional().openapi({ description: 'The forecast of the final units made at that minute' }),
    forecastLow: z.number().int().optional(),
    forecastHigh: z.number().int().optional(),
    signals: SignalCountsView.openapi({ description: 'Signals sent in that minute' }),
  })
  .openapi('DemandPoint');

export const DemandHistory = z
  .object({
    campaignId: CampaignId,
    from: Timestamp,
    to: Timestamp,
    stepSeconds: z.literal(60),
    maxTotalQuantity: z.number().int().optional(),
    closesAt: Timestamp,
    variants: z.array(
      z.object({
        sku: z.string(),
        points: z.array(DemandPoint).openapi({ description: 'Oldest first; the last is live (now), the others as the clock recorded them each minute' }),
        forecastFinal: z.number().int(),
        forecastLow: z.number().int(),
        forecastHigh: z.number().int(),
      }),
    ),
    signalsWithoutSku: z.array(z.object({ at: Timestamp, signals: SignalCountsView })),
  })
  .openapi('DemandHistory');
