import { randomUUID } from 'node:crypto';
import { DeleteMessageCommand, ReceiveMessageCommand, SQSClient } from '@aws-sdk/client-sqs';
import type { Context, SQSRecord } from 'aws-lambda';
import { afterAll, afterEach, describe, expect, it, vi } from 'vitest';
import { useLocalTable } from '../support/table.ts';
import { testCampaign } from '../support/campaigns.ts';
import { startAwsEmulator } from '../../lib/local/aws-emulator.ts';
import { envNames } from '../../lib/topology.ts';
import type { SignalsMessage } from '../../functions/contracts/messages.ts';
import type { SignalCounts } from '../../functions/domain/forecast.ts';

// DynamoDB Local for the table, the local emulator for SQS; no consumers run: the tests hand batches to the aggregator.
const tableName = await useLocalTable();
const emulator = await startAwsEmulator({ dataDir: null, invoke: async () => undefined, startConsumers: false });
const signalsQueue = envNames.queueUrl('demand-signals');
Object.assign(process.env, { AWS_ENDPOINT_URL_SQS: emulator.endpoint, [signalsQueue]: emulator.queueUrl('demand-signals') });
afterAll(() => emulator.stop());

const { ddb } = await import('../../functions/adapters/dynamo.ts');
const campaigns = await import('../../functions/adapters/campaign-store.ts');
const { readSignals } = await import('../../functions/adapters/signal-store.ts');
const { aggregate, handler } = await import('../../functions/handlers/signals/aggregator.ts');
const { app } = await import('../../functions/handlers/signals/api.ts');
const { newId } = await import('../../functions/shared/ids.ts');
const { withEnvironment } = await import('../../functions/shared/config.ts');

type Signal = SignalsMessage['signals'][number];
type SignalType = Signal['type'];
const types: SignalType[] = ['view', 'like', 'cart', 'want', 'share'];

const createCampaign = async () => {
  const campaign = testCampaign();
  expect((await campaigns.createCampaign(campaign, 'hash')).created).toBe(true);
  return campaign;
};

/** A small deterministic generator, so a failure reproduces. */
const random = (seed: number) => () => {
  seed = (seed * 1_103_515_245 + 12_345) % 2 ** 31;
  return seed / 2 ** 31;
};

const currentMinute = () => Math.floor(Date.now() / 60_000) * 60_000;
/** A time inside the minute `minutesAgo` before the current one. */
const inMinute = (minutesAgo: number, next: () => number) => new Date(currentMinute() - minutesAgo * 60_000 + Math.floor(next() * 59_000)).toISOString();
const minuteKey = (at: string) => `${at.slice(0, 16)}:00.000Z`;

const record = (message: SignalsMessage): SQSRecord => ({
  messageId: randomUUID(),
  receiptHandle: randomUUID(),
  body: JSON.stringify(message),
  attributes: { ApproximateReceiveCount: '1', SentTimestamp: String(Date.now()), SenderId: 'test', ApproximateFirstReceiveTimestamp: String(Date.now()) },
  messageAttributes: {},
  md5OfBody: '',
  eventSource: 'aws:sqs',
  eventSourceARN: 'arn:aws:sqs:us-east-1:000000000000:demand-signals',
  awsRegion: 'us-east-1',
});
/** The same message again, as SQS delivers it a second time (a new SQS message id). */
const redelivered = (r: SQSRecord): SQSRecord => ({ ...r, messageId: randomUUID() });
const context = { functionName: 'signal-aggregator', awsRequestId: 'test' } as Context;
const deliver = async (records: SQSRecord[]) => (await handler({ Records: records }, context)).batchItemFailures.map((f) => f.itemIdentifier);

/** What the signals should add up to: by sku ('' = without sku), in total and per minute. */
const expected = (signals: readonly Signal[]) => {
  const zero = (): Record<SignalType, number> => ({ view: 0, like: 0, cart: 0, want: 0, share: 0 });
  const totals = new Map<string, Record<SignalType, number>>();
  const minutes = new Map<string, Map<string, Record<SignalType, number>>>();
  for (const s of signals) {
    const sku = s.sku ?? '';
    const t = totals.get(sku) ?? zero();
    t[s.type] += s.count;
    totals.set(sku, t);
    const bySku = minutes.get(sku) ?? new Map<string, Record<SignalType, number>>();
    const m = bySku.get(minuteKey(s.at)) ?? zero();
    m[s.type] += s.count;
    bySku.set(minuteKey(s.at), m);
    minutes.set(sku, bySku);
  }
  return { totals: (sku: string) => totals.get(sku) ?? zero(), minutes: (sku: string) => minutes.get(sku) ?? new Map() };
};

const seriesOf = (read: Awaited<ReturnType<typeof readSignals>>, sku: string) => (sku === '' ? read.campaign : read.bySku[sku]);

/** Every sku's totals and its per-minute rows of the last hour match the signals sent, each counted once. */
const expectCountedOnce = async (campaign: Awaited<ReturnType<typeof createCampaign>>, signals: readonly Signal[]) => {
  const want = expected(signals);
  const read = await readSignals(campaign, new Date());
  const hourAgo = currentMinute() - 59 * 60_000;
  for (const sku of ['', 'A', 'B']) {
    const series = seriesOf(read, sku);
    expect(series?.totals, `totals of ${sku || 'the campaign'}`).toEqual(want.totals(sku));
    const recentWanted = [...want.minutes(sku).entries()]
      .filter(([at]) => Date.parse(at) >= hourAgo)
      .sort(([a], [b]) => a.localeCompare(b))
      .map(([at, counts]) => ({ at, ...counts }));
    expect(series?.recent, `minutes of ${sku || 'the campaign'}`).toEqual(recentWanted);
  }
};

const sum = (counts: SignalCounts) => types.reduce((n, t) => n + counts[t], 0);

// Counts the DynamoDB calls the aggregator makes, by command.
const realSend = ddb.send.bind(ddb);
const sendSpy = vi.spyOn(ddb, 'send');
const commandsSent = () => sendSpy.mock.calls.map(([command]) => (command as object).constructor.name);
const writesSent = () => commandsSent().filter((name) => /^(TransactWrite|Put|Update|Delete|BatchWrite)Command$/.test(name));
/** From now on the `nth` TransactWriteItems (1-based) fails as a dropped connection would. */
const failTransaction = (nth: number) => {
  let seen = 0;
  sendSpy.mockImplementation(((command: object, ...rest: unknown[]) => {
    if (command.constructor.name === 'TransactWriteCommand' && ++seen === nth) return Promise.reject(new Error('injected: connection reset'));
    return (realSend as (...args: unknown[]) => unknown)(command, ...rest);
  }) as never);
};
afterEach(() => {
  sendSpy.mockImplementation(realSend as never);
  sendSpy.mockClear();
});

describe('The signal aggregator against DynamoDB Local', () => {
  it('When 100 messages of 500 signals each arrive in one batch, they become a handful of transactions and are counted right per minute and in total', async () => {
    const campaign = await createCampaign();
    const next = random(1);
    const messages = Array.from({ length: 100 }, (): SignalsMessage => ({
      messageId: randomUUID(),
      liveroomId: 'room-1',
      signals: Array.from({ length: 500 }, () => {
        const sku = [undefined, 'A', 'B'][Math.floor(next() * 3)];
        return {
          campaignId: campaign.campaignId,
          ...(sku && { sku }),
          type: types[Math.floor(next() * types.length)] as SignalType,
          count: 1 + Math.floor(next() * 5),
          at: inMinute(Math.floor(next() * 3), next),
        };
      }),
    }));
    sendSpy.mockClear();

    const { failed, report } = await aggregate(messages.map(record));

    expect(failed.size).toBe(0);
    // 100 markers and 12 counters (3 slots × (3 minutes + total)) fit in 2 transactions of at most 100 items.
    const writes = writesSent();
    expect(writes.every((name) => name === 'TransactWriteCommand')).toBe(true);
    expect(writes.length).toBeLessThanOrEqual(3);
    expect(report).toMatchObject({ records: 100, signals: 50_000, parts: 100, alreadyApplied: 0, transactions: writes.length });
    const all = messages.flatMap((m) => m.signals);
    await expectCountedOnce(campaign, all);
    const read = await readSignals(campaign, new Date());
    expect(sum(read.campaign.totals) + sum(read.bySku.A?.totals as SignalCounts) + sum(read.bySku.B?.totals as SignalCounts)).toBe(
      all.reduce((n, s) => n + s.count, 0),
    );
  });

  it('When the same message is delivered twice, in one batch and again later, it counts once', async () => {
    const campaign = await createCampaign();
    const next = random(2);
    const message: SignalsMessage = {
      messageId: randomUUID(),
      liveroomId: 'room-1',
      signals: Array.from({ length: 50 }, () => ({ campaignId: campaign.campaignId, sku: 'A', type: 'like' as const, count: 1 + Math.floor(next() * 9), at: inMinute(1, next) })),
    };
    const first = record(message);

    expect(await deliver([first, redelivered(first)])).toEqual([]);
    expect(await deliver([redelivered(first)])).toEqual([]);

    await expectCountedOnce(campaign, message.signals);
  });

  it('When the aggregator crashes after part of a batch and the whole batch comes back, every signal counts exactly once', async () => {
    const campaign = await createCampaign();
    const next = random(3);
    // 30 messages of 31 counters each (30 minutes and the total): about ten transactions.
    const messages = Array.from({ length: 30 }, (_, i): SignalsMessage => ({
      messageId: randomUUID(),
      liveroomId: 'room-1',
      signals: Array.from({ length: 120 }, (_, j) => ({
        campaignId: campaign.campaignId,
        sku: i % 2 ? 'A' : 'B',
        type: types[j % types.length] as SignalType,
        count: 1 + Math.floor(next() * 3),
        at: inMinute((i + (j % 30)) % 60, next),
      })),
    }));
    const batch = messages.map(record);

    // The first 12 messages are handled, then the process dies before answering: SQS sees no response at all.
    await deliver(batch.slice(0, 12));
    // A later transaction of the redelivered batch fails too: only its messages are reported back…
    failTransaction(3);
    const second = batch.map(redelivered);
    const failedIds = await deliver(second);
    expect(failedIds.length).toBeGreaterThan(0);
    expect(failedIds.length).toBeLessThan(batch.length);
    // …and SQS delivers just those again.
    sendSpy.mockImplementation(realSend as never);
    const third = second.filter((r) => failedIds.includes(r.messageId)).map(redelivered);
    expect(await deliver(third)).toEqual([]);

    await expectCountedOnce(campaign, messages.flatMap((m) => m.signals));
  });

  it('A message with more than 99 counters is split into parts, and a redelivery after a part failed counts it once', async () => {
    const campaign = await createCampaign();
    const next = random(4);
    // 150 distinct minutes of sku A, plus its total: 151 counters, two parts.
    const message: SignalsMessage = {
      messageId: randomUUID(),
      liveroomId: 'room-1',
      signals: Array.from({ length: 150 }, (_, i) => ({ campaignId: campaign.campaignId, sku: 'A', type: 'view' as const, count: 1 + Math.floor(next() * 9), at: inMinute(i, next) })),
    };
    const first = record(message);

    failTransaction(2);
    const failedFirst = await aggregate([first]);
    expect([...failedFirst.failed]).toEqual([first.messageId]);
    expect(failedFirst.report.parts).toBe(1);
    // Only one part landed: some minutes counted, the rest (and the total, sorted last) not yet.
    const partial = await readSignals(campaign, new Date());
    expect(sum(partial.bySku.A?.totals as SignalCounts)).toBe(0);

    sendSpy.mockImplementation(realSend as never);
    sendSpy.mockClear();
    const retried = await aggregate([redelivered(first)]);
    expect(retried.failed.size).toBe(0);
    expect(retried.report).toMatchObject({ parts: 1, alreadyApplied: 1 });
    const again = await aggregate([redelivered(first)]);
    expect(again.report).toMatchObject({ parts: 0, alreadyApplied: 2 });

    await expectCountedOnce(campaign, message.signals);
  });
});

describe('POST /v1/signals in-process, through the queue to the aggregator', () => {
  const liveroom = { requestContext: { requestId: 'r', authorizer: { role: 'liveroom', sub: 'room-9' } } } as never;
  const post = async (body: unknown, key: string) =>
    app.request('/v1/signals', { method: 'POST', headers: { 'content-type': 'application/json', 'Idempotency-Key': key }, body: JSON.stringify(body) }, liveroom);
  const sqs = new SQSClient({});
  const receiveAll = async (): Promise<SQSRecord[]> => {
    const out = await sqs.send(new ReceiveMessageCommand({ QueueUrl: emulator.queueUrl('demand-signals'), MaxNumberOfMessages: 10 }));
    const messages = out.Messages ?? [];
    await Promise.all(messages.map((m) => sqs.send(new DeleteMessageCommand({ QueueUrl: emulator.queueUrl('demand-signals'), ReceiptHandle: m.ReceiptHandle as string }))));
    return messages.map((m) => ({ ...record(JSON.parse(m.Body as string) as SignalsMessage), messageId: m.MessageId as string }));
  };

  it('When the queue cannot be reached, the call is 503 with Retry-After, nothing is counted, and a retry with the same key is accepted once', async () => {
    const campaign = await createCampaign();
    const body = { signals: [{ campaignId: campaign.campaignId, sku: 'B', type: 'want', count: 7, at: new Date().toISOString() }] };
    const env = { [envNames.table]: tableName, [signalsQueue]: emulator.queueUrl('demand-signals') };

    const down = await withEnvironment({ ...env, [signalsQueue]: `${emulator.endpoint}/000000000000/no-such-queue` }, () => post(body, 'k-1'));
    expect(down.status).toBe(503);
    expect(down.headers.get('retry-after')).toBe('1');
    expect(await receiveAll()).toEqual([]);

    const up = await withEnvironment(env, () => post(body, 'k-1'));
    expect(up.status).toBe(202);
    expect(await up.json()).toEqual({ accepted: 1, rejected: [] });
    const replay = await withEnvironment(env, () => post(body, 'k-1'));
    expect(replay.status).toBe(202);
    const queued = await receiveAll();
    expect(queued.length).toBe(2); // the replay queues again; the aggregator counts a message id once
    expect(await deliver(queued)).toEqual([]);

    expect((await readSignals(campaign, new Date())).bySku.B?.totals).toEqual({ view: 0, like: 0, cart: 0, want: 7, share: 0 });
  });
});
