/**
 * `npm run smoke -- --url <api url> [--tokens <file>]`: a small flash sale played against any c2m
 * deployment over its HTTP API, then the demo's invariant checks (demo/checks.ts) on what it
 * played. Every step happens now (demo/smoke-sale.ts): the checks of what needs days to pass
 * are skipped, and say so. Progress on stderr; the summary and the checks on stdout.
 *
 * Tokens: from `--tokens <file>` for a deployed stage (demo/smoke-tokens.ts says what it holds
 * and why); without it, from the local runtime's issuer with the dev client `npm start` keeps in
 * <data-dir>/oidc, as `npm run demo` and `npm run token` get them (the factory `factory-smoke`
 * is then registered as an operator would).
 *
 * Exit 0 when every check that ran passed; 1 when one failed, or the API could not be played
 * against (no answer, unhealthy, the sale stopped); 2 for bad usage (arguments, the tokens
 * file, credentials the stage refuses before anything is written).
 */
import { parseArgs } from 'node:util';
import { randomUUID } from 'node:crypto';
import { C2mAuthError } from '@c2m/factory-client';
import type { Principal } from '../functions/shared/principal.ts';
import { cachedTokens, devTokenSourceIn } from '../lib/local/dev-tokens.ts';
import { apiClient, type TokenSource } from '../demo/support/api-client.ts';
import { registerFactory } from '../demo/support/fixtures.ts';
import { checkFlashSale } from '../demo/checks.ts';
import { createProgress } from '../demo/progress.ts';
import { renderSmokeSummary, runSmokeSale, smokeMinimumBuyers } from '../demo/smoke-sale.ts';
import { buyerIdsOf, fileTokenSource, readTokensFile, TokensFileError } from '../demo/smoke-tokens.ts';

// engines says Node 20; the SDK's notice about its 2027 releases is in the README.
process.env.AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED ??= 'true';

const usage = `Usage: npm run smoke -- --url <api url> [--tokens <file>] [--buyers <n>] [--seed <n>]

  --url <url>            the API's root: a stage URL (https://….execute-api.….amazonaws.com/prod) or http://localhost:3000
  --tokens <file>        a deployed stage's tokens (README, "Deploying to AWS"): {anchor, liveroom, buyers: [...],
                         factory: {id, clientId, clientSecret, tokenUrl?} or {id, token}}
  --data-dir <dir>       without --tokens: the local runtime's data directory, whose issuer signs the tokens (.local)
  --buyers <n>           buyers in the sale, ${smokeMinimumBuyers}–200 (20; with --tokens, one per buyer token)
  --concurrency <n>      requests in flight, 1–64 (8)
  --seed <n>             the buyers' and the factory's choices (random, and printed, when absent)
  --stall-seconds <n>    give up a wait once nothing has moved for this long, 5–600 (60)

Exit status: 0 every check that ran passed · 1 a check failed, or the API could not be played against · 2 bad usage`;

/** Bad usage: said, with the usage when it is about the arguments, and exit 2. */
function usageError(message: string, withUsage = true): never {
  process.stderr.write(`${message}\n${withUsage ? `\n${usage}\n` : ''}`);
  process.exit(2);
}
/** The deployment could not be played against: exit 1. */
function runError(message: string): never {
  process.stderr.write(`${message}\n`);
  process.exit(1);
}

let values: {
  url?: string;
  tokens?: string;
  'data-dir'?: string;
  buyers?: string;
  concurrency: string;
  seed?: string;
  'stall-seconds': string;
  help?: boolean;
};
try {
  ({ values } = parseArgs({
    options: {
      url: { type: 'string' },
      tokens: { type: 'string' },
      'data-dir': { type: 'string' },
      buyers: { type: 'string' },
      concurrency: { type: 'string', default: '8' },
      seed: { type: 'string' },
      'stall-seconds': { type: 'string', default: '60' },
      help: { type: 'boolean', short: 'h' },
    },
  }));
} catch (err) {
  usageError((err as Error).message);
}
if (values!.help) {
  process.stdout.write(`${usage}\n`);
  process.exit(0);
}
const intArg = (name: string, raw: string, min: number, max: number): number => {
  const n = Number(raw);
  if (!/^\d+$/.test(raw) || !Number.isSafeInteger(n) || n < min || n > max) usageError(`--${name} must be a whole number from ${min} to ${max}, got ${raw}`);
  return n;
};

if (values!.url === undefined) usageError('--url is required: the API to play the sale against');
let parsedUrl: URL;
try {
  parsedUrl = new URL(values!.url!);
} catch {
  usageError(`--url must be an http(s) URL, got ${values!.url}`);
}
if (parsedUrl!.protocol !== 'https:' && parsedUrl!.protocol !== 'http:') usageError(`--url must be an http(s) URL, got ${values!.url}`);
if (/\/v1\/?$/.test(parsedUrl!.pathname)) usageError(`--url is the API's root, without /v1 (got ${values!.url})`);
const url = values!.url!.replace(/\/+$/, '');
if (values!.tokens !== undefined && values!['data-dir'] !== undefined) usageError('--tokens and --data-dir are two ways to get tokens: give one');
const concurrency = intArg('concurrency', values!.concurrency, 1, 64);
const stallMs = intArg('stall-seconds', values!['stall-seconds'], 5, 600) * 1000;
const seed = values!.seed !== undefined ? intArg('seed', values!.seed, 0, 2 ** 32 - 1) : Math.floor(Math.random() * 2 ** 31);

// The tokens file is read before anything is asked of the API: a mistake in it is said at once.
let file: ReturnType<typeof readTokensFile> | undefined;
if (values!.tokens !== undefined) {
  try {
    file = readTokensFile(values!.tokens);
  } catch (err) {
    if (!(err instanceof TokensFileError)) throw err;
    usageError(`The tokens file cannot be used: ${err.message}`, false);
  }
}
const tokenBuyers = file?.buyers.length;
if (tokenBuyers !== undefined && tokenBuyers < smokeMinimumBuyers) {
  usageError(`The tokens file holds ${tokenBuyers} buyer tokens; the smoke sale needs at least ${smokeMinimumBuyers} (each plays a part)`, false);
}
const buyers = values!.buyers !== undefined ? intArg('buyers', values!.buyers, smokeMinimumBuyers, tokenBuyers ?? 200) : (tokenBuyers ?? 20);

/** 200, another status with what the body says, or no answer at all and why (and whether it was only slow). */
const health = async (): Promise<{ status: number; body: string } | { noAnswer: string; slow: boolean }> => {
  try {
    const res = await fetch(`${url}/v1/health`, { signal: AbortSignal.timeout(10_000) });
    return { status: res.status, body: (await res.text()).slice(0, 300) };
  } catch (err) {
    const cause = (err as Error & { cause?: { code?: string; message?: string } }).cause;
    return { noAnswer: cause?.code ?? cause?.message ?? (err as Error).message, slow: (err as Error).name === 'TimeoutError' };
  }
};

let h = await health();
// Something answers but is not ready (a runtime still starting, a stage warming up, a cold start
// slower than the wait): a little while. Nothing listening at all is said at once.
for (let i = 0; ('status' in h ? h.status !== 200 : h.slow) && i < 10; i++) {
  await new Promise((r) => setTimeout(r, 1_000));
  h = await health();
}
if ('noAnswer' in h) runError(`No c2m API answers at ${url}/v1/health (${h.noAnswer}). Is --url the API's root, and is it up?`);
if ('status' in h && h.status !== 200) runError(`${url}/v1/health answers ${h.status}, not 200: ${h.body}`);

let tokens: TokenSource;
let buyerIds: string[];
let factoryId: string;
let where: string;
if (file) {
  tokens = fileTokenSource(file, url);
  buyerIds = buyerIdsOf(file).slice(0, buyers);
  factoryId = file.factory.id;
  where = `${url} (tokens from ${values!.tokens})`;
} else {
  const dataDir = values!['data-dir'] ?? process.env.C2M_DATA_DIR ?? '.local';
  const source = devTokenSourceIn(dataDir);
  if (!source) {
    usageError(
      `No --tokens, and no local issuer in ${dataDir}/oidc to sign tokens with.\n` +
        `For a deployed stage pass --tokens <file> (README, "Deploying to AWS"); for the local runtime run the smoke where \`npm start\` runs, or pass --data-dir.`,
      false,
    );
  }
  if (new URL(source!.tokenEndpoint).port !== parsedUrl!.port) {
    usageError(
      `A c2m API answers at ${url}, but the issuer in ${dataDir}/oidc is the one of the runtime at ${new URL(source!.tokenEndpoint).origin}: its tokens would be refused.\n` +
        'For a deployed stage pass --tokens <file>; for a local runtime, --data-dir of the one at --url.',
      false,
    );
  }
  const dev = cachedTokens(source!);
  tokens = (p) => dev(p.role, p.id);
  const run = randomUUID().slice(0, 4);
  buyerIds = Array.from({ length: buyers }, (_, i) => `fan-smoke-${run}-${i + 1}`);
  factoryId = 'factory-smoke';
  // As an operator registers it; registered before (409) by an earlier run is as good.
  try {
    await registerFactory(apiClient({ baseUrl: url, token: () => dev('operator', 'operator-smoke') }), factoryId, 'Smoke Tee Works');
  } catch (err) {
    runError(`Could not register ${factoryId} at ${url}: ${(err as Error).message}`);
  }
  where = `${url} (tokens from the local issuer in ${dataDir}/oidc)`;
}

/**
 * Each actor's token, tried once before anything is written: a refused one is said here, by role,
 * rather than as a 401 in the middle of a sale. The live room has nothing to read, so it posts an
 * empty batch of signals: the role is checked before the body, so 400 (the batch is empty) says the
 * token is a live room's, and nothing is counted.
 */
const probes: { who: string; principal: Principal; method: 'GET' | 'POST'; path: string; body?: unknown; expect: number }[] = [
  { who: 'the anchor', principal: { role: 'anchor', id: 'anchor-smoke' }, method: 'GET', path: '/v1/campaigns?mine=true&limit=1', expect: 200 },
  { who: 'the live room', principal: { role: 'liveroom', id: 'liveroom-smoke' }, method: 'POST', path: '/v1/signals', body: { signals: [] }, expect: 400 },
  { who: `the factory ${factoryId}`, principal: { role: 'factory', id: factoryId }, method: 'GET', path: '/v1/factory/batches?limit=1', expect: 200 },
  ...buyerIds.map((id, i) => ({
    who: file ? `buyer token ${i + 1} (buyers.${i})` : `buyer ${id}`,
    principal: { role: 'buyer' as const, id },
    method: 'GET' as const,
    path: '/v1/preorders?mine=true&limit=1',
    expect: 200,
  })),
];
for (const probe of probes) {
  let status: number;
  let body: string;
  try {
    const client = apiClient({ baseUrl: url, token: () => tokens(probe.principal), timeoutMs: 30_000 });
    const r = probe.method === 'GET' ? await client.get(probe.path) : await client.post(probe.path, probe.body, { idempotencyKey: `smoke-probe-${randomUUID()}` });
    status = r.status;
    body = JSON.stringify(r.body).slice(0, 300);
  } catch (err) {
    if (err instanceof C2mAuthError) usageError(`No token for ${probe.who}: ${err.message}`, false);
    runError(`Trying the token of ${probe.who} at ${url}: ${(err as Error).message}`);
  }
  if (status! === 401) usageError(`${url} refuses the token of ${probe.who} (401): expired, or not from an issuer this stage trusts.`, false);
  if (status! === 403) usageError(`${url} takes the token of ${probe.who} but not as a ${probe.principal.role} (403): ${body!}`, false);
  if (status! !== probe.expect) runError(`${probe.method} ${probe.path} as ${probe.who} → ${status!}, expected ${probe.expect}: ${body!}`);
}

const progress = createProgress(process.stderr);
// Whatever way the process ends, a terminal gets its cursor back.
process.on('exit', () => progress.close());
process.on('SIGINT', () => {
  progress.close();
  process.stderr.write('\nInterrupted: the campaign stays as it got, closed or not.\n');
  process.exit(130);
});

process.stderr.write(`Smoke run: ${buyers} buyers, ${concurrency} at a time, seed ${seed}, against ${where}\n\n`);
let code: number;
try {
  const run = await runSmokeSale({ url, tokens: tokens!, buyerIds: buyerIds!, factoryId: factoryId!, concurrency, seed, progress, stallMs });
  progress.close();
  const checks = checkFlashSale(run);
  process.stdout.write(`${renderSmokeSummary(run, checks, where!)}\n`);
  code = checks.every((c) => c.ok) ? 0 : 1;
} catch (err) {
  progress.close();
  process.stderr.write(`\nThe smoke sale could not go on: ${(err as Error).stack ?? err}\n`);
  code = 1;
}
process.exit(code);
