import { histogramEntries } from './fulfillment.ts';

/**
 * Trust figures that are kept as histograms rather than lists: the time from a
 * refund decision to its event on the bus. Each sample is one ADD to a counter
 * of its log2 bucket of seconds, so writers never conflict and an item stays a
 * few dozen attributes whatever the volume; the price is that a percentile is
 * known only to within a factor of two, and is reported as its bucket's upper
 * bound (an answer that never flatters).
 */

/**
 * The log2 bucket of a latency in seconds: bucket 0 holds up to 1 s, bucket k
 * (k ≥ 1) holds more than 2^(k-1) and up to 2^k seconds. A negative latency
 * (clocks of two hosts) counts as none.
 */
export const latencyBucket = (seconds: number): number => (Number.isFinite(seconds) && seconds > 1 ? Math.ceil(Math.log2(seconds)) : 0);

/** The upper bound, in seconds, of a latency bucket. */
export const bucketUpperSeconds = (bucket: number): number => 2 ** bucket;

/**
 * The nearest-rank percentile (0 < q ≤ 1) of a log2 histogram { bucket: count },
 * as the upper bound in seconds of the bucket it falls in; undefined when empty.
 */
export const percentileOf = (histogram: Readonly<Record<string, number>>, q: number): number | undefined => {
  const { entries, total } = histogramEntries(histogram);
  if (total === 0) return undefined;
  const rank = Math.max(1, Math.ceil(q * total));
  let seen = 0;
  for (const [bucket, n] of entries) {
    seen += n;
    if (seen >= rank) return bucketUpperSeconds(bucket);
  }
  return undefined;
};

/** p50 and p95 of a refund-latency histogram, with how many refunds it holds; undefined until one was published. */
export const latencyFigures = (histogram: Readonly<Record<string, number>>): { p50Seconds: number; p95Seconds: number; count: number } | undefined => {
  const count = Object.values(histogram).reduce((s, n) => s + Math.max(0, n), 0);
  const p50 = percentileOf(histogram, 0.5);
  const p95 = percentileOf(histogram, 0.95);
  return count > 0 && p50 !== undefined && p95 !== undefined ? { p50Seconds: p50, p95Seconds: p95, count } : undefined;
};
