import { mkdirSync, readFileSync, renameSync, writeFileSync } from 'node:fs';
import { dirname } from 'node:path';
import type { DynamoDBRecord, DynamoDBStreamEvent } from 'aws-lambda';
import { DescribeTableCommand, DynamoDBClient } from '@aws-sdk/client-dynamodb';
import {
  DescribeStreamCommand,
  DynamoDBStreamsClient,
  ExpiredIteratorException,
  GetRecordsCommand,
  GetShardIteratorCommand,
  TrimmedDataAccessException,
  type _Record as StreamRecord,
  type Shard,
} from '@aws-sdk/client-dynamodb-streams';
import { z } from 'zod';
import type { StreamConsumerSpec } from '../../topology.ts';
import type { Invoke } from './event-source.ts';
import { logLine } from './log.ts';

export interface TableStreamOptions {
  readonly spec: StreamConsumerSpec;
  /** DynamoDB Local's endpoint and the table whose stream is followed. */
  readonly endpoint: string;
  readonly tableName: string;
  readonly region: string;
  readonly credentials: { accessKeyId: string; secretAccessKey: string };
  readonly invoke: Invoke;
  readonly pollIntervalMs: number;
  /** Overrides the spec's batching window (tests that step the pipeline use 0). */
  readonly maxBatchingWindowSeconds?: number;
  /** Where the position reached in each shard is kept, so a restart (kill -9 included) goes on from there; null = memory only. */
  readonly checkpointPath: string | null;
}

const Checkpoint = z.object({
  streamArn: z.string(),
  /** Per shard: the last sequence number handed to the consumer and taken, and whether the shard is read to its end. */
  shards: z.record(z.string(), z.object({ after: z.string().optional(), finished: z.boolean().optional() })),
});
type Checkpoint = z.infer<typeof Checkpoint>;

const batchResponse = z.object({ batchItemFailures: z.array(z.object({ itemIdentifier: z.string().min(1) })) });

/** The stream record as Lambda's DynamoDB event source hands it over. */
const toLambdaRecord = (r: StreamRecord, streamArn: string, region: string): DynamoDBRecord =>
  ({
    eventID: r.eventID,
    eventName: r.eventName,
    eventVersion: '1.1',
    eventSource: 'aws:dynamodb',
    awsRegion: region,
    dynamodb: {
      ...r.dynamodb,
      ApproximateCreationDateTime: r.dynamodb?.ApproximateCreationDateTime
        ? Math.floor(new Date(r.dynamodb.ApproximateCreationDateTime).getTime() / 1000)
        : undefined,
    },
    eventSourceARN: streamArn,
  }) as DynamoDBRecord;

/**
 * What Lambda's DynamoDB event source mapping does for one consumer of the
 * table's stream, against DynamoDB Local's own stream: read each shard in
 * order (a parent before its children), skip the records the filter does not
 * pass, gather up to `batchSize` within the batching window, invoke, and move
 * on only when the consumer took the batch. A failed batch is tried again from
 * its first failed record (ReportBatchItemFailures), without end, as the AWS
 * mapping is set up to (lib/aws/compute-stack.ts); the position reached is
 * kept in a file, so after a crash the stream is read on from there, at least
 * once.
 */
export class TableStreamPoller {
  readonly spec: StreamConsumerSpec;
  private readonly ddb: DynamoDBClient;
  private readonly streams: DynamoDBStreamsClient;
  private checkpoint: Checkpoint | undefined;
  private stopped = false;
  private loop: Promise<void> | undefined;
  private wakeUp: (() => void) | undefined;
  private invoking = false;
  private buffered = 0;
  /**
   * Passes over the shards begun so far, and the latest that found nothing new
   * and nothing waiting. Counted, not timed: tests run the clock fast and in
   * steps, and two moments a few milliseconds apart can read the same time.
   */
  private passesBegun = 0;
  private lastIdlePass = 0;
  private failures = 0;
  private nudged = false;
  private pauseIsIdle = true;
  private streamArn: string | undefined;
  private shards: { list: Shard[]; at: number } | undefined;
  /** Where each shard's next read starts, kept between polls (records before it are all behind the position). */
  private readonly iterators = new Map<string, string>();

  constructor(private readonly opts: TableStreamOptions) {
    this.spec = opts.spec;
    const config = { endpoint: opts.endpoint, region: opts.region, credentials: opts.credentials };
    this.ddb = new DynamoDBClient(config);
    this.streams = new DynamoDBStreamsClient(config);
  }

  start(): void {
    this.loop = this.run().catch((err) => logLine('ERROR', { message: 'stream poller stopped on an error', consumer: this.spec.consumer, error: String(err) }));
  }

  async stop(): Promise<void> {
    this.stopped = true;
    this.wakeUp?.();
    await this.loop;
    this.ddb.destroy();
    this.streams.destroy();
  }

  /**
   * Looks at the stream now rather than at the end of the idle pause: the
   * runtime calls it when a function returns (it may have written), so a
   * pre-order reaches intake as soon as it is committed, as an SQS message
   * wakes its poller.
   */
  wake(): void {
    this.nudged = true;
    if (this.pauseIsIdle) this.wakeUp?.();
  }

  /** A batch is being handed over, or records were read and not yet taken. */
  get busy(): boolean {
    return this.invoking || this.buffered > 0;
  }

  /** How many passes over the shards have begun: a mark for caughtUpAfter. */
  get passes(): number {
    return this.passesBegun;
  }

  /** True once a pass begun after `mark` (a value of `passes`) found the stream read to its end. */
  caughtUpAfter(mark: number): boolean {
    return !this.busy && this.lastIdlePass > mark;
  }

  /** Pauses; an idle pause ends early on a wake, a backoff after a failure only on stop. */
  private sleep(ms: number, idle = true): Promise<void> {
    // A wake that came while reading: something may have been written after that read began.
    if (idle && this.nudged && !this.stopped) {
      this.nudged = false;
      return Promise.resolve();
    }
    this.pauseIsIdle = idle;
    return new Promise((resolve) => {
      const timer = setTimeout(() => {
        this.wakeUp = undefined;
        resolve();
      }, ms);
      this.wakeUp = () => {
        this.nudged = false;
        clearTimeout(timer);
        this.wakeUp = undefined;
        resolve();
      };
    });
  }

  private async run(): Promise<void> {
    const { tableName } = this.opts;
    while (!this.stopped) {
      try {
        if (!this.streamArn) {
          const table = await this.ddb.send(new DescribeTableCommand({ TableName: tableName }));
          this.streamArn = table.Table?.LatestStreamArn;
          if (!this.streamArn) throw new Error(`table ${tableName} has no stream`);
        }
        const streamArn = this.streamArn;
        this.loadCheckpoint(streamArn);
        const worked = await this.readShards(streamArn);
        this.failures = 0;
        if (!worked) await this.sleep(this.opts.pollIntervalMs);
      } catch (err) {
        if (this.stopped) return;
        // Read everything afresh next time: the table, its shards, where each is read from.
        this.streamArn = undefined;
        this.shards = undefined;
        this.iterators.clear();
        this.failures++;
        logLine(this.failures > 3 ? 'ERROR' : 'WARN', { message: 'stream poll failed; trying again', consumer: this.spec.consumer, error: String(err) });
        await this.sleep(Math.min(1_000, this.opts.pollIntervalMs * 2 ** Math.min(this.failures, 5)), false);
      }
    }
  }

  private loadCheckpoint(streamArn: string): void {
    if (this.checkpoint?.streamArn === streamArn) return;
    let loaded: Checkpoint | undefined;
    if (this.opts.checkpointPath) {
      try {
        loaded = Checkpoint.parse(JSON.parse(readFileSync(this.opts.checkpointPath, 'utf8')));
      } catch {
        loaded = undefined;
      }
    }
    // Another stream (the table made again): read it from its start.
    this.checkpoint = loaded?.streamArn === streamArn ? loaded : { streamArn, shards: {} };
  }

  private saveCheckpoint(): void {
    const path = this.opts.checkpointPath;
    if (!path || !this.checkpoint) return;
    mkdirSync(dirname(path), { recursive: true });
    const tmp = `${path}.tmp`;
    writeFileSync(tmp, JSON.stringify(this.checkpoint));
    renameSync(tmp, path);
  }

  private async listShards(streamArn: string): Promise<Shard[]> {
    const shards: Shard[] = [];
    let start: string | undefined;
    do {
      const out = await this.streams.send(new DescribeStreamCommand({ StreamArn: streamArn, ...(start && { ExclusiveStartShardId: start }) }));
      shards.push(...(out.StreamDescription?.Shards ?? []));
      start = out.StreamDescription?.LastEvaluatedShardId;
    } while (start);
    return shards;
  }

  /**
   * Reads every shard that may be read now; true when records were handed over
   * or skipped. A pass in which no shard had anything marks the stream as read
   * to its end as of the pass's start (what drain waits for): per pass, not
   * per shard, so a second shard with records keeps it from counting.
   */
  private async readShards(streamArn: string): Promise<boolean> {
    const checkpoint = this.checkpoint as Checkpoint;
    const pass = ++this.passesBegun;
    // Shards split now and then (hours apart on AWS): their list is looked at again every few seconds, and after a shard ends.
    if (!this.shards || Date.now() - this.shards.at > 5_000) this.shards = { list: await this.listShards(streamArn), at: Date.now() };
    const shards = this.shards.list;
    const known = new Set(shards.map((s) => s.ShardId));
    let worked = false;
    for (const shard of shards) {
      const id = shard.ShardId as string;
      if (checkpoint.shards[id]?.finished) continue;
      // A child waits until its parent (when the stream still has it) is read to its end: order per item holds across the split.
      const parent = shard.ParentShardId;
      if (parent && known.has(parent) && !checkpoint.shards[parent]?.finished) continue;
      if (await this.readShard(streamArn, id)) worked = true;
      if (this.stopped) break;
    }
    // A pass that found nothing, over a shard list that did not change under it.
    if (!worked && this.shards) this.lastIdlePass = pass;
    return worked;
  }

  private async iteratorFor(streamArn: string, shardId: string): Promise<string | undefined> {
    const after = this.checkpoint?.shards[shardId]?.after;
    const from = (horizon: boolean) =>
      this.streams.send(
        new GetShardIteratorCommand({
          StreamArn: streamArn,
          ShardId: shardId,
          ...(horizon || !after ? { ShardIteratorType: 'TRIM_HORIZON' } : { ShardIteratorType: 'AFTER_SEQUENCE_NUMBER', SequenceNumber: after }),
        }),
      );
    try {
      return (await from(false)).ShardIterator;
    } catch (err) {
      if (!(err instanceof TrimmedDataAccessException) || !after) throw err;
      // The position itself is past the stream's retention (a data directory left for more than a day): what
      // was between it and the oldest record kept is gone from the stream. Say so, and read on from the oldest.
      logLine('ERROR', { message: "the stream no longer holds the position reached; reading on from its oldest record (records in between were not followed)", consumer: this.spec.consumer, shardId, after });
      return (await from(true)).ShardIterator;
    }
  }

  /** Reads one shard from its checkpoint until nothing more is there now; true when it got anywhere. */
  private async readShard(streamArn: string, shardId: string): Promise<boolean> {
    const checkpoint = this.checkpoint as Checkpoint;
    const windowMs = (this.opts.maxBatchingWindowSeconds ?? this.spec.maxBatchingWindowSeconds) * 1000;
    const moveTo = (after: string | undefined) => {
      if (after) checkpoint.shards[shardId] = { ...checkpoint.shards[shardId], after };
    };
    let iterator = this.iterators.get(shardId) ?? (await this.iteratorFor(streamArn, shardId));
    this.iterators.delete(shardId);
    /** Read and not yet behind the position: it always starts with a record the consumer wants. */
    let pending: StreamRecord[] = [];
    let firstPendingAt: number | undefined;
    let worked = false;
    while (!this.stopped) {
      let got: StreamRecord[] = [];
      if (iterator) {
        try {
          const out = await this.streams.send(new GetRecordsCommand({ ShardIterator: iterator, Limit: 1000 }));
          got = out.Records ?? [];
          // None when the shard is closed and this was its end.
          iterator = out.NextShardIterator;
        } catch (err) {
          if (!(err instanceof ExpiredIteratorException || err instanceof TrimmedDataAccessException)) throw err;
          iterator = await this.iteratorFor(streamArn, shardId);
          pending = [];
          firstPendingAt = undefined;
          continue;
        }
        pending.push(...got);
      }
      // Records the filter does not pass, with nothing wanted before them: the position moves past them unseen.
      const firstWanted = pending.findIndex((r) => this.wants(r));
      const skipped = firstWanted === -1 ? pending.length : firstWanted;
      if (skipped > 0) {
        moveTo(pending[skipped - 1]?.dynamodb?.SequenceNumber);
        pending = pending.slice(skipped);
        this.saveCheckpoint();
        worked = true;
      }
      this.buffered = pending.length;
      if (pending.length === 0) {
        firstPendingAt = undefined;
        if (got.length > 0) continue;
        if (iterator) {
          this.iterators.set(shardId, iterator);
          return worked;
        }
        checkpoint.shards[shardId] = { ...checkpoint.shards[shardId], finished: true };
        this.shards = undefined;
        this.saveCheckpoint();
        return true;
      }
      firstPendingAt ??= Date.now();
      const wanted = pending.filter((r) => this.wants(r)).length;
      const waited = Date.now() - firstPendingAt;
      if (wanted >= this.spec.batchSize || waited >= windowMs || !iterator) {
        pending = await this.handOver(streamArn, shardId, pending);
        this.buffered = pending.length;
        worked = true;
        // What is left is a backlog: it goes at once, as on Lambda.
        continue;
      }
      // Within the batching window, with nothing more to read right now: look again shortly.
      if (got.length === 0) await this.sleep(Math.min(this.opts.pollIntervalMs, windowMs - waited));
    }
    return worked;
  }

  private wants(r: StreamRecord): boolean {
    const { eventNames, itemTypes } = this.spec.filter;
    const type = r.dynamodb?.NewImage?.type?.S;
    return eventNames.includes(r.eventName as never) && type !== undefined && itemTypes.includes(type);
  }

  /**
   * Hands the first batch of `pending` (filtered records up to `batchSize`, and
   * the skipped ones between them) to the consumer; returns what is left. On a
   * failure, what is left starts at the first record not taken, after a pause.
   */
  private async handOver(streamArn: string, shardId: string, pending: StreamRecord[]): Promise<StreamRecord[]> {
    const checkpoint = this.checkpoint as Checkpoint;
    const batch: StreamRecord[] = [];
    let end = 0;
    for (; end < pending.length && batch.length < this.spec.batchSize; end++) {
      const r = pending[end] as StreamRecord;
      if (this.wants(r)) batch.push(r);
    }
    const { invoke, region } = this.opts;
    const context = { stream: this.spec.name, function: this.spec.consumer, records: batch.length };
    let failedFrom: string | undefined;
    this.invoking = true;
    try {
      const result = await invoke(this.spec.consumer, { Records: batch.map((r) => toLambdaRecord(r, streamArn, region)) } satisfies DynamoDBStreamEvent);
      failedFrom = this.firstFailure(result, batch);
    } catch (err) {
      failedFrom = batch[0]?.dynamodb?.SequenceNumber;
      logLine('ERROR', { message: 'stream consumer failed; the batch is tried again', ...context, error: String(err) });
    } finally {
      this.invoking = false;
    }
    if (failedFrom === undefined) {
      const last = pending[end - 1]?.dynamodb?.SequenceNumber;
      if (last) checkpoint.shards[shardId] = { ...checkpoint.shards[shardId], after: last };
      this.saveCheckpoint();
      return pending.slice(end);
    }
    const at = pending.findIndex((r) => r.dynamodb?.SequenceNumber === failedFrom);
    const before = pending[at - 1]?.dynamodb?.SequenceNumber;
    if (at > 0 && before) {
      checkpoint.shards[shardId] = { ...checkpoint.shards[shardId], after: before };
      this.saveCheckpoint();
    }
    await this.sleep(Math.min(1_000, this.opts.pollIntervalMs * 4), false);
    return pending.slice(Math.max(0, at));
  }

  /** The sequence number to try again from, or undefined when the whole batch was taken. */
  private firstFailure(result: unknown, batch: readonly StreamRecord[]): string | undefined {
    // Lambda reads a missing or null response, or a null list, as complete success.
    if (typeof result !== 'object' || result === null || !('batchItemFailures' in result) || result.batchItemFailures == null) return undefined;
    const parsed = batchResponse.safeParse(result);
    const first = batch[0]?.dynamodb?.SequenceNumber;
    if (!parsed.success) return first;
    const order = new Map(batch.map((r, i) => [r.dynamodb?.SequenceNumber, i]));
    let lowest: number | undefined;
    for (const f of parsed.data.batchItemFailures) {
      const i = order.get(f.itemIdentifier);
      // An identifier that is not in the batch fails the whole batch, as on Lambda.
      if (i === undefined) return first;
      lowest = lowest === undefined ? i : Math.min(lowest, i);
    }
    return lowest === undefined ? undefined : batch[lowest]?.dynamodb?.SequenceNumber;
  }
}
