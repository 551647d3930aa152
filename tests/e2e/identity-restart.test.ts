import { mkdtempSync, rmSync } from 'node:fs';
import { randomUUID } from 'node:crypto';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { decodeProtectedHeader } from 'jose';
import type { LocalRuntime } from '../../lib/local/runtime.ts';
import { clientCredentialsToken } from '../../lib/local/dev-tokens.ts';
import { startTestRuntime } from '../support/runtime.ts';

/**
 * The local issuer keeps what a real one keeps: its signing key and the
 * factories' clients survive a restart on the same data directory (here on
 * another port, so the issuer URL changes and only what was persisted carries
 * over). A revoked client stays revoked.
 */
const dataDir = mkdtempSync(join(tmpdir(), 'c2m-issuer-'));
const tableName = `c2m-test-${randomUUID().slice(0, 8)}`;
const running: LocalRuntime[] = [];

afterAll(async () => {
  await Promise.all(running.map((r) => r.stop()));
  rmSync(dataDir, { recursive: true, force: true });
});

const start = async () => {
  const runtime = await startTestRuntime({ dataDir, tableName });
  running.push(runtime);
  return runtime;
};

const register = async (runtime: LocalRuntime, factoryId: string) => {
  const res = await fetch(`${runtime.url}/v1/operator/factories`, {
    method: 'POST',
    headers: { authorization: `Bearer ${await runtime.token('operator', 'op-restart')}`, 'content-type': 'application/json' },
    body: JSON.stringify({ factoryId, name: factoryId }),
  });
  expect(res.status).toBe(201);
  return (await res.json()) as { clientId: string; clientSecret: string };
};

const batchesWith = async (runtime: LocalRuntime, token: string) =>
  (await fetch(`${runtime.url}/v1/factory/batches`, { headers: { authorization: `Bearer ${token}` } })).status;

describe('The local issuer across a restart', () => {
  it('keeps its key and the registered clients; a revoked client stays refused', async () => {
    const first = await start();
    const kept = await register(first, 'factory-kept');
    const gone = await register(first, 'factory-gone');
    const before = await clientCredentialsToken(first.issuer.tokenEndpoint, kept.clientId, kept.clientSecret);
    const revoked = await fetch(`${first.url}/v1/operator/factories/factory-gone/revoke`, {
      method: 'POST',
      headers: { authorization: `Bearer ${await first.token('operator', 'op-restart')}` },
    });
    expect(revoked.status).toBe(200);
    await first.stop();
    running.splice(running.indexOf(first), 1);

    const second = await start();
    expect(second.issuer.issuer).not.toBe(first.issuer.issuer);
    const after = await clientCredentialsToken(second.issuer.tokenEndpoint, kept.clientId, kept.clientSecret);
    expect(await batchesWith(second, after)).toBe(200);
    expect(decodeProtectedHeader(after).kid).toBe(decodeProtectedHeader(before).kid);
    await expect(clientCredentialsToken(second.issuer.tokenEndpoint, gone.clientId, gone.clientSecret)).rejects.toThrow(/invalid_client/);
  }, 120_000);
});
