import { execFile } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { afterAll, describe, expect, it } from 'vitest';

// The served OpenAPI document, as an integrator's tools read it: Redocly CLI's recommended
// ruleset (what `redocly lint` checks before a client is generated from it).
process.env.OIDC_DISCOVERY_URL ??= 'https://issuer.example.com/.well-known/openid-configuration';
const { app } = await import('../../functions/handlers/service/api.ts');

const dir = mkdtempSync(join(tmpdir(), 'c2m-openapi-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

type Problem = { ruleId: string; severity: 'error' | 'warn'; message: string; location: { pointer: string }[] };

describe('The OpenAPI document an integrator generates a client from', () => {
  it("passes Redocly's recommended ruleset with no error and no warning", async () => {
    const res = await app.request('/v1/openapi.json');
    expect(res.status).toBe(200);
    const file = join(dir, 'openapi.json');
    writeFileSync(file, JSON.stringify(await res.json()));
    const bin = join(process.cwd(), 'node_modules', '.bin', 'redocly');
    const out = await promisify(execFile)(bin, ['lint', file, '--extends=recommended', '--format=json'], {
      maxBuffer: 32 * 1024 * 1024,
      // No telemetry or update check: CI reaches the npm registry and nothing else.
      env: { ...process.env, REDOCLY_TELEMETRY: 'off', REDOCLY_SUPPRESS_UPDATE_NOTICE: 'true' },
    }).catch(
      (err: { stdout?: string }) => ({ stdout: err.stdout ?? '' }),
    );
    const report = JSON.parse(out.stdout.slice(out.stdout.indexOf('{'))) as { totals: { errors: number; warnings: number }; problems: Problem[] };
    const said = report.problems.map((p) => `${p.severity} ${p.ruleId} ${p.location[0]?.pointer ?? ''}: ${p.message}`);
    expect(said).toEqual([]);
    expect(report.totals).toMatchObject({ errors: 0, warnings: 0 });
  }, 60_000);

  it('names every operation once, in camelCase, and says which need no token', async () => {
    const doc = (await (await app.request('/v1/openapi.json')).json()) as {
      servers: { url: string }[];
      paths: Record<string, Record<string, { operationId?: string; security?: unknown[] }>>;
    };
    const operations = Object.entries(doc.paths).flatMap(([path, methods]) => Object.entries(methods).map(([method, op]) => ({ route: `${method.toUpperCase()} ${path}`, ...op })));
    const ids = operations.map((o) => o.operationId);
    expect(ids.every((id) => typeof id === 'string' && /^[a-z][A-Za-z0-9]+$/.test(id)), JSON.stringify(ids)).toBe(true);
    expect(new Set(ids).size).toBe(ids.length);
    expect(ids).toEqual(expect.arrayContaining(['listFactoryBatches', 'acceptBatch', 'createShipment', 'getBatchManifest', 'updateCampaign']));
    const open = operations.filter((o) => Array.isArray(o.security) && o.security.length === 0).map((o) => o.route);
    expect(open.sort()).toEqual(['GET /v1/health', 'GET /v1/openapi.json']);
    // Relative to the document's own address (…/v1/openapi.json): the deployment's root, with or without a stage prefix.
    expect(new URL(doc.servers[0]!.url, 'https://abc.execute-api.ap-east-1.amazonaws.com/prod/v1/openapi.json').href).toBe('https://abc.execute-api.ap-east-1.amazonaws.com/prod/');
  });
});
