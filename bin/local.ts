/**
 * `npm start`: the whole c2m pipeline on this machine. Data lives under .local/
 * (--in-memory for a throwaway run); PORT or --port sets the HTTP port.
 */
import { parseArgs } from 'node:util';
import { relative, resolve } from 'node:path';
import { startLocalRuntime } from '../lib/local/runtime.ts';
import type { Principal } from '../functions/shared/principal.ts';

// engines says Node 20; the SDK's notice about its 2027 releases is in the README.
process.env.AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED ??= 'true';

const { values } = parseArgs({
  options: {
    'in-memory': { type: 'boolean', default: false },
    port: { type: 'string' },
    'data-dir': { type: 'string', default: '.local' },
    quiet: { type: 'boolean', default: false },
  },
});

const port = Number(values.port ?? process.env.PORT ?? 3000);
if (!Number.isInteger(port) || port < 0 || port > 65535) {
  process.stderr.write(`PORT must be a port number, got ${values.port ?? process.env.PORT}\n`);
  process.exit(2);
}
const dataDir = values['in-memory'] ? null : resolve(values['data-dir']);

const started = Date.now();
const runtime = await startLocalRuntime({
  dataDir,
  port,
  accessLog: !values.quiet,
  logLevel: values.quiet ? 'WARN' : 'INFO',
  console: { buildWhenMissing: true, onBuild: (line) => process.stdout.write(`${line}\n`) },
});

// Every event on the bus, one JSON line each: what a rule or a subscriber would see. Attached at once:
// resumed work publishes while the demo factory is registered and the tokens are asked for.
runtime.emulator.onEvent((e) => {
  const detail = e.detail as { eventId?: string };
  process.stdout.write(`${JSON.stringify({ type: 'event', detailType: e.detailType, eventId: detail.eventId, time: e.time })}\n`);
});

const demoAnchor = 'anchor-demo';
const demo: Principal[] = [
  { role: 'anchor', id: demoAnchor },
  { role: 'buyer', id: 'buyer-demo' },
  { role: 'factory', id: 'factory-demo' },
  { role: 'liveroom', id: 'liveroom-demo' },
  { role: 'operator', id: 'operator-demo' },
];
// The demo factory is registered once by the demo operator, as a real one would be;
// its token here is the one its client credentials get (see README for doing that with curl).
const operatorToken = await runtime.token('operator', 'operator-demo');
const registered = await fetch(`${runtime.url}/v1/operator/factories`, {
  method: 'POST',
  headers: { authorization: `Bearer ${operatorToken}`, 'content-type': 'application/json' },
  body: JSON.stringify({ factoryId: 'factory-demo', name: 'Demo Tee Works' }),
});
if (registered.status !== 201 && registered.status !== 409) {
  process.stderr.write(`Could not register factory-demo: ${registered.status} ${await registered.text()}\n`);
}
// The console link signs the browser in as the demo anchor without the form: the console passes the
// ticket on as its authorization request's login_hint, and the issuer takes it once (see lib/local/issuer.ts).
const signIn = runtime.issuer.signInTicket(demoAnchor);
const consoleLine = runtime.console.built()
  ? `${runtime.console.url}?login_hint=${signIn.ticket}`
  : `not built (no ${relative(process.cwd(), runtime.console.dir) || '.'}/vite.config.ts to build it from)`;
const until = signIn.expiresAt.toTimeString().slice(0, 5);
const tokens = await Promise.all(demo.map(async (p) => `  ${`${p.role} (${p.id})`.padEnd(26)} ${await runtime.token(p.role, p.id)}`));
process.stdout.write(
  [
    '',
    `c2m local pipeline is up in ${((Date.now() - started) / 1000).toFixed(1)} s`,
    `  API       ${runtime.url}/v1  (health: ${runtime.url}/v1/health)`,
    `  Console   ${consoleLine}`,
    `  OpenAPI   ${runtime.url}/v1/openapi.json`,
    `  Data      ${dataDir ?? 'in memory (gone when this stops)'}`,
    `  DynamoDB  ${runtime.dynamoEndpoint} (table ${runtime.tableName})`,
    `  Issuer    ${runtime.issuer.issuer}  (${runtime.issuer.discoveryUrl})`,
    '',
    'Tokens (Authorization: Bearer <token>), valid 1 hour; more with `npm run token -- --role <role> --id <id>`:',
    ...tokens,
    '',
    ...(runtime.console.built()
      ? [`The Console link signs in as ${demoAnchor} once, until ${until}, while this process runs (the sign-in page takes any name after that).`, '']
      : []),
    'Try:',
    `  export TOKEN=<the anchor token above>`,
    `  curl -s ${runtime.url}/v1/campaigns?mine=true -H "Authorization: Bearer $TOKEN"`,
    '',
    'Ctrl-C stops everything, DynamoDB Local included.',
    '',
  ].join('\n'),
);

let stopping = false;
const stop = async (signal: string) => {
  if (stopping) return;
  stopping = true;
  process.stdout.write(`\n${signal}: stopping…\n`);
  const force = setTimeout(() => process.exit(1), 10_000);
  await runtime.stop();
  clearTimeout(force);
  // Printed only after a clean stop: through `npm start` a Ctrl-C ends as the signal, whatever this exit code.
  process.stdout.write('Stopped: HTTP API, queues, schedules and DynamoDB Local.\n');
  process.exit(0);
};
process.on('SIGINT', () => void stop('SIGINT'));
process.on('SIGTERM', () => void stop('SIGTERM'));
