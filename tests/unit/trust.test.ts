import { describe, expect, it } from 'vitest';
import fc from 'fast-check';
import { bucketUpperSeconds, latencyBucket, latencyFigures, percentileOf } from '../../functions/domain/trust.ts';

describe('Refund latency kept as a log2 histogram of seconds', () => {
  it('puts a latency in the bucket whose upper bound is the next power of two (a second or less in bucket 0)', () => {
    expect([0, 0.2, 1, 1.5, 2, 3, 4, 5, 60, 61, 3600].map(latencyBucket)).toEqual([0, 0, 0, 1, 1, 2, 2, 3, 6, 6, 12]);
    // Clocks of two hosts can disagree: a negative or unreadable latency is none.
    expect([-5, Number.NaN].map(latencyBucket)).toEqual([0, 0]);
  });

  it('reports a percentile as its bucket upper bound: never below the true value, and at most twice it above a second', () => {
    fc.assert(
      fc.property(fc.double({ min: 1.000001, max: 1e7, noNaN: true }), (seconds) => {
        const upper = bucketUpperSeconds(latencyBucket(seconds));
        expect(upper).toBeGreaterThanOrEqual(seconds);
        expect(upper).toBeLessThan(2 * seconds);
      }),
    );
  });

  it('takes p50 and p95 by nearest rank over the buckets, in seconds', () => {
    // 10 refunds out within a second, 8 within 64 s, 2 within 1024 s.
    const histogram = { '0': 10, '6': 8, '10': 2 };
    expect(percentileOf(histogram, 0.5)).toBe(1);
    expect(percentileOf(histogram, 0.51)).toBe(64);
    expect(percentileOf(histogram, 0.9)).toBe(64);
    expect(percentileOf(histogram, 0.95)).toBe(1024);
    expect(latencyFigures(histogram)).toEqual({ p50Seconds: 1, p95Seconds: 1024, count: 20 });
  });

  it('answers for a single refund with its own bucket, and is absent when nothing was measured', () => {
    expect(latencyFigures({ '9': 1 })).toEqual({ p50Seconds: 512, p95Seconds: 512, count: 1 });
    expect(latencyFigures({})).toBeUndefined();
    expect(latencyFigures({ '3': 0 })).toBeUndefined();
  });

  it('never reports p50 above p95, nor either outside the buckets it holds', () => {
    fc.assert(
      fc.property(fc.dictionary(fc.integer({ min: 0, max: 30 }).map(String), fc.integer({ min: 0, max: 1000 })), (histogram) => {
        const figures = latencyFigures(histogram);
        const filled = Object.entries(histogram).filter(([, n]) => n > 0).map(([k]) => bucketUpperSeconds(Number(k)));
        if (filled.length === 0) {
          expect(figures).toBeUndefined();
          return;
        }
        expect(figures!.p50Seconds).toBeLessThanOrEqual(figures!.p95Seconds);
        expect(filled).toContain(figures!.p50Seconds);
        expect(filled).toContain(figures!.p95Seconds);
        expect(figures!.count).toBe(Object.values(histogram).reduce((s, n) => s + n, 0));
      }),
    );
  });
});
