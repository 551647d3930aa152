import { DomainError, InvalidInputError, NotFoundError, type FieldIssue } from './errors.ts';

/**
 * Per-buyer parcels of a lot: pure rules, no I/O.
 *
 * A lot leaves the factory under one tracking number; a factory that drop-ships
 * it to each buyer may then name each buyer's own parcel. A parcel is keyed by
 * the pre-order it carries, so a lot has at most one per allocated pre-order:
 * the same parcel sent again changes nothing, a different carrier or tracking
 * number replaces it (a relabelled or mistyped parcel) until it is delivered,
 * and then it is fixed (409); a parcel has at most `maxLabelsPerParcel`
 * labels in all (409 past them). A delivered lot takes no new parcels. A lot
 * whose every buyer has a parcel, all delivered, is delivered as a whole.
 */

export interface Parcel {
  readonly preorderId: string;
  readonly carrier: string;
  readonly trackingNumber: string;
  /** When this carrier and tracking number were set. */
  readonly attachedAt: string;
  readonly deliveredAt?: string;
  /** How many labels the parcel has had, this one included (absent on parcels stored before it was counted: 1). */
  readonly labels?: number;
}

/**
 * How many labels one buyer's parcel may have. Each new label is a step on the
 * buyer's pre-order (they are told the new tracking number), kept in its one
 * item; a bound keeps that item bounded. A relabel or two is the real case (a
 * mistyped number, a carrier's new label).
 */
export const maxLabelsPerParcel = 5;

export interface ParcelRequest {
  readonly preorderId: string;
  readonly carrier: string;
  readonly trackingNumber: string;
}

/** What the rules read of a lot. */
export interface ParcelledLot {
  readonly shipmentId: string;
  readonly status: 'SHIPPED' | 'DELIVERED';
  readonly allocations: readonly { readonly preorderId: string }[];
  readonly parcels: readonly Parcel[];
}

/** The parcel of this pre-order is not in the lot (no such pre-order in it, or none attached yet). */
export class ParcelNotFoundError extends NotFoundError {
  constructor(shipmentId: string, preorderId: string) {
    super(`Shipment ${shipmentId} has no parcel for pre-order ${preorderId}`);
  }
}

/** A parcel that was delivered, or a lot that was, no longer changes. */
export class ParcelLockedError extends DomainError {
  readonly kind = 'conflict';
  override readonly title = 'Parcel already delivered';
}

/** A parcel that has had as many labels as it may (maxLabelsPerParcel). */
export class ParcelRelabelledTooOftenError extends DomainError {
  readonly kind = 'conflict';
  override readonly title = 'Parcel relabelled too often';
}

const sameLabel = (a: Pick<Parcel, 'carrier' | 'trackingNumber'>, b: Pick<Parcel, 'carrier' | 'trackingNumber'>) =>
  a.carrier === b.carrier && a.trackingNumber === b.trackingNumber;

export type AttachDecision =
  | { readonly kind: 'unchanged' }
  /** `parcels`: the lot's parcels after the change; `changed`: those added or replaced by it; both in allocation order. */
  | { readonly kind: 'changed'; readonly parcels: readonly Parcel[]; readonly changed: readonly Parcel[] };

/**
 * Attaches the requested parcels to the lot, all or none. Every pre-order must
 * be allocated in the lot (else 400 naming each `parcels.<i>.preorderId`) and
 * named once; a parcel that would change after its delivery, or a new one on a
 * delivered lot, refuses the whole request (409).
 */
export const attachParcels = (lot: ParcelledLot, requested: readonly ParcelRequest[], now: Date): AttachDecision => {
  const issues: FieldIssue[] = [];
  if (requested.length === 0) issues.push({ path: 'parcels', message: 'at least one parcel', code: 'too_small', params: { minimum: 1, origin: 'array' } });
  const allocated = new Set(lot.allocations.map((a) => a.preorderId));
  const seen = new Set<string>();
  requested.forEach((r, i) => {
    if (!allocated.has(r.preorderId)) {
      issues.push({ path: `parcels.${i}.preorderId`, message: `pre-order ${r.preorderId} has no units in this lot`, code: 'not_in_lot' });
    } else if (seen.has(r.preorderId)) {
      issues.push({ path: `parcels.${i}.preorderId`, message: 'each pre-order at most once', code: 'duplicate_preorder' });
    }
    seen.add(r.preorderId);
  });
  if (issues.length > 0) throw new InvalidInputError('Some parcels are not for pre-orders of this lot', issues);

  const at = now.toISOString();
  const byPreorder = new Map(lot.parcels.map((p) => [p.preorderId, p]));
  const changed: Parcel[] = [];
  requested.forEach((r, i) => {
    const current = byPreorder.get(r.preorderId);
    if (current && sameLabel(current, r)) return;
    if (current?.deliveredAt !== undefined) {
      throw new ParcelLockedError(`The parcel of parcels.${i} (pre-order ${r.preorderId}) was delivered; its carrier and tracking number no longer change`);
    }
    if (lot.status === 'DELIVERED') {
      throw new ParcelLockedError(`Shipment ${lot.shipmentId} was delivered; its parcels no longer change (parcels.${i}, pre-order ${r.preorderId})`);
    }
    const labels = current ? (current.labels ?? 1) + 1 : 1;
    if (labels > maxLabelsPerParcel) {
      throw new ParcelRelabelledTooOftenError(`The parcel of parcels.${i} (pre-order ${r.preorderId}) has had ${maxLabelsPerParcel} labels, the most it may have`);
    }
    const next: Parcel = { preorderId: r.preorderId, carrier: r.carrier, trackingNumber: r.trackingNumber, attachedAt: at, labels };
    byPreorder.set(r.preorderId, next);
    changed.push(next);
  });
  if (changed.length === 0) return { kind: 'unchanged' };
  // Kept in the lot's allocation order, whatever order they were attached in.
  const order = new Map(lot.allocations.map((a, i) => [a.preorderId, i]));
  const byOrder = (a: Parcel, b: Parcel) => (order.get(a.preorderId) ?? 0) - (order.get(b.preorderId) ?? 0);
  return { kind: 'changed', parcels: [...byPreorder.values()].sort(byOrder), changed: changed.sort(byOrder) };
};

export type DeliverDecision =
  | { readonly kind: 'unchanged' }
  /** `lotDelivered`: this was the last of a lot whose every pre-order has a parcel: the lot is delivered too. */
  | { readonly kind: 'delivered'; readonly parcels: readonly Parcel[]; readonly parcel: Parcel; readonly lotDelivered: boolean };

/**
 * The carrier delivered one buyer's parcel. Again, or on a lot delivered as a
 * whole (which delivered it too), changes nothing.
 */
export const deliverParcel = (lot: ParcelledLot, preorderId: string, now: Date): DeliverDecision => {
  const parcel = lot.parcels.find((p) => p.preorderId === preorderId);
  if (!parcel) throw new ParcelNotFoundError(lot.shipmentId, preorderId);
  if (parcel.deliveredAt !== undefined || lot.status === 'DELIVERED') return { kind: 'unchanged' };
  const delivered: Parcel = { ...parcel, deliveredAt: now.toISOString() };
  const parcels = lot.parcels.map((p) => (p.preorderId === preorderId ? delivered : p));
  const done = new Set(parcels.filter((p) => p.deliveredAt !== undefined).map((p) => p.preorderId));
  return { kind: 'delivered', parcels, parcel: delivered, lotDelivered: lot.allocations.every((a) => done.has(a.preorderId)) };
};

/** The label a buyer's units travel under: their parcel's when the lot has one for them, else the lot's. */
export const labelFor = (
  lot: { readonly carrier: string; readonly trackingNumber: string; readonly parcels?: readonly Parcel[] },
  preorderId: string,
): { carrier: string; trackingNumber: string } => {
  const parcel = lot.parcels?.find((p) => p.preorderId === preorderId);
  return parcel ? { carrier: parcel.carrier, trackingNumber: parcel.trackingNumber } : { carrier: lot.carrier, trackingNumber: lot.trackingNumber };
};
