import { once } from 'node:events';
import type { AddressInfo } from 'node:net';
import { join } from 'node:path';
import {
  campaignScheduleGroup,
  queues as queueSpecs,
  rules as ruleSpecs,
  schedules as scheduleSpecs,
  tableStreams,
  type FunctionName,
  type QueueName,
  type ScheduleSpec,
  type StreamConsumerSpec,
} from '../topology.ts';
import { EventBus, type BusEvent } from './emulator/event-bus.ts';
import { EventSourcePoller, type Invoke } from './emulator/event-source.ts';
import { TableStreamPoller } from './emulator/table-stream.ts';
import { createEmulatorServer } from './emulator/http-server.ts';
import { logLine } from './emulator/log.ts';
import { Queue } from './emulator/queue.ts';
import { Scheduler } from './emulator/scheduler.ts';
import { createSqsApi } from './emulator/sqs-api.ts';
import { createCognitoApi, type LocalIdentityProvider } from './emulator/cognito-api.ts';
import { createLocalKms } from './emulator/kms-api.ts';

export type { Invoke } from './emulator/event-source.ts';
export type { BusEvent } from './emulator/event-bus.ts';

export interface AwsEmulatorOptions {
  /** Directory for journals so queued messages and one-time schedules survive a restart (kill -9 included); null = memory only. */
  readonly dataDir: string | null;
  /** Runs a function with an event, as Lambda would; the SQS event source mappings call it. */
  readonly invoke: Invoke;
  /** @default 'us-east-1' */
  readonly region?: string;
  /** @default '000000000000' */
  readonly accountId?: string;
  /** @default 'c2m' */
  readonly busName?: string;
  /** Overrides every queue's visibility timeout, dead-letter queues included (tests use ~1 s to see redelivery quickly). */
  readonly visibilityTimeoutSeconds?: number;
  /** Overrides every event source's batching window (tests that step the pipeline use 0 to wait for nothing). */
  readonly maxBatchingWindowSeconds?: number;
  /** Idle poll interval of the event-source pollers and long polls. @default 50 */
  readonly pollIntervalMs?: number;
  /** Max batches of one queue processed concurrently (Lambda scales out). @default 2 */
  readonly concurrencyPerQueue?: number;
  /** false = no event-source pollers and no rate schedules (tests of the protocols alone). One-time schedules still fire. @default true */
  readonly startConsumers?: boolean;
  /** Answers Cognito's CreateUserPoolClient / DeleteUserPoolClient (the local issuer). @default none: those calls fail */
  readonly identityProvider?: LocalIdentityProvider;
  /** Listens on 127.0.0.1. @default 0 (a free port) */
  readonly port?: number;
  /**
   * The table whose stream the topology's stream consumers follow (Lambda's
   * DynamoDB event source mappings), in DynamoDB Local. @default none: no stream is followed
   */
  readonly table?: { readonly endpoint: string; readonly name: string; readonly credentials: { accessKeyId: string; secretAccessKey: string } };
}

export interface QueueDepthReport {
  readonly visible: number;
  readonly inFlight: number;
  readonly delayed: number;
  /** Everything in the queue's dead-letter queue. */
  readonly dead: number;
}

export interface ServedResources {
  readonly queues: Array<{ name: QueueName; consumer: FunctionName; dlq: string; maxReceiveCount: number; batchSize: number }>;
  readonly streams: Array<{ name: string; consumer: FunctionName; batchSize: number; filter: StreamConsumerSpec['filter'] }>;
  readonly rules: Array<{ name: string; pattern: unknown; targetQueue: QueueName }>;
  readonly schedules: Array<{ name: string; rateMinutes: number; targetQueue: QueueName }>;
}

export interface AwsEmulator {
  /** http://127.0.0.1:<port>, for `endpoint` or AWS_ENDPOINT_URL_SQS / _EVENTBRIDGE / _SCHEDULER. */
  readonly endpoint: string;
  /** `${endpoint}/${accountId}/${name}` */
  queueUrl(name: QueueName): string;
  /** arn:aws:sqs:<region>:<account>:<name> */
  queueArn(name: QueueName): string;
  readonly busName: string;
  /** The local KMS key webhook secrets are sealed under (WEBHOOK_SECRETS_KEY). */
  readonly kmsKeyArn: string;
  /** Every event accepted by PutEvents, in order (for tests and the runtime's console). */
  readonly events: ReadonlyArray<BusEvent>;
  onEvent(listener: (e: BusEvent) => void): () => void;
  /**
   * What is actually wired, read from the live pollers, rule matchers and timers
   * (not re-read from topology). With `startConsumers: false` no poller or rate
   * timer runs, so `queues` and `schedules` are empty.
   */
  served(): ServedResources;
  depth(name: QueueName): QueueDepthReport;
  deadLetters(name: QueueName): Array<{ messageId: string; body: string; receiveCount: number }>;
  /**
   * Resolves when every topology queue is empty, no batch is being processed and
   * the table's stream is read to its end by every stream consumer; rejects
   * after timeoutMs (default 30 s).
   */
  drain(timeoutMs?: number): Promise<void>;
  /** Something may have been written to the table: the stream pollers look now instead of after their idle pause. */
  tableMayHaveChanged(): void;
  /** Fires a topology rate schedule now. */
  fireSchedule(name: string): Promise<void>;
  /** Stops pollers and timers, waits for in-flight invocations, closes the HTTP server and the journals. */
  stop(): Promise<void>;
}

/** The SenderId SQS reports for messages that AWS services send on our behalf. */
const serviceSender = { events: 'events.amazonaws.com', scheduler: 'scheduler.amazonaws.com' } as const;

/**
 * Starts an in-process stand-in for the AWS APIs the adapters call (SQS,
 * EventBridge PutEvents, EventBridge Scheduler one-time schedules), spoken over
 * HTTP in the real wire protocols so the unmodified SDK clients work against
 * it, plus Lambda's SQS event source mappings and the topology's rate schedules.
 */
export async function startAwsEmulator(opts: AwsEmulatorOptions): Promise<AwsEmulator> {
  const region = opts.region ?? 'us-east-1';
  const accountId = opts.accountId ?? '000000000000';
  const busName = opts.busName ?? 'c2m';
  const pollIntervalMs = opts.pollIntervalMs ?? 50;
  const concurrency = opts.concurrencyPerQueue ?? 2;
  const visibilityOverrideMs = opts.visibilityTimeoutSeconds === undefined ? undefined : opts.visibilityTimeoutSeconds * 1000;
  const arnOf = (name: string) => `arn:aws:sqs:${region}:${accountId}:${name}`;
  const journalOf = (name: string) => (opts.dataDir ? join(opts.dataDir, 'queues', `${name}.jsonl`) : null);

  const queues = new Map<string, Queue>();
  const deadLetterOf = new Map<QueueName, Queue>();
  const closeQueues = () => {
    for (const q of queues.values()) q.close();
  };
  try {
    for (const spec of queueSpecs) {
      const dlqName = `${spec.name}-dlq`;
      // 30 s is SQS's default; nothing consumes a dead-letter queue automatically.
      const dlq = new Queue({ name: dlqName, arn: arnOf(dlqName), visibilityTimeoutMs: visibilityOverrideMs ?? 30_000, journalPath: journalOf(dlqName) });
      queues.set(dlqName, dlq);
      deadLetterOf.set(spec.name, dlq);
      const queue = new Queue({
        name: spec.name,
        arn: arnOf(spec.name),
        visibilityTimeoutMs: visibilityOverrideMs ?? spec.visibilityTimeoutSeconds * 1000,
        redrive: { deadLetter: dlq, maxReceiveCount: spec.maxReceiveCount },
        journalPath: journalOf(spec.name),
      });
      queues.set(spec.name, queue);
    }
  } catch (err) {
    closeQueues();
    throw err;
  }
  for (const q of queues.values()) {
    if (q.skippedJournalLines > 0) logLine('WARN', { message: 'skipped unreadable journal lines (a write torn by a crash)', queue: q.name, lines: q.skippedJournalLines });
  }
  const byArn = new Map([...queues.values()].map((q) => [q.arn, q]));
  const queueOf = (name: QueueName): Queue => {
    const q = queues.get(name);
    if (!q) throw new Error(`${name} is not a queue of lib/topology.ts`);
    return q;
  };

  const bus = new EventBus({
    name: busName,
    region,
    accountId,
    rules: ruleSpecs,
    deliver: (queue, body) => queueOf(queue).send([{ body, senderId: serviceSender.events }]),
  });

  let scheduler: Scheduler;
  try {
    scheduler = new Scheduler({
      region,
      accountId,
      groups: [campaignScheduleGroup, 'default'],
      journalPath: opts.dataDir ? join(opts.dataDir, 'schedules', 'one-time.jsonl') : null,
      isTarget: (arn) => byArn.has(arn),
      deliver: (arn, body) => {
        const q = byArn.get(arn);
        if (!q) throw new Error(`no queue ${arn}`);
        q.send([{ body, senderId: serviceSender.scheduler }]);
      },
      onError: (fields) => logLine('ERROR', fields),
    });
  } catch (err) {
    closeQueues();
    throw err;
  }

  let resolveStopped: () => void = () => {};
  const stopped = new Promise<void>((resolve) => {
    resolveStopped = resolve;
  });
  let endpoint = '';
  const urlOf = (name: string) => `${endpoint}/${accountId}/${name}`;
  const kms = createLocalKms({ region, accountId, keyFile: opts.dataDir ? join(opts.dataDir, 'kms', 'webhook-secrets.key') : null });
  const server = createEmulatorServer({
    kms: kms.handle,
    sqs: createSqsApi({ accountId, queues, urlOf, pollIntervalMs, stopped }),
    bus,
    scheduler,
    cognito: createCognitoApi(opts.identityProvider),
    onError: (fields) => logLine('ERROR', fields),
  });
  try {
    server.listen(opts.port ?? 0, '127.0.0.1');
    await once(server, 'listening');
  } catch (err) {
    scheduler.stop();
    closeQueues();
    throw err;
  }
  server.on('error', (err) => logLine('ERROR', { message: 'emulator HTTP server error', error: String(err) }));
  endpoint = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;

  const sendRate = (spec: ScheduleSpec) => {
    queueOf(spec.targetQueue).send([{ body: JSON.stringify(spec.message), senderId: serviceSender.scheduler }]);
  };
  const pollers: EventSourcePoller[] = [];
  const streamPollers: TableStreamPoller[] = [];
  const rateTimers: Array<{ spec: ScheduleSpec; timer: NodeJS.Timeout }> = [];
  if (opts.startConsumers !== false) {
    for (const spec of queueSpecs) {
      const windowed = opts.maxBatchingWindowSeconds === undefined ? spec : { ...spec, maxBatchingWindowSeconds: opts.maxBatchingWindowSeconds };
      const poller = new EventSourcePoller({ spec: windowed, queue: queueOf(spec.name), invoke: opts.invoke, region, pollIntervalMs, concurrency });
      poller.start();
      pollers.push(poller);
    }
    for (const spec of opts.table ? tableStreams : []) {
      const table = opts.table as NonNullable<typeof opts.table>;
      const poller = new TableStreamPoller({
        spec,
        endpoint: table.endpoint,
        tableName: table.name,
        region,
        credentials: table.credentials,
        invoke: opts.invoke,
        pollIntervalMs,
        ...(opts.maxBatchingWindowSeconds !== undefined && { maxBatchingWindowSeconds: opts.maxBatchingWindowSeconds }),
        checkpointPath: opts.dataDir ? join(opts.dataDir, 'streams', `${spec.name}.json`) : null,
      });
      poller.start();
      streamPollers.push(poller);
    }
    for (const spec of scheduleSpecs) {
      const timer = setInterval(() => {
        try {
          sendRate(spec);
        } catch (err) {
          logLine('ERROR', { message: 'rate schedule could not send', schedule: spec.name, error: String(err) });
        }
      }, spec.rateMinutes * 60_000);
      rateTimers.push({ spec, timer });
    }
  }
  scheduler.start();

  let stopping: Promise<void> | undefined;
  const stop = async () => {
    resolveStopped();
    for (const { timer } of rateTimers) clearInterval(timer);
    // Invocations still running may call back into the APIs, so the server closes after them.
    await Promise.all([...pollers.map((p) => p.stop()), ...streamPollers.map((p) => p.stop())]);
    const closed = new Promise<void>((resolve) => server.close(() => resolve()));
    server.closeAllConnections();
    await closed;
    scheduler.stop();
    closeQueues();
  };

  return {
    endpoint,
    busName,
    kmsKeyArn: kms.keyArn,
    events: bus.events,
    queueUrl: (name) => urlOf(queueOf(name).name),
    queueArn: (name) => queueOf(name).arn,
    onEvent: (listener) => bus.onEvent(listener),
    served: () => ({
      queues: pollers.map((p) => ({
        name: p.spec.name,
        consumer: p.spec.consumer,
        dlq: queueOf(p.spec.name).redrive?.deadLetter.name ?? '',
        maxReceiveCount: queueOf(p.spec.name).redrive?.maxReceiveCount ?? 0,
        batchSize: p.spec.batchSize,
      })),
      streams: streamPollers.map((p) => ({ name: p.spec.name, consumer: p.spec.consumer, batchSize: p.spec.batchSize, filter: p.spec.filter })),
      rules: bus.rules.map((r) => ({ name: r.name, pattern: r.pattern, targetQueue: r.targetQueue })),
      schedules: rateTimers.map(({ spec }) => ({ name: spec.name, rateMinutes: spec.rateMinutes, targetQueue: spec.targetQueue })),
    }),
    depth: (name) => {
      const d = queueOf(name).depth();
      const dead = deadLetterOf.get(name)?.depth();
      return { ...d, dead: dead ? dead.visible + dead.inFlight + dead.delayed : 0 };
    },
    deadLetters: (name) =>
      (deadLetterOf.get(name)?.list() ?? []).map((m) => ({ messageId: m.id, body: m.body, receiveCount: m.receiveCount })),
    drain: async (timeoutMs = 30_000) => {
      const deadline = Date.now() + timeoutMs;
      // The streams' pass counts when queues and streams all looked quiet: a stream is drained by a pass begun after that.
      let quietAt: number[] | undefined;
      for (;;) {
        const busy = queueSpecs
          .map((s) => ({ name: s.name, ...queueOf(s.name).depth() }))
          .filter((d) => d.visible + d.inFlight + d.delayed > 0);
        const batches = pollers.reduce((n, p) => n + p.batchesInFlight, 0);
        const streamsBusy = streamPollers.filter((p) => p.busy).map((p) => p.spec.name);
        if (busy.length === 0 && batches === 0 && streamsBusy.length === 0) {
          if (quietAt === undefined) {
            quietAt = streamPollers.map((p) => p.passes);
            for (const p of streamPollers) p.wake();
          }
          const marks = quietAt;
          if (streamPollers.every((p, i) => p.caughtUpAfter(marks[i] ?? 0))) return;
        } else quietAt = undefined;
        if (Date.now() > deadline) throw new Error(`queues did not drain within ${timeoutMs} ms: ${JSON.stringify({ busy, batches, streamsBusy })}`);
        // Waiting only for the streams' read after the quiet moment: that is a few milliseconds.
        await new Promise((r) => setTimeout(r, quietAt === undefined ? Math.min(pollIntervalMs, 20) : 2));
      }
    },
    tableMayHaveChanged: () => {
      for (const p of streamPollers) p.wake();
    },
    fireSchedule: async (name) => {
      const spec = scheduleSpecs.find((s) => s.name === name);
      if (!spec) throw new Error(`${name} is not a schedule of lib/topology.ts`);
      sendRate(spec);
    },
    stop: () => (stopping ??= stop()),
  };
}
