import { afterAll, describe, expect, it, vi } from 'vitest';
import { QueryCommand, TransactWriteCommand, UpdateCommand } from '@aws-sdk/lib-dynamodb';
import { useLocalTable } from '../support/table.ts';
import { testCampaign } from '../support/campaigns.ts';
import { startAwsEmulator } from '../../lib/local/aws-emulator.ts';
import { envNames } from '../../lib/topology.ts';
import { expectPublishedEventsFitTheirSchemas } from '../support/events.ts';
import { itemBytes } from '../../bench/capacity.ts';

// The cutter's use cases in-process against DynamoDB Local; EventBridge is the local emulator.
await useLocalTable();
const emulator = await startAwsEmulator({ dataDir: null, invoke: async () => undefined, startConsumers: false });
expectPublishedEventsFitTheirSchemas(emulator);
Object.assign(process.env, { AWS_ENDPOINT_URL_EVENTBRIDGE: emulator.endpoint, [envNames.bus]: emulator.busName, BATCH_ACCEPT_WINDOW_HOURS: '36', [envNames.notificationTopic]: 'local:console' });
afterAll(() => emulator.stop());

const { ddb, batchWriteItems } = await import('../../functions/adapters/dynamo.ts');
const { tableName } = await import('../../functions/shared/config.ts');
const campaigns = await import('../../functions/adapters/campaign-store.ts');
const preorders = await import('../../functions/adapters/preorder-store.ts');
const batches = await import('../../functions/adapters/batch-store.ts');
const { settleCampaign } = await import('../../functions/handlers/batches/cutting.ts');
const { relayOutbox } = await import('../../functions/adapters/outbox.ts');
const { newPreorder } = await import('../../functions/domain/preorder.ts');
const { newId } = await import('../../functions/shared/ids.ts');
type Campaign = import('../../functions/domain/campaign.ts').Campaign;

const address = { name: 'A', phone: '+8612345', line1: 'l', city: 'c', region: 'r', postalCode: '100000', country: 'CN' };

const makeCampaign = async (terms: { lotSize: number; minTotalQuantity?: number; maxWaitHours?: number }) => {
  const campaign = testCampaign({
    factoryId: 'factory-1',
    variants: [
      { sku: 'S', name: 's', unitPrice: 100 },
      { sku: 'M', name: 'm', unitPrice: 100 },
    ],
    ...terms,
  });
  await campaigns.createCampaign(campaign, 'h');
  return campaign;
};

const place = async (campaign: Campaign, count: number, quantity = (i: number) => 1 + (i % 3)) => {
  const ids: string[] = [];
  let next = 0;
  await Promise.all(
    Array.from({ length: 32 }, async () => {
      while (next < count) {
        const i = next++;
        const r = await preorders.placePreorder(
          (gateTakes) =>
            newPreorder({ preorderId: newId('po'), campaign, buyerId: `b${i % 50}`, sku: i % 2 ? 'S' : 'M', unitPrice: 100, quantity: quantity(i), shippingAddress: address, gateTakes, now: new Date() }),
          campaign,
          quantity(i),
          'h',
        );
        if (r.placed) ids.push(r.preorder.preorderId);
      }
    }),
  );
  return ids;
};

const statusesOf = async (ids: string[]) => Promise.all(ids.map(async (id) => (await preorders.getPreorder(id, true))!));

/**
 * Conservation, from the pre-orders themselves against the gates: ordered =
 * batched + waiting + cancelled, per variant. The gates count a batch's units as
 * batched from its release: a pre-order assigned by a cut still in progress
 * (its batch CUTTING) is waiting there.
 */
const expectConservation = async (campaign: Campaign, ids: string[]) => {
  const all = await statusesOf(ids);
  const demand = await campaigns.readDemand(campaign, true);
  const cutting = new Set(
    (await Promise.all([...new Set(all.flatMap((p) => (p.batchId ? [p.batchId] : [])))].map((id) => batches.getBatch(id))))
      .filter((b) => b?.status === 'CUTTING')
      .map((b) => b!.batchId),
  );
  const inReleasedBatch = (p: (typeof all)[number]) => p.status === 'BATCHED' && !cutting.has(p.batchId!);
  for (const v of demand.variants) {
    const mine = all.filter((p) => p.sku === v.sku);
    const units = (pred: (p: (typeof all)[number]) => boolean) => mine.filter(pred).reduce((n, p) => n + p.quantity, 0);
    expect(v.ordered, `${v.sku} ordered`).toBe(units(() => true));
    expect(v.batched, `${v.sku} batched`).toBe(units(inReleasedBatch));
    expect(v.waiting, `${v.sku} waiting`).toBe(units((p) => p.status === 'ACCEPTED' || (p.status === 'BATCHED' && !inReleasedBatch(p))));
    expect(v.cancelled, `${v.sku} cancelled`).toBe(units((p) => p.status === 'REFUNDED'));
    expect(v.ordered).toBe(v.batched + v.waiting + v.cancelled);
  }
  return all;
};

/** Every pre-order is in at most one batch, and each batch holds exactly the pre-orders that point to it. */
const expectBatchesConsistent = async (all: Awaited<ReturnType<typeof statusesOf>>) => {
  const batchIds = [...new Set(all.flatMap((p) => (p.batchId ? [p.batchId] : [])))];
  const found = await Promise.all(batchIds.map((id) => batches.getBatch(id)));
  const seen = new Set<string>();
  for (const b of found) {
    expect(b?.status).toBe('RELEASED');
    for (const id of b!.preorderIds) {
      expect(seen.has(id), `${id} in two batches`).toBe(false);
      seen.add(id);
    }
    expect(b!.units).toBe(b!.lines.reduce((n, l) => n + l.quantity, 0));
  }
  expect([...seen].sort()).toEqual(all.filter((p) => p.status === 'BATCHED').map((p) => p.preorderId).sort());
  const released = emulator.events.filter((e) => e.detailType === 'batch.released' && batchIds.includes((e.detail as { batchId: string }).batchId));
  expect(released).toHaveLength(batchIds.length); // each batch announced once
  return found;
};

describe('Batch cutting against DynamoDB Local', () => {
  it('When waiting units reach lotSize, a batch takes whole pre-orders oldest first and is released once', async () => {
    const campaign = await makeCampaign({ lotSize: 10 });
    const ids = await place(campaign, 12, () => 1);
    await settleCampaign(campaign.campaignId);
    const all = await expectConservation(campaign, ids);
    const batched = all.filter((p) => p.status === 'BATCHED');
    expect(batched).toHaveLength(10);
    const oldestWaiting = all.filter((p) => p.status === 'ACCEPTED').map((p) => p.createdAt).sort()[0]!;
    expect(batched.every((p) => p.createdAt <= oldestWaiting)).toBe(true);
    const [batch] = await expectBatchesConsistent(all);
    // acceptBy comes from the configured acceptance window (36 h here).
    expect(Date.parse(batch!.acceptBy!) - Date.parse(batch!.releasedAt!)).toBe(36 * 3600_000);
    // Settling again (a redelivered trigger) cuts nothing: 2 units wait, below the lot.
    await settleCampaign(campaign.campaignId);
    expect((await campaigns.readDemand(campaign, true)).totals.batched).toBe(10);
  });

  it('Five cutters at once on 200 pre-orders: none in two batches, none left behind, no batch released twice', async () => {
    const campaign = await makeCampaign({ lotSize: 25 });
    const ids = await place(campaign, 200);
    await Promise.all(Array.from({ length: 5 }, () => settleCampaign(campaign.campaignId)));
    const all = await expectConservation(campaign, ids);
    const found = await expectBatchesConsistent(all);
    const waiting = (await campaigns.readDemand(campaign, true)).totals.waiting;
    expect(waiting).toBeLessThan(25); // whatever waits is below a lot
    // Every lot batch is a full lot: no cutter planned pre-orders another batch had taken.
    expect(found.filter((b) => b!.units < 25)).toEqual([]);
    expect((await campaigns.getCampaign(campaign.campaignId, true))?.cuts).toBe(found.length);
  }, 180_000); // five finishers of every cut contend on the same items: 40 s on an idle 2-core machine

  it('A cutter that crashes half way through assigning is finished by the next one, each pre-order landing once', async () => {
    const campaign = await makeCampaign({ lotSize: 40 });
    const ids = await place(campaign, 30);
    // Injected fault: the DynamoDB client dies after the first cutter assigned 10 pre-orders.
    let assigned = 0;
    const real = ddb.send.bind(ddb);
    const spy = vi.spyOn(ddb, 'send').mockImplementation(((command: unknown) => {
      const assigning = command instanceof UpdateCommand && command.input.ExpressionAttributeValues?.[':batched'] === 'BATCHED';
      if (assigning && ++assigned > 10) return Promise.reject(new Error('cutter crashed'));
      return real(command as never);
    }) as typeof ddb.send);
    await expect(settleCampaign(campaign.campaignId)).rejects.toThrow('cutter crashed');
    spy.mockRestore();
    const half = await statusesOf(ids);
    expect(half.filter((p) => p.status === 'BATCHED').length).toBeGreaterThan(0);
    expect(half.filter((p) => p.status === 'ACCEPTED').length).toBeGreaterThan(0);
    // At the moment of the crash the gates hold every unit once, the assigned ones still as waiting.
    const atCrash = await campaigns.readDemand(campaign, true);
    expect(atCrash.totals.batched).toBe(0);
    await expectConservation(campaign, ids);

    await settleCampaign(campaign.campaignId); // the redelivered trigger
    const all = await expectConservation(campaign, ids);
    const found = await expectBatchesConsistent(all);
    expect(found).toHaveLength(1);
    expect((await campaigns.getCampaign(campaign.campaignId, true))?.cutting).toBeUndefined();
  });

  it('A release counts its units with itself: a cutter that dies right after it leaves demand whole, and no gate to count', async () => {
    // Prepare: 40 pre-orders over the campaign's gates, a lot of 30; the cutter dies on its first write after the release.
    const campaign = await makeCampaign({ lotSize: 30 });
    const ids = await place(campaign, 40, () => 1);
    let released = false;
    const real = ddb.send.bind(ddb);
    const spy = vi.spyOn(ddb, 'send').mockImplementation((async (command: unknown) => {
      if (released) throw new Error('cutter crashed');
      const out = await real(command as never);
      if (command instanceof TransactWriteCommand && JSON.stringify(command.input).includes('released-units')) released = true;
      return out;
    }) as typeof ddb.send);

    // Act
    await expect(settleCampaign(campaign.campaignId)).rejects.toThrow('cutter crashed');
    spy.mockRestore();
    const atCrash = await campaigns.readDemand(campaign, true);
    await settleCampaign(campaign.campaignId);

    // Assess: the batch's units were batched in demand from the release on; its gates were never written for it.
    const all = await expectConservation(campaign, ids);
    const [batch] = await expectBatchesConsistent(all);
    expect(atCrash.totals.batched).toBe(batch!.units);
    expect(batch!.gateUnits).toBeUndefined();
    expect(batch!.gatesCounted).toBeUndefined();
    expect((await campaigns.readDemand(campaign, true)).totals.batched).toBe(batch!.units);
    expect((await campaigns.getCampaign(campaign.campaignId, true))?.cutting).toBeUndefined();
    // Its event, committed with the release and not yet published when the cutter died, goes out with the clock's relay.
    expect(await relayOutbox(new Date(Date.now() + 61_000))).toBeGreaterThanOrEqual(1);
    expect(emulator.events.some((e) => e.detailType === 'batch.released' && (e.detail as { batchId: string }).batchId === batch!.batchId)).toBe(true);
  });

  it('A cut begun before counting in the release (across a deploy) is counted gate by gate; a cutter that dies half way is finished by the next, each gate once', async () => {
    // Prepare: a cut planned by the code before (countsAtRelease, no countsInRelease) over 40 pre-orders.
    const campaign = await makeCampaign({ lotSize: 30 });
    const ids = await place(campaign, 40, () => 1);
    const planned = (await preorders.getPreorders(ids)).slice(0, 30).map((p) => ({ preorderId: p.preorderId, sku: p.sku, quantity: p.quantity, createdAt: p.createdAt, gateShard: p.gateTakes[0]!.shard }));
    const batchId = newId('bat');
    const draft = { batchId, campaignId: campaign.campaignId, factoryId: 'factory-1', status: 'CUTTING' as const, reason: 'lot', planned, preorderIds: [], lines: [], units: 0, countsAtRelease: true, createdAt: new Date().toISOString(), produced: 0, qcPassed: 0, qcFailed: 0, shipped: 0 };
    expect(await batches.startCut(draft, 0)).toBe(true);
    let counted = 0;
    const real = ddb.send.bind(ddb);
    const spy = vi.spyOn(ddb, 'send').mockImplementation(((command: unknown) => {
      const countingAGate = command instanceof TransactWriteCommand && JSON.stringify(command.input).includes('batch-gate-counted');
      if (countingAGate && ++counted > 3) return Promise.reject(new Error('cutter crashed'));
      return real(command as never);
    }) as typeof ddb.send);

    // Act: the first finisher releases, counts three gates and dies; the trigger comes back.
    await expect(settleCampaign(campaign.campaignId)).rejects.toThrow('cutter crashed');
    spy.mockRestore();
    const half = await batches.getBatch(batchId);
    await settleCampaign(campaign.campaignId);

    // Assess: released before the crash, its gates counted partly then, wholly now, none twice.
    expect(half?.status).toBe('RELEASED');
    expect(half?.gatesCounted?.size).toBe(3);
    const all = await expectConservation(campaign, ids);
    const found = await expectBatchesConsistent(all);
    const batch = found.find((b) => b?.batchId === batchId)!;
    expect(batch.gatesCounted?.size).toBe(Object.keys(batch.gateUnits ?? {}).length);
    expect((await campaigns.readDemand(campaign, true)).totals.batched).toBe(found.reduce((n, b) => n + (b?.units ?? 0), 0));
    expect((await campaigns.getCampaign(campaign.campaignId, true))?.cutting).toBeUndefined();
  });

  it('A cut given up (VOID) whose put-back was cut short: the next trigger puts the rest back in line, and none of them can join that batch again', async () => {
    // Prepare: a cut planned, assigned and voided by a finisher that died before putting its pre-orders back.
    const campaign = await makeCampaign({ lotSize: 10 });
    const ids = await place(campaign, 6, () => 1);
    const planned = (await preorders.getPreorders(ids)).map((p) => ({ preorderId: p.preorderId, sku: p.sku, quantity: p.quantity, createdAt: p.createdAt, gateShard: p.gateTakes[0]!.shard }));
    const batchId = newId('bat');
    const draft = { batchId, campaignId: campaign.campaignId, factoryId: 'factory-1', status: 'CUTTING' as const, reason: 'lot', planned, preorderIds: [], lines: [], units: 0, countsAtRelease: true, createdAt: new Date().toISOString(), produced: 0, qcPassed: 0, qcFailed: 0, shipped: 0 };
    expect(await batches.startCut(draft, 0)).toBe(true);
    const entry = { at: new Date().toISOString(), status: 'BATCHED' as const, note: 'batched' };
    for (const p of planned) expect(await batches.assignToBatch(p, batchId, entry, new Date())).toBe('assigned');
    expect(await batches.releaseBatch(batchId, { status: 'VOID' })).toBe(true);

    // Act: the redelivered trigger.
    await settleCampaign(campaign.campaignId);

    // Assess: all back in line, counted as waiting all along, and a late finisher of the void cut cannot take one back.
    const all = await expectConservation(campaign, ids);
    expect(all.map((p) => p.status)).toEqual(ids.map(() => 'ACCEPTED'));
    expect(await batches.assignToBatch(planned[0]!, batchId, entry, new Date())).toBe('skipped');
    expect((await campaigns.getCampaign(campaign.campaignId, true))?.cutting).toBeUndefined();
  });

  it('A lot cut out of a long line reads the oldest part of the waiting index, not the whole line, and takes the oldest whole pre-orders', async () => {
    // Prepare: 400 pre-orders of 1 unit waiting, a lot of 25.
    const campaign = await makeCampaign({ lotSize: 25 });
    const ids = await place(campaign, 400, () => 1);
    const indexed = async () => {
      // The waiting index catches up (eventually consistent): the cut below must not read a stale line.
      const all = await batches.listWaiting(campaign);
      expect(all).toHaveLength(400);
    };
    await indexed();
    // What the first cut read of the line before it took its lease (its plan).
    let fromIndex = 0;
    let planned = false;
    const real = ddb.send.bind(ddb);
    const spy = vi.spyOn(ddb, 'send').mockImplementation((async (command: unknown) => {
      if (command instanceof TransactWriteCommand && JSON.stringify(command.input).includes('SET cutting')) planned = true;
      const out = await real(command as never);
      if (!planned && command instanceof QueryCommand && command.input.IndexName === 'GSI3') fromIndex += (out as { Items?: unknown[] }).Items?.length ?? 0;
      return out;
    }) as typeof ddb.send);

    // Act: settle cuts every lot that is due, one after another (16 of them), each read from the line.
    await settleCampaign(campaign.campaignId);
    spy.mockRestore();

    // Assess
    const all = await expectConservation(campaign, ids);
    const found = await expectBatchesConsistent(all);
    expect(found).toHaveLength(16);
    // Oldest first: every batched pre-order is older than every one still waiting.
    const newestBatched = all.filter((p) => p.status === 'BATCHED').map((p) => p.createdAt).sort().at(-1)!;
    expect(all.filter((p) => p.status === 'ACCEPTED').every((p) => p.createdAt >= newestBatched)).toBe(true);
    // Reading the whole line, the first plan read all 400; a page per shard (64) and a lot's worth or two is far fewer.
    expect(fromIndex).toBeGreaterThanOrEqual(25);
    expect(fromIndex).toBeLessThan(200);
  });

  it('A closed campaign cuts a final batch of everything that waits; a batched pre-order can no longer be cancelled', async () => {
    const campaign = await makeCampaign({ lotSize: 1_000, minTotalQuantity: 1 });
    const ids = await place(campaign, 7);
    const closed = await campaigns.closeCampaign(campaign, new Date());
    expect(closed.campaign.status).toBe('CLOSED');
    await settleCampaign(campaign.campaignId);
    const all = await expectConservation(campaign, ids);
    expect(all.every((p) => p.status === 'BATCHED')).toBe(true);
    const [batch] = await expectBatchesConsistent(all);
    expect(batch!.reason).toBe('final');
    expect(await preorders.cancelPreorder(all[0]!, [], campaign, new Date(), [])).toBe(false);
  });

  it('A cut of 1,000 pre-orders writes its plan once, plainly, and its release no copy of it: under 0.2 write units a pre-order beside their own', async () => {
    // Prepare: a lot of 1,000 one-unit pre-orders waiting.
    const campaign = await makeCampaign({ lotSize: 1_000 });
    const ids = await place(campaign, 1_000, () => 1);
    // Every write of the cut but the pre-orders' own (ACCEPTED → BATCHED, one each), in AWS write units: what DynamoDB Local
    // reports, but for a transaction's Puts, which AWS charges 2 units per started KB and Local lumps together (bench/capacity.ts).
    let units = 0;
    const real = ddb.send.bind(ddb);
    const spy = vi.spyOn(ddb, 'send').mockImplementation((async (command: { input: Record<string, unknown> }) => {
      const assigning = command instanceof UpdateCommand && command.input.ExpressionAttributeValues?.[':batched'] === 'BATCHED';
      const writing = /Put|Update|Delete|TransactWrite|BatchWrite/.test(command.constructor.name) && !assigning;
      if (writing) command.input.ReturnConsumedCapacity = 'TOTAL';
      const out = (await real(command as never)) as { ConsumedCapacity?: { CapacityUnits?: number } | { CapacityUnits?: number }[] };
      if (!writing) return out;
      const reported = [out.ConsumedCapacity ?? []].flat().reduce((n, c) => n + (c.CapacityUnits ?? 0), 0);
      const txItems = command instanceof TransactWriteCommand ? (command.input.TransactItems as { Put?: { Item: Record<string, unknown> } }[]) : [];
      const charged = txItems.reduce((n, t) => n + 2 * (t.Put ? Math.max(1, Math.ceil(itemBytes(t.Put.Item) / 1024)) : 1), 0);
      units += Math.max(reported, charged);
      return out;
    }) as typeof ddb.send);

    // Act
    await settleCampaign(campaign.campaignId).finally(() => spy.mockRestore());

    // Assess: one batch of all 1,000, and its plan, lease, release and members cost a fraction of a unit a pre-order
    // (they cost 0.55 on AWS when the plan rode in the lease's transaction and on the header the release rewrote).
    const all = await expectConservation(campaign, ids);
    const [batch] = await expectBatchesConsistent(all);
    expect(batch!.preorderIds).toHaveLength(1_000);
    expect(units / 1_000).toBeLessThan(0.2);
  }, 60_000);

  it('A pre-order cancelled while a cut is planned is skipped, not batched', async () => {
    const campaign = await makeCampaign({ lotSize: 5 });
    const ids = await place(campaign, 5, () => 1);
    const [first] = await statusesOf(ids);
    const waiting = await batches.listWaiting(campaign);
    const draft = (planned: typeof waiting) => ({
      batchId: newId('bat'), campaignId: campaign.campaignId, factoryId: 'factory-1', status: 'CUTTING' as const, reason: 'lot',
      planned: planned.map((p) => ({ preorderId: p.preorderId, sku: p.sku, quantity: p.quantity, createdAt: p.createdAt, gateShard: p.gateTakes[0]!.shard })),
      preorderIds: [], lines: [], units: 0, createdAt: new Date().toISOString(), produced: 0, qcPassed: 0, qcFailed: 0, shipped: 0,
    });
    expect(await batches.startCut(draft(waiting), 0)).toBe(true);
    // A second cutter whose reads predate the first cut's lease cannot start a cut of its own.
    expect(await batches.startCut(draft(waiting), 0)).toBe(false);
    expect(await preorders.cancelPreorder(first!, [], campaign, new Date(), [])).toBe(true);
    await settleCampaign(campaign.campaignId); // finishes the planned cut
    const all = await expectConservation(campaign, ids);
    const [batch] = await expectBatchesConsistent(all);
    expect(batch!.preorderIds).toHaveLength(4);
    expect(batch!.preorderIds).not.toContain(first!.preorderId);
  });
});

describe('Waiting too long', () => {
  it('A pre-order that has waited maxWaitHours is cut into a batch even though the lot is not full', async () => {
    const campaign = await makeCampaign({ lotSize: 100, maxWaitHours: 2 });
    const ids = await place(campaign, 2, () => 1);
    await settleCampaign(campaign.campaignId);
    expect((await campaigns.readDemand(campaign, true)).totals.batched).toBe(0); // nobody has waited long enough yet
    // Two hours and a minute later (only Date moves: the SDK's and the test's timers stay real).
    vi.useFakeTimers({ toFake: ['Date'], shouldAdvanceTime: true });
    try {
      vi.setSystemTime(Date.now() + 2 * 3600_000 + 60_000);
      await settleCampaign(campaign.campaignId);
    } finally {
      vi.useRealTimers();
    }
    const all = await expectConservation(campaign, ids);
    const [batch] = await expectBatchesConsistent(all);
    expect(batch!.reason).toBe('max-wait');
    expect(batch!.units).toBe(2);
  });
});

/**
 * `count` waiting pre-orders of 1 unit, stored as placements store them (the
 * pre-order item as toItem writes it, each gate's `ordered` its own), written
 * 25 a BatchWriteItem rather than placed one transaction at a time: for tests
 * of what happens to many waiting pre-orders, not of placing them (the
 * placements above and the e2e suites test that). A minute less of the suite.
 */
const seedWaiting = async (campaign: Campaign, count: number): Promise<string[]> => {
  const now = new Date();
  const made = Array.from({ length: count }, (_, i) => {
    const shard = i % campaign.gateShards;
    const sku = i % 2 ? 'S' : 'M';
    return newPreorder({ preorderId: newId('po'), campaign, buyerId: `b${i % 50}`, sku, unitPrice: 100, quantity: 1, shippingAddress: address, gateTakes: [{ shard, units: 1 }], now });
  });
  await batchWriteItems(tableName(), made.map((p) => preorders.toItem(p, 'h')));
  for (let shard = 0; shard < campaign.gateShards; shard++) {
    const mine = made.filter((p) => p.gateTakes[0]!.shard === shard);
    const bySlot = new Map<string, number>();
    for (const p of mine) bySlot.set(campaigns.variantSlot(campaign, p.sku), (bySlot.get(campaigns.variantSlot(campaign, p.sku)) ?? 0) + 1);
    if (bySlot.size === 0) continue;
    const slots = [...bySlot];
    await ddb.send(
      new UpdateCommand({
        TableName: tableName(),
        Key: campaigns.gateKey(campaign.campaignId, shard),
        UpdateExpression: `ADD ${slots.map((_, i) => `ordered.#s${i} :q${i}`).join(', ')}`,
        ExpressionAttributeNames: Object.fromEntries(slots.map(([slot], i) => [`#s${i}`, slot])),
        ExpressionAttributeValues: Object.fromEntries(slots.map(([, n], i) => [`:q${i}`, n])),
      }),
    );
  }
  return made.map((p) => p.preorderId);
};

describe('Failed campaigns', () => {
  it('A failed campaign of 4,000 pre-orders refunds every one exactly once, even when the refunder crashes half way through a chunk', async () => {
    const campaign = await makeCampaign({ lotSize: 1_000_000, minTotalQuantity: 1_000_000 });
    const ids = await seedWaiting(campaign, 4_000);
    expect(ids).toHaveLength(4_000);
    expect((await campaigns.readDemand(campaign, true)).totals).toMatchObject({ ordered: 4_000, waiting: 4_000 });
    const closed = await campaigns.closeCampaign(campaign, new Date());
    expect(closed.campaign.status).toBe('FAILED');

    // Refunds go 100 at a time, their events published after each hundred: dying at the
    // 2,051st leaves refunds of that hundred committed with their events still in the outbox.
    // (4,000 rather than the 10,000 of a hot room: the same chunks, crash and resume, in the
    // suite's 15 minutes; the 2026-12-02 run took 216 s for 10,000 on the loaded CI machine.)
    let transactions = 0;
    const real = ddb.send.bind(ddb);
    const spy = vi.spyOn(ddb, 'send').mockImplementation(((command: unknown) => {
      if (command instanceof TransactWriteCommand && ++transactions > 2_050) return Promise.reject(new Error('refunder crashed'));
      return real(command as never);
    }) as typeof ddb.send);
    await expect(settleCampaign(campaign.campaignId)).rejects.toThrow('refunder crashed');
    spy.mockRestore();
    const mid = await campaigns.readDemand(campaign, true);
    expect(mid.totals.cancelled).toBeGreaterThan(2_000);
    expect(mid.totals.waiting).toBeGreaterThan(0);
    const announced = () =>
      emulator.events
        .filter((e) => e.detailType === 'preorder.refunded' && (e.detail as { campaignId: string }).campaignId === campaign.campaignId)
        .map((e) => (e.detail as { preorderId: string }).preorderId);
    const unannounced = mid.totals.cancelled - announced().length;
    expect(unannounced).toBeGreaterThan(0); // the crash did leave refunds unannounced

    await settleCampaign(campaign.campaignId); // redelivered: resumes
    // The clock's sweep relays what the crash left in the outbox, once it is a minute old.
    expect(await relayOutbox(new Date(Date.now() + 61_000))).toBe(unannounced);

    const demand = await campaigns.readDemand(campaign, true);
    expect(demand.totals).toMatchObject({ ordered: 4_000, cancelled: 4_000, waiting: 0, batched: 0 });
    const all = await statusesOf(ids);
    for (const p of all) {
      expect(p.status).toBe('REFUNDED');
      expect(p.refundedAmount).toBe(p.amount);
      expect(p.timeline.filter((t) => t.status === 'REFUNDED')).toHaveLength(1);
      expect(p.timeline.at(-1)?.template).toBe('preorder.refunded_campaign_failed');
    }
    // Every pre-order announced as refunded, none twice.
    expect(announced().sort()).toEqual([...ids].sort());
    // A guard against a hung run, not a speed check: thousands of refunds take minutes on a loaded 2-core machine.
  }, 600_000);

  it('A failed campaign with a batch at its factory withdraws the batch and refunds its buyers exactly once, even when the withdrawal crashes half way', async () => {
    const campaign = await makeCampaign({ lotSize: 50, minTotalQuantity: 200 });
    const ids = await place(campaign, 200, () => 1);
    await settleCampaign(campaign.campaignId);
    const [released] = await batches.listBatchesForCampaign(campaign.campaignId);
    expect(released?.status).toBe('RELEASED');
    expect(released?.units).toBe(200); // the first batch takes the whole minimum
    // The state a factory's own failures lead to (tests/e2e/all-or-nothing.test.ts reaches it over HTTP):
    // the campaign FAILED with a batch still at its factory.
    await ddb.send(
      new UpdateCommand({
        TableName: process.env[envNames.table],
        Key: campaigns.campaignKey(campaign.campaignId),
        UpdateExpression: 'SET #status = :failed',
        ExpressionAttributeNames: { '#status': 'status' },
        ExpressionAttributeValues: { ':failed': 'FAILED' },
      }),
    );

    let transactions = 0;
    const real = ddb.send.bind(ddb);
    const spy = vi.spyOn(ddb, 'send').mockImplementation(((command: unknown) => {
      if (command instanceof TransactWriteCommand && ++transactions > 120) return Promise.reject(new Error('withdrawal crashed'));
      return real(command as never);
    }) as typeof ddb.send);
    await expect(settleCampaign(campaign.campaignId)).rejects.toThrow('withdrawal crashed');
    spy.mockRestore();
    const mid = await batches.getBatch(released!.batchId);
    expect(mid?.status).toBe('WITHDRAWN');
    expect(mid?.unwoundAt).toBeUndefined();
    expect((await statusesOf(ids)).filter((p) => p.status === 'REFUNDED').length).toBeGreaterThan(50);

    await settleCampaign(campaign.campaignId); // redelivered: resumes
    await relayOutbox(new Date(Date.now() + 61_000));
    const after = await batches.getBatch(released!.batchId);
    expect(after?.unwoundAt).toEqual(expect.any(String));
    for (const p of await statusesOf(ids)) {
      expect(p.status).toBe('REFUNDED');
      expect(p.refundedAmount).toBe(p.amount);
      expect(p.timeline.filter((t) => t.status === 'REFUNDED')).toHaveLength(1);
    }
    const refunded = emulator.events
      .filter((e) => e.detailType === 'preorder.refunded' && (e.detail as { campaignId: string }).campaignId === campaign.campaignId)
      .map((e) => (e.detail as { preorderId: string }).preorderId);
    expect(refunded.sort()).toEqual([...ids].sort());
    const withdrawn = emulator.events.filter((e) => e.detailType === 'batch.units_withdrawn' && (e.detail as { batchId: string }).batchId === released!.batchId);
    expect(withdrawn).toHaveLength(1);
    expect((await campaigns.readDemand(campaign, true)).totals).toMatchObject({ ordered: 200, cancelled: 200, batched: 0, waiting: 0 });
  }, 300_000);
});
