import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { execFile } from 'node:child_process';
import { createServer, request, type Server } from 'node:http';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import type { AddressInfo } from 'node:net';
import type { LocalRuntime } from '../../lib/local/runtime.ts';
import { apiClient } from '../../demo/support/api-client.ts';
import { registerFactory } from '../../demo/support/fixtures.ts';
import { startTestRuntime } from '../support/runtime.ts';

// `npm run smoke -- --url <api> --tokens <file>` as an operator runs it against a deployed stage:
// the script in its own process, the API over HTTP (the local runtime here, the only one that can
// run on this machine), tokens from a file as a stage's issuer would hand them out, and the
// factory with its own client credentials, whose token endpoint the factory client discovers.

const root = resolve(import.meta.dirname, '../..');
const tsx = join(root, 'node_modules/.bin/tsx');
let runtime: LocalRuntime;
let dir: string;
let tokensFile: string;
let proxy: Server | undefined;

interface Exit {
  readonly code: number;
  readonly stdout: string;
  readonly stderr: string;
}
const smoke = (...args: string[]) =>
  new Promise<Exit>((done) => {
    execFile(tsx, ['bin/smoke.ts', ...args], { cwd: root, encoding: 'utf8', timeout: 240_000 }, (err, stdout, stderr) =>
      done({ code: err ? (typeof err.code === 'number' ? err.code : -1) : 0, stdout, stderr }),
    );
  });

beforeAll(async () => {
  runtime = await startTestRuntime({ maxBatchingWindowSeconds: 0 });
  dir = mkdtempSync(join(tmpdir(), 'c2m-smoke-'));
  const operator = apiClient({ baseUrl: runtime.url, token: () => runtime.token('operator', 'operator-smoke-test') });
  const registered = await registerFactory(operator, 'factory-smoke', 'Smoke Tee Works');
  if (registered === 'registered-before' || registered.clientSecret === undefined) throw new Error('factory-smoke got no client secret');
  const buyers = await Promise.all(Array.from({ length: 6 }, (_, i) => runtime.token('buyer', `buyer-${i + 1}`)));
  tokensFile = join(dir, 'tokens.json');
  writeFileSync(
    tokensFile,
    JSON.stringify({
      anchor: await runtime.token('anchor', 'anchor-smoke'),
      liveroom: await runtime.token('liveroom', 'liveroom-smoke'),
      buyers,
      factory: { id: 'factory-smoke', clientId: registered.clientId, clientSecret: registered.clientSecret },
    }),
  );
});
afterAll(async () => {
  await new Promise((r) => (proxy ? proxy.close(r) : r(undefined)));
  await runtime?.stop();
  if (dir) rmSync(dir, { recursive: true, force: true });
});

describe('npm run smoke: a small flash sale against any deployment', () => {
  it('When the deployment keeps its promises, the sale is played end to end, every check that ran passes and it exits 0', async () => {
    const r = await smoke('--url', runtime.url, '--tokens', tokensFile, '--seed', '11', '--stall-seconds', '30');
    expect(r.code, r.stdout + r.stderr).toBe(0);
    // The story happened: orders past the cap were refused, the factory shipped lots, buyers were told.
    expect(r.stdout).toMatch(/6 buyers · \d+ Idempotency-Keys · \d+ pre-orders accepted/);
    expect(r.stdout).toMatch(/refused\s+[1-9]\d* sold out/);
    expect(r.stdout).toMatch(/shipped in [1-9]\d* lots · [1-9]\d* delivered/);
    expect(r.stdout).toMatch(/✓ no oversell: units kept at close ≤ the cap/);
    expect(r.stdout).toMatch(/✓ every buyer heard each step exactly once/);
    // What needs the clock is said to be skipped, not passed on nothing.
    expect(r.stdout).toMatch(/– a variant below its own minimum never reaches the factory\n\s+skipped: /);
    // And what needs the live platform's payment service, which has no client of the stage here.
    expect(r.stdout).toMatch(/– every refund paid back once and told; for each buyer, paid − refunded = what the units kept cost\n\s+skipped: a smoke run has no platform client/);
    expect(r.stdout).toMatch(/All \d+ checks passed \(3 skipped\)\./);
  });

  it('When a deployment counts a pre-order its buyer never made (a gateway that resends a POST under a new key), the check that catches it fails and it exits 1', async () => {
    // A proxy in front of the API, as a misconfigured gateway would be: the first pre-order POST
    // is also forwarded once more under another Idempotency-Key, so one order is counted twice.
    let duplicated = false;
    const copies: string[] = [];
    const target = new URL(runtime.url);
    const forward = (req: import('node:http').IncomingMessage, body: Buffer, headers: Record<string, string | string[] | undefined>) =>
      new Promise<{ status: number; headers: import('node:http').IncomingHttpHeaders; body: Buffer }>((done, fail) => {
        // A fresh connection each time (agent: false): a kept-alive socket the runtime closes as it is reused would be a proxy fault, not the deployment's.
        const out = request({ host: target.hostname, port: target.port, path: req.url, method: req.method, headers, agent: false }, (res) => {
          const chunks: Buffer[] = [];
          res.on('data', (c: Buffer) => chunks.push(c));
          res.on('end', () => done({ status: res.statusCode!, headers: res.headers, body: Buffer.concat(chunks) }));
        });
        out.on('error', fail);
        out.end(body);
      });
    proxy = createServer((req, res) => {
      const chunks: Buffer[] = [];
      req.on('data', (c: Buffer) => chunks.push(c));
      req.on('end', async () => {
        const body = Buffer.concat(chunks);
        const headers = { ...req.headers, host: target.host, connection: 'close' };
        // Until one such copy is accepted (a copy past the buyer's limit or the cap is refused, and counts nothing).
        if (!duplicated && req.method === 'POST' && /\/v1\/campaigns\/[^/]+\/preorders$/.test(req.url ?? '')) {
          try {
            const copy = await forward(req, body, { ...headers, 'idempotency-key': `${String(req.headers['idempotency-key'])}-resent` });
            copies.push(`${copy.status} ${copy.body.toString().slice(0, 160)}`);
            if (copy.status === 202) duplicated = true;
          } catch (err) {
            copies.push(`no answer: ${(err as Error).message}`);
          }
        }
        try {
          const answer = await forward(req, body, headers);
          res.writeHead(answer.status, answer.headers);
          res.end(answer.body);
        } catch (err) {
          // What a gateway answers when what is behind it does not.
          res.writeHead(502, { 'content-type': 'application/problem+json' });
          res.end(JSON.stringify({ type: 'about:blank', title: 'Bad Gateway', status: 502, detail: (err as Error).message }));
        }
      });
    });
    await new Promise<void>((r) => proxy!.listen(0, '127.0.0.1', r));
    const url = `http://127.0.0.1:${(proxy.address() as AddressInfo).port}`;

    const r = await smoke('--url', url, '--tokens', tokensFile, '--seed', '12', '--stall-seconds', '30');
    const seen = `copies answered:\n${copies.join('\n')}\nsmoke exit ${r.code}:\n${r.stdout}${r.stderr}`;
    expect(duplicated, seen).toBe(true);
    expect(r.code, seen).toBe(1);
    expect(r.stdout).toMatch(/✗ demand counts each pre-order once \(per variant\)/);
    expect(r.stdout).not.toMatch(/All \d+ checks passed/);
  });

  it('When the arguments or the tokens file are wrong, it says which and exits 2 before anything is written', async () => {
    const noUrl = await smoke('--tokens', tokensFile);
    expect(noUrl.code).toBe(2);
    expect(noUrl.stderr).toMatch(/--url is required/);

    const bad = join(dir, 'bad-tokens.json');
    writeFileSync(bad, JSON.stringify({ anchor: 'a.b.c', buyers: [], factory: { id: 'factory-smoke' } }));
    const badFile = await smoke('--url', runtime.url, '--tokens', bad);
    expect(badFile.code).toBe(2);
    expect(badFile.stderr).toMatch(/liveroom/);
    expect(badFile.stderr).toMatch(/buyers/);

    // An expired token is refused before the sale: a JWT whose exp is in the past.
    const expired = `e30.${Buffer.from(JSON.stringify({ exp: Math.floor(Date.now() / 1000) - 60 })).toString('base64url')}.sig`;
    const stale = join(dir, 'stale-tokens.json');
    const expiredBuyers = [1, 2, 3, 4].map((n) => `${expired}${n}`);
    writeFileSync(stale, JSON.stringify({ anchor: expired, liveroom: expired, buyers: expiredBuyers, factory: { id: 'f', token: expired } }));
    const staleFile = await smoke('--url', runtime.url, '--tokens', stale);
    expect(staleFile.code).toBe(2);
    expect(staleFile.stderr).toMatch(/anchor expired at/);

    // A token the stage's issuer did not sign: refused by the API (401) on the first probe, before any campaign exists.
    const foreign = join(dir, 'foreign-tokens.json');
    const unsigned = `e30.${Buffer.from(JSON.stringify({ exp: Math.floor(Date.now() / 1000) + 3600, sub: 'x' })).toString('base64url')}.sig`;
    writeFileSync(foreign, JSON.stringify({ anchor: unsigned, liveroom: unsigned, buyers: [1, 2, 3, 4].map((n) => `${unsigned}${n}`), factory: { id: 'f', token: unsigned } }));
    const refused = await smoke('--url', runtime.url, '--tokens', foreign);
    expect(refused.code).toBe(2);
    expect(refused.stderr).toMatch(/refuses the token of the anchor \(401\)/);
  });

  it('When nothing answers at --url, it says so and exits 1', async () => {
    const r = await smoke('--url', 'http://127.0.0.1:9', '--tokens', tokensFile);
    expect(r.code).toBe(1);
    expect(r.stderr).toMatch(/No c2m API answers at http:\/\/127\.0\.0\.1:9\/v1\/health/);
  });
});
