import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import fc from 'fast-check';
import type { LocalRuntime } from '../../lib/local/runtime.ts';
import { startTestRuntime } from '../support/runtime.ts';
import { op, opening, pipelineOn, report, World, type Pipeline } from '../support/pipeline-world.ts';
import { silenceBuyerNotifications } from '../support/quiet.ts';

// Property: whatever the interleaving of pre-orders, cancels, cuts, acceptances (some late: delay
// notices), rejections (to the backup factory, then refunds), progress, partial shipments,
// deliveries, short closes and redelivered events, after every step and at the end:
//   - per variant: ordered = delivered + in flight + refunded + not shipped yet, and the campaign's
//     demand agrees (ordered = batched + waiting + cancelled);
//   - no pre-order gets more units than it ordered (less what was refunded);
//   - every buyer was told each step of their pre-order exactly once;
//   - once everything is closed, shipped and delivered, every pre-order is DELIVERED or REFUNDED.
// The real handlers run in the local runtime against DynamoDB Local; each step waits for the
// queues to drain. Nothing here is a mock.

let runtime: LocalRuntime;
let pipe: Pipeline;
let restore: () => void;

beforeAll(async () => {
  // No batching windows: each step waits for its consequences, not for a window to close.
  runtime = await startTestRuntime({ maxBatchingWindowSeconds: 0 });
  pipe = pipelineOn(runtime);
  restore = silenceBuyerNotifications();
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
        await world.start();
        for (const o of [...first, ...then]) {
          await world.run(o);
          await runtime.emulator.drain(60_000);
          await world.checkInvariants(false);
        }
        await world.finish();
        await world.checkInvariants(true);
        for (const p of await world.preorderStates()) pipe.count(`ended ${p.status}${p.refundedAmount > 0 && p.status === 'DELIVERED' ? ' (partly refunded)' : ''}`);
      }),
      { numRuns: 16, seed: Number(process.env.FC_SEED ?? 20261122), endOnFailure: true },
    );
    console.log(report('fulfillment properties: what the runs did', pipe.tried));
    // The runs must have exercised the paths the invariants are about, not only refusals.
    for (const key of ['ship 201', 'ship 409', 'deliver 200', 'accept 200', 'reject 200', 'closeShort 200', 'cancel 200', 'ended DELIVERED', 'ended REFUNDED']) {
      expect(pipe.tried.get(key), key).toBeGreaterThan(0);
    }
  }, 600_000);
});
