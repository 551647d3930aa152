import { execFile } from 'node:child_process';
import { existsSync, mkdtempSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, relative } from 'node:path';
import { promisify } from 'node:util';
import { afterAll, describe, expect, it } from 'vitest';

// The typed client's generated part (clients/typescript: openapi.json, src/schema.ts,
// src/operations.ts) is committed; it must be what `npm run client:generate` writes from
// the API's routes today, so a route changed without regenerating fails here.

const clientDir = join(process.cwd(), 'clients', 'typescript');
const out = mkdtempSync(join(tmpdir(), 'c2m-client-'));
afterAll(() => rmSync(out, { recursive: true, force: true }));

const filesUnder = (dir: string): string[] =>
  readdirSync(dir, { withFileTypes: true, recursive: true })
    .filter((e) => e.isFile())
    .map((e) => relative(dir, join(e.parentPath, e.name)))
    .sort();

describe('The committed factory client', () => {
  it('is exactly what `npm run client:generate` writes from the API as it is now', async () => {
    // Act: the very script the npm script runs, into a directory of its own.
    await promisify(execFile)(join(process.cwd(), 'node_modules', '.bin', 'tsx'), [join(clientDir, 'scripts', 'generate.ts'), '--out', out], {
      env: { ...process.env, AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED: 'true' },
    });

    // Assess
    const generated = filesUnder(out);
    expect(generated).toEqual(['openapi.json', 'src/operations.ts', 'src/schema.ts']);
    const stale = generated.filter((file) => {
      const committed = join(clientDir, file);
      return !existsSync(committed) || readFileSync(committed, 'utf8') !== readFileSync(join(out, file), 'utf8');
    });
    expect(stale, `clients/typescript/{${stale.join(', ')}} differ from what the API's routes generate: run \`npm run client:generate\` and commit the result`).toEqual([]);
  }, 60_000);
});
