import { randomUUID } from 'node:crypto';
import { performance } from 'node:perf_hooks';
import type { Principal } from '../functions/shared/principal.ts';
import { clientAs, HttpTally, NoAnswerError, politeRetry, type ActorClient, type TokenSource } from './support/api-client.ts';
import { shippingAddress } from './support/fixtures.ts';
import type { Check } from './checks.ts';
import { countBy } from './checks.ts';
import { sizes, type RetryHabit } from './crowd.ts';
import { factoryClient, runFactory } from './factory-sim.ts';
import { inPool } from './pacing.ts';
import { silentProgress, type Progress } from './progress.ts';
import { seededRandom, type Random } from './random.ts';
import { expectAnswer, type FlashSaleRun, type Placement } from './record.ts';
import {
  capProblem,
  cutSettled,
  deliverLots,
  notCancellable,
  phaseOf,
  placeOrder,
  readBack,
  saleReads,
  SaleError,
  settlePreorders,
  streamSignals,
  emptyRecords,
  type SaleWorld,
} from './sale-steps.ts';
import { renderChecks, renderTable } from './summary.ts';
import { limitTitle, money, refundedUnits, type Campaign } from './views.ts';

/**
 * `npm run smoke`'s sale: a small flash sale against any c2m, a deployed stage as much as the
 * local runtime, over the HTTP API only, in which every step happens now. Nothing in it waits
 * for the calendar, so nothing needs a clock that can be moved:
 *
 * 1. the anchor opens a campaign for a tee in four sizes, capped just below what the buyers
 *    will ask for, with a limit of 3 per buyer, a lot size that cuts two or three batches, and
 *    late compensation terms (nothing will ship late, so nobody may be owed anything);
 * 2. the buyers order at once, one phone resending after a lost answer, one double-tapping,
 *    one cancelling at once, one coming back past the limit, one for a second size; the last
 *    orders find it sold out; the live room streams signals, one post sent twice;
 * 3. the anchor closes the campaign and the last batch is cut;
 * 4. the factory accepts every batch with a date before the promise, reports production and
 *    QC (with failures remade), ships each in lots (the first lot sent twice) and the
 *    carriers deliver them;
 * 5. every pre-order comes to rest and everything is read back for the demo's checks.
 *
 * What the demo plays beyond this needs days to pass (a variant below its own minimum is
 * refunded when its switch window ends; a lot ships late after its promise): the smoke does
 * not play it, and its checks say so (skipped) rather than pass on nothing.
 *
 * The record is the demo's (record.ts), so checks.ts checks it as it checks the demo.
 */
export interface SmokeSaleOptions {
  readonly url: string;
  /** Every actor's token: the anchor's, the live room's, each buyer's and the factory's. */
  readonly tokens: TokenSource;
  /** One buyer per id, at least 4 (each plays a part); their tokens come from `tokens`. */
  readonly buyerIds: readonly string[];
  /** A registered factory whose token `tokens` gives: the campaign names it. */
  readonly factoryId: string;
  /** The ids the anchor's and the live room's tokens are asked for (a token file ignores them). */
  readonly anchorId?: string;
  readonly liveroomId?: string;
  /** Requests in flight at once. */
  readonly concurrency: number;
  readonly seed: number;
  readonly progress?: Progress;
  /** Resolves when the runtime's queues are empty, when the caller owns the runtime. */
  readonly drain?: () => Promise<void>;
  /** Stop waiting for the pipeline after this long without any change. @default 60000 */
  readonly stallMs?: number;
}

/** The smoke's buyers each play one part, by position; the rest just buy. */
export const smokeMinimumBuyers = 4;

/** Why the smoke plays no late lot: said in its record, its summary and the compensation check. */
const noLateLot = 'needs the clock: a lot ships late only days after its promise, and a smoke run cannot move the clock';

interface SmokeBuyer {
  readonly index: number;
  readonly sku: string;
  readonly quantity: number;
  readonly retry: RetryHabit;
  /** Cancels right after the 202 (a fair 409 if it is already in a batch). */
  readonly cancels: boolean;
  /** Comes back for 2 more of the same: past the limit of 3, a fair 409. */
  readonly greedy: boolean;
  /** Comes back for one of another size. */
  readonly secondSku?: string;
}

/** Who does what, from the seed: sizes and quantities drawn, the parts by position so every run plays each. */
const planBuyers = (rng: Random, n: number): SmokeBuyer[] =>
  Array.from({ length: n }, (_, index): SmokeBuyer => {
    const sku = rng.weighted(sizes.map((v) => [v.sku, v.weight] as const));
    const drawn = rng.weighted([
      [1, 70],
      [2, 30],
    ] as const);
    const other = rng.pick(sizes.filter((v) => v.sku !== sku)).sku;
    return {
      index,
      sku,
      quantity: index === 3 ? 2 : drawn,
      retry: index === 0 ? 'resend' : index === 1 ? 'double-tap' : 'none',
      cancels: index === 2,
      greedy: index === 3,
      ...(index === 4 && { secondSku: other }),
    };
  });

export const runSmokeSale = async (o: SmokeSaleOptions): Promise<FlashSaleRun> => {
  if (o.buyerIds.length < smokeMinimumBuyers) throw new SaleError(`a smoke sale needs at least ${smokeMinimumBuyers} buyers, got ${o.buyerIds.length}`);
  const progress = o.progress ?? silentProgress;
  const stallMs = o.stallMs ?? 60_000;
  const rng = seededRandom(o.seed);
  // Unique to this run: the same buyers (a token file's) run again must not meet their earlier keys.
  const tag = randomUUID().slice(0, 8);
  const http = new HttpTally();
  const actor = (principal: Principal) => clientAs(principal, { baseUrl: o.url, tokens: o.tokens, retry: politeRetry, tally: http, timeoutMs: 30_000 });
  const anchor = actor({ role: 'anchor', id: o.anchorId ?? 'anchor-smoke' });
  const liveroom = actor({ role: 'liveroom', id: o.liveroomId ?? 'liveroom-smoke' });
  const factory = factoryClient(o.url, o.tokens, o.factoryId, http);
  const plans = planBuyers(rng, o.buyerIds.length);
  const buyers = o.buyerIds.map((id) => actor({ role: 'buyer', id }));

  // Capped below what is asked, less what the cancel gives back: however the orders interleave,
  // someone finds it sold out (without oversell nobody could be refused only if all of it fit).
  const asked = plans.reduce((n, p) => n + p.quantity + (p.secondSku ? 1 : 0), 0);
  const cap = Math.max(2, asked - plans[2]!.quantity - 1);
  const lotSize = Math.max(2, Math.round(cap / 3));
  const minTotalQuantity = Math.max(1, Math.floor(cap / 4));
  const promisedShipDays = 7;

  const run: FlashSaleRun = {
    seed: o.seed,
    buyers: o.buyerIds.length,
    campaignId: '',
    factoryId: o.factoryId,
    settings: {
      cap,
      lotSize,
      minTotalQuantity,
      promisedShipDays,
      maxPerBuyer: 3,
      maxDelayDays: 10,
      lateCompensation: { percent: 10, minAmount: 500, maxAmount: 10_000 },
      // The campaign's default; no variant has a minimum of its own, so no window opens.
      switchWindowHours: 24,
    },
    clock: { movable: false, moves: [] },
    lateLot: { shipped: false, lots: 0, skipped: noLateLot },
    payments: { confirmed: 0, repeated: 0, repeatAnswers: [], skipped: 'a smoke run has no platform client of the stage to confirm refunds with' },
    ...emptyRecords(sizes.map((v) => v.sku), http),
  };
  const phase = phaseOf(run);
  const owner = new Map<string, ActorClient>();
  const world: SaleWorld = { run, anchor, factory, owner, progress, concurrency: o.concurrency, stallMs, ...(o.drain && { drain: o.drain }) };
  const { campaignBatches } = saleReads(world);

  // 1. The anchor opens the campaign.
  await phase('open', async () => {
    const bar = progress.bar('open', 1, 'campaign');
    const created = await anchor.post<{ campaignId: string }>(
      '/v1/campaigns',
      {
        title: `Smoke run ${tag}: embroidered cotton tee`,
        factoryId: o.factoryId,
        currency: 'CNY',
        variants: sizes.map(({ sku, name, unitPrice }) => ({ sku, name, unitPrice })),
        // The anchor closes it, minutes from now; the hour is a margin, never reached.
        closesAt: new Date(Date.now() + 3_600_000).toISOString(),
        minTotalQuantity,
        lotSize,
        maxTotalQuantity: cap,
        promisedShipDays,
        maxPerBuyer: run.settings.maxPerBuyer,
        maxDelayDays: run.settings.maxDelayDays,
        lateCompensation: run.settings.lateCompensation,
      },
      { idempotencyKey: `smoke-${tag}` },
    );
    if (created.status !== 201) throw new SaleError(`POST /v1/campaigns → ${created.status} ${JSON.stringify(created.body).slice(0, 300)}`);
    run.campaignId = created.body.campaignId;
    bar.tick();
    bar.done(`${run.campaignId} · ${sizes.length} sizes · cap ${cap} · lot ${lotSize} · min ${minTotalQuantity} · ${run.settings.maxPerBuyer} per buyer`);
  });

  // 2. The buyers order at once, the live room posting alongside.
  await phase('burst', async () => {
    const bar = progress.bar('burst', plans.length, 'buyers');
    const started = performance.now();
    let over = false;
    const order = async (b: SmokeBuyer, part: string, sku: string, quantity: number, retry: RetryHabit) => {
      const client = buyers[b.index]!;
      const placement: Placement = { buyerId: client.principal.id, key: `${tag}-${part}`, sku, quantity, retry, answers: [] };
      run.placements.push(placement);
      const body = { sku, quantity, shippingAddress: { ...shippingAddress, name: `Smoke Buyer ${b.index + 1}` } };
      if (retry === 'double-tap') await Promise.all([placeOrder(run, client, placement, body, started), placeOrder(run, client, placement, body, started)]);
      else await placeOrder(run, client, placement, body, started);
      if (retry === 'resend') await placeOrder(run, client, placement, body, started);
      const id = placement.answers.find((a) => a.status === 202)?.preorderId;
      if (id) owner.set(id, client);
      return id;
    };
    const room = streamSignals(liveroom, run, seededRandom(o.seed ^ 0x5eed), tag, {
      skus: sizes.map((v) => [v.sku, v.weight] as const),
      over: () => over,
      show: () => undefined,
      perPost: [10, 40],
      resendFirst: true,
    });
    await inPool(plans, o.concurrency, async (b) => {
      const id = await order(b, 'buy-1', b.sku, b.quantity, b.retry);
      if (id && b.cancels) {
        try {
          const r = await buyers[b.index]!.post<{ type?: string }>(`/v1/preorders/${id}/cancel`);
          run.cancels.push({ preorderId: id, when: 'before-batching', status: r.status, ...(r.status !== 200 && r.body.type && { problem: r.body.type }) });
          // Too late is a fair answer: the order may already be in a batch.
          if (!(r.status === 409 && r.body.type === notCancellable)) expectAnswer(run, `cancel ${id}`, r, 200);
        } catch (err) {
          if (!(err instanceof NoAnswerError)) throw err;
        }
      }
      if (id && b.greedy) await order(b, 'buy-more', b.sku, 2, 'none');
      if (id && b.secondSku) await order(b, 'buy-2', b.secondSku, 1, 'none');
      bar.tick();
    });
    over = true;
    await room;
    const accepted = run.placements.filter((p) => p.answers.some((a) => a.status === 202)).length;
    const soldOut = run.placements.filter((p) => p.answers.some((a) => a.problem === capProblem)).length;
    const limited = run.placements.filter((p) => p.answers.some((a) => a.title === limitTitle)).length;
    bar.done(`${accepted} accepted · ${soldOut} sold out · ${limited} past the limit · ${run.signals.accepted} signals in ${run.signals.posts} posts`);
  });

  // 3. The anchor closes the sale; the last batch is cut.
  await phase('close & cut', async () => {
    const closed = await anchor.post<Campaign>(`/v1/campaigns/${run.campaignId}/close`, undefined, { safeToRepeat: true });
    if (expectAnswer(run, 'close the campaign', closed, 200) && closed.body.status !== 'CLOSED') {
      run.unexpected.push(`close the campaign → ${closed.body.status}, not CLOSED: its minimum of ${minTotalQuantity} was ordered`);
    }
    const bar = progress.bar('cutting', 0, 'units');
    const { bs, stalled } = await cutSettled(world, bar, () => 0, stallMs);
    if (stalled) run.stalls.push(`cutting: units still waiting after the close, ${bs.length} batches`);
    bar.done(`${bs.length} batches · campaign ${closed.body.status}`);
  });

  // 4. The factory makes and ships every batch, on time; carriers deliver.
  await phase('factory', async () => {
    const bar = progress.bar('factory', 0, 'units shipped');
    await runFactory(
      { factory, buyerOf: (id) => owner.get(id), rng, run, bar, stallMs, promisedShipDays },
      await campaignBatches(),
      { roles: false, holdDelayed: false },
    );
  });
  await phase('deliveries', () => deliverLots(world));

  // 5. Everything comes to rest, and is read back.
  await phase('settle', () => settlePreorders(world));
  await phase('audit', () => readBack(world));
  return run;
};

const fmt = (n: number) => n.toLocaleString('en-US');
const sum = <T>(xs: readonly T[], f: (x: T) => number) => xs.reduce((n, x) => n + f(x), 0);
const secs = (ms: number) => `${(ms / 1000).toFixed(1)} s`;

/** The smoke's few lines: what was played where, what came of it, what was not played; then each check. */
export const renderSmokeSummary = (run: FlashSaleRun, checks: readonly Check[], target: string): string => {
  const rows: [string, string][] = [];
  const row = (k: string, v: string) => rows.push([k, v]);
  const ps = run.final?.preorders ?? [];
  const accepted = new Map<string, number>();
  for (const p of run.placements) for (const a of p.answers) if (a.status === 202 && a.preorderId) accepted.set(a.preorderId, p.quantity);
  const refused = (f: (p: Placement) => boolean) => run.placements.filter((p) => !p.answers.some((a) => a.status === 202) && f(p)).length;
  const retried = run.placements.filter((p) => p.retry !== 'none' && p.answers.length >= 2);
  const same = retried.filter((p) => p.answers[0]!.status === p.answers[1]!.status && p.answers[0]!.preorderId === p.answers[1]!.preorderId);
  const st = run.settings;

  row('target', target);
  row('campaign', `${run.campaignId || '(not created)'} · cap ${st.cap} · lot ${st.lotSize} · min ${st.minTotalQuantity} · ${st.maxPerBuyer} per buyer · seed ${run.seed}`);
  row('orders', `${fmt(run.buyers)} buyers · ${fmt(run.placements.length)} Idempotency-Keys · ${fmt(accepted.size)} pre-orders accepted, ${fmt(sum([...accepted.values()], (q) => q))} units`);
  row('refused', `${refused((p) => p.answers.some((a) => a.problem === capProblem))} sold out · ${refused((p) => p.answers.some((a) => a.title === limitTitle))} past the limit`);
  row('retries', `${same.length}/${retried.length} resent or double-tapped orders answered as the first time · ${run.http.throttled} 429/503 waited out`);
  row('cancels', `${run.cancels.filter((c) => c.status === 200).length} before batching · ${run.cancels.filter((c) => c.status === 409).length} too late`);
  row('signals', `${fmt(run.signals.accepted)} accepted in ${run.signals.posts} posts (${run.signals.reposts} sent twice)`);
  if (run.final) {
    row('batches', `${run.final.batches.length}: ${countBy(run.final.batches, (b) => b.status)}`);
    row(
      'units',
      `${fmt(sum(ps, (p) => p.quantity))} ordered · ${fmt(sum(ps, (p) => p.shippedQuantity))} shipped in ${run.shipments.length} lots · ` +
        `${fmt(sum(ps, (p) => p.deliveredQuantity))} delivered · ${fmt(sum(ps, refundedUnits))} refunded (${money(sum(ps, (p) => p.refundedAmount), run.final.campaign.currency)})`,
    );
    row('notifications', `${fmt(sum(ps, (p) => p.notifications.length))} to buyers`);
    row('pre-orders', countBy(ps, (p) => p.status));
  }
  row('not played', 'a variant below its own minimum (refunded when its switch window ends) and a late lot (days after its promise): a smoke run cannot move the clock');
  row('wall time', `${run.phases.map((p) => `${p.name} ${secs(p.ms)}`).join(' · ')} · total ${secs(sum(run.phases, (p) => p.ms))}`);
  return [...renderTable('Smoke run', rows), ...renderChecks(checks)].join('\n');
};
