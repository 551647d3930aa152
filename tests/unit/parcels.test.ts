import { describe, expect, it } from 'vitest';
import { InvalidInputError } from '../../functions/domain/errors.ts';
import {
  attachParcels,
  deliverParcel,
  labelFor,
  maxLabelsPerParcel,
  ParcelLockedError,
  ParcelRelabelledTooOftenError,
  ParcelNotFoundError,
  type ParcelledLot,
} from '../../functions/domain/parcels.ts';

// Per-buyer parcels of a lot, as pure rules: who may have one, what re-attaching does, when the lot is delivered.

const t0 = new Date('2026-12-01T10:00:00.000Z');
const t1 = new Date('2026-12-02T10:00:00.000Z');
const lot = (over: Partial<ParcelledLot> = {}): ParcelledLot => ({
  shipmentId: 'shp_1',
  status: 'SHIPPED',
  allocations: [{ preorderId: 'po_a' }, { preorderId: 'po_b' }, { preorderId: 'po_c' }],
  parcels: [],
  ...over,
});
const parcel = (preorderId: string, trackingNumber: string, carrier = 'SF Express') => ({ preorderId, carrier, trackingNumber });

const issuesOf = (f: () => unknown) => {
  try {
    f();
  } catch (err) {
    if (err instanceof InvalidInputError) return err.errors.map((e) => [e.path, e.code]);
    throw err;
  }
  throw new Error('no error');
};

describe('Attaching per-buyer parcels to a lot', () => {
  it('When parcels name pre-orders of the lot, they are kept in the lot\'s allocation order and all are reported as changed', () => {
    const d = attachParcels(lot(), [parcel('po_c', 'SF-C'), parcel('po_a', 'SF-A')], t0);
    expect(d.kind).toBe('changed');
    if (d.kind !== 'changed') return;
    expect(d.parcels.map((p) => p.preorderId)).toEqual(['po_a', 'po_c']);
    expect(d.changed.map((p) => p.trackingNumber)).toEqual(['SF-A', 'SF-C']);
    expect(d.parcels[0]).toEqual({ preorderId: 'po_a', carrier: 'SF Express', trackingNumber: 'SF-A', attachedAt: t0.toISOString(), labels: 1 });
  });

  it('When any parcel names a pre-order outside the lot, or one twice, nothing is attached and each bad entry is named by its index', () => {
    expect(issuesOf(() => attachParcels(lot(), [parcel('po_a', 'SF-A'), parcel('po_x', 'SF-X'), parcel('po_a', 'SF-A2')], t0))).toEqual([
      ['parcels.1.preorderId', 'not_in_lot'],
      ['parcels.2.preorderId', 'duplicate_preorder'],
    ]);
    expect(issuesOf(() => attachParcels(lot(), [], t0))).toEqual([['parcels', 'too_small']]);
  });

  it('When the same parcel is sent again it changes nothing; a new tracking number replaces it until it is delivered', () => {
    const first = attachParcels(lot(), [parcel('po_a', 'SF-A')], t0);
    if (first.kind !== 'changed') throw new Error('expected a change');
    const withA = lot({ parcels: first.parcels });
    expect(attachParcels(withA, [parcel('po_a', 'SF-A')], t1)).toEqual({ kind: 'unchanged' });
    const mixed = attachParcels(withA, [parcel('po_b', 'SF-B'), parcel('po_a', 'SF-A')], t1);
    if (mixed.kind !== 'changed') throw new Error('expected a change');
    expect(mixed.changed.map((p) => p.preorderId)).toEqual(['po_b']);
    expect(mixed.parcels.find((p) => p.preorderId === 'po_a')?.attachedAt).toBe(t0.toISOString());
    const replaced = attachParcels(withA, [parcel('po_a', 'SF-A9', 'EMS')], t1);
    if (replaced.kind !== 'changed') throw new Error('expected a change');
    expect(replaced.parcels).toEqual([{ preorderId: 'po_a', carrier: 'EMS', trackingNumber: 'SF-A9', attachedAt: t1.toISOString(), labels: 2 }]);
    expect(replaced.changed).toHaveLength(1);
  });

  it('When a parcel was delivered, or the whole lot was, a different label is refused (409) and the same one is still fine', () => {
    const delivered = lot({ parcels: [{ ...parcel('po_a', 'SF-A'), attachedAt: t0.toISOString(), deliveredAt: t1.toISOString() }] });
    expect(() => attachParcels(delivered, [parcel('po_b', 'SF-B'), parcel('po_a', 'SF-A2')], t1)).toThrow(ParcelLockedError);
    expect(attachParcels(delivered, [parcel('po_a', 'SF-A')], t1)).toEqual({ kind: 'unchanged' });
    expect(() => attachParcels(lot({ status: 'DELIVERED' }), [parcel('po_b', 'SF-B')], t1)).toThrow(ParcelLockedError);
  });
});

describe('How often a parcel may be relabelled', () => {
  it('A parcel takes at most five labels: each new one counts, the same one again does not, and the sixth is refused (409) with nothing changed', () => {
    let current = lot();
    for (let k = 1; k <= maxLabelsPerParcel; k++) {
      const d = attachParcels(current, [parcel('po_a', `SF-${k}`)], t0);
      expect(d.kind).toBe('changed');
      if (d.kind !== 'changed') return;
      expect(d.changed[0]?.labels).toBe(k);
      current = lot({ parcels: d.parcels });
    }
    expect(attachParcels(current, [parcel('po_a', `SF-${maxLabelsPerParcel}`)], t1).kind).toBe('unchanged');
    expect(() => attachParcels(current, [parcel('po_a', 'SF-6')], t1)).toThrow(ParcelRelabelledTooOftenError);
    // All or none: another buyer's first parcel in the same request is refused with it.
    expect(() => attachParcels(current, [parcel('po_b', 'SF-B'), parcel('po_a', 'SF-6')], t1)).toThrow(/parcels\.1 .*5 labels/);
  });

  it('A parcel stored before labels were counted counts as one label', () => {
    const stored = lot({ parcels: [{ preorderId: 'po_a', carrier: 'SF Express', trackingNumber: 'SF-OLD', attachedAt: t0.toISOString() }] });
    const d = attachParcels(stored, [parcel('po_a', 'SF-NEW')], t1);
    expect(d.kind === 'changed' && d.changed[0]?.labels).toBe(2);
  });
});

describe('Delivering one parcel', () => {
  const attached = (ids: string[]) => ids.map((id) => ({ ...parcel(id, `SF-${id}`), attachedAt: t0.toISOString() }));

  it('delivers that parcel only, once; the lot is delivered with the last parcel only when every buyer has one', () => {
    const partial = lot({ parcels: attached(['po_a', 'po_b']) });
    const a = deliverParcel(partial, 'po_a', t1);
    if (a.kind !== 'delivered') throw new Error('expected a delivery');
    expect(a.parcels.map((p) => p.deliveredAt)).toEqual([t1.toISOString(), undefined]);
    expect(a.lotDelivered).toBe(false);
    expect(deliverParcel(lot({ parcels: a.parcels }), 'po_a', t1)).toEqual({ kind: 'unchanged' });
    // po_c has no parcel: all parcels delivered is not the lot delivered.
    expect((deliverParcel(lot({ parcels: a.parcels }), 'po_b', t1) as { lotDelivered: boolean }).lotDelivered).toBe(false);

    const whole = lot({ parcels: attached(['po_a', 'po_b', 'po_c']).map((p) => (p.preorderId === 'po_c' ? p : { ...p, deliveredAt: t0.toISOString() })) });
    expect((deliverParcel(whole, 'po_c', t1) as { lotDelivered: boolean }).lotDelivered).toBe(true);
  });

  it('is not found for a pre-order without a parcel, and changes nothing on a lot delivered as a whole', () => {
    expect(() => deliverParcel(lot({ parcels: attached(['po_a']) }), 'po_b', t1)).toThrow(ParcelNotFoundError);
    expect(deliverParcel(lot({ status: 'DELIVERED', parcels: attached(['po_a']) }), 'po_a', t1)).toEqual({ kind: 'unchanged' });
  });
});

describe('The label a buyer\'s units travel under', () => {
  it('is their parcel\'s when the lot has one for them, else the lot\'s', () => {
    const shipment = { carrier: 'SF Express', trackingNumber: 'LOT-1', parcels: [{ ...parcel('po_a', 'PAR-A', 'EMS'), attachedAt: t0.toISOString() }] };
    expect(labelFor(shipment, 'po_a')).toEqual({ carrier: 'EMS', trackingNumber: 'PAR-A' });
    expect(labelFor(shipment, 'po_b')).toEqual({ carrier: 'SF Express', trackingNumber: 'LOT-1' });
  });
});
