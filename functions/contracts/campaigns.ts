import * as z from './zod.ts';
import { Id, Timestamp } from './common.ts';
import { SignalSummary } from './signals.ts';
import { defectCodes } from '#domain/defects.ts';

export const CampaignId = Id('cmp', 'campaignId');

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

/** Percent with at most two decimals (12.5, 3.75). */
const Percent = z
  .number()
  .min(0)
  .max(100)
  // 0.07 × 100 is 7.000000000000001 in floating point: "two decimals" is a whole number of basis points, give or take that.
  .refine((n) => Math.abs(n * 100 - Math.round(n * 100)) < 1e-6, { message: 'a percent has at most two decimals', params: { code: 'percent_decimals' } });

export const Commission = z
  .object({
    anchorPercent: Percent.openapi({ description: "The anchor's share of the net GMV of every pre-order of the campaign", example: 20 }),
    affiliatePercent: Percent.openapi({ description: "An affiliate's share of the net GMV of the pre-orders they brought (source.affiliateId)", example: 5 }),
  })
  .strict()
  .superRefine((c, ctx) => {
    // Only between two valid percents: one out of range is named on its own.
    if (c.anchorPercent <= 100 && c.affiliatePercent <= 100 && c.anchorPercent + c.affiliatePercent > 100) {
      ctx.addIssue({ code: 'custom', path: ['affiliatePercent'], message: 'anchorPercent and affiliatePercent together cannot pass 100', params: { code: 'commission_above_100' } });
    }
  })
  .openapi('Commission');


const NextTier = z.object({
  minUnits: z.number().int(),
  unitPrice: z.number().int(),
  unitsToUnlock: z.number().int().openapi({ description: 'More net sold units that unlock this price' }),
});

const PriceTierView = z.object({ minUnits: z.number().int(), unitPrice: z.number().int() });

export const VariantDemand = z
  .object({
    sku: z.string(),
    ordered: z.number().int(),
    cancelled: z.number().int().openapi({ description: 'Cancelled by buyers or refunded because the campaign failed' }),
    batched: z.number().int(),
    waiting: z.number().int().openapi({ description: 'In line to be cut: ordered, not cancelled, not batched and (deposit campaigns) paid in full' }),
    awaitingBalance: z.number().int().optional().openapi({ description: 'Deposit campaigns: units whose balance is not paid yet (counted in ordered, not in line)' }),
    unitPriceNow: z
      .number()
      .int()
      .optional()
      .openapi({
        description:
          "A variant with priceTiers (its own, or the campaign's): the unit price the net sold units reached (minor units); once the campaign closed, the price fixed then",
      }),
    nextTier: NextTier.optional().openapi({ description: 'While the campaign sells: the next tier of a variant with its own priceTiers, "N more units to unlock ¥X"' }),
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
      awaitingBalance: z.number().int().optional(),
      signals: SignalSummary.openapi({ description: "Every signal of the campaign: its variants' and those that named no sku" }),
      forecastFinal: z
        .number()
        .int()
        .openapi({ description: "Sum of the variants' forecasts, never above the units the cap still allows" }),
    }),
    signalsWithoutSku: SignalSummary.openapi({ description: 'Signals the live room sent without a sku (about the campaign as a whole)' }),
    nextTier: NextTier.optional().openapi({ description: 'While the campaign sells, with its own priceTiers: the next tier, "N more units (of any variant) to unlock ¥X"' }),
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
    variants: z.array(
      z.object({
        sku: z.string(),
        name: z.string(),
        unitPrice: z.number().int(),
        minQuantity: z.number().int().optional(),
        priceTiers: z.array(PriceTierView).optional(),
      }),
    ),
    priceTiers: z
      .array(PriceTierView)
      .optional()
      .openapi({ description: '全场阶梯价: tiers for the whole campaign, reached by the net sold units of every variant, pricing every variant' }),
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
    finalPrices: z
      .record(z.string(), z.number().int())
      .optional()
      .openapi({
        description:
          "Fixed at close: the tier price each variant with priceTiers (its own or the campaign's) reached, where it fell below unitPrice (sku → minor units); buyers who paid more are refunded the difference (reason price-drop)",
      }),
    payment: z
      .object({ mode: z.enum(['full', 'deposit']), deposit: z.number().int().optional(), balanceWindowHours: z.number().optional(), depositDiscount: z.number().int().optional() })
      .optional()
      .openapi({ description: 'How buyers pay: absent or full, when they order; deposit, a deposit then and the balance once the sale closed (minor units a unit)' }),
    balanceDueBy: Timestamp.optional().openapi({ description: 'A deposit campaign, once its balances were called: they must be paid by then; the unpaid are cancelled and their deposits kept' }),
    demand: z.array(VariantDemand),
    nextTier: NextTier.optional().openapi({ description: 'While the campaign sells, with its own priceTiers: the next tier, "N more units (of any variant) to unlock ¥X"' }),
    remaining: z.number().int().optional(),
    // Owner-only fields below.
    anchorId: z.string().optional(),
    factoryId: z.string().optional(),
    backupFactoryId: z.string().optional(),
    minTotalQuantity: z.number().int().optional(),
    lotSize: z.number().int().optional(),
    maxWaitHours: z.number().optional(),
    liveRoomIds: z.array(z.string()).optional(),
    commission: Commission.optional(),
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

export const Money = z.number().int().openapi({ description: 'Minor units of the campaign currency' });
export const Units = z.number().int().min(0);

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
    source: z.object({ liveRoomId: z.string(), sessionId: z.string().optional(), affiliateId: z.string().optional() }).optional(),
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
