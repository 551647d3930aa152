/**
 * Campaign rules: pure, no I/O. A campaign is SCHEDULED until `opensAt`, OPEN
 * until `closesAt` or an early close, then CLOSED when it met `minTotalQuantity`
 * or FAILED when it did not.
 */
import { isDepositCampaign } from './payment.ts';

export type CampaignStatus = 'SCHEDULED' | 'OPEN' | 'CLOSED' | 'FAILED';

export interface Variant {
  readonly sku: string;
  readonly name: string;
  readonly unitPrice: number;
  /** The variant's own minimum (a dye lot worth running); below it at close its buyers may switch or are refunded. */
  readonly minQuantity?: number;
  /**
   * 阶梯价: the unit price falls to a tier's once the variant's net sold units
   * reach its `minUnits` (ascending, each price below the last). Buyers pay
   * `unitPrice`; at close the price the sold units reached is fixed
   * (`Campaign.finalPrices`) and whoever paid more is refunded the difference
   * (domain/pricing.ts).
   */
  readonly priceTiers?: readonly PriceTier[];
}

export interface PriceTier {
  readonly minUnits: number;
  /** Minor units of the campaign's currency. */
  readonly unitPrice: number;
}

/** Paid for shipping after the original promise: a share of the amount, within bounds (minor units). */
export interface Commission {
  readonly anchorPercent: number;
  readonly affiliatePercent: number;
}

/**
 * How buyers pay (issue 16, domain/payment.ts): in full when they order, or a
 * deposit a unit then and the balance once the sale closed, within
 * `balanceWindowHours`; `depositDiscount` a unit comes off the balance (付定金立减).
 * Minor units. Absent: in full.
 */
export interface PaymentTerms {
  readonly mode: 'full' | 'deposit';
  readonly deposit?: number;
  readonly balanceWindowHours?: number;
  readonly depositDiscount?: number;
}

export interface LateCompensation {
  readonly percent: number;
  readonly minAmount: number;
  readonly maxAmount: number;
}

/** Default days past the original promise after which unshipped units are refunded by themselves. */
export const defaultMaxDelayDays = 14;
/** Default hours buyers of a variant below its minimum have to switch to another variant. */
export const defaultSwitchWindowHours = 24;

export interface Campaign {
  readonly campaignId: string;
  readonly anchorId: string;
  readonly title: string;
  readonly factoryId: string;
  readonly backupFactoryId?: string;
  readonly currency: string;
  readonly variants: readonly Variant[];
  /**
   * 阶梯价 for the whole campaign (全场阶梯价): as a variant's own tiers, but
   * counting the net sold units of every variant, and pricing every variant
   * (they share one list price). A campaign has these or per-variant tiers,
   * never both (domain/pricing.ts).
   */
  readonly priceTiers?: readonly PriceTier[];
  readonly opensAt: string;
  readonly closesAt: string;
  /**
   * The close before the anchor first moved it later while OPEN: buyers who
   * ordered before were promised from it, so ceilings count from it.
   */
  readonly firstClosesAt?: string;
  readonly minTotalQuantity: number;
  readonly lotSize: number;
  readonly maxWaitHours?: number;
  readonly maxTotalQuantity?: number;
  readonly promisedShipDays: number;
  /** Units one buyer may hold (限购); absent: no limit. */
  readonly maxPerBuyer?: number;
  readonly maxDelayDays: number;
  readonly lateCompensation?: LateCompensation;
  /** Commission on net GMV, per source (attribution.ts); absent: none is owed through c2m. */
  readonly commission?: Commission;
  /** The rooms whose signals count; absent: any room's. */
  readonly liveRoomIds?: readonly string[];
  readonly switchWindowHours: number;
  /** Deposit and balance (domain/payment.ts); absent: buyers pay in full when they order. */
  readonly payment?: PaymentTerms;
  /** A deposit campaign's balances were called (each deposit pre-order told `balanceDue`): when, and until when they may be paid. */
  readonly balancesCalledAt?: string;
  readonly balanceDueBy?: string;
  /** Its balance window is over: every pre-order still unpaid then was cancelled and its deposit forfeited. */
  readonly balancesSettledAt?: string;
  /** When the cutter first saw net ordered units reach `minTotalQuantity`: no batch is cut before. */
  readonly minimumMetAt?: string;
  /** The variants whose own minimum was met when the cutter looked (skus); only they are cut before close. */
  readonly variantsMet?: readonly string[];
  /** At close: the variants below their own minimum, whose buyers switch or are refunded. */
  readonly variantsMissed?: readonly string[];
  /** Until when buyers of a missed variant may switch to one that made its minimum. */
  readonly switchBy?: string;
  /** When the switch window's end was dealt with (unswitched refunded, the rest cut). */
  readonly switchWindowClosedAt?: string;
  /**
   * Fixed at close, once: the tier price each variant's net sold units reached,
   * for the variants whose price dropped below their list price (sku → minor
   * units). Absent: no variant's price dropped.
   */
  readonly finalPrices?: Readonly<Record<string, number>>;
  /** When every pre-order that paid more than its variant's final price was refunded the difference. */
  readonly repricedAt?: string;
  readonly status: CampaignStatus;
  readonly createdAt: string;
  readonly updatedAt: string;
  readonly closedAt?: string;
  /** How many gate items the campaign's pre-order writes are spread over (see docs/decisions.md). */
  readonly gateShards: number;
}

/** What an anchor submits: the campaign's terms, before the system gives it an id, status and times. */
export type CampaignDraft = Omit<
  Campaign,
  | 'campaignId'
  | 'anchorId'
  | 'status'
  | 'createdAt'
  | 'updatedAt'
  | 'closedAt'
  | 'gateShards'
  | 'opensAt'
  | 'maxDelayDays'
  | 'switchWindowHours'
  | 'minimumMetAt'
  | 'variantsMet'
  | 'variantsMissed'
  | 'switchBy'
  | 'switchWindowClosedAt'
  | 'firstClosesAt'
  | 'finalPrices'
  | 'repricedAt'
  | 'balancesCalledAt'
  | 'balanceDueBy'
  | 'balancesSettledAt'
> & { readonly opensAt?: string; readonly maxDelayDays?: number; readonly switchWindowHours?: number };

/** Most gate items a campaign gets; 64 keeps a 20,000/s burst near 300 writes/s per item. */
export const maxGateShards = 64;
/** Fewest units a capped campaign's gate starts with, so small caps are not split into crumbs. */
export const minUnitsPerGate = 8;

export const gateShardsFor = (maxTotalQuantity: number | undefined): number =>
  maxTotalQuantity === undefined
    ? maxGateShards
    : Math.max(1, Math.min(maxGateShards, Math.floor(maxTotalQuantity / minUnitsPerGate)));

/** Splits a cap over the gates so that the slices differ by at most one unit. */
export const capSlices = (maxTotalQuantity: number, shards: number): number[] =>
  Array.from({ length: shards }, (_, k) => Math.floor(maxTotalQuantity / shards) + (k < maxTotalQuantity % shards ? 1 : 0));

export const newCampaign = (input: {
  campaignId: string;
  anchorId: string;
  draft: CampaignDraft;
  now: Date;
}): Campaign => {
  const { draft, now } = input;
  const nowIso = now.toISOString();
  const opensAt = draft.opensAt && Date.parse(draft.opensAt) > now.getTime() ? new Date(draft.opensAt).toISOString() : nowIso;
  return {
    campaignId: input.campaignId,
    anchorId: input.anchorId,
    title: draft.title,
    factoryId: draft.factoryId,
    ...(draft.backupFactoryId !== undefined && { backupFactoryId: draft.backupFactoryId }),
    currency: draft.currency,
    variants: draft.variants,
    ...(draft.priceTiers !== undefined && { priceTiers: draft.priceTiers }),
    opensAt,
    closesAt: new Date(draft.closesAt).toISOString(),
    minTotalQuantity: draft.minTotalQuantity,
    lotSize: draft.lotSize,
    ...(draft.maxWaitHours !== undefined && { maxWaitHours: draft.maxWaitHours }),
    ...(draft.maxTotalQuantity !== undefined && { maxTotalQuantity: draft.maxTotalQuantity }),
    promisedShipDays: draft.promisedShipDays,
    ...(draft.maxPerBuyer !== undefined && { maxPerBuyer: draft.maxPerBuyer }),
    maxDelayDays: draft.maxDelayDays ?? defaultMaxDelayDays,
    ...(draft.lateCompensation !== undefined && { lateCompensation: draft.lateCompensation }),
    ...(draft.commission !== undefined && { commission: draft.commission }),
    ...(draft.liveRoomIds !== undefined && { liveRoomIds: draft.liveRoomIds }),
    switchWindowHours: draft.switchWindowHours ?? defaultSwitchWindowHours,
    ...(draft.payment !== undefined && { payment: draft.payment }),
    status: opensAt === nowIso ? 'OPEN' : 'SCHEDULED',
    createdAt: nowIso,
    updatedAt: nowIso,
    gateShards: gateShardsFor(draft.maxTotalQuantity),
  };
};

/** The campaign as it was when created: what a replayed create answers with. */
export const asCreated = (c: Campaign): Campaign => {
  const { closedAt: _closed, minimumMetAt: _met, variantsMet: _variantsMet, variantsMissed: _missed, switchBy: _switchBy, switchWindowClosedAt: _done, finalPrices: _prices, repricedAt: _repriced, ...rest } = c;
  return { ...rest, status: c.opensAt === c.createdAt ? 'OPEN' : 'SCHEDULED', updatedAt: c.createdAt };
};

/** The next time the clock must act on the campaign, or undefined once it is final. */
export const nextTransitionAt = (c: Pick<Campaign, 'status' | 'opensAt' | 'closesAt'>): string | undefined =>
  c.status === 'SCHEDULED' ? c.opensAt : c.status === 'OPEN' ? c.closesAt : undefined;

export const isFinal = (status: CampaignStatus): boolean => status === 'CLOSED' || status === 'FAILED';

/** Whether the campaign should be open at `now`, regardless of what the clock has done yet. */
export const dueToOpen = (c: Pick<Campaign, 'status' | 'opensAt' | 'closesAt'>, now: Date): boolean =>
  c.status === 'SCHEDULED' && Date.parse(c.opensAt) <= now.getTime() && now.getTime() < Date.parse(c.closesAt);

export const dueToClose = (c: Pick<Campaign, 'status' | 'closesAt'>, now: Date): boolean =>
  (c.status === 'OPEN' || c.status === 'SCHEDULED') && Date.parse(c.closesAt) <= now.getTime();

/** Accepting pre-orders needs both the clock's word (status) and the wall clock's. */
export const acceptsPreordersAt = (c: Pick<Campaign, 'status' | 'opensAt' | 'closesAt'>, now: Date): boolean =>
  (c.status === 'OPEN' || dueToOpen(c, now)) && now.getTime() < Date.parse(c.closesAt);

/** The outcome of closing: met its minimum (net of cancellations) or failed. */
export const closingStatus = (c: Pick<Campaign, 'minTotalQuantity'>, netOrderedUnits: number): 'CLOSED' | 'FAILED' =>
  netOrderedUnits >= c.minTotalQuantity ? 'CLOSED' : 'FAILED';

export const findVariant = (c: Pick<Campaign, 'variants'>, sku: string): Variant | undefined =>
  c.variants.find((v) => v.sku === sku);

/** Per-variant demand, summed over the campaign's gates. */
export interface VariantDemand {
  readonly sku: string;
  readonly ordered: number;
  readonly cancelled: number;
  readonly batched: number;
  /** Units in line to be cut: ordered, not cancelled, not batched and (deposit campaigns) paid in full. */
  readonly waiting: number;
  /** Deposit campaigns only: units whose balance is not paid yet (not in line; domain/payment.ts). */
  readonly awaitingBalance?: number;
}

export interface GateCounts {
  readonly ordered: Readonly<Record<string, number>>;
  readonly cancelled: Readonly<Record<string, number>>;
  readonly batched?: Readonly<Record<string, number>>;
  /** Units of deposit pre-orders whose balance is not paid (absent on gates of campaigns paid in full). */
  readonly unpaid?: Readonly<Record<string, number>>;
  readonly remaining?: number;
}

export interface Demand {
  readonly variants: readonly VariantDemand[];
  readonly totals: { ordered: number; cancelled: number; batched: number; waiting: number; awaitingBalance?: number };
  /** Units still available under the cap; absent for uncapped campaigns. */
  readonly remaining?: number;
}

export const sumDemand = (c: Pick<Campaign, 'variants' | 'maxTotalQuantity' | 'payment'>, gates: readonly GateCounts[]): Demand => {
  const deposits = isDepositCampaign(c);
  const variants = c.variants.map((v) => {
    const ordered = gates.reduce((n, g) => n + (g.ordered[v.sku] ?? 0), 0);
    const cancelled = gates.reduce((n, g) => n + (g.cancelled[v.sku] ?? 0), 0);
    const batched = gates.reduce((n, g) => n + (g.batched?.[v.sku] ?? 0), 0);
    const unpaid = gates.reduce((n, g) => n + (g.unpaid?.[v.sku] ?? 0), 0);
    return { sku: v.sku, ordered, cancelled, batched, waiting: ordered - cancelled - batched - unpaid, ...(deposits && { awaitingBalance: unpaid }) };
  });
  const totals = variants.reduce(
    (t, v) => ({
      ordered: t.ordered + v.ordered,
      cancelled: t.cancelled + v.cancelled,
      batched: t.batched + v.batched,
      waiting: t.waiting + v.waiting,
      ...(deposits && { awaitingBalance: (t.awaitingBalance ?? 0) + (v.awaitingBalance ?? 0) }),
    }),
    { ordered: 0, cancelled: 0, batched: 0, waiting: 0 } as Demand['totals'],
  );
  return {
    variants,
    totals,
    ...(c.maxTotalQuantity !== undefined && { remaining: gates.reduce((n, g) => n + (g.remaining ?? 0), 0) }),
  };
};

/**
 * Picks gates to take `quantity` units from: one gate with room if there is one,
 * else the fewest gates whose remaining units add up (a large order in a
 * nearly sold-out campaign), else undefined when the cap cannot hold it.
 */
export const planCapTakes = (
  remainingByGate: readonly number[],
  quantity: number,
  random: () => number = Math.random,
): { shard: number; units: number }[] | undefined => {
  const withRoom = remainingByGate.flatMap((r, shard) => (r >= quantity ? [shard] : []));
  if (withRoom.length > 0) {
    const shard = withRoom[Math.floor(random() * withRoom.length)] as number;
    return [{ shard, units: quantity }];
  }
  const byRemaining = remainingByGate
    .map((r, shard) => ({ shard, r }))
    .filter((g) => g.r > 0)
    .sort((a, b) => b.r - a.r);
  const takes: { shard: number; units: number }[] = [];
  let left = quantity;
  for (const g of byRemaining) {
    if (left === 0) break;
    const units = Math.min(g.r, left);
    takes.push({ shard: g.shard, units });
    left -= units;
  }
  return left === 0 ? takes : undefined;
};

/** A live room's signals count for a campaign that names no rooms, or names this one. */
export const countsSignalsFrom = (campaign: Pick<Campaign, 'liveRoomIds'>, liveRoomId: string): boolean =>
  campaign.liveRoomIds === undefined || campaign.liveRoomIds.includes(liveRoomId);

// ---------------------------------------------------------------- changing a campaign

/** The terms an anchor wrote, as the create body has them: what a change before opening is merged into. */
export const termsOf = (c: Campaign): CampaignDraft & { readonly opensAt: string; readonly maxDelayDays: number; readonly switchWindowHours: number } => ({
  title: c.title,
  factoryId: c.factoryId,
  ...(c.backupFactoryId !== undefined && { backupFactoryId: c.backupFactoryId }),
  currency: c.currency,
  variants: c.variants,
  ...(c.priceTiers !== undefined && { priceTiers: c.priceTiers }),
  opensAt: c.opensAt,
  closesAt: c.closesAt,
  minTotalQuantity: c.minTotalQuantity,
  lotSize: c.lotSize,
  ...(c.maxWaitHours !== undefined && { maxWaitHours: c.maxWaitHours }),
  ...(c.maxTotalQuantity !== undefined && { maxTotalQuantity: c.maxTotalQuantity }),
  promisedShipDays: c.promisedShipDays,
  ...(c.maxPerBuyer !== undefined && { maxPerBuyer: c.maxPerBuyer }),
  maxDelayDays: c.maxDelayDays,
  ...(c.lateCompensation !== undefined && { lateCompensation: c.lateCompensation }),
  ...(c.commission !== undefined && { commission: c.commission }),
  ...(c.liveRoomIds !== undefined && { liveRoomIds: c.liveRoomIds }),
  switchWindowHours: c.switchWindowHours,
  ...(c.payment !== undefined && { payment: c.payment }),
});

type Terms = ReturnType<typeof termsOf>;

/**
 * The optional terms a change before opening may remove, by sending `null` (as
 * in a JSON merge patch): the campaign goes on without them, or with their
 * default (`maxDelayDays`, `switchWindowHours`).
 */
export const removableTerms = [
  'backupFactoryId',
  'maxWaitHours',
  'maxTotalQuantity',
  'maxPerBuyer',
  'maxDelayDays',
  'lateCompensation',
  'commission',
  'liveRoomIds',
  'switchWindowHours',
  'payment',
  'priceTiers',
] as const satisfies readonly (keyof Terms)[];
type Removable = (typeof removableTerms)[number];

/** A change of terms as the anchor sends it: any term, and `null` for a removable one. */
export type TermsChange = Omit<Partial<Terms>, Removable> & { readonly [K in Removable]?: Terms[K] | null };

const defaultsOf: Partial<Record<Removable, unknown>> = { maxDelayDays: defaultMaxDelayDays, switchWindowHours: defaultSwitchWindowHours };

/** The campaign's terms with the change applied: a `null` takes the term away (its default, where it has one, comes back with newCampaign). */
export const mergedTerms = (c: Campaign, change: TermsChange): Terms => {
  const merged: Record<string, unknown> = { ...termsOf(c), ...change };
  for (const [k, v] of Object.entries(change)) if (v === null) delete merged[k];
  return merged as Terms;
};

/** JSON with object keys sorted: stored maps come back in any key order. */
const canonical = (value: unknown): string =>
  JSON.stringify(value, (_key, v: unknown) =>
    v && typeof v === 'object' && !Array.isArray(v) ? Object.fromEntries(Object.entries(v).sort(([x], [y]) => x.localeCompare(y))) : v,
  );

const sameValue = (key: keyof Terms, a: unknown, b: unknown): boolean => {
  if ((key === 'opensAt' || key === 'closesAt') && typeof a === 'string' && typeof b === 'string') return Date.parse(a) === Date.parse(b);
  return canonical(a) === canonical(b);
};

/** The fields of `change` whose value differs from the campaign's: a field sent with its stored value is no change. */
export const changedTerms = (c: Campaign, change: TermsChange): (keyof Terms)[] => {
  const terms = termsOf(c) as Partial<Terms>;
  return (Object.keys(change) as (keyof Terms)[]).filter((k) => {
    const to: unknown = change[k];
    if (to === undefined) return false;
    // Removing a term the campaign does not have (or has at its default) is no change.
    if (to === null) return terms[k] !== undefined && !sameValue(k, terms[k], defaultsOf[k as Removable]);
    return !sameValue(k, terms[k], to);
  });
};

/**
 * How close to its opening or closing a campaign stops taking changes to that
 * time: copies of a campaign held by the pre-order path live 2 s, so no one can
 * be acting on the old time when it is moved.
 */
export const transitionGuardMs = 10_000;
const dayMs = 24 * 3600_000;

export type CampaignChange =
  | { readonly kind: 'none' }
  /** Not open yet: the whole campaign as it will be (its gates rewritten to match). */
  | { readonly kind: 'scheduled'; readonly next: Campaign }
  /** Open: only what keeps every promise made so far. */
  | { readonly kind: 'open'; readonly next: Campaign; readonly capRaisedBy?: number; readonly closesAtMoved?: boolean };

export interface RefusedField {
  readonly path: string;
  readonly message: string;
  /** What rule refused it, for clients that say it in their own words. */
  readonly code: string;
  readonly params?: Readonly<Record<string, string | number>>;
}

/**
 * Decides a change of terms. Before opening anything may change (the merged
 * terms are checked like a create by the caller, who passes them in as
 * `merged`). While OPEN only what cannot break a promise: a higher cap, a later
 * close, more live rooms. Returns the refusals instead when there are any
 * (each names its field); a CLOSED or FAILED campaign refuses every change.
 */
export const planCampaignChange = (
  c: Campaign,
  change: TermsChange,
  now: Date,
): { change: CampaignChange } | { refused: RefusedField[] } => {
  const fields = changedTerms(c, change);
  if (fields.length === 0) return { change: { kind: 'none' } };
  if (isFinal(c.status)) return { refused: fields.map((path) => ({ path, message: `the campaign is ${c.status}: nothing can change`, code: 'campaign_final' })) };
  if (c.status === 'SCHEDULED') {
    if (Date.parse(c.opensAt) - now.getTime() < transitionGuardMs) {
      return { refused: fields.map((path) => ({ path, message: 'the campaign is opening now; change it again once it is open', code: 'opening_now' })) };
    }
    const merged = mergedTerms(c, change);
    const opensAt = Date.parse(merged.opensAt) > now.getTime() ? new Date(merged.opensAt).toISOString() : now.toISOString();
    const next: Campaign = {
      ...newCampaign({ campaignId: c.campaignId, anchorId: c.anchorId, draft: { ...merged, opensAt }, now }),
      // Still SCHEDULED even when the new opening is now: the clock (or the first pre-order) opens it, gates first.
      status: 'SCHEDULED',
      opensAt,
      createdAt: c.createdAt,
    };
    return { change: { kind: 'scheduled', next } };
  }
  const refused: RefusedField[] = [];
  let next: Campaign = { ...c, updatedAt: now.toISOString() };
  let capRaisedBy: number | undefined;
  let closesAtMoved = false;
  for (const field of fields) {
    if (change[field] === null) {
      // Buyers ordered on every term the campaign has: none is taken away while it sells.
      refused.push({ path: field, message: 'can be removed only before the campaign opens', code: 'only_before_open' });
    } else if (field === 'maxTotalQuantity') {
      const to = change.maxTotalQuantity as number;
      if (c.maxTotalQuantity === undefined) refused.push({ path: field, message: 'the campaign has no cap; one cannot be set while it is open', code: 'no_cap_while_open' });
      else if (to < c.maxTotalQuantity) refused.push({ path: field, message: `while open the cap can only be raised (it is ${c.maxTotalQuantity})`, code: 'cap_only_raised', params: { cap: c.maxTotalQuantity } });
      else {
        capRaisedBy = to - c.maxTotalQuantity;
        next = { ...next, maxTotalQuantity: to };
      }
    } else if (field === 'closesAt') {
      const to = new Date(change.closesAt as string).toISOString();
      const first = c.firstClosesAt ?? c.closesAt;
      const latest = Date.parse(first) + c.maxDelayDays * dayMs;
      if (Date.parse(to) < Date.parse(c.closesAt)) refused.push({ path: field, message: 'while open the close can only move later', code: 'close_only_later' });
      else if (Date.parse(c.closesAt) - now.getTime() < transitionGuardMs) refused.push({ path: field, message: 'the campaign is closing now', code: 'closing_now' });
      else if (Date.parse(to) > latest) {
        // Every batch must ship by the earliest buyers' ceiling (first close + promisedShipDays + maxDelayDays):
        // a close moved further would promise later buyers a date past it.
        refused.push({
          path: field,
          message: `at most ${c.maxDelayDays} days (maxDelayDays) after the first close, ${new Date(latest).toISOString()}`,
          code: 'close_past_ceiling',
          params: { latest: new Date(latest).toISOString(), days: c.maxDelayDays },
        });
      }
      else {
        closesAtMoved = true;
        next = { ...next, closesAt: to, firstClosesAt: c.firstClosesAt ?? c.closesAt };
      }
    } else if (field === 'liveRoomIds') {
      const to = change.liveRoomIds ?? [];
      if (new Set(to).size !== to.length) refused.push({ path: field, message: 'each live room at most once', code: 'duplicate_room' });
      else if (c.liveRoomIds === undefined) refused.push({ path: field, message: "the campaign counts every room's signals; naming rooms now would drop some", code: 'rooms_all_counted' });
      else if (!c.liveRoomIds.every((r) => to.includes(r))) refused.push({ path: field, message: 'while open live rooms can be added, not removed', code: 'rooms_only_added' });
      else next = { ...next, liveRoomIds: to };
    } else {
      refused.push({ path: field, message: 'can change only before the campaign opens', code: 'only_before_open' });
    }
  }
  if (refused.length > 0) return { refused };
  return { change: { kind: 'open', next, ...(capRaisedBy !== undefined && { capRaisedBy }), ...(closesAtMoved && { closesAtMoved }) } };
};
