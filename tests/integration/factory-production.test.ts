import { describe, expect, it, vi } from 'vitest';
import { BatchWriteCommand, TransactWriteCommand } from '@aws-sdk/lib-dynamodb';
import { followLikeIntake, tellLikeNotifier, registerFactoryRecords, useEmulatorWithoutConsumers, useLocalTable } from '../support/table.ts';
import { testCampaign } from '../support/campaigns.ts';
import { expectPublishedEventsFitTheirSchemas } from '../support/events.ts';

// The factory's use cases in-process against DynamoDB Local; EventBridge and SQS are the local emulator
// (no consumers run: each test calls the consumer's use case itself, as a delivery would).
await useLocalTable();
const { recordRevocation } = await import('../../functions/adapters/factory-store.ts');
// The factories these campaigns name, registered as an operator would (a rejected batch goes only to an active backup).
await registerFactoryRecords('factory-1', 'factory-2');
const emulator = await useEmulatorWithoutConsumers({ BATCH_OVERDUE_GRACE_HOURS: '0' });
expectPublishedEventsFitTheirSchemas(emulator);

const { ddb } = await import('../../functions/adapters/dynamo.ts');
const campaigns = await import('../../functions/adapters/campaign-store.ts');
const preorders = await import('../../functions/adapters/preorder-store.ts');
const batches = await import('../../functions/adapters/batch-store.ts');
const { noticeOfEntry } = await import('../../functions/domain/notices.ts');
const { localeOf } = await import('../../functions/domain/preorder.ts');
/** What a timeline entry tells its buyer, as the API and the notification render it. */
const told = (p: { locale?: 'en' | 'zh-CN'; currency: string }, entry: Parameters<typeof noticeOfEntry>[0]) => noticeOfEntry(entry, localeOf(p)).message;
const shipments = await import('../../functions/adapters/shipment-store.ts');
const { settleCampaign } = await import('../../functions/handlers/batches/cutting.ts');
const { unwindBatch } = await import('../../functions/handlers/batches/unwinding.ts');
const { escalateDueBatch } = await import('../../functions/handlers/campaigns/clock.ts');
const factoryApi = await import('../../functions/handlers/factory/use-cases.ts');
const fulfillment = await import('../../functions/handlers/fulfillment/use-cases.ts');
const buyerApi = await import('../../functions/handlers/preorders/use-cases.ts');
const { tableName, withEnvironment } = await import('../../functions/shared/config.ts');
const { relayOutbox } = await import('../../functions/adapters/outbox.ts');
const { newCampaign } = await import('../../functions/domain/campaign.ts');
const { newPreorder } = await import('../../functions/domain/preorder.ts');
const { newId } = await import('../../functions/shared/ids.ts');
type Campaign = import('../../functions/domain/campaign.ts').Campaign;

/** What the clock's sweep at `now` comes to for batches: each batch due then, handed its own `batch-due` message. */
const sweepBatches = async (now: Date) => {
  for (const batchId of await dueBatches(now)) await escalateDueBatch(batchId, now);
};
/** Every batch the clock finds due at `now`, all pages. */
const dueBatches = async (now: Date) => {
  const all: string[] = [];
  for await (const page of batches.batchesDuePages(now)) all.push(...page);
  return all;
};

const factory1 = { role: 'factory' as const, id: 'factory-1' };
const factory2 = { role: 'factory' as const, id: 'factory-2' };
const address = { name: 'A', phone: '+8612345', line1: 'l', city: 'c', region: 'r', postalCode: '100000', country: 'CN' };

const makeCampaign = async (terms: { lotSize: number; backupFactoryId?: string; maxTotalQuantity?: number }) => {
  const campaign = testCampaign({
    factoryId: 'factory-1',
    variants: [
      { sku: 'S', name: 's', unitPrice: 100 },
      { sku: 'M', name: 'm', unitPrice: 250 },
    ],
    // Delays here go weeks past the promise; the ceiling that would refund them is tested in tests/e2e/broken-promises.
    maxDelayDays: 90,
    ...terms,
  });
  await campaigns.createCampaign(campaign, 'h');
  return campaign;
};

/** `count` pre-orders, alternating M and S, one after another so they are in age order. */
const place = async (campaign: Campaign, count: number) => {
  const ids: string[] = [];
  for (let i = 0; i < count; i++) {
    const sku = i % 2 ? 'S' : 'M';
    const quantity = 1 + (i % 3);
    const r = await preorders.placePreorder(
      (gateTakes) =>
        newPreorder({ preorderId: newId('po'), campaign, buyerId: `buyer-${i}-fp`, sku, unitPrice: sku === 'S' ? 100 : 250, quantity, shippingAddress: address, gateTakes, now: new Date() }),
      campaign,
      quantity,
      'h',
    );
    if (r.placed) ids.push(r.preorder.preorderId);
  }
  // Told "accepted" and listed, as intake does off the stream.
  await followLikeIntake(ids);
  return ids;
};

/** A campaign whose pre-orders were just cut into one released batch. */
const releasedBatch = async (terms: { backupFactoryId?: string; maxTotalQuantity?: number } = {}) => {
  const campaign = await makeCampaign({ lotSize: 12, ...terms });
  const ids = await place(campaign, 6); // 1+2+3+1+2+3 = 12 units: one full lot
  await settleCampaign(campaign.campaignId);
  const batchId = (await preorders.getPreorder(ids[0]!, true))!.batchId!;
  expect(batchId).toBeDefined();
  // Its buyers told "batched", as the notifier does on the release's event.
  await tellLikeNotifier(batchId);
  return { campaign, ids, batchId };
};

const conservation = async (campaign: Campaign, ids: string[]) => {
  const all = await Promise.all(ids.map(async (id) => (await preorders.getPreorder(id, true))!));
  const demand = await campaigns.readDemand(campaign, true);
  for (const v of demand.variants) {
    const mine = all.filter((p) => p.sku === v.sku);
    const units = (pred: (p: (typeof all)[number]) => boolean) => mine.filter(pred).reduce((n, p) => n + p.quantity, 0);
    expect(v.batched, `${v.sku} batched`).toBe(units((p) => ['BATCHED', 'IN_PRODUCTION', 'SHIPPED', 'DELIVERED'].includes(p.status)));
    expect(v.waiting, `${v.sku} waiting`).toBe(units((p) => p.status === 'ACCEPTED'));
    expect(v.cancelled, `${v.sku} refunded`).toBe(units((p) => p.status === 'REFUNDED'));
    expect(v.ordered).toBe(v.batched + v.waiting + v.cancelled);
  }
  return all;
};

const eventsOf = (type: string, key: string, value: string) =>
  emulator.events.filter((e) => e.detailType === type && (e.detail as Record<string, unknown>)[key] === value);

describe('Progress and shipments against DynamoDB Local', () => {
  it('A batch goes ACCEPTED → IN_PRODUCTION → PARTIALLY_SHIPPED → COMPLETED as counts and shipments arrive', async () => {
    const { batchId } = await releasedBatch();
    const accepted = await factoryApi.acceptOwnBatch(factory1, batchId, '2099-01-31');
    expect(accepted).toMatchObject({ status: 'ACCEPTED', committedShipDate: '2099-01-31' });
    expect(accepted.lines).toEqual([
      { sku: 'S', quantity: 6, shipped: 0 },
      { sku: 'M', quantity: 6, shipped: 0 },
    ]);
    await factoryApi.reportOwnProgress(factory1, batchId, { sku: 'S', produced: 6, qcPassed: 5, qcFailed: 1 });
    const producing = await factoryApi.reportOwnProgress(factory1, batchId, { sku: 'M', produced: 4, qcPassed: 4, qcFailed: 0 });
    expect(producing).toMatchObject({ status: 'IN_PRODUCTION', produced: 10, qcPassed: 9, qcFailed: 1 });

    const first = await factoryApi.shipFromOwnBatch(factory1, batchId, { carrier: 'SF', trackingNumber: 'SF0001', items: [{ sku: 'S', quantity: 5 }, { sku: 'M', quantity: 4 }] }, undefined);
    expect((await batches.getBatch(batchId))).toMatchObject({ status: 'PARTIALLY_SHIPPED', shipped: 9 });

    // The remake of the failed S and the last two M.
    await factoryApi.reportOwnProgress(factory1, batchId, { sku: 'S', produced: 7, qcPassed: 6, qcFailed: 1 });
    await factoryApi.reportOwnProgress(factory1, batchId, { sku: 'M', produced: 6, qcPassed: 6, qcFailed: 0 });
    await factoryApi.shipFromOwnBatch(factory1, batchId, { carrier: 'SF', trackingNumber: 'SF0002', items: [{ sku: 'S', quantity: 1 }, { sku: 'M', quantity: 2 }] }, undefined);
    const done = (await batches.getBatch(batchId))!;
    expect(done).toMatchObject({ status: 'COMPLETED', shipped: 12, produced: 13, qcPassed: 12, qcFailed: 1 });
    expect(done.completedAt).toBeDefined();

    const delivered = await factoryApi.confirmOwnDelivery(factory1, first.shipment.shipmentId);
    expect(delivered.status).toBe('DELIVERED');
    expect(await factoryApi.confirmOwnDelivery(factory1, first.shipment.shipmentId)).toEqual(delivered); // repeating changes nothing
    expect(eventsOf('shipment.delivered', 'shipmentId', first.shipment.shipmentId)).toHaveLength(1);
    expect(eventsOf('batch.accepted', 'batchId', batchId)).toHaveLength(1);
    expect(eventsOf('batch.progressed', 'batchId', batchId)).toHaveLength(4);
    expect(eventsOf('shipment.created', 'batchId', batchId)).toHaveLength(2);
  });

  it('Shipping more than QC passed is refused, and neither the shipment nor the counts are written', async () => {
    const { batchId } = await releasedBatch();
    await factoryApi.acceptOwnBatch(factory1, batchId, '2099-01-31');
    await factoryApi.reportOwnProgress(factory1, batchId, { sku: 'M', produced: 3, qcPassed: 2, qcFailed: 1 });
    const before = await batches.getBatch(batchId);
    const key = 'lot-1';
    await expect(
      factoryApi.shipFromOwnBatch(factory1, batchId, { carrier: 'SF', trackingNumber: 'SF0003', items: [{ sku: 'M', quantity: 3 }] }, key),
    ).rejects.toThrow('Only 2 M have passed QC and not shipped yet; this shipment has 3');
    expect(await batches.getBatch(batchId)).toEqual(before);
    expect(await shipments.getShipment(newId('shp', `shipment|${factory1.id}|${key}`))).toBeUndefined();
    expect(eventsOf('shipment.created', 'batchId', batchId)).toHaveLength(0);
  });

  it('The same shipment sent three times with one Idempotency-Key ships once', async () => {
    const { batchId } = await releasedBatch();
    await factoryApi.acceptOwnBatch(factory1, batchId, '2099-01-31');
    await factoryApi.reportOwnProgress(factory1, batchId, { sku: 'S', produced: 6, qcPassed: 6, qcFailed: 0 });
    const body = { carrier: 'SF', trackingNumber: 'SF0004', items: [{ sku: 'S', quantity: 4 }] };
    const results = await Promise.all([1, 2, 3].map(() => factoryApi.shipFromOwnBatch(factory1, batchId, body, 'same-lot')));
    expect(new Set(results.map((r) => r.shipment.shipmentId)).size).toBe(1);
    expect((await batches.getBatch(batchId))!.shipped).toBe(4);
    await expect(factoryApi.shipFromOwnBatch(factory1, batchId, { ...body, trackingNumber: 'SF0005' }, 'same-lot')).rejects.toThrow(/Idempotency-Key/i);
  });

  it('Reports racing each other are applied one after another: the counts end at the highest report and never went backwards', async () => {
    const { batchId } = await releasedBatch();
    await factoryApi.acceptOwnBatch(factory1, batchId, '2099-01-31');
    const reports = [1, 2, 3, 4, 5, 6].map((n) => ({ sku: 'S', produced: n, qcPassed: n - 1, qcFailed: 0 }));
    const outcomes = await Promise.allSettled(reports.reverse().map((r) => factoryApi.reportOwnProgress(factory1, batchId, r)));
    // Some lower reports lose to a higher one already written: those are refused as going backwards, never applied.
    for (const o of outcomes) if (o.status === 'rejected') expect(String(o.reason)).toMatch(/cannot go backwards/);
    const final = (await batches.getBatch(batchId))!;
    expect(final.lines.find((l) => l.sku === 'S')).toMatchObject({ produced: 6, qcPassed: 5 });
  });

  it('Another factory cannot see or change the batch: every call is not-found', async () => {
    const { batchId } = await releasedBatch();
    await expect(factoryApi.ownBatch(factory2, batchId)).rejects.toThrow(/does not exist/);
    await expect(factoryApi.acceptOwnBatch(factory2, batchId, '2099-01-31')).rejects.toThrow(/does not exist/);
    await expect(factoryApi.rejectOwnBatch(factory2, batchId, 'x')).rejects.toThrow(/does not exist/);
    await expect(factoryApi.manifestPage(factory2, batchId, { limit: 10 })).rejects.toThrow(/does not exist/);
    expect((await batches.getBatch(batchId))!.status).toBe('RELEASED');
  });
});

describe('Rejection against DynamoDB Local', () => {
  it("With a backup factory, a rejected batch's pre-orders wait again, keep their place, and are cut for the backup", async () => {
    const { campaign, ids, batchId } = await releasedBatch({ backupFactoryId: 'factory-2' });
    const rejected = await factoryApi.rejectOwnBatch(factory1, batchId, 'mould broke');
    expect(rejected).toMatchObject({ status: 'REJECTED', rejectedReason: 'mould broke', next: 'backup-factory', nextFactoryId: 'factory-2' });
    expect(emulator.depth('batch-cuts').visible).toBeGreaterThan(0); // the unwind was asked for
    await unwindBatch(batchId); // what the batch-cuts consumer does with it

    expect((await campaigns.getCampaign(campaign.campaignId, true))!.factoryId).toBe('factory-2');
    const after = await conservation(campaign, ids);
    // The campaign's lot is 12 units and exactly those 12 wait again, so the backup got them in one batch.
    const newBatchId = after[0]!.batchId!;
    expect(newBatchId).not.toBe(batchId);
    expect(after.every((p) => p.status === 'BATCHED' && p.batchId === newBatchId)).toBe(true);
    const backupBatch = (await batches.getBatch(newBatchId))!;
    expect(backupBatch.factoryId).toBe('factory-2');
    expect(backupBatch.preorderIds).toEqual(ids); // oldest first, as before
    expect(after[0]!.timeline.map((t) => t.status)).toEqual(['ACCEPTED', 'BATCHED', 'ACCEPTED', 'BATCHED']);
    // The buyer hears a fixed phrase: neither the factory's words nor any factory's id.
    expect(after[0]!.timeline[2]).toMatchObject({ template: 'preorder.moved_to_backup_factory', params: {} });
    expect(told(after[0]!, after[0]!.timeline[2]!)).not.toMatch(/mould|factory-\d|bat_/);

    // The backup rejects too: nobody is left, so everyone is refunded.
    await factoryApi.rejectOwnBatch(factory2, newBatchId, 'no capacity');
    await unwindBatch(newBatchId);
    const refunded = await conservation(campaign, ids);
    expect(refunded.every((p) => p.status === 'REFUNDED' && p.refundedAmount === p.amount)).toBe(true);
  });

  it("A backup factory revoked since the campaign named it does not get the batch: its pre-orders are refunded, the campaign keeps its factory", async () => {
    await registerFactoryRecords('factory-revoked-backup');
    const { campaign, ids, batchId } = await releasedBatch({ backupFactoryId: 'factory-revoked-backup' });
    expect(await recordRevocation('factory-revoked-backup', new Date())).toMatchObject({ status: 'REVOKED' });
    await factoryApi.rejectOwnBatch(factory1, batchId, 'mould broke');
    await unwindBatch(batchId);
    expect((await campaigns.getCampaign(campaign.campaignId, true))!.factoryId).toBe('factory-1');
    const after = await conservation(campaign, ids);
    expect(after.every((p) => p.status === 'REFUNDED' && p.refundedAmount === p.amount)).toBe(true);
  });

  it('Without a backup, every pre-order is refunded once, even when the unwinder crashes half way and runs twice after', async () => {
    const { campaign, ids, batchId } = await releasedBatch({ maxTotalQuantity: 12 });
    await factoryApi.rejectOwnBatch(factory1, batchId, 'factory closed');
    let transactions = 0;
    const real = ddb.send.bind(ddb);
    const spy = vi.spyOn(ddb, 'send').mockImplementation(((command: unknown) => {
      if (command instanceof TransactWriteCommand && ++transactions > 3) return Promise.reject(new Error('unwinder crashed'));
      return real(command as never);
    }) as typeof ddb.send);
    await expect(unwindBatch(batchId)).rejects.toThrow('unwinder crashed');
    spy.mockRestore();
    const half = await conservation(campaign, ids);
    expect(half.filter((p) => p.status === 'REFUNDED').length).toBeGreaterThan(0);
    expect(half.filter((p) => p.status === 'BATCHED').length).toBeGreaterThan(0);

    await Promise.all([unwindBatch(batchId), unwindBatch(batchId)]); // redelivered, twice at once
    // The refunds committed before the crash announce themselves through the outbox relay (the clock's minute).
    await relayOutbox(new Date(Date.now() + 120_000));
    const all = await conservation(campaign, ids);
    for (const p of all) {
      expect(p.status).toBe('REFUNDED');
      expect(p.refundedAmount).toBe(p.amount);
      expect(p.timeline.at(-1)).toMatchObject({ template: 'preorder.refunded_factory_declined', params: { amount: p.amount, currency: p.currency } });
      expect(told(p, p.timeline.at(-1)!)).not.toMatch(/factory closed|factory-\d|bat_/);
      expect(eventsOf('preorder.refunded', 'preorderId', p.preorderId)).toHaveLength(1);
    }
    // The refunded units go back under the cap: the campaign can sell them again.
    const gates = await campaigns.readGates(campaign, true);
    expect(gates.reduce((n, g) => n + (g.remaining ?? 0), 0)).toBe(12);
    expect((await batches.getBatch(batchId))!.unwoundAt).toBeDefined();
  });
});

describe('Overdue batches against DynamoDB Local', () => {
  const clock = (env: Record<string, string>, now: Date) => withEnvironment({ ...process.env, ...env }, () => sweepBatches(now));

  it('Past acceptBy a batch is escalated once with batch.overdue; past the grace period it is rejected and refunded', async () => {
    const { campaign, ids, batchId } = await releasedBatch();
    const batch = (await batches.getBatch(batchId))!;
    const acceptBy = Date.parse(batch.acceptBy!);
    await clock({ BATCH_OVERDUE_GRACE_HOURS: '2' }, new Date(acceptBy - 1000));
    expect(eventsOf('batch.overdue', 'batchId', batchId)).toHaveLength(0);

    await clock({ BATCH_OVERDUE_GRACE_HOURS: '2' }, new Date(acceptBy + 1000));
    await clock({ BATCH_OVERDUE_GRACE_HOURS: '2' }, new Date(acceptBy + 2000)); // the next tick: still once
    expect(eventsOf('batch.overdue', 'batchId', batchId)).toHaveLength(1);
    const overdue = (await batches.getBatch(batchId))!;
    expect(overdue).toMatchObject({ status: 'RELEASED', escalateAt: new Date(acceptBy + 2 * 3600_000).toISOString() });

    await clock({ BATCH_OVERDUE_GRACE_HOURS: '2' }, new Date(acceptBy + 2 * 3600_000 + 1000));
    const expired = (await batches.getBatch(batchId))!;
    expect(expired.status).toBe('REJECTED');
    expect(expired.rejectedReason).toMatch(/not accepted by/);
    expect(eventsOf('batch.rejected', 'batchId', batchId)).toHaveLength(1);
    await unwindBatch(batchId);
    expect((await conservation(campaign, ids)).every((p) => p.status === 'REFUNDED')).toBe(true);
    // Unwound: the clock has nothing more to do with it.
    expect(await dueBatches(new Date(acceptBy + 3 * 3600_000))).not.toContain(batchId);
  });

  it('A factory that accepts during the grace period keeps the batch', async () => {
    const { batchId } = await releasedBatch();
    const acceptBy = Date.parse((await batches.getBatch(batchId))!.acceptBy!);
    await clock({ BATCH_OVERDUE_GRACE_HOURS: '2' }, new Date(acceptBy + 1000));
    const accepted = await factoryApi.acceptOwnBatch(factory1, batchId, '2099-01-31');
    expect(accepted.status).toBe('ACCEPTED');
    expect(accepted.overdueAt).toBeUndefined();
    await clock({ BATCH_OVERDUE_GRACE_HOURS: '2' }, new Date(acceptBy + 3 * 3600_000));
    expect((await batches.getBatch(batchId))!.status).toBe('ACCEPTED');
    expect(await dueBatches(new Date(acceptBy + 3 * 3600_000))).not.toContain(batchId);
  });

  it('A rejected batch whose unwind request was lost is unwound when the clock comes by', async () => {
    const { campaign, ids, batchId } = await releasedBatch();
    await factoryApi.rejectOwnBatch(factory1, batchId, 'gone');
    const before = emulator.depth('batch-cuts').visible;
    await clock({}, new Date(Date.now() + 1000));
    expect(emulator.depth('batch-cuts').visible).toBe(before + 1); // asked again
    await unwindBatch(batchId);
    expect((await conservation(campaign, ids)).every((p) => p.status === 'REFUNDED')).toBe(true);
  });
});

describe('Promised dates against DynamoDB Local', () => {
  const clock = (env: Record<string, string>, now: Date) => withEnvironment({ ...process.env, ...env }, () => sweepBatches(now));
  it('A buyer told of a delay to D, whose batch goes to the backup factory, is not told of D again when the backup commits to D', async () => {
    const { ids, batchId } = await releasedBatch({ backupFactoryId: 'factory-2' });
    const late = new Date(Date.now() + 30 * 86_400_000).toISOString().slice(0, 10);
    const quiet = vi.spyOn(process.stdout, 'write').mockImplementation(() => true); // the local channel prints each notice
    try {
      await factoryApi.acceptOwnBatch(factory1, batchId, late);
      await fulfillment.startBatchProduction(batchId);
      await factoryApi.rejectOwnBatch(factory1, batchId, 'kiln down');
      await unwindBatch(batchId); // back to waiting, and cut again for the backup
      const moved = await Promise.all(ids.map(async (id) => (await preorders.getPreorder(id, true))!));
      const backupBatchId = moved[0]!.batchId!;
      expect(backupBatchId).not.toBe(batchId);
      for (const p of moved) expect(p.promisedShipBy.slice(0, 10)).toBe(late); // the date they were told stands
      await factoryApi.acceptOwnBatch(factory2, backupBatchId, late);
      await fulfillment.startBatchProduction(backupBatchId);
    } finally {
      quiet.mockRestore();
    }
    const all = await Promise.all(ids.map(async (id) => (await preorders.getPreorder(id, true))!));
    for (const p of all) {
      expect(p.status).toBe('IN_PRODUCTION');
      expect(p.timeline.filter((t) => t.step === 'delayed')).toHaveLength(1);
      expect(eventsOf('preorder.delayed', 'preorderId', p.preorderId)).toHaveLength(1);
    }
  });

  it('When the promise passes unshipped, each waiting buyer is told the new date once, and may then cancel; a shipped buyer is not told', async () => {
    const { campaign, ids, batchId } = await releasedBatch();
    const tomorrow = new Date(Date.now() + 86_400_000).toISOString().slice(0, 10);
    await factoryApi.acceptOwnBatch(factory1, batchId, tomorrow);
    await fulfillment.startBatchProduction(batchId); // what the batch.accepted event brings
    // The oldest pre-order (2 M) gets its units before the date.
    await factoryApi.reportOwnProgress(factory1, batchId, { sku: 'M', produced: 2, qcPassed: 2, qcFailed: 0 });
    const lot = await factoryApi.shipFromOwnBatch(factory1, batchId, { carrier: 'SF', trackingNumber: 'SF0009', items: [{ sku: 'M', quantity: 2 }] }, undefined);
    await fulfillment.shipToBuyers(lot.shipment.shipmentId);

    const quiet = vi.spyOn(process.stdout, 'write').mockImplementation(() => true); // the local channel prints each notice
    const late = new Date(Date.now() + 3 * 86_400_000);
    await clock({}, late);
    await clock({}, new Date(late.getTime() + 60_000)); // the next tick: nothing new
    quiet.mockRestore();

    const all = await Promise.all(ids.map(async (id) => (await preorders.getPreorderWithNotices(id, true))!));
    const [shipped, ...waiting] = all;
    expect(shipped!.status).toBe('SHIPPED');
    expect(shipped!.timeline.some((t) => t.step === 'delayed')).toBe(false);
    const newDate = `${tomorrow}T23:59:59.999Z`;
    const expected = new Date(Date.parse(newDate) + 7 * 86_400_000).toISOString();
    for (const p of waiting) {
      expect(p.promisedShipBy).toBe(expected);
      expect(p.delayedTo).toBe(expected);
      expect(p.timeline.filter((t) => t.step === 'delayed')).toHaveLength(1);
      const [delayed] = eventsOf('preorder.delayed', 'preorderId', p.preorderId);
      expect(eventsOf('preorder.delayed', 'preorderId', p.preorderId)).toHaveLength(1);
      expect(delayed!.detail).toMatchObject({ promisedShipBy: expected, batchId }); // the platform learns the new date too
      // Every step was sent once, and recorded.
      expect(p.notifications?.map((n) => n.message)).toEqual(p.timeline.map((t) => told(p, t)));
    }
    // A delayed buyer cancels: refunded in full, and the batch makes that many fewer.
    const before = (await batches.getBatch(batchId))!;
    const leaving = waiting[0]!;
    const refunded = await buyerApi.cancelOwnPreorder({ role: 'buyer', id: leaving.buyerId }, leaving.preorderId);
    expect(refunded.status).toBe('REFUNDED');
    const after = (await batches.getBatch(batchId))!;
    expect(after.units).toBe(before.units - leaving.quantity);
    await conservation(campaign, ids);
    // The shipped buyer could not have: their units left.
    await expect(buyerApi.cancelOwnPreorder({ role: 'buyer', id: shipped!.buyerId }, shipped!.preorderId)).rejects.toThrow(/cannot be cancelled|SHIPPED/);
  });
});

describe('Manifests against DynamoDB Local', () => {
  const manifestIds = async (factory: typeof factory1, batchId: string) => (await factoryApi.manifestPage(factory, batchId, { limit: 200 })).items.map((i) => i.preorderId);

  it("A rejected batch's manifest is closed to the factory that rejected it (409), before and after its pre-orders went to the backup", async () => {
    const { ids, batchId } = await releasedBatch({ backupFactoryId: 'factory-2' });
    const open = await factoryApi.manifestPage(factory1, batchId, { limit: 200 });
    expect(open.items.map((i) => i.preorderId)).toEqual(ids);
    expect(open.items[0]!.shippingAddress).toEqual(address);

    await factoryApi.rejectOwnBatch(factory1, batchId, 'mould broke');
    // Before the unwind moved them on, the pre-orders still name this batch: the batch's status decides.
    expect((await preorders.getPreorder(ids[0]!, true))!.batchId).toBe(batchId);
    const closed = factoryApi.manifestPage(factory1, batchId, { limit: 200 });
    await expect(closed).rejects.toMatchObject({ kind: 'conflict', message: expect.stringMatching(/was rejected \(mould broke\)/) });

    await unwindBatch(batchId);
    await expect(factoryApi.manifestPage(factory1, batchId, { limit: 200 })).rejects.toMatchObject({ kind: 'conflict' });
    // The backup now ships them, and only it sees where to.
    const newBatchId = (await preorders.getPreorder(ids[0]!, true))!.batchId!;
    expect(await manifestIds(factory2, newBatchId)).toEqual(ids);
    await expect(factoryApi.manifestPage(factory1, newBatchId, { limit: 200 })).rejects.toThrow(/does not exist/);
  });

  it('Pre-orders refunded whole out of a batch drop off its manifest; one partly shipped and partly refunded stays', async () => {
    const { ids, batchId } = await releasedBatch();
    await factoryApi.acceptOwnBatch(factory1, batchId, '2099-01-31');
    await fulfillment.startBatchProduction(batchId);
    await factoryApi.reportOwnProgress(factory1, batchId, { sku: 'M', produced: 2, qcPassed: 2, qcFailed: 0 });
    // Oldest first: ids[0] (1 M) gets its unit, ids[2] (3 M) one of its three.
    const lot = await factoryApi.shipFromOwnBatch(factory1, batchId, { carrier: 'SF', trackingNumber: 'SF0010', items: [{ sku: 'M', quantity: 2 }] }, undefined);
    await fulfillment.shipToBuyers(lot.shipment.shipmentId);
    await factoryApi.closeOwnBatchShort(factory1, batchId, 'dye ran out');
    const quiet = vi.spyOn(process.stdout, 'write').mockImplementation(() => true); // the local channel prints each notice
    await fulfillment.refundShortfall(batchId);
    quiet.mockRestore();

    const after = await Promise.all(ids.map(async (id) => (await preorders.getPreorder(id, true))!));
    expect(after.map((p) => p.status)).toEqual(['SHIPPED', 'REFUNDED', 'SHIPPED', 'REFUNDED', 'REFUNDED', 'REFUNDED']);
    expect(after[2]!.refundedUnits).toBe(2);
    const page = await factoryApi.manifestPage(factory1, batchId, { limit: 200 });
    expect(page.items.map((i) => i.preorderId)).toEqual([ids[0], ids[2]]);
    expect(JSON.stringify(page)).not.toContain(after[1]!.buyerId);
    // Paging goes by position in the batch: a page may be short, and the cursor still walks it all.
    const seen: string[] = [];
    let cursor: string | undefined;
    do {
      const p = await factoryApi.manifestPage(factory1, batchId, { limit: 2, ...(cursor && { cursor }) });
      seen.push(...p.items.map((i) => i.preorderId));
      cursor = p.nextCursor;
    } while (cursor);
    expect(seen).toEqual([ids[0], ids[2]]);
  });
});

describe('Forecasts against DynamoDB Local', () => {
  it("A factory's forecasts list every open and scheduled campaign, newest first, however many ended campaigns are newer", async () => {
    const factoryId = `factory-fc-${newId('cmp').slice(-6)}`;
    const base = Date.now() - 30 * 86_400_000;
    const draft = (over: Record<string, unknown> = {}) => ({
      title: 'fc',
      factoryId,
      currency: 'CNY',
      variants: [{ sku: 'S', name: 's', unitPrice: 100 }],
      closesAt: new Date(Date.now() + 86_400_000).toISOString(),
      minTotalQuantity: 0,
      lotSize: 10,
      maxTotalQuantity: 8, // one gate
      promisedShipDays: 7,
      ...over,
    });
    const active = async (at: number, over: Record<string, unknown> = {}) => {
      const c = newCampaign({ campaignId: newId('cmp'), anchorId: 'anchor-1', now: new Date(at), draft: draft(over) as never });
      await campaigns.createCampaign(c, 'h');
      return c;
    };
    const oldest = await active(base);
    // 250 ended campaigns, all newer than it (the old listing read the factory's newest 200 and lost it).
    const ended = Array.from({ length: 250 }, (_, i) => {
      const c = newCampaign({ campaignId: newId('cmp'), anchorId: 'anchor-1', now: new Date(base + 3600_000 + i * 1000), draft: draft() as never });
      return campaigns.toItem({ ...c, status: i % 2 ? 'CLOSED' : 'FAILED', closedAt: c.createdAt }, 'h');
    });
    const chunks = Array.from({ length: ended.length / 25 }, (_, k) => ended.slice(k * 25, k * 25 + 25));
    for (let k = 0; k < chunks.length; k += 8) {
      await Promise.all(
        chunks.slice(k, k + 8).map(async (chunk) => {
          let left: Record<string, unknown>[] = chunk;
          while (left.length > 0) {
            const out = await ddb.send(new BatchWriteCommand({ RequestItems: { [tableName()]: left.map((Item) => ({ PutRequest: { Item } })) } }));
            left = (out.UnprocessedItems?.[tableName()] ?? []).map((r) => r.PutRequest!.Item!);
          }
        }),
      );
    }
    const scheduled = await active(base + 20 * 86_400_000, { opensAt: new Date(Date.now() + 3600_000).toISOString() });
    const newest = await active(base + 21 * 86_400_000);
    expect(scheduled.status).toBe('SCHEDULED');
    const other = await makeCampaign({ lotSize: 10 }); // factory-1's: never listed here

    const pages: { items: { campaignId: string; status: string }[]; nextCursor?: string | undefined }[] = [];
    let cursor: string | undefined;
    do {
      const page = await factoryApi.ownForecasts({ role: 'factory', id: factoryId }, { limit: 2, ...(cursor && { cursor }) });
      expect(page.items.length).toBeLessThanOrEqual(2);
      pages.push(page);
      cursor = page.nextCursor;
    } while (cursor && pages.length < 20);
    expect(cursor).toBeUndefined();
    expect(pages.flatMap((p) => p.items.map((i) => i.campaignId))).toEqual([newest.campaignId, scheduled.campaignId, oldest.campaignId]);
    expect(pages.flatMap((p) => p.items.map((i) => i.status))).toEqual(['OPEN', 'SCHEDULED', 'OPEN']);
    expect(JSON.stringify(pages)).not.toContain(other.campaignId);
    const whole = await factoryApi.ownForecasts({ role: 'factory', id: factoryId }, { limit: 50 });
    expect(whole.items.map((i) => i.campaignId)).toEqual([newest.campaignId, scheduled.campaignId, oldest.campaignId]);
    expect(whole.nextCursor).toBeUndefined();

    // Reading through ended campaigns is bounded per page (1,000 in production, 100 here): a page comes back
    // short, even empty, with a cursor to go on, and following it finds the rest.
    const bounded: { items: { campaignId: string }[]; nextCursor?: string | undefined }[] = [];
    let at: string | undefined;
    do {
      const page = await campaigns.listActiveCampaignsForFactory(factoryId, { limit: 2, readBudget: 100, ...(at && { cursor: at }) });
      if (page === 'invalid-cursor') throw new Error('the list refused its own cursor');
      bounded.push(page);
      at = page.nextCursor;
    } while (at && bounded.length < 20);
    expect(bounded.flatMap((p) => p.items.map((i) => i.campaignId))).toEqual([newest.campaignId, scheduled.campaignId, oldest.campaignId]);
    expect(bounded.some((p) => p.items.length === 0 && p.nextCursor !== undefined)).toBe(true);

    // A cursor is checked, and never names another partition.
    await expect(factoryApi.ownForecasts({ role: 'factory', id: factoryId }, { limit: 2, cursor: 'bm90LWEtY3Vyc29y' })).rejects.toMatchObject({ kind: 'invalid' });
    const theirs = await factoryApi.ownForecasts(factory1, { limit: 50, ...(pages[0]!.nextCursor && { cursor: pages[0]!.nextCursor }) });
    expect(theirs.items.map((i) => i.campaignId)).not.toContain(oldest.campaignId);
  });
});
