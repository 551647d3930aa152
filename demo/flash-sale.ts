import { randomUUID } from 'node:crypto';
import { performance } from 'node:perf_hooks';
import type { Principal } from '../functions/shared/principal.ts';
import { clientAs, HttpTally, NoAnswerError, politeRetry, sleep, type ActorClient, type TokenSource } from './support/api-client.ts';
import { registerFactory } from './support/fixtures.ts';
import { inPool, pollUntil } from './pacing.ts';
import { expectedUnitsPerBuyer, limitedSku, planCrowd, variants, type BuyerPlan, type RetryHabit } from './crowd.ts';
import type { DemoClock } from './clock.ts';
import { factoryClient, runFactory, type FactoryOutcome } from './factory-sim.ts';
import { depositSale, depositSaleNeedsTheClock } from './deposit-sale.ts';
import { silentProgress, type Progress } from './progress.ts';
import { seededRandom } from './random.ts';
import { expectAnswer, type Answered, type FlashSaleRun, type Placement, type SwitchRecord } from './record.ts';
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
  confirmRefunds,
  streamSignals,
  emptyRecords,
  type SaleWorld,
} from './sale-steps.ts';
import { limitTitle, type Campaign, type Preorder } from './views.ts';

/**
 * A live-room flash sale from the anchor's "3, 2, 1, buy!" to the last
 * delivery, played against a running c2m over its HTTP API only:
 *
 * 1. the anchor opens a campaign for a tee in four sizes and a limited colour
 *    (with a minimum of its own the room will not reach), capped a little
 *    below what the room will want, with a lot size that cuts several
 *    batches, a limit of 3 per buyer, a ceiling and late compensation;
 * 2. the crowd pre-orders all at once (retries, double taps, sold-out answers,
 *    quick cancels, second sizes, a few past the limit) while the live room
 *    streams signals;
 * 3. the anchor closes the campaign: the limited colour's buyers are told it
 *    will not be made and some switch to a size; the last batch is cut;
 * 4. the factory accepts, makes, QCs and ships every batch in lots
 *    (factory-sim.ts), holding the delayed one;
 * 5. the switch window ends: who did not switch is refunded, the switchers'
 *    batch is cut, and the factory makes it;
 * 6. the original promise passes and the delayed batch ships late, which earns
 *    its buyers compensation; carriers confirm every delivery;
 * 7. the pipeline is left to settle, and everything is read back for the
 *    checks (checks.ts) and the summary (summary.ts).
 *
 * Beside it, after the burst, a small deposit sale (定金/尾款, deposit-sale.ts): a few dozen
 * buyers pay a deposit, the sale closes at a tier price, the platform records the balances of
 * those who pay, and once the balance deadline has passed (with the switch window's move of the
 * clock) the unpaid are cancelled with their deposit kept and the factory makes what was paid for.
 *
 * Steps 5 and 6 take days. With `timeTravel` (the caller owns the runtime, in
 * this process) the demo moves the clock forward and fires the clock's sweep;
 * against a runtime elsewhere it cannot, so the switch window is two minutes
 * of real time, waited out, and the late lot is skipped, and the record says so.
 *
 * Returns the record of what happened; it throws only when the sale cannot go
 * on at all (the campaign cannot be created, a list cannot be read).
 */
export interface FlashSaleOptions {
  readonly url: string;
  /** The actors' access tokens, from the runtime's issuer. */
  readonly tokens: TokenSource;
  readonly buyers: number;
  /** Requests in flight at once during the burst and the read-backs. */
  readonly concurrency: number;
  readonly seed: number;
  readonly progress?: Progress;
  /** Resolves when the runtime's queues are empty; given when the caller owns the runtime (quicker than polling alone). */
  readonly drain?: () => Promise<void>;
  /** Stop waiting for the pipeline after this long without any change. @default 60000 */
  readonly stallMs?: number;
  /**
   * Given when the caller owns the runtime in this process: the clock the runtime reads (moved forward only),
   * and the clock's sweep, fired after each move rather than waited for.
   */
  readonly timeTravel?: { readonly clock: DemoClock; readonly sweep: () => Promise<void> };
}

/** The sale could not go on at all (the campaign could not be created, a list could not be read). */
export class FlashSaleError extends SaleError {}

const factoryId = 'factory-demo';
const backupFactoryId = 'factory-backup';
const day = 86_400_000;
/** Against a runtime whose clock cannot be moved, the switch window is this long, in real time. */
const realSwitchWindowMinutes = 2;

export const runFlashSale = async (o: FlashSaleOptions): Promise<FlashSaleRun> => {
  const progress = o.progress ?? silentProgress;
  const stallMs = o.stallMs ?? 60_000;
  const rng = seededRandom(o.seed);
  // Ids unique to this run, so runs against one long-lived runtime never meet each other's keys.
  const tag = randomUUID().slice(0, 8);
  const http = new HttpTally();
  // Every actor keeps the contract's retry discipline, and the summary counts all of them together.
  const actor = (principal: Principal) => clientAs(principal, { baseUrl: o.url, tokens: o.tokens, retry: politeRetry, tally: http, timeoutMs: 30_000 });
  const operator = actor({ role: 'operator', id: 'operator-demo' });
  const anchor = actor({ role: 'anchor', id: 'anchor-demo' });
  const factory = factoryClient(o.url, o.tokens, factoryId, http);
  const liveroom = actor({ role: 'liveroom', id: 'liveroom-demo' });
  // The live platform's payment service: pays the refunds c2m decides back, and confirms each.
  const platform = actor({ role: 'platform', id: 'pay-demo' });
  const crowd = planCrowd(rng, o.buyers);
  const buyers = crowd.map((p) => actor({ role: 'buyer', id: `fan-${tag}-${p.index}` }));

  // Sized from the crowd: sold out a little before everyone is served, several lots, a minimum easily met.
  const cap = Math.max(10, Math.round(o.buyers * expectedUnitsPerBuyer * 0.85));
  const lotSize = Math.min(300, Math.max(10, Math.round(cap / 8 / 10) * 10));
  const minTotalQuantity = Math.round(cap * 0.2);
  const promisedShipDays = 7;
  // The limited colour's own minimum: well above what a few buyers in fifty order, never above the cap.
  const limitedMinQuantity = Math.min(cap, Math.max(10, Math.round(cap * 0.1)));
  const travel = o.timeTravel;

  const run: FlashSaleRun = {
    seed: o.seed,
    buyers: o.buyers,
    campaignId: '',
    factoryId,
    settings: {
      cap,
      lotSize,
      minTotalQuantity,
      promisedShipDays,
      maxPerBuyer: 3,
      maxDelayDays: 10,
      // Pinduoduo's terms: 10 % of the order, within ¥5–¥100.
      lateCompensation: { percent: 10, minAmount: 500, maxAmount: 10_000 },
      switchWindowHours: travel ? 24 : realSwitchWindowMinutes / 60,
      limitedSku,
      limitedMinQuantity,
    },
    clock: { movable: travel !== undefined, moves: [] },
    lateLot: { shipped: false, lots: 0 },
    payments: { confirmed: 0, repeated: 0, repeatAnswers: [] },
    ...emptyRecords(variants.map((v) => v.sku), http),
  };
  // Wall time from the monotonic clock: the calendar may be moved forward by days mid-phase.
  const phase = phaseOf(run);
  /** Who owns each accepted pre-order: reads and cancels go with the buyer's own token. */
  const owner = new Map<string, ActorClient>();
  /** What the buyer behind each accepted pre-order will do if told its variant will not be made. */
  const planOf = new Map<string, BuyerPlan>();
  /**
   * Days pass: the runtime's queues are emptied first (nothing in flight sees its visibility timeout
   * jump), then the clock moves forward and the clock's sweep runs, and its consequences are drained.
   */
  const moveClockTo = async (at: number, why: string) => {
    if (!travel) return;
    await drainRuntime();
    const before = Date.now();
    if (at > before) {
      travel.clock.advanceTo(at);
      run.clock.moves.push({ why, byMs: at - before });
    }
    await travel.sweep();
    await drainRuntime();
  };
  const drainRuntime = async () => {
    if (o.drain) await o.drain().catch((err: Error) => progress.log(`  (queues still busy: ${err.message.slice(0, 200)})`));
  };
  const world: SaleWorld = { run, anchor, factory, owner, platform, progress, concurrency: o.concurrency, stallMs, ...(o.drain && { drain: drainRuntime }) };
  const { read, demand, campaignBatches } = saleReads(world);
  // The deposit sale needs days to pass (its balance window is at least an hour): played only with a clock to move.
  const deposits = travel ? depositSale({ world, actor, tag, seed: o.seed, crowd: o.buyers, moveClockTo }) : undefined;
  if (!deposits) run.depositSkipped = depositSaleNeedsTheClock;
  const idle = async () => undefined;

  // 1. An operator has registered the factories (a campaign may name no other), and the anchor opens the campaign.
  await phase('open', async () => {
    const bar = progress.bar('open', 1, 'campaign');
    // Registered the first time; already, when a runtime kept from an earlier run has it.
    await registerFactory(operator, factoryId, 'Demo Tee Works');
    await registerFactory(operator, backupFactoryId, 'Demo Backup Works');
    const created = await anchor.post<{ campaignId: string; status: string }>(
      '/v1/campaigns',
      {
        title: 'Embroidered cotton tee: live drop',
        factoryId,
        backupFactoryId,
        currency: 'CNY',
        variants: variants.map(({ sku, name, unitPrice, limited }) => ({ sku, name, unitPrice, ...(limited && { minQuantity: limitedMinQuantity }) })),
        // Far enough ahead that the anchor, not the clock, closes the sale, however large the crowd.
        closesAt: new Date(Date.now() + Math.max(15 * 60_000, o.buyers * 200)).toISOString(),
        minTotalQuantity,
        lotSize,
        maxTotalQuantity: cap,
        promisedShipDays,
        maxPerBuyer: run.settings.maxPerBuyer,
        maxDelayDays: run.settings.maxDelayDays,
        lateCompensation: run.settings.lateCompensation,
        switchWindowHours: run.settings.switchWindowHours,
      },
      { idempotencyKey: `flash-sale-${tag}` },
    );
    if (created.status !== 201) throw new FlashSaleError(`POST /v1/campaigns → ${created.status} ${JSON.stringify(created.body).slice(0, 300)}`);
    run.campaignId = created.body.campaignId;
    bar.tick();
    bar.done(
      `${run.campaignId} · ${variants.length} variants (${limitedSku} needs ${limitedMinQuantity}) · cap ${cap} · lot ${lotSize} · min ${minTotalQuantity} · ` +
        `${run.settings.maxPerBuyer} per buyer · ships in ${promisedShipDays} days`,
    );
    await deposits?.open();
  });
  const preordersPath = `/v1/campaigns/${run.campaignId}/preorders`;

  // 2. "3, 2, 1, buy!": the crowd at once, the live room streaming alongside.
  await phase('burst', async () => {
    const bar = progress.bar('burst', o.buyers, 'buyers');
    const started = performance.now();
    const tally = { accepted: 0, soldOut: 0, limited: 0, retries: 0, cancelled: 0 };
    const show = () =>
      bar.info(
        `${fmt(tally.accepted)} accepted · ${fmt(tally.soldOut)} sold out · ${fmt(tally.limited)} past the limit · ${fmt(tally.retries)} retries · ` +
          `${fmt(tally.cancelled)} cancels · ${fmt(run.signals.accepted)} signals`,
      );
    let over = false;
    const followUps: Promise<void>[] = [];

    // Sold out and past the limit are fair answers; anything else but a 202 is written down as unexpected.
    const placeOnce = async (client: ActorClient, placement: Placement, body: unknown): Promise<Answered> => {
      const answer = await placeOrder(run, client, placement, body, started);
      if (placement.answers.length > 1) tally.retries++;
      return answer;
    };

    const order = async (plan: BuyerPlan, key: string, sku: string, quantity: number, retry: RetryHabit): Promise<string | undefined> => {
      const client = buyers[plan.index]!;
      const placement: Placement = { buyerId: client.principal.id, key, sku, quantity, retry, answers: [] };
      run.placements.push(placement);
      const body = { sku, quantity, shippingAddress: plan.address };
      if (retry === 'double-tap') await Promise.all([placeOnce(client, placement, body), placeOnce(client, placement, body)]);
      else await placeOnce(client, placement, body);
      if (retry === 'resend') await placeOnce(client, placement, body);
      const soldOut = placement.answers.every((a) => a.problem === capProblem);
      if (soldOut && plan.retryAfterSoldOutMs !== undefined) {
        await sleep(plan.retryAfterSoldOutMs);
        await placeOnce(client, placement, body);
      }
      const got = placement.answers.find((a) => a.status === 202)?.preorderId;
      if (got) {
        owner.set(got, client);
        planOf.set(got, plan);
        tally.accepted++;
      } else if (placement.answers.some((a) => a.problem === capProblem)) tally.soldOut++;
      else if (placement.answers.some((a) => a.title === limitTitle)) tally.limited++;
      return got;
    };

    const cancelSoon = async (plan: BuyerPlan, preorderId: string, afterMs: number) => {
      await sleep(afterMs);
      let r;
      try {
        r = await buyers[plan.index]!.post<{ type?: string }>(`/v1/preorders/${preorderId}/cancel`);
      } catch (err) {
        if (err instanceof NoAnswerError) return; // no answer: the tally has it as a failure
        throw err;
      }
      run.cancels.push({ preorderId, when: 'before-batching', status: r.status, ...(r.status !== 200 && r.body.type && { problem: r.body.type }) });
      // Too late is a fair answer: the order may already be in a batch.
      if (!(r.status === 409 && r.body.type === notCancellable)) expectAnswer(run, `cancel ${preorderId}`, r, 200);
      if (r.status === 200) tally.cancelled++;
      show();
    };

    const room = streamSignals(liveroom, run, seededRandom(o.seed ^ 0x5eed), tag, {
      skus: variants.map((v) => [v.sku, v.weight] as const),
      over: () => over,
      show,
    });
    await inPool(crowd, o.concurrency, async (plan) => {
      const id = await order(plan, 'buy-1', plan.sku, plan.quantity, plan.retry);
      if (id && plan.cancelAfterMs !== undefined) followUps.push(cancelSoon(plan, id, plan.cancelAfterMs));
      if (id && plan.secondSku) await order(plan, 'buy-2', plan.secondSku, 1, 'none');
      // 限购: back for more of the same, past the limit (a fair 409, counted).
      if (id && plan.greedyQuantity) await order(plan, 'buy-more', plan.sku, plan.greedyQuantity, 'none');
      bar.tick();
      show();
    });
    await Promise.all(followUps);
    over = true;
    await room;
    show();
    bar.done();
  });

  // Beside the flash sale's close and factory, the deposit sale: deposits, a cancel, the close, balances called and
  // some paid. Its deadline comes before the flash sale's switch window ends, so the switch window's move of the clock
  // passes it too. A failure is kept until the flash sale's factory is done, then thrown.
  const besideStarted = performance.now();
  const depositsPaid = (deposits?.orderCloseAndPay() ?? idle()).then(
    () => undefined,
    (err: unknown) => err,
  );
  if (deposits) void depositsPaid.then(() => run.phases.push({ name: 'deposit sale', ms: performance.now() - besideStarted, beside: true }));
  const depositsDone = async () => {
    const err = await depositsPaid;
    if (err !== undefined) throw err;
  };

  // 3. The anchor closes the sale. The limited colour missed its own minimum: its buyers are told, and
  // those who would rather have a size switch at once; everything that made its minimum is cut.
  let switchBy: string | undefined;
  await phase('close & cut', async () => {
    const closed = await anchor.post<Campaign>(`/v1/campaigns/${run.campaignId}/close`, undefined, { safeToRepeat: true });
    expectAnswer(run, 'close the campaign', closed, 200);

    const cancelled = new Set(run.cancels.filter((c) => c.status === 200).map((c) => c.preorderId));
    const accepted = acceptedPlacements(run);
    // A campaign that failed its own minimum refunds everyone: nobody is offered a switch then.
    const limited = closed.body.status !== 'CLOSED' ? [] : [...planOf.keys()].filter((id) => accepted.get(id)?.sku === limitedSku && !cancelled.has(id));
    if (limited.length > 0) {
      const told = progress.bar('told', limited.length, `${limitedSku} buyers`);
      const seen = new Map<string, Preorder>();
      const { stalled } = await pollUntil(
        async () => {
          const ps = await inPool(limited.filter((id) => !seen.has(id)), o.concurrency, read);
          for (const p of ps) if (p && isTold(p)) seen.set(p.preorderId, p);
          told.set(seen.size);
          return seen.size;
        },
        (n) => n === limited.length,
        String,
        stallMs,
      );
      if (stalled) run.stalls.push(`switch offers: ${limited.length - seen.size} of ${limited.length} ${limitedSku} buyers not told`);
      switchBy = [...seen.values()][0]?.switchBy;
      await inPool(limited, o.concurrency, async (id) => {
        const plan = planOf.get(id)!;
        const record: SwitchRecord = { preorderId: id, buyerId: owner.get(id)!.principal.id, told: seen.has(id), ...(plan.switchTo && { to: plan.switchTo }) };
        run.switches.push(record);
        if (!plan.switchTo || !record.told) return;
        const r = await owner.get(id)!.post<{ type?: string }>(`/v1/preorders/${id}/switch`, { sku: plan.switchTo });
        record.status = r.status;
        if (r.status !== 200 && r.body.type) record.problem = r.body.type;
        expectAnswer(run, `switch ${id} to ${plan.switchTo}`, r, 200);
      });
      const switched = run.switches.filter((x) => x.status === 200).length;
      told.done(`${seen.size} told · ${switched} switched to a size · ${run.switches.length - switched} wait for the refund`);
    }

    const bar = progress.bar('cutting', 0, 'units');
    // The limited colour's units (switched or not) wait for the window's end; everything else is cut now.
    const limitedUnits = sum(run.switches, (x) => accepted.get(x.preorderId)?.quantity ?? 0);
    const { bs, stalled } = await cutSettled(world, bar, () => limitedUnits, stallMs);
    if (stalled) run.stalls.push(`cutting: units still waiting beyond the limited colour's, ${bs.length} batches`);
    bar.done(`${bs.length} batches · campaign ${closed.body.status}`);
  });

  // 4. The factory pulls its batches and makes them, all but the delayed one when its lots can be made late.
  let held: FactoryOutcome = {};
  await phase('factory', async () => {
    const bar = progress.bar('factory', 0, 'units shipped');
    held = await runFactory(
      { factory, buyerOf: (id) => owner.get(id), rng, run, bar, stallMs, promisedShipDays },
      await campaignBatches(),
      { roles: true, holdDelayed: travel !== undefined },
    );
  });

  await depositsDone();

  // 5. The switch window ends: who did not switch is refunded, the switchers' batch is cut and made.
  if (switchBy !== undefined) {
    const windowEnds = Date.parse(switchBy);
    await phase('switch window', async () => {
      // A factory's integration keeps pulling: a batch cut after its first pass (switchers, cut whenever the
      // cutter looks at the campaign again, at the latest when the window ends) is made too, before its deadline.
      const catchUp = async () => {
        const fresh = (await campaignBatches()).filter((b) => !run.manifests.has(b.batchId));
        if (fresh.length === 0) return;
        run.switchBatchIds.push(...fresh.map((b) => b.batchId));
        const made = progress.bar('switchers', 0, 'units shipped');
        await runFactory({ factory, buyerOf: (id) => owner.get(id), rng, run, bar: made, stallMs, promisedShipDays }, fresh, { roles: false, holdDelayed: false });
      };
      const bar = progress.bar('window end', run.switches.length, `${limitedSku} buyers`);
      let stall = stallMs;
      if (travel) {
        await drainRuntime();
        await catchUp();
        bar.info(`moving the clock to ${switchBy} and running the sweep`);
        await moveClockTo(windowEnds + 60_000, `to the switch window's end, ${run.settings.switchWindowHours} h after the close`);
      } else {
        // Real time: wait for the window to end, then for the runtime's own sweep (once a minute).
        const wait = windowEnds - Date.now();
        if (wait > 0) {
          bar.info(`the window ends in ${Math.ceil(wait / 1000)} s (real time: this runtime's clock cannot be moved)`);
          await sleep(wait + 1_000);
        }
        stall = Math.max(stallMs, 150_000);
      }
      // Settled when whoever did not switch is refunded and every switcher is in a batch the factory can see.
      const switchers = new Set(run.switches.filter((x) => x.status === 200).map((x) => x.preorderId));
      const { value, stalled } = await pollUntil(
        async () => {
          const [ps, d, bs] = await Promise.all([inPool(run.switches, o.concurrency, (x) => read(x.preorderId)), demand(), campaignBatches()]);
          const listed = new Set(bs.map((b) => b.batchId));
          const done = ps.filter((p) => p && (switchers.has(p.preorderId) ? p.batchId !== undefined && listed.has(p.batchId) : p.status === 'REFUNDED')).length;
          bar.set(done);
          bar.info(`${fmt(d.totals.waiting)} units waiting`);
          return { done, waiting: d.totals.waiting, batches: bs.length };
        },
        (v) => v.done === run.switches.length && v.waiting === 0,
        (v) => `${v.done}/${v.waiting}/${v.batches}`,
        stall,
      );
      if (stalled) run.stalls.push(`switch window: ${run.switches.length - value.done} ${limitedSku} buyers neither refunded nor batched, ${value.waiting} units waiting after ${switchBy}`);
      bar.done(`${run.switches.length - switchers.size} refunded · ${switchers.size} switchers in batches`);
      await catchUp();
    });
  }

  // The deposit sale's balance deadline has passed (or the clock is moved past it now): the unpaid forfeit their
  // deposit, the last batch is cut, and the factory makes the deposit sale's batches before the late lot's move.
  if (deposits) await phase('deposit deadline', deposits.deadline);

  // 6. The delayed batch ships after its buyers' original promise: a late lot. Only a clock that can be moved
  // gets there: days away in real time.
  if (!travel) run.lateLot.skipped = 'external runtime: its clock cannot be moved';
  else if (!held.shipHeld || !held.heldBatchId) run.lateLot.skipped = 'no batch to ship late';
  else {
    const heldId = held.heldBatchId;
    const shipHeld = held.shipHeld;
    await phase('late lot', async () => {
      const someone = run.manifests.get(heldId)?.find((e) => owner.has(e.preorderId));
      const promised = someone ? (await read(someone.preorderId))?.originalPromisedShipBy : undefined;
      if (!promised) {
        run.lateLot.skipped = 'the delayed batch has no pre-order to read its promise from';
        return;
      }
      const bar = progress.bar('late lot', 0, 'units shipped');
      bar.info(`moving the clock a day past the original promise (${promised.slice(0, 10)})`);
      await moveClockTo(Date.parse(promised) + day, 'to a day past the original promise');
      run.lateLot.afterPromiseMs = Date.now() - Date.parse(promised);
      const lotsBefore = run.factory.lots;
      await shipHeld(bar);
      bar.done(`shipped ${(run.lateLot.afterPromiseMs / day).toFixed(1)} days after the original promise (${promised.slice(0, 10)})`);
      run.lateLot.shipped = true;
      run.lateLot.batchId = heldId;
      run.lateLot.lots = run.factory.lots - lotsBefore;
    });
  }

  // Carriers deliver every lot (the deposit sale's beside the flash sale's, from here on).
  const both = (a: () => Promise<void>, b: () => Promise<void>) => async () => void (await Promise.all([a(), b()]));
  await phase('deliveries', both(() => deliverLots(world), deposits?.deliver ?? idle));
  // 7. Every buyer's order comes to rest: delivered or refunded (a forfeited deposit: cancelled), and told of each step.
  await phase('settle', both(() => settlePreorders(world), deposits?.settle ?? idle));
  // 8. The platform pays every refund back and confirms it; the buyers are told, once more each.
  await phase('refunds paid', both(() => confirmRefunds(world), deposits?.refunds ?? idle));
  await phase('told refunded', both(() => settlePreorders(world), deposits?.settle ?? idle));
  await phase('audit', both(() => readBack(world), deposits?.readBack ?? idle));
  return run;
};

const fmt = (n: number) => n.toLocaleString('en-US');
const sum = <T>(xs: readonly T[], f: (x: T) => number) => xs.reduce((n, x) => n + f(x), 0);
/** Told its variant will not be made: the pre-order shows until when it may switch, and the notice reached the buyer. */
const isTold = (p: Preorder) => p.switchBy !== undefined && p.notifications.some((n) => n.template === 'preorder.variant_missed_minimum');
/** Each accepted pre-order's placement (its sku and quantity as ordered), from the buyers' own answers. */
const acceptedPlacements = (run: FlashSaleRun) => {
  const m = new Map<string, Placement>();
  for (const p of run.placements) for (const a of p.answers) if (a.status === 202 && a.preorderId) m.set(a.preorderId, p);
  return m;
};
