import { C2mNetworkError } from './errors.ts';

/** How the client waits and tries again. */
export interface RetryOptions {
  /**
   * Tries per call, the first included, for 429s, 503s with Retry-After and requests that got
   * no answer. @default 5
   */
  readonly maxAttempts?: number;
  /**
   * The longest Retry-After the client waits out; an answer asking for more is returned to the
   * caller (as a C2mApiError with `retryAfterMs`) instead of blocking it. @default 60_000
   */
  readonly maxDelayMs?: number;
  /**
   * Extra wait, as a fraction of the wait, drawn at random per retry, so clients throttled together
   * do not come back together. 0 waits exactly what the API asked. @default 0.2
   */
  readonly jitter?: number;
}

/** One retry, as it happens: for logs and counters. */
export interface RetryEvent {
  /** `METHOD path`, e.g. `GET /v1/factory/batches`. */
  readonly operation: string;
  /** The try that failed (1 = the first). */
  readonly attempt: number;
  /**
   * `throttled`: 429; `unavailable`: 503 with Retry-After; `no-answer`: connection failed or timed
   * out; `unauthorized`: 401, the token is renewed and the request sent once more.
   */
  readonly reason: 'throttled' | 'unavailable' | 'no-answer' | 'unauthorized';
  readonly status?: number;
  /** How long the client waits before the next try. */
  readonly waitMs: number;
}

export type Fetch = (request: Request) => Promise<Response>;

/**
 * Milliseconds a `Retry-After` value asks for (RFC 9110 §10.2.3): delay-seconds or an
 * HTTP-date, measured against `now`; undefined when absent or not one of those.
 */
export const retryAfterMs = (value: string | null | undefined, now: number): number | undefined => {
  if (value === null || value === undefined) return undefined;
  const text = value.trim();
  if (/^\d+$/.test(text)) return Number(text) * 1000;
  // An HTTP-date always names its weekday and zone; a bare number or word is not one.
  if (!/^[A-Za-z]{3}, /.test(text)) return undefined;
  const at = Date.parse(text);
  return Number.isNaN(at) ? undefined : Math.max(0, at - now);
};

/** Backoff when the API named no wait: 200 ms doubling per try, at most 5 s. */
export const backoffMs = (attempt: number): number => Math.min(5_000, 200 * 2 ** (attempt - 1));

/** What the transport needs to know of a request beyond the request itself. */
export interface RouteTraits {
  /** Send the access token (false for the public routes: health, the document). */
  readonly authenticated: boolean;
  /** Safe to send again after no answer: reads, and writes the API answers a repeat of as the first time. */
  readonly repeatable: boolean;
}

export interface TransportOptions {
  readonly fetch: Fetch;
  readonly retry: Required<RetryOptions>;
  /** Per try; a try that takes longer counts as no answer. */
  readonly timeoutMs: number;
  readonly sleep: (ms: number) => Promise<void>;
  readonly now: () => number;
  readonly random: () => number;
  readonly tokens?: {
    get(): Promise<string>;
    /** The API refused `token` (401): the next `get` fetches a new one. */
    refused(token: string): void;
  };
  readonly traitsOf: (request: Request) => RouteTraits;
  readonly onRetry?: (event: RetryEvent) => void;
}

const operationOf = (request: Request) => `${request.method} ${new URL(request.url).pathname}`;

/**
 * A fetch that does what every integrator otherwise writes by hand: the bearer token, a
 * second try with a new token after a 401, 429s (and 503s that say when) waited out per
 * Retry-After, and a request that got no answer sent again when that cannot do anything
 * twice. Every try is a clone of the caller's request, headers and Idempotency-Key included.
 */
export const createTransport = (o: TransportOptions): Fetch => {
  const wait = async (event: RetryEvent) => {
    o.onRetry?.(event);
    await o.sleep(event.waitMs);
  };
  const jittered = (ms: number) => Math.round(ms * (1 + o.retry.jitter * o.random()));

  return async (request) => {
    const traits = o.traitsOf(request);
    const operation = operationOf(request);
    let renewedToken = false;
    for (let attempt = 1; ; attempt++) {
      const headers = new Headers(request.headers);
      let token: string | undefined;
      if (traits.authenticated && o.tokens) {
        token = await o.tokens.get();
        headers.set('authorization', `Bearer ${token}`);
      }
      const timeout = AbortSignal.timeout(o.timeoutMs);
      const signal = AbortSignal.any([request.signal, timeout]);
      let response: Response;
      try {
        response = await o.fetch(new Request(request.clone(), { headers, signal }));
      } catch (err) {
        // The caller's own abort ends the call; only our timeout and network failures are retried.
        if (request.signal.aborted) throw err;
        if (!traits.repeatable || attempt >= o.retry.maxAttempts) throw new C2mNetworkError(operation, attempt, err);
        await wait({ operation, attempt, reason: 'no-answer', waitMs: jittered(backoffMs(attempt)) });
        continue;
      }

      if (response.status === 401 && token !== undefined && !renewedToken) {
        // The gateway refused the token before anything ran: expired early, revoked keys, a clock
        // that runs behind. One new token; a second 401 is the caller's to see.
        renewedToken = true;
        o.tokens?.refused(token);
        await response.body?.cancel();
        await wait({ operation, attempt, reason: 'unauthorized', status: 401, waitMs: 0 });
        continue;
      }

      const asked = retryAfterMs(response.headers.get('retry-after'), o.now());
      const throttled = response.status === 429;
      if ((throttled || (response.status === 503 && asked !== undefined)) && attempt < o.retry.maxAttempts) {
        const waitMs = asked ?? backoffMs(attempt);
        if (waitMs <= o.retry.maxDelayMs) {
          await response.body?.cancel();
          await wait({ operation, attempt, reason: throttled ? 'throttled' : 'unavailable', status: response.status, waitMs: jittered(waitMs) });
          continue;
        }
      }
      return response;
    }
  };
};
