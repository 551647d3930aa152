import { randomUUID } from 'node:crypto';
import { DeleteMessageBatchCommand, ReceiveMessageCommand, SQSClient } from '@aws-sdk/client-sqs';
import type { Context, SQSRecord } from 'aws-lambda';
import { describe, expect, it } from 'vitest';
import { useEmulatorWithoutConsumers, useLocalTable } from '../support/table.ts';
import { testCampaign } from '../support/campaigns.ts';
import { localCredentials, localRegion } from '../../lib/local/dynamodb.ts';
import { envNames, type QueueName } from '../../lib/topology.ts';

// The clock's sweep and the work it fans out, in-process against DynamoDB Local; SQS and EventBridge
// are the local emulator with no consumer running: the tests take what the sweep queued and hand it
// to the clock's handler in batches of ten, as the event source mapping would. Time is the sweep's
// `now`, chosen by the test.
await useLocalTable();
const emulator = await useEmulatorWithoutConsumers();
Object.assign(process.env, { [envNames.queueUrl('campaign-clock')]: emulator.queueUrl('campaign-clock') });

const { ddb } = await import('../../functions/adapters/dynamo.ts');
const campaigns = await import('../../functions/adapters/campaign-store.ts');
const preorders = await import('../../functions/adapters/preorder-store.ts');
const { readDemandSeries } = await import('../../functions/adapters/demand-history.ts');
const { handler, sweep } = await import('../../functions/handlers/campaigns/clock.ts');
const { ClockMessage, CutMessage } = await import('../../functions/contracts/messages.ts');
const { newPreorder } = await import('../../functions/domain/preorder.ts');
const { newId } = await import('../../functions/shared/ids.ts');
type Campaign = import('../../functions/domain/campaign.ts').Campaign;
type ClockEntry = import('../../functions/adapters/campaign-store.ts').ClockEntry;

const sqs = new SQSClient({ endpoint: emulator.endpoint, region: localRegion, credentials: localCredentials });
const address = { name: 'A', phone: '+8612345', line1: 'l', city: 'c', region: 'r', postalCode: '100000', country: 'CN' };
const context = { functionName: 'campaign-clock', awsRequestId: 'test' } as Context;
const minuteOf = (d: Date) => `${d.toISOString().slice(0, 16)}:00.000Z`;

const openCampaign = async (terms: Parameters<typeof testCampaign>[0] = {}) => {
  const campaign = testCampaign(terms);
  expect((await campaigns.createCampaign(campaign, 'h')).created).toBe(true);
  return campaign;
};

const place = async (campaign: Campaign, quantity: number) => {
  const r = await preorders.placePreorder(
    (gateTakes) => newPreorder({ preorderId: newId('po'), campaign, buyerId: 'b1', sku: 'A', unitPrice: 100, quantity, shippingAddress: address, gateTakes, now: new Date() }),
    campaign,
    quantity,
    'h',
  );
  expect(r.placed).toBe(true);
};

/** Everything on the queue, taken off it, as the records an event source mapping would hand the consumer. */
const takeAll = async (queue: QueueName): Promise<SQSRecord[]> => {
  const url = emulator.queueUrl(queue);
  const records: SQSRecord[] = [];
  for (;;) {
    const got = await sqs.send(new ReceiveMessageCommand({ QueueUrl: url, MaxNumberOfMessages: 10 }));
    const messages = got.Messages ?? [];
    if (messages.length === 0) return records;
    await sqs.send(new DeleteMessageBatchCommand({ QueueUrl: url, Entries: messages.map((m, i) => ({ Id: String(i), ReceiptHandle: m.ReceiptHandle! })) }));
    for (const m of messages) {
      records.push({
        messageId: m.MessageId!,
        receiptHandle: m.ReceiptHandle!,
        body: m.Body!,
        attributes: { ApproximateReceiveCount: '1', SentTimestamp: String(Date.now()), SenderId: 'clock', ApproximateFirstReceiveTimestamp: String(Date.now()) },
        messageAttributes: {},
        md5OfBody: '',
        eventSource: 'aws:sqs',
        eventSourceARN: emulator.queueArn(queue),
        awsRegion: localRegion,
      });
    }
  }
};

/** What the sweep queued for these campaigns (other tests' campaigns are on the clock too), by campaign. */
const ticksFor = (records: readonly SQSRecord[], mine: readonly Campaign[]) => {
  const ids = new Set(mine.map((c) => c.campaignId));
  const byCampaign = new Map<string, SQSRecord[]>();
  for (const r of records) {
    const m = ClockMessage.parse(JSON.parse(r.body));
    if ('kind' in m && m.kind === 'tick' && ids.has(m.campaignId)) byCampaign.set(m.campaignId, [...(byCampaign.get(m.campaignId) ?? []), r]);
  }
  return byCampaign;
};

/** Hands the records to the clock ten at a time, as its event source mapping does; answers the ids it reported failed. */
const deliver = async (records: readonly SQSRecord[]): Promise<string[]> => {
  const failed: string[] = [];
  for (let i = 0; i < records.length; i += 10) {
    const out = await handler({ Records: records.slice(i, i + 10) }, context);
    failed.push(...out.batchItemFailures.map((f) => f.itemIdentifier));
  }
  return failed;
};
/** The same message again, as a duplicate of it arrives (its own SQS message id). */
const redelivered = (r: SQSRecord): SQSRecord => ({ ...r, messageId: randomUUID() });

const history = (c: Campaign, around: Date) => readDemandSeries(c, new Date(around.getTime() - 3600_000), new Date(around.getTime() + 3600_000));

describe('The minute sweep fans out one message per campaign', () => {
  it('With a dozen open campaigns, one sweep queues a tick for each (and one for a campaign due to open, none for one not due), and each tick records its own campaign’s minute once, however often it is delivered', async () => {
    // Prepare
    const open = await Promise.all(Array.from({ length: 12 }, () => openCampaign()));
    const waiting = await openCampaign({ maxWaitHours: 1 });
    await place(open[0]!, 3);
    await place(waiting, 2);
    // Ten seconds into a minute a minute or so ahead: the second sweep below, a second later, is in the same minute
    // whenever the test runs (from :59 it was not, one run in sixty).
    const ahead = Date.now() + 61_000;
    const now = new Date(ahead - (ahead % 60_000) + 70_000);
    const dueToOpen = await openCampaign({ opensAt: new Date(now.getTime() - 1000).toISOString(), closesAt: new Date(now.getTime() + 3600_000).toISOString() });
    const notYet = await openCampaign({ opensAt: new Date(now.getTime() + 600_000).toISOString(), closesAt: new Date(now.getTime() + 3600_000).toISOString() });
    expect([dueToOpen.status, notYet.status]).toEqual(['SCHEDULED', 'SCHEDULED']);
    const ticking = [...open, waiting, dueToOpen];

    // Act
    await sweep(now);
    const queued = await takeAll('campaign-clock');
    const ticks = ticksFor(queued, [...ticking, notYet]);

    // Assess: one tick per campaign with something to do this minute, as of the sweep's time
    expect(ticks.size).toBe(ticking.length);
    for (const c of ticking) expect(ticks.get(c.campaignId)?.map((r) => JSON.parse(r.body))).toEqual([{ kind: 'tick', campaignId: c.campaignId, at: now.toISOString() }]);
    expect(ticks.has(notYet.campaignId)).toBe(false);
    expect(await takeAll('batch-cuts')).toEqual([]); // the sweep itself asks the cutter for nothing: the ticks do

    // Act: each tick delivered, then every one of them again
    const records = [...ticks.values()].flat();
    expect(await deliver(records)).toEqual([]);
    expect(await deliver(records.map(redelivered))).toEqual([]);

    // Assess: one snapshot per campaign, at the sweep's minute, of that campaign's own demand
    for (const c of ticking) {
      const points = await history(c, now);
      expect(points.map((p) => p.at), c.campaignId).toEqual([minuteOf(now)]);
      expect(points[0]!.bySku['A']?.forecast).toBeDefined();
    }
    expect((await history(open[0]!, now))[0]!.bySku['A']!.ordered).toBe(3);
    expect((await history(open[1]!, now))[0]!.bySku['A']!.ordered).toBe(0);
    expect(await history(notYet, now)).toEqual([]);
    // The one due to open opened as of the sweep's time, once; the one not due did not.
    expect(await campaigns.getCampaign(dueToOpen.campaignId, true)).toMatchObject({ status: 'OPEN', updatedAt: now.toISOString() });
    expect(emulator.events.filter((e) => e.detailType === 'campaign.opened' && (e.detail as { campaignId: string }).campaignId === dueToOpen.campaignId)).toHaveLength(1);
    expect((await campaigns.getCampaign(notYet.campaignId, true))?.status).toBe('SCHEDULED');
    // A pre-order may not wait past maxWaitHours: its campaign's tick asked the cutter to look (a repeat asks again, harmlessly).
    const cuts = (await takeAll('batch-cuts')).map((r) => CutMessage.parse(JSON.parse(r.body)));
    expect(cuts.filter((m) => 'kind' in m && m.kind === 'check').map((m) => ('campaignId' in m ? m.campaignId : ''))).toEqual([waiting.campaignId, waiting.campaignId]);

    // Act: a second sweep in the same minute (the schedule firing twice, or a sweep retried)
    const again = new Date(now.getTime() + 1000);
    expect(minuteOf(again)).toBe(minuteOf(now));
    await sweep(again);
    expect(await deliver([...ticksFor(await takeAll('campaign-clock'), ticking).values()].flat())).toEqual([]);

    // Assess: still the one snapshot each
    for (const c of ticking) expect((await history(c, now)).map((p) => p.at)).toEqual([minuteOf(now)]);
  });

  it('The clock’s index is read a page at a time, each campaign on it once, with its status and when its next step is due', async () => {
    // Prepare
    const mine = await Promise.all(Array.from({ length: 7 }, () => openCampaign()));

    // Act
    const pages: ClockEntry[][] = [];
    for await (const page of campaigns.clockIndexPages(3)) pages.push(page);

    // Assess
    expect(pages.every((p) => p.length <= 3)).toBe(true);
    const seen = pages.flat();
    expect(new Set(seen.map((e) => e.campaignId)).size).toBe(seen.length);
    for (const c of mine) expect(seen.filter((e) => e.campaignId === c.campaignId)).toEqual([{ campaignId: c.campaignId, status: 'OPEN', dueAt: c.closesAt, cutsWhileBalancesDue: false }]);
  });

  it('When more batches come due in one minute than a page holds, one sweep hands every one its own message', async () => {
    // Prepare: 250 batches on the batch clock, due a minute ago (the clock's index entries only: the sweep reads nothing else).
    const { PutCommand, DeleteCommand } = await import('@aws-sdk/lib-dynamodb');
    const { tableName: table } = await import('../../functions/shared/config.ts');
    const { batchClockPartition } = await import('../../functions/adapters/batch-store.ts');
    const now = new Date();
    const due = new Date(now.getTime() - 60_000).toISOString();
    const ids = Array.from({ length: 250 }, (_, i) => `batch-due-test-${randomUUID()}-${i}`);
    const keyOf = (batchId: string) => ({ PK: `BATCH#${batchId}`, SK: 'BATCH' });
    for (let i = 0; i < ids.length; i += 25) {
      await Promise.all(
        ids.slice(i, i + 25).map((batchId) =>
          ddb.send(new PutCommand({ TableName: table(), Item: { ...keyOf(batchId), type: 'batch-clock-test', batchId, GSI2PK: batchClockPartition, GSI2SK: `${due}#${batchId}` } })),
        ),
      );
    }
    await takeAll('campaign-clock');

    try {
      // Act
      await sweep(now);

      // Assess: each of the 250 once, in this one sweep (a page is 100).
      const queued = (await takeAll('campaign-clock'))
        .map((r) => ClockMessage.parse(JSON.parse(r.body)))
        .flatMap((m) => ('kind' in m && m.kind === 'batch-due' ? [m.batchId] : []))
        .filter((id) => id.startsWith('batch-due-test-'));
      expect(queued.sort()).toEqual([...ids].sort());
    } finally {
      await Promise.all(ids.map((batchId) => ddb.send(new DeleteCommand({ TableName: table(), Key: keyOf(batchId) }))));
    }
  });

  it('A campaign whose tick fails fails alone: the other campaigns’ minutes are recorded, and its own is when its tick is delivered again', async () => {
    // Prepare: twelve open campaigns; writing the snapshot of one of them fails
    const mine = await Promise.all(Array.from({ length: 12 }, () => openCampaign()));
    const broken = mine[4]!;
    const brokenKey = `DEMANDHIST#${broken.campaignId}`;
    const failing = 'failOneCampaignsSnapshot';
    ddb.middlewareStack.add(
      (next) => async (args) => {
        // The Put of its snapshot, whether its Item is marshalled yet or not; its reads go through.
        const input = args.input as { Item?: unknown };
        if (input.Item !== undefined && JSON.stringify(input.Item).includes(brokenKey)) throw new Error(`injected: the snapshot of ${broken.campaignId} cannot be written`);
        return next(args);
      },
      { step: 'initialize', name: failing },
    );
    const now = new Date(Date.now() + 120_000);
    let brokenTick: SQSRecord[] = [];

    try {
      // Act
      await sweep(now);
      const ticks = ticksFor(await takeAll('campaign-clock'), mine);
      brokenTick = ticks.get(broken.campaignId) ?? [];
      const failed = await deliver([...ticks.values()].flat());

      // Assess: only its tick is reported failed (SQS redelivers just that one); the eleven others are recorded
      expect(ticks.size).toBe(12);
      expect(brokenTick).toHaveLength(1);
      expect(failed).toEqual(brokenTick.map((r) => r.messageId));
      for (const c of mine.filter((x) => x !== broken)) expect((await history(c, now)).map((p) => p.at), c.campaignId).toEqual([minuteOf(now)]);
      expect(await history(broken, now)).toEqual([]);
    } finally {
      ddb.middlewareStack.remove(failing);
    }

    // Act: SQS delivers the failed tick again, the fault gone
    expect(await deliver(brokenTick)).toEqual([]);

    // Assess
    expect((await history(broken, now)).map((p) => p.at)).toEqual([minuteOf(now)]);
  });
});
