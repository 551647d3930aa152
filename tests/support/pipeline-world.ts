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
  /**
   * What the local notification channel printed, per pre-order (buyer, step, message), once `listen`
   * has been handed to silenceBuyerNotifications; undefined otherwise, and then the channel is not checked.
   */
  readonly heard: () => Map<string, Heard[]> | undefined;
  readonly listen: () => (line: string) => void;
}

export type Heard = { buyer: string; step: string; message: string };

export const pipelineOn = (runtime: LocalRuntime): Pipeline => {
  const tried = new Map<string, number>();
  let heard: Map<string, Heard[]> | undefined;
  return {
    runtime,
    anchor: clientFor(runtime.url, runtime.tokenSecret, 'anchor', 'anchor-p'),
    factories: Object.fromEntries(['factory-p', 'factory-q'].map((id) => [id, clientFor(runtime.url, runtime.tokenSecret, 'factory', id)])),
    buyers: Array.from({ length: 4 }, (_, i) => clientFor(runtime.url, runtime.tokenSecret, 'buyer', `pbuyer-${i}`)),
    bus: new EventBridgeClient({ endpoint: runtime.emulator.endpoint, region: localRegion, credentials: localCredentials }),
    count: (key) => tried.set(key, (tried.get(key) ?? 0) + 1),
    tried,
    heard: () => heard,
    listen: () => {
      const mine = new Map<string, Heard[]>();
      heard = mine;
      return (chunk) => {
        // One line a message: "🔔 buyer <buyerId> · <preorderId> · <step> · <message>" (printToConsole).
        for (const line of chunk.split('\n').filter((l) => l.includes('🔔'))) {
          const m = /🔔 buyer (\S+) · (\S+) · (\S+) · (.*)$/.exec(line);
          if (!m) throw new Error(`a notification line the test cannot read: ${line}`);
          mine.set(m[2]!, [...(mine.get(m[2]!) ?? []), { buyer: m[1]!, step: m[3]!, message: m[4]! }]);
        }
      };
    },
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
  | { kind: 'redeliver'; pick: number }
  | { kind: 'maxWait' };

export const op: fc.Arbitrary<Op> = fc.oneof(
  { weight: 4, arbitrary: fc.record({ kind: fc.constant('place' as const), buyer: fc.nat(3), sku: fc.nat(1), quantity: fc.integer({ min: 1, max: 3 }) }) },
  { weight: 2, arbitrary: fc.record({ kind: fc.constant('cancel' as const), pick: fc.nat() }) },
  { weight: 1, arbitrary: fc.constant({ kind: 'close' as const }) },
  { weight: 5, arbitrary: fc.record({ kind: fc.constant('accept' as const), pick: fc.nat(), lateDays: fc.constantFrom(-1, 20) }) },
  { weight: 1, arbitrary: fc.record({ kind: fc.constant('reject' as const), pick: fc.nat() }) },
  { weight: 3, arbitrary: fc.record({ kind: fc.constant('progress' as const), pick: fc.nat(), sku: fc.nat(1), share: fc.double({ min: 0.3, max: 1, noNaN: true }) }) },
  { weight: 6, arbitrary: fc.record({ kind: fc.constant('ship' as const), pick: fc.nat(), sku: fc.nat(1), quantity: fc.integer({ min: 1, max: 3 }) }) },
  { weight: 3, arbitrary: fc.record({ kind: fc.constant('deliver' as const), pick: fc.nat() }) },
  { weight: 2, arbitrary: fc.record({ kind: fc.constant('closeShort' as const), pick: fc.nat() }) },
  { weight: 3, arbitrary: fc.record({ kind: fc.constant('redeliver' as const), pick: fc.nat() }) },
  { weight: 1, arbitrary: fc.constant({ kind: 'maxWait' as const }) },
);

export const opening = fc.array(
  fc.record({ kind: fc.constant('place' as const), buyer: fc.nat(3), sku: fc.nat(1), quantity: fc.integer({ min: 1, max: 3 }) }),
  { minLength: 3, maxLength: 6 },
);

export type Batch = { batchId: string; campaignId: string; factoryId: string; status: string; reason: string; units: number; shipped: number; qcPassed: number; lines: { sku: string; quantity: number; shipped: number; qcPassed?: number; produced?: number; qcFailed?: number }[] };
export type Preorder = {
  preorderId: string;
  sku: string;
  quantity: number;
  unitPrice: number;
  status: string;
  batchId?: string;
  delayedTo?: string;
  createdAt: string;
  shipments: { shipmentId: string; quantity: number; deliveredAt?: string }[];
  shippedQuantity: number;
  deliveredQuantity: number;
  refundedAmount: number;
  amount: number;
  timeline: { at: string; status: string; note: string; step?: string }[];
  notifications: { notificationId: string; at: string; step: string; message: string }[];
};

type ManifestEntry = { preorderId: string; sku: string; quantity: number };
type Demand = { variants: { sku: string; ordered: number; batched: number; waiting: number; cancelled: number }[] };

/** Batches still to make or ship (a COMPLETED one is done, in full or closed short; a REJECTED one holds nobody). */
const liveStatuses = ['RELEASED', 'ACCEPTED', 'IN_PRODUCTION', 'PARTIALLY_SHIPPED'];
/** Events the fulfillment consumer acts on: redelivering them is what could allocate or refund twice. */
const fulfillmentEvents = ['batch.accepted', 'batch.completed', 'shipment.created', 'shipment.delivered'];
const sum = <T>(xs: readonly T[], f: (x: T) => number) => xs.reduce((n, x) => n + f(x), 0);
/** The channel prints a message on one line. */
const oneLine = (text: string) => text.replace(/\s*[\r\n]+\s*/g, ' ');

/** One simulated campaign: what the test knows about it, learnt only through the API. */
export class World {
  constructor(private readonly pipe: Pipeline) {}

  campaignId = '';
  preorders: { id: string; buyer: number }[] = [];
  /** Every lot the factory API took (201), as the test sent it, and whether the test confirmed its delivery. */
  shipments: { id: string; factoryId: string; batchId: string; items: { sku: string; quantity: number }[]; delivered: boolean }[] = [];
  log: string[] = [];
  /** The campaign's maxWaitHours, in ms, when it has one. */
  maxWaitMs: number | undefined;
  /** Pre-orders as last checked (the max-wait step reads who waits from them). */
  seen: Preorder[] = [];
  /** Manifests as last read, and what they were read against. */
  private manifestCache: { members: string; batches: Map<string, { key: string; items: ManifestEntry[] }> } = { members: '', batches: new Map() };

  /** Opens the campaign; `terms` override the draft's (the property test gives it a maxWaitHours). */
  async start(terms: { maxWaitHours?: number } = {}) {
    const r = await this.pipe.anchor.post<{ campaignId: string }>(
      '/v1/campaigns',
      campaignDraft({ factoryId: 'factory-p', backupFactoryId: 'factory-q', lotSize: 3, minTotalQuantity: 1, promisedShipDays: 2, ...terms }),
    );
    expect(r.status).toBe(201);
    this.campaignId = r.body.campaignId;
    this.maxWaitMs = terms.maxWaitHours === undefined ? undefined : terms.maxWaitHours * 3600_000;
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
        // Three times in four one the buyer may cancel as last seen (waiting, or told of a delay with
        // nothing shipped: it leaves its batch); otherwise any, refusals included.
        const open = new Set(this.seen.filter((p) => p.status === 'ACCEPTED' || (p.delayedTo !== undefined && p.shippedQuantity === 0)).map((p) => p.preorderId));
        const fitting = this.preorders.filter((p) => open.has(p.id));
        const p = pick(o.pick % 4 === 0 || fitting.length === 0 ? this.preorders : fitting, Math.floor(o.pick / 4));
        if (!p) return;
        const delayed = this.seen.find((x) => x.preorderId === p.id)?.delayedTo !== undefined;
        const r = await this.pipe.buyers[p.buyer]!.post(`/v1/preorders/${p.id}/cancel`);
        expectNo5xx(r);
        if (delayed && r.status === 200) this.pipe.count('cancel 200 (after a delay notice)');
        return;
      }
      case 'close':
        return expectNo5xx(await this.pipe.anchor.post(`/v1/campaigns/${this.campaignId}/close`));
      case 'redeliver': {
        // EventBridge delivers at least once: put one of this campaign's events on the bus again. A kind of
        // event first, then one of that kind, so the few lot and batch events are picked as often as the
        // many pre-order ones.
        const mine = this.pipe.runtime.emulator.events.filter((e) => (e.detail as { campaignId?: string }).campaignId === this.campaignId);
        const kind = pick([...new Set(mine.map((e) => e.detailType))].sort(), o.pick);
        const e = pick(mine.filter((x) => x.detailType === kind), Math.floor(o.pick / 7));
        if (!e) return;
        this.pipe.count(`redeliver ${e.detailType}`);
        if (fulfillmentEvents.includes(e.detailType)) this.pipe.count('redeliver (to fulfillment)');
        await this.pipe.bus.send(new PutEventsCommand({ Entries: [{ EventBusName: this.pipe.runtime.emulator.busName, Source: 'c2m', DetailType: e.detailType, Detail: JSON.stringify(e.detail) }] }));
        return;
      }
      case 'deliver': {
        const s = pick(this.shipments, o.pick);
        if (!s) return;
        const r = await this.pipe.factories[s.factoryId]!.post(`/v1/factory/shipments/${s.id}/delivered`);
        expectNo5xx(r);
        if (r.status === 200) s.delivered = true;
        return;
      }
      case 'maxWait': {
        // Once the oldest waiting pre-order has waited maxWaitHours, the clock's minute tick (what
        // rate(1 minute) does on its own) asks the cutter, which cuts a batch below the lot size.
        const waiting = this.seen.filter((p) => p.status === 'ACCEPTED').map((p) => Date.parse(p.createdAt));
        if (this.maxWaitMs === undefined || waiting.length === 0) return this.pipe.count('maxWait (nobody waits)');
        const due = Math.min(...waiting) + this.maxWaitMs - Date.now();
        if (due > 0) await new Promise((r) => setTimeout(r, due + 20));
        this.pipe.count('maxWait tick');
        return this.pipe.runtime.emulator.fireSchedule('campaign-sweep');
      }
      default:
    }
    // Three times in four the batch is one the step applies to (a released one to accept or reject, one
    // in production to report on or ship from, one part shipped, if any, to close short: partial refunds);
    // otherwise any, refusals included.
    const all = await this.batches();
    const inProduction = all.filter((b) => ['ACCEPTED', 'IN_PRODUCTION', 'PARTIALLY_SHIPPED'].includes(b.status));
    const partShipped = all.filter((b) => b.status === 'PARTIALLY_SHIPPED');
    const fitting =
      o.kind === 'accept' || o.kind === 'reject' ? all.filter((b) => b.status === 'RELEASED') : o.kind === 'closeShort' && partShipped.length > 0 ? partShipped : inProduction;
    const batch = pick(o.pick % 4 === 0 || fitting.length === 0 ? all : fitting, Math.floor(o.pick / 4));
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
    if (r.status === 201) this.shipments.push({ id: r.body.shipmentId, factoryId: batch.factoryId, batchId: batch.batchId, items: [{ sku, quantity }], delivered: false });
  }

  /** The campaign closes; every batch still open is accepted, made in full, shipped and delivered. */
  async finish() {
    await this.run({ kind: 'close' });
    await this.pipe.runtime.emulator.drain(60_000);
    const ok = (r: Reply) => {
      this.pipe.count(`finish ${r.status}`);
      expect(r.status).toBeLessThan(500);
    };
    for (let round = 0, busy = true; round < 4 && busy; round++) {
      // A round that finds nothing to do ends it: the queues were drained before it, so nothing more comes.
      busy = false;
      for (const b of await this.batches()) {
        const f = this.pipe.factories[b.factoryId]!;
        const path = `/v1/factory/batches/${b.batchId}`;
        if (b.status === 'RELEASED') ok(await f.post(`${path}/accept`, { committedShipDate: new Date(Date.now() + 5 * 86_400_000).toISOString().slice(0, 10) }));
        if (!['RELEASED', 'ACCEPTED', 'IN_PRODUCTION', 'PARTIALLY_SHIPPED'].includes(b.status)) continue;
        busy = true;
        for (const line of b.lines) {
          if (line.quantity <= line.shipped) continue;
          const produced = Math.max(line.produced ?? 0, line.quantity + (line.qcFailed ?? 0));
          ok(await f.post(`${path}/progress`, { sku: line.sku, produced, qcPassed: line.quantity, qcFailed: line.qcFailed ?? 0 }));
          await this.ship(b, line.sku, line.quantity - line.shipped, ok);
        }
      }
      await this.pipe.runtime.emulator.drain(60_000);
    }
    for (const s of this.shipments) {
      const r = await this.pipe.factories[s.factoryId]!.post(`/v1/factory/shipments/${s.id}/delivered`);
      ok(r);
      if (r.status === 200) s.delivered = true;
    }
    await this.pipe.runtime.emulator.drain(60_000);
  }

  async preorderStates(): Promise<Preorder[]> {
    return Promise.all(this.preorders.map((p) => this.pipe.buyers[p.buyer]!.get<Preorder>(`/v1/preorders/${p.id}`).then((r) => r.body)));
  }

  /** The pages of a batch's manifest: the pre-orders the factory still ships to from it. */
  async manifest(b: Batch): Promise<ManifestEntry[]> {
    const f = this.pipe.factories[b.factoryId]!;
    const items: ManifestEntry[] = [];
    for (let cursor: string | undefined, page = 0; page === 0 || cursor; page++) {
      const r = await f.get<{ items: typeof items; nextCursor?: string }>(`/v1/factory/batches/${b.batchId}/manifest?limit=200${cursor ? `&cursor=${encodeURIComponent(cursor)}` : ''}`);
      expect(r.status, `manifest of ${b.batchId}: ${JSON.stringify(r.body)}`).toBe(200);
      items.push(...r.body.items);
      cursor = r.body.nextCursor;
    }
    return items;
  }

  /**
   * The manifests of these batches (the open ones after every step, all at the end). A manifest is
   * the batch's members that still name it and are not refunded whole: it can only change with the
   * batch or with a pre-order's batch or status, so one read again when neither changed is skipped.
   */
  async manifests(batches: readonly Batch[], ps: readonly Preorder[]) {
    const members = JSON.stringify(ps.map((p) => [p.preorderId, p.batchId, p.status]));
    if (members !== this.manifestCache.members) this.manifestCache = { members, batches: new Map() };
    const cache = this.manifestCache.batches;
    return new Map(
      await Promise.all(
        batches.map(async (b) => {
          const key = JSON.stringify(b);
          if (cache.get(b.batchId)?.key !== key) cache.set(b.batchId, { key, items: await this.manifest(b) });
          return [b.batchId, cache.get(b.batchId)!.items] as const;
        }),
      ),
    );
  }

  /**
   * design.md's invariants, each term read from its own source and compared: the buyers' pre-orders
   * (status, shipments, refundedAmount, timeline, notifications), the factory's batches, lots and
   * manifests, the campaign's demand counters, the lots the test itself shipped and delivered, the
   * events on the bus, and (when listened to) what the notification channel sent.
   */
  async checkInvariants(finished: boolean) {
    const [ps, batches, demand] = await Promise.all([
      this.preorderStates(),
      this.batches(),
      this.pipe.anchor.get<Demand>(`/v1/campaigns/${this.campaignId}/demand`).then((r) => r.body),
    ]);
    this.seen = ps;
    const live = batches.filter((b) => liveStatuses.includes(b.status));
    const manifests = await this.manifests(finished ? batches.filter((b) => b.status !== 'REJECTED') : live, ps);
    const why = `after: ${this.log.join(' ; ')}`;
    const refundedUnits = (p: Preorder) => p.refundedAmount / p.unitPrice;
    const shippedOf = (p: Preorder) => sum(p.shipments, (s) => s.quantity);
    const deliveredOf = (p: Preorder) => sum(p.shipments.filter((s) => s.deliveredAt !== undefined), (s) => s.quantity);
    const lineOf = (b: Batch, sku: string) => b.lines.find((l) => l.sku === sku);

    // Each pre-order: its status, its lots and its refund tell one story, and no unit beyond its quantity.
    for (const p of ps) {
      const at = `${p.preorderId} (${p.status}, ${p.quantity}× ${p.sku}, shipments ${JSON.stringify(p.shipments)}, refunded ${p.refundedAmount}) ${why}`;
      const shipped = shippedOf(p);
      const delivered = deliveredOf(p);
      const refunded = refundedUnits(p);
      expect(Number.isInteger(refunded), `refund not whole units: ${at}`).toBe(true);
      expect(new Set(p.shipments.map((s) => s.shipmentId)).size, `a lot applied twice: ${at}`).toBe(p.shipments.length);
      expect(p.shippedQuantity, `shippedQuantity against its lots: ${at}`).toBe(shipped);
      expect(p.deliveredQuantity, `deliveredQuantity against its lots: ${at}`).toBe(delivered);
      expect(shipped + refunded, `shipped beyond its quantity: ${at}`).toBeLessThanOrEqual(p.quantity);
      const rest = p.quantity - shipped - refunded;
      switch (p.status) {
        case 'ACCEPTED':
        case 'BATCHED':
          expect({ shipped, refunded }, at).toEqual({ shipped: 0, refunded: 0 });
          break;
        case 'IN_PRODUCTION':
          expect(rest, `in production with nothing left to make: ${at}`).toBeGreaterThan(0);
          break;
        case 'SHIPPED':
          expect({ rest, shipped: shipped > 0, allDelivered: delivered === shipped }, at).toEqual({ rest: 0, shipped: true, allDelivered: false });
          break;
        case 'DELIVERED':
          expect({ rest, delivered, shipped: shipped > 0 }, at).toEqual({ rest: 0, delivered: shipped, shipped: true });
          break;
        case 'REFUNDED':
          expect({ refunded, shipped }, at).toEqual({ refunded: p.quantity, shipped: 0 });
          break;
        default:
          expect.fail(`a pre-order left in status ${p.status}: ${at}`);
      }
    }

    // Per variant: units ordered = delivered + in flight + refunded + not shipped yet, each from its own source.
    for (const sku of skus) {
      const mine = ps.filter((p) => p.sku === sku);
      const v = demand.variants.find((x) => x.sku === sku)!;
      const delivered = sum(mine, deliveredOf); // the buyers' lots marked delivered
      const inFlight = sum(mine, (p) => shippedOf(p) - deliveredOf(p)); // the buyers' lots not delivered
      const refunded = sum(mine, refundedUnits); // the buyers' refunds
      const owed = sum(live, (b) => (lineOf(b, sku) ? lineOf(b, sku)!.quantity - lineOf(b, sku)!.shipped : 0)); // the factory's open batches
      const notShipped = v.waiting + owed; // the campaign's waiting counter, and what open batches still owe
      const terms = `${sku}: ordered ${v.ordered} vs delivered ${delivered} + in flight ${inFlight} + refunded ${refunded} + waiting ${v.waiting} + owed by batches ${owed} ${why}`;
      expect(delivered + inFlight + refunded + notShipped, terms).toBe(v.ordered);
      expect(sum(mine, (p) => p.quantity), `pre-orders against demand.ordered, ${terms}`).toBe(v.ordered);
      expect(v.ordered, terms).toBe(v.batched + v.waiting + v.cancelled);
      expect(v.cancelled, `demand.cancelled against refunds, ${terms}`).toBe(refunded);
      expect(sum(mine.filter((p) => p.status === 'ACCEPTED'), (p) => p.quantity), `waiting pre-orders against demand.waiting, ${terms}`).toBe(v.waiting);
      // Batched units still held: what open batches were cut for, and what finished ones shipped.
      const held = sum(live, (b) => lineOf(b, sku)?.quantity ?? 0) + sum(batches.filter((b) => b.status === 'COMPLETED'), (b) => lineOf(b, sku)?.shipped ?? 0);
      expect(v.batched, `demand.batched against the batches' lines, ${terms}`).toBe(held);
      const unshipped = sum(mine.filter((p) => p.status === 'BATCHED' || p.status === 'IN_PRODUCTION'), (p) => p.quantity - shippedOf(p) - refundedUnits(p));
      expect(unshipped, `what batched pre-orders still wait for against what open batches owe, ${terms}`).toBe(owed);
      if (finished) expect({ inFlight, notShipped }, `${sku} left over ${why}`).toEqual({ inFlight: 0, notShipped: 0 });
    }

    // Per batch and sku: the factory's shipped count = the lots the test shipped = the units allocated to its pre-orders.
    for (const b of batches) {
      const members = ps.filter((p) => p.batchId === b.batchId);
      for (const l of b.lines) {
        const at = `batch ${b.batchId} (${b.status}) ${l.sku}: ${JSON.stringify(l)} ${why}`;
        expect(l.shipped, `shipped beyond the line: ${at}`).toBeLessThanOrEqual(Math.max(l.quantity, 0));
        if (l.qcPassed !== undefined) expect(l.shipped, `shipped beyond QC: ${at}`).toBeLessThanOrEqual(l.qcPassed);
        const sent = sum(this.shipments.filter((s) => s.batchId === b.batchId), (s) => sum(s.items.filter((i) => i.sku === l.sku), (i) => i.quantity));
        expect(l.shipped, `lots the factory API took against its shipped count: ${at}`).toBe(sent);
        const allocated = sum(members.filter((p) => p.sku === l.sku), shippedOf);
        expect(allocated, `units allocated to its pre-orders against its shipped count: ${at}`).toBe(l.shipped);
      }
    }

    // Per lot: every unit reached exactly one buyer, delivered exactly when the factory confirmed it.
    const lots = new Map(this.shipments.map((s) => [s.id, s]));
    for (const p of ps) for (const s of p.shipments) expect(lots.has(s.shipmentId), `${p.preorderId} holds a lot nobody shipped: ${s.shipmentId} ${why}`).toBe(true);
    for (const s of this.shipments) {
      const parts = ps.flatMap((p) => p.shipments.filter((x) => x.shipmentId === s.id).map((x) => ({ ...x, preorderId: p.preorderId })));
      const at = `lot ${s.id} of ${s.batchId} ${JSON.stringify(s.items)} reached ${JSON.stringify(parts)} ${why}`;
      expect(sum(parts, (x) => x.quantity), `units of the lot allocated: ${at}`).toBe(sum(s.items, (i) => i.quantity));
      for (const x of parts) expect(x.deliveredAt !== undefined, `delivered flag: ${at}`).toBe(s.delivered);
    }

    // Each pre-order in at most one batch's manifest: the one it names, while it is being made or shipped.
    for (const p of ps) {
      const listed = [...manifests].filter(([, items]) => items.some((i) => i.preorderId === p.preorderId)).map(([id]) => id);
      const inBatch = ['BATCHED', 'IN_PRODUCTION', 'SHIPPED', 'DELIVERED'].includes(p.status) && manifests.has(p.batchId ?? '');
      expect(listed, `${p.preorderId} (${p.status}, batch ${p.batchId}) in manifests ${why}`).toEqual(inBatch ? [p.batchId] : []);
    }
    // An open batch makes what its manifest lists, no more (a pre-order counted in two batches) and no less.
    for (const b of live) {
      const items = manifests.get(b.batchId)!;
      for (const l of b.lines) {
        expect(sum(items.filter((i) => i.sku === l.sku), (i) => i.quantity), `batch ${b.batchId} ${l.sku} line against its manifest ${why}`).toBe(l.quantity);
      }
    }

    // Each buyer heard each step of their pre-order exactly once.
    const facts = new Map<string, Set<string>>();
    for (const e of this.pipe.runtime.emulator.events) {
      const d = e.detail as { campaignId?: string; preorderId?: string };
      if (d.campaignId === this.campaignId && d.preorderId) facts.set(d.preorderId, (facts.get(d.preorderId) ?? new Set()).add(e.detailType));
    }
    const heard = this.pipe.heard();
    for (const p of ps) {
      const at = `${p.preorderId}: timeline ${JSON.stringify(p.timeline)} notifications ${JSON.stringify(p.notifications)} ${why}`;
      expect(p.status, `status not on its timeline: ${at}`).toBe(p.timeline.at(-1)?.status);
      expect(p.notifications.length, `notifications against timeline entries: ${at}`).toBe(p.timeline.length);
      expect(new Set(p.notifications.map((n) => n.notificationId)).size, `a notificationId twice: ${at}`).toBe(p.notifications.length);
      // The same words may rightly come twice (batched, back to the backup factory's line, batched again): a step is its time, kind and words.
      expect(new Set(p.notifications.map((n) => `${n.at} ${n.step} ${n.message}`)).size, `a step notified twice: ${at}`).toBe(p.notifications.length);
      p.timeline.forEach((t, i) => {
        const told = p.notifications.filter((n) => n.at === t.at && n.step === (t.step ?? t.status) && n.message === t.note);
        const change = i === 0 || t.status !== p.timeline[i - 1]!.status;
        expect(told.length, `${change ? 'status change' : 'step'} #${i + 1} (${t.step ?? t.status}) notified ${told.length} times: ${at}`).toBe(1);
      });
      // A pre-order ships, arrives and is refunded whole once; each such event published has its one notification.
      for (const [status, event] of [['SHIPPED', 'preorder.shipped'], ['DELIVERED', 'preorder.delivered'], ['REFUNDED', 'preorder.refunded']] as const) {
        const n = p.notifications.filter((x) => x.step === status).length;
        expect(n, `${status} notified ${n} times: ${at}`).toBeLessThanOrEqual(1);
        if (status !== 'REFUNDED' && facts.get(p.preorderId)?.has(event)) expect(n, `${event} published, never notified: ${at}`).toBe(1);
      }
      if (facts.get(p.preorderId)?.has('preorder.refunded')) {
        expect(p.notifications.filter((x) => x.step === 'REFUNDED' || x.step === 'partly-refunded').length, `refund never notified: ${at}`).toBe(1);
      }
      if (heard) {
        // What the channel sent, in order, is what the pre-order records as sent: once each, to its buyer.
        const sent = heard.get(p.preorderId) ?? [];
        const buyer = `pbuyer-${this.preorders.find((x) => x.id === p.preorderId)!.buyer}`;
        expect(sent.map((h) => `${h.buyer} · ${h.step} · ${h.message}`), `what the channel sent: ${at}`).toEqual(
          p.notifications.map((n) => `${buyer} · ${n.step} · ${oneLine(n.message)}`),
        );
      }
      if (finished) expect(['DELIVERED', 'REFUNDED'], `${p.preorderId} ${why}`).toContain(p.status);
    }
    if (finished) for (const b of batches) expect(['COMPLETED', 'REJECTED'], `batch ${b.batchId} ${why}`).toContain(b.status);
  }
}
