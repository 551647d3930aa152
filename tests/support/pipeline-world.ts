import { expect, vi } from 'vitest';
import fc from 'fast-check';
import { EventBridgeClient, PutEventsCommand } from '@aws-sdk/client-eventbridge';
import type { LocalRuntime } from '../../lib/local/runtime.ts';
import { localCredentials, localRegion } from '../../lib/local/dynamodb.ts';
import { campaignDraft, clientFor, preorderDraft, registerFactories, type Reply } from './runtime.ts';

/** Every campaign's factory and its backup: registered by an operator before the first campaign names them. */
export const pipelineFactories = ['factory-p', 'factory-q'] as const;

/**
 * A campaign driven through the local runtime by API calls only, and the
 * invariants of design.md checked from what the API shows. Shared by the
 * fulfillment property test and the fault-injection suite.
 */
export interface Pipeline {
  readonly runtime: LocalRuntime;
  readonly anchor: ReturnType<typeof clientFor>;
  readonly factories: Record<string, ReturnType<typeof clientFor>>;
  readonly buyers: ReturnType<typeof clientFor>[];
  /** The live platform's payment service, which confirms the refunds it paid. */
  readonly platform: ReturnType<typeof clientFor>;
  readonly bus: EventBridgeClient;
  /** Tallies what was tried, by operation and answer. */
  readonly count: (key: string) => void;
  readonly tried: Map<string, number>;
  /**
   * What the local notification channel printed, per pre-order (buyer, step, message), once `listen`
   * has been handed to silenceBuyerNotifications; undefined otherwise, and then the channel is not checked.
   */
  readonly heard: () => Map<string, Heard[]> | undefined;
  readonly listen: () => (line: string) => void;
}

export type Heard = { buyer: string; step: string; message: string };

export const pipelineOn = (runtime: LocalRuntime): Pipeline => {
  const tried = new Map<string, number>();
  let heard: Map<string, Heard[]> | undefined;
  // The property test moves the runtime's clock forward by weeks in all, tokens last an hour:
  // each client fetches a new one when its own has expired by that clock (clientFor).
  const anchor = clientFor(runtime, 'anchor', 'anchor-p');
  const factories = Object.fromEntries(pipelineFactories.map((id) => [id, clientFor(runtime, 'factory', id)]));
  const buyers = Array.from({ length: 4 }, (_, i) => clientFor(runtime, 'buyer', `pbuyer-${i}`));
  const platform = clientFor(runtime, 'platform', 'pay-p');
  return {
    runtime,
    anchor,
    factories,
    buyers,
    platform,
    bus: new EventBridgeClient({ endpoint: runtime.emulator.endpoint, region: localRegion, credentials: localCredentials }),
    count: (key) => tried.set(key, (tried.get(key) ?? 0) + 1),
    tried,
    heard: () => heard,
    listen: () => {
      const mine = new Map<string, Heard[]>();
      heard = mine;
      return (chunk) => {
        // One line a message: "🔔 buyer <buyerId> · <preorderId> · <step> · <message>" (printToConsole).
        for (const line of chunk.split('\n').filter((l) => l.includes('🔔'))) {
          const m = /🔔 buyer (\S+) · (\S+) · (\S+) · (.*)$/.exec(line);
          if (!m) throw new Error(`a notification line the test cannot read: ${line}`);
          mine.set(m[2]!, [...(mine.get(m[2]!) ?? []), { buyer: m[1]!, step: m[3]!, message: m[4]! }]);
        }
      };
    },
  };
};

/** What the runs did, one line per operation and answer. */
export const report = (title: string, tried: Map<string, number>) =>
  `${title}\n${[...tried].sort().map(([k, n]) => `  ${k.padEnd(44)} ${n}`).join('\n')}`;

export const skus = ['SHIRT-S', 'SHIRT-M'];
/** An sku no campaign of the test sells (a switch to it is a 400). */
const unknownSku = 'SHIRT-XL';
const unitPrice = 12900;
const hourMs = 3600_000;
const dayMs = 24 * hourMs;

/**
 * A campaign's promises, drawn per run: its minimum (1-8 units, against lots of 2-4), each variant's own
 * minimum (sometimes), a purchase limit (sometimes), a short ceiling (1-3 days past a promise 1-2 days
 * after close), late compensation (sometimes) and a switch window of a few hours.
 */
export type Terms = {
  minTotalQuantity: number;
  lotSize: number;
  promisedShipDays: number;
  maxDelayDays: number;
  switchWindowHours: number;
  /** Per sku of `skus`, its own minimum when it has one. */
  minQuantity: readonly (number | undefined)[];
  maxPerBuyer: number | undefined;
  lateCompensation: { percent: number; minAmount: number; maxAmount: number } | undefined;
  /** Per sku of `skus`, its price tiers (阶梯价) when it has some. */
  priceTiers: readonly (readonly PriceTier[] | undefined)[];
  /** A deposit campaign (定金/尾款): the deposit a unit, the discount it buys off the balance, the hours to pay the balance. */
  deposit: { deposit: number; depositDiscount: number | undefined; balanceWindowHours: number } | undefined;
  /** Tiers for the whole campaign (全场阶梯价): every variant's units count, every variant's price drops. Never with `priceTiers`. */
  campaignTiers?: readonly PriceTier[] | undefined;
};
type PriceTier = { minUnits: number; unitPrice: number };

/** The price a variant's net sold units reach: the last tier reached, else the list price. */
const tierPriceOf = (tiers: readonly PriceTier[] | undefined, sold: number) =>
  (tiers ?? []).reduce((price, t) => (sold >= t.minUnits ? Math.min(price, t.unitPrice) : price), unitPrice);

export const terms: fc.Arbitrary<Terms> = fc.record({
  // Half the time a small minimum (the lots flow), half the time one of 4-8 that the demand may not reach:
  // lots below, at and above it, and campaigns that fail with batches or without.
  minTotalQuantity: fc.oneof(fc.integer({ min: 1, max: 3 }), fc.integer({ min: 4, max: 8 })),
  lotSize: fc.integer({ min: 2, max: 4 }),
  promisedShipDays: fc.integer({ min: 1, max: 2 }),
  maxDelayDays: fc.integer({ min: 1, max: 3 }),
  switchWindowHours: fc.constantFrom(2, 12, 24),
  // Half the time one variant has a minimum of its own (the dye-lot case), often missed at close while the
  // other variant goes on: its buyers may switch.
  minQuantity: fc.oneof(
    { weight: 1, arbitrary: fc.constant(skus.map(() => undefined)) },
    { weight: 1, arbitrary: fc.tuple(fc.nat(skus.length - 1), fc.integer({ min: 3, max: 7 })).map(([i, min]) => skus.map((_, j) => (i === j ? min : undefined))) },
  ),
  maxPerBuyer: fc.option(fc.integer({ min: 2, max: 5 }), { nil: undefined, freq: 2 }),
  // Amounts are 12900 a unit: 1-30 % of them against bounds that sometimes clamp it.
  lateCompensation: fc.option(
    fc
      .record({ percent: fc.integer({ min: 1, max: 30 }), minAmount: fc.integer({ min: 1, max: 3000 }), spread: fc.integer({ min: 0, max: 6000 }) })
      .map(({ percent, minAmount, spread }) => ({ percent, minAmount, maxAmount: minAmount + spread })),
    { nil: undefined, freq: 3 },
  ),
  // Half the time one variant has tiers that the demand may or may not reach: the price drops at close and every
  // later refund of its buyers (cancels, short batches, the ceiling, a failed campaign) pays back at the new price.
  priceTiers: fc.oneof(
    { weight: 1, arbitrary: fc.constant(skus.map(() => undefined)) },
    {
      weight: 1,
      arbitrary: fc
        .tuple(fc.nat(skus.length - 1), fc.integer({ min: 1, max: 4 }), fc.integer({ min: 1, max: 4 }), fc.integer({ min: 1, max: 3000 }), fc.integer({ min: 1, max: 3000 }))
        .map(([i, first, step, cut1, cut2]) =>
          skus.map((_, j) =>
            i === j
              ? [
                  { minUnits: first, unitPrice: unitPrice - cut1 },
                  { minUnits: first + step, unitPrice: unitPrice - cut1 - cut2 },
                ]
              : undefined,
          ),
        ),
    },
  ),
  deposit: fc.constant(undefined),
});

/**
 * A third of the time a deposit campaign: the balances are called when demand is settled, some are paid (and only
 * those made), the rest forfeited at the deadline; tiers lower the balance rather than refund. Drawn apart from
 * `terms` and `op` (and after them), so that adding it left every other draw of a seed as it was.
 */
export const depositTerms: fc.Arbitrary<Terms['deposit']> = fc.oneof(
  { weight: 2, arbitrary: fc.constant(undefined) },
  {
    weight: 1,
    arbitrary: fc.record({
      deposit: fc.integer({ min: 500, max: 3000 }),
      depositDiscount: fc.option(fc.integer({ min: 1, max: 1000 }), { nil: undefined }),
      balanceWindowHours: fc.constantFrom(2, 12, 24),
    }),
  },
);

/**
 * Half the time tiers for the whole campaign (全场阶梯价), used only when the variants have none of their own (the
 * API refuses both): the units of both variants count, and both prices drop. Drawn apart from the other draws
 * (and after them), so that adding it left every other draw of a seed as it was.
 */
export const campaignTierTerms: fc.Arbitrary<readonly PriceTier[] | undefined> = fc.oneof(
  { weight: 1, arbitrary: fc.constant(undefined) },
  {
    weight: 1,
    arbitrary: fc
      .tuple(fc.integer({ min: 2, max: 6 }), fc.integer({ min: 1, max: 4 }), fc.integer({ min: 1, max: 3000 }), fc.integer({ min: 1, max: 3000 }))
      .map(([first, step, cut1, cut2]) => [
        { minUnits: first, unitPrice: unitPrice - cut1 },
        { minUnits: first + step, unitPrice: unitPrice - cut1 - cut2 },
      ]),
  },
);

/** What the buyer is owed for a late lot: the campaign's share of the amount, rounded, within its bounds. */
export const compensationFor = (c: NonNullable<Terms['lateCompensation']>, amount: number) =>
  Math.min(c.maxAmount, Math.max(c.minAmount, Math.round((amount * c.percent) / 100)));

export type Op =
  /** `over`: the quantity that takes the buyer one unit past the campaign's purchase limit, when it has one. */
  | { kind: 'place'; buyer: number; sku: number; quantity: number; over?: boolean }
  | { kind: 'cancel'; pick: number }
  | { kind: 'close' }
  | { kind: 'accept'; pick: number; lateDays: number }
  | { kind: 'reject'; pick: number }
  | { kind: 'progress'; pick: number; sku: number; share: number }
  | { kind: 'ship'; pick: number; sku: number; quantity: number }
  | { kind: 'deliver'; pick: number }
  | { kind: 'closeShort'; pick: number }
  | { kind: 'redeliver'; pick: number }
  | { kind: 'maxWait' }
  /** A buyer told their variant missed its minimum moves to another (or tries an sku that cannot be). */
  | { kind: 'switch'; pick: number; target: number }
  /** The platform confirms a refund it paid: one listed (again, sometimes), or for another amount (`wrong`, refused). */
  | { kind: 'confirmRefund'; pick: number; wrong: boolean }
  /** The platform records a balance paid: one due (three times in four), or any; for another amount (`wrong`, refused). */
  | { kind: 'payBalance'; pick: number; wrong: boolean }
  /**
   * The clock moves forward (the minute sweep firing as it goes): an hour (the campaign closes, a switch window
   * stays open), a day (acceptance deadlines), or to just past the end of the switch window, the date promised at
   * order time (lots after it are late) or the ceiling.
   */
  | { kind: 'time'; to: 'hour' | 'day' | 'window' | 'promise' | 'ceiling' | 'balance' };

const place = fc.record({
  kind: fc.constant('place' as const),
  buyer: fc.nat(3),
  sku: fc.nat(1),
  quantity: fc.integer({ min: 1, max: 3 }),
  over: fc.nat(4).map((n) => n === 0),
});

export const op: fc.Arbitrary<Op> = fc.oneof(
  { weight: 4, arbitrary: place },
  { weight: 2, arbitrary: fc.record({ kind: fc.constant('cancel' as const), pick: fc.nat() }) },
  { weight: 1, arbitrary: fc.constant({ kind: 'close' as const }) },
  // The factory commits to tomorrow, to two days on (late against a promise of one, within most ceilings), or to three weeks on.
  { weight: 6, arbitrary: fc.record({ kind: fc.constant('accept' as const), pick: fc.nat(), lateDays: fc.constantFrom(-1, 0, 20) }) },
  { weight: 1, arbitrary: fc.record({ kind: fc.constant('reject' as const), pick: fc.nat() }) },
  { weight: 3, arbitrary: fc.record({ kind: fc.constant('progress' as const), pick: fc.nat(), sku: fc.nat(1), share: fc.double({ min: 0.3, max: 1, noNaN: true }) }) },
  { weight: 6, arbitrary: fc.record({ kind: fc.constant('ship' as const), pick: fc.nat(), sku: fc.nat(1), quantity: fc.integer({ min: 1, max: 3 }) }) },
  { weight: 3, arbitrary: fc.record({ kind: fc.constant('deliver' as const), pick: fc.nat() }) },
  { weight: 2, arbitrary: fc.record({ kind: fc.constant('closeShort' as const), pick: fc.nat() }) },
  { weight: 3, arbitrary: fc.record({ kind: fc.constant('redeliver' as const), pick: fc.nat() }) },
  { weight: 2, arbitrary: fc.constant({ kind: 'maxWait' as const }) },
  { weight: 5, arbitrary: fc.record({ kind: fc.constant('switch' as const), pick: fc.nat(), target: fc.nat() }) },
  { weight: 5, arbitrary: fc.record({ kind: fc.constant('confirmRefund' as const), pick: fc.nat(), wrong: fc.nat(3).map((n) => n === 0) }) },
  { weight: 2, arbitrary: fc.record({ kind: fc.constant('time' as const), to: fc.constantFrom(...(['hour', 'day', 'window', 'promise', 'ceiling'] as const)) }) },
);

/**
 * A deposit campaign's own steps, put among the others (one after every third): the platform records a balance
 * (mostly one due), or the clock moves past the balance deadline. Only deposit campaigns take them.
 */
export const depositOps: fc.Arbitrary<Op[]> = fc.array(
  fc.oneof(
    { weight: 4, arbitrary: fc.record({ kind: fc.constant('payBalance' as const), pick: fc.nat(), wrong: fc.nat(5).map((n) => n === 0) }) },
    { weight: 1, arbitrary: fc.constant({ kind: 'time' as const, to: 'balance' as const }) },
  ),
  { maxLength: 10 },
);

/** The steps of a run: `then`, with a deposit campaign's own among them (one after every third) when it is one. */
export const interleave = (then: readonly Op[], extra: readonly Op[]): Op[] =>
  then.flatMap((o, i) => (i % 3 === 2 && extra[Math.floor(i / 3)] ? [o, extra[Math.floor(i / 3)]!] : [o]));

/** Two to six pre-orders first: against a minimum of up to 8, sometimes too few (a campaign that fails). */
export const opening = fc.array(place, { minLength: 2, maxLength: 6 });

export type Batch = { batchId: string; campaignId: string; factoryId: string; status: string; reason: string; units: number; shipped: number; qcPassed: number; lines: { sku: string; quantity: number; shipped: number; qcPassed?: number; produced?: number; qcFailed?: number }[] };
export type Preorder = {
  preorderId: string;
  sku: string;
  quantity: number;
  unitPrice: number;
  status: string;
  batchId?: string;
  delayedTo?: string;
  promisedShipBy: string;
  originalPromisedShipBy: string;
  compensatedAmount: number;
  switchBy?: string;
  switchedFrom?: string;
  createdAt: string;
  shipments: { shipmentId: string; quantity: number; shippedAt: string; deliveredAt?: string }[];
  shippedQuantity: number;
  deliveredQuantity: number;
  refundedAmount: number;
  amount: number;
  paidAmount: number;
  finalUnitPrice: number;
  depositAmount?: number;
  balanceDue?: number;
  balanceDueBy?: string;
  balancePaidAt?: string;
  forfeitedAmount?: number;
  refunds: { refundId: string; amount: number; reason: string; status: string }[];
  timeline: { at: string; status: string; note: string; step?: string; template: string; params?: Record<string, unknown> }[];
  notifications: { notificationId: string; at: string; step: string; message: string; template: string }[];
};
type Campaign = { status: string; switchBy?: string; closedAt?: string; variantsMissed?: string[]; finalPrices?: Record<string, number>; balanceDueBy?: string };

type ManifestEntry = { preorderId: string; sku: string; quantity: number };
type Demand = { variants: { sku: string; ordered: number; batched: number; waiting: number; cancelled: number; awaitingBalance?: number }[] };

/** Batches still to make or ship (a COMPLETED one is done, in full or closed short; a REJECTED one holds nobody). */
const liveStatuses = ['RELEASED', 'ACCEPTED', 'IN_PRODUCTION', 'PARTIALLY_SHIPPED'];
/** Events the fulfillment consumer acts on: redelivering them is what could allocate or refund twice. */
const fulfillmentEvents = ['batch.accepted', 'batch.completed', 'shipment.created', 'shipment.delivered'];
const sum = <T>(xs: readonly T[], f: (x: T) => number) => xs.reduce((n, x) => n + f(x), 0);
/** Templates that refund part of a pre-order's units, naming how many (`units`). */
const partialRefundTemplates = ['preorder.partly_refunded_closed_short', 'preorder.partly_refunded_campaign_failed', 'preorder.refunded_at_ceiling'];
/** Templates that cancel a deposit pre-order whose balance was never paid, its deposit kept. */
const forfeitTemplates = ['preorder.cancelled_forfeit', 'preorder.forfeited'];
/**
 * Units of the pre-order given up, from its status and its timeline (not from money, which the invariants check
 * against it): all it did not get once REFUNDED (or cancelled with its deposit forfeited), else what its partial
 * refunds name; `before` counts only those decided before then. A price drop refunds money, not units.
 */
const refundedUnitsOf = (p: Preorder, before?: string): number => {
  const inTime = (at: string) => before === undefined || at < before;
  const whole = p.timeline.find((e) => ((e.status === 'REFUNDED' && e.step === undefined) || forfeitTemplates.includes(e.template)) && inTime(e.at));
  if (whole) return p.quantity - sum(p.shipments, (s) => s.quantity);
  return sum(p.timeline.filter((e) => partialRefundTemplates.includes(e.template) && e.step === 'partly-refunded' && inTime(e.at)), (e) => Number(e.params?.units ?? 0));
};
/** The channel prints a message on one line. */
const oneLine = (text: string) => text.replace(/\s*[\r\n]+\s*/g, ' ');
/** A deposit pre-order whose balance is not paid: out of line, never in a batch. */
const awaitsBalance = (p: Preorder) => p.depositAmount !== undefined && p.balancePaidAt === undefined && p.status === 'ACCEPTED';
/** What the buyer still owes: an unpaid balance (once called; before, what it would be at the price now). */
const owedBalanceOf = (p: Preorder) => (awaitsBalance(p) ? (p.balanceDue ?? p.quantity * p.finalUnitPrice - p.paidAmount) : 0);

/** One simulated campaign: what the test knows about it, learnt only through the API. */
export class World {
  constructor(private readonly pipe: Pipeline) {}

  campaignId = '';
  preorders: { id: string; buyer: number; ref?: string }[] = [];
  /** Every lot the factory API took (201), as the test sent it, and whether the test confirmed its delivery. */
  shipments: { id: string; factoryId: string; batchId: string; items: { sku: string; quantity: number }[]; delivered: boolean }[] = [];
  log: string[] = [];
  /** The campaign's maxWaitHours, in ms, when it has one. */
  maxWaitMs: number | undefined;
  /** Pre-orders as last checked (the max-wait step reads who waits from them). */
  seen: Preorder[] = [];
  /** Manifests as last read, and what they were read against. */
  private manifestCache: { members: string; batches: Map<string, { key: string; items: ManifestEntry[] }> } = { members: '', batches: new Map() };
  /** The campaign's promises, as the test asked for them (defaults as the API answered). */
  terms: Terms = { minTotalQuantity: 1, lotSize: 3, promisedShipDays: 2, maxDelayDays: 14, switchWindowHours: 24, minQuantity: [], maxPerBuyer: undefined, lateCompensation: undefined, priceTiers: [], deposit: undefined };
  /** When the campaign closes, as sent: every pre-order is promised this plus promisedShipDays. */
  closesAt = 0;
  /** How far this world moved the clock, and how far it may (time steps). */
  movedMs = 0;
  readonly timeBudgetMs = 7 * dayMs;
  /** When the clock's sweep last ran after the clock moved (and the queues drained since). */
  lastSweepAt: number | undefined;
  /** Whether a check ever saw a batch of the campaign, and which skus it saw in one. */
  private everBatched = false;
  private skusBatched = new Set<string>();
  /** Refunds the platform confirmed (200), as the test asked. */
  confirmedRefunds = new Set<string>();
  /** WITHDRAWN batches whose manifest was found refused. */
  private withdrawnChecked = new Set<string>();
  /** Balances the platform recorded paid (200), by pre-order, as the test asked. */
  paidBalances = new Map<string, number>();

  /** Opens the campaign; `terms` override the draft's (the property test draws them, with a maxWaitHours). */
  async start(terms: Partial<Terms> & { maxWaitHours?: number } = {}) {
    const { minQuantity = [], maxPerBuyer, lateCompensation, priceTiers = [], deposit, campaignTiers, ...rest } = terms;
    await registerFactories(this.pipe.runtime, ...pipelineFactories);
    const closesAt = Date.now() + hourMs;
    const r = await this.pipe.anchor.post<{ campaignId: string; maxDelayDays: number; switchWindowHours: number; closesAt: string }>(
      '/v1/campaigns',
      campaignDraft({
        factoryId: pipelineFactories[0],
        backupFactoryId: pipelineFactories[1],
        lotSize: 3,
        minTotalQuantity: 1,
        promisedShipDays: 2,
        closesAt: new Date(closesAt).toISOString(),
        variants: skus.map((sku, i) => ({
          sku,
          name: sku,
          unitPrice,
          ...(minQuantity[i] !== undefined && { minQuantity: minQuantity[i] }),
          ...(priceTiers[i] !== undefined && { priceTiers: priceTiers[i] }),
        })),
        ...(campaignTiers !== undefined && { priceTiers: campaignTiers }),
        ...(maxPerBuyer !== undefined && { maxPerBuyer }),
        ...(lateCompensation !== undefined && { lateCompensation }),
        ...(deposit !== undefined && {
          payment: {
            mode: 'deposit',
            deposit: deposit.deposit,
            balanceWindowHours: deposit.balanceWindowHours,
            ...(deposit.depositDiscount !== undefined && { depositDiscount: deposit.depositDiscount }),
          },
        }),
        ...rest,
      }),
    );
    expect(r.status, JSON.stringify(r.body)).toBe(201);
    this.campaignId = r.body.campaignId;
    this.closesAt = closesAt;
    this.maxWaitMs = terms.maxWaitHours === undefined ? undefined : terms.maxWaitHours * 3600_000;
    this.terms = {
      minTotalQuantity: terms.minTotalQuantity ?? 1,
      lotSize: terms.lotSize ?? 3,
      promisedShipDays: terms.promisedShipDays ?? 2,
      maxDelayDays: terms.maxDelayDays ?? 14,
      switchWindowHours: terms.switchWindowHours ?? 24,
      minQuantity,
      maxPerBuyer,
      lateCompensation,
      priceTiers,
      deposit,
      campaignTiers,
    };
    // The defaults the API applies, as it says it applied them.
    expect({ maxDelayDays: r.body.maxDelayDays, switchWindowHours: r.body.switchWindowHours }).toEqual({
      maxDelayDays: this.terms.maxDelayDays,
      switchWindowHours: this.terms.switchWindowHours,
    });
  }

  async campaign(): Promise<Campaign> {
    const r = await this.pipe.anchor.get<Campaign>(`/v1/campaigns/${this.campaignId}`);
    expect(r.status).toBe(200);
    return r.body;
  }

  /**
   * Moves the runtime's clock forward (it runs in this process; only forward, the gateway's throttle
   * dislikes a clock that goes back) in steps of at most twelve hours, firing the clock's minute sweep after
   * each and letting the queues drain, so what comes due (a close, a switch window's end, an acceptance
   * deadline, a promise, a ceiling) is acted on near its time, as the sweep on its own would.
   */
  async advanceClock(ms: number) {
    if (!vi.isFakeTimers()) vi.useFakeTimers({ toFake: ['Date'], shouldAdvanceTime: true });
    for (let left = ms; left > 0; ) {
      const step = Math.min(left, 12 * hourMs);
      vi.setSystemTime(Date.now() + step);
      left -= step;
      this.movedMs += step;
      this.lastSweepAt = Date.now();
      await this.pipe.runtime.emulator.fireSchedule('campaign-sweep');
      await this.pipe.runtime.emulator.drain(60_000);
      const [ps, batches, campaign] = await Promise.all([this.preorderStates(), this.batches(), this.campaign()]);
      this.checkAllOrNothing(ps, batches, campaign, `after: ${this.log.join(' ; ')} (the clock at ${new Date().toISOString()})`);
    }
  }

  private buyerOf(preorderId: string) {
    return this.preorders.find((p) => p.id === preorderId)?.buyer;
  }

  async batches(): Promise<Batch[]> {
    const all = await Promise.all(
      Object.values(this.pipe.factories).map((f) => f.get<{ items: Batch[] }>('/v1/factory/batches?limit=200').then((r) => r.body.items)),
    );
    return all.flat().filter((b) => b.campaignId === this.campaignId).sort((a, b) => a.batchId.localeCompare(b.batchId));
  }

  async run(o: Op) {
    const pick = <T>(xs: readonly T[], n: number) => (xs.length ? xs[n % xs.length] : undefined);
    const expectNo5xx = (r: Reply) => {
      this.pipe.count(`${o.kind} ${r.status}`);
      expect(r.status, `${JSON.stringify(o)} → ${JSON.stringify(r.body)}`).toBeLessThan(500);
    };
    this.log.push(JSON.stringify(o));
    switch (o.kind) {
      case 'place': {
        // The units the buyer holds, as last seen (the queues drained since): what they ordered less what was refunded.
        const limit = this.terms.maxPerBuyer;
        const held = sum(this.seen.filter((p) => this.buyerOf(p.preorderId) === o.buyer), (p) => p.quantity - refundedUnitsOf(p));
        const quantity = o.over && limit !== undefined ? Math.max(1, limit - held + 1) : o.quantity;
        const paymentRef = `pay_${this.log.length}_${o.buyer}`;
        const r = await this.pipe.buyers[o.buyer]!.post<{ preorderId: string; title?: string; detail?: string }>(
          `/v1/campaigns/${this.campaignId}/preorders`,
          // With the platform's reference of the payment (a deposit campaign requires it), unique per pre-order.
          preorderDraft({ sku: skus[o.sku], quantity, paymentRef }),
        );
        expectNo5xx(r);
        const at = `${JSON.stringify(o)} (${quantity} units, pbuyer-${o.buyer} holding ${held} of ${limit}) → ${r.status} ${JSON.stringify(r.body)}`;
        if (r.status === 409 && r.body.title === 'Purchase limit reached') {
          this.pipe.count('place 409 (purchase limit)');
          expect(limit !== undefined && held + quantity > limit, `refused at the limit within it: ${at}`).toBe(true);
          expect(r.body.detail, at).toContain(String(limit));
        }
        if (r.status === 202 && limit !== undefined) expect(held + quantity, `accepted past the limit: ${at}`).toBeLessThanOrEqual(limit);
        if (r.status === 202) this.preorders.push({ id: r.body.preorderId, buyer: o.buyer, ref: paymentRef });
        return;
      }
      case 'switch': {
        // Three times in four a pre-order its buyer was offered a switch for (waiting, with a switchBy), to the
        // other variant (with two, the one that made its minimum); otherwise any, or its own sku, or one not sold.
        const offered = new Set(this.seen.filter((p) => p.status === 'ACCEPTED' && p.switchBy !== undefined).map((p) => p.preorderId));
        const fitting = this.preorders.filter((p) => offered.has(p.id));
        const p = pick(o.pick % 4 === 0 || fitting.length === 0 ? this.preorders : fitting, Math.floor(o.pick / 4));
        const was = p && this.seen.find((x) => x.preorderId === p.id);
        if (!p || !was) return;
        const other = skus.find((sku) => sku !== was.sku)!;
        const sku = o.target % 4 !== 0 ? other : o.target % 8 === 0 ? unknownSku : was.sku;
        const r = await this.pipe.buyers[p.buyer]!.post<Preorder & { errors?: { path: string }[] }>(`/v1/preorders/${p.id}/switch`, { sku });
        expectNo5xx(r);
        const at = `switch of ${p.id} (${was.status}, ${was.sku}, switchBy ${was.switchBy}, now ${new Date().toISOString()}) to ${sku} → ${r.status} ${JSON.stringify(r.body)}`;
        const left = was.switchBy === undefined ? -Infinity : Date.parse(was.switchBy) - Date.now();
        if (sku === unknownSku) {
          expect({ status: r.status, paths: r.body.errors?.map((e) => e.path) }, at).toEqual({ status: 400, paths: ['sku'] });
        } else if (offered.has(p.id) && sku === other && left > 60_000) {
          expect(r.status, `a fitting switch within the window refused: ${at}`).toBe(200);
          expect({ sku: r.body.sku, switchedFrom: r.body.switchedFrom, status: r.body.status, createdAt: r.body.createdAt }, at).toEqual({
            sku: other,
            switchedFrom: was.sku,
            status: 'ACCEPTED',
            createdAt: was.createdAt,
          });
        } else if (!offered.has(p.id) || sku === was.sku || left < -60_000) {
          expect(r.status, `a switch that cannot be, answered: ${at}`).toBe(409);
        }
        return;
      }
      case 'time': {
        // To just past a moment still ahead, or a day on when it has passed.
        const promised = this.closesAt + this.terms.promisedShipDays * dayMs;
        const windowEnds = Math.max(0, ...this.seen.filter((p) => p.status === 'ACCEPTED' && p.switchBy).map((p) => Date.parse(p.switchBy!)));
        const dueBy = Math.max(0, ...this.seen.filter((p) => awaitsBalance(p) && p.balanceDueBy).map((p) => Date.parse(p.balanceDueBy!)));
        const target = { hour: Date.now() + hourMs, day: Date.now() + 30 * hourMs, window: windowEnds, promise: promised, ceiling: promised + this.terms.maxDelayDays * dayMs, balance: dueBy }[o.to];
        const wanted = target > Date.now() ? target - Date.now() + (o.to === 'hour' || o.to === 'day' ? 0 : 10 * 60_000) : o.to === 'window' || o.to === 'balance' ? 6 * hourMs : dayMs;
        const ms = Math.min(wanted, this.timeBudgetMs - this.movedMs);
        if (ms <= 0) return this.pipe.count('time (budget spent)');
        this.pipe.count(`time (${o.to})`);
        return this.advanceClock(ms);
      }
      case 'cancel': {
        // Three times in four one the buyer may cancel as last seen (waiting, or told of a delay with
        // nothing shipped: it leaves its batch); otherwise any, refusals included.
        const open = new Set(this.seen.filter((p) => p.status === 'ACCEPTED' || (p.delayedTo !== undefined && p.shippedQuantity === 0)).map((p) => p.preorderId));
        const fitting = this.preorders.filter((p) => open.has(p.id));
        const p = pick(o.pick % 4 === 0 || fitting.length === 0 ? this.preorders : fitting, Math.floor(o.pick / 4));
        if (!p) return;
        const delayed = this.seen.find((x) => x.preorderId === p.id)?.delayedTo !== undefined;
        const r = await this.pipe.buyers[p.buyer]!.post(`/v1/preorders/${p.id}/cancel`);
        expectNo5xx(r);
        if (delayed && r.status === 200) this.pipe.count('cancel 200 (after a delay notice)');
        return;
      }
      case 'close':
        return expectNo5xx(await this.pipe.anchor.post(`/v1/campaigns/${this.campaignId}/close`));
      case 'confirmRefund': {
        // Read now: refunds decided since the last check count (the fault suite checks only at the end).
        const r = pick((await this.preorderStates()).flatMap((p) => p.refunds ?? []), o.pick);
        if (!r) return;
        // As the payment service would: asked to slow down (429, 503), it tries again.
        let res = await this.pipe.platform.post(`/v1/payments/refunds/${r.refundId}/confirm`, { amount: o.wrong ? r.amount + 1 : r.amount });
        for (let tries = 1; (res.status === 429 || res.status === 503) && tries < 20; tries++) {
          this.pipe.count(`confirm refund ${res.status} (tried again)`);
          res = await this.pipe.platform.post(`/v1/payments/refunds/${r.refundId}/confirm`, { amount: o.wrong ? r.amount + 1 : r.amount });
        }
        expectNo5xx(res);
        const again = this.confirmedRefunds.has(r.refundId);
        this.pipe.count(`confirm refund${o.wrong ? ' (another amount)' : again ? ' (again)' : ''} ${res.status}`);
        expect(res.status, `confirm ${r.refundId} for ${o.wrong ? 'another amount' : 'its amount'}: ${JSON.stringify(res.body)}`).toBe(o.wrong ? 409 : 200);
        if (!o.wrong) this.confirmedRefunds.add(r.refundId);
        return;
      }
      case 'payBalance': {
        // Three times in four a balance due and unpaid as last seen; otherwise any pre-order, refusals included.
        const due = new Set(this.seen.filter((p) => awaitsBalance(p) && p.balanceDue !== undefined).map((p) => p.preorderId));
        const fitting = this.preorders.filter((p) => due.has(p.id));
        const p = pick(o.pick % 4 === 0 || fitting.length === 0 ? this.preorders : fitting, Math.floor(o.pick / 4));
        const was = p && this.seen.find((x) => x.preorderId === p.id);
        if (!p || !was) return;
        const amount = (was.balanceDue ?? 100) + (o.wrong ? 1 : 0);
        const r = await this.pipe.platform.post<{ paidAmount?: number; errors?: { path: string }[] }>('/v1/payments/balances', { preorderId: p.id, paymentRef: p.ref ?? 'pay_none', amount });
        expectNo5xx(r);
        const left = was.balanceDueBy === undefined ? -Infinity : Date.parse(was.balanceDueBy) - Date.now();
        const at = `balance of ${p.id} (${was.status}, due ${was.balanceDue} by ${was.balanceDueBy}, paid at ${was.balancePaidAt}, now ${new Date().toISOString()}) for ${amount} → ${r.status} ${JSON.stringify(r.body)}`;
        const again = this.paidBalances.has(p.id);
        this.pipe.count(`payBalance${o.wrong ? ' (another amount)' : again ? ' (again)' : ''} ${r.status}`);
        if (o.wrong || was.depositAmount === undefined) expect(r.status, `a balance that cannot be recorded, answered: ${at}`).toBe(409);
        else if (again) expect(r.status, `the same balance again: ${at}`).toBe(200);
        else if (was.status !== 'ACCEPTED' || was.balanceDue === undefined || left < -60_000) expect(r.status, `a balance not due, answered: ${at}`).toBe(409);
        else if (left > 60_000) expect(r.status, `a balance due, within its window, refused: ${at}`).toBe(200);
        if (r.status === 200) {
          expect(r.body.paidAmount, at).toBe(was.paidAmount + (again ? 0 : (was.balanceDue ?? 0)));
          this.paidBalances.set(p.id, amount);
        }
        return;
      }
      case 'redeliver': {
        // EventBridge delivers at least once: put one of this campaign's events on the bus again. A kind of
        // event first, then one of that kind, so the few lot and batch events are picked as often as the
        // many pre-order ones.
        const mine = this.pipe.runtime.emulator.events.filter((e) => (e.detail as { campaignId?: string }).campaignId === this.campaignId);
        // Every other time one the fulfillment consumer acts on, when there is one.
        const kinds = [...new Set(mine.map((e) => e.detailType))].sort();
        const toFulfillment = kinds.filter((k) => fulfillmentEvents.includes(k));
        const kind = pick(o.pick % 2 === 0 && toFulfillment.length > 0 ? toFulfillment : kinds, Math.floor(o.pick / 2));
        const e = pick(mine.filter((x) => x.detailType === kind), Math.floor(o.pick / 7));
        if (!e) return;
        this.pipe.count(`redeliver ${e.detailType}`);
        if (fulfillmentEvents.includes(e.detailType)) this.pipe.count('redeliver (to fulfillment)');
        await this.pipe.bus.send(new PutEventsCommand({ Entries: [{ EventBusName: this.pipe.runtime.emulator.busName, Source: 'c2m', DetailType: e.detailType, Detail: JSON.stringify(e.detail) }] }));
        return;
      }
      case 'deliver': {
        const s = pick(this.shipments, o.pick);
        if (!s) return;
        const r = await this.pipe.factories[s.factoryId]!.post(`/v1/factory/shipments/${s.id}/delivered`);
        expectNo5xx(r);
        if (r.status === 200) s.delivered = true;
        return;
      }
      case 'maxWait': {
        // Once the oldest waiting pre-order has waited maxWaitHours, the clock's minute tick (what
        // rate(1 minute) does on its own) asks the cutter, which cuts a batch below the lot size.
        const waiting = this.seen.filter((p) => p.status === 'ACCEPTED').map((p) => Date.parse(p.createdAt));
        if (this.maxWaitMs === undefined || waiting.length === 0) return this.pipe.count('maxWait (nobody waits)');
        const due = Math.min(...waiting) + this.maxWaitMs - Date.now();
        if (due > 0) await new Promise((r) => setTimeout(r, due + 20));
        this.pipe.count('maxWait tick');
        return this.pipe.runtime.emulator.fireSchedule('campaign-sweep');
      }
      default:
    }
    // Three times in four the batch is one the step applies to (a released one to accept or reject, one
    // in production to report on or ship from, one part shipped, if any, to close short: partial refunds);
    // otherwise any, refusals included.
    const all = await this.batches();
    const inProduction = all.filter((b) => ['ACCEPTED', 'IN_PRODUCTION', 'PARTIALLY_SHIPPED'].includes(b.status));
    const partShipped = all.filter((b) => b.status === 'PARTIALLY_SHIPPED');
    const fitting =
      o.kind === 'accept' || o.kind === 'reject' ? all.filter((b) => b.status === 'RELEASED') : o.kind === 'closeShort' && partShipped.length > 0 ? partShipped : inProduction;
    const batch = pick(o.pick % 4 === 0 || fitting.length === 0 ? all : fitting, Math.floor(o.pick / 4));
    if (!batch) return;
    const f = this.pipe.factories[batch.factoryId]!;
    const path = `/v1/factory/batches/${batch.batchId}`;
    switch (o.kind) {
      case 'accept': {
        const date = new Date(Date.now() + (o.lateDays + 2) * 86_400_000).toISOString().slice(0, 10);
        return expectNo5xx(await f.post(`${path}/accept`, { committedShipDate: date }));
      }
      case 'reject':
        return expectNo5xx(await f.post(`${path}/reject`, { reason: 'property test says no' }));
      case 'closeShort':
        return expectNo5xx(await f.post(`${path}/close-short`, { reason: 'property test ran out' }));
      case 'progress': {
        const line = batch.lines[o.sku % batch.lines.length]!;
        const passed = Math.max(line.qcPassed ?? 0, Math.round(line.quantity * o.share));
        const failed = line.qcFailed ?? 0;
        const produced = Math.max(line.produced ?? 0, passed + failed);
        return expectNo5xx(await f.post(`${path}/progress`, { sku: line.sku, produced, qcPassed: passed, qcFailed: failed }));
      }
      case 'ship': {
        const line = batch.lines[o.sku % batch.lines.length]!;
        // A lot of what is ready; when nothing is, the factory first passes that much through QC
        // (refused on a batch it has not accepted, and so is the shipment then).
        const left = line.quantity - line.shipped;
        if (left <= 0) return this.ship(batch, line.sku, o.quantity, expectNo5xx); // must be refused
        const quantity = Math.min(o.quantity, left);
        if ((line.qcPassed ?? 0) - line.shipped < quantity) {
          const qcPassed = line.shipped + quantity;
          const produced = Math.max(line.produced ?? 0, qcPassed + (line.qcFailed ?? 0));
          expectNo5xx(await f.post(`${path}/progress`, { sku: line.sku, produced, qcPassed, qcFailed: line.qcFailed ?? 0 }));
        }
        return this.ship(batch, line.sku, quantity, expectNo5xx);
      }
      default:
    }
  }

  async ship(batch: Batch, sku: string, quantity: number, check: (r: Reply) => void) {
    const f = this.pipe.factories[batch.factoryId]!;
    const r = await f.post<{ shipmentId: string }>(`/v1/factory/batches/${batch.batchId}/shipments`, {
      carrier: 'SF',
      trackingNumber: `SF${Date.now()}${this.shipments.length}`,
      items: [{ sku, quantity }],
    });
    check(r);
    if (r.status === 201) this.shipments.push({ id: r.body.shipmentId, factoryId: batch.factoryId, batchId: batch.batchId, items: [{ sku, quantity }], delivered: false });
  }

  /**
   * The campaign closes (and a switch window it opened ends: half the buyers offered a switch take it, the others
   * are refunded, the rest is cut); every batch still open is accepted, made in full, shipped and delivered.
   * Ending `late`: the factories accept what waits for them, the clock passes the date promised at order time, and
   * they ship one unit of each batch, then the rest (two late lots: compensation is owed once). Ending `ceiling`:
   * they accept and ship one unit of each batch, and the clock passes the buyers' ceiling before they ship the rest.
   */
  async finish(ending: 'made' | 'late' | 'ceiling' = 'made') {
    await this.run({ kind: 'close' });
    await this.pipe.runtime.emulator.drain(60_000);
    // The buyers offered a switch who ordered first take it.
    this.seen = await this.preorderStates();
    const offered = this.seen.filter((p) => p.status === 'ACCEPTED' && p.switchBy);
    for (let i = 0; i < offered.length / 2; i++) await this.run({ kind: 'switch', pick: i * 4 + 1, target: 1 });
    await this.pipe.runtime.emulator.drain(60_000);
    // The campaign's window, too: when every buyer offered a switch has already switched or cancelled, no
    // pre-order shows it any more, and the switched ones wait for its end to be cut (or refunded, if the
    // variants that made their minimums fall short of the campaign's).
    const { switchBy } = await this.campaign();
    const windowEnds = Math.max(0, ...offered.map((p) => Date.parse(p.switchBy!)), ...(switchBy ? [Date.parse(switchBy)] : []));
    if (windowEnds > Date.now()) await this.advanceClock(windowEnds - Date.now() + 60_000);
    if (this.terms.deposit) {
      // Two in three of the buyers asked for a balance pay it; the others let it lapse and lose their deposit.
      this.seen = await this.preorderStates();
      const owing = this.seen.filter((p) => awaitsBalance(p) && p.balanceDue !== undefined);
      for (let i = 0; i < owing.length; i++) {
        if (i % 3 === 2) continue;
        const at = this.preorders.findIndex((x) => x.id === owing[i]!.preorderId);
        // pick % 4 === 0: this very pre-order, of all of them.
        await this.run({ kind: 'payBalance', pick: at * 4, wrong: false });
      }
      await this.pipe.runtime.emulator.drain(60_000);
      const { balanceDueBy } = await this.campaign();
      if (balanceDueBy !== undefined && Date.parse(balanceDueBy) > Date.now()) await this.advanceClock(Date.parse(balanceDueBy) - Date.now() + 60_000);
    }
    const ok = (r: Reply) => {
      this.pipe.count(`finish ${r.status}`);
      expect(r.status).toBeLessThan(500);
    };
    const promised = this.closesAt + this.terms.promisedShipDays * dayMs;
    const until = ending === 'late' ? promised : promised + this.terms.maxDelayDays * dayMs;
    if (ending !== 'made' && until > Date.now()) {
      this.pipe.count(`finish ${ending === 'late' ? 'after the promise' : 'past the ceiling'}`);
      const live = async () => (await this.batches()).filter((b) => liveStatuses.includes(b.status));
      for (const b of await live()) {
        if (b.status === 'RELEASED') ok(await this.pipe.factories[b.factoryId]!.post(`/v1/factory/batches/${b.batchId}/accept`, { committedShipDate: new Date().toISOString().slice(0, 10) }));
      }
      await this.pipe.runtime.emulator.drain(60_000);
      if (ending === 'late') await this.advanceClock(until - Date.now() + 10 * 60_000);
      for (const b of await live()) {
        const line = b.lines.find((l) => l.quantity > l.shipped);
        if (!line) continue;
        const qcPassed = Math.max(line.qcPassed ?? 0, line.shipped + 1);
        const progress = { sku: line.sku, produced: Math.max(line.produced ?? 0, qcPassed + (line.qcFailed ?? 0)), qcPassed, qcFailed: line.qcFailed ?? 0 };
        ok(await this.pipe.factories[b.factoryId]!.post(`/v1/factory/batches/${b.batchId}/progress`, progress));
        await this.ship(b, line.sku, 1, ok);
      }
      await this.pipe.runtime.emulator.drain(60_000);
      if (ending === 'ceiling') {
        await this.advanceClock(until - Date.now() + 10 * 60_000);
        // Before anyone ships again: the ceiling's sweep left nothing unshipped and unrefunded.
        await this.checkInvariants(false);
      }
    }
    for (let round = 0, busy = true; round < 4 && busy; round++) {
      // A round that finds nothing to do ends it: the queues were drained before it, so nothing more comes.
      busy = false;
      for (const b of await this.batches()) {
        const f = this.pipe.factories[b.factoryId]!;
        const path = `/v1/factory/batches/${b.batchId}`;
        // Today: it ships all at once now, and a later date could promise past the buyers' ceiling.
        if (b.status === 'RELEASED') ok(await f.post(`${path}/accept`, { committedShipDate: new Date().toISOString().slice(0, 10) }));
        if (!['RELEASED', 'ACCEPTED', 'IN_PRODUCTION', 'PARTIALLY_SHIPPED'].includes(b.status)) continue;
        busy = true;
        for (const line of b.lines) {
          if (line.quantity <= line.shipped) continue;
          const produced = Math.max(line.produced ?? 0, line.quantity + (line.qcFailed ?? 0));
          ok(await f.post(`${path}/progress`, { sku: line.sku, produced, qcPassed: line.quantity, qcFailed: line.qcFailed ?? 0 }));
          await this.ship(b, line.sku, line.quantity - line.shipped, ok);
        }
      }
      await this.pipe.runtime.emulator.drain(60_000);
    }
    for (const s of this.shipments) {
      const r = await this.pipe.factories[s.factoryId]!.post(`/v1/factory/shipments/${s.id}/delivered`);
      ok(r);
      if (r.status === 200) s.delivered = true;
    }
    await this.pipe.runtime.emulator.drain(60_000);
  }

  async preorderStates(): Promise<Preorder[]> {
    return Promise.all(this.preorders.map((p) => this.pipe.buyers[p.buyer]!.get<Preorder>(`/v1/preorders/${p.id}`).then((r) => r.body)));
  }

  /** The pages of a batch's manifest: the pre-orders the factory still ships to from it. */
  async manifest(b: Batch): Promise<ManifestEntry[]> {
    const f = this.pipe.factories[b.factoryId]!;
    const items: ManifestEntry[] = [];
    for (let cursor: string | undefined, page = 0; page === 0 || cursor; page++) {
      const r = await f.get<{ items: typeof items; nextCursor?: string }>(`/v1/factory/batches/${b.batchId}/manifest?limit=200${cursor ? `&cursor=${encodeURIComponent(cursor)}` : ''}`);
      expect(r.status, `manifest of ${b.batchId}: ${JSON.stringify(r.body)}`).toBe(200);
      items.push(...r.body.items);
      cursor = r.body.nextCursor;
    }
    return items;
  }

  /**
   * The manifests of these batches (the open ones after every step, all at the end). A manifest is
   * the batch's members that still name it and are not refunded whole: it can only change with the
   * batch or with a pre-order's batch or status, so one read again when neither changed is skipped.
   */
  async manifests(batches: readonly Batch[], ps: readonly Preorder[]) {
    const members = JSON.stringify(ps.map((p) => [p.preorderId, p.batchId, p.status]));
    if (members !== this.manifestCache.members) this.manifestCache = { members, batches: new Map() };
    const cache = this.manifestCache.batches;
    return new Map(
      await Promise.all(
        batches.map(async (b) => {
          const key = JSON.stringify(b);
          if (cache.get(b.batchId)?.key !== key) cache.set(b.batchId, { key, items: await this.manifest(b) });
          return [b.batchId, cache.get(b.batchId)!.items] as const;
        }),
      ),
    );
  }

  /**
   * design.md's invariants, each term read from its own source and compared: the buyers' pre-orders
   * (status, shipments, refundedAmount, timeline, notifications), the factory's batches, lots and
   * manifests, the campaign's demand counters, the lots the test itself shipped and delivered, the
   * events on the bus, and (when listened to) what the notification channel sent.
   */
  async checkInvariants(finished: boolean) {
    const [ps, batches, demand, campaign] = await Promise.all([
      this.preorderStates(),
      this.batches(),
      this.pipe.anchor.get<Demand>(`/v1/campaigns/${this.campaignId}/demand`).then((r) => r.body),
      this.campaign(),
    ]);
    this.seen = ps;
    const live = batches.filter((b) => liveStatuses.includes(b.status));
    // A WITHDRAWN batch has no manifest (checked below).
    const manifests = await this.manifests(finished ? batches.filter((b) => b.status !== 'REJECTED' && b.status !== 'WITHDRAWN') : live, ps);
    const why = `after: ${this.log.join(' ; ')}`;
    const refundedUnits = (p: Preorder) => refundedUnitsOf(p);
    const shippedOf = (p: Preorder) => sum(p.shipments, (s) => s.quantity);
    const deliveredOf = (p: Preorder) => sum(p.shipments.filter((s) => s.deliveredAt !== undefined), (s) => s.quantity);
    const lineOf = (b: Batch, sku: string) => b.lines.find((l) => l.sku === sku);

    // Each pre-order: its status, its lots and its refund tell one story, and no unit beyond its quantity.
    for (const p of ps) {
      const at = `${p.preorderId} (${p.status}, ${p.quantity}× ${p.sku}, shipments ${JSON.stringify(p.shipments)}, refunded ${p.refundedAmount}) ${why}`;
      const shipped = shippedOf(p);
      const delivered = deliveredOf(p);
      const refunded = refundedUnits(p);
      expect(Number.isInteger(refunded), `refund not whole units: ${at}`).toBe(true);
      expect(new Set(p.shipments.map((s) => s.shipmentId)).size, `a lot applied twice: ${at}`).toBe(p.shipments.length);
      expect(p.shippedQuantity, `shippedQuantity against its lots: ${at}`).toBe(shipped);
      expect(p.deliveredQuantity, `deliveredQuantity against its lots: ${at}`).toBe(delivered);
      expect(shipped + refunded, `shipped beyond its quantity: ${at}`).toBeLessThanOrEqual(p.quantity);
      // Money, in integers: each refund decided is listed once, together they are what was refunded, none goes beyond
      // what was paid, and what the buyer keeps paying is what the units they keep cost.
      expect(new Set(p.refunds.map((r) => r.refundId)).size, `a refund listed twice: ${at}`).toBe(p.refunds.length);
      expect(sum(p.refunds, (r) => r.amount), `its refunds against refundedAmount: ${at}`).toBe(p.refundedAmount);
      expect(p.refundedAmount, `refunded beyond what was paid: ${at}`).toBeLessThanOrEqual(p.paidAmount);
      // In a deposit campaign: paid (the deposit, then the balance) + what is still owed − refunded = what the units kept
      // cost + the deposit kept when the balance was never paid.
      expect(
        p.paidAmount + owedBalanceOf(p) - p.refundedAmount,
        `charged − refunded against what the units kept cost (owed ${owedBalanceOf(p)}, forfeited ${p.forfeitedAmount}): ${at}`,
      ).toBe((p.quantity - refunded) * p.finalUnitPrice + (p.forfeitedAmount ?? 0));
      if (p.depositAmount !== undefined) {
        const deposit = `deposit ${p.depositAmount}, paid ${p.paidAmount}, balance ${p.balanceDue} by ${p.balanceDueBy} paid at ${p.balancePaidAt}, forfeited ${p.forfeitedAmount}: ${at}`;
        expect(p.depositAmount, `the deposit against the terms: ${deposit}`).toBe(p.quantity * (this.terms.deposit?.deposit ?? NaN));
        expect(p.paidAmount, `what was paid against deposit and balance: ${deposit}`).toBe(p.depositAmount + (p.balancePaidAt !== undefined ? p.balanceDue! : 0));
        if (p.balanceDue !== undefined) expect(p.balanceDue, `the balance against the final price: ${deposit}`).toBe(p.quantity * p.finalUnitPrice - p.depositAmount);
        // Only paid pre-orders are made; a forfeit keeps the deposit and refunds nothing.
        if (p.balancePaidAt === undefined) expect(p.batchId, `an unpaid pre-order in a batch: ${deposit}`).toBeUndefined();
        if (p.forfeitedAmount !== undefined) expect({ status: p.status, forfeited: p.forfeitedAmount, refunded: p.refundedAmount, paid: p.balancePaidAt }, deposit).toEqual({ status: 'CANCELLED', forfeited: p.depositAmount, refunded: 0, paid: undefined });
        if (p.balancePaidAt !== undefined) expect(this.paidBalances.get(p.preorderId), `a balance paid that the platform never reported: ${deposit}`).toBe(p.balanceDue);
      } else {
        expect({ forfeited: p.forfeitedAmount, balanceDue: p.balanceDue }, `deposit fields on a pre-order paid in full: ${at}`).toEqual({ forfeited: undefined, balanceDue: undefined });
      }
      for (const r of p.refunds) {
        expect(r.status, `refund ${r.refundId} against what the platform confirmed: ${at}`).toBe(this.confirmedRefunds.has(r.refundId) ? 'CONFIRMED' : 'REQUESTED');
      }
      const rest = p.quantity - shipped - refunded;
      switch (p.status) {
        case 'ACCEPTED':
        case 'BATCHED':
          expect({ shipped, refunded }, at).toEqual({ shipped: 0, refunded: 0 });
          break;
        case 'IN_PRODUCTION':
          expect(rest, `in production with nothing left to make: ${at}`).toBeGreaterThan(0);
          break;
        case 'SHIPPED':
          expect({ rest, shipped: shipped > 0, allDelivered: delivered === shipped }, at).toEqual({ rest: 0, shipped: true, allDelivered: false });
          break;
        case 'DELIVERED':
          expect({ rest, delivered, shipped: shipped > 0 }, at).toEqual({ rest: 0, delivered: shipped, shipped: true });
          break;
        case 'REFUNDED':
        case 'CANCELLED':
          expect({ refunded, shipped }, at).toEqual({ refunded: p.quantity, shipped: 0 });
          if (p.status === 'CANCELLED') expect(p.forfeitedAmount, `cancelled without a deposit kept: ${at}`).toBeDefined();
          break;
        default:
          expect.fail(`a pre-order left in status ${p.status}: ${at}`);
      }
    }

    // Per variant: units ordered = delivered + in flight + refunded + not shipped yet, each from its own source.
    for (const sku of skus) {
      const mine = ps.filter((p) => p.sku === sku);
      const v = demand.variants.find((x) => x.sku === sku)!;
      const delivered = sum(mine, deliveredOf); // the buyers' lots marked delivered
      const inFlight = sum(mine, (p) => shippedOf(p) - deliveredOf(p)); // the buyers' lots not delivered
      const refunded = sum(mine, refundedUnits); // the buyers' refunds
      const owed = sum(live, (b) => (lineOf(b, sku) ? lineOf(b, sku)!.quantity - lineOf(b, sku)!.shipped : 0)); // the factory's open batches
      const unpaid = v.awaitingBalance ?? 0; // deposit campaigns: units whose balance is not paid
      const notShipped = v.waiting + unpaid + owed; // the campaign's waiting counters, and what open batches still owe
      const terms = `${sku}: ordered ${v.ordered} vs delivered ${delivered} + in flight ${inFlight} + refunded ${refunded} + waiting ${v.waiting} + owed by batches ${owed} ${why}`;
      expect(delivered + inFlight + refunded + notShipped, terms).toBe(v.ordered);
      expect(sum(mine, (p) => p.quantity), `pre-orders against demand.ordered, ${terms}`).toBe(v.ordered);
      expect(v.ordered, terms).toBe(v.batched + v.waiting + unpaid + v.cancelled);
      expect(v.cancelled, `demand.cancelled against refunds and forfeits, ${terms}`).toBe(refunded);
      expect(sum(mine.filter((p) => p.status === 'ACCEPTED' && !awaitsBalance(p)), (p) => p.quantity), `waiting pre-orders against demand.waiting, ${terms}`).toBe(v.waiting);
      expect(sum(mine.filter(awaitsBalance), (p) => p.quantity), `unpaid pre-orders against demand.awaitingBalance, ${terms}`).toBe(unpaid);
      if (this.terms.deposit === undefined) expect(v.awaitingBalance, `awaitingBalance in a campaign paid in full, ${terms}`).toBeUndefined();
      // Batched units still held: what open batches were cut for, and what finished ones shipped.
      const held = sum(live, (b) => lineOf(b, sku)?.quantity ?? 0) + sum(batches.filter((b) => b.status === 'COMPLETED' || b.status === 'WITHDRAWN'), (b) => lineOf(b, sku)?.shipped ?? 0);
      expect(v.batched, `demand.batched against the batches' lines, ${terms}`).toBe(held);
      const unshipped = sum(mine.filter((p) => p.status === 'BATCHED' || p.status === 'IN_PRODUCTION'), (p) => p.quantity - shippedOf(p) - refundedUnits(p));
      expect(unshipped, `what batched pre-orders still wait for against what open batches owe, ${terms}`).toBe(owed);
      if (finished) expect({ inFlight, notShipped }, `${sku} left over ${why}`).toEqual({ inFlight: 0, notShipped: 0 });
    }

    // Per batch and sku: the factory's shipped count = the lots the test shipped = the units allocated to its pre-orders.
    for (const b of batches) {
      const members = ps.filter((p) => p.batchId === b.batchId);
      for (const l of b.lines) {
        const at = `batch ${b.batchId} (${b.status}) ${l.sku}: ${JSON.stringify(l)} ${why}`;
        expect(l.shipped, `shipped beyond the line: ${at}`).toBeLessThanOrEqual(Math.max(l.quantity, 0));
        if (l.qcPassed !== undefined) expect(l.shipped, `shipped beyond QC: ${at}`).toBeLessThanOrEqual(l.qcPassed);
        const sent = sum(this.shipments.filter((s) => s.batchId === b.batchId), (s) => sum(s.items.filter((i) => i.sku === l.sku), (i) => i.quantity));
        expect(l.shipped, `lots the factory API took against its shipped count: ${at}`).toBe(sent);
        const allocated = sum(members.filter((p) => p.sku === l.sku), shippedOf);
        expect(allocated, `units allocated to its pre-orders against its shipped count: ${at}`).toBe(l.shipped);
      }
    }

    // Per lot: every unit reached exactly one buyer, delivered exactly when the factory confirmed it.
    const lots = new Map(this.shipments.map((s) => [s.id, s]));
    for (const p of ps) for (const s of p.shipments) expect(lots.has(s.shipmentId), `${p.preorderId} holds a lot nobody shipped: ${s.shipmentId} ${why}`).toBe(true);
    for (const s of this.shipments) {
      const parts = ps.flatMap((p) => p.shipments.filter((x) => x.shipmentId === s.id).map((x) => ({ ...x, preorderId: p.preorderId })));
      const at = `lot ${s.id} of ${s.batchId} ${JSON.stringify(s.items)} reached ${JSON.stringify(parts)} ${why}`;
      expect(sum(parts, (x) => x.quantity), `units of the lot allocated: ${at}`).toBe(sum(s.items, (i) => i.quantity));
      for (const x of parts) expect(x.deliveredAt !== undefined, `delivered flag: ${at}`).toBe(s.delivered);
    }

    // Each pre-order in at most one batch's manifest: the one it names, while it is being made or shipped.
    for (const p of ps) {
      const listed = [...manifests].filter(([, items]) => items.some((i) => i.preorderId === p.preorderId)).map(([id]) => id);
      const inBatch = ['BATCHED', 'IN_PRODUCTION', 'SHIPPED', 'DELIVERED'].includes(p.status) && manifests.has(p.batchId ?? '');
      expect(listed, `${p.preorderId} (${p.status}, batch ${p.batchId}) in manifests ${why}`).toEqual(inBatch ? [p.batchId] : []);
    }
    // An open batch makes what its manifest lists, no more (a pre-order counted in two batches) and no less.
    for (const b of live) {
      const items = manifests.get(b.batchId)!;
      for (const l of b.lines) {
        expect(sum(items.filter((i) => i.sku === l.sku), (i) => i.quantity), `batch ${b.batchId} ${l.sku} line against its manifest ${why}`).toBe(l.quantity);
      }
    }

    // Each buyer heard each step of their pre-order exactly once.
    const facts = new Map<string, Set<string>>();
    /** Each pre-order's refunds as published (`preorder.refunded`, by eventId: redeliveries are one). */
    const refundFacts = new Map<string, Set<string>>();
    for (const e of this.pipe.runtime.emulator.events) {
      const d = e.detail as { campaignId?: string; preorderId?: string; eventId?: string };
      if (d.campaignId === this.campaignId && d.preorderId) facts.set(d.preorderId, (facts.get(d.preorderId) ?? new Set()).add(e.detailType));
      if (d.campaignId === this.campaignId && d.preorderId && e.detailType === 'preorder.refunded') {
        refundFacts.set(d.preorderId, (refundFacts.get(d.preorderId) ?? new Set()).add(String(d.eventId)));
      }
    }
    // What the platform was asked to pay back: refund.requested, by refund.
    const requests = new Map<string, { amount: number; eventIds: Set<string> }>();
    for (const e of this.pipe.runtime.emulator.events) {
      if (e.detailType !== 'refund.requested') continue;
      const d = e.detail as { campaignId: string; refundId: string; amount: number; eventId: string };
      if (d.campaignId !== this.campaignId) continue;
      const r = requests.get(d.refundId) ?? { amount: d.amount, eventIds: new Set() };
      expect(d.amount, `refund ${d.refundId} announced for two amounts ${why}`).toBe(r.amount);
      requests.set(d.refundId, { ...r, eventIds: r.eventIds.add(d.eventId) });
    }
    const listed = new Map(ps.flatMap((p) => p.refunds.map((r) => [r.refundId, r] as const)));
    for (const [refundId, r] of requests) {
      expect(listed.get(refundId)?.amount, `refund.requested for a refund no pre-order lists, or for another amount: ${refundId} ${why}`).toBe(r.amount);
      expect(r.eventIds.size, `refund ${refundId} announced under two ids ${why}`).toBe(1);
    }
    if (finished) for (const refundId of listed.keys()) expect(requests.has(refundId), `refund ${refundId} decided, never announced to the platform ${why}`).toBe(true);
    const heard = this.pipe.heard();
    for (const p of ps) {
      const at = `${p.preorderId}: timeline ${JSON.stringify(p.timeline)} notifications ${JSON.stringify(p.notifications)} ${why}`;
      expect(p.status, `status not on its timeline: ${at}`).toBe(p.timeline.at(-1)?.status);
      expect(p.notifications.length, `notifications against timeline entries: ${at}`).toBe(p.timeline.length);
      expect(new Set(p.notifications.map((n) => n.notificationId)).size, `a notificationId twice: ${at}`).toBe(p.notifications.length);
      // The same words may rightly come twice (batched, back to the backup factory's line, batched again): a step is its time, kind and words.
      expect(new Set(p.notifications.map((n) => `${n.at} ${n.step} ${n.message}`)).size, `a step notified twice: ${at}`).toBe(p.notifications.length);
      p.timeline.forEach((t, i) => {
        const told = p.notifications.filter((n) => n.at === t.at && n.step === (t.step ?? t.status) && n.message === t.note);
        const change = i === 0 || t.status !== p.timeline[i - 1]!.status;
        expect(told.length, `${change ? 'status change' : 'step'} #${i + 1} (${t.step ?? t.status}) notified ${told.length} times: ${at}`).toBe(1);
      });
      // A pre-order ships, arrives and is refunded whole once; each such event published has its one notification.
      for (const [status, event] of [['SHIPPED', 'preorder.shipped'], ['DELIVERED', 'preorder.delivered'], ['REFUNDED', 'preorder.refunded']] as const) {
        const n = p.notifications.filter((x) => x.step === status).length;
        expect(n, `${status} notified ${n} times: ${at}`).toBeLessThanOrEqual(1);
        if (status !== 'REFUNDED' && facts.get(p.preorderId)?.has(event)) expect(n, `${event} published, never notified: ${at}`).toBe(1);
      }
      // Each refund published is told once: a whole or partial refund of units, and a price drop at close.
      const refunds = refundFacts.get(p.preorderId)?.size ?? 0;
      const toldRefunds = p.notifications.filter((x) => x.step === 'REFUNDED' || x.step === 'partly-refunded' || x.step === 'price-dropped').length;
      // Mid-run a refund may be told before its event leaves the outbox; by the end every one is both, once.
      if (finished) expect(toldRefunds, `refunds published against refunds told: ${at}`).toBe(refunds);
      else expect(toldRefunds, `a refund published, never told: ${at}`).toBeGreaterThanOrEqual(refunds);
      if (heard) {
        // What the channel sent, in order, is what the pre-order records as sent: once each, to its buyer.
        const sent = heard.get(p.preorderId) ?? [];
        const buyer = `pbuyer-${this.preorders.find((x) => x.id === p.preorderId)!.buyer}`;
        expect(sent.map((h) => `${h.buyer} · ${h.step} · ${h.message}`), `what the channel sent: ${at}`).toEqual(
          p.notifications.map((n) => `${buyer} · ${n.step} · ${oneLine(n.message)}`),
        );
      }
      if (finished) expect(p.forfeitedAmount !== undefined ? ['CANCELLED'] : ['DELIVERED', 'REFUNDED'], `${p.preorderId} ${why}`).toContain(p.status);
    }
    if (finished) for (const b of batches) expect(['COMPLETED', 'REJECTED', 'WITHDRAWN'], `batch ${b.batchId} ${why}`).toContain(b.status);

    await this.checkPromises(ps, batches, campaign, why);
  }

  /**
   * All or nothing: no batch before the campaign's net ordered units reach its minimum, and the first takes all
   * of it; a variant with a minimum of its own reaches no batch below it before close, and goes in with all of it.
   * Seen after every step and every step of a clock move (a batch cut at a close can be rejected twice and gone
   * by the end of a long one).
   */
  private checkAllOrNothing(ps: readonly Preorder[], batches: readonly Batch[], campaign: Campaign, why: string) {
    const t = this.terms;
    const net = (sku?: string) => sum(ps.filter((p) => sku === undefined || p.sku === sku), (p) => p.quantity - refundedUnitsOf(p));
    const lineQuantity = (b: Batch, sku: string) => b.lines.find((l) => l.sku === sku)?.quantity ?? 0;
    // A deposit campaign's minimums are judged at close on its buyers' commitments, and nothing of it is made before (a
    // balance is paid only once the sale closed): its cuts take whoever paid, as lots fill, as they wait too long, and
    // at the deadline, fewer than the minimum when some did not pay (decisions 40, 41). Any other first cut takes it whole.
    const judgedAtClose = (_b: Batch) => t.deposit !== undefined;
    if (!this.everBatched && net() < t.minTotalQuantity && !(t.deposit !== undefined && campaign.status === 'CLOSED')) {
      expect(batches, `a batch below the minimum of ${t.minTotalQuantity} (net ordered ${net()}) ${why}`).toEqual([]);
    }
    if (!this.everBatched && batches.length > 0 && !batches.some(judgedAtClose)) {
      const units = Math.max(...batches.map((b) => sum(b.lines, (l) => l.quantity)));
      expect(units, `the first batch does not take the whole minimum of ${t.minTotalQuantity}: ${JSON.stringify(batches)} ${why}`).toBeGreaterThanOrEqual(t.minTotalQuantity);
    }
    this.everBatched ||= batches.length > 0;
    // A variant with a minimum of its own reaches no batch below it, and goes in with all of it.
    skus.forEach((sku, i) => {
      const min = t.minQuantity[i];
      if (min === undefined || this.skusBatched.has(sku)) return;
      const lines = batches.filter((b) => !judgedAtClose(b)).map((b) => lineQuantity(b, sku)).filter((q) => q > 0);
      if (campaign.status === 'OPEN' && net(sku) < min) {
        expect(lines, `${sku} below its own minimum of ${min} (net ${net(sku)}) in a batch ${why}`).toEqual([]);
      }
      if (lines.length > 0) {
        expect(Math.max(...lines), `${sku} first batched below its own minimum of ${min}: ${JSON.stringify(batches)} ${why}`).toBeGreaterThanOrEqual(min);
        this.skusBatched.add(sku);
      }
    });
  }

  /**
   * Tier pricing: a closed campaign's price per variant is the tier its net units sold at close reached,
   * counted here from the buyers' own pre-orders (the sku each held then, less the units refunded before);
   * no price drops for a variant that missed its minimum, or in a campaign that failed. A buyer still holding
   * units of a variant whose price dropped pays that price once the drop is applied; never another.
   */
  private checkPrices(ps: readonly Preorder[], campaign: Campaign, why: string) {
    const t = this.terms;
    if (campaign.status !== 'CLOSED' || campaign.closedAt === undefined) {
      expect(campaign.finalPrices, `final prices before a close, or for a failed campaign ${why}`).toBeUndefined();
      return;
    }
    const closedAt = campaign.closedAt;
    const expected: Record<string, number> = {};
    const soldAtClose = (of: (sku: string) => boolean) =>
      sum(ps.filter((p) => of(p.switchedFrom ?? p.sku) && p.createdAt < closedAt), (p) => p.quantity - refundedUnitsOf(p, closedAt));
    skus.forEach((sku, i) => {
      if (campaign.variantsMissed?.includes(sku)) return;
      // The campaign's tiers count the units of every variant, a missed one's too (buyers saw that count); a variant's own, its own.
      const price = t.campaignTiers ? tierPriceOf(t.campaignTiers, soldAtClose(() => true)) : tierPriceOf(t.priceTiers[i], soldAtClose((x) => x === sku));
      if (price < unitPrice) expected[sku] = price;
    });
    expect(campaign.finalPrices ?? {}, `the prices fixed at close against the units sold then ${why}`).toEqual(expected);
    // A deposit comes off the balance with its discount: no price is ever refunded then, it is billed lower.
    const discount = t.deposit ? (t.deposit.depositDiscount ?? 0) : 0;
    for (const p of ps) {
      const final = campaign.finalPrices?.[p.sku];
      const drops = p.refunds.filter((r) => r.reason === 'price-drop');
      const at = `${p.preorderId} (${p.status}, ${p.quantity}× ${p.sku}, final ${p.finalUnitPrice}, refunds ${JSON.stringify(p.refunds)}) ${why}`;
      expect(drops.length, `a price drop applied twice: ${at}`).toBeLessThanOrEqual(1);
      expect([p.unitPrice - discount, ...(final !== undefined ? [Math.min(final, p.unitPrice) - discount] : [])], `a price no tier gives: ${at}`).toContain(p.finalUnitPrice);
      if (t.deposit) expect(drops, `a price-drop refund in a deposit campaign: ${at}`).toEqual([]);
      else expect(drops.length === 1, `a price drop without its new price, or the other way round: ${at}`).toBe(p.finalUnitPrice < p.unitPrice);
      // Once the balances are called, each is at the price fixed at close (less the discount).
      if (p.balanceDue !== undefined) expect(p.finalUnitPrice, `a balance at another price than the close's: ${at}`).toBe(Math.min(final ?? p.unitPrice, p.unitPrice) - discount);
    }
  }

  /**
   * The promises a pre-sale makes (README), each from its own source: the terms the test asked for, the
   * pre-orders, the factory's batches and manifests, and the events on the bus.
   */
  private async checkPromises(ps: readonly Preorder[], batches: readonly Batch[], campaign: Campaign, why: string) {
    const t = this.terms;
    const refundedUnits = (p: Preorder) => refundedUnitsOf(p);
    const shippedOf = (p: Preorder) => sum(p.shipments, (s) => s.quantity);

    this.checkAllOrNothing(ps, batches, campaign, why);
    this.checkPrices(ps, campaign, why);

    // A failed campaign leaves its factories nothing and its buyers their money (less what reached them).
    if (campaign.status === 'FAILED') {
      const live = batches.filter((b) => liveStatuses.includes(b.status));
      expect(live.map((b) => `${b.batchId} ${b.status}`), `a FAILED campaign's batch still live ${why}`).toEqual([]);
      for (const p of ps) {
        const at = `${p.preorderId} (${p.status}, ${p.quantity}, shipped ${shippedOf(p)}, refunded ${p.refundedAmount} of ${p.amount}) of a FAILED campaign ${why}`;
        // A buyer who walked away from a deposit before the sale failed kept nothing back: the deposit is theirs no more.
        if (p.forfeitedAmount !== undefined) expect(p.status, at).toBe('CANCELLED');
        else if (shippedOf(p) === 0) expect({ status: p.status, refundedAmount: p.refundedAmount }, at).toEqual({ status: 'REFUNDED', refundedAmount: p.paidAmount });
        else expect(shippedOf(p) + refundedUnits(p), `units neither shipped nor refunded: ${at}`).toBe(p.quantity);
      }
      for (const b of batches.filter((x) => x.status === 'WITHDRAWN' && !this.withdrawnChecked.has(x.batchId))) {
        const r = await this.pipe.factories[b.factoryId]!.get(`/v1/factory/batches/${b.batchId}/manifest`);
        expect(r.status, `manifest of the withdrawn ${b.batchId} ${why}`).toBe(409);
        this.withdrawnChecked.add(b.batchId);
      }
    }

    // Purchase limit: no buyer holds more live units than it (a refunded unit is not held).
    if (t.maxPerBuyer !== undefined) {
      for (let buyer = 0; buyer < this.pipe.buyers.length; buyer++) {
        const mine = ps.filter((p) => this.buyerOf(p.preorderId) === buyer);
        const held = sum(mine, (p) => p.quantity - refundedUnits(p));
        const at = `pbuyer-${buyer} holds ${held} units past the limit of ${t.maxPerBuyer}: ${JSON.stringify(mine.map((p) => [p.preorderId, p.status, p.quantity, p.refundedAmount]))} ${why}`;
        expect(held, at).toBeLessThanOrEqual(t.maxPerBuyer);
      }
    }

    // Events on the bus: compensation by pre-order, withdrawals at the ceiling by batch.
    const compensated = new Map<string, { eventId: string; compensatedAmount: number }[]>();
    const atCeiling = new Map<string, { eventId: string; quantity: number }[]>();
    for (const e of this.pipe.runtime.emulator.events) {
      if (e.detailType !== 'preorder.compensated' && e.detailType !== 'batch.units_withdrawn') continue;
      const d = e.detail as { campaignId?: string; preorderId?: string; batchId?: string; eventId: string; compensatedAmount: number; quantity: number; reason?: string };
      if (d.campaignId !== this.campaignId) continue;
      if (e.detailType === 'preorder.compensated' && d.preorderId) compensated.set(d.preorderId, [...(compensated.get(d.preorderId) ?? []), d]);
      if (e.detailType === 'batch.units_withdrawn' && d.reason === 'ceiling' && d.batchId) atCeiling.set(d.batchId, [...(atCeiling.get(d.batchId) ?? []), d]);
    }
    // At the ceiling a batch in production is completed with its lines shrunk to what shipped; one still waiting for a
    // factory to accept it is WITHDRAWN with nothing shipped. Said once; only its pre-orders are refunded there.
    for (const [batchId, events] of atCeiling) {
      const b = batches.find((x) => x.batchId === batchId);
      const at = `batch ${batchId} withdrawn at the ceiling (${JSON.stringify(events)}): ${JSON.stringify(b)} ${why}`;
      expect(new Set(events.map((e) => e.eventId)).size, at).toBe(1);
      const state = { status: b?.status, unshipped: b && sum(b.lines, (l) => l.quantity - l.shipped), shipped: b?.shipped };
      if (b?.status === 'WITHDRAWN') expect(state.shipped, at).toBe(0);
      else expect(state, at).toMatchObject({ status: 'COMPLETED', unshipped: 0 });
    }
    for (const p of ps.filter((x) => x.notifications.some((n) => n.template === 'preorder.refunded_at_ceiling'))) {
      expect(atCeiling.has(p.batchId ?? ''), `${p.preorderId} told it was refunded at the ceiling, its batch ${p.batchId} never withdrawn there ${why}`).toBe(true);
    }
    // What the campaign's trust figures counted as compensation paid: each compensated pre-order once.
    const trust = (await this.pipe.anchor.get<{ compensation: { count: number; amounts: { currency: string; amount: number }[] } }>(`/v1/campaigns/${this.campaignId}/trust`)).body;
    const paid = ps.filter((p) => p.compensatedAmount > 0);
    expect(
      { count: trust.compensation.count, amount: sum(trust.compensation.amounts, (a) => a.amount) },
      `trust figures' compensation against the pre-orders' ${JSON.stringify(paid.map((p) => [p.preorderId, p.compensatedAmount]))} ${why}`,
    ).toEqual({ count: paid.length, amount: sum(paid, (p) => p.compensatedAmount) });

    // Money and promises, per pre-order.
    const promised = this.closesAt + t.promisedShipDays * dayMs;
    const ceiling = promised + t.maxDelayDays * dayMs;
    for (const p of ps) {
      const money = `amount ${p.amount}, refunded ${p.refundedAmount}, compensated ${p.compensatedAmount}`;
      const dates = `promised ${p.originalPromisedShipBy} → ${p.promisedShipBy}, ceiling ${new Date(ceiling).toISOString()}`;
      const at = `${p.preorderId} (${p.status}, ${p.quantity}× ${p.sku}, ${money}, ${dates}, shipments ${JSON.stringify(p.shipments)}) ${why}`;
      expect(p.amount, `amount: ${at}`).toBe(p.quantity * p.unitPrice);
      expect(p.refundedAmount, `refunded beyond what was paid: ${at}`).toBeLessThanOrEqual(p.amount);
      expect(p.refundedAmount, at).toBeGreaterThanOrEqual(0);
      if (p.status === 'REFUNDED') expect(p.refundedAmount, `REFUNDED, not in full: ${at}`).toBe(p.paidAmount);
      // Past the balance deadline (the sweep saw it) nobody is left owing: paid, or cancelled with the deposit kept.
      if (campaign.balanceDueBy !== undefined && this.lastSweepAt !== undefined && Date.parse(campaign.balanceDueBy) < this.lastSweepAt) {
        expect(awaitsBalance(p), `still owing a balance after a sweep past ${campaign.balanceDueBy}: ${at}`).toBe(false);
      }
      expect(Date.parse(p.originalPromisedShipBy), `the date promised at order time: ${at}`).toBe(promised);
      expect(Date.parse(p.promisedShipBy), `promised past the ceiling: ${at}`).toBeLessThanOrEqual(ceiling);
      if (this.lastSweepAt !== undefined && ceiling < this.lastSweepAt) {
        expect(shippedOf(p) + refundedUnits(p), `units neither shipped nor refunded after a sweep past the ceiling (${new Date(this.lastSweepAt).toISOString()}): ${at}`).toBe(p.quantity);
      }
      // Late compensation: owed exactly when a lot reached it after the original promise, in the campaign's amount, once.
      const late = p.shipments.some((s) => Date.parse(s.shippedAt) > Date.parse(p.originalPromisedShipBy));
      // A share of what the units finally cost (after a price drop, or a deposit's discount).
      const owed = t.lateCompensation && late ? compensationFor(t.lateCompensation, p.finalUnitPrice * p.quantity) : 0;
      expect(p.compensatedAmount, `compensation: ${at}`).toBe(owed);
      const events = compensated.get(p.preorderId) ?? [];
      expect(new Set(events.map((e) => e.eventId)).size, `preorder.compensated events ${JSON.stringify(events)}: ${at}`).toBe(owed > 0 ? 1 : 0);
      for (const e of events) expect(e.compensatedAmount, `preorder.compensated ${JSON.stringify(e)}: ${at}`).toBe(owed);
      const steps = p.timeline.filter((x) => x.template === 'preorder.compensated').length;
      const told = p.notifications.filter((n) => n.template === 'preorder.compensated').length;
      expect({ steps, told }, `compensation on the timeline and notified: ${at}`).toEqual(owed > 0 ? { steps: 1, told: 1 } : { steps: 0, told: 0 });
    }
  }
}
