/**
 * Batch cutting rules: pure, no I/O. Waiting pre-orders become production
 * batches for the campaign's factory, oldest first, whole pre-orders only.
 */
export interface WaitingPreorder {
  readonly preorderId: string;
  readonly sku: string;
  readonly quantity: number;
  readonly createdAt: string;
}

export type CutReason = 'lot' | 'max-wait' | 'final';

/** Default time a factory has to accept a released batch. */
export const defaultAcceptWindowHours = 24;

const hourMs = 3600_000;

/**
 * Why a batch should be cut now, if at all:
 * - `final`: the campaign closed having met its minimum; whatever waits goes.
 * - `lot`: waiting units reached the lot size.
 * - `max-wait`: the oldest waiting pre-order has waited `maxWaitHours`.
 */
export const cutReason = (input: {
  readonly status: string;
  readonly lotSize: number;
  readonly maxWaitHours?: number;
  readonly waitingUnits: number;
  readonly oldestWaitingAt?: string;
  readonly now: Date;
}): CutReason | undefined => {
  if (input.waitingUnits <= 0) return undefined;
  if (input.status === 'FAILED') return undefined;
  if (input.status === 'CLOSED') return 'final';
  if (input.waitingUnits >= input.lotSize) return 'lot';
  if (
    input.maxWaitHours !== undefined &&
    input.oldestWaitingAt !== undefined &&
    input.now.getTime() - Date.parse(input.oldestWaitingAt) >= input.maxWaitHours * hourMs
  ) {
    return 'max-wait';
  }
  return undefined;
};

/** Oldest first; ties broken by id so every cutter sees the same order. */
export const oldestFirst = (a: WaitingPreorder, b: WaitingPreorder): number =>
  a.createdAt < b.createdAt ? -1 : a.createdAt > b.createdAt ? 1 : a.preorderId < b.preorderId ? -1 : a.preorderId > b.preorderId ? 1 : 0;

/**
 * The pre-orders of the next batch. A lot is the factory's minimum economical
 * run, so a lot or max-wait batch takes whole pre-orders, oldest first, until it
 * holds at least `lotSize` units (the last one may overshoot by less than its own
 * quantity) or nothing waits; the final batch takes everything.
 */
export const selectForBatch = <P extends WaitingPreorder>(waiting: readonly P[], lotSize: number, reason: CutReason): P[] => {
  const sorted = [...waiting].sort(oldestFirst);
  if (reason === 'final') return sorted;
  const picked: P[] = [];
  let units = 0;
  for (const p of sorted) {
    if (units >= lotSize) break;
    picked.push(p);
    units += p.quantity;
  }
  return picked;
};

/** Quantity per sku, in the campaign's variant order. */
export const batchLines = (
  preorders: readonly Pick<WaitingPreorder, 'sku' | 'quantity'>[],
  skuOrder: readonly string[],
): { sku: string; quantity: number }[] => {
  const bySku = new Map<string, number>();
  for (const p of preorders) bySku.set(p.sku, (bySku.get(p.sku) ?? 0) + p.quantity);
  return skuOrder.filter((sku) => bySku.has(sku)).map((sku) => ({ sku, quantity: bySku.get(sku) as number }));
};

export const acceptBy = (releasedAt: Date, windowHours = defaultAcceptWindowHours): string =>
  new Date(releasedAt.getTime() + windowHours * hourMs).toISOString();
