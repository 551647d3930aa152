import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { LocalRuntime } from '../../lib/local/runtime.ts';
import { runFlashSale } from '../../lib/demo/flash-sale.ts';
import { checkFlashSale } from '../../lib/demo/checks.ts';
import { captureStdout, type StdoutCapture } from '../../lib/demo/console.ts';
import { startTestRuntime } from '../support/runtime.ts';

// `npm run demo`'s scenario, small: a flash sale played over HTTP from the burst to the last
// delivery, then every invariant the demo prints checked. A broken invariant fails here, not
// only in someone's terminal.

let runtime: LocalRuntime;
let capture: StdoutCapture;

beforeAll(async () => {
  // No batching windows: the sale waits for its consequences, not for windows to close.
  runtime = await startTestRuntime({ maxBatchingWindowSeconds: 0 });
  capture = captureStdout((line) => process.stderr.write(`${line}\n`));
});
afterAll(async () => {
  capture?.restore();
  await runtime?.stop();
});

describe('npm run demo: a live-room flash sale end to end', () => {
  it('When 150 buyers rush a capped campaign and the factory ships it in lots, every check holds', async () => {
    const run = await runFlashSale({
      url: runtime.url,
      tokenSecret: runtime.tokenSecret,
      buyers: 150,
      concurrency: 16,
      seed: 20261122,
      drain: () => runtime.emulator.drain(60_000),
      stallMs: 15_000,
    });
    const checks = checkFlashSale(run);

    for (const c of checks) expect(c.ok, `${c.name}: ${c.detail}`).toBe(true);
    // The story must have happened, not only its absence of failures.
    expect(run.final!.batches.length).toBeGreaterThanOrEqual(3);
    expect(run.placements.some((p) => p.answers.some((a) => a.problem === 'urn:c2m:problem:campaign-cap-reached'))).toBe(true);
    expect(run.cancels.filter((c) => c.status === 200).map((c) => c.when)).toEqual(expect.arrayContaining(['before-batching', 'after-delay']));
    expect(run.factory).toMatchObject({ lotsResentSame: 1 });
    expect(run.factory.shortUnits).toBeGreaterThan(0);
    expect(run.final!.preorders.some((p) => p.timeline.some((t) => t.step === 'delayed'))).toBe(true);
    expect(capture.notificationLines()).toBeGreaterThanOrEqual(run.final!.preorders.reduce((n, p) => n + p.notifications.length, 0));
  }, 90_000);
});
