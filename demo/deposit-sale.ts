import type { Principal } from '../functions/shared/principal.ts';
import type { ActorClient } from './support/api-client.ts';
import { shippingAddress } from './support/fixtures.ts';
import { runFactory } from './factory-sim.ts';
import { inPool, pollUntil } from './pacing.ts';
import { seededRandom, type Random } from './random.ts';
import { expectAnswer, type DepositBuyer, type DepositRun, type DepositSettings, type FactoryLedger } from './record.ts';
import { confirmRefunds, deliverLots, saleReads, SaleError, settlePreorders, type SaleWorld } from './sale-steps.ts';
import { money, type Campaign, type Demand, type Preorder } from './views.ts';

/**
 * A small deposit sale (定金/尾款, issue 16, decision 40), played beside the flash sale over the
 * same HTTP API, by the same anchor, factory and platform:
 *
 * 1. the anchor opens a linen shirt in two colours with a deposit of ¥20 a unit, ¥10 a unit off
 *    the balance for paying it (付定金立减), and price tiers on one colour that the room reaches;
 * 2. a few dozen buyers order, each with the platform's reference of the deposit they paid; one
 *    cancels before the sale closes (and keeps nothing back);
 * 3. the anchor closes the sale: each buyer is told the balance (the tier price reached, less the
 *    discount, on every unit, less the deposit) and its deadline;
 * 4. the platform reports the balances of those who pay (one report sent twice, as a payment
 *    service that lost the answer would); the others leave it;
 * 5. the deadline passes (the clock is moved, as for the flash sale's switch window): the unpaid
 *    are cancelled with their deposit kept, the batch is cut of everyone who paid, and the factory
 *    makes and ships it; carriers deliver.
 *
 * Steps 2–4 run beside the flash sale's close and factory (`orderCloseAndPay`), so they add
 * little wall time: they wait for the pipeline by polling what the buyers see, never by draining
 * the runtime's queues (which the flash sale keeps busy meanwhile).
 *
 * Who pays, who leaves and who cancels is drawn from the seed. Its factory work is written to the
 * deposit sale's own ledger, not the flash sale's: the flash sale's checks count its own lots.
 */
export interface DepositSaleOptions {
  /** The flash sale's world: its anchor, factory, platform, progress, pacing and run (refusals and stalls go there). */
  readonly world: SaleWorld;
  readonly actor: (principal: Principal) => ActorClient;
  /** Unique to the run: buyer ids, Idempotency-Keys and payment references carry it. */
  readonly tag: string;
  readonly seed: number;
  /** Buyers in the flash sale's room: the deposit sale has a tenth of them, 20 to 40. */
  readonly crowd: number;
  /**
   * Moves the clock forward to `at` (when it is not there yet) and fires the clock's sweep. Required:
   * the balance window is at least an hour, so only a runtime whose clock the demo moves gets past it.
   */
  readonly moveClockTo: (at: number, why: string) => Promise<void>;
}

/** Why the deposit sale is not played against a runtime in another process. */
export const depositSaleNeedsTheClock = "a deposit sale's balance window is at least an hour, and this runtime's clock cannot be moved";

const sku = { white: 'LINEN-WHITE', indigo: 'LINEN-INDIGO' } as const;

interface BuyerDraw {
  readonly sku: string;
  readonly quantity: number;
  readonly plan: DepositBuyer['plan'];
  readonly locale?: 'en';
}

/** The room, drawn from the seed: mostly White, one or two units, seven in ten pay; one cancels; at least one pays and one leaves. */
const drawBuyers = (rng: Random, n: number): BuyerDraw[] => {
  const drawn = Array.from({ length: n }, () => ({
    sku: rng.weighted([
      [sku.white, 7],
      [sku.indigo, 3],
    ] as const),
    quantity: rng.weighted([
      [1, 70],
      [2, 30],
    ] as const),
    plan: rng.chance(0.7) ? ('pay' as const) : ('leave' as const),
    english: rng.chance(0.3),
  }));
  const canceller = rng.int(0, n - 1);
  const plans = drawn.map((d, i): DepositBuyer['plan'] => (i === canceller ? 'cancel' : d.plan));
  const others = plans.flatMap((p, i) => (p === 'cancel' ? [] : [i]));
  if (!plans.includes('pay')) plans[others[0]!] = 'pay';
  if (!plans.includes('leave')) plans[others[others.length - 1]!] = 'leave';
  return drawn.map((d, i) => ({ sku: d.sku, quantity: d.quantity, plan: plans[i]!, ...(d.english && { locale: 'en' as const }) }));
};

export const depositSale = (o: DepositSaleOptions) => {
  const { world, tag } = o;
  const { run, anchor, platform, progress, concurrency, stallMs } = world;
  // The live platform's payment service records the balances: no platform, no deposit sale.
  if (!platform) throw new SaleError('a deposit sale needs the platform client: it records the balances paid');
  const rng = seededRandom((o.seed ^ 0x0de9051) >>> 0);
  const draws = drawBuyers(rng, Math.min(40, Math.max(20, Math.round(o.crowd / 10))));
  const clients = draws.map((_, i) => o.actor({ role: 'buyer', id: `deposit-fan-${tag}-${i + 1}` }));

  // Sized from the room: White's units sold reach its first tier, never its second; the minimum is met on commitments.
  // The lot is a factory's minimum run, above what the room orders: nothing is cut while balances come in, and the one
  // batch is cut at the deadline of everyone who paid (an earlier cut would wait a day for the factory while the clock
  // moves past the deadline, and pass its acceptance window).
  const kept = (s?: string) => draws.filter((d) => d.plan !== 'cancel' && (s === undefined || d.sku === s)).reduce((n, d) => n + d.quantity, 0);
  const whiteSold = kept(sku.white);
  const settings: DepositSettings = {
    deposit: 2000,
    depositDiscount: 1000,
    // Shorter than the flash sale's switch window: the clock's move to the window's end passes this deadline too.
    balanceWindowHours: 12,
    minTotalQuantity: Math.max(1, Math.floor(kept() / 2)),
    lotSize: 100,
    promisedShipDays: 10,
    variants: [
      {
        sku: sku.white,
        name: 'White',
        unitPrice: 12900,
        priceTiers: [
          { minUnits: Math.max(2, Math.floor(whiteSold * 0.6)), unitPrice: 11900 },
          { minUnits: whiteSold + 20, unitPrice: 10900 },
        ],
      },
      { sku: sku.indigo, name: 'Indigo', unitPrice: 13900, priceTiers: [{ minUnits: 200, unitPrice: 12900 }] },
    ],
  };
  const dep: DepositRun = {
    campaignId: '',
    settings,
    buyers: draws.map((d, i) => ({
      index: i + 1,
      buyerId: clients[i]!.principal.id,
      sku: d.sku,
      quantity: d.quantity,
      paymentRef: `dep_${tag}_${i + 1}`,
      plan: d.plan,
    })),
    repeats: { sent: 0, same: 0 },
    cancels: [],
    manifests: new Map(),
    shipments: [],
    factory: { lots: 0, lotsResent: 0, lotsResentSame: 0, progressReports: 0, qcFailed: 0, shortUnits: 0 },
    payments: { confirmed: 0, repeated: 0, repeatAnswers: [] },
  };
  run.deposit = dep;
  /** Who owns each deposit pre-order: reads and the cancel go with the buyer's own token. */
  const owner = new Map<string, ActorClient>();
  // The deposit sale's reads, settling and refunds go to its own campaign and buyers; its factory work to its own ledger.
  let w: SaleWorld = { ...world, owner };
  const ledger: FactoryLedger = { manifests: dep.manifests, shipments: dep.shipments, factory: dep.factory, cancels: dep.cancels, unexpected: run.unexpected, stalls: run.stalls };
  const reads = () => saleReads(w);
  const placed = () => dep.buyers.filter((b): b is DepositBuyer & { preorderId: string } => b.preorderId !== undefined);
  const readAll = async (bs: readonly { preorderId: string }[]) => (await inPool(bs, concurrency, (b) => reads().read(b.preorderId))).filter((p): p is Preorder => p !== undefined);
  const campaignView = async () => {
    const r = await anchor.get<Campaign & { demand: Demand['variants'] }>(`/v1/campaigns/${dep.campaignId}`);
    if (!expectAnswer(run, 'read the deposit campaign', r, 200)) throw new SaleError(`GET the deposit campaign → ${r.status}`);
    return r.body;
  };

  /** 1. The anchor opens the deposit sale. */
  const open = async () => {
    const bar = progress.bar('deposit sale', 1, 'campaign');
    const created = await anchor.post<{ campaignId: string }>(
      '/v1/campaigns',
      {
        title: 'Hand-stitched linen shirt: deposit pre-sale (定金)',
        factoryId: run.factoryId,
        currency: 'CNY',
        variants: settings.variants,
        // Far enough ahead that the anchor closes it, after the flash sale's burst however large the crowd.
        closesAt: new Date(Date.now() + Math.max(30 * 60_000, o.crowd * 400)).toISOString(),
        minTotalQuantity: settings.minTotalQuantity,
        lotSize: settings.lotSize,
        promisedShipDays: settings.promisedShipDays,
        payment: { mode: 'deposit', deposit: settings.deposit, balanceWindowHours: settings.balanceWindowHours, depositDiscount: settings.depositDiscount },
      },
      { idempotencyKey: `deposit-sale-${tag}` },
    );
    if (created.status !== 201) throw new SaleError(`POST /v1/campaigns (deposit sale) → ${created.status} ${JSON.stringify(created.body).slice(0, 300)}`);
    dep.campaignId = created.body.campaignId;
    w = { ...world, owner, campaignId: dep.campaignId };
    bar.tick();
    bar.done(
      `${dep.buyers.length} buyers · deposit ${money(settings.deposit)} a unit, ${money(settings.depositDiscount)} off the balance · ` +
        `${settings.balanceWindowHours} h to pay the balance · min ${settings.minTotalQuantity} · lot ${settings.lotSize}`,
    );
  };

  /** 2–4. Deposits, one cancel, the close, each balance called; the platform records the balances of those who pay. */
  const orderCloseAndPay = async () => {
    const bar = progress.bar('deposits', dep.buyers.length, 'buyers');
    await inPool(dep.buyers, concurrency, async (b, i) => {
      const client = clients[i]!;
      const locale = draws[i]!.locale;
      const r = await client.post<{ preorderId?: string; paidAmount?: number }>(
        `/v1/campaigns/${dep.campaignId}/preorders`,
        { sku: b.sku, quantity: b.quantity, shippingAddress: { ...shippingAddress, name: `Buyer ${b.index}` }, paymentRef: b.paymentRef, ...(locale && { locale }) },
        { idempotencyKey: 'deposit-1' },
      );
      if (expectAnswer(run, `deposit pre-order of ${b.buyerId}`, r, 202) && r.body.preorderId) {
        b.preorderId = r.body.preorderId;
        if (r.body.paidAmount !== undefined) b.depositPaid = r.body.paidAmount;
        owner.set(b.preorderId, client);
      }
      // Walks away before the sale closes: the deposit is the commitment, so it is kept.
      if (b.plan === 'cancel' && b.preorderId) {
        const c = await client.post<{ type?: string }>(`/v1/preorders/${b.preorderId}/cancel`);
        b.cancelStatus = c.status;
        dep.cancels.push({ preorderId: b.preorderId, when: 'before-batching', status: c.status, ...(c.status !== 200 && c.body.type && { problem: c.body.type }) });
        expectAnswer(run, `cancel deposit pre-order ${b.preorderId}`, c, 200);
      }
      bar.tick();
    });
    bar.done(`${placed().length} deposits paid · ${dep.cancels.filter((c) => c.status === 200).length} cancelled before the close`);

    const told = progress.bar('balances called', 0, 'buyers');
    const closed = await anchor.post<{ status: string }>(`/v1/campaigns/${dep.campaignId}/close`, undefined, { safeToRepeat: true });
    expectAnswer(run, 'close the deposit campaign', closed, 200);
    if (closed.body.status !== 'CLOSED') run.unexpected.push(`the deposit campaign closed ${closed.body.status}, not CLOSED: its minimum was met on deposits`);
    // Every buyer still in is told the balance and its deadline. Polled, not drained: beside the flash sale's close the
    // queues are rarely empty, and the cutter may be busy with that close a while before it calls these balances.
    const due = placed().filter((b) => b.plan !== 'cancel');
    told.setTotal(due.length);
    const { value: views, stalled } = await pollUntil(
      async () => {
        const ps = await readAll(due);
        const n = ps.filter((p) => p.balanceDue !== undefined && p.notifications.length === p.timeline.length).length;
        told.set(n);
        return { ps, n };
      },
      (v) => v.n === due.length,
      (v) => String(v.n),
      Math.max(stallMs, 60_000),
    );
    if (stalled) run.stalls.push(`deposit sale: ${due.length - views.n} of ${due.length} buyers not told their balance`);
    const [d, campaign] = await Promise.all([reads().demand(), campaignView()]);
    dep.demandAtClose = d;
    if (campaign.balanceDueBy !== undefined) dep.balanceDueBy = campaign.balanceDueBy;
    told.done(`balances due by ${dep.balanceDueBy ?? '(not set)'}`);

    // The platform learns each balance from c2m's preorder.balance_due (it names the paymentRef); the demo hands it the
    // amount from the buyer's view. The first report is sent again, as a payment service that lost the answer would.
    const dueOf = new Map(views.ps.map((p) => [p.preorderId, p.balanceDue]));
    const payers = due.filter((b) => b.plan === 'pay');
    const pay = progress.bar('balances paid', payers.length, 'buyers');
    type Paid = { preorderId: string; amount: number; paidAmount: number; balancePaidAt: string };
    await inPool(payers, concurrency, async (b, i) => {
      const amount = dueOf.get(b.preorderId);
      if (amount === undefined) return;
      const report = () => platform.post<Paid>('/v1/payments/balances', { preorderId: b.preorderId, paymentRef: b.paymentRef, amount });
      const r = await report();
      b.payStatus = r.status;
      if (expectAnswer(run, `balance of ${b.preorderId}`, r, 200)) {
        b.balancePaid = r.body.amount;
        b.paidAmountAnswered = r.body.paidAmount;
      }
      if (i === 0) {
        dep.repeats.sent++;
        const again = await report();
        if (again.status === r.status && JSON.stringify(again.body) === JSON.stringify(r.body)) dep.repeats.same++;
      }
      pay.tick();
    });
    pay.done(`${payers.filter((b) => b.payStatus === 200).length} paid · ${due.length - payers.length} leave it unpaid · report sent twice answered the same: ${dep.repeats.same}/${dep.repeats.sent}`);
  };

  /** 5. The deadline passes: the unpaid are cancelled with their deposit kept, the last batch is cut, and the factory makes every batch. */
  const deadline = async () => {
    const dueBy = dep.balanceDueBy;
    if (!dueBy) return;
    const bar = progress.bar('balance deadline', 0, 'pre-orders');
    bar.info(`moving the clock past ${dueBy} and running the sweep`);
    // Already past when an earlier move went beyond it (the switch window's end): then only the sweep runs.
    await o.moveClockTo(Date.parse(dueBy) + 60_000, "past the deposit sale's balance deadline");
    // Too late now: a balance reported after the deadline is refused, naming the pre-order.
    const late = dep.buyers.find((b) => b.plan === 'leave' && b.preorderId);
    if (late?.preorderId) {
      const amount = (await reads().read(late.preorderId))?.balanceDue ?? 1;
      const r = await platform.post<{ errors?: { path: string; code?: string }[] }>('/v1/payments/balances', { preorderId: late.preorderId, paymentRef: late.paymentRef, amount });
      const named = r.body.errors?.[0];
      dep.lateAttempt = { status: r.status, ...(named && { path: named.path }), ...(named?.code !== undefined && { code: named.code }) };
      expectAnswer(run, `balance of ${late.preorderId} after the deadline`, r, 409);
    }
    // Settled when every unpaid pre-order is cancelled, every paid one is in a batch the factory lists, and nothing waits.
    const unpaid = placed().filter((b) => b.plan === 'leave');
    const paid = placed().filter((b) => b.payStatus === 200);
    bar.setTotal(unpaid.length + paid.length);
    const { value, stalled } = await pollUntil(
      async () => {
        const [ps, d, bs] = await Promise.all([readAll([...unpaid, ...paid]), reads().demand(), reads().campaignBatches()]);
        const listed = new Set(bs.map((b) => b.batchId));
        const byId = new Map(ps.map((p) => [p.preorderId, p]));
        const forfeited = unpaid.filter((b) => byId.get(b.preorderId)?.status === 'CANCELLED').length;
        const batched = paid.filter((b) => listed.has(byId.get(b.preorderId)?.batchId ?? '')).length;
        bar.set(forfeited + batched);
        bar.info(`${forfeited} forfeited · ${batched} in batches · ${d.totals.waiting} units waiting`);
        const settled = d.totals.waiting === 0 && (d.totals.awaitingBalance ?? 0) === 0 && bs.reduce((n, b) => n + b.units, 0) === d.totals.batched;
        return { forfeited, batched, settled, bs };
      },
      (v) => v.forfeited === unpaid.length && v.batched === paid.length && v.settled,
      (v) => `${v.forfeited}/${v.batched}/${v.settled}/${v.bs.length}`,
      stallMs,
    );
    if (stalled) run.stalls.push(`deposit sale: ${unpaid.length - value.forfeited} unpaid not cancelled, ${paid.length - value.batched} paid not in a batch after ${dueBy}`);
    bar.done(`${value.forfeited} unpaid cancelled, deposits kept · ${value.batched} paid in ${value.bs.length} batches`);

    const made = progress.bar('deposit factory', 0, 'units shipped');
    await runFactory(
      { factory: world.factory, buyerOf: (id) => owner.get(id), rng: seededRandom(rng.int(0, 2 ** 31)), run: ledger, bar: made, stallMs, promisedShipDays: settings.promisedShipDays },
      value.bs,
      { roles: false, holdDelayed: false },
    );
  };

  /** Carriers deliver the deposit sale's lots. */
  const deliver = () => deliverLots(w, dep.shipments, 'deposit lots');
  /** Every deposit pre-order comes to rest: delivered, refunded, or cancelled with its deposit kept; told of each step. */
  const settle = () => settlePreorders(w, new Set(['DELIVERED', 'REFUNDED', 'CANCELLED']), 'deposit settle');
  /** The platform pays back whatever the deposit sale refunded (a paid buyer's units never made, say) and confirms it. */
  const refunds = () => confirmRefunds(w, dep.payments, 'deposit refunds');

  /** Everything the deposit checks compare, read back over the API. */
  const readBack = async () => {
    const [preorders, campaign, demand, batches] = await Promise.all([readAll(placed()), campaignView(), reads().demand(), reads().campaignBatches()]);
    dep.final = { campaign, demand, batches, preorders };
  };

  return { run: dep, open, orderCloseAndPay, deadline, deliver, settle, refunds, readBack };
};

