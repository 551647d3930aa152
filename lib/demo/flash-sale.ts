import { randomUUID } from 'node:crypto';
import { allPages, clientFor, DemoHttpError, HttpTally, inPool, pollUntil, sleep, type Client } from './http.ts';
import { expectedUnitsPerBuyer, planCrowd, variants, type BuyerPlan, type RetryHabit } from './crowd.ts';
import { runFactory } from './factory-sim.ts';
import { silentProgress, type Progress } from './progress.ts';
import { seededRandom, type Random } from './random.ts';
import { expectAnswer, type Answered, type FlashSaleRun, type Placement } from './record.ts';
import { finalStatuses, type Batch, type Campaign, type Demand, type Preorder, type SignalType, type Trust } from './views.ts';

/**
 * A live-room flash sale from the anchor's "3, 2, 1, buy!" to the last
 * delivery, played against a running c2m over its HTTP API only:
 *
 * 1. the anchor opens a campaign for a tee in four sizes, capped a little
 *    below what the room will want, with a lot size that cuts several batches;
 * 2. the crowd pre-orders all at once (retries, double taps, sold-out answers,
 *    quick cancels, second sizes) while the live room streams signals;
 * 3. the anchor closes the campaign and the last batch is cut;
 * 4. the factory accepts, makes, QCs and ships every batch in lots
 *    (factory-sim.ts); carriers confirm every delivery;
 * 5. the pipeline is left to settle, and everything is read back for the
 *    checks (checks.ts) and the summary (summary.ts).
 *
 * Returns the record of what happened; it throws only when the sale cannot go
 * on at all (the campaign cannot be created, a list cannot be read).
 */
export interface FlashSaleOptions {
  readonly url: string;
  /** Signs the actors' tokens: the runtime's token secret. */
  readonly tokenSecret: string;
  readonly buyers: number;
  /** Requests in flight at once during the burst and the read-backs. */
  readonly concurrency: number;
  readonly seed: number;
  readonly progress?: Progress;
  /** Resolves when the runtime's queues are empty; given when the caller owns the runtime (quicker than polling alone). */
  readonly drain?: () => Promise<void>;
  /** Stop waiting for the pipeline after this long without any change. @default 60000 */
  readonly stallMs?: number;
}

export class FlashSaleError extends Error {}

const factoryId = 'factory-demo';
const capProblem = 'urn:c2m:problem:campaign-cap-reached';
const notCancellable = 'urn:c2m:problem:preorder-not-cancellable';

/** Signal counts one post reports per entry, by type: views are plentiful, shares rare. */
const signalWeights: readonly (readonly [SignalType, number])[] = [
  ['view', 50],
  ['like', 25],
  ['cart', 10],
  ['want', 10],
  ['share', 5],
];
const signalCount: Record<SignalType, [number, number]> = { view: [20, 400], like: [5, 120], cart: [1, 20], want: [1, 30], share: [1, 8] };

export const runFlashSale = async (o: FlashSaleOptions): Promise<FlashSaleRun> => {
  const progress = o.progress ?? silentProgress;
  const stallMs = o.stallMs ?? 60_000;
  const rng = seededRandom(o.seed);
  // Ids unique to this run, so runs against one long-lived runtime never meet each other's keys.
  const tag = randomUUID().slice(0, 8);
  const http = new HttpTally();
  const anchor = clientFor(o.url, o.tokenSecret, { role: 'anchor', id: 'anchor-demo' }, http);
  const factory = clientFor(o.url, o.tokenSecret, { role: 'factory', id: factoryId }, http);
  const liveroom = clientFor(o.url, o.tokenSecret, { role: 'liveroom', id: 'liveroom-demo' }, http);
  const crowd = planCrowd(rng, o.buyers);
  const buyers = crowd.map((p) => clientFor(o.url, o.tokenSecret, { role: 'buyer', id: `fan-${tag}-${p.index}` }, http));

  // Sized from the crowd: sold out a little before everyone is served, several lots, a minimum easily met.
  const cap = Math.max(10, Math.round(o.buyers * expectedUnitsPerBuyer * 0.85));
  const lotSize = Math.min(300, Math.max(10, Math.round(cap / 8 / 10) * 10));
  const minTotalQuantity = Math.round(cap * 0.2);
  const promisedShipDays = 7;

  const run: FlashSaleRun = {
    seed: o.seed,
    buyers: o.buyers,
    campaignId: '',
    factoryId,
    settings: { cap, lotSize, minTotalQuantity, promisedShipDays },
    placements: [],
    cancels: [],
    signals: { posts: 0, reposts: 0, accepted: 0, posted: Object.fromEntries(variants.map((v) => [v.sku, zeroSignals()])) },
    manifests: new Map(),
    shipments: [],
    factory: { lots: 0, lotsResent: 0, lotsResentSame: 0, progressReports: 0, qcFailed: 0, shortUnits: 0 },
    http,
    unexpected: [],
    phases: [],
    stalls: [],
  };
  const phase = async <T>(name: string, fn: () => Promise<T>): Promise<T> => {
    const started = Date.now();
    try {
      return await fn();
    } finally {
      run.phases.push({ name, ms: Date.now() - started });
    }
  };
  /** Who owns each accepted pre-order: reads and cancels go with the buyer's own token. */
  const owner = new Map<string, Client>();
  const read = async (id: string): Promise<Preorder | undefined> => {
    const r = await owner.get(id)!.get<Preorder>(`/v1/preorders/${id}`);
    return expectAnswer(run, `read ${id}`, r, 200) ? r.body : undefined;
  };
  const campaignBatches = async () =>
    (await allPages<Batch>(factory, '/v1/factory/batches')).filter((b) => b.campaignId === run.campaignId);
  const demand = async () => {
    const r = await anchor.get<Demand>(`/v1/campaigns/${run.campaignId}/demand`);
    if (r.status !== 200) throw new FlashSaleError(`GET demand → ${r.status} ${JSON.stringify(r.body).slice(0, 200)}`);
    return r.body;
  };

  // 1. The anchor opens the campaign.
  await phase('open', async () => {
    const bar = progress.bar('open', 1, 'campaign');
    const created = await anchor.post<{ campaignId: string; status: string }>(
      '/v1/campaigns',
      {
        title: 'Embroidered cotton tee: live drop',
        factoryId,
        backupFactoryId: 'factory-backup',
        currency: 'CNY',
        variants: variants.map(({ sku, name, unitPrice }) => ({ sku, name, unitPrice })),
        // Far enough ahead that the anchor, not the clock, closes the sale, however large the crowd.
        closesAt: new Date(Date.now() + Math.max(15 * 60_000, o.buyers * 200)).toISOString(),
        minTotalQuantity,
        lotSize,
        maxTotalQuantity: cap,
        promisedShipDays,
      },
      { idempotencyKey: `flash-sale-${tag}` },
    );
    if (created.status !== 201) throw new FlashSaleError(`POST /v1/campaigns → ${created.status} ${JSON.stringify(created.body).slice(0, 300)}`);
    run.campaignId = created.body.campaignId;
    bar.tick();
    bar.done(`${run.campaignId} · ${variants.length} sizes · cap ${cap} · lot ${lotSize} · min ${minTotalQuantity} · ships in ${promisedShipDays} days`);
  });
  const preordersPath = `/v1/campaigns/${run.campaignId}/preorders`;

  // 2. "3, 2, 1, buy!": the crowd at once, the live room streaming alongside.
  await phase('burst', async () => {
    const bar = progress.bar('burst', o.buyers, 'buyers');
    const started = Date.now();
    const tally = { accepted: 0, soldOut: 0, retries: 0, cancelled: 0 };
    const show = () =>
      bar.info(
        `${fmt(tally.accepted)} accepted · ${fmt(tally.soldOut)} sold out · ${fmt(tally.retries)} retries · ${fmt(tally.cancelled)} cancels · ${fmt(run.signals.accepted)} signals`,
      );
    let over = false;
    const followUps: Promise<void>[] = [];

    const placeOnce = async (client: Client, placement: Placement, body: unknown): Promise<Answered> => {
      let answer: Answered;
      try {
        const r = await client.post<{ preorderId?: string; type?: string }>(preordersPath, body, { idempotencyKey: placement.key });
        answer = r.status === 202 ? { status: 202, preorderId: r.body.preorderId! } : { status: r.status, ...(r.body.type && { problem: r.body.type }) };
        if (r.status !== 202 && !(r.status === 409 && r.body.type === capProblem)) expectAnswer(run, `pre-order ${client.principal.id} ${placement.key}`, r, 202);
      } catch (err) {
        if (!(err instanceof DemoHttpError)) throw err;
        answer = { status: 0 }; // the tally has it as a failure
      }
      placement.answers.push(answer);
      if (placement.answers.length > 1) tally.retries++;
      if (answer.problem === capProblem) {
        run.soldOutAfterMs ??= Date.now() - started;
      }
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
        tally.accepted++;
      } else if (placement.answers.some((a) => a.problem === capProblem)) tally.soldOut++;
      return got;
    };

    const cancelSoon = async (plan: BuyerPlan, preorderId: string, afterMs: number) => {
      await sleep(afterMs);
      let r;
      try {
        r = await buyers[plan.index]!.post<{ type?: string }>(`/v1/preorders/${preorderId}/cancel`);
      } catch (err) {
        if (err instanceof DemoHttpError) return; // no answer: the tally has it as a failure
        throw err;
      }
      run.cancels.push({ preorderId, when: 'before-batching', status: r.status, ...(r.status !== 200 && r.body.type && { problem: r.body.type }) });
      // Too late is a fair answer: the order may already be in a batch.
      if (!(r.status === 409 && r.body.type === notCancellable)) expectAnswer(run, `cancel ${preorderId}`, r, 200);
      if (r.status === 200) tally.cancelled++;
      show();
    };

    const room = streamSignals(liveroom, run, seededRandom(o.seed ^ 0x5eed), tag, () => over, show);
    await inPool(crowd, o.concurrency, async (plan) => {
      const id = await order(plan, 'buy-1', plan.sku, plan.quantity, plan.retry);
      if (id && plan.cancelAfterMs !== undefined) followUps.push(cancelSoon(plan, id, plan.cancelAfterMs));
      if (id && plan.secondSku) await order(plan, 'buy-2', plan.secondSku, 1, 'none');
      bar.tick();
      show();
    });
    await Promise.all(followUps);
    over = true;
    await room;
    show();
    bar.done();
  });

  // 3. The anchor closes the sale; the last batch is cut.
  await phase('close & cut', async () => {
    const closed = await anchor.post<Campaign>(`/v1/campaigns/${run.campaignId}/close`, undefined, { safeToRepeat: true });
    expectAnswer(run, 'close the campaign', closed, 200);
    const bar = progress.bar('cutting', 0, 'units');
    const { value, stalled } = await pollUntil(
      async () => {
        const [d, bs] = await Promise.all([demand(), campaignBatches()]);
        bar.setTotal(d.totals.ordered - d.totals.cancelled);
        bar.set(d.totals.batched);
        bar.info(`${bs.length} batches released · ${fmt(d.totals.waiting)} units waiting`);
        return { d, bs };
      },
      ({ d, bs }) => d.totals.waiting === 0 && bs.reduce((n, b) => n + b.units, 0) === d.totals.batched,
      ({ d, bs }) => `${d.totals.waiting}/${d.totals.batched}/${bs.length}`,
      stallMs,
    );
    if (stalled) run.stalls.push(`cutting: ${value.d.totals.waiting} units still waiting, ${value.bs.length} batches`);
    bar.done(`${value.bs.length} batches · campaign ${closed.body.status}`);
  });

  // 4. The factory pulls its batches and makes them; carriers deliver.
  await phase('factory', async () => {
    const bar = progress.bar('factory', 0, 'units shipped');
    await runFactory({ factory, buyerOf: (id) => owner.get(id), rng, run, bar, stallMs, promisedShipDays }, await campaignBatches());
  });
  await phase('deliveries', async () => {
    const bar = progress.bar('deliveries', run.shipments.length, 'lots');
    await inPool(run.shipments, 8, async (s) => {
      const r = await factory.post(`/v1/factory/shipments/${s.shipmentId}/delivered`, undefined, { safeToRepeat: true });
      if (expectAnswer(run, `delivered ${s.shipmentId}`, r, 200)) s.delivered = true;
      bar.tick();
    });
    bar.done();
  });

  // 5. Every buyer's order comes to rest: delivered or refunded, and told of each step.
  const ids = [...owner.keys()];
  await phase('settle', async () => {
    const bar = progress.bar('settle', ids.length, 'pre-orders');
    if (o.drain) {
      bar.info('draining the runtime\u2019s queues');
      await o.drain().catch((err: Error) => progress.log(`  (queues still busy: ${err.message.slice(0, 200)})`));
    }
    const pending = new Set(ids);
    const isSettled = (p: Preorder) => finalStatuses.has(p.status) && p.notifications.length === p.timeline.length;
    // Each round reads a slice of what is still moving, not all of it: polling thousands of
    // pre-orders twice a second would take the very capacity the pipeline needs to settle them.
    const slice = Math.max(50, o.concurrency * 4);
    const { stalled } = await pollUntil(
      async () => {
        const ps = await inPool([...pending].slice(0, slice), o.concurrency, read);
        for (const p of ps) if (p && isSettled(p)) pending.delete(p.preorderId);
        bar.set(ids.length - pending.size);
        bar.info(`${fmt(pending.size)} still moving`);
        return pending.size;
      },
      (left) => left === 0,
      (left) => String(left),
      stallMs,
      1_000,
    );
    if (stalled) run.stalls.push(`settle: ${pending.size} pre-orders not delivered or refunded, or not told of every step`);
    bar.done('');
  });

  await phase('audit', async () => {
    const bar = progress.bar('read back', ids.length, 'pre-orders');
    const preorders = await inPool(ids, o.concurrency, async (id) => {
      const p = await read(id);
      bar.tick();
      return p;
    });
    const [campaign, finalDemand, batches, trust] = await Promise.all([
      anchor.get<Campaign>(`/v1/campaigns/${run.campaignId}`),
      demand(),
      campaignBatches(),
      anchor.get<Trust>(`/v1/campaigns/${run.campaignId}/trust`),
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
  });
  return run;
};

const fmt = (n: number) => n.toLocaleString('en-US');
const zeroSignals = (): Record<SignalType, number> => ({ view: 0, like: 0, cart: 0, want: 0, share: 0 });

/**
 * The live room posts what its viewers do, a few hundred signals every
 * fraction of a second while the burst lasts; one post in ten is sent again
 * with its Idempotency-Key, as a room's uploader does after a timeout.
 */
const streamSignals = async (liveroom: Client, run: FlashSaleRun, rng: Random, tag: string, over: () => boolean, show: () => void) => {
  for (let n = 1; n === 1 || !over(); n++) {
    const signals = Array.from({ length: rng.int(40, 200) }, () => {
      const type = rng.weighted(signalWeights);
      const [lo, hi] = signalCount[type];
      return {
        campaignId: run.campaignId,
        sku: rng.weighted(variants.map((v) => [v.sku, v.weight] as const)),
        type,
        count: rng.int(lo, hi),
        at: new Date().toISOString(),
      };
    });
    const key = `room-${tag}-${n}`;
    const resend = rng.chance(0.1);
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
      if (!(err instanceof DemoHttpError)) throw err;
    }
    show();
    await sleep(150);
  }
};
