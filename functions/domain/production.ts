import { DomainError, InvalidInputError } from './errors.ts';
import { addDefects, defectTotal, type DefectCode, type Defects } from './defects.ts';

/**
 * A production batch's life at its factory: pure, no I/O.
 *
 *   RELEASED ──accept──▶ ACCEPTED ──progress──▶ IN_PRODUCTION ──ship──▶ PARTIALLY_SHIPPED ──ship all──▶ COMPLETED
 *      │                    │
 *      └──reject / expire───┴──reject (before any production)──▶ REJECTED
 *
 *   any of RELEASED … PARTIALLY_SHIPPED ──its campaign failed──▶ WITHDRAWN (c2m's decision, not the factory's)
 *
 * Counts are cumulative and only grow. A factory reports them either per sku
 * or for the whole batch (a single-sku batch is the same thing either way); a
 * batch keeps to the way it started. Every function returns the next state, or
 * throws a conflict that says why; none mutates its input.
 */
export type FactoryBatchStatus = 'RELEASED' | 'ACCEPTED' | 'REJECTED' | 'IN_PRODUCTION' | 'PARTIALLY_SHIPPED' | 'COMPLETED' | 'WITHDRAWN';

export interface Counts {
  readonly produced: number;
  readonly qcPassed: number;
  readonly qcFailed: number;
}

export interface ProductionLine extends Partial<Counts> {
  readonly sku: string;
  /** Units ordered in this batch. */
  readonly quantity: number;
  readonly shipped: number;
  /** Why its failed units failed, when the factory reports per sku. */
  readonly defects?: Defects;
}

export interface ProductionState extends Counts {
  /** Why failed units failed: the lines' sum when reported per sku, the batch's own when reported in total. */
  readonly defects?: Defects;
  readonly status: FactoryBatchStatus;
  readonly lines: readonly ProductionLine[];
  readonly units: number;
  readonly shipped: number;
  /** How the factory reports counts, fixed by its first report. */
  readonly progressBy?: 'sku' | 'total';
  readonly acceptBy: string;
  readonly overdueAt?: string;
  /** When an overdue batch is treated as rejected. */
  readonly escalateAt?: string;
  readonly acceptedAt?: string;
  readonly committedShipDate?: string;
  readonly rejectedAt?: string;
  readonly rejectedReason?: string;
  readonly completedAt?: string;
  /** Set when the factory closed the batch before every unit shipped. */
  readonly closedShortReason?: string;
  /** Set when c2m took the batch back (its campaign failed): the factory may make and ship nothing more of it. */
  readonly withdrawnAt?: string;
}

/** The transition asked for does not fit the batch as it is; `detail` says why. */
export class BatchStateError extends DomainError {
  readonly kind = 'conflict';
}

const hourMs = 3600_000;
const dayOf = (d: Date) => d.toISOString().slice(0, 10);

const expectStatus = (s: ProductionState, allowed: readonly FactoryBatchStatus[], action: string) => {
  if (!allowed.includes(s.status)) {
    throw new BatchStateError(`A ${s.status} batch cannot be ${action}; that needs ${allowed.join(' or ')}`);
  }
};

/**
 * RELEASED → ACCEPTED with the date the factory commits to ship by (today or
 * later). Accepting again with the same date is answered as the first time.
 */
export const accept = (s: ProductionState, committedShipDate: string, now: Date): ProductionState => {
  if (s.status === 'ACCEPTED' && s.committedShipDate === committedShipDate) return s;
  expectStatus(s, ['RELEASED'], 'accepted');
  if (committedShipDate < dayOf(now)) {
    throw new InvalidInputError('committedShipDate is in the past', [
      { path: 'committedShipDate', message: `must be ${dayOf(now)} or later` },
    ]);
  }
  const { overdueAt: _o, escalateAt: _e, ...rest } = s;
  return { ...rest, status: 'ACCEPTED', committedShipDate, acceptedAt: now.toISOString() };
};

/**
 * → REJECTED, from RELEASED, or from ACCEPTED while nothing has been produced
 * (after that the units exist and the way out is closing the batch short). Rejecting an
 * already rejected batch is answered as the first time.
 */
export const reject = (s: ProductionState, reason: string, now: Date): ProductionState => {
  if (s.status === 'REJECTED') return s;
  // Reporting any production moves an ACCEPTED batch to IN_PRODUCTION, past the point of rejecting.
  expectStatus(s, ['RELEASED', 'ACCEPTED'], 'rejected');
  const { overdueAt: _o, escalateAt: _e, ...rest } = s;
  return { ...rest, status: 'REJECTED', rejectedAt: now.toISOString(), rejectedReason: reason };
};

/** A RELEASED batch past `acceptBy` is escalated once: `batch.overdue`, and a grace period before it counts as rejected. */
export const markOverdue = (s: ProductionState, now: Date, graceHours: number): ProductionState | undefined => {
  if (s.status !== 'RELEASED' || s.overdueAt || now.getTime() < Date.parse(s.acceptBy)) return undefined;
  return { ...s, overdueAt: now.toISOString(), escalateAt: new Date(Date.parse(s.acceptBy) + graceHours * hourMs).toISOString() };
};

/** An overdue batch still not accepted when its grace ends goes the way of a rejection. */
export const expire = (s: ProductionState, now: Date): ProductionState | undefined => {
  if (s.status !== 'RELEASED' || !s.escalateAt || now.getTime() < Date.parse(s.escalateAt)) return undefined;
  return reject(s, `not accepted by ${s.acceptBy}, nor in the grace period after it`, now);
};

export interface ProgressReport extends Counts {
  readonly sku?: string;
  /** Cumulative per code; a code left out keeps its count. */
  readonly defects?: readonly { readonly code: DefectCode; readonly count: number }[];
}

const sum = (lines: readonly ProductionLine[], key: keyof Counts) => lines.reduce((n, l) => n + (l[key] ?? 0), 0);

/**
 * Cumulative counts for one sku or the batch. They never go backwards, QC never
 * passes more than was ordered, and production never exceeds what was ordered
 * plus what failed QC (each failed unit may be remade). Repeating a report
 * changes nothing.
 */
export const reportProgress = (s: ProductionState, report: ProgressReport): ProductionState => {
  expectStatus(s, ['ACCEPTED', 'IN_PRODUCTION', 'PARTIALLY_SHIPPED'], 'reported on');
  const single = s.lines.length === 1 ? s.lines[0] : undefined;
  const sku = report.sku ?? single?.sku;
  if (report.sku !== undefined && !s.lines.some((l) => l.sku === report.sku)) {
    throw new InvalidInputError('sku is not in this batch', [
      { path: 'sku', message: `this batch makes ${s.lines.map((l) => l.sku).join(', ')}` },
    ]);
  }
  const by = sku !== undefined ? 'sku' : 'total';
  if (s.progressBy && s.progressBy !== by && !single) {
    throw new BatchStateError(
      s.progressBy === 'sku'
        ? 'This batch is reported per sku; send the counts with their sku'
        : 'This batch is reported in total; send the counts without a sku',
    );
  }
  const before: Counts = sku !== undefined ? countsOf(s.lines.find((l) => l.sku === sku)!) : s;
  const ordered = sku !== undefined ? s.lines.find((l) => l.sku === sku)!.quantity : s.units;
  const shipped = sku !== undefined ? s.lines.find((l) => l.sku === sku)!.shipped : s.shipped;
  const what = sku !== undefined ? `${sku}` : 'the batch';
  for (const key of ['produced', 'qcPassed', 'qcFailed'] as const) {
    if (report[key] < before[key]) throw new BatchStateError(`${key} for ${what} cannot go backwards: it was ${before[key]}, the report says ${report[key]}`);
  }
  // Units made before buyers cancelled out of the batch (after a delay notice) still
  // exist: a line may have shrunk below what was already reported. Those counts
  // stand, and a repeated report of them is no error; only new excess is refused.
  if (report.qcPassed > Math.max(ordered, before.qcPassed)) {
    throw new BatchStateError(`qcPassed ${report.qcPassed} for ${what} is more than the ${ordered} ordered`);
  }
  if (report.produced > Math.max(ordered + report.qcFailed, before.produced)) {
    throw new BatchStateError(`produced ${report.produced} for ${what} is more than the ${ordered} ordered plus ${report.qcFailed} remade after failing QC`);
  }
  if (report.qcPassed < shipped) throw new BatchStateError(`qcPassed ${report.qcPassed} for ${what} is less than the ${shipped} already shipped`);

  const beforeDefects = sku !== undefined ? s.lines.find((l) => l.sku === sku)!.defects : s.defects;
  for (const d of report.defects ?? []) {
    const was = beforeDefects?.[d.code] ?? 0;
    if (d.count < was) throw new BatchStateError(`defects ${d.code} for ${what} cannot go backwards: it was ${was}, the report says ${d.count}`);
  }
  const defects: Defects = { ...beforeDefects, ...Object.fromEntries((report.defects ?? []).map((d) => [d.code, d.count])) };
  if (defectTotal(defects) > report.qcFailed) {
    throw new BatchStateError(`${defectTotal(defects)} defects for ${what} are more than the ${report.qcFailed} units that failed QC`);
  }
  const counts: Counts = { produced: report.produced, qcPassed: report.qcPassed, qcFailed: report.qcFailed };
  const withDefects = defectTotal(defects) > 0 ? { defects } : {};
  const lines = sku !== undefined ? s.lines.map((l) => (l.sku === sku ? { ...l, ...counts, ...withDefects } : l)) : s.lines;
  const totals: Counts =
    sku !== undefined ? { produced: sum(lines, 'produced'), qcPassed: sum(lines, 'qcPassed'), qcFailed: sum(lines, 'qcFailed') } : counts;
  const allDefects = sku !== undefined ? addDefects(lines.map((l) => l.defects)) : defects;
  return {
    ...s,
    ...totals,
    ...(defectTotal(allDefects) > 0 && { defects: allDefects }),
    lines,
    progressBy: single ? 'sku' : by,
    status: s.status === 'ACCEPTED' && totals.produced > 0 ? 'IN_PRODUCTION' : s.status,
  };
};

const countsOf = (l: ProductionLine): Counts => ({ produced: l.produced ?? 0, qcPassed: l.qcPassed ?? 0, qcFailed: l.qcFailed ?? 0 });

export interface ShipmentItem {
  readonly sku: string;
  readonly quantity: number;
}

/**
 * A lot leaves the factory. Never more of a sku than was ordered, and never
 * more than has passed QC and not shipped yet (per sku, or in total when the
 * batch is reported in total). The batch is COMPLETED when every unit shipped.
 */
export const ship = (s: ProductionState, items: readonly ShipmentItem[], now: Date): ProductionState => {
  expectStatus(s, ['ACCEPTED', 'IN_PRODUCTION', 'PARTIALLY_SHIPPED'], 'shipped from');
  const errors = items.flatMap((item, i) =>
    s.lines.some((l) => l.sku === item.sku) ? [] : [{ path: `items.${i}.sku`, message: `this batch makes ${s.lines.map((l) => l.sku).join(', ')}` }],
  );
  if (errors.length > 0) throw new InvalidInputError('A shipment names a sku that is not in this batch', errors);
  const lines = s.lines.map((l) => {
    const q = items.find((i) => i.sku === l.sku)?.quantity ?? 0;
    if (q === 0) return l;
    if (l.shipped + q > l.quantity) {
      throw new BatchStateError(`Shipping ${q} ${l.sku} would make ${l.shipped + q}, more than the ${l.quantity} ordered (${l.shipped} shipped already)`);
    }
    if (s.progressBy !== 'total' && l.shipped + q > (l.qcPassed ?? 0)) {
      throw new BatchStateError(`Only ${(l.qcPassed ?? 0) - l.shipped} ${l.sku} have passed QC and not shipped yet; this shipment has ${q}`);
    }
    return { ...l, shipped: l.shipped + q };
  });
  const shipped = s.shipped + items.reduce((n, i) => n + i.quantity, 0);
  if (s.progressBy === 'total' && shipped > s.qcPassed) {
    throw new BatchStateError(`Only ${s.qcPassed - s.shipped} units have passed QC and not shipped yet; this shipment has ${shipped - s.shipped}`);
  }
  const done = shipped === s.units;
  return {
    ...s,
    lines,
    shipped,
    status: done ? 'COMPLETED' : 'PARTIALLY_SHIPPED',
    ...(done && { completedAt: now.toISOString() }),
  };
};

/**
 * The factory will make no more: the batch is COMPLETED with what shipped, and
 * the units that never will are refunded to their pre-orders. Possible once the
 * factory has accepted it; closing a batch with nothing shipped refunds it all.
 */
export const closeShort = (s: ProductionState, reason: string, now: Date): ProductionState => {
  if (s.status === 'COMPLETED' && s.closedShortReason === reason) return s;
  expectStatus(s, ['ACCEPTED', 'IN_PRODUCTION', 'PARTIALLY_SHIPPED'], 'closed short');
  return { ...s, status: 'COMPLETED', completedAt: now.toISOString(), closedShortReason: reason };
};

/**
 * A buyer cancelled after a delay notice, before any of their units shipped:
 * the batch makes that many fewer. If what has shipped is now everything, the
 * batch is complete.
 */
export const removeUnits = (s: ProductionState, sku: string, quantity: number, now: Date): ProductionState => {
  expectStatus(s, ['RELEASED', 'ACCEPTED', 'IN_PRODUCTION', 'PARTIALLY_SHIPPED'], 'changed');
  const lines = s.lines.map((l) => (l.sku === sku ? { ...l, quantity: l.quantity - quantity } : l));
  const units = s.units - quantity;
  if (lines.some((l) => l.quantity < l.shipped) || units < 0) throw new BatchStateError(`Those ${sku} units have shipped already`);
  const done = units === 0 || (s.status === 'PARTIALLY_SHIPPED' && units === s.shipped);
  return { ...s, lines, units, ...(done && { status: 'COMPLETED' as const, completedAt: now.toISOString() }) };
};

/**
 * Any live batch → WITHDRAWN: its campaign failed, so nothing more of it may be
 * made or shipped. A batch already final (rejected, completed, withdrawn) stays
 * as it is; undefined says there is nothing to do.
 */
export const withdraw = (s: ProductionState, now: Date): ProductionState | undefined => {
  if (s.status === 'REJECTED' || s.status === 'COMPLETED' || s.status === 'WITHDRAWN') return undefined;
  const { overdueAt: _o, escalateAt: _e, ...rest } = s;
  return { ...rest, status: 'WITHDRAWN', withdrawnAt: now.toISOString() };
};
