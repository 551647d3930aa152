import { refundsOf } from '#domain/refunds.ts';
import { getBatch, listBatchesForCampaign, type Batch } from '#adapters/batch-store.ts';
import { getPreorders, listPreordersForCampaign } from '#adapters/preorder-store.ts';
import type { Campaign } from '#domain/campaign.ts';
import { defectList } from '#domain/defects.ts';
import { InvalidInputError } from '#domain/errors.ts';
import { refundedUnitsOf, type Preorder, type PreorderStatus } from '#domain/preorder.ts';
import { csvCell, csvDocument, decimalAmount } from '../http/csv.ts';

/**
 * What the anchor's console reads beyond the campaign itself: its batches as
 * production goes, and its buyers' pre-orders (states and amounts, never an
 * address or a phone).
 */


/**
 * A batch as its anchor follows it. Delays, refunds and compensation are its
 * pre-orders' (read with the batch's members): those still in it, and those
 * refunded out of it (cancelled after a delay, rejected without a backup,
 * closed short, past the ceiling). Pre-orders moved to a backup factory after a
 * rejection count in the batch they moved to.
 */
export const campaignBatchView = (b: Batch, members: readonly Preorder[]) => {
  const own = members.filter((p) => p.batchId === b.batchId);
  // Units refunded out of the batch: a price drop at close refunds part of what was paid, not units.
  const refunded = own.filter((p) => refundedUnitsOf(p) > 0);
  const delayed = own.filter((p) => p.firstPromisedShipBy !== undefined && p.promisedShipBy > p.firstPromisedShipBy);
  const compensated = own.filter((p) => (p.compensatedAmount ?? 0) > 0);
  const promised = own.filter((p) => p.status === 'BATCHED' || p.status === 'IN_PRODUCTION' || p.status === 'SHIPPED').map((p) => p.promisedShipBy);
  const latestDelay = delayed.map((p) => p.promisedShipBy).sort().at(-1);
  return {
    batchId: b.batchId,
    status: b.status as Exclude<Batch['status'], 'CUTTING' | 'VOID'>,
    factoryId: b.factoryId,
    reason: b.reason,
    units: b.units,
    preorderCount: b.preorderCount ?? b.preorderIds.length,
    releasedAt: b.releasedAt ?? b.createdAt,
    acceptBy: b.acceptBy ?? b.releasedAt ?? b.createdAt,
    ...(b.acceptedAt !== undefined && { acceptedAt: b.acceptedAt }),
    ...(b.committedShipDate !== undefined && { committedShipDate: b.committedShipDate }),
    ...(b.rejectedAt !== undefined && { rejectedAt: b.rejectedAt }),
    ...(b.rejectedReason !== undefined && { rejectedReason: b.rejectedReason }),
    ...(b.next !== undefined && { next: b.next }),
    ...(b.completedAt !== undefined && { completedAt: b.completedAt }),
    ...(b.closedShortReason !== undefined && { closedShortReason: b.closedShortReason }),
    ...(b.withdrawnAt !== undefined && { withdrawnAt: b.withdrawnAt }),
    // A batch reported in totals only has no per-sku counts: a single line carries the totals, several show none.
    lines: b.lines.map((l) => ({
      sku: l.sku,
      quantity: l.quantity,
      produced: l.produced ?? (b.lines.length === 1 ? b.produced : 0),
      qcPassed: l.qcPassed ?? (b.lines.length === 1 ? b.qcPassed : 0),
      qcFailed: l.qcFailed ?? (b.lines.length === 1 ? b.qcFailed : 0),
      shipped: l.shipped,
    })),
    produced: b.produced,
    qcPassed: b.qcPassed,
    qcFailed: b.qcFailed,
    defects: defectList(b.defects),
    shipped: b.shipped,
    ...(promised.length > 0 && { promisedShipBy: promised.sort().at(-1) }),
    delays: { preorders: delayed.length, ...(latestDelay !== undefined && { latestPromisedShipBy: latestDelay }) },
    refunds: {
      preorders: refunded.length,
      units: refunded.reduce((n, p) => n + refundedUnitsOf(p), 0),
      amount: refunded.reduce((n, p) => n + p.refundedAmount - refundsOf(p).reduce((m, r) => m + (r.reason === 'price-drop' ? r.amount : 0), 0), 0),
    },
    compensation: { preorders: compensated.length, amount: compensated.reduce((n, p) => n + (p.compensatedAmount ?? 0), 0) },
  };
};

/** Every batch of the campaign that reached a factory, oldest first, with its members' delays and refunds. */
export const campaignBatches = async (c: Campaign) => {
  const headers = (await listBatchesForCampaign(c.campaignId))
    .filter((b) => b.status !== 'CUTTING' && b.status !== 'VOID')
    .sort((a, b) => (a.releasedAt ?? a.createdAt).localeCompare(b.releasedAt ?? b.createdAt));
  // The index holds headers; each batch's members are its own second item.
  const batches = await Promise.all(headers.map(async (h) => (await getBatch(h.batchId, false)) ?? h));
  // A pre-order moved to the backup factory is a member of two batches: read once, counted where it is now.
  const members = new Map((await getPreorders([...new Set(batches.flatMap((b) => b.preorderIds))])).map((p) => [p.preorderId, p]));
  return {
    campaignId: c.campaignId,
    currency: c.currency,
    items: batches.map((b) => campaignBatchView(b, b.preorderIds.flatMap((id) => members.get(id) ?? []))),
  };
};

/** A pre-order as its anchor sees it: no address, no phone. */
export const anchorPreorderView = (p: Preorder) => ({
  preorderId: p.preorderId,
  buyerId: p.buyerId,
  sku: p.sku,
  quantity: p.quantity,
  unitPrice: p.unitPrice,
  amount: p.amount,
  currency: p.currency,
  status: p.status,
  ...(p.batchId !== undefined && { batchId: p.batchId }),
  promisedShipBy: p.promisedShipBy,
  originalPromisedShipBy: p.firstPromisedShipBy ?? p.promisedShipBy,
  shippedQuantity: p.shippedQuantity ?? 0,
  deliveredQuantity: p.deliveredQuantity ?? 0,
  refundedAmount: p.refundedAmount,
  compensatedAmount: p.compensatedAmount ?? 0,
  locale: p.locale,
  ...(p.source !== undefined && { source: p.source }),
  createdAt: p.createdAt,
  updatedAt: p.updatedAt,
});

export type AnchorPreorder = ReturnType<typeof anchorPreorderView>;

export const campaignPreorders = async (
  c: Campaign,
  query: { limit: number; status?: PreorderStatus | undefined; buyerId?: string | undefined; cursor?: string | undefined },
) => {
  const page = await listPreordersForCampaign(c, query);
  if (page === 'invalid-cursor') throw new InvalidInputError('The cursor is not one this API gave out', [{ path: 'cursor', message: 'invalid cursor' }]);
  return { items: page.items.map(anchorPreorderView), ...(page.nextCursor && { nextCursor: page.nextCursor }) };
};

const csvColumns = [
  'preorderId',
  'buyerId',
  'sku',
  'quantity',
  'unitPrice',
  'amount',
  'currency',
  'status',
  'batchId',
  'promisedShipBy',
  'originalPromisedShipBy',
  'shippedQuantity',
  'deliveredQuantity',
  'refundedAmount',
  'compensatedAmount',
  'locale',
  'createdAt',
  'updatedAt',
] as const satisfies readonly (keyof AnchorPreorder)[];

const moneyColumns = new Set<string>(['unitPrice', 'amount', 'refundedAmount', 'compensatedAmount']);

/**
 * The page as CSV: UTF-8 with a BOM (so spreadsheets read Chinese right), a
 * header row, amounts as decimals in the row's currency (the JSON has minor units).
 */
export const preordersCsv = (items: readonly AnchorPreorder[]): string => {
  const row = (p: AnchorPreorder) =>
    csvColumns.map((k) => (moneyColumns.has(k) ? decimalAmount(p[k] as number, p.currency) : csvCell(p[k]))).join(',');
  return csvDocument(csvColumns, items.map(row));
};
