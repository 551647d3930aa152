import { MetricUnit } from '@aws-lambda-powertools/metrics';
import { awaitsBalance, isDepositCampaign, paidOf } from '#domain/payment.ts';
import { cancelPreorder, getPreorder, getPreorderWithNotices, listPreordersForBuyer, placePreorder as placePreorderRecord } from '#adapters/preorder-store.ts';
import { eventOf, forfeitEvent, type DomainEvent } from '#adapters/event-bus.ts';
import { cancelFromBatch, getBatch, liveLine, productionOf } from '#adapters/batch-store.ts';
import { getCampaign } from '#adapters/campaign-store.ts';
import { holdsNoUnits } from '#domain/fulfillment.ts';
import { removeUnits } from '#domain/production.ts';
import type { Campaign } from '#domain/campaign.ts';
import { publishCommitted } from '#adapters/outbox.ts';
import { acceptsPreordersAt, dueToOpen, findVariant } from '#domain/campaign.ts';
import { cancellationEntry, isCancellable, localeOf, newPreorder, type Preorder, type TimelineEntry } from '#domain/preorder.ts';
import { dayOf, noticeEntry } from '#domain/notices.ts';
import { stillHeld } from '#domain/pricing.ts';
import {
  CampaignCapReachedError,
  CampaignNotFoundError,
  CampaignNotOpenError,
  IdempotencyKeyReusedError,
  InvalidInputError,
  OverloadedError,
  PreorderNotCancellableError,
  PreorderNotFoundError,
} from '#domain/errors.ts';
import type { CreatePreorderBody } from '#contracts/preorders.ts';
import { newId, requestHash } from '#shared/ids.ts';
import { log, metricNames, metrics } from '#shared/observability.ts';
import type { Principal } from '#shared/principal.ts';
import { cachedCampaign, openNow } from './campaign-cache.ts';

export type PlaceOutcome = { preorder: Preorder; replay: boolean };

/**
 * Places a pre-order: one transaction writes it and counts it on a gate of its
 * campaign. With an Idempotency-Key the id is derived from the key, so a retry
 * finds the first pre-order instead of making a second.
 */
export const placePreorder = async (
  buyer: Principal,
  campaignId: string,
  body: CreatePreorderBody,
  idempotencyKey: string | undefined,
): Promise<PlaceOutcome> => {
  const now = new Date();
  const preorderId = newId('po', idempotencyKey && `preorder|${buyer.id}|${idempotencyKey}`);
  const hash = requestHash({ campaignId, body });

  /** A refusal is only final when this is not a retry of a request that was accepted. */
  const replayOr = async (refusal: Error): Promise<PlaceOutcome> => {
    if (idempotencyKey) {
      const existing = await getPreorder(preorderId, true);
      if (existing) return replayOf(existing, hash);
    }
    throw refusal;
  };

  let campaign = await cachedCampaign(campaignId);
  if (!campaign) return replayOr(new CampaignNotFoundError(campaignId));
  const variant = findVariant(campaign, body.sku);
  if (!variant) {
    throw new InvalidInputError(`This campaign has no sku ${body.sku}`, [
      { path: 'sku', message: `unknown sku; this campaign sells ${campaign.variants.map((v) => v.sku).join(', ')}` },
    ]);
  }
  if (body.source && campaign.liveRoomIds && !campaign.liveRoomIds.includes(body.source.liveRoomId)) {
    // Commission is paid on where a pre-order came from: a room the campaign does not name is no source of it.
    throw new InvalidInputError(`Live room ${body.source.liveRoomId} does not sell this campaign`, [
      { path: 'source.liveRoomId', message: `not one of this campaign's live rooms (${campaign.liveRoomIds.join(', ')})`, code: 'unknown_live_room' },
    ]);
  }
  const deposit = isDepositCampaign(campaign) ? campaign.payment : undefined;
  if (deposit && body.paymentRef === undefined) {
    // The deposit is paid on the platform before the pre-order is placed: its reference is what the balance and every refund name.
    throw new InvalidInputError('This campaign takes a deposit: name its payment', [
      { path: 'paymentRef', message: "required in a deposit campaign: the platform's reference of the deposit paid", code: 'payment_ref_required' },
    ]);
  }
  if (!acceptsPreordersAt(campaign, now)) return replayOr(new CampaignNotOpenError(campaignId, campaign.status));
  if (dueToOpen(campaign, now)) campaign = await openNow(campaign, now);

  const open = campaign;
  try {
    const result = await placePreorderRecord(
      (gateTakes) =>
        newPreorder({
          preorderId,
          campaign: open,
          buyerId: buyer.id,
          sku: variant.sku,
          unitPrice: variant.unitPrice,
          quantity: body.quantity,
          shippingAddress: body.shippingAddress,
          ...(body.locale !== undefined && { locale: body.locale }),
          ...(body.paymentRef !== undefined && { paymentRef: body.paymentRef }),
          ...(body.source !== undefined && { source: body.source }),
          ...(deposit && { deposit: { perUnit: deposit.deposit ?? 0, ...(deposit.depositDiscount !== undefined && { discount: deposit.depositDiscount }) } }),
          gateTakes,
          now,
        }),
      open,
      body.quantity,
      hash,
      idempotencyKey ? () => getPreorder(preorderId, true) : undefined,
    );
    if (!result.placed) return replayOf(result.existing, hash);
    metrics.addMetric(metricNames.preordersAccepted, MetricUnit.Count, 1);
    log().info('pre-order accepted', {
      preorderId: result.preorder.preorderId,
      campaignId: result.preorder.campaignId,
      sku: result.preorder.sku,
      quantity: result.preorder.quantity,
    });
    // Nothing more to do here: the table's stream hands the pre-order to intake (listing, announcement, cut).
    return { preorder: result.preorder, replay: false };
  } catch (err) {
    if (err instanceof CampaignCapReachedError) {
      metrics.addMetric(metricNames.preordersRefusedByCap, MetricUnit.Count, 1);
      log().info('pre-order refused: the campaign cap is reached', { campaignId, sku: body.sku, quantity: body.quantity });
    }
    throw err;
  }
};

/**
 * A retry of an accepted pre-order answers as the first time did. Its follow-up
 * needs no second hand-off: the commit itself is on the table's stream, which
 * intake reads (decision 28), so a first attempt that died right after its
 * commit still gets its pre-order listed and announced.
 */
const replayOf = (existing: Preorder & { requestHash: string }, hash: string): PlaceOutcome => {
  if (existing.requestHash !== hash) throw new IdempotencyKeyReusedError();
  return { preorder: existing, replay: true };
};

/** Buyers see only their own pre-orders; operators see any. Anyone else: not found. */
export const findOwnPreorder = async (principal: Principal, preorderId: string, consistent = false) => {
  const p = await getPreorderWithNotices(preorderId, consistent);
  if (!p || (principal.role !== 'operator' && p.buyerId !== principal.id)) throw new PreorderNotFoundError(preorderId);
  return p;
};

export const listOwnPreorders = async (buyer: Principal, limit: number, cursor: string | undefined) => {
  const page = await listPreordersForBuyer(buyer.id, limit, cursor);
  if (page === 'invalid-cursor') throw new InvalidInputError('The cursor is not one this API gave out', [{ path: 'cursor', message: 'invalid cursor' }]);
  return page;
};

/**
 * Cancel before batching: what the buyer paid and still holds comes back (all
 * of it, or less a price drop refunded at close), demand drops, capacity
 * returns under the cap. Decided on a strong read and written on condition
 * that the pre-order is as read: one that changed meanwhile (a price drop
 * landed) is read again and decided again.
 */
export const cancelOwnPreorder = async (buyer: Principal, preorderId: string): Promise<Preorder> => {
  for (let attempt = 0; attempt < 5; attempt++) {
    const p = await findOwnPreorder(buyer, preorderId, true);
    if (!isCancellable(p)) throw new PreorderNotCancellableError(preorderId, p.status);
    const campaign = await cachedCampaign(p.campaignId);
    if (!campaign) throw new CampaignNotFoundError(p.campaignId);
    const now = new Date();
    if (p.status !== 'ACCEPTED') return cancelAfterDelay(buyer, p, campaign, now);
    if (awaitsBalance(p) && !(await sellerAtFault(p))) {
      // A deposit is the buyer's commitment (domain/payment.ts): walking away before paying the balance keeps it.
      const kept = stillHeld(p);
      const entries = [noticeEntry({ at: now.toISOString(), status: 'CANCELLED' }, 'preorder.cancelled_forfeit', { amount: kept, currency: p.currency }, localeOf(p))];
      const events = [forfeitEvent(p, now, kept, 'buyer')];
      if (await cancelPreorder(p, entries, campaign, now, events, 'forfeit')) {
        metrics.addMetric(metricNames.preordersCancelled, MetricUnit.Count, 1);
        log().info('deposit pre-order cancelled by its buyer, deposit kept', { preorderId, campaignId: p.campaignId, forfeitedAmount: kept });
        await publishCommitted(events);
        return { ...p, status: 'CANCELLED', forfeitedAmount: kept, timeline: [...p.timeline, ...entries], updatedAt: now.toISOString() };
      }
      continue;
    }
    const refund = stillHeld(p);
    const entries = [
      noticeEntry({ at: now.toISOString(), status: 'CANCELLED' }, 'preorder.cancelled', {}, localeOf(p)),
      cancellationEntry(now, refund, p.currency, localeOf(p)),
    ];
    const events = cancelEvents(p, now, refund);
    if (await cancelPreorder(p, entries, campaign, now, events)) {
      metrics.addMetric(metricNames.preordersCancelled, MetricUnit.Count, 1);
      log().info('pre-order cancelled and refunded', { preorderId, campaignId: p.campaignId, refundedAmount: refund });
      await publishCommitted(events);
      return { ...p, status: 'REFUNDED', refundedAmount: paidOf(p), timeline: [...p.timeline, ...entries], updatedAt: now.toISOString() };
    }
    // Its status or its refunds changed since the read: read again.
  }
  throw new OverloadedError();
};

/**
 * Has the sale let this buyer down (the campaign failed, or the pre-order's variant missed its minimum)? Then
 * a cancel gives the deposit back like any refund, rather than keep it. Read strongly; the forfeit's own
 * write is conditional on it still being so (cancelPreorder).
 */
const sellerAtFault = async (p: Preorder): Promise<boolean> => {
  const campaign = await getCampaign(p.campaignId, true);
  return campaign?.status === 'FAILED' || (campaign?.variantsMissed ?? []).includes(p.sku);
};

const cancelEvents = (p: Preorder, now: Date, refund: number): DomainEvent[] => {
  const common = { campaignId: p.campaignId, preorderId: p.preorderId, occurredAt: now.toISOString(), sku: p.sku, quantity: p.quantity };
  return [
    eventOf('preorder.cancelled', { ...common, status: 'CANCELLED' }, p.preorderId),
    eventOf('preorder.refunded', { ...common, status: 'REFUNDED', refundedAmount: refund }, p.preorderId),
  ];
};

/**
 * A cancel after a delay notice: the pre-order leaves its batch, which makes
 * that many fewer, provided none of the buyer's units has shipped, which the
 * batch itself decides (a lot counted on it may not have reached the pre-order
 * yet). Decided and written against the batch's version, so a shipment and
 * this cancel cannot both take the same units.
 */
const cancelAfterDelay = async (buyer: Principal, p: Preorder, campaign: Campaign, now: Date): Promise<Preorder> => {
  for (let attempt = 0; attempt < 5; attempt++) {
    const current = attempt === 0 ? p : await findOwnPreorder(buyer, p.preorderId, true);
    if (!isCancellable(current) || !current.batchId) throw new PreorderNotCancellableError(p.preorderId, current.status);
    const batch = await getBatch(current.batchId);
    if (!batch) throw new PreorderNotCancellableError(p.preorderId, current.status);
    const shippedBySku = Object.fromEntries(batch.lines.map((l) => [l.sku, l.shipped]));
    if (!holdsNoUnits(await liveLine(batch), shippedBySku, p.preorderId)) {
      throw new PreorderNotCancellableError(p.preorderId, 'SHIPPED');
    }
    let next;
    try {
      next = removeUnits(productionOf(batch), current.sku, current.quantity, now);
    } catch {
      throw new PreorderNotCancellableError(p.preorderId, current.status);
    }
    const refund = stillHeld(current);
    const entries: TimelineEntry[] = [
      noticeEntry({ at: now.toISOString(), status: 'CANCELLED' }, 'preorder.cancelled_after_delay', { delayedTo: dayOf(current.delayedTo ?? current.promisedShipBy) }, localeOf(current)),
      noticeEntry({ at: now.toISOString(), status: 'REFUNDED' }, 'preorder.refunded_after_delay', { amount: refund, currency: current.currency }, localeOf(current)),
    ];
    const events = cancelEvents(current, now, refund);
    if (await cancelFromBatch(current, campaign, batch, next, entries, events, now)) {
      metrics.addMetric(metricNames.preordersCancelled, MetricUnit.Count, 1);
      log().info('pre-order cancelled after a delay notice and refunded', { preorderId: p.preorderId, batchId: current.batchId, refundedAmount: refund });
      await publishCommitted(events);
      return { ...current, status: 'REFUNDED', refundedAmount: paidOf(current), timeline: [...current.timeline, ...entries], updatedAt: now.toISOString() };
    }
  }
  throw new OverloadedError();
};
