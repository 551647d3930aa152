import createClient, { type Client, type Middleware } from 'openapi-fetch';
import { clientCredentialsTokens, getterTokens, type ClientCredentials, type TokenGetter, type TokenSource } from './auth.ts';
import { factoryApi, type FactoryApi } from './factory.ts';
import { operationRoutes, type OperationId } from './operations.ts';
import type { paths } from './schema.ts';
import { operationOfResponse } from './result.ts';
import { createTransport, type Fetch, type RetryEvent, type RetryOptions, type RouteTraits } from './transport.ts';

interface CommonOptions {
  /**
   * The API's root: where `/v1/...` is, e.g. `https://api.c2m.example.com` or an API Gateway
   * stage URL `https://abc.execute-api.ap-east-1.amazonaws.com/prod`.
   */
  readonly baseUrl: string;
  /** Waits and retries; see {@link RetryOptions}. */
  readonly retry?: RetryOptions;
  /** Per try; a try that takes longer counts as no answer. @default 30_000 */
  readonly timeoutMs?: number;
  /** Every HTTP request goes through it (the API's and the issuer's), e.g. to log or count. @default globalThis.fetch */
  readonly fetch?: Fetch;
  /** How the client waits out a Retry-After or a backoff. @default setTimeout */
  readonly sleep?: (ms: number) => Promise<void>;
  /** The client's clock (epoch ms), for token expiry and Retry-After dates. @default Date.now */
  readonly now?: () => number;
  /** New Idempotency-Keys, one per creating call. @default crypto.randomUUID */
  readonly idempotencyKey?: () => string;
  /** Told of every retry before its wait. */
  readonly onRetry?: (event: RetryEvent) => void;
}

export type C2mClientOptions = CommonOptions &
  (
    | {
        /** The factory's client id and secret: the client fetches and renews its tokens. */
        readonly credentials: ClientCredentials;
        readonly token?: never;
      }
    | {
        /** Tokens from elsewhere: called before every request (so cache), with `refresh: true` after a 401. */
        readonly token: TokenGetter;
        readonly credentials?: never;
      }
  );

export interface C2mClient {
  /** A factory's calls, typed, throwing a C2mApiError on any answer but success. */
  readonly factory: FactoryApi;
  /**
   * The generated openapi-fetch client for every route of the document, with the same tokens,
   * retries and Idempotency-Keys: `await c2m.raw.GET('/v1/factory/trust')` gives `{data, error, response}`
   * (`unwrap` turns that into the data or a thrown C2mApiError).
   */
  readonly raw: Client<paths>;
  /** A current access token (fetched or renewed if need be), for a call made outside this client. */
  accessToken(): Promise<string>;
}

/**
 * Writes the API answers a repeat of as the first time (the state they ask for is already
 * there, so a repeat changes nothing): sent again after no answer, like reads and calls with an
 * Idempotency-Key. Not rotate-secret or test, whose every call does something new.
 */
const repeatSafe: ReadonlySet<OperationId> = new Set<OperationId>([
  'acceptBatch',
  'rejectBatch',
  'reportProgress',
  'closeBatchShort',
  'confirmDelivery',
  'addShipmentParcels',
  'confirmParcelDelivered',
  'updateWebhook',
]);

const routeTraits = new Map<string, RouteTraits & { readonly idempotencyKey: boolean }>(
  Object.entries(operationRoutes).map(([id, r]) => [
    `${r.method} ${r.path}`,
    {
      authenticated: r.authenticated,
      idempotencyKey: r.idempotencyKey,
      // DELETE is left out: after a lost answer a second one would be a 404 for a deletion that worked.
      repeatable: r.method === 'GET' || r.method === 'PUT' || r.idempotencyKey || repeatSafe.has(id as OperationId),
    },
  ]),
);

/** What the transport sees of a request sent through openapi-fetch (same object, so a WeakMap). */
const traitsOfRequest = new WeakMap<Request, RouteTraits>();

const defaultSleep = (ms: number) => new Promise<void>((resolve) => setTimeout(resolve, ms));

/**
 * A client for c2m's API. Give it the factory's credentials (or a token getter) and call
 * `c2m.factory.*`; every call carries a current token, waits out 429 per Retry-After, and
 * every creating call has an Idempotency-Key kept across its retries.
 */
export const createC2mClient = (options: C2mClientOptions): C2mClient => {
  const baseUrl = options.baseUrl.replace(/\/+$/, '');
  const baseFetch: Fetch = options.fetch ?? ((request) => globalThis.fetch(request));
  const now = options.now ?? Date.now;
  const newKey = options.idempotencyKey ?? (() => crypto.randomUUID());
  const common = {
    fetch: baseFetch,
    retry: { maxAttempts: 5, maxDelayMs: 60_000, jitter: 0.2, ...options.retry },
    timeoutMs: options.timeoutMs ?? 30_000,
    sleep: options.sleep ?? defaultSleep,
    now,
    random: Math.random,
    ...(options.onRetry && { onRetry: options.onRetry }),
  };
  // The issuer's endpoints are reached with the same waiting and retrying, without a token.
  const plain = createTransport({ ...common, traitsOf: () => ({ authenticated: false, repeatable: true }) });
  const tokens: TokenSource = options.credentials
    ? clientCredentialsTokens({ credentials: options.credentials, baseUrl, fetch: plain, now })
    : getterTokens(options.token);

  const transport = createTransport({
    ...common,
    tokens,
    traitsOf: (request) =>
      traitsOfRequest.get(request) ?? {
        authenticated: true,
        repeatable: request.method === 'GET' || request.method === 'HEAD' || request.headers.has('idempotency-key'),
      },
  });

  const keysAndTraits: Middleware = {
    onRequest({ request, schemaPath }) {
      const route = routeTraits.get(`${request.method} ${schemaPath}`);
      // One key per call, set before the first try: every retry of the call sends the same one.
      if (route?.idempotencyKey && !request.headers.has('idempotency-key')) request.headers.set('idempotency-key', newKey());
      if (route) traitsOfRequest.set(request, route);
      return undefined;
    },
    onResponse({ request, response }) {
      operationOfResponse.set(response, `${request.method} ${new URL(request.url).pathname}`);
      return undefined;
    },
  };

  const raw = createClient<paths>({ baseUrl, fetch: transport });
  raw.use(keysAndTraits);
  return {
    raw,
    factory: factoryApi(raw, now),
    accessToken: () => tokens.get(),
  };
};
