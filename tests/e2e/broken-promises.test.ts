import { EventBridgeClient, PutEventsCommand } from '@aws-sdk/client-eventbridge';
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import type { LocalRuntime } from '../../lib/local/runtime.ts';
import { campaignDraft, clientFor, preorderDraft, registerFactories, startTestRuntime } from '../support/runtime.ts';

/**
 * A broken promise pays out by itself, over HTTP on the local runtime: a lot
 * shipped after the date promised at order time earns its buyer compensation,
 * once; units not shipped by that date plus the ceiling are refunded by the
 * clock, the batch shrinks and its factory can ship no more of them. Time is
 * moved with a controlled clock (the runtime runs in this process), only
 * forward, and the clock's minute tick is fired rather than waited for.
 */
let runtime: LocalRuntime;
let anchor: ReturnType<typeof clientFor>;
let bus: EventBridgeClient;

beforeAll(async () => {
  runtime = await startTestRuntime();
  anchor = clientFor(runtime, 'anchor', 'anchor-promises');
  await registerFactories(runtime, 'factory-promises', 'factory-promises-half-kept', 'factory-slow', 'factory-backup-slow');
  bus = new EventBridgeClient({ endpoint: runtime.emulator.endpoint, region: 'us-east-1', credentials: { accessKeyId: 'x', secretAccessKey: 'x' } });
});
afterAll(async () => {
  vi.useRealTimers();
  await runtime?.stop();
});

type Preorder = {
  preorderId: string;
  status: string;
  sku: string;
  amount: number;
  refundedAmount: number;
  compensatedAmount: number;
  promisedShipBy: string;
  originalPromisedShipBy: string;
  shippedQuantity: number;
  notifications: { template: string; message: string; params: Record<string, unknown> }[];
};
type Batch = { batchId: string; campaignId: string; status: string; withdrawnAt?: string; lines: { sku: string; quantity: number; shipped: number }[] };
type Trust = {
  onTimeShipRate?: number;
  refundRate?: number;
  preordersShipped: number;
  unitsRefunded: number;
  unitsRefundedAtCeiling: number;
  compensation: { count: number; amounts: { currency: string; amount: number }[] };
  refundLatency?: { p50Seconds: number; p95Seconds: number; count: number };
};

const day = 86_400_000;
const setClock = async (at: number) => {
  vi.useFakeTimers({ toFake: ['Date'], shouldAdvanceTime: true });
  vi.setSystemTime(at);
};

describe('Broken promises pay out by themselves', () => {
  it('A late lot earns its buyer compensation once, whatever is redelivered; past the ceiling the rest is refunded and the factory can ship no more of it', async () => {
    const factoryId = 'factory-promises';
    const factory = clientFor(runtime, 'factory', factoryId);
    const closesAt = Date.now() + 3600_000;
    const created = await anchor.post<{ campaignId: string; maxDelayDays: number; lateCompensation: unknown }>(
      '/v1/campaigns',
      campaignDraft({
        factoryId,
        closesAt: new Date(closesAt).toISOString(),
        promisedShipDays: 1,
        lotSize: 3,
        minTotalQuantity: 1,
        maxDelayDays: 3,
        lateCompensation: { percent: 10, minAmount: 500, maxAmount: 10_000 },
      }),
    );
    expect(created.status).toBe(201);
    expect(created.body).toMatchObject({ maxDelayDays: 3, lateCompensation: { percent: 10, minAmount: 500, maxAmount: 10_000 } });
    const campaignId = created.body.campaignId;
    const promised = closesAt + day;

    const a = clientFor(runtime, 'buyer', 'buyer-promises-a');
    const b = clientFor(runtime, 'buyer', 'buyer-promises-b');
    const first = await a.post<Preorder>(`/v1/campaigns/${campaignId}/preorders`, preorderDraft({ quantity: 2 }));
    const second = await b.post<Preorder>(`/v1/campaigns/${campaignId}/preorders`, preorderDraft({ quantity: 1, locale: 'en' }));
    expect([first.status, second.status]).toEqual([202, 202]);
    await runtime.emulator.drain();
    const [batch] = (await factory.get<{ items: Batch[] }>('/v1/factory/batches?limit=200')).body.items.filter((x) => x.campaignId === campaignId);
    expect(batch?.lines).toMatchObject([{ sku: 'SHIRT-M', quantity: 3 }]);
    const path = `/v1/factory/batches/${batch!.batchId}`;
    expect((await factory.post(`${path}/accept`, { committedShipDate: new Date(promised).toISOString().slice(0, 10) })).status).toBe(200);
    expect((await factory.post(`${path}/progress`, { produced: 3, qcPassed: 3, qcFailed: 0 })).status).toBe(200);
    await runtime.emulator.drain();

    // A day after the promise, two lots of one unit: both go to the oldest pre-order, which is compensated once.
    await setClock(promised + day);
    for (const n of [1, 2]) {
      const lot = await factory.post(`${path}/shipments`, { carrier: 'SF', trackingNumber: `SF-LATE-${n}`, items: [{ sku: 'SHIRT-M', quantity: 1 }] });
      expect(lot.status).toBe(201);
      await runtime.emulator.drain();
    }
    // EventBridge delivers at least once: every shipment event again.
    const shipped = runtime.emulator.events.filter((e) => e.detailType === 'shipment.created' && (e.detail as { batchId?: string }).batchId === batch!.batchId);
    expect(shipped).toHaveLength(2);
    for (const e of shipped) {
      await bus.send(new PutEventsCommand({ Entries: [{ EventBusName: runtime.emulator.busName, Source: 'c2m', DetailType: e.detailType, Detail: JSON.stringify(e.detail) }] }));
    }
    await runtime.emulator.drain();

    const late = (await a.get<Preorder>(`/v1/preorders/${first.body.preorderId}`)).body;
    expect(late.status).toBe('SHIPPED');
    expect(late.compensatedAmount).toBe(2_580); // 10 % of ¥258.00, within ¥5.00–¥100.00
    expect(late.originalPromisedShipBy).toBe(new Date(promised).toISOString());
    const compensatedNotices = late.notifications.filter((n) => n.template === 'preorder.compensated');
    expect(compensatedNotices).toHaveLength(1);
    expect(compensatedNotices[0]!.message).toContain('¥25.80');
    const compensatedEvents = runtime.emulator.events.filter((e) => e.detailType === 'preorder.compensated' && (e.detail as { preorderId?: string }).preorderId === first.body.preorderId);
    expect(new Set(compensatedEvents.map((e) => (e.detail as { eventId: string }).eventId)).size).toBe(1);
    expect(compensatedEvents[0]!.detail).toMatchObject({ compensatedAmount: 2_580, currency: 'CNY' });

    // Still short one unit, one minute before the ceiling (promise + 3 days): nothing is refunded yet.
    await setClock(promised + 3 * day - 60_000);
    await runtime.emulator.fireSchedule('campaign-sweep');
    await runtime.emulator.drain();
    expect((await b.get<Preorder>(`/v1/preorders/${second.body.preorderId}`)).body.status).not.toBe('REFUNDED');

    // Past the ceiling: the clock refunds the unit that never shipped, without anyone asking.
    await setClock(promised + 3 * day + 60_000);
    await runtime.emulator.fireSchedule('campaign-sweep');
    await runtime.emulator.drain();
    const refunded = (await b.get<Preorder>(`/v1/preorders/${second.body.preorderId}`)).body;
    expect(refunded.status).toBe('REFUNDED');
    expect(refunded.refundedAmount).toBe(refunded.amount);
    expect(refunded.notifications.map((n) => n.template)).toContain('preorder.refunded_at_ceiling');
    expect(refunded.notifications.find((n) => n.template === 'preorder.refunded_at_ceiling')?.message).toMatch(/¥129\.00.*/);
    // It promised no date past the ceiling in the meantime.
    expect(Date.parse(refunded.promisedShipBy)).toBeLessThanOrEqual(promised + 3 * day);

    const after = (await factory.get<Batch>(path)).body;
    expect(after.status).toBe('COMPLETED');
    expect(after.withdrawnAt).toEqual(expect.any(String));
    expect(after.lines).toMatchObject([{ sku: 'SHIRT-M', quantity: 2, shipped: 2 }]);
    expect((await factory.post(`${path}/shipments`, { carrier: 'SF', trackingNumber: 'SF-TOO-LATE', items: [{ sku: 'SHIRT-M', quantity: 1 }] })).status).toBe(409);
    const withdrawn = runtime.emulator.events.filter((e) => e.detailType === 'batch.units_withdrawn' && (e.detail as { batchId?: string }).batchId === batch!.batchId);
    expect(withdrawn).toHaveLength(1);
    expect(withdrawn[0]!.detail).toMatchObject({ factoryId, lines: [{ sku: 'SHIRT-M', quantity: 1 }], reason: 'ceiling' });
    // Once: the next tick finds nothing more to do.
    await runtime.emulator.fireSchedule('campaign-sweep');
    await runtime.emulator.drain();
    const refundEvents = runtime.emulator.events.filter((e) => e.detailType === 'preorder.refunded' && (e.detail as { preorderId?: string }).preorderId === second.body.preorderId);
    expect(new Set(refundEvents.map((e) => (e.detail as { eventId: string }).eventId)).size).toBe(1);

    // What a buyer would ask, on the campaign and on its factory: one late lot compensated, once, ¥25.80; one unit
    // refunded at the ceiling; how long refunds took to be announced; and the broken promise counts as late.
    const campaignTrust = await anchor.get<Trust>(`/v1/campaigns/${campaignId}/trust`);
    const factoryTrust = await factory.get<Trust>('/v1/factory/trust');
    expect([campaignTrust.status, factoryTrust.status]).toEqual([200, 200]);
    for (const trust of [campaignTrust.body, factoryTrust.body]) {
      expect(trust).toMatchObject({ compensation: { count: 1, amounts: [{ currency: 'CNY', amount: 2_580 }] }, unitsRefundedAtCeiling: 1, onTimeShipRate: 0 });
      expect(trust.refundLatency?.count).toBeGreaterThanOrEqual(1);
      expect(trust.refundLatency!.p50Seconds).toBeLessThanOrEqual(trust.refundLatency!.p95Seconds);
    }
    // The factory's refunds are the units it was batched and did not ship: 1 of 3.
    expect(factoryTrust.body).toMatchObject({ unitsRefunded: 1, refundRate: 0.3333 });
  });

  it('A promise broken at the ceiling counts against the on-time rate of the campaign and its factory, even when what did ship was on time', async () => {
    const factoryId = 'factory-promises-half-kept';
    const factory = clientFor(runtime, 'factory', factoryId);
    // The clock only moves forward: this campaign starts wherever the last test left it.
    const closesAt = Date.now() + 3600_000;
    const created = await anchor.post<{ campaignId: string }>(
      '/v1/campaigns',
      campaignDraft({ factoryId, closesAt: new Date(closesAt).toISOString(), promisedShipDays: 1, lotSize: 4, minTotalQuantity: 1, maxDelayDays: 2 }),
    );
    expect(created.status).toBe(201);
    const campaignId = created.body.campaignId;
    const promised = closesAt + day;

    // Oldest first: a (1 unit), then b (2), then c (1).
    for (const [buyer, quantity] of [['a', 1], ['b', 2], ['c', 1]] as const) {
      const placed = await clientFor(runtime, 'buyer', `buyer-half-kept-${buyer}`).post(`/v1/campaigns/${campaignId}/preorders`, preorderDraft({ quantity }));
      expect(placed.status).toBe(202);
      await runtime.emulator.drain();
    }
    const [batch] = (await factory.get<{ items: Batch[] }>('/v1/factory/batches?limit=200')).body.items.filter((x) => x.campaignId === campaignId);
    const path = `/v1/factory/batches/${batch!.batchId}`;
    expect((await factory.post(`${path}/accept`, { committedShipDate: new Date(promised).toISOString().slice(0, 10) })).status).toBe(200);
    expect((await factory.post(`${path}/progress`, { produced: 4, qcPassed: 4, qcFailed: 0 })).status).toBe(200);
    await runtime.emulator.drain();

    // Before the promise, a lot of two: a gets its unit, b one of its two. Then nothing more, past the ceiling.
    expect((await factory.post(`${path}/shipments`, { carrier: 'SF', trackingNumber: 'SF-ON-TIME', items: [{ sku: 'SHIRT-M', quantity: 2 }] })).status).toBe(201);
    await runtime.emulator.drain();
    for (const at of [promised + 2 * day - 60_000, promised + 2 * day + 60_000]) {
      await setClock(at);
      await runtime.emulator.fireSchedule('campaign-sweep');
      await runtime.emulator.drain();
    }
    expect((await factory.get<Batch>(path)).body.status).toBe('COMPLETED');

    // Three promises came due: a's kept; b's rest and c's whole order were refunded at the ceiling.
    const campaignTrust = (await anchor.get<Trust>(`/v1/campaigns/${campaignId}/trust`)).body;
    const factoryTrust = (await factory.get<Trust>('/v1/factory/trust')).body;
    for (const trust of [campaignTrust, factoryTrust]) {
      expect(trust).toMatchObject({ onTimeShipRate: 0.3333, preordersShipped: 2, unitsRefundedAtCeiling: 2, compensation: { count: 0, amounts: [] } });
      expect(trust.refundLatency?.count).toBe(2);
    }
    expect(factoryTrust).toMatchObject({ unitsRefunded: 2, refundRate: 0.5 });
  });

  it('A factory that commits past the ceiling cannot move the buyer’s promise past it; a batch still waiting for a factory at the ceiling is withdrawn and refunded', async () => {
    const closesAt = Date.now() + 3600_000;
    const promised = closesAt + day;
    const ceiling = promised + day; // maxDelayDays 1
    const created = await anchor.post<{ campaignId: string }>(
      '/v1/campaigns',
      campaignDraft({
        factoryId: 'factory-slow',
        backupFactoryId: 'factory-backup-slow',
        closesAt: new Date(closesAt).toISOString(),
        promisedShipDays: 1,
        lotSize: 1,
        minTotalQuantity: 1,
        maxDelayDays: 1,
      }),
    );
    expect(created.status).toBe(201);
    const campaignId = created.body.campaignId;
    const buyer = clientFor(runtime, 'buyer', 'buyer-slow');
    const slow = clientFor(runtime, 'factory', 'factory-slow');
    const backup = clientFor(runtime, 'factory', 'factory-backup-slow');
    const accepted = await buyer.post<Preorder>(`/v1/campaigns/${campaignId}/preorders`, preorderDraft({ quantity: 1 }));
    await runtime.emulator.drain();
    await setClock(Date.now() + 3_000); // past intake's "ask once a burst" window, so the second lot is asked for too
    const waiting = await buyer.post<Preorder>(`/v1/campaigns/${campaignId}/preorders`, preorderDraft({ quantity: 1, sku: 'SHIRT-S' }));
    await runtime.emulator.drain();
    const batchesOf = async (f: typeof slow) => (await f.get<{ items: Batch[] }>('/v1/factory/batches?limit=200')).body.items.filter((b) => b.campaignId === campaignId);
    const [first, second] = (await batchesOf(slow)).sort((a, b) => a.lines[0]!.sku.localeCompare(b.lines[0]!.sku));
    expect(first && second).toBeTruthy();

    // The factory commits three weeks out: the buyer is promised no later than the ceiling.
    const threeWeeks = new Date(promised + 21 * day).toISOString().slice(0, 10);
    expect((await slow.post(`/v1/factory/batches/${first!.batchId}/accept`, { committedShipDate: threeWeeks })).status).toBe(200);
    await runtime.emulator.drain();
    const capped = (await buyer.get<Preorder>(`/v1/preorders/${[accepted, waiting].find((r) => r.body.sku === first!.lines[0]!.sku)!.body.preorderId}`)).body;
    expect(Date.parse(capped.promisedShipBy)).toBeLessThanOrEqual(ceiling);

    // The other batch is declined near the ceiling and goes to the backup, which does not answer before it.
    await setClock(ceiling - 2 * 3600_000);
    expect((await slow.post(`/v1/factory/batches/${second!.batchId}/reject`, { reason: 'no capacity' })).status).toBe(200);
    await runtime.emulator.fireSchedule('campaign-sweep');
    await runtime.emulator.drain();
    const [atBackup] = await batchesOf(backup);
    expect(atBackup?.status).toBe('RELEASED');

    // Past the ceiling: both taken back, both buyers refunded, without anyone asking.
    await setClock(ceiling + 60_000);
    await runtime.emulator.fireSchedule('campaign-sweep');
    await runtime.emulator.drain();
    for (const r of [accepted, waiting]) {
      const p = (await buyer.get<Preorder>(`/v1/preorders/${r.body.preorderId}`)).body;
      expect(p.status).toBe('REFUNDED');
      expect(p.refundedAmount).toBe(p.amount);
      expect(p.notifications.map((n) => n.template)).toContain('preorder.refunded_at_ceiling');
    }
    expect((await backup.get<Batch>(`/v1/factory/batches/${atBackup!.batchId}`)).body.status).toBe('WITHDRAWN');
    expect((await backup.post(`/v1/factory/batches/${atBackup!.batchId}/accept`, { committedShipDate: threeWeeks })).status).toBe(409);
    const told = runtime.emulator.events.filter((e) => e.detailType === 'batch.units_withdrawn' && (e.detail as { campaignId?: string }).campaignId === campaignId);
    expect(told.map((e) => (e.detail as { reason: string }).reason).sort()).toEqual(['ceiling', 'ceiling']);
  });
});
