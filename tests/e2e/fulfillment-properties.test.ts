import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import fc from 'fast-check';
import type { LocalRuntime } from '../../lib/local/runtime.ts';
import { startTestRuntime } from '../support/runtime.ts';
import { op, opening, pipelineOn, report, World, type Pipeline } from '../support/pipeline-world.ts';
import { silenceBuyerNotifications } from '../support/quiet.ts';

// Property: whatever the interleaving of pre-orders, cancels, cuts (lot, max-wait and final),
// acceptances (some late: delay notices), rejections (to the backup factory, then refunds), progress,
// partial shipments, deliveries, short closes (partial refunds) and redelivered events, after every
// step and at the end (tests/support/pipeline-world.ts, each term from its own source):
//   - per variant: demand's ordered = delivered + in flight (the buyers' lots) + refunded (their
//     refunds) + not shipped yet (demand's waiting + what open batches still owe), and the demand
//     counters agree with the pre-orders and the batches;
//   - per batch and sku: shipped = the lots the test shipped = the units allocated to its pre-orders;
//     every lot's units reached buyers, once; no pre-order gets more units than it ordered (less what
//     was refunded); each pre-order is in at most one batch's manifest;
//   - every buyer was told each step of their pre-order exactly once (notifications against the
//     timeline, the events published and what the channel printed);
//   - once everything is closed, shipped and delivered, every pre-order is DELIVERED or REFUNDED.
// The real handlers run in the local runtime against DynamoDB Local; each step waits for the
// queues to drain. Nothing here is a mock.

/**
 * About a second: a max-wait step waits at most that for the oldest waiting pre-order to be due, and
 * a lot's cut rarely finds its leftovers (the newest pre-orders) due.
 */
const maxWaitHours = 0.0003;

let runtime: LocalRuntime;
let pipe: Pipeline;
let restore: () => void;

beforeAll(async () => {
  // No batching windows: each step waits for its consequences, not for a window to close.
  runtime = await startTestRuntime({ maxBatchingWindowSeconds: 0 });
  pipe = pipelineOn(runtime);
  restore = silenceBuyerNotifications(pipe.listen());
});
afterAll(async () => {
  restore?.();
  await runtime?.stop();
});

describe('Fulfillment invariants under random interleavings (fast-check, real handlers, DynamoDB Local)', () => {
  it('hold after every step and at the end', async () => {
    await fc.assert(
      // A few pre-orders first (so batches exist), then anything, pre-orders included.
      fc.asyncProperty(opening, fc.array(op, { minLength: 8, maxLength: 24, size: 'max' }), async (first, then) => {
        const world = new World(pipe);
        await world.start({ maxWaitHours });
        for (const o of [...first, ...then]) {
          await world.run(o);
          await runtime.emulator.drain(60_000);
          await world.checkInvariants(false);
        }
        await world.finish();
        await world.checkInvariants(true);
        for (const p of await world.preorderStates()) pipe.count(`ended ${p.status}${p.refundedAmount > 0 && p.status === 'DELIVERED' ? ' (partly refunded)' : ''}`);
        for (const b of await world.batches()) pipe.count(`cut ${b.reason}`);
      }),
      { numRuns: Number(process.env.FC_RUNS ?? 16), seed: Number(process.env.FC_SEED ?? 20261122), endOnFailure: true },
    );
    console.log(report('fulfillment properties: what the runs did', pipe.tried));
    // The runs must have exercised the paths the invariants are about, not only refusals.
    const paths = [
      ...['ship 201', 'ship 409', 'deliver 200', 'accept 200', 'reject 200', 'closeShort 200', 'cancel 200', 'progress 200'],
      ...['redeliver (to fulfillment)', 'maxWait tick', 'cut lot', 'cut max-wait', 'cut final'],
      ...['ended DELIVERED', 'ended DELIVERED (partly refunded)', 'ended REFUNDED'],
    ];
    for (const key of paths) {
      expect(pipe.tried.get(key) ?? 0, key).toBeGreaterThan(0);
    }
  }, 600_000);
});
