/**
 * Forecast of a campaign variant's final net ordered quantity: pure, no I/O.
 * The factory books material and capacity on it before batches arrive, so it
 * must never go below what is already ordered, never above what the cap still
 * allows, and must say how unsure it is. The method, its constants and its
 * measured error are in docs/forecast.md.
 */

export interface OrderSnapshot {
  readonly at: string | Date;
  /** Net units ordered (ordered minus cancelled) at `at`. */
  readonly ordered: number;
}

export interface SignalCounts {
  readonly view: number;
  readonly like: number;
  readonly cart: number;
  readonly want: number;
  readonly share: number;
}

export interface SignalMinute extends SignalCounts {
  /** Start of the minute the counts belong to. */
  readonly at: string | Date;
}

export interface ForecastInput {
  readonly now: string | Date;
  readonly opensAt: string | Date;
  readonly closesAt: string | Date;
  /** Net units ordered so far (ordered minus cancelled). */
  readonly orderedNow: number;
  /** Net ordered snapshots, about one per minute over the last hour at most; may be empty or sparse. */
  readonly history: readonly OrderSnapshot[];
  readonly signals: {
    /** Per-minute counts over the last hour at most; may be empty or sparse. */
    readonly recent: readonly SignalMinute[];
    /** Counts since the campaign opened. */
    readonly totals: SignalCounts;
  };
  /** Units the cap still lets this variant take; undefined when the campaign is uncapped. */
  readonly capRemaining?: number;
}

export interface Forecast {
  /** Integer units; >= orderedNow, and <= orderedNow + capRemaining when capped. */
  readonly final: number;
  /** A plausible band around `final` (about four campaigns in five on synthetic data, see docs/forecast.md). */
  readonly low: number;
  readonly high: number;
  /** Short label of the path taken, for dashboards and logs. */
  readonly method: string;
}

/**
 * Every constant of the method. Each value and why it was chosen is in
 * docs/forecast.md; they are grouped here so the doc and the code can be checked
 * against one list.
 */
export const forecastParameters = {
  /** Minutes over which the "current" order rate is measured. */
  shortWindowMinutes: 10,
  /** Minutes over which the "last hour" order rate is measured (the history holds at most an hour). */
  hourWindowMinutes: 60,
  /** Decay time constant of a live-room burst, in minutes. */
  burstDecayMinutes: 20,
  /** Minutes by which add-to-cart and want signals lead orders. */
  leadMinutes: 5,
  /** Prior orders per add-to-cart, and per want, before the campaign has shown its own ratio. */
  priorOrdersPerCart: 0.5,
  priorOrdersPerWant: 0.4,
  /** Weight of the prior ratios, in pseudo-counts of carts or wants. */
  priorWeight: 20,
  /** Campaign total of carts (or wants) below which that signal is ignored. */
  minSignalTotal: 20,
  /** Weights of the order rate, the cart-led rate and the want-led rate in the current rate. */
  weightOrders: 0.5,
  weightCarts: 0.35,
  weightWants: 0.15,
  /** Shortest recent window worth measuring a rate over, in minutes. */
  minWindowMinutes: 4,
  /** Dispersion (chi-square, 3 degrees of freedom) of the four quarter-hour counts below which the hour is steady: 95 %. */
  steadyDispersion: 7.8,
  /** Minutes of history before the campaign average can be told apart from the current burst. */
  matureMinutes: 90,
  /** Band: multiplicative spread of the expected future units, and its growth with the share of time left. */
  bandSpreadBase: 0.15,
  bandSpreadPerRemaining: 0.5,
  /** Band: standard normal quantile for the Poisson part (80 % two-sided). */
  bandZ: 1.28,
  /** Band: share of the run-rate projection (campaign average rate over the time left) the high end always covers. */
  runRateWeight: 1,
} as const;

export type ForecastParameters = { readonly [K in keyof typeof forecastParameters]: number };

const minuteMs = 60_000;

const parseMs = (value: string | Date): number => (value instanceof Date ? value.getTime() : Date.parse(value));

// The three campaign times are the caller's contract (the handler validated them);
// a bad one is a bug to surface, not a guess to make.
const toMs = (value: string | Date, field: string): number => {
  const ms = parseMs(value);
  if (!Number.isFinite(ms)) throw new RangeError(`forecast: ${field} is not a valid time`);
  return ms;
};

const nonNegative = (x: number): number => (Number.isFinite(x) && x > 0 ? x : 0);

interface Point {
  readonly t: number; // minutes since opensAt
  readonly ordered: number;
}

/** Net ordered at `t`, interpolated linearly between the snapshots around it. */
const orderedAt = (points: readonly Point[], t: number): number => {
  let before: Point | undefined;
  for (const p of points) {
    if (p.t <= t) before = p;
    else {
      if (before === undefined) return p.ordered;
      return before.ordered + ((p.ordered - before.ordered) * (t - before.t)) / (p.t - before.t);
    }
  }
  return before?.ordered ?? 0;
};

interface RecentOrders {
  /** Units per minute over the whole recent window. */
  readonly window: number;
  /** Units per minute over the last few minutes. */
  readonly short: number;
  /** Units per minute in the quietest quarter of the window. */
  readonly quietest: number;
  /** Whether the four quarters look like one Poisson rate (no burst inside the window). */
  readonly steady: boolean;
}

const recentOrders = (points: readonly Point[], nowT: number, p: ForecastParameters): RecentOrders | undefined => {
  // A sparse history shortens the window rather than reaching back past it, so an
  // old point cannot pass the campaign average off as a recent rate.
  const first = points.find((q) => q.t >= nowT - p.hourWindowMinutes - 1);
  if (first === undefined) return undefined;
  const t0 = first.t;
  const span = nowT - t0;
  if (span < p.minWindowMinutes) return undefined;
  const quarter = span / 4;
  const counts = [0, 1, 2, 3].map((i) => Math.max(0, orderedAt(points, t0 + (i + 1) * quarter) - orderedAt(points, t0 + i * quarter)));
  const mean = counts.reduce((a, b) => a + b, 0) / 4;
  const dispersion = mean > 0 ? counts.reduce((a, c) => a + (c - mean) ** 2, 0) / mean : 0;
  const shortSpan = Math.min(p.shortWindowMinutes, span);
  return {
    window: nonNegative((orderedAt(points, nowT) - orderedAt(points, t0)) / span),
    short: nonNegative((orderedAt(points, nowT) - orderedAt(points, nowT - shortSpan)) / shortSpan),
    quietest: Math.min(...counts) / quarter,
    steady: dispersion <= p.steadyDispersion,
  };
};

/**
 * Carts and wants per minute over the last `minutes` minutes, or undefined when
 * the feed has nothing that recent. Only the minutes present count, so a feed
 * that lags or drops a minute does not read as a fall in interest.
 */
const recentSignals = (
  recent: readonly SignalMinute[],
  opensAtMs: number,
  nowT: number,
  minutes: number,
): { readonly cart: number; readonly want: number } | undefined => {
  let cart = 0;
  let want = 0;
  const seen = new Set<number>();
  const start = Math.max(0, nowT - minutes);
  for (const s of recent) {
    const t = (parseMs(s.at) - opensAtMs) / minuteMs;
    // a row without a usable time is dropped like a missing minute
    if (!Number.isFinite(t) || t < start || t >= nowT) continue;
    seen.add(Math.floor(t));
    cart += nonNegative(s.cart);
    want += nonNegative(s.want);
  }
  return seen.size > 0 ? { cart: cart / seen.size, want: want / seen.size } : undefined;
};

/** The forecast with other constants, for calibration runs; everything else calls `forecastFinal`. */
export const forecastFinalWith = (input: ForecastInput, p: ForecastParameters): Forecast => {
  const nowMs = toMs(input.now, 'now');
  const opensAtMs = toMs(input.opensAt, 'opensAt');
  const closesAtMs = toMs(input.closesAt, 'closesAt');
  if (!Number.isFinite(input.orderedNow)) throw new RangeError('forecast: orderedNow is not a number');
  const ordered = Math.max(0, Math.ceil(input.orderedNow));
  const capRoom = input.capRemaining === undefined ? Number.POSITIVE_INFINITY : Math.max(0, Math.floor(nonNegative(input.capRemaining)));
  const exact = (method: string): Forecast => ({ final: ordered, low: ordered, high: ordered, method });

  if (nowMs >= closesAtMs) return exact('closed');
  if (closesAtMs <= opensAtMs) throw new RangeError('forecast: closesAt is not after opensAt');
  if (capRoom === 0) return exact('sold-out');

  const nowT = Math.max(0, (nowMs - opensAtMs) / minuteMs);
  const remaining = (closesAtMs - Math.max(nowMs, opensAtMs)) / minuteMs;
  const duration = Math.max(remaining, (closesAtMs - opensAtMs) / minuteMs);

  const points: Point[] = [{ t: 0, ordered: 0 }];
  for (const s of input.history) {
    const t = (parseMs(s.at) - opensAtMs) / minuteMs;
    if (Number.isFinite(t) && t > 0 && t < nowT && Number.isFinite(s.ordered)) points.push({ t, ordered: Math.max(0, s.ordered) });
  }
  points.sort((a, b) => a.t - b.t);
  points.push({ t: nowT, ordered });

  const recent = recentOrders(points, nowT, p);
  const rAvg = nowT >= 1 ? ordered / nowT : undefined;

  const sig = recentSignals(input.signals.recent, opensAtMs, nowT, p.leadMinutes);
  const totals = input.signals.totals;
  // The campaign's own orders-per-cart ratio, pulled toward a prior while it has few carts.
  const perCart = (ordered + p.priorOrdersPerCart * p.priorWeight) / (nonNegative(totals.cart) + p.priorWeight);
  const perWant = (ordered + p.priorOrdersPerWant * p.priorWeight) / (nonNegative(totals.want) + p.priorWeight);

  const orderRate = recent?.short ?? rAvg;
  const parts: [number, number][] = [];
  if (orderRate !== undefined) parts.push([p.weightOrders, orderRate]);
  // A signal the campaign has hardly produced (a buy-now flow without carts, a room
  // without want votes) says nothing, rather than "interest is zero".
  if (sig !== undefined && nonNegative(totals.cart) >= p.minSignalTotal) parts.push([p.weightCarts, perCart * sig.cart]);
  if (sig !== undefined && nonNegative(totals.want) >= p.minSignalTotal) parts.push([p.weightWants, perWant * sig.want]);
  const weight = parts.reduce((a, [w]) => a + w, 0);
  if (weight === 0) {
    // Nothing to extrapolate from: the band says so when a cap gives it an edge.
    const high = capRoom === Number.POSITIVE_INFINITY ? ordered : ordered + capRoom;
    return { ...exact(nowMs < opensAtMs ? 'not-open' : 'no-evidence'), high };
  }
  const current = parts.reduce((a, [w, r]) => a + w * r, 0) / weight;

  // Once the campaign has run long enough for its average to mean something, the
  // rate between bursts (the baseline) is assumed to last until close, and whatever
  // the current rate has above it fades like a burst. A younger campaign cannot tell
  // a trickle from a session that is about to end, and over-booking is the costlier
  // mistake for a make-to-order factory, so all of its current rate fades.
  let baseline = 0;
  if (nowT >= p.matureMinutes && recent !== undefined) {
    // Never above the campaign average: a rate above it is a burst, and bursts end.
    baseline = Math.min(recent.steady ? recent.window : recent.quietest, rAvg ?? 0);
  }
  const excess = Math.max(0, current - baseline);
  const tau = p.burstDecayMinutes;
  const future = baseline * remaining + excess * tau * (1 - Math.exp(-remaining / tau));

  const spread = 1 + p.bandSpreadBase + p.bandSpreadPerRemaining * (remaining / duration);
  const poisson = p.bandZ * Math.sqrt(future);
  const lowFuture = Math.max(0, future / spread - poisson);
  // The high end also allows for the rest of the campaign selling as fast as it has so far,
  // which is what another live session would do.
  const highFuture = Math.max(future * spread + poisson + 1, p.runRateWeight * (rAvg ?? 0) * remaining);
  const clamp = (x: number): number => Math.min(ordered + capRoom, Math.max(ordered, x));
  const final = clamp(Math.round(ordered + future));
  const method = (baseline > 0 ? 'burst-decay+baseline' : 'burst-decay') + (future >= capRoom ? '+cap' : '');
  return {
    final,
    low: Math.min(final, clamp(Math.floor(ordered + lowFuture))),
    high: Math.max(final, clamp(Math.ceil(ordered + highFuture))),
    method,
  };
};

/**
 * The final net quantity a campaign variant is heading for, with a band. Labels in
 * `method`: `closed`, `sold-out`, `not-open`, `no-evidence`, `burst-decay` (young
 * campaign: the current rate fades), `burst-decay+baseline` (a rate between
 * bursts lasts until close), either of the last two suffixed `+cap` when the cap
 * bound the forecast.
 */
export const forecastFinal = (input: ForecastInput): Forecast => forecastFinalWith(input, forecastParameters);
