import type { Principal } from '../../functions/shared/principal.ts';

/**
 * The one HTTP client of c2m's API for the code in this repository that calls it as an
 * outside client would: the demo's actors, the bench's load client, the e2e tests and the
 * console screenshots. (The factory's typed client in clients/typescript is the published
 * one, generated from the OpenAPI document; this one is not published and takes any route.)
 *
 * HTTP and a bearer token, nothing else. Bodies go out as JSON (a string as it is, for tests
 * of what the API refuses); answers come back parsed when they are JSON and as text when they
 * are not (Accept: text/csv). What differs between callers is said by options, not by copies:
 *
 * - `retry` absent (the tests): every answer as the API gave it, a 429 included, and no
 *   request sent twice.
 * - `retry` given (the demo, the bench): a 429 or 503 is waited out after its Retry-After
 *   and sent again, up to `maxAttempts` tries. A request that got no answer at all is sent
 *   again only when the policy says so and repeating it cannot do anything twice: a GET, a
 *   call with an Idempotency-Key, or one the caller marks safe (accept, progress, close-short
 *   and delivered answer a repeat as the first time).
 *
 * Connections are kept alive between requests by Node's fetch (undici's pool) on its own.
 */
export interface Reply<T = Record<string, unknown>> {
  readonly status: number;
  readonly headers: Headers;
  readonly body: T;
}

/** Problem bodies (RFC 9457) name their kind in `type`, e.g. urn:c2m:problem:campaign-cap-reached. */
export type Problem = { type?: string; title?: string; status?: number; detail?: string };

/** What the HTTP layer saw across every client that shares it: answers by status, throttling, failures. */
export class HttpTally {
  /** Tries sent, retries included. */
  requests = 0;
  /** Every answer by status, each try's own (a 429 waited out counts as a 429). */
  readonly statuses: Record<string, number> = {};
  /** 429 and 503 answers that were waited out and sent again. */
  throttled = 0;
  /** Requests that got no answer (timeout, reset) and were sent again. */
  resent = 0;
  /** 5xx answers other than a 503 sent again, and requests that never got an answer in the end. */
  readonly failures: string[] = [];
}

/** A request that got no answer at all (refused, reset, timed out), after any resends. */
export class NoAnswerError extends Error {}

export interface RetryPolicy {
  /** Tries in all, the first included. */
  readonly maxAttempts: number;
  /** The wait before the next try after a 429 or 503 on try `attempt` (from 1); `retryAfterSeconds` is 0 when the answer gave none. */
  readonly throttledDelayMs: (attempt: number, retryAfterSeconds: number) => number;
  /** Sends again after no answer, when repeating cannot do anything twice. */
  readonly resendWithoutAnswer: boolean;
}

/** 100 ms doubling, capped at 3 s. */
const backoffMs = (attempt: number) => Math.min(3_000, 100 * 2 ** (attempt - 1));

/**
 * The retry discipline the contract asks of an integrator, as the demo's crowd keeps it:
 * Retry-After as a floor under a growing backoff, with jitter so a crowd does not come back
 * in lockstep; ten tries; resends after no answer where that is safe.
 */
export const politeRetry: RetryPolicy = {
  maxAttempts: 10,
  throttledDelayMs: (attempt, retryAfterSeconds) => Math.max(retryAfterSeconds * 1000, backoffMs(attempt)) * (1 + Math.random() * 0.5),
  resendWithoutAnswer: true,
};

export interface ApiClientOptions {
  /** The API's origin, e.g. http://localhost:3000 (no trailing slash). */
  readonly baseUrl: string;
  /** The bearer token, asked before every request (so a source can renew it); absent: no Authorization header. */
  readonly token?: () => Promise<string> | string;
  /** Wait out 429/503 and resend; absent: every answer as given, nothing sent twice. */
  readonly retry?: RetryPolicy;
  /** Shared by every client of one run, so its summary sees all of them. */
  readonly tally?: HttpTally;
  /** Give up on an answer after this long (then: no answer). @default no limit */
  readonly timeoutMs?: number;
}

export interface CallOptions {
  readonly idempotencyKey?: string;
  /** Repeating this call is harmless (the API answers a repeat as the first time): it may be resent after no answer. */
  readonly safeToRepeat?: boolean;
  /** e.g. text/csv: the body comes back as the text sent, its byte-order mark kept. */
  readonly accept?: string;
  /** Any other header; these win over the client's own (a test sending the wrong content type). */
  readonly headers?: Readonly<Record<string, string>>;
}

type Method = 'GET' | 'POST' | 'PUT' | 'PATCH' | 'DELETE';

const callOptionKeys: ReadonlySet<string> = new Set<keyof CallOptions>(['idempotencyKey', 'safeToRepeat', 'accept', 'headers']);

/** A header map passed where options belong ({ 'Idempotency-Key': k }) types as options and would be dropped without a word. */
const checkOptions = (opts: CallOptions) => {
  const unknown = Object.keys(opts).filter((k) => !callOptionKeys.has(k));
  if (unknown.length > 0) throw new TypeError(`unknown call options ${unknown.join(', ')}: headers go in { headers }, the key in { idempotencyKey }`);
};

export const sleep = (ms: number) => new Promise<void>((r) => setTimeout(r, ms));

const retryAfterSeconds = (headers: Headers): number => {
  const after = Number(headers.get('retry-after'));
  return Number.isFinite(after) && after > 0 ? after : 0;
};

/** JSON when it is JSON (a body that will not parse is kept as a problem's detail); anything else as text. */
const parse = (bytes: ArrayBuffer, contentType: string): unknown => {
  if (bytes.byteLength === 0) return {};
  if (contentType && !/json/i.test(contentType)) return new TextDecoder('utf-8', { ignoreBOM: true }).decode(bytes);
  const text = new TextDecoder().decode(bytes);
  try {
    return JSON.parse(text) as unknown;
  } catch {
    return { detail: text.slice(0, 200) };
  }
};

export const apiClient = (o: ApiClientOptions) => {
  const tally = o.tally;
  const call = async <T>(method: Method, path: string, body?: unknown, opts: CallOptions = {}): Promise<Reply<T>> => {
    checkOptions(opts);
    const policy = o.retry;
    const maxAttempts = policy?.maxAttempts ?? 1;
    const repeatable = method === 'GET' || opts.idempotencyKey !== undefined || opts.safeToRepeat === true;
    const payload = body === undefined ? undefined : typeof body === 'string' ? body : JSON.stringify(body);
    for (let attempt = 1; ; attempt++) {
      if (tally) tally.requests++;
      let res: Response;
      let bytes: ArrayBuffer;
      try {
        const token = o.token ? await o.token() : undefined;
        res = await fetch(`${o.baseUrl}${path}`, {
          method,
          headers: {
            ...(token !== undefined && { authorization: `Bearer ${token}` }),
            ...(payload !== undefined && { 'content-type': 'application/json' }),
            ...(opts.accept !== undefined && { accept: opts.accept }),
            ...(opts.idempotencyKey !== undefined && { 'idempotency-key': opts.idempotencyKey }),
            ...opts.headers,
          },
          ...(payload !== undefined && { body: payload }),
          ...(o.timeoutMs !== undefined && { signal: AbortSignal.timeout(o.timeoutMs) }),
        });
        bytes = await res.arrayBuffer();
      } catch (err) {
        const why = `${method} ${path}: no answer (${(err as Error).message})`;
        if (!policy?.resendWithoutAnswer || !repeatable || attempt >= maxAttempts) {
          tally?.failures.push(why);
          throw new NoAnswerError(why, { cause: err });
        }
        if (tally) tally.resent++;
        await sleep(backoffMs(attempt));
        continue;
      }
      if (tally) tally.statuses[res.status] = (tally.statuses[res.status] ?? 0) + 1;
      if (policy && (res.status === 429 || res.status === 503) && attempt < maxAttempts) {
        if (tally) tally.throttled++;
        await sleep(policy.throttledDelayMs(attempt, retryAfterSeconds(res.headers)));
        continue;
      }
      const parsed = parse(bytes, res.headers.get('content-type') ?? '');
      if (res.status >= 500) tally?.failures.push(`${method} ${path} → ${res.status} ${new TextDecoder().decode(bytes).slice(0, 200)}`);
      return { status: res.status, headers: res.headers, body: parsed as T };
    }
  };
  return {
    /** The token the next request would carry. */
    token: async (): Promise<string> => {
      if (!o.token) throw new Error('this client sends no token');
      return o.token();
    },
    get: <T = Record<string, unknown>>(path: string, opts?: CallOptions) => call<T>('GET', path, undefined, opts),
    post: <T = Record<string, unknown>>(path: string, body?: unknown, opts?: CallOptions) => call<T>('POST', path, body, opts),
    put: <T = Record<string, unknown>>(path: string, body?: unknown, opts?: CallOptions) => call<T>('PUT', path, body, opts),
    patch: <T = Record<string, unknown>>(path: string, body?: unknown, opts?: CallOptions) => call<T>('PATCH', path, body, opts),
    delete: <T = Record<string, unknown>>(path: string, opts?: CallOptions) => call<T>('DELETE', path, undefined, opts),
  };
};

export type ApiClient = ReturnType<typeof apiClient>;

/**
 * Where an actor's access token comes from: the local issuer, as `npm run token` asks it.
 * Asked before every request: the source caches and renews.
 */
export type TokenSource = (principal: Principal) => Promise<string>;

/** A client acting as one principal (the demo's actors), its token asked of `tokens`. */
export const clientAs = (principal: Principal, o: Omit<ApiClientOptions, 'token'> & { readonly tokens: TokenSource }) => ({
  principal,
  ...apiClient({ ...o, token: () => o.tokens(principal) }),
});

export type ActorClient = ReturnType<typeof clientAs>;

/** When a JWT expires (epoch ms), read from its payload as a client reads `expires_in`: no verification. */
const expiryOf = (jwt: string): number => {
  const { exp } = JSON.parse(Buffer.from(jwt.split('.')[1] ?? '', 'base64url').toString('utf8')) as { exp?: number };
  if (typeof exp !== 'number') throw new Error('the issuer gave a token without exp');
  return exp * 1000;
};

/**
 * A token fetched on first use and fetched again once it is within `marginMs` of expiring,
 * by this process's clock (which the demo and some tests move forward by days). Concurrent
 * requests share one fetch; a failed fetch is tried again by the next request.
 */
export const renewingToken = (fetchToken: () => Promise<string>, marginMs = 60_000): (() => Promise<string>) => {
  let held: Promise<{ value: string; expiresAt: number }> | undefined;
  return async () => {
    const current = held && (await held.catch(() => undefined));
    if (current && current.expiresAt - Date.now() > marginMs) return current.value;
    const next = fetchToken().then((value) => ({ value, expiresAt: expiryOf(value) }));
    held = next;
    return (await next).value;
  };
};
