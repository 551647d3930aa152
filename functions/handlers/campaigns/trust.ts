import { listBatchesForCampaign, listBatchesForFactory, type Batch } from '#adapters/batch-store.ts';
import { readDemand } from '#adapters/campaign-store.ts';
import { readTally } from '#adapters/trust-store.ts';
import type { Campaign } from '#domain/campaign.ts';
import { medianOf } from '#domain/fulfillment.ts';
import { latencyFigures } from '#domain/trust.ts';
import { addDefects, defectList } from '#domain/defects.ts';

/**
 * Trust figures: what a buyer weighs before pre-ordering, and what an anchor
 * weighs before choosing a factory. Tallied as pre-orders ship, arrive or are
 * refunded (see adapters/fulfillment-store.ts), QC from the batches' counts.
 */
const rate = (part: number, whole: number) => (whole > 0 ? Math.round((part / whole) * 10_000) / 10_000 : undefined);

const figures = (
  tally: Awaited<ReturnType<typeof readTally>>,
  batches: readonly Batch[],
  refunded: { units: number; of: number },
) => {
  const qcPassed = batches.reduce((n, b) => n + b.qcPassed, 0);
  const qcChecked = qcPassed + batches.reduce((n, b) => n + b.qcFailed, 0);
  const median = medianOf(tally.days);
  // A pre-order refunded at the ceiling with nothing shipped never reaches `shipped`: it is a promise due and broken.
  const onTime = rate(tally.shippedOnTime, tally.shipped + tally.unshippedAtCeiling);
  const latency = latencyFigures(tally.refundLatency);
  const confirmation = latencyFigures(tally.refundConfirmation);
  const qc = rate(qcPassed, qcChecked);
  const defects = defectList(addDefects(batches.map((b) => b.defects)));
  const refunds = rate(refunded.units, refunded.of);
  return {
    ...(onTime !== undefined && { onTimeShipRate: onTime }),
    ...(qc !== undefined && { qcPassRate: qc }),
    ...(defects.length > 0 && { qcDefects: defects }),
    ...(refunds !== undefined && { refundRate: refunds }),
    ...(median !== undefined && { medianDaysToDelivery: median }),
    preordersShipped: tally.shipped,
    preordersDelivered: tally.delivered,
    unitsQcChecked: qcChecked,
    unitsRefunded: refunded.units,
    unitsRefundedAtCeiling: tally.ceilingRefundedUnits,
    compensation: {
      count: tally.compensated,
      amounts: Object.entries(tally.compensatedAmounts)
        .filter(([, amount]) => amount > 0)
        .sort(([a], [b]) => a.localeCompare(b))
        .map(([currency, amount]) => ({ currency, amount })),
    },
    ...(latency && { refundLatency: latency }),
    ...(confirmation && { refundConfirmation: confirmation }),
  };
};

/** A campaign's figures: every refund counts against it, buyer cancels included (units cancelled of units ordered). */
export const campaignTrust = async (campaign: Campaign) => {
  const [tally, batches, demand] = await Promise.all([
    readTally('CAMPAIGN', campaign.campaignId),
    listBatchesForCampaign(campaign.campaignId),
    readDemand(campaign),
  ]);
  return figures(tally, batches, { units: demand.totals.cancelled, of: demand.totals.ordered });
};

/**
 * A factory's figures over its batches: only the refunds it caused (rejections without a backup, short batches,
 * and units the clock took back at the buyers' ceiling, which also count as late in its on-time rate).
 */
export const factoryTrust = async (factoryId: string) => {
  const batches: Batch[] = [];
  let startKey: Record<string, unknown> | undefined;
  for (let page = 0; page < 50; page++) {
    const out = await listBatchesForFactory(factoryId, { limit: 200, ...(startKey && { startKey }) });
    batches.push(...out.items);
    startKey = out.lastKey;
    if (!startKey) break;
  }
  const tally = await readTally('FACTORY', factoryId);
  return figures(tally, batches, { units: tally.refundedUnits, of: tally.batchedUnits });
};
