import { C2mApiError, createC2mClient, type Batch, type C2mClient } from '@c2m/factory-client';
import type { ActorClient, HttpTally, TokenSource } from './support/api-client.ts';
import { inPool, pollUntil } from './pacing.ts';
import type { Bar } from './progress.ts';
import { seededRandom, type Random } from './random.ts';
import { expectAnswer, type FactoryLedger, type FlashSaleRun } from './record.ts';
import type { ManifestEntry, Preorder } from './views.ts';

/**
 * The campaign's factory, as its integration would drive the factory API, through
 * the typed factory client (clients/typescript): it reads each batch's manifest, accepts it with a ship date, makes it in two or
 * three lots (reporting production, QC failures and remakes per sku as it
 * goes), and ships each lot under its own Idempotency-Key. For the story's
 * sake one batch is accepted later than the buyers were promised (they get a
 * delay notice and some cancel), and, when there are enough batches, the last
 * one is closed short (part of its last run is never made; those units are
 * refunded to the youngest pre-orders of that size). When the demo can move
 * the clock, the delayed batch is held after its acceptance and made and
 * shipped only once its buyers' original promise has passed: a late lot,
 * which earns them compensation.
 */
export interface FactoryWorld {
  readonly factory: C2mClient;
  /** The client of the buyer who owns a pre-order (for cancels after a delay notice). */
  readonly buyerOf: (preorderId: string) => ActorClient | undefined;
  readonly rng: Random;
  /** Where this sale's factory work is written: the flash sale's run, or the deposit sale's own ledger. */
  readonly run: FactoryLedger;
  readonly bar: Bar;
  readonly stallMs: number;
  readonly promisedShipDays: number;
}

const carriers = ['SF Express', 'JD Logistics', 'ZTO Express', 'YTO Express'];
const dayIn = (days: number) => new Date(Date.now() + days * 86_400_000).toISOString().slice(0, 10);

/** A line's quantity cut into `lots` portions of uneven size (a factory's runs are never equal). */
const splitLots = (quantity: number, lots: number, rng: Random): number[] => {
  const weights = Array.from({ length: lots }, () => 0.6 + rng.next());
  const sum = weights.reduce((a, b) => a + b, 0);
  let left = quantity;
  return weights.map((w, i) => {
    if (i === lots - 1) return left;
    const portion = Math.min(left, Math.round((quantity * w) / sum));
    left -= portion;
    return portion;
  });
};

/** Units failing QC in a run of n, each with probability p. */
const failures = (n: number, p: number, rng: Random) => {
  let f = 0;
  for (let i = 0; i < n; i++) if (rng.chance(p)) f++;
  return f;
};

/**
 * The factory's client: its tokens from the demo's token source (the runtime's issuer, as
 * `npm run token` asks it), its tries counted with every other actor's, and 429s waited out
 * per Retry-After by the client itself.
 */
export const factoryClient = (baseUrl: string, tokens: TokenSource, factoryId: string, tally: HttpTally): C2mClient =>
  createC2mClient({
    baseUrl,
    token: () => tokens({ role: 'factory', id: factoryId }),
    retry: { maxAttempts: 10 },
    fetch: async (request) => {
      tally.requests++;
      const res = await fetch(request);
      if (res.status >= 500 && res.status !== 503) {
        tally.failures.push(`${request.method} ${new URL(request.url).pathname} → ${res.status} ${(await res.clone().text()).slice(0, 200)}`);
      }
      return res;
    },
    onRetry: ({ reason }) => {
      if (reason === 'no-answer') tally.resent++;
      else if (reason !== 'unauthorized') tally.throttled++;
    },
  });

/**
 * The answer of one factory call, or undefined when the API refused it: the refusal is
 * written down as unexpected (with what was asked), as expectAnswer does for the other actors.
 */
export const answered = async <T>(run: Pick<FlashSaleRun, 'unexpected'>, what: string, call: () => Promise<T>): Promise<T | undefined> => {
  try {
    return await call();
  } catch (err) {
    if (!(err instanceof C2mApiError)) throw err;
    run.unexpected.push(`${what} → ${err.status} ${JSON.stringify(err.problem ?? err.body ?? {}).slice(0, 300)}`);
    return undefined;
  }
};

export interface FactoryRun {
  /** Picks the batch accepted later than promised and the one closed short (the first pass over the sale's batches). */
  readonly roles: boolean;
  /**
   * Holds the delayed batch after its acceptance and its buyers' cancels: it is made and shipped only when the
   * caller calls `shipHeld` (after moving the clock past the original promise, so its lots are late).
   */
  readonly holdDelayed: boolean;
}

export interface FactoryOutcome {
  /** Makes and ships the held batch, if one was held: its lots count on `bar`. */
  readonly shipHeld?: (bar: Bar) => Promise<void>;
  readonly heldBatchId?: string;
}

export const runFactory = async (w: FactoryWorld, batches: readonly Batch[], opts: FactoryRun = { roles: true, holdDelayed: false }): Promise<FactoryOutcome> => {
  const { run } = w;
  const ordered = [...batches].sort((a, b) => a.releasedAt.localeCompare(b.releasedAt) || a.batchId.localeCompare(b.batchId));
  const n = ordered.length;
  if (opts.roles) run.factory.delayedBatchId = ordered[n >= 2 ? 1 : 0]?.batchId;
  // The short batch: the biggest one that is not the delayed one (the last cut can be a handful of
  // units, too few for a run to fall short), the oldest among equals.
  const short =
    opts.roles && n >= 3
      ? ordered
          .filter((b) => b.batchId !== run.factory.delayedBatchId)
          .reduce<Batch | undefined>((best, b) => (best === undefined || b.units > best.units ? b : best), undefined)?.batchId
      : undefined;
  if (short) run.factory.shortBatchId = short;
  const held = opts.holdDelayed ? ordered.find((b) => b.batchId === run.factory.delayedBatchId)?.batchId : undefined;
  let total = ordered.filter((b) => b.batchId !== held).reduce((s, b) => s + b.units, 0);
  w.bar.setTotal(total);
  let accepted = 0;
  let heldMake: ((bar: Bar) => Promise<void>) | undefined;
  // This pass's own figures (a later pass makes the switchers' batch).
  const lotsBefore = run.factory.lots;
  const failedBefore = run.factory.qcFailed;
  const status = () =>
    `${accepted}/${n} batches accepted · ${run.factory.lots - lotsBefore} lots · ${run.factory.qcFailed - failedBefore} failed QC, remade` +
    (heldMake ? ' · the delayed batch waits (it will ship late)' : '');

  // Decisions drawn in batch order before any work starts, so the seed decides them, not the timing.
  const plans = ordered.map((b) => ({ batch: b, lots: w.rng.int(2, 3), rng: w.rng.int(0, 2 ** 31) }));

  await inPool(plans, 3, async ({ batch, lots, rng: seed }) => {
    // A generator of its own per batch: batches worked in parallel draw the same numbers whatever their order.
    const rng = seededRandom(seed);
    const manifest = await w.factory.factory.manifest(batch.batchId, { limit: 200 }).all();
    run.manifests.set(batch.batchId, manifest);

    const delayed = batch.batchId === run.factory.delayedBatchId;
    const committedShipDate = dayIn(delayed ? w.promisedShipDays + 5 : 2);
    const acc = await answered(run, `accept ${batch.batchId}`, () => w.factory.factory.accept(batch.batchId, { committedShipDate }));
    if (!acc) return;
    accepted++;
    w.bar.info(status());

    const cancelled = delayed ? await cancelsAfterDelay(w, manifest, rng) : 0;
    const make = (bar: Bar, onShort: (units: number) => void) => makeAndShip(w, bar, batch, lots, rng, batch.batchId === short, onShort);
    if (batch.batchId === held) {
      heldMake = (bar) => make(bar, () => undefined);
      w.bar.info(status());
      return;
    }
    total -= cancelled;
    w.bar.setTotal(total);
    await make(w.bar, (units) => {
      total -= units;
      w.bar.setTotal(total);
    });
    w.bar.info(status());
  });
  w.bar.done(status());
  return heldMake && held ? { shipHeld: (bar) => heldMake!(bar), heldBatchId: held } : {};
};

/**
 * One batch made and shipped: its lots planned on what it holds now (after any cancels), three cumulative
 * progress reports per run (made, QC'd with a few failures, failures remade), each lot shipped under its own
 * Idempotency-Key; the short batch loses part of its last run and is closed short.
 */
const makeAndShip = async (w: FactoryWorld, bar: Bar, batch: Batch, lots: number, rng: Random, isShort: boolean, onShort: (units: number) => void) => {
  const { run } = w;
  const api = w.factory.factory;
  const now = await answered(run, `read ${batch.batchId}`, () => api.batch(batch.batchId));
  if (!now) return;
  if (bar !== w.bar) bar.setTotal(now.units);
  const lines = now.lines.map((l) => ({ sku: l.sku, portions: splitLots(l.quantity, lots, rng), passed: 0, failed: 0 }));
  // The short batch: the dye for one size runs out during the last run, so part of that lot is never made.
  let shortfall = 0;
  if (isShort) {
    const line = [...lines].reverse().find((l) => (l.portions[lots - 1] ?? 0) >= 2);
    if (line) {
      const portion = line.portions[lots - 1]!;
      line.portions[lots - 1] = Math.floor(portion * 0.4);
      shortfall = portion - line.portions[lots - 1]!;
    }
  }

  for (let k = 0; k < lots; k++) {
    for (const line of lines) {
      const portion = line.portions[k] ?? 0;
      if (portion === 0) continue;
      // Made, then QC'd (a few fail), then the failures remade and passed: three cumulative reports.
      const f = Math.min(portion, failures(portion, 0.03, rng));
      const made = line.passed + line.failed + portion;
      const reports = [
        { sku: line.sku, produced: made, qcPassed: line.passed, qcFailed: line.failed },
        { sku: line.sku, produced: made, qcPassed: line.passed + portion - f, qcFailed: line.failed + f },
        ...(f > 0 ? [{ sku: line.sku, produced: made + f, qcPassed: line.passed + portion, qcFailed: line.failed + f }] : []),
      ];
      for (const report of reports) {
        const r = await answered(run, `progress ${batch.batchId} ${JSON.stringify(report)}`, () => api.progress(batch.batchId, report));
        run.factory.progressReports++;
        if (!r) return;
      }
      line.passed += portion;
      line.failed += f;
      run.factory.qcFailed += f;
    }
    const items = lines.map((l) => ({ sku: l.sku, quantity: l.portions[k] ?? 0 })).filter((i) => i.quantity > 0);
    if (items.length === 0) continue;
    const body = { carrier: rng.pick(carriers), trackingNumber: `T${rng.int(10_000_000, 99_999_999)}${k}${batch.batchId.slice(-6)}`, items };
    const key = `${batch.batchId}:lot-${k + 1}`;
    const shipped = await answered(run, `ship ${key}`, () => api.ship(batch.batchId, body, { idempotencyKey: key }));
    if (!shipped) return;
    run.factory.lots++;
    run.shipments.push({ shipmentId: shipped.shipmentId, batchId: batch.batchId, units: shipped.units, delivered: false });
    // The factory's first lot is sent twice, as a client that timed out would: it must ship once.
    if (run.factory.lotsResent === 0) {
      run.factory.lotsResent++;
      const again = await answered(run, `ship ${key} again`, () => api.ship(batch.batchId, body, { idempotencyKey: key }));
      if (again?.shipmentId === shipped.shipmentId) run.factory.lotsResentSame++;
    }
    bar.tick(shipped.units);
  }

  if (isShort && shortfall > 0) {
    const closed = await answered(run, `close-short ${batch.batchId}`, () => api.closeShort(batch.batchId, { reason: 'The dye lot ran out during the last run' }));
    if (closed) {
      run.factory.shortUnits = shortfall;
      onShort(shortfall);
    }
  }
};

/**
 * The delayed batch's buyers hear of the delay; about one in seven takes the
 * offered full refund before anything ships. Returns the units cancelled.
 */
const cancelsAfterDelay = async (w: FactoryWorld, manifest: readonly ManifestEntry[], rng: Random): Promise<number> => {
  const sorted = [...manifest].sort((a, b) => a.preorderId.localeCompare(b.preorderId));
  const chosen = sorted.filter(() => rng.chance(0.15));
  if (chosen.length === 0 && sorted[0]) chosen.push(sorted[0]);
  const read = (id: string) => w.buyerOf(id)!.get<Preorder>(`/v1/preorders/${id}`).then((r) => r.body);
  const { stalled } = await pollUntil(
    () => inPool(chosen, 16, (e) => read(e.preorderId)),
    (ps) => ps.every((p) => p.delayedTo !== undefined),
    (ps) => String(ps.filter((p) => p.delayedTo !== undefined).length),
    w.stallMs,
  );
  if (stalled) w.run.stalls.push('delay notices for the delayed batch');
  let units = 0;
  await inPool(chosen, 16, async (e) => {
    const r = await w.buyerOf(e.preorderId)!.post<{ type?: string }>(`/v1/preorders/${e.preorderId}/cancel`);
    w.run.cancels.push({ preorderId: e.preorderId, when: 'after-delay', status: r.status, ...(r.status !== 200 && { problem: r.body.type }) });
    if (expectAnswer(w.run, `cancel after delay ${e.preorderId}`, r, 200)) units += e.quantity;
  });
  return units;
};
