import { expect } from 'vitest';
import fc from 'fast-check';
import { EventBridgeClient, PutEventsCommand } from '@aws-sdk/client-eventbridge';
import type { LocalRuntime } from '../../lib/local/runtime.ts';
import { localCredentials, localRegion } from '../../lib/local/dynamodb.ts';
import { campaignDraft, clientFor, preorderDraft, type Reply } from './runtime.ts';

/**
 * A campaign driven through the local runtime by API calls only, and the
 * invariants of design.md checked from what the API shows. Shared by the
 * fulfillment property test and the fault-injection suite.
 */
export interface Pipeline {
  readonly runtime: LocalRuntime;
  readonly anchor: ReturnType<typeof clientFor>;
  readonly factories: Record<string, ReturnType<typeof clientFor>>;
  readonly buyers: ReturnType<typeof clientFor>[];
  readonly bus: EventBridgeClient;
  /** Tallies what was tried, by operation and answer. */
  readonly count: (key: string) => void;
  readonly tried: Map<string, number>;
}

export const pipelineOn = (runtime: LocalRuntime): Pipeline => {
  const tried = new Map<string, number>();
  return {
    runtime,
    anchor: clientFor(runtime.url, runtime.tokenSecret, 'anchor', 'anchor-p'),
    factories: Object.fromEntries(['factory-p', 'factory-q'].map((id) => [id, clientFor(runtime.url, runtime.tokenSecret, 'factory', id)])),
    buyers: Array.from({ length: 4 }, (_, i) => clientFor(runtime.url, runtime.tokenSecret, 'buyer', `pbuyer-${i}`)),
    bus: new EventBridgeClient({ endpoint: runtime.emulator.endpoint, region: localRegion, credentials: localCredentials }),
    count: (key) => tried.set(key, (tried.get(key) ?? 0) + 1),
    tried,
  };
};

/** What the runs did, one line per operation and answer. */
export const report = (title: string, tried: Map<string, number>) =>
  `${title}\n${[...tried].sort().map(([k, n]) => `  ${k.padEnd(44)} ${n}`).join('\n')}`;

export const skus = ['SHIRT-S', 'SHIRT-M'];

export type Op =
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

export const op: fc.Arbitrary<Op> = fc.oneof(
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

export const opening = fc.array(
  fc.record({ kind: fc.constant('place' as const), buyer: fc.nat(3), sku: fc.nat(1), quantity: fc.integer({ min: 1, max: 3 }) }),
  { minLength: 3, maxLength: 6 },
);

export type Batch = { batchId: string; campaignId: string; factoryId: string; status: string; units: number; shipped: number; qcPassed: number; lines: { sku: string; quantity: number; shipped: number; qcPassed?: number; produced?: number; qcFailed?: number }[] };
export type Preorder = {
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
export class World {
  constructor(private readonly pipe: Pipeline) {}

  campaignId = '';
  preorders: { id: string; buyer: number }[] = [];
  shipments: { id: string; factoryId: string }[] = [];
  log: string[] = [];

  async start() {
    const r = await this.pipe.anchor.post<{ campaignId: string }>(
      '/v1/campaigns',
      campaignDraft({ factoryId: 'factory-p', backupFactoryId: 'factory-q', lotSize: 3, minTotalQuantity: 1, promisedShipDays: 2 }),
    );
    expect(r.status).toBe(201);
    this.campaignId = r.body.campaignId;
  }

  async batches(): Promise<Batch[]> {
    const all = await Promise.all(
      Object.values(this.pipe.factories).map((f) => f.get<{ items: Batch[] }>('/v1/factory/batches?limit=200').then((r) => r.body.items)),
    );
    return all.flat().filter((b) => b.campaignId === this.campaignId).sort((a, b) => a.batchId.localeCompare(b.batchId));
  }

  async run(o: Op) {
    const pick = <T>(xs: readonly T[], n: number) => (xs.length ? xs[n % xs.length] : undefined);
    const expectNo5xx = (r: Reply) => {
      this.pipe.count(`${o.kind} ${r.status}`);
      expect(r.status, `${JSON.stringify(o)} → ${JSON.stringify(r.body)}`).toBeLessThan(500);
    };
    this.log.push(JSON.stringify(o));
    switch (o.kind) {
      case 'place': {
        const r = await this.pipe.buyers[o.buyer]!.post<{ preorderId: string }>(`/v1/campaigns/${this.campaignId}/preorders`, preorderDraft({ sku: skus[o.sku], quantity: o.quantity }));
        expectNo5xx(r);
        if (r.status === 202) this.preorders.push({ id: r.body.preorderId, buyer: o.buyer });
        return;
      }
      case 'cancel': {
        const p = pick(this.preorders, o.pick);
        if (p) expectNo5xx(await this.pipe.buyers[p.buyer]!.post(`/v1/preorders/${p.id}/cancel`));
        return;
      }
      case 'close':
        return expectNo5xx(await this.pipe.anchor.post(`/v1/campaigns/${this.campaignId}/close`));
      case 'redeliver': {
        // EventBridge delivers at least once: put one of this campaign's events on the bus again.
        const mine = this.pipe.runtime.emulator.events.filter((e) => (e.detail as { campaignId?: string }).campaignId === this.campaignId);
        const e = pick(mine, o.pick);
        if (e) this.pipe.count(`redeliver ${e.detailType}`);
        if (e) await this.pipe.bus.send(new PutEventsCommand({ Entries: [{ EventBusName: this.pipe.runtime.emulator.busName, Source: 'c2m', DetailType: e.detailType, Detail: JSON.stringify(e.detail) }] }));
        return;
      }
      case 'deliver': {
        const s = pick(this.shipments, o.pick);
        if (s) expectNo5xx(await this.pipe.factories[s.factoryId]!.post(`/v1/factory/shipments/${s.id}/delivered`));
        return;
      }
      default:
    }
    const batch = pick(await this.batches(), o.pick);
    if (!batch) return;
    const f = this.pipe.factories[batch.factoryId]!;
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
    const f = this.pipe.factories[batch.factoryId]!;
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
    await this.pipe.runtime.emulator.drain(60_000);
    const ok = (r: Reply) => {
      this.pipe.count(`finish ${r.status}`);
      expect(r.status).toBeLessThan(500);
    };
    for (let round = 0; round < 4; round++) {
      for (const b of await this.batches()) {
        const f = this.pipe.factories[b.factoryId]!;
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
      await this.pipe.runtime.emulator.drain(60_000);
    }
    for (const s of this.shipments) ok(await this.pipe.factories[s.factoryId]!.post(`/v1/factory/shipments/${s.id}/delivered`));
    await this.pipe.runtime.emulator.drain(60_000);
  }

  async preorderStates(): Promise<Preorder[]> {
    return Promise.all(this.preorders.map((p) => this.pipe.buyers[p.buyer]!.get<Preorder>(`/v1/preorders/${p.id}`).then((r) => r.body)));
  }

  async checkInvariants(finished: boolean) {
    const ps = await this.preorderStates();
    const demand = (await this.pipe.anchor.get<{ variants: { sku: string; ordered: number; batched: number; waiting: number; cancelled: number }[] }>(`/v1/campaigns/${this.campaignId}/demand`)).body;
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

