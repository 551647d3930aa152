import { spawn, type ChildProcess } from 'node:child_process';
import { existsSync, readdirSync, readFileSync, statSync } from 'node:fs';
import { connect } from 'node:net';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import { decodeJwt } from 'jose';
import { freePort } from '../../lib/local/dynamodb.ts';
import type { LocalRuntime } from '../../lib/local/runtime.ts';
import { healthCacheMs } from '../../functions/handlers/service/api.ts';
import { campaignDraft, startTestRuntime } from '../support/runtime.ts';

/**
 * `npm start` as a user runs it: the README's command, in the project
 * directory, with PORT set, in a process group of its own as a terminal gives
 * it, so that SIGINT to the group is the user's Ctrl-C. `--in-memory` writes
 * nothing under .local/ (no issuer keys or secrets in .local/oidc, no data), so a
 * developer's own .local/ is left alone, and `npm run token` still finds the
 * developer's runtime there; the test checks that too.
 */
const root = fileURLToPath(new URL('../../', import.meta.url));
const localDir = join(root, '.local');
const roles = ['anchor', 'buyer', 'factory', 'liveroom', 'operator'] as const;
type Role = (typeof roles)[number];

interface Banner {
  readonly api: string;
  readonly openapi: string;
  readonly dynamoPort: number;
  readonly issuer: string;
  readonly discovery: string;
  readonly tokens: Record<Role, { id: string; token: string }>;
}

/** Every pid below `pid`, read from /proc (Linux): npm → sh → tsx → node → DynamoDB Local's watchdog → java. */
const descendantsOf = (pid: number): Array<{ pid: number; comm: string }> => {
  const parentOf = new Map<number, { ppid: number; comm: string }>();
  for (const entry of readdirSync('/proc')) {
    if (!/^\d+$/.test(entry)) continue;
    try {
      const stat = readFileSync(`/proc/${entry}/stat`, 'utf8');
      // "pid (comm) state ppid …"; comm may hold spaces and parentheses.
      const close = stat.lastIndexOf(')');
      const comm = stat.slice(stat.indexOf('(') + 1, close);
      const ppid = Number(stat.slice(close + 2).split(' ')[1]);
      parentOf.set(Number(entry), { ppid, comm });
    } catch {
      // gone while listing
    }
  }
  const found: Array<{ pid: number; comm: string }> = [];
  const walk = (parent: number) => {
    for (const [child, { ppid, comm }] of parentOf) {
      if (ppid === parent) {
        found.push({ pid: child, comm });
        walk(child);
      }
    }
  };
  walk(pid);
  return found;
};

/** Alive and not a zombie waiting to be reaped. */
const running = (pid: number): boolean => {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    return stat.slice(stat.lastIndexOf(')') + 2, stat.lastIndexOf(')') + 3) !== 'Z';
  } catch {
    return false;
  }
};

const accepts = (port: number): Promise<boolean> =>
  new Promise((resolve) => {
    const socket = connect({ port, host: '127.0.0.1' });
    socket.once('connect', () => {
      socket.destroy();
      resolve(true);
    });
    socket.once('error', () => resolve(false));
  });

const waitFor = async (what: string, ok: () => boolean, timeoutMs: number): Promise<void> => {
  const deadline = Date.now() + timeoutMs;
  while (!ok()) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 50));
  }
};

const readBanner = (out: string): Banner => {
  const api = /^\s+API\s+(http:\/\/\S+\/v1)\s+\(health: (\S+)\)$/m.exec(out);
  const openapi = /^\s+OpenAPI\s+(http:\/\/\S+)$/m.exec(out);
  const dynamo = /^\s+DynamoDB\s+http:\/\/127\.0\.0\.1:(\d+) /m.exec(out);
  const issuer = /^\s+Issuer\s+(http:\/\/\S+)\s+\((\S+)\)$/m.exec(out);
  const tokens = Object.fromEntries(
    roles.map((role) => {
      const line = new RegExp(`^\\s+${role} \\(([^)]+)\\)\\s+(\\S+)$`, 'm').exec(out);
      return [role, line ? { id: line[1] ?? '', token: line[2] ?? '' } : undefined];
    }),
  );
  for (const role of roles) if (!tokens[role]) throw new Error(`no ${role} token in the banner:\n${out}`);
  if (!api || !openapi || !dynamo || !issuer) throw new Error(`banner incomplete:\n${out}`);
  expect(api[2]).toBe(`${api[1]}/health`);
  return {
    api: api[1] ?? '',
    openapi: openapi[1] ?? '',
    dynamoPort: Number(dynamo[1]),
    issuer: issuer[1] ?? '',
    discovery: issuer[2] ?? '',
    tokens: tokens as Banner['tokens'],
  };
};

/** The issuer's files a runtime keeps in .local/oidc (keys, secrets, where it answers), by name, with their mtimes. */
const issuerDir = join(localDir, 'oidc');
const issuerFiles = () => (existsSync(issuerDir) ? Object.fromEntries(readdirSync(issuerDir).map((f) => [f, statSync(join(issuerDir, f)).mtimeMs])) : undefined);
const localBefore = { exists: existsSync(localDir), issuerFiles: issuerFiles() };

describe('npm start -- --in-memory, as a user runs it', () => {
  let child: ChildProcess;
  let port: number;
  let out = '';
  let errors = '';
  let exited: Promise<{ code: number | null; signal: NodeJS.Signals | null }>;
  let banner: Banner;

  beforeAll(async () => {
    port = await freePort();
    // The user's environment, not the test runner's.
    const env = Object.fromEntries(Object.entries(process.env).filter(([name]) => !/^(VITEST|NODE_ENV$|NODE_OPTIONS$)/.test(name)));
    child = spawn('npm', ['start', '--', '--in-memory'], {
      cwd: root,
      env: { ...env, PORT: String(port) },
      detached: true,
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    child.stdout?.on('data', (d: Buffer) => (out += d.toString()));
    child.stderr?.on('data', (d: Buffer) => (errors += d.toString()));
    // 'close', not 'exit': at 'exit' the last lines it printed may still be in the pipe, unread.
    exited = new Promise((resolve) => child.once('close', (code, signal) => resolve({ code, signal })));
    await waitFor('the banner', () => out.includes('Ctrl-C stops everything') || child.exitCode !== null, 30_000).catch((err: Error) => {
      throw new Error(`${err.message}\nstdout:\n${out}\nstderr:\n${errors}`);
    });
    if (child.exitCode !== null) throw new Error(`npm start exited with ${child.exitCode}\n${out}\n${errors}`);
    banner = readBanner(out);
  }, 40_000);

  afterAll(async () => {
    // Only if a test failed before the Ctrl-C: stop the group this test started.
    if (child?.pid && child.exitCode === null && child.signalCode === null) {
      try {
        process.kill(-child.pid, 'SIGKILL');
      } catch {
        // already gone
      }
    }
  });

  it('prints the API URL on PORT, the OpenAPI address, its OpenID issuer and a token for anchor, buyer, factory, live room and operator, valid an hour', async () => {
    expect(banner.api).toBe(`http://localhost:${port}/v1`);
    expect(banner.openapi).toBe(`http://localhost:${port}/v1/openapi.json`);
    expect(banner.issuer).toBe(`http://localhost:${port}/oidc`);
    expect(banner.discovery).toBe(`${banner.issuer}/.well-known/openid-configuration`);
    const discovery = await fetch(banner.discovery);
    expect(discovery.status).toBe(200);
    expect(((await discovery.json()) as { issuer: string }).issuer).toBe(banner.issuer);
    expect(out).toMatch(/^Tokens \(Authorization: Bearer <token>\), valid 1 hour;/m);
    for (const role of roles) {
      const claims = decodeJwt(banner.tokens[role].token);
      expect(claims.iss, role).toBe(banner.issuer);
      expect(claims.exp! - claims.iat!, role).toBe(3600);
    }
    expect(Object.fromEntries(roles.map((r) => [r, banner.tokens[r].id]))).toEqual({
      anchor: 'anchor-demo',
      buyer: 'buyer-demo',
      factory: 'factory-demo',
      liveroom: 'liveroom-demo',
      operator: 'operator-demo',
    });
    const doc = await fetch(banner.openapi);
    expect(doc.status).toBe(200);
    expect(((await doc.json()) as { openapi: string }).openapi).toBe('3.1.0');
  });

  it('prints, right under the API address, a Console link that serves the console with a single-use sign-in ticket', async () => {
    const lines = out.split('\n');
    const api = lines.findIndex((l) => l.includes(banner.api));
    const console = lines[api + 1] ?? '';
    const link = /^ {2}Console {3}(\S+)$/.exec(console)?.[1];
    expect(link, console).toMatch(new RegExp(`^http://localhost:${port}/console/\\?login_hint=c2m-ticket:[A-Za-z0-9_-]{43}$`));
    const page = await fetch(link!);
    expect(page.status).toBe(200);
    expect(page.headers.get('content-type')).toMatch(/^text\/html/);
    expect(await page.text()).toMatch(/<div id="app"|<script type="module"/);
  });

  it('answers GET /v1/health with 200 once storage, queues and schedules are up', async () => {
    const res = await fetch(`${banner.api}/health`);
    expect(res.status).toBe(200);
    expect(await res.json()).toEqual({ status: 'ok' });
  });

  it('the printed tokens work: the anchor creates a campaign, the others read and post as their roles', async () => {
    const as = (role: Role) => ({ authorization: `Bearer ${banner.tokens[role].token}`, 'content-type': 'application/json' });
    const created = await fetch(`${banner.api}/campaigns`, {
      method: 'POST',
      headers: as('anchor'),
      body: JSON.stringify(campaignDraft({ factoryId: banner.tokens.factory.id })),
    });
    expect(created.status).toBe(201);
    const { campaignId } = (await created.json()) as { campaignId: string };

    expect((await fetch(`${banner.api}/factory/batches`, { headers: as('factory') })).status).toBe(200);
    expect((await fetch(`${banner.api}/preorders?mine=true`, { headers: as('buyer') })).status).toBe(200);
    const signals = await fetch(`${banner.api}/signals`, {
      method: 'POST',
      headers: as('liveroom'),
      body: JSON.stringify({ signals: [{ campaignId, type: 'view', count: 3, at: new Date().toISOString() }] }),
    });
    expect(signals.status).toBe(202);
    expect((await fetch(`${banner.api}/campaigns/${campaignId}/demand`, { headers: as('operator') })).status).toBe(200);
    // The factory whose token is printed is one the operator registered.
    const factories = await fetch(`${banner.api}/operator/factories`, { headers: as('operator') });
    expect(factories.status).toBe(200);
    expect(((await factories.json()) as { items: { factoryId: string; status: string }[] }).items).toEqual(
      expect.arrayContaining([expect.objectContaining({ factoryId: banner.tokens.factory.id, status: 'ACTIVE' })]),
    );
    // And a token the runtime did not sign is refused, so the 2xx above are the tokens' doing.
    const forged = `${banner.tokens.anchor.token.slice(0, -4)}AAAA`;
    expect((await fetch(`${banner.api}/campaigns?mine=true`, { headers: { authorization: `Bearer ${forged}` } })).status).toBe(401);
  });

  it('Ctrl-C (SIGINT to its process group) stops it cleanly within seconds, DynamoDB Local and every other process it started gone', async () => {
    const started = descendantsOf(must(child.pid));
    const java = started.filter((p) => p.comm === 'java');
    expect(java, `processes under npm: ${JSON.stringify(started)}`).toHaveLength(1);
    expect(await accepts(banner.dynamoPort)).toBe(true);

    const sent = Date.now();
    process.kill(-must(child.pid), 'SIGINT');
    const timeout = new Promise<never>((_, reject) => setTimeout(() => reject(new Error(`still running 10 s after SIGINT:\n${out.slice(-2000)}`)), 10_000));
    const { code, signal } = await Promise.race([exited, timeout]);
    // Under 10 s: bin/local.ts forces exit 1 at 10 s when stopping hangs.
    expect(Date.now() - sent).toBeLessThan(8_000);
    // The runtime exited 0 after stopping everything: it prints this line just before process.exit(0).
    expect(out).toMatch(/SIGINT: stopping…\nStopped: HTTP API, queues, schedules and DynamoDB Local\.\n$/);
    // npm's own status is the signal's: its script shell (dash) waits for the runtime to exit 0, then
    // re-raises the SIGINT it got, and npm passes that on. A shell that execs the script gives 0.
    expect(signal === 'SIGINT' || (code === 0 && signal === null), JSON.stringify({ code, signal })).toBe(true);

    await waitFor('every process npm start started to end', () => started.every((p) => !running(p.pid)), 3_000).catch(() => undefined);
    expect(started.filter((p) => running(p.pid))).toEqual([]);
    expect(await accepts(banner.dynamoPort)).toBe(false);
    expect(await accepts(port)).toBe(false);
  }, 20_000);

  it("leaves the project's .local/ as it found it", () => {
    expect(existsSync(localDir)).toBe(localBefore.exists);
    expect(issuerFiles()).toEqual(localBefore.issuerFiles);
  });
});

describe('GET /v1/health: up or down, from a result a few seconds old', () => {
  let runtime: LocalRuntime;
  beforeAll(async () => {
    runtime = await startTestRuntime();
  });
  afterAll(async () => {
    vi.useRealTimers();
    await runtime?.stop();
  });

  it('When the queues and the scheduler stop answering, health still answers from its last probes until they are a few seconds old, then 503 naming nothing; the log names them, and not the table', async () => {
    vi.useFakeTimers({ toFake: ['Date'], shouldAdvanceTime: true });
    const up = await fetch(`${runtime.url}/v1/health`);
    expect(up.status).toBe(200);
    expect(await up.json()).toEqual({ status: 'ok' });
    // The emulator serves SQS and Scheduler; the gateway and the table stay up.
    await runtime.emulator.stop();
    const logged: string[] = [];
    const keep = (chunk: unknown) => {
      logged.push(String(chunk));
      return true;
    };
    const out = vi.spyOn(process.stdout, 'write').mockImplementation(keep);
    const err = vi.spyOn(process.stderr, 'write').mockImplementation(keep);
    try {
      // Within the cache's few seconds: the last round of probes answers, no new probe runs.
      expect((await fetch(`${runtime.url}/v1/health`)).status).toBe(200);

      vi.setSystemTime(Date.now() + healthCacheMs);
      const res = await fetch(`${runtime.url}/v1/health`);
      expect(res.status).toBe(503);
      expect(res.headers.get('content-type')).toBe('application/problem+json');
      const body = (await res.json()) as { status: number; detail: string };
      expect(body).toMatchObject({ status: 503, detail: 'Not up' });
    } finally {
      out.mockRestore();
      err.mockRestore();
    }
    const line = logged.find((l) => l.includes('health: dependencies not answering'));
    expect(line, 'the log line naming what is down').toBeDefined();
    const down = (JSON.parse(line ?? '{}') as { down: Array<{ check: string; what: string }> }).down;
    expect(down.map((d) => `${d.check}:${d.what}`).sort()).toEqual(['queues:notifications', 'schedules:schedule group']);
  });
});

function must<T>(value: T | undefined, what = 'value'): T {
  if (value === undefined) throw new Error(`missing ${what}`);
  return value;
}
