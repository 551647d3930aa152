import { performance } from 'node:perf_hooks';
import type { C2mClient } from '@c2m/factory-client';
import { NoAnswerError, sleep, type ActorClient, type HttpTally } from './support/api-client.ts';
import { answered } from './factory-sim.ts';
import { inPool, pollUntil } from './pacing.ts';
import type { Bar, Progress } from './progress.ts';
import type { Random } from './random.ts';
import { expectAnswer, type Answered, type FlashSaleRun, type PaymentsRecord, type Placement, type ShipmentRecord } from './record.ts';
import { finalStatuses, limitTitle, type Campaign, type Demand, type Preorder, type SignalType, type Trust } from './views.ts';

/**
 * The steps every sale played over the API shares, whatever its story: the flash sale
 * (flash-sale.ts, `npm run demo`) and the smoke run (smoke-sale.ts, `npm run smoke`). The
 * checks (checks.ts) read what these steps record and read back, so both sales record and
 * read back the same way, and a check means the same thing after either.
 */
export interface SaleWorld {
  readonly run: FlashSaleRun;
  /** The campaign read, settled and paid back: the run's own unless given (the deposit sale beside it). */
  readonly campaignId?: string;
  readonly anchor: ActorClient;
  readonly factory: C2mClient;
  /** Who owns each accepted pre-order: reads go with the buyer's own token. */
  readonly owner: Map<string, ActorClient>;
  /** The live platform's payment service, when the sale plays one (it confirms the refunds it paid). */
  readonly platform?: ActorClient;
  readonly progress: Progress;
  /** Requests in flight at once during read-backs. */
  readonly concurrency: number;
  /** Stop waiting for the pipeline after this long without any change. */
  readonly stallMs: number;
  /** Empties the runtime's queues, when the caller owns the runtime (quicker than polling alone); never throws. */
  readonly drain?: () => Promise<void>;
}

export class SaleError extends Error {}

/** The problem `type` of an order refused because the campaign's cap is reached. */
export const capProblem = 'urn:c2m:problem:campaign-cap-reached';
/** The problem `type` of a cancel that came too late (the pre-order is in a batch). */
export const notCancellable = 'urn:c2m:problem:preorder-not-cancellable';

/** Runs `fn` and records its wall time under `name`, from the monotonic clock (the calendar may be moved by days). */
export const phaseOf =
  (run: Pick<FlashSaleRun, 'phases'>) =>
  async <T>(name: string, fn: () => Promise<T>): Promise<T> => {
    const started = performance.now();
    try {
      return await fn();
    } finally {
      run.phases.push({ name, ms: performance.now() - started });
    }
  };

/** The campaign a world plays: the one it names, else its run's. */
export const campaignOf = (w: Pick<SaleWorld, 'run' | 'campaignId'>) => w.campaignId ?? w.run.campaignId;

/** What a sale reads again and again: one pre-order (as its buyer), the campaign's demand (as its anchor), its batches (as its factory). */
export const saleReads = (w: SaleWorld) => ({
  read: async (id: string): Promise<Preorder | undefined> => {
    const r = await w.owner.get(id)!.get<Preorder>(`/v1/preorders/${id}`);
    return expectAnswer(w.run, `read ${id}`, r, 200) ? r.body : undefined;
  },
  demand: async (): Promise<Demand> => {
    const r = await w.anchor.get<Demand>(`/v1/campaigns/${campaignOf(w)}/demand`);
    if (r.status !== 200) throw new SaleError(`GET demand → ${r.status} ${JSON.stringify(r.body).slice(0, 200)}`);
    return r.body;
  },
  campaignBatches: async () => (await w.factory.factory.batches({ limit: 200 }).all()).filter((b) => b.campaignId === campaignOf(w)),
});

/**
 * One try of one placement (an Idempotency-Key of one buyer), its answer written down on the
 * placement. Sold out and past the limit are fair answers; anything else but a 202 is recorded as
 * unexpected. No answer at all is status 0 (the tally has it as a failure). `burstStarted`
 * (performance.now()) times the first sold-out answer.
 */
export const placeOrder = async (run: FlashSaleRun, client: ActorClient, placement: Placement, body: unknown, burstStarted: number): Promise<Answered> => {
  let answer: Answered;
  try {
    const r = await client.post<{ preorderId?: string; type?: string; title?: string }>(`/v1/campaigns/${run.campaignId}/preorders`, body, {
      idempotencyKey: placement.key,
    });
    answer =
      r.status === 202
        ? { status: 202, preorderId: r.body.preorderId! }
        : { status: r.status, ...(r.body.type && { problem: r.body.type }), ...(r.body.title && { title: r.body.title }) };
    const refused = r.status === 409 && (r.body.type === capProblem || r.body.title === limitTitle);
    if (r.status !== 202 && !refused) expectAnswer(run, `pre-order ${client.principal.id} ${placement.key}`, r, 202);
  } catch (err) {
    if (!(err instanceof NoAnswerError)) throw err;
    answer = { status: 0 };
  }
  placement.answers.push(answer);
  if (answer.problem === capProblem) run.soldOutAfterMs ??= performance.now() - burstStarted;
  return answer;
};

/** Waits until the campaign's batches hold every batched unit and only `mayWait` units still wait. */
export const cutSettled = async (w: SaleWorld, bar: Bar, mayWait: () => number, stall: number) => {
  const { demand, campaignBatches } = saleReads(w);
  const { value, stalled } = await pollUntil(
    async () => {
      const [d, bs] = await Promise.all([demand(), campaignBatches()]);
      bar.setTotal(d.totals.ordered - d.totals.cancelled);
      bar.set(d.totals.batched);
      bar.info(`${bs.length} batches released · ${fmt(d.totals.waiting)} units waiting`);
      return { d, bs };
    },
    ({ d, bs }) => d.totals.waiting <= mayWait() && bs.reduce((n, b) => n + b.units, 0) === d.totals.batched,
    ({ d, bs }) => `${d.totals.waiting}/${d.totals.batched}/${bs.length}`,
    stall,
  );
  return { ...value, stalled };
};

/** Carriers deliver every lot the factory shipped (the run's, unless other lots are given). */
export const deliverLots = async (w: SaleWorld, shipments: readonly ShipmentRecord[] = w.run.shipments, label = 'deliveries') => {
  const { run } = w;
  const bar = w.progress.bar(label, shipments.length, 'lots');
  await inPool(shipments, 8, async (s) => {
    if (await answered(run, `delivered ${s.shipmentId}`, () => w.factory.factory.delivered(s.shipmentId))) s.delivered = true;
    bar.tick();
  });
  bar.done();
};

/**
 * Every buyer's order comes to rest: delivered or refunded (or, in a deposit sale, cancelled with
 * its deposit kept: `finished` says what rest is), and told of each step.
 */
export const settlePreorders = async (w: SaleWorld, finished: ReadonlySet<string> = finalStatuses, label = 'settle') => {
  const { read } = saleReads(w);
  const ids = [...w.owner.keys()];
  const bar = w.progress.bar(label, ids.length, 'pre-orders');
  if (w.drain) {
    bar.info('draining the runtime\u2019s queues');
    await w.drain();
  }
  const pending = new Set(ids);
  const isSettled = (p: Preorder) => finished.has(p.status) && p.notifications.length === p.timeline.length;
  // Each round reads a slice of what is still moving, not all of it: polling thousands of
  // pre-orders twice a second would take the very capacity the pipeline needs to settle them.
  const slice = Math.max(50, w.concurrency * 4);
  const { stalled } = await pollUntil(
    async () => {
      const ps = await inPool([...pending].slice(0, slice), w.concurrency, read);
      for (const p of ps) if (p && isSettled(p)) pending.delete(p.preorderId);
      bar.set(ids.length - pending.size);
      bar.info(`${fmt(pending.size)} still moving`);
      return pending.size;
    },
    (left) => left === 0,
    (left) => String(left),
    w.stallMs,
    1_000,
  );
  if (stalled) w.run.stalls.push(`${label}: ${pending.size} pre-orders not ${[...finished].join(' or ').toLowerCase()}, or not told of every step`);
  bar.done('');
};

/**
 * The platform pays back every refund c2m decided and confirms it, with its amount, working from its own list of
 * refunds owed (GET /v1/payments/refunds, oldest first), as a payment service would: it never reads pre-orders. Every
 * fifth confirmation is sent again, as a service that lost the answer would: answered the same, changing nothing.
 */
export const confirmRefunds = async (w: SaleWorld, payments: PaymentsRecord = w.run.payments, label = 'refunds paid') => {
  const { run, platform } = w;
  if (!platform) return;
  type Owed = { refundId: string; campaignId: string; amount: number };
  const owed: Owed[] = [];
  for (let cursor: string | undefined, page = 0; page === 0 || cursor; page++) {
    const r = await platform.get<{ items: Owed[]; nextCursor?: string }>(`/v1/payments/refunds?status=REQUESTED&limit=200${cursor ? `&cursor=${encodeURIComponent(cursor)}` : ''}`);
    if (!expectAnswer(run, 'list the refunds owed', r, 200)) break;
    // A long-lived runtime owes refunds of other runs' campaigns too: this sale's only.
    owed.push(...r.body.items.filter((x) => x.campaignId === campaignOf(w)));
    cursor = r.body.nextCursor;
  }
  const bar = w.progress.bar(label, owed.length, 'refunds');
  await inPool(owed.map((r, i) => ({ r, again: i % 5 === 0 })), w.concurrency, async ({ r, again }) => {
    const confirm = () => platform.post(`/v1/payments/refunds/${r.refundId}/confirm`, { amount: r.amount });
    if (expectAnswer(run, `confirm ${r.refundId}`, await confirm(), 200)) payments.confirmed++;
    if (again) {
      payments.repeated++;
      payments.repeatAnswers.push((await confirm()).status);
    }
    bar.tick();
  });
  bar.done(`${fmt(payments.confirmed)} confirmed · ${fmt(payments.repeated)} sent again`);
};

/** Everything the checks compare, read back over the API: each pre-order, the campaign, its demand, batches and trust figures. */
export const readBack = async (w: SaleWorld) => {
  const { run } = w;
  const { read, demand, campaignBatches } = saleReads(w);
  const ids = [...w.owner.keys()];
  const bar = w.progress.bar('read back', ids.length, 'pre-orders');
  const preorders = await inPool(ids, w.concurrency, async (id) => {
    const p = await read(id);
    bar.tick();
    return p;
  });
  const [campaign, finalDemand, batches, trust] = await Promise.all([
    w.anchor.get<Campaign>(`/v1/campaigns/${run.campaignId}`),
    demand(),
    campaignBatches(),
    w.anchor.get<Trust>(`/v1/campaigns/${run.campaignId}/trust`),
  ]);
  expectAnswer(run, 'read the campaign', campaign, 200);
  expectAnswer(run, 'read the trust figures', trust, 200);
  run.final = {
    campaign: campaign.body,
    demand: finalDemand,
    batches,
    preorders: preorders.filter((p): p is Preorder => p !== undefined),
    trust: trust.body,
  };
  bar.done();
};

/** Signal counts one post reports per entry, by type: views are plentiful, shares rare. */
const signalWeights: readonly (readonly [SignalType, number])[] = [
  ['view', 50],
  ['like', 25],
  ['cart', 10],
  ['want', 10],
  ['share', 5],
];
const signalCount: Record<SignalType, [number, number]> = { view: [20, 400], like: [5, 120], cart: [1, 20], want: [1, 30], share: [1, 8] };

export interface SignalStream {
  /** The campaign's variants, each with its share of the room's attention. */
  readonly skus: readonly (readonly [string, number])[];
  /** True once the burst is over: the room posts at least once, then until this says so. */
  readonly over: () => boolean;
  /** Told after each post (progress). */
  readonly show: () => void;
  /** Entries per post, at least and at most. @default [40, 200] */
  readonly perPost?: readonly [number, number];
  /** The first post is sent again whatever the dice say (a small sale may otherwise resend none). @default false */
  readonly resendFirst?: boolean;
}

/**
 * The live room posts what its viewers do, a few hundred signals every
 * fraction of a second while the burst lasts; one post in ten is sent again
 * with its Idempotency-Key, as a room's uploader does after a timeout.
 */
export const streamSignals = async (liveroom: ActorClient, run: FlashSaleRun, rng: Random, tag: string, o: SignalStream) => {
  const [least, most] = o.perPost ?? [40, 200];
  for (let n = 1; n === 1 || !o.over(); n++) {
    const signals = Array.from({ length: rng.int(least, most) }, () => {
      const type = rng.weighted(signalWeights);
      const [lo, hi] = signalCount[type];
      return { campaignId: run.campaignId, sku: rng.weighted(o.skus), type, count: rng.int(lo, hi), at: new Date().toISOString() };
    });
    const key = `room-${tag}-${n}`;
    const resend = rng.chance(0.1) || (o.resendFirst === true && n === 1);
    try {
      const r = await liveroom.post<{ accepted: number }>('/v1/signals', { signals }, { idempotencyKey: key });
      run.signals.posts++;
      if (expectAnswer(run, `signals ${key}`, r, 202)) {
        run.signals.accepted += r.body.accepted;
        for (const s of signals) run.signals.posted[s.sku]![s.type] += s.count;
      }
      if (resend) {
        run.signals.reposts++;
        expectAnswer(run, `signals ${key} again`, await liveroom.post('/v1/signals', { signals }, { idempotencyKey: key }), 202);
      }
    } catch (err) {
      // No answer even after retries: the tally has it as a failure; the room goes on posting.
      if (!(err instanceof NoAnswerError)) throw err;
    }
    o.show();
    await sleep(150);
  }
};

const zeroSignals = (): Record<SignalType, number> => ({ view: 0, like: 0, cart: 0, want: 0, share: 0 });

/** What a sale records as it goes, empty: the parts of a run that every sale starts the same. */
export const emptyRecords = (skus: readonly string[], http: HttpTally) => ({
  placements: [],
  cancels: [],
  switches: [],
  switchBatchIds: [],
  signals: { posts: 0, reposts: 0, accepted: 0, posted: Object.fromEntries(skus.map((sku) => [sku, zeroSignals()])) },
  manifests: new Map(),
  shipments: [],
  factory: { lots: 0, lotsResent: 0, lotsResentSame: 0, progressReports: 0, qcFailed: 0, shortUnits: 0 },
  http,
  unexpected: [],
  phases: [],
  stalls: [],
}) satisfies Partial<FlashSaleRun>;

const fmt = (n: number) => n.toLocaleString('en-US');
