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

/** A variant's counts as the gates show them, with its own minimum. */
export interface VariantStanding {
  readonly sku: string;
  /** Ordered less cancelled or refunded. */
  readonly net: number;
  readonly batched: number;
  readonly minQuantity?: number;
}

/** Each variant's standing from the gates' counts and the campaign's terms. */
export const standingOf = (
  variants: readonly { readonly sku: string; readonly minQuantity?: number }[],
  counts: readonly { readonly sku: string; readonly ordered: number; readonly cancelled: number; readonly batched: number }[],
): VariantStanding[] =>
  variants.map((v) => {
    const c = counts.find((x) => x.sku === v.sku);
    const net = c ? c.ordered - c.cancelled : 0;
    return { sku: v.sku, net, batched: c?.batched ?? 0, ...(v.minQuantity !== undefined && { minQuantity: v.minQuantity }) };
  });

/**
 * How a campaign ends when it closes. Below `minTotalQuantity` it FAILED.
 * Otherwise it CLOSED, and a variant below its own minimum does not sink it:
 * the variant is missed, and when some buyer holds it and another variant made
 * its minimum, its buyers have until `switchBy` to move to one that did.
 */
export const closingOutcome = (
  terms: { readonly minTotalQuantity: number; readonly switchWindowHours: number },
  variants: readonly VariantStanding[],
  now: Date,
): { status: 'CLOSED' | 'FAILED'; variantsMissed: string[]; switchBy?: string } => {
  if (!minimumMet(terms.minTotalQuantity, variants)) return { status: 'FAILED', variantsMissed: [] };
  const missed = variantsBelowMinimum(variants);
  const someoneToTell = variants.some((v) => missed.includes(v.sku) && v.net > 0);
  const somewhereToGo = variants.some((v) => !missed.includes(v.sku));
  return {
    status: 'CLOSED',
    variantsMissed: missed,
    ...(someoneToTell && somewhereToGo && { switchBy: new Date(now.getTime() + terms.switchWindowHours * hourMs).toISOString() }),
  };
};

/** The campaign's minimum is met when its net ordered units reach `minTotalQuantity`. */
export const minimumMet = (minTotalQuantity: number, variants: readonly VariantStanding[]): boolean =>
  variants.reduce((n, v) => n + v.net, 0) >= minTotalQuantity;

/** Variants that may reach a factory: those without a minimum of their own, or at or above it. */
export const variantsMeetingMinimum = (variants: readonly VariantStanding[]): string[] =>
  variants.filter((v) => v.minQuantity === undefined || v.net >= v.minQuantity).map((v) => v.sku);

/** Variants below their own minimum (at close: their buyers may switch, or are refunded). */
export const variantsBelowMinimum = (variants: readonly VariantStanding[]): string[] =>
  variants.filter((v) => v.minQuantity !== undefined && v.net < v.minQuantity).map((v) => v.sku);

/**
 * The next batch of a campaign that is still selling, if one is due: all or
 * nothing, whatever the lot size.
 *
 * Nothing is cut while net ordered units are below `minTotalQuantity`, and only
 * variants at or above their own minimum are cut. Units in a batch cannot be
 * cancelled by their buyers, so the first batch takes at least the minimum
 * (`minTotalQuantity` less what is batched already, and for each variant it
 * holds, that variant's minimum less what of it is batched): once anything has
 * reached a factory, the batched units alone keep the campaign, and each of
 * its variants in production, at or above its minimum, and no cancel of a
 * waiting pre-order can sink a campaign whose lots are already being made.
 * Later batches are plain lots. A max-wait cut may be smaller than a lot but
 * never smaller than what the minimum still needs.
 */
export const planEarlyCut = <P extends WaitingPreorder>(input: {
  readonly waiting: readonly P[];
  readonly lotSize: number;
  readonly maxWaitHours?: number;
  readonly minTotalQuantity: number;
  readonly variants: readonly VariantStanding[];
  readonly now: Date;
}): { reason: 'lot' | 'max-wait'; picked: P[] } | undefined => {
  const { variants } = input;
  if (!minimumMet(input.minTotalQuantity, variants)) return undefined;
  const eligible = new Set(variantsMeetingMinimum(variants));
  const candidates = [...input.waiting].filter((p) => eligible.has(p.sku)).sort(oldestFirst);
  if (candidates.length === 0) return undefined;
  const batchedTotal = variants.reduce((n, v) => n + v.batched, 0);
  const stillNeeded = Math.max(0, input.minTotalQuantity - batchedTotal);
  const target = Math.max(input.lotSize, stillNeeded);
  const available = candidates.reduce((n, p) => n + p.quantity, 0);
  const oldest = candidates[0] as P;
  const waitedTooLong =
    input.maxWaitHours !== undefined && input.now.getTime() - Date.parse(oldest.createdAt) >= input.maxWaitHours * hourMs;
  const reason = available >= target ? 'lot' : waitedTooLong && available >= Math.max(1, stillNeeded) ? 'max-wait' : undefined;
  if (!reason) return undefined;

  const picked: P[] = [];
  const taken = new Set<string>();
  const units = new Map<string, number>();
  const take = (p: P) => {
    picked.push(p);
    taken.add(p.preorderId);
    units.set(p.sku, (units.get(p.sku) ?? 0) + p.quantity);
  };
  let total = 0;
  for (const p of candidates) {
    if (total >= target) break;
    take(p);
    total += p.quantity;
  }
  // A variant entering production for the first time goes in with its whole minimum.
  for (const v of variants) {
    const have = units.get(v.sku) ?? 0;
    if (have === 0 || v.minQuantity === undefined) continue;
    let short = v.minQuantity - v.batched - have;
    for (const p of candidates) {
      if (short <= 0) break;
      if (p.sku !== v.sku || taken.has(p.preorderId)) continue;
      take(p);
      short -= p.quantity;
    }
  }
  return { reason, picked: picked.sort(oldestFirst) };
};

/**
 * Whether a batch just assigned keeps every promise of the minimum (checked
 * against the gates after assignment, since a buyer may cancel a planned
 * pre-order before it is assigned): the campaign's batched units at or above
 * `minTotalQuantity`, and each variant in the batch at or above its own.
 */
export const batchedMeetsMinimums = (
  minTotalQuantity: number,
  variants: readonly VariantStanding[],
  skusInBatch: readonly string[],
): boolean =>
  variants.reduce((n, v) => n + v.batched, 0) >= minTotalQuantity &&
  variants.every((v) => !skusInBatch.includes(v.sku) || v.minQuantity === undefined || v.batched >= v.minQuantity);

type SwitchState = { readonly status: string; readonly variantsMissed?: readonly string[]; readonly switchWindowClosedAt?: string };

/** A closed campaign whose missed variants' buyers may still switch (or are yet to be refunded): its demand is not settled. */
export const awaitingSwitches = (c: SwitchState): boolean => c.status === 'CLOSED' && (c.variantsMissed?.length ?? 0) > 0 && c.switchWindowClosedAt === undefined;

/** Closed, and nobody may switch variant any more: what was sold is what is made (prices, balances and minimums follow from it). */
export const demandSettled = (c: SwitchState): boolean => c.status === 'CLOSED' && !awaitingSwitches(c);
