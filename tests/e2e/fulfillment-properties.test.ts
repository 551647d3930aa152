import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import fc from 'fast-check';
import { EventBridgeClient, PutEventsCommand } from '@aws-sdk/client-eventbridge';
import type { LocalRuntime } from '../../lib/local/runtime.ts';
import { localCredentials, localRegion } from '../../lib/local/dynamodb.ts';
import { campaignDraft, clientFor, preorderDraft, startTestRuntime, type Reply } from '../support/runtime.ts';

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
let anchor: ReturnType<typeof clientFor>;
const factories: Record<string, ReturnType<typeof clientFor>> = {};
const buyers: ReturnType<typeof clientFor>[] = [];
let bus: EventBridgeClient;
/** What the runs actually did, by operation and answer: printed at the end, so a run that only hit 409s shows. */
const tried = new Map<string, number>();
const count = (key: string) => tried.set(key, (tried.get(key) ?? 0) + 1);
const quietWrite = process.stdout.write.bind(process.stdout);

beforeAll(async () => {
  // No batching windows: each step waits for its consequences, not for a window to close.
  runtime = await startTestRuntime({ maxBatchingWindowSeconds: 0 });
  anchor = clientFor(runtime.url, runtime.tokenSecret, 'anchor', 'anchor-p');
  for (const id of ['factory-p', 'factory-q']) factories[id] = clientFor(runtime.url, runtime.tokenSecret, 'factory', id);
  for (let i = 0; i < 4; i++) buyers.push(clientFor(runtime.url, runtime.tokenSecret, 'buyer', `pbuyer-${i}`));
  bus = new EventBridgeClient({ endpoint: runtime.emulator.endpoint, region: localRegion, credentials: localCredentials });
  // The local notification channel prints a line per message; hundreds of them would bury the report.
  process.stdout.write = ((chunk: string | Uint8Array, ...rest: unknown[]) =>
    typeof chunk === 'string' && chunk.includes('🔔') ? true : quietWrite(chunk as never, ...(rest as []))) as typeof process.stdout.write;
});
afterAll(async () => {
  process.stdout.write = quietWrite;
  await runtime?.stop();
});

const skus = ['SHIRT-S', 'SHIRT-M'];

type Op =
  | { kind: 'place'; buyer: number; sku: number; quantity: number }
  | { kind: 'cancel'; pick: number }
  | { kind: 'close' }
  | { kind: 'accept'; pick: number; lateDays: number }
  | { kind: 'reject'; pick: number }
  | { kind: 'progress'; pick: number; sku: number; share: number }
  | { kind: 'ship'; pick: number; sku: number; quantity: number }
  | { kind: 'deliver'; pick: number }
  | { kind: 'closeShort'; pick: number }
  | { kind: 'redeliver'; pick: number };

const op: fc.Arbitrary<Op> = fc.oneof(
  { weight: 4, arbitrary: fc.record({ kind: fc.constant('place' as const), buyer: fc.nat(3), sku: fc.nat(1), quantity: fc.integer({ min: 1, max: 3 }) }) },
  { weight: 2, arbitrary: fc.record({ kind: fc.constant('cancel' as const), pick: fc.nat() }) },
  { weight: 1, arbitrary: fc.constant({ kind: 'close' as const }) },
  { weight: 4, arbitrary: fc.record({ kind: fc.constant('accept' as const), pick: fc.nat(), lateDays: fc.constantFrom(-1, 20) }) },
  { weight: 1, arbitrary: fc.record({ kind: fc.constant('reject' as const), pick: fc.nat() }) },
  { weight: 5, arbitrary: fc.record({ kind: fc.constant('progress' as const), pick: fc.nat(), sku: fc.nat(1), share: fc.double({ min: 0.3, max: 1, noNaN: true }) }) },
  { weight: 5, arbitrary: fc.record({ kind: fc.constant('ship' as const), pick: fc.nat(), sku: fc.nat(1), quantity: fc.integer({ min: 1, max: 3 }) }) },
  { weight: 3, arbitrary: fc.record({ kind: fc.constant('deliver' as const), pick: fc.nat() }) },
  { weight: 2, arbitrary: fc.record({ kind: fc.constant('closeShort' as const), pick: fc.nat() }) },
  { weight: 2, arbitrary: fc.record({ kind: fc.constant('redeliver' as const), pick: fc.nat() }) },
);

const opening = fc.array(
  fc.record({ kind: fc.constant('place' as const), buyer: fc.nat(3), sku: fc.nat(1), quantity: fc.integer({ min: 1, max: 3 }) }),
  { minLength: 3, maxLength: 6 },
);

type Batch = { batchId: string; campaignId: string; factoryId: string; status: string; units: number; shipped: number; qcPassed: number; lines: { sku: string; quantity: number; shipped: number; qcPassed?: number; produced?: number; qcFailed?: number }[] };
type Preorder = {
  preorderId: string;
  sku: string;
  quantity: number;
  status: string;
  shippedQuantity: number;
  deliveredQuantity: number;
  refundedAmount: number;
  amount: number;
  timeline: { note: string }[];
  notifications: { notificationId: string; message: string }[];
};

/** One simulated campaign: what the test knows about it, learnt only through the API. */
class World {
  campaignId = '';
  preorders: { id: string; buyer: number }[] = [];
  shipments: { id: string; factoryId: string }[] = [];
  log: string[] = [];

  async start() {
    const r = await anchor.post<{ campaignId: string }>(
      '/v1/campaigns',
      campaignDraft({ factoryId: 'factory-p', backupFactoryId: 'factory-q', lotSize: 3, minTotalQuantity: 1, promisedShipDays: 2 }),
    );
    expect(r.status).toBe(201);
    this.campaignId = r.body.campaignId;
  }

  async batches(): Promise<Batch[]> {
    const all = await Promise.all(
      Object.values(factories).map((f) => f.get<{ items: Batch[] }>('/v1/factory/batches?limit=200').then((r) => r.body.items)),
    );
    return all.flat().filter((b) => b.campaignId === this.campaignId).sort((a, b) => a.batchId.localeCompare(b.batchId));
  }

  async run(o: Op) {
    const pick = <T>(xs: readonly T[], n: number) => (xs.length ? xs[n % xs.length] : undefined);
    const expectNo5xx = (r: Reply) => {
      count(`${o.kind} ${r.status}`);
      expect(r.status, `${JSON.stringify(o)} → ${JSON.stringify(r.body)}`).toBeLessThan(500);
    };
    this.log.push(JSON.stringify(o));
    switch (o.kind) {
      case 'place': {
        const r = await buyers[o.buyer]!.post<{ preorderId: string }>(`/v1/campaigns/${this.campaignId}/preorders`, preorderDraft({ sku: skus[o.sku], quantity: o.quantity }));
        expectNo5xx(r);
        if (r.status === 202) this.preorders.push({ id: r.body.preorderId, buyer: o.buyer });
        return;
      }
      case 'cancel': {
        const p = pick(this.preorders, o.pick);
        if (p) expectNo5xx(await buyers[p.buyer]!.post(`/v1/preorders/${p.id}/cancel`));
        return;
      }
      case 'close':
        return expectNo5xx(await anchor.post(`/v1/campaigns/${this.campaignId}/close`));
      case 'redeliver': {
        // EventBridge delivers at least once: put one of this campaign's events on the bus again.
        const mine = runtime.emulator.events.filter((e) => (e.detail as { campaignId?: string }).campaignId === this.campaignId);
        const e = pick(mine, o.pick);
        if (e) count(`redeliver ${e.detailType}`);
        if (e) await bus.send(new PutEventsCommand({ Entries: [{ EventBusName: runtime.emulator.busName, Source: 'c2m', DetailType: e.detailType, Detail: JSON.stringify(e.detail) }] }));
        return;
      }
      case 'deliver': {
        const s = pick(this.shipments, o.pick);
        if (s) expectNo5xx(await factories[s.factoryId]!.post(`/v1/factory/shipments/${s.id}/delivered`));
        return;
      }
      default:
    }
    const batch = pick(await this.batches(), o.pick);
    if (!batch) return;
    const f = factories[batch.factoryId]!;
    const path = `/v1/factory/batches/${batch.batchId}`;
    switch (o.kind) {
      case 'accept': {
        const date = new Date(Date.now() + (o.lateDays + 2) * 86_400_000).toISOString().slice(0, 10);
        return expectNo5xx(await f.post(`${path}/accept`, { committedShipDate: date }));
      }
      case 'reject':
        return expectNo5xx(await f.post(`${path}/reject`, { reason: 'property test says no' }));
      case 'closeShort':
        return expectNo5xx(await f.post(`${path}/close-short`, { reason: 'property test ran out' }));
      case 'progress': {
        const line = batch.lines[o.sku % batch.lines.length]!;
        const passed = Math.max(line.qcPassed ?? 0, Math.round(line.quantity * o.share));
        const failed = line.qcFailed ?? 0;
        const produced = Math.max(line.produced ?? 0, passed + failed);
        return expectNo5xx(await f.post(`${path}/progress`, { sku: line.sku, produced, qcPassed: passed, qcFailed: failed }));
      }
      case 'ship': {
        const line = batch.lines[o.sku % batch.lines.length]!;
        // A lot of what is ready; when nothing is, the factory first passes that much through QC
        // (refused on a batch it has not accepted, and so is the shipment then).
        const left = line.quantity - line.shipped;
        if (left <= 0) return this.ship(batch, line.sku, o.quantity, expectNo5xx); // must be refused
        const quantity = Math.min(o.quantity, left);
        if ((line.qcPassed ?? 0) - line.shipped < quantity) {
          const qcPassed = line.shipped + quantity;
          const produced = Math.max(line.produced ?? 0, qcPassed + (line.qcFailed ?? 0));
          expectNo5xx(await f.post(`${path}/progress`, { sku: line.sku, produced, qcPassed, qcFailed: line.qcFailed ?? 0 }));
        }
        return this.ship(batch, line.sku, quantity, expectNo5xx);
      }
      default:
    }
  }

  async ship(batch: Batch, sku: string, quantity: number, check: (r: Reply) => void) {
    const f = factories[batch.factoryId]!;
    const r = await f.post<{ shipmentId: string }>(`/v1/factory/batches/${batch.batchId}/shipments`, {
      carrier: 'SF',
      trackingNumber: `SF${Date.now()}${this.shipments.length}`,
      items: [{ sku, quantity }],
    });
    check(r);
    if (r.status === 201) this.shipments.push({ id: r.body.shipmentId, factoryId: batch.factoryId });
  }

  /** The campaign closes; every batch still open is accepted, made in full, shipped and delivered. */
  async finish() {
    await this.run({ kind: 'close' });
    await runtime.emulator.drain(60_000);
    const ok = (r: Reply) => {
      count(`finish ${r.status}`);
      expect(r.status).toBeLessThan(500);
    };
    for (let round = 0; round < 4; round++) {
      for (const b of await this.batches()) {
        const f = factories[b.factoryId]!;
        const path = `/v1/factory/batches/${b.batchId}`;
        if (b.status === 'RELEASED') ok(await f.post(`${path}/accept`, { committedShipDate: new Date(Date.now() + 5 * 86_400_000).toISOString().slice(0, 10) }));
        if (!['RELEASED', 'ACCEPTED', 'IN_PRODUCTION', 'PARTIALLY_SHIPPED'].includes(b.status)) continue;
        for (const line of b.lines) {
          if (line.quantity <= line.shipped) continue;
          const produced = Math.max(line.produced ?? 0, line.quantity + (line.qcFailed ?? 0));
          ok(await f.post(`${path}/progress`, { sku: line.sku, produced, qcPassed: line.quantity, qcFailed: line.qcFailed ?? 0 }));
          await this.ship(b, line.sku, line.quantity - line.shipped, ok);
        }
      }
      await runtime.emulator.drain(60_000);
    }
    for (const s of this.shipments) ok(await factories[s.factoryId]!.post(`/v1/factory/shipments/${s.id}/delivered`));
    await runtime.emulator.drain(60_000);
  }

  async preorderStates(): Promise<Preorder[]> {
    return Promise.all(this.preorders.map((p) => buyers[p.buyer]!.get<Preorder>(`/v1/preorders/${p.id}`).then((r) => r.body)));
  }

  async checkInvariants(finished: boolean) {
    const ps = await this.preorderStates();
    const demand = (await anchor.get<{ variants: { sku: string; ordered: number; batched: number; waiting: number; cancelled: number }[] }>(`/v1/campaigns/${this.campaignId}/demand`)).body;
    const why = `after: ${this.log.join(' ; ')}`;
    for (const sku of skus) {
      const mine = ps.filter((p) => p.sku === sku);
      const refundedUnits = (p: Preorder) => (p.status === 'REFUNDED' ? p.quantity : Math.round(p.refundedAmount / (p.amount / p.quantity)));
      const ordered = mine.reduce((n, p) => n + p.quantity, 0);
      const delivered = mine.reduce((n, p) => n + p.deliveredQuantity, 0);
      const inFlight = mine.reduce((n, p) => n + p.shippedQuantity - p.deliveredQuantity, 0);
      const refunded = mine.reduce((n, p) => n + refundedUnits(p), 0);
      const notShipped = mine.reduce((n, p) => n + (p.quantity - p.shippedQuantity - refundedUnits(p)), 0);
      expect(delivered + inFlight + refunded + notShipped, `${sku} units ${why}`).toBe(ordered);
      for (const p of mine) {
        expect(p.shippedQuantity + refundedUnits(p), `${p.preorderId} over-shipped ${why}`).toBeLessThanOrEqual(p.quantity);
        expect(p.deliveredQuantity).toBeLessThanOrEqual(p.shippedQuantity);
      }
      const v = demand.variants.find((x) => x.sku === sku)!;
      expect(v.ordered, `${sku} demand ${why}`).toBe(ordered);
      expect(v.ordered).toBe(v.batched + v.waiting + v.cancelled);
      expect(v.cancelled, `${sku} cancelled ${why}`).toBe(refunded);
      if (finished) expect(notShipped, `${sku} left over ${why}`).toBe(0);
    }
    for (const p of ps) {
      expect(p.notifications.map((n) => n.message), `${p.preorderId} notifications ${why}`).toEqual(p.timeline.map((t) => t.note));
      expect(new Set(p.notifications.map((n) => n.notificationId)).size).toBe(p.notifications.length);
      if (finished) expect(['DELIVERED', 'REFUNDED'], `${p.preorderId} ${why}`).toContain(p.status);
    }
    for (const b of await this.batches()) {
      for (const l of b.lines) expect(l.shipped, `batch ${b.batchId} ${why}`).toBeLessThanOrEqual(Math.max(l.quantity, 0));
    }
  }
}

describe('Fulfillment invariants under random interleavings (fast-check, real handlers, DynamoDB Local)', () => {
  it('hold after every step and at the end', async () => {
    await fc.assert(
      // A few pre-orders first (so batches exist), then anything, pre-orders included.
      fc.asyncProperty(opening, fc.array(op, { minLength: 8, maxLength: 24, size: 'max' }), async (first, then) => {
        const ops = [...first, ...then];
        const world = new World();
        await world.start();
        for (const o of ops) {
          await world.run(o);
          await runtime.emulator.drain(60_000);
          await world.checkInvariants(false);
        }
        await world.finish();
        await world.checkInvariants(true);
        const final = await world.preorderStates();
        for (const p of final) count(`ended ${p.status}${p.refundedAmount > 0 && p.status === 'DELIVERED' ? ' (partly refunded)' : ''}`);
      }),
      { numRuns: 16, seed: Number(process.env.FC_SEED ?? 20261122), endOnFailure: true },
    );
    console.log(`fulfillment properties: what the runs did\n${[...tried].sort().map(([k, n]) => `  ${k.padEnd(40)} ${n}`).join('\n')}`);
    // The runs must have exercised the paths the invariants are about, not only refusals.
    for (const key of ['ship 201', 'ship 409', 'deliver 200', 'accept 200', 'reject 200', 'closeShort 200', 'cancel 200', 'ended DELIVERED', 'ended REFUNDED']) expect(tried.get(key), key).toBeGreaterThan(0);
  }, 600_000);
});
