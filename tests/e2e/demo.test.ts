import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { LocalRuntime } from '../../lib/local/runtime.ts';
import { runFlashSale } from '../../demo/flash-sale.ts';
import { checkFlashSale } from '../../demo/checks.ts';
import { renderSummary } from '../../demo/summary.ts';
import { captureStdout, type StdoutCapture } from '../../demo/console.ts';
import { shiftableClock } from '../../demo/clock.ts';
import { limitTitle } from '../../demo/views.ts';
import { startTestRuntime } from '../support/runtime.ts';
import { cachedTokens } from '../../lib/local/dev-tokens.ts';

// `npm run demo`'s scenario, small: a flash sale played over HTTP from the burst to the last
// delivery, then every invariant the demo prints checked. A broken invariant fails here, not
// only in someone's terminal. The runtime is in this process, so the demo moves its clock: the
// switch window ends and a lot ships after the original promise, as `npm run demo` does. Beside it a
// small deposit sale (定金/尾款) runs to the end: its balance deadline passes with the same move.

let runtime: LocalRuntime;
let capture: StdoutCapture;
const clock = shiftableClock();

beforeAll(async () => {
  // No batching windows: the sale waits for its consequences, not for windows to close.
  runtime = await startTestRuntime({ maxBatchingWindowSeconds: 0 });
  capture = captureStdout((line) => process.stderr.write(`${line}\n`));
});
afterAll(async () => {
  capture?.restore();
  await runtime?.stop();
  // Only once the runtime that saw the moved clock has stopped.
  clock.restore();
});

describe('npm run demo: a live-room flash sale end to end', () => {
  it('When 150 buyers rush a capped campaign, a colour misses its minimum, some buy past the limit and a lot ships late, and a deposit sale leaves some balances unpaid, every check holds', async () => {
    // Asked of the runtime's issuer and renewed as they expire: the demo moves the clock by days.
    const tokens = cachedTokens(runtime.issuer);
    const run = await runFlashSale({
      url: runtime.url,
      tokens: (p) => tokens(p.role, p.id),
      buyers: 150,
      concurrency: 16,
      seed: 20261122,
      drain: () => runtime.emulator.drain(60_000),
      stallMs: 15_000,
      timeTravel: { clock, sweep: () => runtime.emulator.fireSchedule('campaign-sweep') },
    });
    const checks = checkFlashSale(run);
    const summary = renderSummary(run, checks, { runtime: 'in-process (test)' });
    if (checks.some((c) => !c.ok)) process.stderr.write(summary);

    for (const c of checks) expect(c.ok, `${c.name}: ${c.detail}`).toBe(true);
    // The promises' checks are among them.
    expect(checks.map((c) => c.name)).toEqual(
      expect.arrayContaining([
        expect.stringMatching(/^a variant below its own minimum never reaches the factory/),
        expect.stringMatching(/^every buyer of TEE-SAKURA told once, then switched \(and delivered\) or refunded in full/),
        expect.stringMatching(/^no buyer holds more than 3 units; refused only past the limit/),
        expect.stringMatching(/^late pre-orders compensated once: 10 % of the order within ¥5\.00–¥100\.00/),
        'every pre-order DELIVERED or REFUNDED',
        'every refund paid back once and told; for each buyer, paid − refunded = what the units kept cost',
        expect.stringMatching(/^every buyer heard each step exactly once/),
        'deposit sale: whoever paid the balance DELIVERED (or refunded, with a reason); the unpaid and the one who cancelled CANCELLED, deposit kept, nothing refunded',
        'deposit sale: money per buyer, paid − refunded = delivered units × final price + deposit kept',
        'deposit sale: nothing of an unpaid pre-order reached a factory',
        'deposit sale: each balance asked = (tier price reached − discount) × units − deposit',
      ]),
    );

    // The story must have happened, not only its absence of failures.
    expect(run.final!.batches.length).toBeGreaterThanOrEqual(3);
    expect(run.placements.some((p) => p.answers.some((a) => a.problem === 'urn:c2m:problem:campaign-cap-reached'))).toBe(true);
    expect(run.cancels.filter((c) => c.status === 200).map((c) => c.when)).toEqual(expect.arrayContaining(['before-batching', 'after-delay']));
    expect(run.factory).toMatchObject({ lotsResentSame: 1 });
    expect(run.factory.shortUnits).toBeGreaterThan(0);
    expect(run.final!.preorders.some((p) => p.timeline.some((t) => t.step === 'delayed'))).toBe(true);
    expect(capture.notificationLines()).toBeGreaterThanOrEqual(run.final!.preorders.reduce((n, p) => n + p.notifications.length, 0));

    // A colour below its minimum: its buyers were told; some switched to a size, the rest were refunded when the window ended.
    const byId = new Map(run.final!.preorders.map((p) => [p.preorderId, p]));
    const switched = run.switches.filter((x) => x.status === 200);
    const left = run.switches.filter((x) => x.status === undefined);
    expect(run.switches.every((x) => x.told)).toBe(true);
    expect(switched.length).toBeGreaterThanOrEqual(1);
    expect(left.length).toBeGreaterThanOrEqual(1);
    for (const x of switched) expect(byId.get(x.preorderId)).toMatchObject({ status: 'DELIVERED', sku: x.to, switchedFrom: 'TEE-SAKURA' });
    for (const x of left) expect(byId.get(x.preorderId)).toMatchObject({ status: 'REFUNDED', sku: 'TEE-SAKURA' });
    // Buyers past the limit were refused with the contract's title, and that was no unexpected answer.
    expect(run.placements.filter((p) => p.answers.some((a) => a.status === 409 && a.title === limitTitle)).length).toBeGreaterThanOrEqual(2);
    // The clock moved forward twice and the late lot earned compensation, in the trust figures too.
    expect(run.clock.moves.map((m) => m.why)).toEqual([expect.stringMatching(/switch window's end/), expect.stringMatching(/past the original promise/)]);
    expect(run.lateLot).toMatchObject({ shipped: true, batchId: run.factory.delayedBatchId });
    const compensated = run.final!.preorders.filter((p) => p.compensatedAmount > 0);
    expect(compensated.length).toBeGreaterThan(0);
    expect(run.final!.trust.compensation.count).toBe(compensated.length);

    expect(summary).toMatch(/below its minimum\s+TEE-SAKURA \d+ of \d+ units, not made · \d+ buyers told · \d+ switched \(.+\) · \d+ refunded at the window's end, ¥[\d,]+\.\d\d/);
    expect(summary).toMatch(/refused \(limit\)\s+\d+ orders past 3 per buyer \(409 "Purchase limit reached"\)/);
    expect(summary).toMatch(/late lot\s+bat_\S+ \(the delayed batch\) shipped in \d+ lots 1\.0 days after the original promise/);
    expect(summary).toMatch(/compensation\s+\d+ pre-orders compensated · ¥[\d,]+\.\d\d owed/);
    expect(summary).toMatch(/trust \(promises\)\s+compensated \d+, ¥[\d,]+\.\d\d · \d+ units refunded at the ceiling · refund decision → event p50/);
    expect(summary).toMatch(/clock\s+moved forward \+1\.0 days to the switch window's end, 24 h after the close, then \+\d+\.\d days to a day past the original promise/);
    // The platform paid every refund back and confirmed it; some confirmations twice, answered the same.
    expect(run.payments.confirmed).toBe(run.final!.preorders.reduce((n, p) => n + p.refunds.length, 0));
    expect(run.payments.confirmed).toBeGreaterThan(0);
    expect(run.payments.repeated).toBeGreaterThan(0);
    expect(summary).toMatch(/money\s+¥[\d,]+\.\d\d paid in by \d+ pre-orders · ¥[\d,]+\.\d\d paid back in \d+ refunds \(.*cancelled.*\) · ¥[\d,]+\.\d\d kept/);
    expect(summary).toMatch(/refunds paid\s+(\d+) of \1 confirmed by the platform/);

    // The deposit sale: some paid and were delivered, some left the balance and lost the deposit, one cancelled first;
    // a tier was reached, and only what was paid for was made.
    const dep = run.deposit!;
    const ended = new Map(dep.final!.preorders.map((p) => [p.preorderId, p]));
    const endOf = (plan: string) => dep.buyers.filter((b) => b.plan === plan).map((b) => ended.get(b.preorderId!)?.status);
    expect(dep.buyers.length).toBeGreaterThanOrEqual(20);
    expect(dep.buyers.length).toBeLessThanOrEqual(40);
    expect(endOf('pay').length).toBeGreaterThan(0);
    expect(endOf('pay').every((s) => s === 'DELIVERED')).toBe(true);
    expect(endOf('leave').length).toBeGreaterThan(0);
    expect(endOf('leave').every((s) => s === 'CANCELLED')).toBe(true);
    expect(endOf('cancel')).toEqual(['CANCELLED']);
    expect(dep.final!.preorders.some((p) => p.finalUnitPrice < p.unitPrice - dep.settings.depositDiscount)).toBe(true);
    expect(dep.shipments.length).toBeGreaterThan(0);
    expect(dep.shipments.every((s) => s.delivered)).toBe(true);
    expect(dep.repeats).toEqual({ sent: 1, same: 1 });
    expect(dep.lateAttempt).toEqual({ status: 409, path: 'preorderId', code: 'balance_window_closed' });
    expect(summary).toMatch(/deposit sale\s+\d+ buyers · deposit ¥20\.00 a unit, ¥10\.00 off the balance · LINEN-WHITE \d+ sold at ¥119\.00 \(tier; list ¥129\.00\)/);
    const ledger = summary.slice(summary.indexOf('Money in and out, deposit campaign'), summary.indexOf('\nChecks'));
    expect(ledger).toMatch(/buyer\s+order\s+ended\s+deposit paid\s+balance paid\s+refunded\s+kept \(forfeited\)\s+final cost/);
    expect(ledger.match(/^ {2}buyer \d+ /gm)).toHaveLength(dep.buyers.length);
    expect(ledger).toMatch(/CANCELLED \(unpaid\)\s+¥20\.00|CANCELLED \(unpaid\)\s+¥40\.00/);
    expect(ledger).toMatch(/conservation: ¥[\d,]+\.\d\d paid in − ¥[\d,]+\.\d\d refunded = ¥[\d,]+\.\d\d for the units delivered \+ ¥[\d,]+\.\d\d in deposits kept ✓/);
    // What a person reads names buyers by number: no pre-order, buyer or payment ids.
    expect(ledger).not.toMatch(/po_|deposit-fan-|dep_/);
    expect(summary).toMatch(new RegExp(`All ${checks.length} checks passed\\.`));
  }, 240_000);
});
