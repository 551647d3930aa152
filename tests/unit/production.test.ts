import { describe, expect, it } from 'vitest';
import * as production from '../../functions/domain/production.ts';
import { defectList } from '../../functions/domain/defects.ts';
import {
  accept,
  BatchStateError,
  closeShort,
  expire,
  markOverdue,
  reject,
  removeUnits,
  reportProgress,
  ship,
  type Counts,
  type FactoryBatchStatus,
  type ProductionLine,
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

const late = new Date('2026-12-02T10:00:01Z'); // just past acceptBy
const graceEnd = '2026-12-02T22:00:00.000Z'; // acceptBy + 12 h of grace
const afterGrace = new Date(graceEnd);

const deepFreeze = <T>(value: T): T => {
  if (typeof value === 'object' && value !== null && !Object.isFrozen(value)) {
    Object.freeze(value);
    for (const v of Object.values(value)) deepFreeze(v);
  }
  return value;
};

const states: Record<FactoryBatchStatus, ProductionState> = deepFreeze({
  RELEASED: released,
  ACCEPTED: accepted,
  IN_PRODUCTION: inProduction,
  PARTIALLY_SHIPPED: partly,
  COMPLETED: finished,
  REJECTED: rejected,
  WITHDRAWN: production.withdraw(inProduction, now) as ProductionState,
});

/** Every transition production.ts exports, named after its function, with fixed arguments. */
const actions = {
  accept: (s: ProductionState) => accept(s, '2026-12-24', now),
  reject: (s: ProductionState) => reject(s, 'changed our mind', now),
  reportProgress: (s: ProductionState) => reportProgress(s, { sku: 'S', produced: 10, qcPassed: 10, qcFailed: 0 }),
  ship: (s: ProductionState) => ship(s, [{ sku: 'S', quantity: 1 }], now),
  closeShort: (s: ProductionState) => closeShort(s, 'out of fabric', now),
  // a buyer of two M cancels after a delay notice
  removeUnits: (s: ProductionState) => removeUnits(s, 'M', 2, now),
  markOverdue: (s: ProductionState) => markOverdue(s, late, 12),
  // even carrying an escalation whose grace has ended, only a RELEASED batch expires
  expire: (s: ProductionState) => expire({ ...s, overdueAt: late.toISOString(), escalateAt: graceEnd }, afterGrace),
  // its campaign failed: c2m takes the batch back, whatever the factory did with it so far
  withdraw: (s: ProductionState) => production.withdraw(s, now),
};
type Action = keyof typeof actions;

/**
 * The outcome of an action: the next state's status and counts (and any stamp the
 * transition leaves), 'conflict' for a BatchStateError (a 409), or 'nothing' where a
 * clock sweep (markOverdue, expire) has nothing to do and answers undefined.
 */
type Outcome = ({ status: FactoryBatchStatus; units: number; shipped: number } & Counts & Partial<ProductionState>) | 'conflict' | 'nothing';

const none: Counts = { produced: 0, qcPassed: 0, qcFailed: 0 };
const made: Counts = { produced: 30, qcPassed: 28, qcFailed: 2 };
const closed = { completedAt: now.toISOString(), closedShortReason: 'out of fabric' };
const withdrawn = { withdrawnAt: now.toISOString() };

/** Every status × every action. A status or an action without its cells fails to compile, and the test below fails. */
const table: Record<FactoryBatchStatus, Record<Action, Outcome>> = {
  RELEASED: {
    accept: { status: 'ACCEPTED', units: 30, shipped: 0, ...none, committedShipDate: '2026-12-24', acceptedAt: now.toISOString() },
    reject: { status: 'REJECTED', units: 30, shipped: 0, ...none, rejectedReason: 'changed our mind' },
    reportProgress: 'conflict',
    ship: 'conflict',
    closeShort: 'conflict',
    removeUnits: { status: 'RELEASED', units: 28, shipped: 0, ...none },
    markOverdue: { status: 'RELEASED', units: 30, shipped: 0, ...none, overdueAt: late.toISOString(), escalateAt: graceEnd },
    expire: { status: 'REJECTED', units: 30, shipped: 0, ...none, rejectedReason: 'not accepted by 2026-12-02T10:00:00Z, nor in the grace period after it' },
    withdraw: { status: 'WITHDRAWN', units: 30, shipped: 0, ...none, ...withdrawn },
  },
  ACCEPTED: {
    accept: 'conflict', // with another ship date; the same date is answered as the first time (below)
    reject: { status: 'REJECTED', units: 30, shipped: 0, ...none, rejectedReason: 'changed our mind' },
    reportProgress: { status: 'IN_PRODUCTION', units: 30, shipped: 0, produced: 10, qcPassed: 10, qcFailed: 0, progressBy: 'sku' },
    ship: 'conflict', // nothing has passed QC
    closeShort: { status: 'COMPLETED', units: 30, shipped: 0, ...none, ...closed },
    removeUnits: { status: 'ACCEPTED', units: 28, shipped: 0, ...none },
    markOverdue: 'nothing',
    expire: 'nothing',
    withdraw: { status: 'WITHDRAWN', units: 30, shipped: 0, ...none, ...withdrawn },
  },
  IN_PRODUCTION: {
    accept: 'conflict',
    reject: 'conflict',
    reportProgress: { status: 'IN_PRODUCTION', units: 30, shipped: 0, ...made },
    ship: { status: 'PARTIALLY_SHIPPED', units: 30, shipped: 1, ...made },
    closeShort: { status: 'COMPLETED', units: 30, shipped: 0, ...made, ...closed },
    removeUnits: { status: 'IN_PRODUCTION', units: 28, shipped: 0, ...made },
    markOverdue: 'nothing',
    expire: 'nothing',
    withdraw: { status: 'WITHDRAWN', units: 30, shipped: 0, ...made, ...withdrawn },
  },
  PARTIALLY_SHIPPED: {
    accept: 'conflict',
    reject: 'conflict',
    reportProgress: { status: 'PARTIALLY_SHIPPED', units: 30, shipped: 4, ...made },
    ship: { status: 'PARTIALLY_SHIPPED', units: 30, shipped: 5, ...made },
    closeShort: { status: 'COMPLETED', units: 30, shipped: 4, ...made, ...closed },
    removeUnits: { status: 'PARTIALLY_SHIPPED', units: 28, shipped: 4, ...made },
    markOverdue: 'nothing',
    expire: 'nothing',
    withdraw: { status: 'WITHDRAWN', units: 30, shipped: 4, ...made, ...withdrawn },
  },
  COMPLETED: {
    accept: 'conflict',
    reject: 'conflict',
    reportProgress: 'conflict',
    ship: 'conflict',
    closeShort: 'conflict', // completed by shipping everything, not closed short
    removeUnits: 'conflict',
    markOverdue: 'nothing',
    expire: 'nothing',
    withdraw: 'nothing',
  },
  REJECTED: {
    accept: 'conflict',
    reject: { status: 'REJECTED', units: 30, shipped: 0, ...none, rejectedReason: 'no capacity' }, // answered as the first time
    reportProgress: 'conflict',
    ship: 'conflict',
    closeShort: 'conflict',
    removeUnits: 'conflict',
    markOverdue: 'nothing',
    expire: 'nothing',
    withdraw: 'nothing',
  },
  WITHDRAWN: {
    accept: 'conflict',
    reject: 'conflict',
    reportProgress: 'conflict',
    ship: 'conflict',
    closeShort: 'conflict',
    removeUnits: 'conflict',
    markOverdue: 'nothing',
    expire: 'nothing',
    withdraw: 'nothing',
  },
};

const sumOf = (lines: readonly ProductionLine[], key: 'quantity' | 'shipped') => lines.reduce((n, l) => n + l[key], 0);

describe('Batch lifecycle: every status × every factory action', () => {
  it('the fixtures are in the statuses they claim', () => {
    for (const [status, state] of Object.entries(states)) expect(state.status).toBe(status);
  });

  it('the table has a column for every transition production.ts exports, and a row for every status a transition reaches', () => {
    const transitions = Object.entries(production)
      .filter(([, v]) => typeof v === 'function' && !(v.prototype instanceof Error))
      .map(([name]) => name);
    expect(transitions.sort()).toEqual(Object.keys(actions).sort());
    expect(Object.keys(states).sort()).toEqual(Object.keys(table).sort());
    for (const row of Object.values(table)) {
      expect(Object.keys(row).sort()).toEqual(Object.keys(actions).sort());
      for (const outcome of Object.values(row)) if (typeof outcome === 'object') expect(Object.keys(table)).toContain(outcome.status);
    }
  });

  for (const [status, row] of Object.entries(table) as [FactoryBatchStatus, Record<Action, Outcome>][]) {
    for (const [action, expected] of Object.entries(row) as [Action, Outcome][]) {
      const label = typeof expected === 'object' ? expected.status : expected;
      it(`${action} on ${status} → ${label}`, () => {
        const run = () => actions[action](states[status]);
        if (expected === 'conflict') {
          expect(run).toThrow(BatchStateError);
        } else if (expected === 'nothing') {
          expect(run()).toBeUndefined();
        } else {
          const next = run()!;
          expect(next).toMatchObject(expected);
          // the lines still add up to the batch
          expect(sumOf(next.lines, 'quantity')).toBe(next.units);
          expect(sumOf(next.lines, 'shipped')).toBe(next.shipped);
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

describe('Closing a batch short', () => {
  it('completes it with what shipped and records why; the same close again is the first answer, another reason a conflict', () => {
    const short = closeShort(partly, 'out of fabric', now);
    expect(short).toMatchObject({ status: 'COMPLETED', units: 30, shipped: 4, completedAt: now.toISOString(), closedShortReason: 'out of fabric' });
    expect(closeShort(short, 'out of fabric', now)).toBe(short);
    expect(() => closeShort(short, 'machine broke', now)).toThrow(BatchStateError);
  });

  it('a batch not yet accepted is rejected, not closed short, and the refusal says so', () => {
    expect(() => closeShort(released, 'out of fabric', now)).toThrow(
      'A RELEASED batch cannot be closed short; that needs ACCEPTED or IN_PRODUCTION or PARTIALLY_SHIPPED',
    );
  });
});

describe('Units removed after a delay notice', () => {
  it('the line and the batch make that many fewer; counts already reported stay', () => {
    const smaller = removeUnits(inProduction, 'M', 2, now);
    expect(smaller.lines).toEqual([
      { sku: 'S', quantity: 10, shipped: 0, produced: 10, qcPassed: 10, qcFailed: 0 },
      { sku: 'M', quantity: 18, shipped: 0, produced: 20, qcPassed: 18, qcFailed: 2 },
    ]);
    expect(smaller).toMatchObject({ status: 'IN_PRODUCTION', units: 28, ...made });
  });

  it('when what has shipped is now everything, the batch is COMPLETED', () => {
    // 28 of 30 shipped: S in full, 18 of 20 M
    const done = removeUnits(almost, 'M', 2, now);
    expect(done).toMatchObject({ status: 'COMPLETED', units: 28, shipped: 28, completedAt: now.toISOString() });
    expect(done.closedShortReason).toBeUndefined();
  });

  it('a batch left with no units at all is COMPLETED', () => {
    const emptied = removeUnits(removeUnits(accepted, 'S', 10, now), 'M', 20, now);
    expect(emptied).toMatchObject({ status: 'COMPLETED', units: 0, shipped: 0, completedAt: now.toISOString() });
  });

  it('counts reported before the line shrank still stand: the same report again is accepted, new excess is not', () => {
    // M was 20 with 18 through QC; two buyers cancel after a delay: the line is 16 now.
    const smaller = removeUnits(removeUnits(inProduction, 'M', 2, now), 'M', 2, now);
    expect(smaller.lines[1]).toMatchObject({ quantity: 16, produced: 20, qcPassed: 18, qcFailed: 2 });
    const again = reportProgress(smaller, { sku: 'M', produced: 20, qcPassed: 18, qcFailed: 2 });
    expect(again.lines[1]).toEqual(smaller.lines[1]);
    expect(() => reportProgress(smaller, { sku: 'M', produced: 21, qcPassed: 19, qcFailed: 2 })).toThrow(/qcPassed 19 for M is more than the 16 ordered/);
    expect(() => reportProgress(smaller, { sku: 'M', produced: 21, qcPassed: 18, qcFailed: 2 })).toThrow(/produced 21 for M is more than the 16 ordered/);
  });

  it('units that have shipped cannot be removed', () => {
    // 4 S shipped: taking 7 of the 10 would leave 3
    expect(() => removeUnits(partly, 'S', 7, now)).toThrow('Those S units have shipped already');
    expect(removeUnits(partly, 'S', 6, now).lines[0]).toMatchObject({ sku: 'S', quantity: 4, shipped: 4 });
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
    expect(expired).not.toHaveProperty('overdueAt'); // rejected: nothing left to escalate
    expect(expired).not.toHaveProperty('escalateAt');
    const rescued = accept(overdue, '2026-12-20', late);
    expect(rescued.overdueAt).toBeUndefined();
    expect(rescued.escalateAt).toBeUndefined();
  });
});

describe('Why units failed QC: defect codes, cumulative like the counts', () => {
  it('per sku: each report names its running counts, a code left out keeps its count, and the batch shows the sum of its lines', () => {
    let s = reportProgress(accepted, { sku: 'M', produced: 6, qcPassed: 3, qcFailed: 3, defects: [{ code: 'stitching', count: 2 }] });
    s = reportProgress(s, { sku: 'M', produced: 8, qcPassed: 4, qcFailed: 4, defects: [{ code: 'colour', count: 1 }] });
    s = reportProgress(s, { sku: 'S', produced: 2, qcPassed: 1, qcFailed: 1, defects: [{ code: 'stitching', count: 1 }] });
    expect(s.lines.find((l) => l.sku === 'M')!.defects).toEqual({ stitching: 2, colour: 1 });
    expect(s.defects).toEqual({ stitching: 3, colour: 1 });
    expect(defectList(s.defects)).toEqual([
      { code: 'stitching', count: 3 },
      { code: 'colour', count: 1 },
    ]);
  });

  it('a count never goes backwards, and defects never add up to more units than failed QC', () => {
    const s = reportProgress(accepted, { sku: 'M', produced: 6, qcPassed: 3, qcFailed: 3, defects: [{ code: 'size', count: 2 }] });
    expect(() => reportProgress(s, { sku: 'M', produced: 6, qcPassed: 3, qcFailed: 3, defects: [{ code: 'size', count: 1 }] })).toThrow(/defects size for M cannot go backwards/);
    expect(() => reportProgress(s, { sku: 'M', produced: 6, qcPassed: 3, qcFailed: 3, defects: [{ code: 'print', count: 2 }] })).toThrow(/4 defects for M are more than the 3 units that failed QC/);
    // A report without defects changes none of them.
    expect(reportProgress(s, { sku: 'M', produced: 7, qcPassed: 4, qcFailed: 3 }).defects).toEqual({ size: 2 });
  });

  it('in total: the batch keeps its own tally', () => {
    const single: ProductionState = { ...accepted, lines: [{ sku: 'S', quantity: 10, shipped: 0 }, { sku: 'M', quantity: 20, shipped: 0 }] };
    const s = reportProgress(single, { produced: 5, qcPassed: 3, qcFailed: 2, defects: [{ code: 'damage', count: 2 }] });
    expect(s.defects).toEqual({ damage: 2 });
    expect(s.lines.every((l) => l.defects === undefined)).toBe(true);
  });
});
