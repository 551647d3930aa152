import { performance } from 'node:perf_hooks';
import { sleep } from './support/api-client.ts';

/** How the demo paces its actors: so many requests in flight, and waits that end when the pipeline stops moving. */

/** Runs `fn` over `items` with at most `concurrency` in flight; results in input order. */
export const inPool = async <T, R>(items: readonly T[], concurrency: number, fn: (item: T, index: number) => Promise<R>): Promise<R[]> => {
  const results = new Array<R>(items.length);
  let next = 0;
  await Promise.all(
    Array.from({ length: Math.max(1, Math.min(concurrency, items.length)) }, async () => {
      while (next < items.length) {
        const i = next++;
        results[i] = await fn(items[i] as T, i);
      }
    }),
  );
  return results;
};

/**
 * Polls until `done`, or until what `fingerprint` sees has not changed for
 * `stallMs`: an asynchronous pipeline that is still moving gets all the time it
 * needs, one that has stopped is reported instead of waited on forever.
 * Measured on the monotonic clock: the demo may move the calendar by days.
 */
export const pollUntil = async <T>(
  probe: () => Promise<T>,
  done: (t: T) => boolean,
  fingerprint: (t: T) => string,
  stallMs: number,
  intervalMs = 400,
): Promise<{ value: T; stalled: boolean }> => {
  let last = '';
  let changedAt = performance.now();
  for (;;) {
    const value = await probe();
    if (done(value)) return { value, stalled: false };
    const print = fingerprint(value);
    if (print !== last) {
      last = print;
      changedAt = performance.now();
    } else if (performance.now() - changedAt > stallMs) return { value, stalled: true };
    await sleep(intervalMs);
  }
};
