import { afterAll, describe, expect, it } from 'vitest';
import { spawn, type ChildProcess } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { freePort } from '../../lib/local/dynamodb.ts';
import { clientFor, campaignDraft, preorderDraft, registerFactories, runtimeIn } from '../support/runtime.ts';

const root = fileURLToPath(new URL('../../', import.meta.url));
const dataDir = mkdtempSync(join(tmpdir(), 'c2m-crash-'));
const children: ChildProcess[] = [];

/** `npm start` as a user runs it, as a separate process we can kill -9. */
const startRuntime = async (port: number) => {
  const child = spawn(process.execPath, ['--import', 'tsx', 'bin/local.ts', '--data-dir', dataDir, '--port', String(port)], {
    cwd: root,
    env: { ...process.env, AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED: 'true' },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  children.push(child);
  let out = '';
  child.stdout?.on('data', (d: Buffer) => (out += d.toString()));
  child.stderr?.on('data', (d: Buffer) => (out += d.toString()));
  const deadline = Date.now() + 60_000;
  for (;;) {
    if (child.exitCode !== null) throw new Error(`runtime exited: ${out.slice(-2000)}`);
    try {
      if ((await fetch(`http://127.0.0.1:${port}/v1/health`)).status === 200) break;
    } catch {
      // not up yet
    }
    if (Date.now() > deadline) throw new Error(`runtime did not come up: ${out.slice(-2000)}`);
    await new Promise((r) => setTimeout(r, 200));
  }
  return { child, output: () => out };
};

afterAll(() => {
  for (const c of children) if (c.exitCode === null) c.kill('SIGKILL');
  rmSync(dataDir, { recursive: true, force: true });
});

describe('A kill -9 in the middle of a burst loses nothing that was accepted', () => {
  it('Every pre-order that got 202 is there after a restart on the same data, counted exactly once, and queued work resumes', async () => {
    const port = await freePort();
    const first = await startRuntime(port);
    const url = `http://127.0.0.1:${port}`;
    // Tokens from the runtime's own issuer; the restart is on the same port and data, so its issuer,
    // keys and registered factories are the same after it and these tokens still hold.
    const runtime = runtimeIn(dataDir, url);
    await registerFactories(runtime, 'factory-1');
    const anchor = clientFor(runtime, 'anchor', 'anchor-1');
    const buyers = Array.from({ length: 40 }, (_, b) => clientFor(runtime, 'buyer', `buyer-${b}`));
    await Promise.all(buyers.map((b) => b.token()));
    const { body } = await anchor.post<{ campaignId: string }>('/v1/campaigns', campaignDraft());
    const campaignId = body.campaignId;

    // Burst: 16 clients, each with its own keys, until the runtime is killed under them.
    const total = 400;
    const accepted = new Map<number, string>();
    let next = 0;
    const order = (i: number) =>
      buyers[i % 40]!.post<{ preorderId: string }>(
        `/v1/campaigns/${campaignId}/preorders`,
        preorderDraft({ quantity: 1 + (i % 3) }),
        { idempotencyKey: `burst-${i}` },
      );
    const worker = async () => {
      while (next < total) {
        const i = next++;
        try {
          const r = await order(i);
          if (r.status === 202) accepted.set(i, r.body.preorderId);
        } catch {
          // connection died with the runtime: this request's fate is unknown to the client
        }
      }
    };
    const burst = Promise.all(Array.from({ length: 16 }, worker));
    while (accepted.size < 150) await new Promise((r) => setTimeout(r, 5));
    // A second campaign whose close schedule is due while the runtime is down: created mid-burst,
    // then the kill at once.
    const closesAt = Date.now() + 5_000;
    const closing = await anchor.post<{ campaignId: string }>(
      '/v1/campaigns',
      campaignDraft({ closesAt: new Date(closesAt).toISOString(), minTotalQuantity: 0 }),
    );
    expect(closing.status).toBe(201);
    first.child.kill('SIGKILL');
    await burst;
    expect(accepted.size).toBeGreaterThanOrEqual(150);
    expect(accepted.size).toBeLessThan(total);
    const eventIdsIn = (output: string, detailType: string) =>
      new Set(
        output
          .split('\n')
          .filter((line) => line.includes(`"${detailType}"`))
          .flatMap((line) => {
            try {
              return [(JSON.parse(line) as { eventId: string }).eventId];
            } catch {
              return []; // the last line of a killed process may be cut short
            }
          }),
      );
    const closedEvent = `campaign.closed:${closing.body.campaignId}`;
    expect(eventIdsIn(first.output(), 'campaign.closed').has(closedEvent)).toBe(false);

    // Stay down past the second campaign's closing time.
    await new Promise((r) => setTimeout(r, Math.max(0, closesAt + 1_000 - Date.now())));
    const second = await startRuntime(port);

    // Every 202 survived, with the same id.
    for (const [i, preorderId] of accepted) {
      const res = await buyers[i % 40]!.get<{ preorderId: string; status: string }>(`/v1/preorders/${preorderId}`);
      expect(res.status, `pre-order ${i}`).toBe(200);
    }
    // Clients retry what they did not hear back about, with the same key: a replay or a first acceptance.
    const unknown = Array.from({ length: total }, (_, i) => i).filter((i) => !accepted.has(i));
    for (let k = 0; k < unknown.length; k += 16) {
      await Promise.all(
        unknown.slice(k, k + 16).map(async (i) => {
          const r = await order(i);
          expect(r.status).toBe(202);
          accepted.set(i, r.body.preorderId);
        }),
      );
    }
    const units = [...accepted.keys()].reduce((n, i) => n + 1 + (i % 3), 0);
    const demand = await anchor.get<{ totals: { ordered: number } }>(`/v1/campaigns/${campaignId}/demand`);
    expect(demand.body.totals.ordered).toBe(units);
    expect(new Set(accepted.values()).size).toBe(total);

    // The table's stream outlived the kill: every pre-order is announced, by the first run or the second.
    const announced = () => eventIdsIn(first.output() + second.output(), 'preorder.accepted');
    const until = Date.now() + 30_000;
    while (Date.now() < until && [...accepted.values()].some((id) => !announced().has(`preorder.accepted:${id}`))) {
      await new Promise((r) => setTimeout(r, 250));
    }
    expect([...accepted.values()].filter((id) => !announced().has(`preorder.accepted:${id}`))).toEqual([]);
    // …and listed for the anchor exactly once: the second run read the stream on from where the first got to.
    const listed: string[] = [];
    let cursor: string | undefined;
    do {
      const page = await anchor.get<{ items: { preorderId: string }[]; nextCursor?: string }>(
        `/v1/campaigns/${campaignId}/preorders?limit=100${cursor ? `&cursor=${encodeURIComponent(cursor)}` : ''}`,
      );
      expect(page.status).toBe(200);
      listed.push(...page.body.items.map((p) => p.preorderId));
      cursor = page.body.nextCursor;
    } while (cursor);
    expect(listed).toHaveLength(new Set(listed).size);
    expect(new Set(listed)).toEqual(new Set(accepted.values()));

    // Queued work survived the kill: the journaled close schedule, due while the runtime was
    // down (the first run never closed it), fires in the second run and the campaign closes.
    const deadline = Date.now() + 30_000;
    let status = '';
    while (Date.now() < deadline && status !== 'CLOSED') {
      status = (await anchor.get<{ status: string }>(`/v1/campaigns/${closing.body.campaignId}`)).body.status;
      await new Promise((r) => setTimeout(r, 250));
    }
    expect(status).toBe('CLOSED');
    expect(eventIdsIn(second.output(), 'campaign.closed').has(closedEvent)).toBe(true);
    second.child.kill('SIGTERM');
  }, 240_000);
});
