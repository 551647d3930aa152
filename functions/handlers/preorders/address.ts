import { batchUnchanged, getBatch, liveLine, type Batch } from '#adapters/batch-store.ts';
import { eventOf } from '#adapters/event-bus.ts';
import { publishCommitted } from '#adapters/outbox.ts';
import { changeShippingAddress } from '#adapters/preorder-store.ts';
import { AddressNotChangeableError, OverloadedError } from '#domain/errors.ts';
import { holdsNoUnits } from '#domain/fulfillment.ts';
import { addressChangesOf, isAddressChangeable, localeOf, maxAddressChanges, sameAddress, type Preorder, type ShippingAddress, type TimelineEntry } from '#domain/preorder.ts';
import { noticeEntry } from '#domain/notices.ts';
import { log } from '#shared/observability.ts';
import type { Principal } from '#shared/principal.ts';
import { findOwnPreorder } from './use-cases.ts';

/**
 * Batch statuses in which the factory holds the batch and may still ship from
 * it: only then is it told of a new address. Before release it reads the
 * current address in the manifest anyway; a batch it rejected, or one taken
 * back, is not its business any more.
 */
const factoryShipsFrom: ReadonlySet<Batch['status']> = new Set(['RELEASED', 'ACCEPTED', 'IN_PRODUCTION', 'PARTIALLY_SHIPPED']);

/** Has a lot counted on the batch gone to this pre-order, though the pre-order may not show it yet? */
const batchShippedTo = async (batch: Batch, p: Preorder): Promise<boolean> => {
  if (!batch.lines.some((l) => l.shipped > 0)) return false;
  const shippedBySku = Object.fromEntries(batch.lines.map((l) => [l.sku, l.shipped]));
  return !holdsNoUnits(await liveLine(batch), shippedBySku, p.preorderId);
};

const refusal = (p: Preorder) =>
  new AddressNotChangeableError(
    p.preorderId,
    p.status,
    (p.shippedQuantity ?? 0) > 0 || p.status === 'SHIPPED' || p.status === 'DELIVERED' ? 'shipped' : 'over',
  );

/**
 * The buyer sends their pre-order to another address, until a unit of it has
 * shipped. One conditional write of the pre-order decided on what was read
 * (and, once batched, on the batch's lots as read), with a timeline entry and
 * `preorder.address_changed` through the outbox: for a batch its factory holds,
 * the event names the batch and the factory, and reaches that factory's
 * webhooks. Sending the current address again changes nothing.
 */
export const changeOwnShippingAddress = async (buyer: Principal, preorderId: string, address: ShippingAddress): Promise<Preorder> => {
  for (let round = 0; round < 8; round++) {
    const p = await findOwnPreorder(buyer, preorderId, true);
    if (!isAddressChangeable(p)) throw refusal(p);
    if (sameAddress(p.shippingAddress, address)) return p;
    // Decided on the pre-order as read; the write is conditional on it (updatedAt), so two changes at once cannot both pass the count.
    if (addressChangesOf(p) >= maxAddressChanges) throw new AddressNotChangeableError(preorderId, p.status, 'too-often');
    const batch = p.status !== 'ACCEPTED' && p.batchId !== undefined ? await getBatch(p.batchId) : undefined;
    if (batch && (await batchShippedTo(batch, p))) throw new AddressNotChangeableError(preorderId, p.status, 'shipped');

    const now = new Date();
    const toldFactory = batch !== undefined && factoryShipsFrom.has(batch.status);
    const entry: TimelineEntry = noticeEntry({ at: now.toISOString(), status: p.status, step: 'address-changed' }, 'preorder.address_changed', {}, localeOf(p));
    const event = eventOf(
      'preorder.address_changed',
      {
        campaignId: p.campaignId,
        preorderId,
        occurredAt: now.toISOString(),
        shippingAddress: address,
        ...(toldFactory && { batchId: batch.batchId, factoryId: batch.factoryId }),
      },
      // The change is the pre-order's next step: one fact, one id, however often the write is retried.
      `${preorderId}:${p.timeline.length}`,
    );
    const outcome = await changeShippingAddress(p, address, entry, [event], batch ? [batchUnchanged(batch)] : [], now);
    if (outcome === 'stale') continue;
    log().info('shipping address changed', { preorderId, campaignId: p.campaignId, status: p.status, batchId: p.batchId, toldFactory });
    await publishCommitted([event]);
    return { ...p, shippingAddress: address, timeline: [...p.timeline, entry], updatedAt: now.toISOString() };
  }
  throw new OverloadedError();
};
