import { priceNow, stillHeld } from '#domain/pricing.ts';
import { getBatch, liveLine, type Batch } from '#adapters/batch-store.ts';
import { getCampaign } from '#adapters/campaign-store.ts';
import { eventOf, type DomainEvent } from '#adapters/event-bus.ts';
import {
  applyDelivery,
  applyShipment,
  noticeDelay,
  refundUnits,
  relabelShipment,
  startProduction,
  type Outcome,
} from '#adapters/fulfillment-store.ts';
import { publishCommitted } from '#adapters/outbox.ts';
import { getPreorder, getPreorders } from '#adapters/preorder-store.ts';
import { getShipment, type Shipment } from '#adapters/shipment-store.ts';
import { tallies } from '#adapters/trust-store.ts';
import { ceilingOf, endOfDay, lateCompensation, notPast, shortfalls } from '#domain/fulfillment.ts';
import { labelFor } from '#domain/parcels.ts';
import type { Campaign } from '#domain/campaign.ts';
import { localeOf, type Preorder, type PreorderShipment, type PreorderStatus, type TimelineEntry } from '#domain/preorder.ts';
import { dayOf, noticeEntry } from '#domain/notices.ts';
import { log } from '#shared/observability.ts';
import { inParallel } from '../batches/cutting.ts';
import { flushNotifications } from '../notifications/flush.ts';
import { ceilingReason } from './ceiling.ts';

/**
 * Production, carried back to each buyer. Every function here is safe to run
 * twice, concurrently, or after a crash half way: each pre-order change is
 * conditional on the pre-order as read, and re-read and re-decided when it
 * lost a race ('stale').
 */
const dayMs = 24 * 3600_000;

/** Re-reads and re-decides until the change is done or no longer applies. */
const settle = async (preorderId: string, attempt: (p: Preorder) => Promise<Outcome | 'skip'>): Promise<boolean> => {
  for (let round = 0; round < 8; round++) {
    const p = await getPreorder(preorderId, true);
    if (!p) return false;
    const outcome = await attempt(p);
    if (outcome === 'done') return true;
    if (outcome === 'skip' || outcome === 'not-applicable') return false;
  }
  throw new Error(`pre-order ${preorderId} kept changing under fulfillment; the message will come back`);
};

/** What every event about a pre-order in a batch names. */
const aboutPreorder = (p: Preorder, batch: Pick<Batch, 'batchId' | 'factoryId'>, now: Date) => ({
  campaignId: p.campaignId,
  preorderId: p.preorderId,
  batchId: batch.batchId,
  factoryId: batch.factoryId,
  occurredAt: now.toISOString(),
  sku: p.sku,
});

/**
 * The factory accepted: each pre-order of the batch is IN_PRODUCTION and is
 * promised the factory's date. A date later than the buyer's promise is a
 * delay notice (`preorder.delayed`), and the buyer may then cancel.
 */
export const startBatchProduction = async (batchId: string): Promise<void> => {
  const batch = await getBatch(batchId);
  if (!batch?.committedShipDate || !['ACCEPTED', 'IN_PRODUCTION', 'PARTIALLY_SHIPPED', 'COMPLETED'].includes(batch.status)) return;
  const campaign = await getCampaign(batch.campaignId);
  const committed = endOfDay(batch.committedShipDate);
  const touched = await inParallel(batch.preorderIds, (id) =>
    settle(id, async (p) => {
      if (p.batchId !== batchId || p.status !== 'BATCHED') return 'skip';
      // Never past the buyer's ceiling, whatever the factory committed to.
      const promise = notPast(
        committed,
        campaign && ceilingOf({ originalPromisedShipBy: p.firstPromisedShipBy ?? p.promisedShipBy }, campaign.maxDelayDays),
      );
      const now = new Date();
      const delayed = promise > p.promisedShipBy;
      const shipBy = dayOf(promise);
      const entries: TimelineEntry[] = [
        noticeEntry({ at: now.toISOString(), status: 'IN_PRODUCTION' }, 'preorder.in_production', { shipBy }, localeOf(p)),
        ...(delayed
          ? [
              noticeEntry(
                { at: now.toISOString(), status: 'IN_PRODUCTION', step: 'delayed' },
                'preorder.delayed_at_acceptance',
                { promisedShipBy: dayOf(p.promisedShipBy), shipBy },
                localeOf(p),
              ),
            ]
          : []),
      ];
      const events = delayed
        ? [eventOf('preorder.delayed', { ...aboutPreorder(p, batch, now), status: 'IN_PRODUCTION', committedShipDate: batch.committedShipDate, promisedShipBy: promise }, `${p.preorderId}:${batch.batchId}:${promise}`)]
        : [];
      const outcome = await startProduction(p, batchId, promise, entries, events, now);
      if (outcome === 'done') await publishCommitted(events);
      return outcome;
    }),
  );
  await flushNotifications(batch.preorderIds.filter((_, i) => touched[i]));
};

/**
 * A lot's units reach the buyers the shipment was allocated to (decided when it
 * was counted on the batch). A pre-order that now has every unit it will get is
 * SHIPPED (`preorder.shipped`, once) and tallied on time or late.
 */
export const shipToBuyers = async (shipmentId: string, only?: ReadonlySet<string>): Promise<void> => {
  const shipment = await getShipment(shipmentId);
  if (!shipment) return;
  const batch = await getBatch(shipment.batchId);
  if (!batch) return;
  const campaign = await getCampaign(batch.campaignId);
  const allocations = shipment.allocations.filter((a) => !only || only.has(a.preorderId));
  const touched = await inParallel(allocations, (a) => settle(a.preorderId, (p) => applyOne(p, batch, shipment, a.quantity, campaign)));
  await flushNotifications(allocations.filter((_, i) => touched[i]).map((a) => a.preorderId));
};

const applyOne = async (
  p: Preorder,
  batch: Batch,
  shipment: Shipment,
  quantity: number,
  campaign: Pick<Campaign, 'lateCompensation'> | undefined,
): Promise<Outcome | 'skip'> => {
  if (p.batchId !== batch.batchId || (p.shipments ?? []).some((s) => s.shipmentId === shipment.shipmentId)) return 'skip';
  const now = new Date();
  const shipped = (p.shippedQuantity ?? 0) + quantity;
  const full = shipped + (p.refundedUnits ?? 0) >= p.quantity;
  // The buyer's own parcel when the factory named one already, else the lot's label.
  const parcel = labelFor(shipment, p.preorderId);
  const entry: PreorderShipment = {
    shipmentId: shipment.shipmentId,
    ...parcel,
    quantity,
    shippedAt: shipment.createdAt,
  };
  const status: PreorderStatus = full ? 'SHIPPED' : 'IN_PRODUCTION';
  // The carrier is the factory's free text: a param for the platform, never in our message.
  const entries: TimelineEntry[] = [
    full
      ? noticeEntry({ at: now.toISOString(), status }, 'preorder.shipped', { quantity, shipped, ...parcel }, localeOf(p))
      : noticeEntry(
          { at: now.toISOString(), status, step: 'partly-shipped' },
          'preorder.partly_shipped',
          { quantity, shipped, ordered: p.quantity, ...parcel },
          localeOf(p),
        ),
  ];
  const promised = p.firstPromisedShipBy ?? p.promisedShipBy;
  // Late against the date promised at order time: compensation, once per pre-order (the first late lot earns it;
  // the write is conditional on the counters read, so a redelivered or concurrent lot cannot earn it again).
  const compensation =
    p.compensatedAmount === undefined ? lateCompensation(campaign?.lateCompensation, { amount: priceNow(p) * p.quantity, originalPromisedShipBy: promised }, shipment.createdAt) : 0;
  if (compensation > 0) {
    entries.push(
      noticeEntry({ at: now.toISOString(), status, step: 'compensated' }, 'preorder.compensated', { promisedShipBy: dayOf(promised), amount: compensation, currency: p.currency }, localeOf(p)),
    );
  }
  const events = [
    ...(full ? [eventOf('preorder.shipped', { ...aboutPreorder(p, batch, now), status: 'SHIPPED', quantity: shipped }, p.preorderId)] : []),
    ...(compensation > 0
      ? [eventOf('preorder.compensated', { ...aboutPreorder(p, batch, now), status, compensatedAmount: compensation, currency: p.currency, promisedShipBy: promised }, p.preorderId)]
      : []),
  ];
  const committed = batch.committedShipDate ? endOfDay(batch.committedShipDate) : promised;
  const paid = compensation > 0 ? { compensated: 1, compensatedAmount: compensation, currency: p.currency } : {};
  const also =
    full || compensation > 0
      ? tallies(
          p.campaignId,
          batch.factoryId,
          p.preorderId,
          { ...(full && { shipped: 1, shippedOnTime: shipment.createdAt <= promised ? 1 : 0 }), ...paid },
          { ...(full && { shipped: 1, shippedOnTime: shipment.createdAt <= committed ? 1 : 0 }), ...paid },
        )
      : [];
  const outcome = await applyShipment(p, batch.batchId, entry, { status, full, ...(compensation > 0 && { compensatedAmount: compensation }) }, entries, events, also, now);
  if (outcome === 'done') await publishCommitted(events);
  return outcome;
};

/**
 * The carrier delivered a lot: its units are counted as arrived, and a
 * pre-order whose every unit (that will ever come) has arrived is DELIVERED
 * (`preorder.delivered`, once), with its days from order to door tallied.
 * Buyers whose own parcel was confirmed delivered before keep that delivery.
 */
export const deliverToBuyers = async (shipmentId: string): Promise<void> => {
  const shipment = await getShipment(shipmentId);
  if (shipment?.status !== 'DELIVERED') return;
  const batch = await getBatch(shipment.batchId);
  if (!batch) return;
  // Events can arrive out of order: units are shipped to a buyer, and under their parcel's label, before they are delivered.
  await shipToBuyers(shipmentId);
  await relabelForParcels(shipmentId);
  const lotDeliveredAt = shipment.deliveredAt ?? new Date().toISOString();
  // A parcel confirmed on its own arrived when it was confirmed, even if that event is still on its way.
  const parcelDeliveredAt = new Map(shipment.parcels.flatMap((x) => (x.deliveredAt ? [[x.preorderId, x.deliveredAt] as const] : [])));
  const touched = await inParallel(shipment.allocations, (a) =>
    settle(a.preorderId, (p) => deliverOne(p, batch, shipmentId, parcelDeliveredAt.get(a.preorderId) ?? lotDeliveredAt)),
  );
  await flushNotifications(shipment.allocations.filter((_, i) => touched[i]).map((a) => a.preorderId));
};

/**
 * The carrier delivered one buyer's parcel of a drop-shipped lot: that buyer's
 * units are delivered exactly as a whole lot's would be (notice, event, days to
 * delivery in the trust figures), and nobody else's.
 */
export const deliverParcelToBuyer = async (shipmentId: string, preorderId: string): Promise<void> => {
  const shipment = await getShipment(shipmentId);
  const parcel = shipment?.parcels.find((x) => x.preorderId === preorderId);
  // A lot delivered as a whole delivered its parcels (deliverToBuyers).
  const deliveredAt = parcel?.deliveredAt ?? (shipment?.status === 'DELIVERED' ? shipment.deliveredAt : undefined);
  if (!shipment || !parcel || !deliveredAt) return;
  const batch = await getBatch(shipment.batchId);
  if (!batch) return;
  const only = new Set([preorderId]);
  await shipToBuyers(shipmentId, only);
  await relabelForParcels(shipmentId, only);
  await settle(preorderId, (p) => deliverOne(p, batch, shipmentId, deliveredAt));
  await flushNotifications([preorderId]);
};

const deliverOne = async (p: Preorder, batch: Batch, shipmentId: string, deliveredAt: string): Promise<Outcome | 'skip'> => {
  const mine = (p.shipments ?? []).find((s) => s.shipmentId === shipmentId);
  if (p.batchId !== batch.batchId || !mine || mine.deliveredAt) return 'skip';
  const now = new Date();
  const delivered = (p.deliveredQuantity ?? 0) + mine.quantity;
  const done = delivered + (p.refundedUnits ?? 0) >= p.quantity;
  const status: PreorderStatus = done ? 'DELIVERED' : p.status;
  const entries: TimelineEntry[] = [
    done
      ? noticeEntry({ at: now.toISOString(), status }, 'preorder.delivered', { quantity: mine.quantity, trackingNumber: mine.trackingNumber }, localeOf(p))
      : noticeEntry(
          { at: now.toISOString(), status, step: 'partly-delivered' },
          'preorder.partly_delivered',
          { quantity: mine.quantity, delivered, expected: p.quantity - (p.refundedUnits ?? 0), trackingNumber: mine.trackingNumber },
          localeOf(p),
        ),
  ];
  const events = done ? [eventOf('preorder.delivered', { ...aboutPreorder(p, batch, now), status: 'DELIVERED', quantity: delivered }, p.preorderId)] : [];
  const days = Math.max(0, Math.floor((Date.parse(deliveredAt) - Date.parse(p.createdAt)) / dayMs));
  const also = done ? tallies(p.campaignId, batch.factoryId, p.preorderId, { deliveredAfterDays: days }, { deliveredAfterDays: days }) : [];
  const shipments = (p.shipments ?? []).map((s) => (s.shipmentId === shipmentId ? { ...s, deliveredAt } : s));
  const outcome = await applyDelivery(p, batch.batchId, shipmentId, { status, shipments, deliveredQuantity: delivered }, entries, events, also, now);
  if (outcome === 'done') await publishCommitted(events);
  return outcome;
};

/**
 * The factory named per-buyer parcels for a lot (`shipment.parcels_added`): a
 * buyer whose units from it are on their way gets their parcel's carrier and
 * tracking number on that shipment, and a notice with the number (once per
 * label: the same parcel again, or a redelivered event, tells nothing new). A
 * buyer not reached by the lot yet gets the parcel's label when it is.
 */
export const tellParcels = async (shipmentId: string): Promise<void> => {
  const shipment = await getShipment(shipmentId);
  if (!shipment || shipment.parcels.length === 0) return;
  // Events can arrive out of order: the lot reaches these buyers first, if shipment.created has not been handled yet.
  const named = new Set(shipment.parcels.map((x) => x.preorderId));
  await shipToBuyers(shipmentId, named);
  await relabelForParcels(shipmentId, named);
};

/** Every (or `only` these) buyer's entry for the lot takes their parcel's current label; flushes their notices. */
const relabelForParcels = async (shipmentId: string, only?: ReadonlySet<string>): Promise<void> => {
  // Read now, after the event: the latest label wins, whatever order the events came in.
  const shipment = await getShipment(shipmentId);
  if (!shipment) return;
  const parcels = shipment.parcels.filter((x) => !only || only.has(x.preorderId));
  if (parcels.length === 0) return;
  const batch = await getBatch(shipment.batchId);
  if (!batch) return;
  await inParallel(parcels, (parcel) =>
    settle(parcel.preorderId, async (p) => {
      const index = (p.shipments ?? []).findIndex((s) => s.shipmentId === shipmentId);
      const mine = p.shipments?.[index];
      if (p.batchId !== batch.batchId || !mine || mine.deliveredAt) return 'skip';
      if (mine.carrier === parcel.carrier && mine.trackingNumber === parcel.trackingNumber) return 'skip';
      const now = new Date();
      const label = { carrier: parcel.carrier, trackingNumber: parcel.trackingNumber };
      const entry = noticeEntry(
        { at: now.toISOString(), status: p.status, step: 'tracking-changed' },
        'preorder.tracking_changed',
        { quantity: mine.quantity, ...label },
        localeOf(p),
      );
      return relabelShipment(p, batch.batchId, index, label, [entry], now);
    }),
  );
  // Flushed whether or not this run wrote: a run that crashed after its write left the notice unsent.
  await flushNotifications(parcels.map((x) => x.preorderId));
};

/**
 * A batch closed short: every unit that will never ship is refunded to its
 * pre-order. Nothing shipped: REFUNDED in full. Part shipped: the rest is
 * refunded and the pre-order ends SHIPPED or DELIVERED for what it got.
 */
export const refundShortfall = async (batchId: string): Promise<void> => {
  const batch = await getBatch(batchId);
  // Closed short by its factory or by the clock at the ceiling (COMPLETED), or taken back by c2m (WITHDRAWN).
  if (!batch || !(batch.status === 'WITHDRAWN' || (batch.status === 'COMPLETED' && batch.closedShortReason))) return;
  const campaign = await getCampaign(batch.campaignId, true);
  if (!campaign) return;
  const line = await liveLine(batch);
  const shippedBySku = Object.fromEntries(batch.lines.map((l) => [l.sku, l.shipped]));
  const owed = shortfalls(line, shippedBySku);
  // Taken back by the clock at the buyers' ceiling, or because the campaign failed, rather than closed by the factory.
  const atCeiling = batch.closedShortReason === ceilingReason;
  const campaignFailed = batch.status === 'WITHDRAWN' && !atCeiling;
  const touched = await inParallel(owed, (short) =>
    settle(short.preorderId, async (p) => {
      if (p.batchId !== batchId || p.refundedUnits !== undefined || p.status === 'REFUNDED') return 'skip';
      const now = new Date();
      const got = p.quantity - short.units;
      const status: PreorderStatus = short.whole
        ? 'REFUNDED'
        : (p.shippedQuantity ?? 0) >= got
          ? (p.deliveredQuantity ?? 0) >= got
            ? 'DELIVERED'
            : 'SHIPPED'
          : p.status === 'BATCHED'
            ? 'IN_PRODUCTION'
            : p.status;
      // At the price the buyer pays now (after a price drop at close, the lower one); the whole: what they still hold.
      const amount = short.whole ? stillHeld(p) : short.units * priceNow(p);
      // The factory's close-short reason stays with the batch; the buyer is told a fixed phrase.
      const money = { amount, currency: p.currency };
      const latestShipBy = dayOf(ceilingOf({ originalPromisedShipBy: p.firstPromisedShipBy ?? p.promisedShipBy }, campaign.maxDelayDays));
      const entries: TimelineEntry[] = [
        atCeiling
          ? noticeEntry(
              { at: now.toISOString(), status: short.whole ? status : p.status === 'BATCHED' ? 'IN_PRODUCTION' : p.status, ...(!short.whole && { step: 'partly-refunded' as const }) },
              'preorder.refunded_at_ceiling',
              { units: short.units, latestShipBy, ...money },
              localeOf(p),
            )
          : campaignFailed
          ? short.whole
            ? noticeEntry({ at: now.toISOString(), status }, 'preorder.refunded_campaign_failed', { minTotalQuantity: campaign.minTotalQuantity, ...money }, localeOf(p))
            : noticeEntry(
                { at: now.toISOString(), status: p.status === 'BATCHED' ? 'IN_PRODUCTION' : p.status, step: 'partly-refunded' },
                'preorder.partly_refunded_campaign_failed',
                { units: short.units, ordered: p.quantity, kept: got, ...money },
                localeOf(p),
              )
          : short.whole
          ? noticeEntry({ at: now.toISOString(), status }, 'preorder.refunded_closed_short', money, localeOf(p))
          : noticeEntry(
              { at: now.toISOString(), status: p.status === 'BATCHED' ? 'IN_PRODUCTION' : p.status, step: 'partly-refunded' },
              'preorder.partly_refunded_closed_short',
              { units: short.units, ordered: p.quantity, kept: got, ...money },
              localeOf(p),
            ),
        // What already came is now the whole order: that is a step of its own.
        ...(!short.whole && (status === 'SHIPPED' || status === 'DELIVERED')
          ? [
              noticeEntry(
                { at: now.toISOString(), status },
                status === 'DELIVERED' ? 'preorder.delivered_all_made' : 'preorder.shipped_all_made',
                { quantity: got },
                localeOf(p),
              ),
            ]
          : []),
      ];
      const events: DomainEvent[] = [
        eventOf('preorder.refunded', { ...aboutPreorder(p, batch, now), status, quantity: short.units, refundedAmount: amount, reason: atCeiling ? 'ceiling' : campaignFailed ? 'campaign-failed' : 'batch-closed-short' }, p.preorderId),
        ...(status === 'DELIVERED' ? [eventOf('preorder.delivered', { ...aboutPreorder(p, batch, now), status, quantity: got }, p.preorderId)] : []),
        ...(status === 'SHIPPED' && (p.shippedQuantity ?? 0) > 0 ? [eventOf('preorder.shipped', { ...aboutPreorder(p, batch, now), status, quantity: got }, p.preorderId)] : []),
      ];
      // A part-shipped pre-order whose missing units are refunded is complete now: tallied as shipped (and delivered).
      const lastShippedAt = (p.shipments ?? []).map((x) => x.shippedAt).sort().at(-1);
      const complete = !short.whole && (status === 'SHIPPED' || status === 'DELIVERED') && lastShippedAt !== undefined;
      const promised = p.firstPromisedShipBy ?? p.promisedShipBy;
      const committed = batch.committedShipDate ? endOfDay(batch.committedShipDate) : promised;
      const lastDeliveredAt = (p.shipments ?? []).map((x) => x.deliveredAt ?? '').sort().at(-1) || now.toISOString();
      const days = Math.max(0, Math.floor((Date.parse(lastDeliveredAt) - Date.parse(p.createdAt)) / dayMs));
      // At the ceiling the promise is broken, whatever shipped before it: a part-shipped pre-order is not on time,
      // and one that got nothing (it never reaches `shipped`) counts as late in the on-time rate, for both.
      const onTime = (by: string) => (!atCeiling && lastShippedAt !== undefined && lastShippedAt <= by ? 1 : 0);
      const broken = atCeiling ? { ceilingRefundedUnits: short.units, ...(short.whole && { unshippedAtCeiling: 1 }) } : {};
      const also = tallies(
        p.campaignId,
        batch.factoryId,
        p.preorderId,
        {
          ...broken,
          ...(complete && { shipped: 1, shippedOnTime: onTime(promised) }),
          ...(status === 'DELIVERED' && { deliveredAfterDays: days }),
        },
        {
          // A campaign that failed is not its factory's failing.
          ...(!campaignFailed && { refundedUnits: short.units }),
          ...broken,
          ...(complete && { shipped: 1, shippedOnTime: onTime(committed) }),
          ...(status === 'DELIVERED' && { deliveredAfterDays: days }),
        },
      );
      const outcome = await refundUnits(p, campaign, batchId, { units: short.units, amount, status }, entries, events, also, now);
      if (outcome === 'done') await publishCommitted(events);
      return outcome;
    }),
  );
  log().info(campaignFailed ? 'withdrawn batch refunded' : 'short batch refunded', { batchId, preorders: owed.length, units: owed.reduce((n, s) => n + s.units, 0) });
  await flushNotifications(owed.filter((_, i) => touched[i]).map((s) => s.preorderId));
};

/**
 * The clock's look at a batch in production whose buyers' promised date has
 * passed with units unshipped: each such buyer gets a delay notice with the new
 * date (once per date) and may cancel; the batch is due again at that date.
 */
export const noticeDelays = async (batch: Batch, newDate: string): Promise<void> => {
  const members = await getPreorders(batch.preorderIds);
  const waiting = members.filter(
    (p) => p.batchId === batch.batchId && (p.status === 'BATCHED' || p.status === 'IN_PRODUCTION') && p.promisedShipBy < newDate,
  );
  const touched = await inParallel(waiting, (member) =>
    settle(member.preorderId, async (p) => {
      if (p.batchId !== batch.batchId || !(p.status === 'BATCHED' || p.status === 'IN_PRODUCTION') || p.promisedShipBy >= newDate) return 'skip';
      const now = new Date();
      const entry = noticeEntry(
        { at: now.toISOString(), status: p.status, step: 'delayed' },
        'preorder.delayed',
        { promisedShipBy: dayOf(p.promisedShipBy), shipBy: dayOf(newDate) },
        localeOf(p),
      );
      const event = eventOf('preorder.delayed', { ...aboutPreorder(p, batch, now), status: p.status, promisedShipBy: newDate }, `${p.preorderId}:${newDate}`);
      const outcome = await noticeDelay(p, batch.batchId, newDate, entry, event, now);
      if (outcome === 'done') await publishCommitted([event]);
      return outcome;
    }),
  );
  await flushNotifications(waiting.filter((_, i) => touched[i]).map((p) => p.preorderId));
};
