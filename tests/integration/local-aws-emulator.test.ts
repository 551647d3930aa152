import { spawn } from 'node:child_process';
import { appendFile, mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { EventBridgeClient, PutEventsCommand, ResourceNotFoundException as BusNotFound } from '@aws-sdk/client-eventbridge';
import {
  ConflictException,
  CreateScheduleCommand,
  DeleteScheduleCommand,
  GetScheduleCommand,
  ResourceNotFoundException,
  SchedulerClient,
  type CreateScheduleCommandInput,
} from '@aws-sdk/client-scheduler';
import {
  DeleteMessageCommand,
  GetQueueAttributesCommand,
  QueueDoesNotExist,
  ReceiveMessageCommand,
  SendMessageBatchCommand,
  SendMessageCommand,
  SQSClient,
} from '@aws-sdk/client-sqs';
import { afterEach, describe, expect, test, vi } from 'vitest';
import { z } from 'zod';
import { startAwsEmulator, type AwsEmulator, type AwsEmulatorOptions } from '../../lib/local/aws-emulator.ts';
import { campaignScheduleGroup, queues, rules, schedules, type FunctionName } from '../../lib/topology.ts';

const region = 'us-east-1';
const credentials = { accessKeyId: 'local', secretAccessKey: 'local' };

/** The SQS event Lambda hands a consumer, parsed rather than trusted. */
const sqsEvent = z.object({
  Records: z.array(
    z.looseObject({
      messageId: z.string(),
      receiptHandle: z.string(),
      body: z.string(),
      md5OfBody: z.string(),
      attributes: z.looseObject({ ApproximateReceiveCount: z.string(), SentTimestamp: z.string(), SenderId: z.string() }),
      messageAttributes: z.record(z.string(), z.unknown()),
      eventSource: z.literal('aws:sqs'),
      eventSourceARN: z.string(),
      awsRegion: z.string(),
    }),
  ),
});
type SqsEvent = z.infer<typeof sqsEvent>;
type Invocation = { fn: FunctionName; event: SqsEvent };
type Consumer = (invocation: Invocation, index: number) => unknown;

const envelope = z.object({
  version: z.literal('0'),
  id: z.string(),
  'detail-type': z.string(),
  source: z.string(),
  account: z.string(),
  time: z.string(),
  region: z.string(),
  resources: z.array(z.string()),
  detail: z.record(z.string(), z.unknown()),
});

const cleanups: Array<() => Promise<void>> = [];
afterEach(async () => {
  vi.restoreAllMocks();
  while (cleanups.length > 0) await cleanups.pop()?.();
});

const tempDir = async (): Promise<string> => {
  const dir = await mkdtemp(join(tmpdir(), 'c2m-emulator-'));
  cleanups.push(() => rm(dir, { recursive: true, force: true }));
  return dir;
};

interface Harness {
  readonly emulator: AwsEmulator;
  readonly sqs: SQSClient;
  readonly bus: EventBridgeClient;
  readonly scheduler: SchedulerClient;
  readonly invocations: Invocation[];
}

/** An emulator with SDK clients pointed at it and a consumer that records every batch it is given. */
const start = async (opts: Partial<AwsEmulatorOptions> & { consumer?: Consumer } = {}): Promise<Harness> => {
  const { consumer, ...rest } = opts;
  const invocations: Invocation[] = [];
  const emulator = await startAwsEmulator({
    dataDir: rest.dataDir === undefined ? await tempDir() : rest.dataDir,
    invoke: async (fn, raw) => {
      const invocation = { fn, event: sqsEvent.parse(raw) };
      invocations.push(invocation);
      return consumer?.(invocation, invocations.length - 1);
    },
    pollIntervalMs: 20,
    ...rest,
  });
  const client = { endpoint: emulator.endpoint, region, credentials };
  const harness = {
    emulator,
    sqs: new SQSClient(client),
    bus: new EventBridgeClient(client),
    scheduler: new SchedulerClient(client),
    invocations,
  };
  cleanups.push(async () => {
    harness.sqs.destroy();
    harness.bus.destroy();
    harness.scheduler.destroy();
    await emulator.stop();
  });
  return harness;
};

const waitFor = async (what: string, condition: () => boolean, timeoutMs = 8_000): Promise<void> => {
  const deadline = Date.now() + timeoutMs;
  while (!condition()) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 10));
  }
};

const receiveAll = async (h: Harness, url: string) =>
  (
    await h.sqs.send(
      new ReceiveMessageCommand({ QueueUrl: url, MaxNumberOfMessages: 10, MessageSystemAttributeNames: ['All'], MessageAttributeNames: ['All'] }),
    )
  ).Messages ?? [];

/** The error a call failed with, captured at once so no rejection goes unhandled. */
const failureOf = (call: Promise<unknown>): Promise<unknown> => call.then(() => undefined, (err: unknown) => err);

const bodies = (invocation: Invocation | undefined) => invocation?.event.Records.map((r) => r.body) ?? [];

/** `at()` takes whole seconds: the first whole second at least `ms` from now. */
const atIn = (ms: number) => `at(${new Date(Math.ceil((Date.now() + ms) / 1000) * 1000).toISOString().slice(0, 19)})`;

const oneTimeSchedule = (h: Harness, name: string, overrides: Partial<CreateScheduleCommandInput> = {}): CreateScheduleCommandInput => ({
  Name: name,
  GroupName: campaignScheduleGroup,
  ScheduleExpression: atIn(500),
  ScheduleExpressionTimezone: 'UTC',
  FlexibleTimeWindow: { Mode: 'OFF' },
  ActionAfterCompletion: 'DELETE',
  Target: {
    Arn: h.emulator.queueArn('campaign-clock'),
    RoleArn: 'arn:aws:iam::000000000000:role/scheduler',
    Input: JSON.stringify({ kind: 'open', campaignId: name }),
  },
  ...overrides,
});

describe('SQS over the AWS JSON protocol', () => {
  test('A message sent through the SDK is received with its attributes and MD5s, then deleted', async () => {
    // Prepare
    const h = await start({ startConsumers: false });
    const url = h.emulator.queueUrl('notifications');

    // Act
    const sent = await h.sqs.send(
      new SendMessageCommand({
        QueueUrl: url,
        MessageBody: JSON.stringify({ preorderId: 'p-1' }),
        MessageAttributes: { kind: { DataType: 'String', StringValue: 'accepted' } },
      }),
    );
    const [received, ...others] = await receiveAll(h, url);
    await h.sqs.send(new DeleteMessageCommand({ QueueUrl: url, ReceiptHandle: received?.ReceiptHandle }));
    const after = await h.sqs.send(new GetQueueAttributesCommand({ QueueUrl: url, AttributeNames: ['All'] }));

    // Assess
    expect(others).toEqual([]);
    expect(received).toMatchObject({
      MessageId: sent.MessageId,
      Body: '{"preorderId":"p-1"}',
      MD5OfBody: sent.MD5OfMessageBody,
      MD5OfMessageAttributes: sent.MD5OfMessageAttributes,
      MessageAttributes: { kind: { DataType: 'String', StringValue: 'accepted' } },
      Attributes: { ApproximateReceiveCount: '1', SenderId: 'local' },
    });
    expect(after.Attributes).toMatchObject({
      QueueArn: h.emulator.queueArn('notifications'),
      ApproximateNumberOfMessages: '0',
      ApproximateNumberOfMessagesNotVisible: '0',
    });
  });

  test('A batch send accepts every entry and the queue counts them', async () => {
    // Prepare
    const h = await start({ startConsumers: false });
    const url = h.emulator.queueUrl('campaign-clock');

    // Act
    const out = await h.sqs.send(
      new SendMessageBatchCommand({ QueueUrl: url, Entries: ['a', 'b', 'c'].map((id) => ({ Id: id, MessageBody: `body-${id}` })) }),
    );
    const attributes = await h.sqs.send(
      new GetQueueAttributesCommand({ QueueUrl: url, AttributeNames: ['ApproximateNumberOfMessages'] }),
    );

    // Assess
    expect(out.Successful?.map((s) => s.Id)).toEqual(['a', 'b', 'c']);
    expect(out.Failed ?? []).toEqual([]);
    expect(attributes.Attributes).toEqual({ ApproximateNumberOfMessages: '3' });
    expect(h.emulator.depth('campaign-clock')).toEqual({ visible: 3, inFlight: 0, delayed: 0, dead: 0 });
  });

  test('A queue that is not in the topology answers QueueDoesNotExist', async () => {
    // Prepare
    const h = await start({ startConsumers: false });

    // Act
    const failure = await failureOf(
      h.sqs.send(new SendMessageCommand({ QueueUrl: `${h.emulator.endpoint}/000000000000/nope`, MessageBody: 'x' })),
    );

    // Assess
    expect(failure).toBeInstanceOf(QueueDoesNotExist);
  });

  test('A received message is invisible until its visibility timeout ends, then returns with a higher receive count', async () => {
    // Prepare
    const h = await start({ startConsumers: false, visibilityTimeoutSeconds: 0.5 });
    const url = h.emulator.queueUrl('campaign-clock');
    await h.sqs.send(new SendMessageCommand({ QueueUrl: url, MessageBody: 'once' }));

    // Act
    const first = await receiveAll(h, url);
    const whileInFlight = await receiveAll(h, url);
    const depthInFlight = h.emulator.depth('campaign-clock');
    const again = await h.sqs.send(
      new ReceiveMessageCommand({ QueueUrl: url, WaitTimeSeconds: 3, MessageSystemAttributeNames: ['ApproximateReceiveCount'] }),
    );

    // Assess
    expect(first).toHaveLength(1);
    expect(whileInFlight).toEqual([]);
    expect(depthInFlight).toMatchObject({ visible: 0, inFlight: 1 });
    expect(again.Messages?.[0]).toMatchObject({ MessageId: first[0]?.MessageId, Attributes: { ApproximateReceiveCount: '2' } });
  });

  test('A delayed message is counted as delayed and cannot be received before its delay ends', async () => {
    // Prepare
    const h = await start({ startConsumers: false });
    const url = h.emulator.queueUrl('campaign-clock');

    // Act
    await h.sqs.send(new SendMessageCommand({ QueueUrl: url, MessageBody: 'later', DelaySeconds: 1 }));
    const early = await receiveAll(h, url);
    const depthEarly = h.emulator.depth('campaign-clock');
    const late = await h.sqs.send(new ReceiveMessageCommand({ QueueUrl: url, WaitTimeSeconds: 3 }));

    // Assess
    expect(early).toEqual([]);
    expect(depthEarly).toMatchObject({ visible: 0, delayed: 1 });
    expect(late.Messages?.map((m) => m.Body)).toEqual(['later']);
  });
});

describe('Lambda event source mappings', () => {
  test('A burst is delivered to the consumer in batches no larger than the queue batch size', async () => {
    // Prepare
    const h = await start();
    const url = h.emulator.queueUrl('campaign-clock');
    const spec = queues.find((q) => q.name === 'campaign-clock');

    // Act
    for (let chunk = 0; chunk < 3; chunk++) {
      await h.sqs.send(
        new SendMessageBatchCommand({
          QueueUrl: url,
          Entries: Array.from({ length: 10 }, (_, i) => ({ Id: `m${i}`, MessageBody: `m-${chunk * 10 + i}` })),
        }),
      );
    }
    await h.emulator.drain(5_000);

    // Assess
    const records = h.invocations.flatMap((i) => i.event.Records);
    expect(h.invocations.every((i) => i.fn === 'campaign-clock' && i.event.Records.length <= (spec?.batchSize ?? 0))).toBe(true);
    expect(new Set(records.map((r) => r.body)).size).toBe(30);
    expect(records[0]).toMatchObject({
      eventSource: 'aws:sqs',
      eventSourceARN: h.emulator.queueArn('campaign-clock'),
      awsRegion: region,
      attributes: { ApproximateReceiveCount: '1', SenderId: 'local' },
    });
  });

  test('Messages that arrive within the batching window reach the consumer as one batch', async () => {
    // Prepare: notifications gathers for up to 1 s or 10 messages.
    const h = await start();
    const url = h.emulator.queueUrl('notifications');

    // Act
    for (let i = 0; i < 5; i++) await h.sqs.send(new SendMessageCommand({ QueueUrl: url, MessageBody: `order-${i}` }));
    await h.emulator.drain(5_000);

    // Assess
    expect(h.invocations.map((i) => [i.fn, i.event.Records.length])).toEqual([['notifier', 5]]);
  });

  test('When a consumer reports one failed item, only that message comes back after the visibility timeout', async () => {
    // Prepare
    const stderr = vi.spyOn(process.stderr, 'write').mockImplementation(() => true);
    const h = await start({
      visibilityTimeoutSeconds: 1,
      consumer: ({ event }, n) =>
        n === 0 ? { batchItemFailures: event.Records.filter((r) => r.body === 'b').map((r) => ({ itemIdentifier: r.messageId })) } : {},
    });
    const url = h.emulator.queueUrl('campaign-clock');

    // Act
    await h.sqs.send(new SendMessageBatchCommand({ QueueUrl: url, Entries: ['a', 'b', 'c'].map((b) => ({ Id: b, MessageBody: b })) }));
    await waitFor('the first batch', () => h.invocations.length === 1);
    const inFlightAfterFirst = h.emulator.depth('campaign-clock');
    await h.emulator.drain(5_000);

    // Assess
    expect(bodies(h.invocations[0]).sort()).toEqual(['a', 'b', 'c']);
    expect(inFlightAfterFirst).toMatchObject({ visible: 0, inFlight: 1 });
    expect(bodies(h.invocations[1])).toEqual(['b']);
    expect(h.invocations[1]?.event.Records[0]?.attributes.ApproximateReceiveCount).toBe('2');
    expect(h.invocations).toHaveLength(2);
    const warnings = stderr.mock.calls.map(([chunk]) => String(chunk)).filter((l) => l.includes('"level":"WARN"'));
    expect(warnings.map((l) => JSON.parse(l))).toMatchObject([{ queue: 'campaign-clock', messages: 3, failed: 1 }]);
  });

  test('No more than concurrencyPerQueue batches of one queue are processed at once', async () => {
    // Prepare
    let running = 0;
    let mostAtOnce = 0;
    const h = await start({
      concurrencyPerQueue: 2,
      consumer: async () => {
        mostAtOnce = Math.max(mostAtOnce, ++running);
        await new Promise((r) => setTimeout(r, 50));
        running--;
        return { batchItemFailures: [] };
      },
    });
    const url = h.emulator.queueUrl('campaign-clock');

    // Act
    for (let chunk = 0; chunk < 6; chunk++) {
      await h.sqs.send(
        new SendMessageBatchCommand({ QueueUrl: url, Entries: Array.from({ length: 10 }, (_, i) => ({ Id: `m${i}`, MessageBody: `${chunk}-${i}` })) }),
      );
    }
    await h.emulator.drain(5_000);

    // Assess
    expect(mostAtOnce).toBe(2);
    expect(h.invocations.flatMap((i) => bodies(i))).toHaveLength(60);
  });

  test('When a consumer throws, the whole batch comes back and the failure is logged as one JSON line', async () => {
    // Prepare
    const stderr = vi.spyOn(process.stderr, 'write').mockImplementation(() => true);
    const h = await start({
      visibilityTimeoutSeconds: 1,
      consumer: (_, n) => {
        if (n === 0) throw new Error('table throttled');
        return undefined;
      },
    });
    const url = h.emulator.queueUrl('campaign-clock');

    // Act
    await h.sqs.send(new SendMessageBatchCommand({ QueueUrl: url, Entries: ['x', 'y'].map((b) => ({ Id: b, MessageBody: b })) }));
    await h.emulator.drain(5_000);

    // Assess
    expect(h.invocations.map((i) => bodies(i).sort())).toEqual([
      ['x', 'y'],
      ['x', 'y'],
    ]);
    const lines = stderr.mock.calls.map(([chunk]) => String(chunk)).filter((l) => l.includes('table throttled'));
    expect(lines).toHaveLength(1);
    expect(JSON.parse(lines[0] ?? '')).toMatchObject({ level: 'ERROR', queue: 'campaign-clock', function: 'campaign-clock', messages: 2 });
  });

  test('A message that keeps failing is dead-lettered after maxReceiveCount receives', async () => {
    // Prepare
    vi.spyOn(process.stderr, 'write').mockImplementation(() => true);
    const h = await start({
      visibilityTimeoutSeconds: 0.2,
      consumer: () => {
        throw new Error('poison');
      },
    });
    const spec = queues.find((q) => q.name === 'campaign-clock');

    // Act
    await h.sqs.send(new SendMessageCommand({ QueueUrl: h.emulator.queueUrl('campaign-clock'), MessageBody: 'poison' }));
    await waitFor('the dead letter', () => h.emulator.depth('campaign-clock').dead === 1);
    const deadLetters = h.emulator.deadLetters('campaign-clock');
    const fromDlq = await receiveAll(h, `${h.emulator.endpoint}/000000000000/campaign-clock-dlq`);

    // Assess
    expect(h.invocations).toHaveLength(spec?.maxReceiveCount ?? -1);
    expect(h.emulator.depth('campaign-clock')).toEqual({ visible: 0, inFlight: 0, delayed: 0, dead: 1 });
    expect(deadLetters).toEqual([
      { messageId: h.invocations[0]?.event.Records[0]?.messageId, body: 'poison', receiveCount: spec?.maxReceiveCount },
    ]);
    expect(fromDlq[0]?.Attributes).toMatchObject({ DeadLetterQueueSourceArn: h.emulator.queueArn('campaign-clock') });
  });

  test('A topology rate schedule fired by hand reaches its queue consumer', async () => {
    // Prepare
    const h = await start();

    // Act
    await h.emulator.fireSchedule('campaign-sweep');
    await h.emulator.drain(5_000);

    // Assess
    expect(h.invocations.map((i) => [i.fn, bodies(i)])).toEqual([['campaign-clock', ['{"kind":"sweep"}']]]);
  });
});

describe('Durability', () => {
  test('Messages sent and not yet deleted survive a stop and start on the same data directory', async () => {
    // Prepare
    const dataDir = await tempDir();
    const before = await start({ dataDir, startConsumers: false });
    const url = before.emulator.queueUrl('campaign-clock');
    for (const body of ['kept', 'in-flight', 'deleted']) await before.sqs.send(new SendMessageCommand({ QueueUrl: url, MessageBody: body }));
    const received = await receiveAll(before, url);
    const deleted = received.find((m) => m.Body === 'deleted');
    await before.sqs.send(new DeleteMessageCommand({ QueueUrl: url, ReceiptHandle: deleted?.ReceiptHandle }));
    // Leaves 'kept' and 'in-flight' in flight, received once.
    await before.emulator.stop();

    // Act
    const after = await start({ dataDir, startConsumers: false });
    const depth = after.emulator.depth('campaign-clock');
    const again = await receiveAll(after, after.emulator.queueUrl('campaign-clock'));

    // Assess
    expect(depth).toEqual({ visible: 2, inFlight: 0, delayed: 0, dead: 0 });
    expect(again.map((m) => [m.Body, m.Attributes?.ApproximateReceiveCount]).sort()).toEqual([
      ['in-flight', '2'],
      ['kept', '2'],
    ]);
  });

  test('A fresh emulator on a new data directory starts empty', async () => {
    // Prepare
    const used = await start({ startConsumers: false });
    await used.sqs.send(new SendMessageCommand({ QueueUrl: used.emulator.queueUrl('campaign-clock'), MessageBody: 'old' }));

    // Act
    const fresh = await start({ startConsumers: false });

    // Assess
    expect(fresh.emulator.depth('campaign-clock')).toEqual({ visible: 0, inFlight: 0, delayed: 0, dead: 0 });
    expect(fresh.emulator.depth('notifications')).toEqual({ visible: 0, inFlight: 0, delayed: 0, dead: 0 });
  });

  test('A journal line torn by a crash mid-write is skipped and everything before it is restored', async () => {
    // Prepare
    vi.spyOn(process.stderr, 'write').mockImplementation(() => true);
    const dataDir = await tempDir();
    const before = await start({ dataDir, startConsumers: false });
    await before.sqs.send(new SendMessageCommand({ QueueUrl: before.emulator.queueUrl('campaign-clock'), MessageBody: 'whole' }));
    await before.emulator.stop();
    await appendFile(join(dataDir, 'queues', 'campaign-clock.jsonl'), '{"t":"s","id":"half-writ');

    // Act
    const after = await start({ dataDir, startConsumers: false });
    const restored = await receiveAll(after, after.emulator.queueUrl('campaign-clock'));

    // Assess
    expect(restored.map((m) => m.Body)).toEqual(['whole']);
  });

  test('What was acknowledged before a kill -9 is there after a restart', async () => {
    // Prepare: the emulator runs in a child process that is killed without warning.
    const dataDir = await tempDir();
    const projectRoot = fileURLToPath(new URL('../../', import.meta.url));
    const modulePath = fileURLToPath(new URL('../../lib/local/aws-emulator.ts', import.meta.url));
    // node itself, not the tsx CLI: the CLI runs the script in a grandchild that SIGKILL would miss.
    const child = spawn(
      process.execPath,
      [
        '--import',
        'tsx',
        '--input-type=module',
        '--eval',
        `const { startAwsEmulator } = await import(${JSON.stringify(modulePath)});
         const e = await startAwsEmulator({ dataDir: ${JSON.stringify(dataDir)}, invoke: async () => undefined, startConsumers: false });
         process.stdout.write(e.endpoint + '\\n');`,
      ],
      { cwd: projectRoot, stdio: ['ignore', 'pipe', 'inherit'], env: { ...process.env, AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED: 'true' } },
    );
    const exited = new Promise((resolve) => child.once('exit', resolve));
    cleanups.push(async () => {
      if (child.exitCode === null && child.signalCode === null) child.kill('SIGKILL');
      await exited;
    });
    const endpoint = await new Promise<string>((resolve, reject) => {
      let out = '';
      child.stdout.on('data', (d: Buffer) => {
        out += d.toString();
        if (out.includes('\n')) resolve(out.trim());
      });
      child.once('exit', (code) => reject(new Error(`emulator child exited with ${code}`)));
    });
    const client = { endpoint, region, credentials };
    const sqs = new SQSClient(client);
    const scheduler = new SchedulerClient(client);
    const url = `${endpoint}/000000000000/notifications`;
    await sqs.send(
      new SendMessageBatchCommand({ QueueUrl: url, Entries: Array.from({ length: 10 }, (_, i) => ({ Id: `e${i}`, MessageBody: `order-${i}` })) }),
    );
    await sqs.send(new ReceiveMessageCommand({ QueueUrl: url, MaxNumberOfMessages: 3 }));
    await scheduler.send(
      new CreateScheduleCommand({
        Name: 'close-c-9',
        GroupName: campaignScheduleGroup,
        ScheduleExpression: atIn(60_000),
        FlexibleTimeWindow: { Mode: 'OFF' },
        Target: { Arn: 'arn:aws:sqs:us-east-1:000000000000:campaign-clock', RoleArn: 'arn:aws:iam::000000000000:role/s' },
      }),
    );
    sqs.destroy();
    scheduler.destroy();

    // Act
    child.kill('SIGKILL');
    await exited;
    const h = await start({ dataDir, startConsumers: false });
    const schedule = await h.scheduler.send(new GetScheduleCommand({ Name: 'close-c-9', GroupName: campaignScheduleGroup }));

    // Assess
    expect(h.emulator.depth('notifications')).toEqual({ visible: 10, inFlight: 0, delayed: 0, dead: 0 });
    const counts = (await receiveAll(h, h.emulator.queueUrl('notifications'))).map((m) => m.Attributes?.ApproximateReceiveCount);
    expect(counts.filter((c) => c === '2')).toHaveLength(3);
    expect(schedule.Name).toBe('close-c-9');
  });
});

describe('EventBridge PutEvents', () => {
  test('An event matching a rule lands on its queue as an EventBridge envelope; a non-matching one goes nowhere', async () => {
    // Prepare
    const h = await start({ startConsumers: false });
    const seen: string[] = [];
    h.emulator.onEvent((e) => seen.push(e.detailType));
    const rule = rules.find((r) => r.name === 'campaign-lifecycle-to-clock');

    // Act
    const out = await h.bus.send(
      new PutEventsCommand({
        Entries: [
          { EventBusName: h.emulator.busName, Source: 'c2m', DetailType: 'campaign.closed', Detail: '{"campaignId":"c-1"}', Time: new Date('2030-01-02T03:04:05Z') },
          { EventBusName: h.emulator.busName, Source: 'c2m', DetailType: 'preorder.accepted', Detail: '{"preorderId":"p-1"}' },
        ],
      }),
    );
    const delivered = await receiveAll(h, h.emulator.queueUrl(rule?.targetQueue ?? 'campaign-clock'));

    // Assess
    expect(out.FailedEntryCount).toBe(0);
    expect(out.Entries?.every((e) => typeof e.EventId === 'string')).toBe(true);
    expect(delivered).toHaveLength(1);
    expect(envelope.parse(JSON.parse(delivered[0]?.Body ?? ''))).toEqual({
      version: '0',
      id: out.Entries?.[0]?.EventId,
      'detail-type': 'campaign.closed',
      source: 'c2m',
      account: '000000000000',
      time: '2030-01-02T03:04:05Z',
      region,
      resources: [],
      detail: { campaignId: 'c-1' },
    });
    expect(h.emulator.depth('webhook-events').visible).toBe(0);
    expect(h.emulator.events.map((e) => e.detailType)).toEqual(['campaign.closed', 'preorder.accepted']);
    expect(seen).toEqual(['campaign.closed', 'preorder.accepted']);
  });

  test('An entry with malformed detail fails alone; a bus that does not exist is ResourceNotFoundException', async () => {
    // Prepare
    const h = await start({ startConsumers: false });

    // Act
    const partial = await h.bus.send(
      new PutEventsCommand({
        Entries: [
          { EventBusName: h.emulator.busName, Source: 'c2m', DetailType: 'campaign.failed', Detail: '{"campaignId":"c-2"}' },
          { EventBusName: h.emulator.busName, Source: 'c2m', DetailType: 'campaign.failed', Detail: 'not json' },
        ],
      }),
    );
    const unknownBus = await failureOf(
      h.bus.send(new PutEventsCommand({ Entries: [{ EventBusName: 'nope', Source: 'c2m', DetailType: 'x', Detail: '{}' }] })),
    );

    // Assess
    expect(partial.FailedEntryCount).toBe(1);
    expect(partial.Entries?.[1]).toMatchObject({ ErrorCode: 'MalformedDetail' });
    expect(h.emulator.depth('campaign-clock').visible).toBe(1);
    expect(unknownBus).toBeInstanceOf(BusNotFound);
  });
});

describe('EventBridge Scheduler one-time schedules', () => {
  test('A one-time schedule sends its input to the target queue when due and deletes itself', async () => {
    // Prepare
    const h = await start({ startConsumers: false });
    const input = oneTimeSchedule(h, 'open-c-1');
    await h.scheduler.send(new CreateScheduleCommand(input));
    const before = await h.scheduler.send(new GetScheduleCommand({ Name: 'open-c-1', GroupName: campaignScheduleGroup }));

    // Act
    const fired = await h.sqs.send(new ReceiveMessageCommand({ QueueUrl: h.emulator.queueUrl('campaign-clock'), WaitTimeSeconds: 5 }));
    const after = await failureOf(h.scheduler.send(new GetScheduleCommand({ Name: 'open-c-1', GroupName: campaignScheduleGroup })));

    // Assess
    expect(before).toMatchObject({ Name: 'open-c-1', GroupName: campaignScheduleGroup, ScheduleExpression: input.ScheduleExpression, State: 'ENABLED' });
    expect(fired.Messages?.map((m) => m.Body)).toEqual([input.Target?.Input]);
    expect(after).toBeInstanceOf(ResourceNotFoundException);
  });

  test('A schedule name that exists in the group is a ConflictException; unknown names and groups are ResourceNotFoundException', async () => {
    // Prepare
    const h = await start({ startConsumers: false });
    await h.scheduler.send(new CreateScheduleCommand(oneTimeSchedule(h, 'close-c-1', { ScheduleExpression: atIn(3_600_000) })));

    // Act
    const duplicate = await failureOf(h.scheduler.send(new CreateScheduleCommand(oneTimeSchedule(h, 'close-c-1'))));
    const missing = await failureOf(h.scheduler.send(new DeleteScheduleCommand({ Name: 'close-c-404', GroupName: campaignScheduleGroup })));
    const noGroup = await failureOf(
      h.scheduler.send(new CreateScheduleCommand(oneTimeSchedule(h, 'close-c-2', { GroupName: 'elsewhere' }))),
    );

    // Assess
    expect(duplicate).toBeInstanceOf(ConflictException);
    expect(missing).toBeInstanceOf(ResourceNotFoundException);
    expect(noGroup).toBeInstanceOf(ResourceNotFoundException);
  });

  test('A schedule persisted before a restart fires after it, and one that already fired does not fire again', async () => {
    // Prepare
    const dataDir = await tempDir();
    const before = await start({ dataDir, startConsumers: false });
    const dueWhileDown = atIn(1_000);
    await before.scheduler.send(new CreateScheduleCommand(oneTimeSchedule(before, 'open-c-7', { ScheduleExpression: dueWhileDown })));
    await before.scheduler.send(
      new CreateScheduleCommand(oneTimeSchedule(before, 'open-c-8', { ScheduleExpression: atIn(-60_000), ActionAfterCompletion: 'NONE' })),
    );
    await waitFor('the past-due schedule', () => before.emulator.depth('campaign-clock').visible === 1);
    const [pastDue] = await receiveAll(before, before.emulator.queueUrl('campaign-clock'));
    await before.sqs.send(new DeleteMessageCommand({ QueueUrl: before.emulator.queueUrl('campaign-clock'), ReceiptHandle: pastDue?.ReceiptHandle }));
    await before.emulator.stop();
    const dueAt = Date.parse(`${dueWhileDown.slice(3, -1)}Z`);
    await new Promise((r) => setTimeout(r, Math.max(0, dueAt - Date.now()) + 100));

    // Act
    const after = await start({ dataDir, startConsumers: false });
    const fired = await after.sqs.send(
      new ReceiveMessageCommand({ QueueUrl: after.emulator.queueUrl('campaign-clock'), WaitTimeSeconds: 2, MaxNumberOfMessages: 10 }),
    );
    const kept = await after.scheduler.send(new GetScheduleCommand({ Name: 'open-c-8', GroupName: campaignScheduleGroup }));

    // Assess
    expect(pastDue?.Body).toBe(JSON.stringify({ kind: 'open', campaignId: 'open-c-8' }));
    expect(fired.Messages?.map((m) => m.Body)).toEqual([JSON.stringify({ kind: 'open', campaignId: 'open-c-7' })]);
    expect(kept.ActionAfterCompletion).toBe('NONE');
    expect(after.emulator.depth('campaign-clock')).toMatchObject({ visible: 0, inFlight: 1 });
  });
});

describe('What the emulator serves', () => {
  test('served() lists every topology queue with its consumer and dead-letter queue, every rule and every schedule', async () => {
    // Prepare
    const h = await start();

    // Act
    const served = h.emulator.served();

    // Assess
    expect(served.queues).toEqual(
      queues.map((q) => ({ name: q.name, consumer: q.consumer, dlq: `${q.name}-dlq`, maxReceiveCount: q.maxReceiveCount, batchSize: q.batchSize })),
    );
    expect(served.rules).toEqual(rules.map((r) => ({ name: r.name, pattern: r.pattern, targetQueue: r.targetQueue })));
    expect(served.schedules).toEqual(schedules.map((s) => ({ name: s.name, rateMinutes: s.rateMinutes, targetQueue: s.targetQueue })));
    // This emulator was given no table, so it follows no stream (the runtime gives it its table: tests/infra/drift.test.ts).
    expect(served.streams).toEqual([]);
  });
});
