import { execFile, execFileSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { LocalRuntime } from '../../lib/local/runtime.ts';
import { clientFor, startTestRuntime } from '../support/runtime.ts';

/**
 * README's "Using the API" story, run as a newcomer would paste it: the first
 * shell block of that section, in bash, against a fresh runtime. Only the API
 * address changes (and the data directory `npm run token` reads, since the
 * runtime is not the one in `.local`). It must get a factory its token with
 * client credentials, sign an anchor in, meet the minimum, and end with the
 * buyer's pre-order DELIVERED.
 */
const root = fileURLToPath(new URL('../../', import.meta.url));
const readme = readFileSync(join(root, 'README.md'), 'utf8');

const storyBlock = (): string => {
  const section = readme.slice(readme.indexOf('## Using the API'));
  const block = /```sh\n([\s\S]*?)\n```/.exec(section)?.[1];
  if (!block) throw new Error('README has no shell block under "## Using the API"');
  return block;
};

let runtime: LocalRuntime;
let dataDir: string;

beforeAll(async () => {
  dataDir = mkdtempSync(join(tmpdir(), 'c2m-readme-'));
  runtime = await startTestRuntime({ dataDir });
});

afterAll(async () => {
  await runtime?.stop();
  rmSync(dataDir, { recursive: true, force: true });
});

describe("README's story", () => {
  it('pasted in order, takes a pre-order from a signed-in anchor to a delivered parcel', async () => {
    const block = storyBlock();
    expect(block.startsWith('API=http://localhost:3000')).toBe(true);
    const script = block.replace(/^API=http:\/\/localhost:3000/, `API=${runtime.url}`);
    const { code, stdout, stderr } = await new Promise<{ code: number | null; stdout: string; stderr: string }>((resolve) => {
      execFile(
        'bash',
        ['-e', '-c', script],
        { cwd: root, env: { ...process.env, C2M_DATA_DIR: dataDir }, timeout: 180_000, maxBuffer: 16 * 1024 * 1024 },
        (err, out, errOut) => resolve({ code: err ? ((err as { code?: number }).code ?? 1) : 0, stdout: out, stderr: errOut }),
      );
    });
    expect(code, `${stderr}\n${stdout.slice(-2000)}`).toBe(0);
    expect(stdout).toMatch(/"factoryId":"factory-linen","clientId":"[^"]+","clientSecret":"[^"]+"/);
    expect(stdout).not.toMatch(/"status":4\d\d/);

    // Read back independently, as the buyer the story named: delivered, all three units.
    const buyer = clientFor(runtime, 'buyer', 'fan-wang');
    const mine = await buyer.get<{ items: { status: string; quantity: number; shipments: { quantity: number }[] }[] }>('/v1/preorders?mine=true');
    expect(mine.status).toBe(200);
    expect(mine.body.items).toHaveLength(1);
    expect(mine.body.items[0]).toMatchObject({ status: 'DELIVERED', quantity: 3 });
    // And the anchor who signed in through the page owns the campaign.
    const anchor = clientFor(runtime, 'anchor', 'anchor-li');
    const campaigns = await anchor.get<{ items: { title: string; status: string }[] }>('/v1/campaigns?mine=true');
    expect(campaigns.body.items.map((c) => c.title)).toEqual(['Hand-stitched linen shirt']);
  }, 240_000);

  it('computes the PKCE challenge of a verifier that begins with a dash (one random verifier in 64 does)', () => {
    // The story once passed the verifier to node bare, and node took "-E02…" for an option: CI failed at random.
    const line = storyBlock().split('\n').find((l) => l.startsWith('CHALLENGE='));
    expect(line).toBeDefined();
    const verifier = '-E024SLORdChSZKAxfhdatHpdUEE8eRf7eBMIIJ4ZBw';
    const out = execFileSync('bash', ['-e', '-c', `VERIFIER='${verifier}'\n${line}\necho "$CHALLENGE"`], { cwd: root, encoding: 'utf8' });
    expect(out.trim()).toBe(createHash('sha256').update(verifier).digest('base64url'));
  });
});
