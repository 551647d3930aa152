import { describe, expect, it } from 'vitest';
import {
  accept,
  BatchStateError,
  expire,
  markOverdue,
  reject,
  reportProgress,
  ship,
  type FactoryBatchStatus,
  type ProductionState,
} from '../../functions/domain/production.ts';
import { InvalidInputError } from '../../functions/domain/errors.ts';

const now = new Date('2026-12-01T10:00:00Z');
const released: ProductionState = {
  status: 'RELEASED',
  lines: [
    { sku: 'S', quantity: 10, shipped: 0 },
    { sku: 'M', quantity: 20, shipped: 0 },
  ],
  units: 30,
  produced: 0,
  qcPassed: 0,
  qcFailed: 0,
  shipped: 0,
  acceptBy: '2026-12-02T10:00:00Z',
};
const accepted = accept(released, '2026-12-20', now);
const inProduction = [
  { sku: 'S', produced: 10, qcPassed: 10, qcFailed: 0 },
  { sku: 'M', produced: 20, qcPassed: 18, qcFailed: 2 },
].reduce((s, r) => reportProgress(s, r), accepted);
const partly = ship(inProduction, [{ sku: 'S', quantity: 4 }], now);
const almost = ship(partly, [{ sku: 'S', quantity: 6 }, { sku: 'M', quantity: 18 }], now);
// Two M failed QC and are remade: 22 produced, 20 passed.
const finished = ship(reportProgress(almost, { sku: 'M', produced: 22, qcPassed: 20, qcFailed: 2 }), [{ sku: 'M', quantity: 2 }], now);
const rejected = reject(released, 'no capacity', now);

const states: Record<FactoryBatchStatus, ProductionState> = {
  RELEASED: released,
  ACCEPTED: accepted,
  IN_PRODUCTION: inProduction,
  PARTIALLY_SHIPPED: partly,
  COMPLETED: finished,
  REJECTED: rejected,
};

const actions = {
  accept: (s: ProductionState) => accept(s, '2026-12-24', now),
  reject: (s: ProductionState) => reject(s, 'changed our mind', now),
  progress: (s: ProductionState) => reportProgress(s, { sku: 'S', produced: 10, qcPassed: 10, qcFailed: 0 }),
  ship: (s: ProductionState) => ship(s, [{ sku: 'S', quantity: 1 }], now),
};

/** Every status × action: the resulting status, or 'conflict' for a 409. */
const table: Record<FactoryBatchStatus, Record<keyof typeof actions, FactoryBatchStatus | 'conflict'>> = {
  RELEASED: { accept: 'ACCEPTED', reject: 'REJECTED', progress: 'conflict', ship: 'conflict' },
  ACCEPTED: { accept: 'conflict', reject: 'REJECTED', progress: 'IN_PRODUCTION', ship: 'conflict' },
  IN_PRODUCTION: { accept: 'conflict', reject: 'conflict', progress: 'IN_PRODUCTION', ship: 'PARTIALLY_SHIPPED' },
  PARTIALLY_SHIPPED: { accept: 'conflict', reject: 'conflict', progress: 'PARTIALLY_SHIPPED', ship: 'PARTIALLY_SHIPPED' },
  COMPLETED: { accept: 'conflict', reject: 'conflict', progress: 'conflict', ship: 'conflict' },
  REJECTED: { accept: 'conflict', reject: 'REJECTED', progress: 'conflict', ship: 'conflict' },
};

describe('Batch lifecycle: every status × every factory action', () => {
  it('the fixtures are in the statuses they claim', () => {
    for (const [status, state] of Object.entries(states)) expect(state.status).toBe(status);
  });

  for (const [status, row] of Object.entries(table) as [FactoryBatchStatus, (typeof table)[FactoryBatchStatus]][]) {
    for (const [action, expected] of Object.entries(row) as [keyof typeof actions, FactoryBatchStatus | 'conflict'][]) {
      it(`${action} on ${status} → ${expected}`, () => {
        const run = () => actions[action](states[status]);
        if (expected === 'conflict') {
          expect(run).toThrow(BatchStateError);
        } else {
          expect(run().status).toBe(expected);
        }
      });
    }
  }

  it('a conflict says why, naming the status and what the action needs', () => {
    expect(() => accept(finished, '2026-12-24', now)).toThrow(/A COMPLETED batch cannot be accepted; that needs RELEASED/);
  });

  it('accepting again with the same date is the first answer again; with another date it is a conflict', () => {
    expect(accept(accepted, '2026-12-20', now)).toBe(accepted);
    expect(() => accept(accepted, '2026-12-21', now)).toThrow(BatchStateError);
  });

  it('a committed ship date in the past is invalid input naming the field', () => {
    try {
      accept(released, '2026-11-30', now);
      expect.unreachable();
    } catch (err) {
      expect(err).toBeInstanceOf(InvalidInputError);
      expect((err as InvalidInputError).errors[0]!.path).toBe('committedShipDate');
    }
    expect(accept(released, '2026-12-01', now).status).toBe('ACCEPTED'); // today is fine
  });

  it('an accepted batch with units produced can no longer be rejected', () => {
    const started = reportProgress(accepted, { sku: 'S', produced: 1, qcPassed: 0, qcFailed: 0 });
    expect(started.status).toBe('IN_PRODUCTION');
    expect(() => reject(started, 'too late', now)).toThrow('A IN_PRODUCTION batch cannot be rejected; that needs RELEASED or ACCEPTED');
  });
});

describe('Progress counts', () => {
  it('never go backwards, and the refusal names the count, the old and the new value', () => {
    expect(() => reportProgress(inProduction, { sku: 'M', produced: 19, qcPassed: 18, qcFailed: 1 })).toThrow(
      'produced for M cannot go backwards: it was 20, the report says 19',
    );
  });

  it('never pass more through QC than was ordered, and never produce more than ordered plus remakes', () => {
    expect(() => reportProgress(accepted, { sku: 'S', produced: 11, qcPassed: 11, qcFailed: 0 })).toThrow(/qcPassed 11 for S is more than the 10 ordered/);
    expect(() => reportProgress(accepted, { sku: 'S', produced: 12, qcPassed: 9, qcFailed: 1 })).toThrow(/produced 12 for S is more than the 10 ordered plus 1 remade/);
    // A failed unit may be remade: 12 produced, 2 failed, 10 passed is a full line.
    expect(reportProgress(accepted, { sku: 'S', produced: 12, qcPassed: 10, qcFailed: 2 }).qcPassed).toBe(10);
  });

  it('per sku they add up to the batch totals; repeating a report changes nothing', () => {
    expect(inProduction).toMatchObject({ produced: 30, qcPassed: 28, qcFailed: 2, progressBy: 'sku' });
    const again = reportProgress(inProduction, { sku: 'S', produced: 10, qcPassed: 10, qcFailed: 0 });
    expect(again).toEqual(inProduction);
  });

  it('a batch reported per sku refuses totals, and one reported in totals refuses a sku', () => {
    expect(() => reportProgress(inProduction, { produced: 30, qcPassed: 28, qcFailed: 2 })).toThrow(/reported per sku/);
    const byTotal = reportProgress(accepted, { produced: 5, qcPassed: 5, qcFailed: 0 });
    expect(byTotal.progressBy).toBe('total');
    expect(() => reportProgress(byTotal, { sku: 'S', produced: 5, qcPassed: 5, qcFailed: 0 })).toThrow(/reported in total/);
  });

  it('a sku not in the batch is invalid input naming sku', () => {
    expect(() => reportProgress(accepted, { sku: 'XL', produced: 1, qcPassed: 0, qcFailed: 0 })).toThrow(InvalidInputError);
  });

  it('a single-sku batch takes totals as that sku', () => {
    const single: ProductionState = { ...accepted, lines: [{ sku: 'S', quantity: 10, shipped: 0 }], units: 10 };
    const next = reportProgress(single, { produced: 4, qcPassed: 3, qcFailed: 1 });
    expect(next.lines[0]).toMatchObject({ produced: 4, qcPassed: 3, qcFailed: 1 });
    expect(reportProgress(next, { sku: 'S', produced: 5, qcPassed: 4, qcFailed: 1 }).qcPassed).toBe(4);
  });

  it('QC passed can never drop below what has shipped', () => {
    const byTotal = reportProgress(accepted, { produced: 10, qcPassed: 10, qcFailed: 0 });
    const shippedSome = ship(byTotal, [{ sku: 'S', quantity: 8 }], now);
    expect(() => reportProgress(shippedSome, { produced: 10, qcPassed: 7, qcFailed: 0 })).toThrow(/backwards|already shipped/);
  });
});

describe('Shipments', () => {
  it('refuse more than has passed QC and not shipped, per sku', () => {
    expect(() => ship(partly, [{ sku: 'M', quantity: 19 }], now)).toThrow('Only 18 M have passed QC and not shipped yet; this shipment has 19');
  });

  it('refuse more than was ordered of a sku', () => {
    const plenty = reportProgress(accepted, { produced: 30, qcPassed: 30, qcFailed: 0 });
    expect(() => ship(plenty, [{ sku: 'S', quantity: 11 }], now)).toThrow(/more than the 10 ordered/);
  });

  it('in a batch reported in total, refuse more than QC passed in total', () => {
    const byTotal = reportProgress(accepted, { produced: 12, qcPassed: 12, qcFailed: 0 });
    const first = ship(byTotal, [{ sku: 'S', quantity: 10 }], now);
    expect(() => ship(first, [{ sku: 'M', quantity: 3 }], now)).toThrow('Only 2 units have passed QC and not shipped yet; this shipment has 3');
    expect(ship(first, [{ sku: 'M', quantity: 2 }], now).shipped).toBe(12);
  });

  it('a sku not in the batch is invalid input naming the item', () => {
    try {
      ship(inProduction, [{ sku: 'S', quantity: 1 }, { sku: 'XL', quantity: 1 }], now);
      expect.unreachable();
    } catch (err) {
      expect((err as InvalidInputError).errors).toEqual([{ path: 'items.1.sku', message: 'this batch makes S, M' }]);
    }
  });

  it('the last unit shipped completes the batch', () => {
    expect(finished).toMatchObject({ status: 'COMPLETED', shipped: 30, completedAt: now.toISOString() });
    expect(almost.status).toBe('PARTIALLY_SHIPPED'); // 28 of 30 shipped
  });
});

describe('Overdue escalation', () => {
  const late = new Date('2026-12-02T10:00:01Z');

  it('nothing happens before acceptBy', () => {
    expect(markOverdue(released, now, 12)).toBeUndefined();
  });

  it('past acceptBy a released batch is marked overdue once, with its grace end', () => {
    const overdue = markOverdue(released, late, 12)!;
    expect(overdue).toMatchObject({ status: 'RELEASED', overdueAt: late.toISOString(), escalateAt: '2026-12-02T22:00:00.000Z' });
    expect(markOverdue(overdue, late, 12)).toBeUndefined();
    expect(markOverdue(accepted, late, 12)).toBeUndefined(); // accepted in time: nothing to escalate
  });

  it('past the grace end it is rejected, saying why; accepting in the grace period clears the escalation', () => {
    const overdue = markOverdue(released, late, 12)!;
    expect(expire(overdue, new Date('2026-12-02T21:59:59Z'))).toBeUndefined();
    const expired = expire(overdue, new Date('2026-12-02T22:00:00Z'))!;
    expect(expired.status).toBe('REJECTED');
    expect(expired.rejectedReason).toMatch(/not accepted by 2026-12-02T10:00:00Z/);
    const rescued = accept(overdue, '2026-12-20', late);
    expect(rescued.overdueAt).toBeUndefined();
    expect(rescued.escalateAt).toBeUndefined();
  });
});
