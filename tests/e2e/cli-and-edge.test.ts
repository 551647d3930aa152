import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { execFileSync } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import type { LocalRuntime } from '../../lib/local/runtime.ts';
import { verifyToken } from '../../functions/shared/tokens.ts';
import { campaignDraft, clientFor, startTestRuntime } from '../support/runtime.ts';

const root = fileURLToPath(new URL('../../', import.meta.url));

describe('npm run token', () => {
  it('prints one token and nothing else on stdout, and that token names the principal', () => {
    const out = execFileSync('npm', ['run', 'token', '--', '--role', 'factory', '--id', 'factory-7', '--secret', 'cli-secret'], {
      cwd: root,
      encoding: 'utf8',
    });
    expect(out.endsWith('\n')).toBe(true);
    expect(out.trimEnd().split('\n')).toHaveLength(1);
    expect(verifyToken('cli-secret', out.trim())).toEqual({ role: 'factory', id: 'factory-7' });
  });

  it('refuses an unknown role on stderr with a non-zero exit, printing no token', () => {
    let stdout = 'unset';
    let status = 0;
    try {
      execFileSync('npm', ['run', 'token', '--', '--role', 'admin', '--id', 'x', '--secret', 's'], { cwd: root, encoding: 'utf8', stdio: 'pipe' });
    } catch (err) {
      const e = err as { stdout: string; status: number };
      stdout = e.stdout;
      status = e.status;
    }
    expect(status).not.toBe(0);
    expect(stdout).toBe('');
  });
});

describe('Throttling at the edge', () => {
  let runtime: LocalRuntime;
  beforeAll(async () => {
    runtime = await startTestRuntime({ throttle: { rateLimit: 5, burstLimit: 10 } });
  });
  afterAll(() => runtime?.stop());

  it('Over the stage limit a client gets 429 with Retry-After and a problem body, never a 5xx', async () => {
    const anchor = clientFor(runtime.url, runtime.tokenSecret, 'anchor', 'anchor-1');
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
