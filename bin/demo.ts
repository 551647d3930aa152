/**
 * `npm run demo`: a live-room flash sale played end to end against the local
 * runtime, with progress bars, a summary table and the invariant checks (exit
 * 1 if any fails). Uses the runtime at --url when one answers there (tokens
 * from its issuer, with the dev client `npm start` keeps in .local/oidc); otherwise starts one
 * in this process, in memory, and stops it at the end. Only a runtime of its
 * own lets it move the clock (the switch window's end, a late lot).
 */
import { parseArgs } from 'node:util';
import { startLocalRuntime, type LocalRuntime } from '../lib/local/runtime.ts';
import { cachedTokens, devTokenSourceIn } from '../lib/local/dev-tokens.ts';
import { runFlashSale, type FlashSaleOptions } from '../demo/flash-sale.ts';
import { checkFlashSale } from '../demo/checks.ts';
import { renderSummary } from '../demo/summary.ts';
import { createProgress } from '../demo/progress.ts';
import { captureStdout, type StdoutCapture } from '../demo/console.ts';
import { shiftableClock } from '../demo/clock.ts';

// engines says Node 20; the SDK's notice about its 2027 releases is in the README.
process.env.AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED ??= 'true';

const usage = `Usage: npm run demo -- [--url http://localhost:3000] [--buyers 3000] [--concurrency 64] [--seed <n>]`;
function fail(message: string, code = 2): never {
  process.stderr.write(`${message}\n`);
  process.exit(code);
}

let values: { url: string; buyers: string; concurrency: string; seed?: string; help?: boolean };
try {
  ({ values } = parseArgs({
    options: {
      url: { type: 'string', default: 'http://localhost:3000' },
      buyers: { type: 'string', default: '3000' },
      concurrency: { type: 'string', default: '64' },
      seed: { type: 'string' },
      help: { type: 'boolean', short: 'h' },
    },
  }));
} catch (err) {
  fail(`${(err as Error).message}\n${usage}`);
}
if (values!.help) {
  process.stdout.write(`${usage}\n`);
  process.exit(0);
}
const intArg = (name: string, raw: string, min: number, max: number) => {
  const n = Number(raw);
  if (!Number.isInteger(n) || n < min || n > max) fail(`--${name} must be a whole number from ${min} to ${max}, got ${raw}\n${usage}`);
  return n;
};
const url = values!.url.replace(/\/+$/, '');
const buyers = intArg('buyers', values!.buyers, 1, 100_000);
const concurrency = intArg('concurrency', values!.concurrency, 1, 1_024);
const seed = values!.seed !== undefined ? intArg('seed', values!.seed, 0, 2 ** 32 - 1) : Math.floor(Math.random() * 2 ** 31);

/** 200, another status, or nothing at all (connection refused, timeout). */
const health = async (): Promise<number | undefined> => {
  try {
    return (await fetch(`${url}/v1/health`, { signal: AbortSignal.timeout(3_000) })).status;
  } catch {
    return undefined;
  }
};

const progress = createProgress(process.stderr);
// Moved forward only, and only for a runtime in this process; the real clock comes back once it has stopped.
const clock = shiftableClock();
let runtime: LocalRuntime | undefined;
let capture: StdoutCapture | undefined;
let stopping = false;
// Whatever way the process ends, a terminal gets its cursor back.
process.on('exit', () => progress.close());
const cleanUp = async () => {
  progress.close();
  capture?.restore();
  await runtime?.stop();
  clock.restore();
};
// Requests cut off by the stop are expected then, not failures worth a stack trace.
process.on('unhandledRejection', (err) => {
  if (stopping) return;
  throw err;
});
process.on('SIGINT', () => {
  if (stopping) return;
  stopping = true;
  process.stderr.write('\nInterrupted: stopping…\n');
  const force = setTimeout(() => process.exit(130), 10_000);
  force.unref();
  void cleanUp().finally(() => process.exit(130));
});

let target: Pick<FlashSaleOptions, 'url' | 'tokens' | 'drain' | 'timeTravel'>;
let where: string;
let status = await health();
// Something answers but is not ready (a runtime still starting): give it a little while.
for (let i = 0; status !== undefined && status !== 200 && i < 20; i++) {
  await new Promise((r) => setTimeout(r, 1_000));
  status = await health();
}
if (status === 200) {
  const source = devTokenSourceIn('.local');
  if (!source || !new URL(source.tokenEndpoint).port || new URL(source.tokenEndpoint).port !== new URL(url).port) {
    fail(
      `A c2m runtime answers at ${url}, but .local/oidc in ${process.cwd()} does not describe its issuer, so the demo cannot get tokens it accepts.\n` +
        'Run the demo from the directory where `npm start` runs (without --in-memory), or stop that runtime and let the demo start its own.',
    );
  }
  const token = cachedTokens(source!);
  let probe: Response | undefined;
  try {
    probe = await fetch(`${url}/v1/campaigns?mine=true&limit=1`, { headers: { authorization: `Bearer ${await token('anchor', 'anchor-demo')}` } });
  } catch (err) {
    fail(`The runtime at ${url} gave no token to the demo: ${(err as Error).message}`);
  }
  if (probe!.status === 401) {
    fail(
      `The runtime at ${url} refuses tokens from the issuer in .local/oidc (was it started with --in-memory, or another --data-dir?).\n` +
        'Stop it and let the demo start its own, or run the demo against a runtime started with `npm start`.',
    );
  }
  target = { url, tokens: (p) => token(p.role, p.id) };
  where = `${url} (already running)`;
} else if (status !== undefined) {
  fail(`Something answers at ${url}/v1/health with ${status}, not 200. Is it a c2m runtime that failed to start?`);
} else {
  process.stderr.write(`No c2m runtime answers at ${url}: starting one in this process (in memory, with its own DynamoDB Local)…\n`);
  // Its notification channel prints a line per buyer message: counted, kept off the bars.
  capture = captureStdout((line) => progress.log(`  runtime: ${line}`));
  const started = Date.now();
  try {
    runtime = await startLocalRuntime({ dataDir: null, port: 0, accessLog: false, metrics: false, logLevel: 'ERROR' });
  } catch (err) {
    capture.restore();
    fail(`Could not start a local runtime: ${(err as Error).message}`);
  }
  const own = runtime!;
  const ownTokens = cachedTokens(own.issuer);
  process.stderr.write(`Local runtime up at ${own.url} in ${((Date.now() - started) / 1000).toFixed(1)} s.\n`);
  target = {
    url: own.url,
    tokens: (p) => ownTokens(p.role, p.id),
    drain: () => own.emulator.drain(180_000),
    timeTravel: { clock, sweep: () => own.emulator.fireSchedule('campaign-sweep') },
  };
  where = `${own.url} (in-process, in memory)`;
}

process.stderr.write(`Flash sale: ${buyers.toLocaleString('en-US')} buyers, ${concurrency} at a time, seed ${seed}, against ${where}\n\n`);
let code = 1;
try {
  const run = await runFlashSale({ ...target, buyers, concurrency, seed, progress });
  progress.close();
  const printed = capture?.notificationLines();
  capture?.restore();
  const checks = checkFlashSale(run);
  process.stdout.write(renderSummary(run, checks, { runtime: where, ...(printed !== undefined && { printedNotifications: printed }) }));
  code = checks.every((c) => c.ok) ? 0 : 1;
} catch (err) {
  progress.close();
  capture?.restore();
  if (!stopping) process.stderr.write(`\nThe flash sale could not go on: ${(err as Error).stack ?? err}\n`);
  code = 1;
}
if (!stopping) {
  stopping = true;
  await cleanUp();
  process.exit(code);
}
