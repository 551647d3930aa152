/**
 * Small helpers the bench modules share: percentiles, number formatting and the
 * figure tables that are printed and written to bench/results.md.
 *
 * Every section reports rows of "figure, value, baseline, ratio" so a reader can
 * compare with the baseline measured in the same run on the same machine: absolute
 * numbers drift with a noisy 2-core box, ratios hold.
 */

/** Nearest-rank percentile (p in 0..100) of unsorted samples; NaN when there are none. */
export const percentile = (samples: readonly number[], p: number): number => {
  if (samples.length === 0) return Number.NaN;
  const sorted = [...samples].sort((a, b) => a - b);
  const rank = Math.min(sorted.length, Math.max(1, Math.ceil((p / 100) * sorted.length)));
  return sorted[rank - 1] as number;
};

export const median = (samples: readonly number[]): number => percentile(samples, 50);

/** Thousands separators, and `digits` decimals below 100 (so 0.5 and 1,234 both read well). */
export const num = (value: number, digits = 1): string => {
  if (!Number.isFinite(value)) return 'n/a';
  const d = Math.abs(value) >= 100 ? 0 : digits;
  return value.toLocaleString('en-US', { minimumFractionDigits: d, maximumFractionDigits: d });
};

export const ratio = (value: number, baseline: number): string =>
  Number.isFinite(value) && Number.isFinite(baseline) && baseline !== 0 ? `${(value / baseline).toFixed(2)}×` : 'n/a';

/** One printed/recorded figure next to its baseline. */
export interface Row {
  readonly figure: string;
  readonly value: string;
  readonly baseline: string;
  readonly ratio: string;
}

export interface Section {
  readonly id: string;
  readonly title: string;
  /** What was run, in one or two sentences (counts, concurrency, how it maps to AWS). */
  readonly setup: string;
  readonly columns?: readonly [string, string, string, string];
  readonly rows: readonly Row[];
  /** Free lines after the table: notes on interpretation, AWS mapping, caveats. */
  readonly notes?: readonly string[];
  /**
   * The section's headline figures as numbers, under stable names, for tools
   * (bench/results.json `figures`): issue 14's table reads them.
   */
  readonly figures?: Readonly<Record<string, unknown>>;
}

const defaultColumns = ['figure', 'value', 'baseline (same run)', 'ratio'] as const;

/** A plain-text table for the terminal. */
export const textTable = (section: Section): string => {
  const header = section.columns ?? defaultColumns;
  const cells = [header as readonly string[], ...section.rows.map((r) => [r.figure, r.value, r.baseline, r.ratio])];
  const widths = header.map((_, i) => Math.max(...cells.map((row) => (row[i] ?? '').length)));
  const line = (row: readonly string[]) => row.map((c, i) => (i === 0 ? c.padEnd(widths[i] ?? 0) : c.padStart(widths[i] ?? 0))).join('  ');
  return [
    `== ${section.title} ==`,
    section.setup,
    '',
    line(header),
    widths.map((w) => '-'.repeat(w)).join('  '),
    ...cells.slice(1).map(line),
    ...(section.notes?.length ? ['', ...section.notes.map((n) => `  * ${n}`)] : []),
    '',
  ].join('\n');
};

/** The same table in Markdown, for bench/results.md. */
export const markdownTable = (section: Section): string => {
  const header = section.columns ?? defaultColumns;
  const esc = (s: string) => s.replace(/\|/g, '\\|');
  return [
    `## ${section.title}`,
    '',
    section.setup,
    '',
    `| ${header.map(esc).join(' | ')} |`,
    `| --- | ${header.slice(1).map(() => '---:').join(' | ')} |`,
    ...section.rows.map((r) => `| ${[r.figure, r.value, r.baseline, r.ratio].map(esc).join(' | ')} |`),
    ...(section.notes?.length ? ['', ...section.notes.map((n) => `- ${n}`)] : []),
    '',
  ].join('\n');
};

/** Progress goes to stderr so stdout carries only the tables. */
export const progress = (message: string): void => {
  process.stderr.write(`[bench ${new Date().toISOString().slice(11, 19)}] ${message}\n`);
};
