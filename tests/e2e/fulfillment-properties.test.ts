import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import fc from 'fast-check';
import type { LocalRuntime } from '../../lib/local/runtime.ts';
import { startTestRuntime } from '../support/runtime.ts';
import { campaignTierTerms, depositOps, depositTerms, interleave, op, opening, pipelineOn, report, terms, World, type Pipeline } from '../support/pipeline-world.ts';
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
//   - once everything is closed, shipped and delivered, every pre-order is DELIVERED or REFUNDED, or
//     CANCELLED with its deposit kept (a deposit campaign's balance never paid).
// Each run's campaign draws its promises (README, "The promises a pre-sale makes"): a minimum of 1-8
// units against lots of 2-4, variants with minimums of their own, a purchase limit, a ceiling of 1-3
// days, late compensation; buyers switch variants, and the clock moves forward (only forward; real time
// returns after the whole file), so lots ship late, ceilings pass and switch windows end. After every
// step, besides the above:
//   - no batch while net ordered units are below the minimum, and the first takes all of it; a variant
//     below its own minimum reaches no batch before close, and goes in with all of it;
//   - a FAILED campaign has no live batch (a withdrawn one has no manifest), and every pre-order of it is
//     refunded in full unless units reached the buyer, and then the rest is refunded;
//   - no buyer holds more live units than the limit, and a 409 "Purchase limit reached" (or a 202) is
//     what the units the buyer held say it must be;
//   - a switch the buyer was offered, to a variant that made its minimum, within the window, is 200;
//   - a deposit campaign (a third of the runs): paid = the deposit, then deposit + balance; the balance is the price
//     fixed at close less the discount, on every unit, less the deposit; nothing unpaid is ever in a batch; past
//     the deadline nobody owes, and a forfeit keeps the deposit and refunds nothing; no price-drop refunds;
//   - price tiers, a variant's own (half the runs) or the whole campaign's (a quarter: counted over every
//     variant's units, dropping every variant's price): the prices fixed at close are the tiers the units
//     sold then reached, each buyer who paid more refunded the difference once;
//   - refunded ≤ paid (REFUNDED: all of it); nobody is promised past the ceiling, and after a sweep past
//     it nothing is left unshipped and unrefunded; compensation is owed exactly when a lot reached the
//     buyer after the original promise, in the campaign's amount, once (timeline, notice, event, trust).
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
  // The runs moved the runtime's clock forward; real time comes back only now, for the same reason.
  vi.useRealTimers();
  restore?.();
  await runtime?.stop();
});

describe('Fulfillment invariants under random interleavings (fast-check, real handlers, DynamoDB Local)', () => {
  it('hold after every step and at the end', async () => {
    // Each run ends with the factories making everything: on time, in two lots after the promise, or only one unit
    // of each batch before the ceiling passes.
    const ending = fc.constantFrom('made' as const, 'late' as const, 'ceiling' as const);
    // What the runs did is printed whether or not they held.
    try {
      await fc.assert(
        // A campaign's promises, a few pre-orders first (so batches exist), then anything, pre-orders included.
        fc.asyncProperty(terms, opening, fc.array(op, { minLength: 8, maxLength: 28, size: 'max' }), ending, depositTerms, depositOps, campaignTierTerms, async (drawn, first, then, end, deposit, balanceSteps, wide) => {
          // Tiers for the whole campaign only where the variants have none of their own (the API refuses both).
          const campaignTiers = drawn.priceTiers.every((x) => x === undefined) ? wide : undefined;
          const promises = { ...drawn, deposit, campaignTiers };
          const world = new World(pipe);
          await world.start({ ...promises, maxWaitHours });
          for (const o of [...first, ...(deposit ? interleave(then, balanceSteps) : then)]) {
            await world.run(o);
            await runtime.emulator.drain(60_000);
            await world.checkInvariants(false);
          }
          await world.finish(end);
          await world.checkInvariants(true);
          for (const p of await world.preorderStates()) {
            pipe.count(`ended ${p.status}${p.refunds.some((r) => r.reason !== 'price-drop') && p.status === 'DELIVERED' ? ' (partly refunded)' : ''}`);
            if (p.compensatedAmount > 0) pipe.count('compensated (late lot)');
            if (p.switchedFrom !== undefined) pipe.count('ended switched');
            for (const template of ['preorder.refunded_at_ceiling', 'preorder.refunded_variant_missed', 'preorder.variant_missed_minimum', 'preorder.price_dropped', 'preorder.balance_due', 'preorder.forfeited', 'preorder.cancelled_forfeit']) {
              if (p.notifications.some((n) => n.template === template)) pipe.count(`told ${template}`);
            }
          }
          for (const b of await world.batches()) pipe.count(`cut ${b.reason}${b.status === 'WITHDRAWN' ? ' (withdrawn)' : ''}`);
          const { status } = await world.campaign();
          pipe.count(`campaign ${status}${status === 'FAILED' ? ` (minimum ${promises.minTotalQuantity > 1 ? '> 1' : '1'})` : ''}`);
          if (promises.maxPerBuyer !== undefined) pipe.count('campaign with a purchase limit');
          if (promises.minQuantity.some((m) => m !== undefined)) pipe.count('campaign with a variant minimum');
          if (promises.deposit !== undefined) pipe.count(`campaign with deposits ${status}`);
          if (campaignTiers !== undefined) {
            const { finalPrices } = await world.campaign();
            pipe.count(`campaign with tiers for the whole campaign ${status}${finalPrices && Object.keys(finalPrices).length > 1 ? ' (both prices dropped)' : ''}`);
          }
        }),
        { numRuns: Number(process.env.FC_RUNS ?? 20), seed: Number(process.env.FC_SEED ?? 20261122), endOnFailure: true },
      );
    } finally {
      console.log(report('fulfillment properties: what the runs did', pipe.tried));
    }
    // The runs must have exercised the paths the invariants are about, not only refusals.
    const paths = [
      ...['ship 201', 'ship 409', 'deliver 200', 'accept 200', 'reject 200', 'closeShort 200', 'cancel 200', 'progress 200'],
      ...['redeliver (to fulfillment)', 'maxWait tick', 'cut lot', 'cut max-wait', 'cut final'],
      ...['ended DELIVERED', 'ended DELIVERED (partly refunded)', 'ended REFUNDED'],
      ...['switch 200', 'place 409 (purchase limit)', 'compensated (late lot)', 'told preorder.refunded_at_ceiling', 'told preorder.refunded_variant_missed', 'told preorder.price_dropped'],
      ...['campaign FAILED (minimum > 1)', 'confirm refund 200', 'confirm refund (again) 200', 'confirm refund (another amount) 409'],
      ...['campaign with deposits CLOSED', 'campaign with deposits FAILED', 'payBalance 200', 'payBalance (another amount) 409', 'ended CANCELLED'],
      ...['told preorder.balance_due', 'told preorder.forfeited', 'campaign with tiers for the whole campaign CLOSED (both prices dropped)'],
    ];
    for (const key of paths) {
      expect(pipe.tried.get(key) ?? 0, key).toBeGreaterThan(0);
    }
  }, 600_000);
});
