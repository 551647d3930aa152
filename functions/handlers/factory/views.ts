import { defectList } from '#domain/defects.ts';
import type { Batch } from '#adapters/batch-store.ts';
import type { Shipment } from '#adapters/shipment-store.ts';

/** A batch as its factory sees it: no planning internals, counts per line and in total. */
export const batchView = (b: Batch) => ({
  batchId: b.batchId,
  campaignId: b.campaignId,
  factoryId: b.factoryId,
  status: b.status as Exclude<Batch['status'], 'CUTTING' | 'VOID'>,
  reason: b.reason,
  lines: b.lines.map((l) => ({
    sku: l.sku,
    quantity: l.quantity,
    ...(l.produced !== undefined && { produced: l.produced, qcPassed: l.qcPassed ?? 0, qcFailed: l.qcFailed ?? 0 }),
    shipped: l.shipped,
    ...(l.defects && { defects: defectList(l.defects) }),
  })),
  units: b.units,
  preorderCount: b.preorderCount ?? b.preorderIds.length,
  releasedAt: b.releasedAt ?? b.createdAt,
  acceptBy: b.acceptBy ?? b.createdAt,
  ...(b.overdueAt && { overdueAt: b.overdueAt }),
  ...(b.acceptedAt && { acceptedAt: b.acceptedAt }),
  ...(b.committedShipDate && { committedShipDate: b.committedShipDate }),
  ...(b.rejectedAt && { rejectedAt: b.rejectedAt }),
  ...(b.rejectedReason && { rejectedReason: b.rejectedReason }),
  ...(b.completedAt && { completedAt: b.completedAt }),
  ...(b.closedShortReason && { closedShortReason: b.closedShortReason }),
  ...(b.withdrawnAt && { withdrawnAt: b.withdrawnAt }),
  produced: b.produced,
  qcPassed: b.qcPassed,
  qcFailed: b.qcFailed,
  defects: defectList(b.defects),
  shipped: b.shipped,
});

export const shipmentView = (s: Shipment) => ({
  shipmentId: s.shipmentId,
  batchId: s.batchId,
  campaignId: s.campaignId,
  status: s.status,
  carrier: s.carrier,
  trackingNumber: s.trackingNumber,
  items: s.items.map((i) => ({ sku: i.sku, quantity: i.quantity })),
  units: s.units,
  createdAt: s.createdAt,
  ...(s.deliveredAt && { deliveredAt: s.deliveredAt }),
  allocations: (s.allocations ?? []).map((a) => ({ preorderId: a.preorderId, sku: a.sku, quantity: a.quantity })),
  // A lot confirmed delivered as a whole delivered every parcel in it that was not confirmed on its own.
  parcels: s.parcels.map((p) => {
    const deliveredAt = p.deliveredAt ?? s.deliveredAt;
    return { preorderId: p.preorderId, carrier: p.carrier, trackingNumber: p.trackingNumber, ...(deliveredAt && { deliveredAt }) };
  }),
});
