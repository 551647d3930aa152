import { performance } from 'node:perf_hooks';
import type { Principal } from '../../functions/shared/principal.ts';

/**
 * The demo's actors talk to c2m the way an integrator would: HTTP, a bearer
 * token, and the retry discipline the contract asks for. A 429 or 503 is
 * retried after its Retry-After (with jitter and a growing floor, so a crowd
 * does not come back in lockstep). A request that never got an answer is
 * retried only when repeating it cannot do anything twice: a GET, a POST with
 * an Idempotency-Key, or one the caller marks safe (accept, progress,
 * close-short and delivered answer a repeat as the first time).
 */
export interface Answer<T> {
  readonly status: number;
  readonly body: T;
  readonly headers: Headers;
}

/** Problem bodies (RFC 9457) name their kind in `type`, e.g. urn:c2m:problem:campaign-cap-reached. */
export type Problem = { type?: string; title?: string; status?: number; detail?: string };

/** What the HTTP layer saw across every actor: throttling, failures, and anything that should never happen. */
export class HttpTally {
  requests = 0;
  /** 429 and 503 answers that were waited out and retried. */
  throttled = 0;
  /** Requests that got no answer (timeout, reset) and were sent again. */
  resent = 0;
  /** 5xx answers other than 503, and requests that never got an answer in the end. */
  readonly failures: string[] = [];
}

export class DemoHttpError extends Error {}

export interface CallOptions {
  readonly idempotencyKey?: string;
  /** Repeating this POST is harmless (the API answers a repeat as the first time). */
  readonly safeToRepeat?: boolean;
}

const maxAttempts = 10;
const timeoutMs = 30_000;

export const sleep = (ms: number) => new Promise<void>((r) => setTimeout(r, ms));

export type Client = ReturnType<typeof clientFor>;

/**
 * Where an actor's access token comes from: the local issuer, as `npm run token`
 * asks it. Asked before every request: the source caches and renews (tokens last
 * an hour, and the demo moves the clock by days).
 */
export type TokenSource = (principal: Principal) => Promise<string>;

/** A client for one principal, its token from `tokens`. */
export const clientFor = (baseUrl: string, tokens: TokenSource, principal: Principal, tally: HttpTally) => {
  const call = async <T>(method: 'GET' | 'POST', path: string, body?: unknown, opts: CallOptions = {}): Promise<Answer<T>> => {
    const repeatable = method === 'GET' || opts.idempotencyKey !== undefined || opts.safeToRepeat === true;
    for (let attempt = 1; ; attempt++) {
      tally.requests++;
      let res: Response;
      try {
        res = await fetch(`${baseUrl}${path}`, {
          method,
          headers: {
            authorization: `Bearer ${await tokens(principal)}`,
            ...(body !== undefined && { 'content-type': 'application/json' }),
            ...(opts.idempotencyKey !== undefined && { 'idempotency-key': opts.idempotencyKey }),
          },
          ...(body !== undefined && { body: JSON.stringify(body) }),
          signal: AbortSignal.timeout(timeoutMs),
        });
      } catch (err) {
        const why = `${method} ${path}: no answer (${(err as Error).message})`;
        if (!repeatable || attempt >= maxAttempts) {
          tally.failures.push(why);
          throw new DemoHttpError(why);
        }
        tally.resent++;
        await sleep(backoffMs(attempt));
        continue;
      }
      const text = await res.text();
      if ((res.status === 429 || res.status === 503) && attempt < maxAttempts) {
        tally.throttled++;
        const after = Number(res.headers.get('retry-after'));
        const floor = Number.isFinite(after) && after > 0 ? after * 1000 : 0;
        await sleep(Math.max(floor, backoffMs(attempt)) * (1 + Math.random() * 0.5));
        continue;
      }
      if (res.status >= 500) tally.failures.push(`${method} ${path} → ${res.status} ${text.slice(0, 200)}`);
      let parsed: unknown = {};
      try {
        parsed = text ? JSON.parse(text) : {};
      } catch {
        parsed = { detail: text.slice(0, 200) };
      }
      return { status: res.status, body: parsed as T, headers: res.headers };
    }
  };
  return {
    principal,
    get: <T>(path: string) => call<T>('GET', path),
    post: <T>(path: string, body?: unknown, opts?: CallOptions) => call<T>('POST', path, body, opts),
  };
};

/** 100 ms doubling, capped at 3 s. */
const backoffMs = (attempt: number) => Math.min(3_000, 100 * 2 ** (attempt - 1));

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
