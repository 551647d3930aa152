import { inject } from 'vitest';
import { createHash, randomUUID } from 'node:crypto';
import { startLocalRuntime, type LocalRuntimeOptions, type LocalRuntime } from '../../lib/local/runtime.ts';
import type { Role } from '../../functions/shared/principal.ts';
import { cachedTokens, clientCredentialsToken, devTokenSourceIn } from '../../lib/local/dev-tokens.ts';
import type { LocalIssuer } from '../../lib/local/issuer.ts';
import { apiClient, renewingToken } from '../../demo/support/api-client.ts';
import { registerFactory, type FactoryRegistration } from '../../demo/support/fixtures.ts';

// The tests' fixtures and replies are the demo's and the bench's: one copy (demo/support/).
export type { Reply } from '../../demo/support/api-client.ts';
export { campaignDraft, preorderDraft } from '../../demo/support/fixtures.ts';

/**
 * The local runtime on the test run's shared DynamoDB Local, with a table of its
 * own in a database of its own (an access key of its own: see global-setup.ts),
 * so every e2e file talks HTTP to the real pipeline without paying for a Java
 * start each, and no file's stream slows another's writes.
 */
export const startTestRuntime = (opts: Partial<LocalRuntimeOptions> = {}): Promise<LocalRuntime> => {
  const tableName = opts.tableName ?? `c2m-test-${randomUUID().slice(0, 8)}`;
  return startLocalRuntime({
    dataDir: null,
    port: 0,
    dynamoEndpoint: inject('dynamoEndpoint'),
    // The key follows the table: a runtime started again on the same table (a restart) finds it in the same database.
    dynamoCredentials: { accessKeyId: `test${createHash('sha256').update(tableName).digest('hex').slice(0, 16)}`, secretAccessKey: 'local' },
    tableName,
    accessLog: false,
    metrics: false,
    logLevel: 'ERROR',
    visibilityTimeoutSeconds: 1,
    ...opts,
  });
};

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

const registrations = new WeakMap<TokenSource, Map<string, Promise<FactoryRegistration>>>();

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
    const operator = apiClient({ baseUrl: runtime.url, token: () => runtime.token('operator', testOperator) });
    pending = registerFactory(operator, factoryId);
    byId.set(factoryId, pending);
  }
  return pending;
};

/**
 * A client as an outside integrator would be (demo/support/api-client.ts): HTTP and a
 * bearer token from the runtime's OpenID issuer, renewed within a minute of expiring (by
 * this process's clock, which some tests move forward by days). No retries: a test sees
 * every answer as the API gave it, a 429 included. A factory client registers its factory
 * first (if the test did not) and uses the client-credentials grant.
 */
export const clientFor = (runtime: TokenSource, role: Role, id: string) =>
  apiClient({
    baseUrl: runtime.url,
    token: renewingToken(async () => {
      if (role !== 'factory') return runtime.token(role, id);
      const registered = await registration(runtime, id);
      // Registered by the test itself: its token comes from the issuer's dev grant instead.
      return registered === 'registered-before' || registered.clientSecret === undefined
        ? runtime.token('factory', id)
        : clientCredentialsToken(runtime.issuer.tokenEndpoint, registered.clientId, registered.clientSecret);
    }),
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
