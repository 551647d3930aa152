import type { SQSEvent, SQSMessageAttributes, SQSRecord } from 'aws-lambda';
import { z } from 'zod';
import type { FunctionName, QueueSpec } from '../../topology.ts';
import { logLine } from './log.ts';
import type { Queue, QueueMessage } from './queue.ts';

export type Invoke = (fn: FunctionName, event: unknown) => Promise<unknown>;

export interface EventSourceOptions {
  readonly spec: QueueSpec;
  readonly queue: Queue;
  readonly invoke: Invoke;
  readonly region: string;
  readonly pollIntervalMs: number;
  readonly concurrency: number;
}

const batchResponse = z.object({ batchItemFailures: z.array(z.object({ itemIdentifier: z.string().min(1) })) });

const messageAttributes = (m: QueueMessage): SQSMessageAttributes => {
  const out: SQSMessageAttributes = {};
  for (const [name, v] of Object.entries(m.attributes ?? {})) {
    out[name] = {
      ...(v.StringValue !== undefined && { stringValue: v.StringValue }),
      ...(v.BinaryValue !== undefined && { binaryValue: v.BinaryValue }),
      stringListValues: [],
      binaryListValues: [],
      dataType: v.DataType,
    };
  }
  return out;
};

export const toSqsEvent = (messages: readonly QueueMessage[], queueArn: string, region: string): SQSEvent => ({
  Records: messages.map(
    (m): SQSRecord => ({
      messageId: m.id,
      receiptHandle: m.receiptHandle ?? '',
      body: m.body,
      attributes: {
        ApproximateReceiveCount: String(m.receiveCount),
        SentTimestamp: String(m.sentTimestamp),
        SenderId: m.senderId,
        ApproximateFirstReceiveTimestamp: String(m.firstReceiveTimestamp ?? m.sentTimestamp),
      },
      messageAttributes: messageAttributes(m),
      md5OfBody: m.md5OfBody,
      ...(m.md5OfAttributes && { md5OfMessageAttributes: m.md5OfAttributes }),
      eventSource: 'aws:sqs',
      eventSourceARN: queueArn,
      awsRegion: region,
    }),
  ),
});

/**
 * What Lambda's SQS event source mapping does for one queue: poll, gather up to
 * `batchSize` messages within the batching window, invoke the consumer, delete
 * what succeeded. With ReportBatchItemFailures the listed items stay in flight
 * until their visibility timeout ends; a throw leaves the whole batch there. A
 * response naming an item that is not in the batch counts as a whole-batch
 * failure, as on Lambda.
 */
export class EventSourcePoller {
  readonly spec: QueueSpec;
  private readonly inFlight = new Set<Promise<void>>();
  private timer: NodeJS.Timeout | undefined;
  private immediate: NodeJS.Immediate | undefined;
  private windowStart: number | undefined;
  private stopped = false;
  private unsubscribe: (() => void) | undefined;

  constructor(private readonly opts: EventSourceOptions) {
    this.spec = opts.spec;
  }

  /** The first poll runs on a later turn of the event loop, never inside start(). */
  start(): void {
    this.unsubscribe = this.opts.queue.onAvailable(() => this.wake());
    this.schedule(0);
  }

  get batchesInFlight(): number {
    return this.inFlight.size;
  }

  async stop(): Promise<void> {
    this.stopped = true;
    this.unsubscribe?.();
    clearTimeout(this.timer);
    if (this.immediate) clearImmediate(this.immediate);
    await Promise.allSettled([...this.inFlight]);
  }

  private wake(): void {
    if (this.stopped || this.immediate) return;
    clearTimeout(this.timer);
    this.timer = undefined;
    this.immediate = setImmediate(() => {
      this.immediate = undefined;
      this.poll();
    });
  }

  private schedule(ms: number): void {
    if (this.stopped || this.immediate) return;
    clearTimeout(this.timer);
    this.timer = setTimeout(() => {
      this.timer = undefined;
      this.poll();
    }, ms);
  }

  private poll(): void {
    if (this.stopped) return;
    let next = this.opts.pollIntervalMs;
    try {
      next = this.fill();
    } catch (err) {
      // A journal that cannot be written fails this poll, not the process; the next poll retries.
      logLine('ERROR', { message: 'event source poll failed', queue: this.opts.queue.name, error: describe(err) });
    }
    this.schedule(next);
  }

  /** Starts batches while there is room; returns how long to wait before looking again. */
  private fill(): number {
    const { queue, concurrency, pollIntervalMs } = this.opts;
    const windowMs = this.spec.maxBatchingWindowSeconds * 1000;
    while (this.inFlight.size < concurrency) {
      const now = Date.now();
      const available = queue.depth(now).visible;
      if (available === 0) {
        this.windowStart = undefined;
        break;
      }
      this.windowStart ??= now;
      const waited = now - this.windowStart;
      if (available < this.spec.batchSize && waited < windowMs) return Math.min(pollIntervalMs, windowMs - waited);
      this.windowStart = undefined;
      const batch = queue.receive(this.spec.batchSize, undefined, now);
      if (batch.length > 0) this.launch(batch);
    }
    return pollIntervalMs;
  }

  private launch(batch: QueueMessage[]): void {
    const run = this.process(batch).finally(() => {
      this.inFlight.delete(run);
      this.wake();
    });
    this.inFlight.add(run);
  }

  private async process(batch: QueueMessage[]): Promise<void> {
    const { queue, invoke, region } = this.opts;
    const fn = this.spec.consumer;
    const context = { queue: queue.name, function: fn, messages: batch.length };
    let result: unknown;
    try {
      result = await invoke(fn, toSqsEvent(batch, queue.arn, region));
    } catch (err) {
      logLine('ERROR', { message: 'consumer failed; the batch returns after its visibility timeout', ...context, error: describe(err) });
      return;
    }
    const failures = this.failedIds(result, batch);
    if (failures === 'all') {
      logLine('ERROR', { message: 'consumer returned batchItemFailures that do not name items of the batch; treated as a whole-batch failure', ...context });
      return;
    }
    if (failures.size > 0) {
      logLine('WARN', { message: 'consumer reported failed items; they return after their visibility timeout', ...context, failed: failures.size });
    }
    try {
      queue.deleteIds(batch.filter((m) => !failures.has(m.id)).map((m) => m.id));
    } catch (err) {
      logLine('ERROR', { message: 'could not delete processed messages; they will be delivered again', ...context, error: describe(err) });
    }
  }

  private failedIds(result: unknown, batch: readonly QueueMessage[]): Set<string> | 'all' {
    // Lambda reads a missing or null response, or a null list, as complete success.
    if (typeof result !== 'object' || result === null || !('batchItemFailures' in result) || result.batchItemFailures == null) {
      return new Set();
    }
    const parsed = batchResponse.safeParse(result);
    if (!parsed.success) return 'all';
    const ids = new Set(batch.map((m) => m.id));
    const failed = new Set<string>();
    for (const f of parsed.data.batchItemFailures) {
      if (!ids.has(f.itemIdentifier)) return 'all';
      failed.add(f.itemIdentifier);
    }
    return failed;
  }
}

const describe = (err: unknown): { name: string; message: string; stack?: string } =>
  err instanceof Error ? { name: err.name, message: err.message, ...(err.stack && { stack: err.stack }) } : { name: 'NonError', message: String(err) };
