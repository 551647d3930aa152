import { inject } from 'vitest';
import { randomUUID } from 'node:crypto';
import { startLocalRuntime, type LocalRuntimeOptions, type LocalRuntime } from '../../lib/local/runtime.ts';
import type { Role } from '../../functions/shared/principal.ts';
import { cachedTokens, clientCredentialsToken, devTokenSourceIn } from '../../lib/local/dev-tokens.ts';
import type { LocalIssuer } from '../../lib/local/issuer.ts';

/**
 * The local runtime on the test run's shared DynamoDB Local, with a table of its
 * own, so every e2e file talks HTTP to the real pipeline without paying for a
 * Java start each.
 */
export const startTestRuntime = (opts: Partial<LocalRuntimeOptions> = {}): Promise<LocalRuntime> =>
  startLocalRuntime({
    dataDir: null,
    port: 0,
    dynamoEndpoint: inject('dynamoEndpoint'),
    tableName: `c2m-test-${randomUUID().slice(0, 8)}`,
    accessLog: false,
    metrics: false,
    logLevel: 'ERROR',
    visibilityTimeoutSeconds: 1,
    ...opts,
  });

export interface Reply<T = Record<string, unknown>> {
  status: number;
  headers: Headers;
  body: T;
}

/** What a test client needs of a runtime: its URL and its issuer. */
export type TokenSource = Pick<LocalRuntime, 'url' | 'token'> & { readonly issuer: Pick<LocalIssuer, 'tokenEndpoint'> };

/**
 * A runtime running in another process (`npm start`, as a developer runs it): its tokens come
 * from the issuer it keeps in its data directory, as `npm run token` gets them.
 */
export const runtimeIn = (dataDir: string, url: string): TokenSource => {
  const source = devTokenSourceIn(dataDir);
  if (!source) throw new Error(`no local issuer in ${dataDir}: is a runtime running from it?`);
  return { url, token: cachedTokens(source), issuer: { tokenEndpoint: source.tokenEndpoint } };
};

/** The operator every test runtime's factories are registered by. */
const testOperator = 'operator-tests';

const registrations = new WeakMap<TokenSource, Map<string, Promise<{ clientId: string; clientSecret?: string } | 'registered-elsewhere'>>>();

/**
 * Registers factories as an operator would (POST /v1/operator/factories, over
 * HTTP), once per runtime: a campaign may name only registered factories. A
 * factory registered here gets its tokens with its own client credentials.
 */
export const registerFactories = async (runtime: TokenSource, ...factoryIds: string[]): Promise<void> => {
  await Promise.all(factoryIds.map((id) => registration(runtime, id)));
};

const registration = (runtime: TokenSource, factoryId: string) => {
  let byId = registrations.get(runtime);
  if (!byId) registrations.set(runtime, (byId = new Map()));
  let pending = byId.get(factoryId);
  if (!pending) {
    pending = (async () => {
      const operator = await runtime.token('operator', testOperator);
      const res = await fetch(`${runtime.url}/v1/operator/factories`, {
        method: 'POST',
        headers: { authorization: `Bearer ${operator}`, 'content-type': 'application/json' },
        body: JSON.stringify({ factoryId, name: `Factory ${factoryId}` }),
      });
      const body = (await res.json()) as { clientId: string; clientSecret?: string };
      if (res.status === 201) return body;
      // Registered by the test itself: its token comes from the issuer's dev grant instead.
      if (res.status === 409) return 'registered-elsewhere' as const;
      throw new Error(`registering ${factoryId}: ${res.status} ${JSON.stringify(body)}`);
    })();
    byId.set(factoryId, pending);
  }
  return pending;
};

/** When a JWT expires (ms), read from its payload as a client reads `expires_in`: no verification. */
const expiryOf = (jwt: string): number => {
  const { exp } = JSON.parse(Buffer.from(jwt.split('.')[1] ?? '', 'base64url').toString('utf8')) as { exp?: number };
  if (typeof exp !== 'number') throw new Error('the issuer gave a token without exp');
  return exp * 1000;
};

/**
 * A client as an outside integrator would be: HTTP and a bearer token from the
 * runtime's OpenID issuer, fetched on first use and fetched again once it is
 * within a minute of expiring (by this process's clock, which some tests move
 * forward by days). A factory client registers its factory first (if the test
 * did not) and uses the client-credentials grant.
 */
export const clientFor = (runtime: TokenSource, role: Role, id: string) => {
  let token: Promise<{ value: string; expiresAt: number }> | undefined;
  const fetchToken = async () => {
    let value: string;
    if (role !== 'factory') value = await runtime.token(role, id);
    else {
      const registered = await registration(runtime, id);
      value =
        registered === 'registered-elsewhere' || registered.clientSecret === undefined
          ? await runtime.token('factory', id)
          : await clientCredentialsToken(runtime.issuer.tokenEndpoint, registered.clientId, registered.clientSecret);
    }
    return { value, expiresAt: expiryOf(value) };
  };
  const tokenOf = async (): Promise<string> => {
    const current = token && (await token.catch(() => undefined));
    if (current && current.expiresAt - Date.now() > 60_000) return current.value;
    const next = fetchToken();
    token = next;
    return (await next).value;
  };
  const call = async <T = Record<string, unknown>>(
    method: string,
    path: string,
    body?: unknown,
    headers: Record<string, string> = {},
  ): Promise<Reply<T>> => {
    const res = await fetch(`${runtime.url}${path}`, {
      method,
      headers: {
        authorization: `Bearer ${await tokenOf()}`,
        ...(body !== undefined && { 'content-type': 'application/json' }),
        ...headers,
      },
      ...(body !== undefined && { body: typeof body === 'string' ? body : JSON.stringify(body) }),
    });
    const text = await res.text();
    return { status: res.status, headers: res.headers, body: (text ? JSON.parse(text) : {}) as T };
  };
  return {
    token: tokenOf,
    get: <T = Record<string, unknown>>(path: string) => call<T>('GET', path),
    post: <T = Record<string, unknown>>(path: string, body?: unknown, headers?: Record<string, string>) =>
      call<T>('POST', path, body, headers),
    put: <T = Record<string, unknown>>(path: string, body?: unknown, headers?: Record<string, string>) =>
      call<T>('PUT', path, body, headers),
    patch: <T = Record<string, unknown>>(path: string, body?: unknown, headers?: Record<string, string>) =>
      call<T>('PATCH', path, body, headers),
    delete: <T = Record<string, unknown>>(path: string) => call<T>('DELETE', path),
  };
};

export const campaignDraft = (overrides: Record<string, unknown> = {}) => ({
  title: 'Hand-stitched linen shirt',
  factoryId: 'factory-1',
  currency: 'CNY',
  variants: [
    { sku: 'SHIRT-S', name: 'Small', unitPrice: 12900 },
    { sku: 'SHIRT-M', name: 'Medium', unitPrice: 12900 },
  ],
  closesAt: new Date(Date.now() + 3600_000).toISOString(),
  minTotalQuantity: 1,
  lotSize: 50,
  promisedShipDays: 14,
  ...overrides,
});

export const preorderDraft = (overrides: Record<string, unknown> = {}) => ({
  sku: 'SHIRT-M',
  quantity: 1,
  shippingAddress: {
    name: 'Li Wei',
    phone: '+86 138 0000 0000',
    line1: '88 Century Avenue',
    city: 'Shanghai',
    region: 'Shanghai',
    postalCode: '200120',
    country: 'CN',
  },
  ...overrides,
});

/**
 * The link `npm start` prints as `Console`: the console, with a single-use sign-in ticket
 * (15 minutes) as `login_hint`, that signs `anchorId` in without the form. Start the runtime
 * with `console: { buildWhenMissing: true }` for a console built once for the whole run.
 */
export const consoleSignInLink = (runtime: Pick<LocalRuntime, 'console' | 'issuer'>, anchorId = 'anchor-demo'): string =>
  `${runtime.console.url}?login_hint=${runtime.issuer.signInTicket(anchorId).ticket}`;

/**
 * Polls `probe` until `done`, running the runtime's queues in between (no fixed
 * sleep decides anything: the wait ends as soon as the answer is there); past
 * `timeoutMs` the test fails with the last answer.
 */
export const untilDrained = async <T>(
  runtime: Pick<LocalRuntime, 'emulator'>,
  probe: () => Promise<T>,
  done: (t: T) => boolean,
  timeoutMs = 25_000,
): Promise<T> => {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const value = await probe();
    if (done(value)) return value;
    if (Date.now() > deadline) throw new Error(`timed out waiting; last: ${JSON.stringify(value).slice(0, 400)}`);
    await runtime.emulator.drain();
    await new Promise((r) => setTimeout(r, 100));
  }
};
