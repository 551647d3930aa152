/**
 * The chart's columns from the demand history: time, net ordered units, and the forecast band,
 * for one variant or for all of them added up. Pure: unit-tested in Node.
 */
export interface HistoryPoint {
  readonly at: string;
  readonly ordered: number;
  readonly forecastLow?: number;
  readonly forecastHigh?: number;
}

export interface HistoryVariant {
  readonly sku: string;
  readonly points: readonly HistoryPoint[];
}

export interface ChartColumns {
  /** Unix seconds, ascending. */
  readonly x: number[];
  readonly ordered: number[];
  readonly low: (number | null)[];
  readonly high: (number | null)[];
}

/**
 * `scope` is a sku, or `'*'` for every variant added up (minute by minute; the band only where
 * every variant has one). `opensAt`, when earlier than the first point, starts the line at zero
 * there: nothing was ordered before the sale opened, so a new campaign draws a line at once.
 * `cap`, when the campaign has one, bounds the band: each variant's forecast is bounded by the
 * cap on its own, but all of them together cannot sell more than the cap either.
 */
export const chartColumns = (variants: readonly HistoryVariant[], scope: string, opensAt?: string, cap?: number): ChartColumns => {
  const chosen = scope === '*' ? variants : variants.filter((v) => v.sku === scope);
  const byTime = new Map<number, { ordered: number; low: number | null; high: number | null; seen: number }>();
  for (const v of chosen) {
    for (const p of v.points) {
      const t = Math.floor(Date.parse(p.at) / 1000);
      if (!Number.isFinite(t)) continue;
      const row = byTime.get(t) ?? { ordered: 0, low: 0, high: 0, seen: 0 };
      row.ordered += p.ordered;
      row.low = row.low === null || p.forecastLow === undefined ? null : row.low + p.forecastLow;
      row.high = row.high === null || p.forecastHigh === undefined ? null : row.high + p.forecastHigh;
      row.seen++;
      byTime.set(t, row);
    }
  }
  const opened = opensAt === undefined ? NaN : Math.floor(Date.parse(opensAt) / 1000);
  if (chosen.length > 0 && byTime.size > 0 && opened < Math.min(...byTime.keys())) {
    byTime.set(opened, { ordered: 0, low: null, high: null, seen: chosen.length });
  }
  const times = [...byTime.keys()].sort((a, b) => a - b);
  const rows = times.map((t) => byTime.get(t)!);
  // A minute some variant did not report has no complete band.
  const complete = (r: { seen: number }) => r.seen === chosen.length;
  const capped = (v: number | null) => (v === null || cap === undefined ? v : Math.min(v, cap));
  return {
    x: times,
    ordered: rows.map((r) => r.ordered),
    low: rows.map((r) => (complete(r) ? capped(r.low) : null)),
    high: rows.map((r) => (complete(r) ? capped(r.high) : null)),
  };
};

/** The top of the y axis: room above the highest of what is drawn, never a flat zero-height chart. */
export const chartTop = (c: ChartColumns, cap: number | undefined): number => {
  let top = cap ?? 0;
  for (const v of c.ordered) top = Math.max(top, v);
  for (const v of c.high) if (v !== null) top = Math.max(top, v);
  return Math.max(10, Math.ceil((top * 11) / 10));
};
