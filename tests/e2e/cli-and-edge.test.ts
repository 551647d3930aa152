import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { execFile } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { decodeJwt, decodeProtectedHeader } from 'jose';
import type { LocalRuntime } from '../../lib/local/runtime.ts';
import { campaignDraft, clientFor, registerFactories, startTestRuntime } from '../support/runtime.ts';

const root = fileURLToPath(new URL('../../', import.meta.url));

/**
 * `npm run token -- <args>` as a developer runs it, in a child process. Asynchronous: the
 * runtime whose issuer it asks runs in this process and must go on answering meanwhile.
 */
const npmRunToken = (...args: string[]) =>
  new Promise<{ status: number; stdout: string; stderr: string }>((resolve) => {
    execFile('npm', ['run', 'token', '--', ...args], { cwd: root, encoding: 'utf8' }, (err, stdout, stderr) => {
      resolve({ status: err ? Number((err as { code?: unknown }).code) : 0, stdout, stderr });
    });
  });

/** A request with a bearer token, as curl would send it. */
const getWith = async (runtime: LocalRuntime, token: string, path: string) => {
  const res = await fetch(`${runtime.url}${path}`, { headers: { authorization: `Bearer ${token}` } });
  return { status: res.status, body: (await res.json()) as Record<string, unknown> };
};

/**
 * One runtime for the file, its data in a temporary directory (where `npm run token` finds its
 * issuer) and its stage throttled low (the 429 case). Runtimes share this process's SDK clients,
 * so a file starts one; the last case stops it.
 */
let runtime: LocalRuntime;
let stopped = false;
const dataDir = mkdtempSync(join(tmpdir(), 'c2m-token-'));
beforeAll(async () => {
  runtime = await startTestRuntime({ dataDir, throttle: { rateLimit: 5, burstLimit: 10 } });
  await registerFactories(runtime, 'factory-1');
});
afterAll(async () => {
  if (!stopped) await runtime?.stop();
  rmSync(dataDir, { recursive: true, force: true });
});

describe('npm run token', () => {
  it("prints one token and nothing else on stdout: an ES256 access token of the runtime's issuer, for an hour at most, that the API takes as that anchor", async () => {
    const { status, stdout, stderr } = await npmRunToken('--role', 'anchor', '--id', 'anchor-7', '--data-dir', dataDir);
    expect(status, stderr).toBe(0);
    expect(stdout.endsWith('\n')).toBe(true);
    expect(stdout.trimEnd().split('\n')).toHaveLength(1);
    const token = stdout.trim();

    const header = decodeProtectedHeader(token);
    expect(header.alg).toBe('ES256');
    expect(header.kid).toEqual(expect.any(String));
    const claims = decodeJwt(token);
    expect(claims.iss).toBe(`${runtime.url}/oidc`);
    expect([claims.aud].flat()).toEqual(['urn:c2m:api']);
    expect(claims.exp! - claims.iat!).toBeGreaterThan(0);
    expect(claims.exp! - claims.iat!).toBeLessThanOrEqual(3600);

    // Accepted over HTTP, as anchor-7: what it creates is anchor-7's, and no other anchor's.
    expect((await getWith(runtime, token, '/v1/campaigns?mine=true')).status).toBe(200);
    const created = await fetch(`${runtime.url}/v1/campaigns`, {
      method: 'POST',
      headers: { authorization: `Bearer ${token}`, 'content-type': 'application/json' },
      body: JSON.stringify(campaignDraft({ title: 'made with npm run token' })),
    });
    expect(created.status).toBe(201);
    const { campaignId } = (await created.json()) as { campaignId: string };
    const mine = (r: { body: Record<string, unknown> }) => (r.body.items as { campaignId: string }[]).map((c) => c.campaignId);
    expect(mine(await clientFor(runtime, 'anchor', 'anchor-7').get('/v1/campaigns?mine=true'))).toContain(campaignId);
    expect(mine(await clientFor(runtime, 'anchor', 'anchor-8').get('/v1/campaigns?mine=true'))).not.toContain(campaignId);
  });

  it('refuses a factory no operator registered: exit 2, the reason on stderr, no token; once registered it prints the token the factory routes take', async () => {
    const refused = await npmRunToken('--role', 'factory', '--id', 'factory-7', '--data-dir', dataDir);
    expect(refused.status).toBe(2);
    expect(refused.stdout).toBe('');
    expect(refused.stderr).toMatch(/factory-7 is not registered/);

    await registerFactories(runtime, 'factory-7');
    const campaign = await clientFor(runtime, 'anchor', 'anchor-7').post<{ campaignId: string }>('/v1/campaigns', campaignDraft({ factoryId: 'factory-7' }));
    expect(campaign.status).toBe(201);
    const { status, stdout, stderr } = await npmRunToken('--role', 'factory', '--id', 'factory-7', '--data-dir', dataDir);
    expect(status, stderr).toBe(0);
    const token = stdout.trim();
    expect(decodeJwt(token).iss).toBe(`${runtime.url}/oidc`);
    // The factory routes take it as factory-7: its forecasts are factory-7's campaign.
    const forecasts = await getWith(runtime, token, '/v1/factory/forecasts');
    expect(forecasts.status).toBe(200);
    expect((forecasts.body.items as { campaignId: string }[]).map((f) => f.campaignId)).toEqual([campaign.body.campaignId]);
    expect((await getWith(runtime, token, '/v1/preorders?mine=true')).status).toBe(403);
  });

  it('refuses an unknown role on stderr with a non-zero exit, printing no token', async () => {
    const { status, stdout, stderr } = await npmRunToken('--role', 'admin', '--id', 'x', '--data-dir', dataDir);
    expect(status).not.toBe(0);
    expect(stdout).toBe('');
    expect(stderr).toMatch(/--role/);
  });

  it('without a runtime started from the data directory, exits 2 saying to run npm start, printing no token', async () => {
    const empty = mkdtempSync(join(tmpdir(), 'c2m-token-empty-'));
    try {
      const { status, stdout, stderr } = await npmRunToken('--role', 'anchor', '--id', 'anchor-7', '--data-dir', empty);
      expect(status).toBe(2);
      expect(stdout).toBe('');
      expect(stderr).toContain(`No local issuer in ${empty}`);
      expect(stderr).toContain('npm start');
    } finally {
      rmSync(empty, { recursive: true, force: true });
    }
  });
});

describe('Throttling at the edge', () => {
  it('Over the stage limit a client gets 429 with Retry-After and a problem body, never a 5xx', async () => {
    const anchor = clientFor(runtime, 'anchor', 'anchor-1');
    const replies = await Promise.all(Array.from({ length: 40 }, () => anchor.get('/v1/campaigns?mine=true')));
    const statuses = replies.map((r) => r.status);
    expect(statuses.filter((s) => s === 200).length).toBeGreaterThan(0);
    const throttled = replies.filter((r) => r.status === 429);
    expect(throttled.length).toBeGreaterThan(0);
    expect(statuses.every((s) => s === 200 || s === 429)).toBe(true);
    expect(throttled[0]?.headers.get('retry-after')).toBe('1');
    expect(throttled[0]?.headers.get('content-type')).toContain('application/problem+json');
    expect(throttled[0]?.body).toMatchObject({ status: 429 });
    // Once the bucket refills, the same client is served again.
    await new Promise((r) => setTimeout(r, 1_500));
    expect((await anchor.post('/v1/campaigns', campaignDraft())).status).toBe(201);
  });
});

describe('npm run token, once the runtime has stopped', () => {
  it('exits 2 saying the issuer it found in the data directory does not answer, printing no token', async () => {
    await runtime.stop();
    stopped = true;
    const { status, stdout, stderr } = await npmRunToken('--role', 'anchor', '--id', 'anchor-7', '--data-dir', dataDir);
    expect(status).toBe(2);
    expect(stdout).toBe('');
    expect(stderr).toContain(`The local issuer at ${runtime.issuer.tokenEndpoint} does not answer`);
    expect(stderr).toContain('npm start');
  });
});
