import { createHash, randomUUID } from 'node:crypto';
import { z } from 'zod';
import { AwsApiError } from './errors.ts';
import { Journal } from './journal.ts';
import { Deque, MinHeap } from './structures.ts';

export const messageAttributeValueSchema = z.object({
  DataType: z.string().min(1),
  StringValue: z.string().optional(),
  /** base64, as the JSON protocol carries blobs. */
  BinaryValue: z.string().optional(),
});
export type MessageAttributeValue = z.infer<typeof messageAttributeValueSchema>;
export const messageAttributesSchema = z.record(z.string(), messageAttributeValueSchema);
export type MessageAttributes = z.infer<typeof messageAttributesSchema>;

type MessageState = 'delayed' | 'visible' | 'inflight';

export interface QueueMessage {
  readonly id: string;
  readonly body: string;
  readonly md5OfBody: string;
  readonly attributes: MessageAttributes | undefined;
  readonly md5OfAttributes: string | undefined;
  readonly sentTimestamp: number;
  readonly senderId: string;
  /** Set on a dead-lettered message: the queue it came from. */
  readonly deadLetterSourceArn: string | undefined;
  receiveCount: number;
  firstReceiveTimestamp: number | undefined;
  state: MessageState;
  /** When a delayed or in-flight message becomes visible. */
  visibleAt: number;
  /** Bumped on every state change; index entries carrying an older value are stale. */
  generation: number;
  receiptHandle: string | undefined;
}

export interface SendInput {
  readonly body: string;
  readonly delaySeconds?: number | undefined;
  readonly attributes?: MessageAttributes | undefined;
  readonly senderId: string;
}

export interface QueueDepth {
  readonly visible: number;
  readonly inFlight: number;
  readonly delayed: number;
}

const journalRecord = z.discriminatedUnion('t', [
  z.object({
    t: z.literal('s'),
    id: z.string(),
    b: z.string(),
    ts: z.number(),
    v: z.number(),
    sd: z.string(),
    a: messageAttributesSchema.optional(),
    n: z.number().optional(),
    f: z.number().optional(),
    dl: z.string().optional(),
  }),
  z.object({ t: z.literal('r'), id: z.string(), n: z.number(), f: z.number() }),
  z.object({ t: z.literal('d'), id: z.string() }),
  z.object({ t: z.literal('x'), id: z.string(), to: z.string() }),
  z.object({ t: z.literal('p') }),
]);
type JournalRecord = z.infer<typeof journalRecord>;

interface IndexEntry {
  readonly msg: QueueMessage;
  readonly generation: number;
  readonly at: number;
}

export const md5Hex = (text: string): string => createHash('md5').update(text, 'utf8').digest('hex');

/**
 * MD5OfMessageAttributes as SQS computes it: attributes sorted by name, each as
 * length-prefixed name, length-prefixed data type, a transport byte (1 string,
 * 2 binary) and the length-prefixed value.
 */
export const md5OfMessageAttributes = (attributes: MessageAttributes): string => {
  const hash = createHash('md5');
  const lengthPrefixed = (bytes: Buffer) => {
    const len = Buffer.alloc(4);
    len.writeUInt32BE(bytes.length);
    hash.update(len);
    hash.update(bytes);
  };
  for (const name of Object.keys(attributes).sort()) {
    const value = attributes[name];
    if (!value) continue;
    lengthPrefixed(Buffer.from(name, 'utf8'));
    lengthPrefixed(Buffer.from(value.DataType, 'utf8'));
    if (value.BinaryValue !== undefined && value.DataType.startsWith('Binary')) {
      hash.update(Buffer.from([2]));
      lengthPrefixed(Buffer.from(value.BinaryValue, 'base64'));
    } else {
      hash.update(Buffer.from([1]));
      lengthPrefixed(Buffer.from(value.StringValue ?? '', 'utf8'));
    }
  }
  return hash.digest('hex');
};

const handlePattern = /^([0-9a-f-]{36}):(\d+)$/;

const receiptHandleIsInvalid = (handle: string) =>
  new AwsApiError('ReceiptHandleIsInvalid', `The input receipt handle "${handle}" is not a valid receipt handle.`, 404, 'ReceiptHandleIsInvalid');

export interface QueueOptions {
  readonly name: string;
  readonly arn: string;
  readonly visibilityTimeoutMs: number;
  readonly redrive?: { readonly deadLetter: Queue; readonly maxReceiveCount: number };
  /** null keeps the queue in memory only. */
  readonly journalPath: string | null;
}

/**
 * One standard SQS queue held in memory: a map of messages plus two indexes, a
 * deque of visible messages in arrival order and a min-heap of delayed and
 * in-flight messages keyed by the moment they become visible. Index entries are
 * never removed eagerly; they carry the message's generation and are skipped
 * when stale, so every operation stays O(log n).
 *
 * Every change is journaled before the caller can answer: sends, receive-count
 * changes, deletes, dead-letter moves and purges. Visibility is not journaled:
 * after a restart, what was in flight is visible again, as when a consumer dies.
 */
export class Queue {
  readonly name: string;
  readonly arn: string;
  readonly visibilityTimeoutMs: number;
  readonly redrive: QueueOptions['redrive'];
  readonly createdAt = Date.now();
  /** Journal lines that did not parse on start (a torn last write). */
  readonly skippedJournalLines: number;

  private readonly messages = new Map<string, QueueMessage>();
  private readonly ready = new Deque<IndexEntry>();
  private readonly waiting = new MinHeap<IndexEntry>((e) => e.at);
  private visible = 0;
  private inFlight = 0;
  private delayed = 0;
  private receiveSerial = 0;
  private readonly journal: Journal<JournalRecord> | null;
  private readonly listeners = new Set<() => void>();

  constructor(opts: QueueOptions) {
    this.name = opts.name;
    this.arn = opts.arn;
    this.visibilityTimeoutMs = opts.visibilityTimeoutMs;
    this.redrive = opts.redrive;
    if (opts.journalPath) {
      const { journal, records, skipped } = Journal.open(opts.journalPath, journalRecord);
      this.journal = journal;
      this.skippedJournalLines = skipped;
      this.replay(records);
      journal.compact(this.liveRecords());
    } else {
      this.journal = null;
      this.skippedJournalLines = 0;
    }
  }

  /** Called whenever messages may have become receivable (a send, a purge is not one). */
  onAvailable(listener: () => void): () => void {
    this.listeners.add(listener);
    return () => this.listeners.delete(listener);
  }

  send(inputs: readonly SendInput[], now = Date.now()): QueueMessage[] {
    const sent = inputs.map((input): QueueMessage => {
      const visibleAt = now + (input.delaySeconds ?? 0) * 1000;
      const hasAttributes = input.attributes !== undefined && Object.keys(input.attributes).length > 0;
      return {
        id: randomUUID(),
        body: input.body,
        md5OfBody: md5Hex(input.body),
        attributes: hasAttributes ? input.attributes : undefined,
        md5OfAttributes: hasAttributes && input.attributes ? md5OfMessageAttributes(input.attributes) : undefined,
        sentTimestamp: now,
        senderId: input.senderId,
        deadLetterSourceArn: undefined,
        receiveCount: 0,
        firstReceiveTimestamp: undefined,
        state: visibleAt > now ? 'delayed' : 'visible',
        visibleAt,
        generation: 0,
        receiptHandle: undefined,
      };
    });
    this.journal?.append(sent.map((m) => this.sendRecord(m)));
    for (const m of sent) this.insert(m, now);
    this.maybeCompact();
    if (sent.some((m) => m.state === 'visible')) this.notify();
    return sent;
  }

  /**
   * Takes up to `max` visible messages and makes them invisible for the
   * visibility timeout. A message already received `maxReceiveCount` times goes
   * to the dead-letter queue instead, as SQS redrive does on the next receive.
   */
  receive(max: number, visibilityTimeoutMs = this.visibilityTimeoutMs, now = Date.now()): QueueMessage[] {
    this.promote(now);
    const out: QueueMessage[] = [];
    const records: JournalRecord[] = [];
    while (out.length < max) {
      const entry = this.ready.shift();
      if (!entry) break;
      const msg = entry.msg;
      if (!this.isCurrent(entry) || msg.state !== 'visible') continue;
      if (this.redrive && msg.receiveCount >= this.redrive.maxReceiveCount) {
        this.redrive.deadLetter.adopt(msg, this.arn, now);
        this.remove(msg);
        records.push({ t: 'x', id: msg.id, to: this.redrive.deadLetter.arn });
        continue;
      }
      msg.receiveCount++;
      msg.firstReceiveTimestamp ??= now;
      msg.receiptHandle = Buffer.from(`${msg.id}:${++this.receiveSerial}`).toString('base64url');
      this.transition(msg, 'inflight', now + visibilityTimeoutMs);
      records.push({ t: 'r', id: msg.id, n: msg.receiveCount, f: msg.firstReceiveTimestamp });
      out.push(msg);
    }
    this.journal?.append(records);
    this.maybeCompact();
    return out;
  }

  /**
   * Deletes by receipt handle. As on SQS, a handle from an earlier receive of a
   * message still deletes it, and deleting a message that is gone succeeds.
   */
  deleteByHandles(handles: readonly string[]): void {
    this.deleteIds(handles.map((h) => this.messageIdOf(h)));
  }

  deleteIds(ids: readonly string[]): void {
    const records: JournalRecord[] = [];
    for (const id of ids) {
      const msg = this.messages.get(id);
      if (!msg) continue;
      this.remove(msg);
      records.push({ t: 'd', id });
    }
    this.journal?.append(records);
    this.maybeCompact();
  }

  /** Throws ReceiptHandleIsInvalid for a handle this emulator could not have issued. */
  messageIdOf(handle: string): string {
    const match = handlePattern.exec(Buffer.from(handle, 'base64url').toString('utf8'));
    if (!match?.[1]) throw receiptHandleIsInvalid(handle);
    return match[1];
  }

  changeVisibility(handle: string, timeoutMs: number, now = Date.now()): void {
    const msg = this.messages.get(this.messageIdOf(handle));
    if (!msg || msg.state !== 'inflight') {
      throw new AwsApiError('MessageNotInflight', 'The message referred to is not in flight.', 400, 'AWS.SimpleQueueService.MessageNotInflight');
    }
    if (msg.receiptHandle !== handle) {
      throw new AwsApiError(
        'InvalidParameterValue',
        `Value ${handle} for parameter ReceiptHandle is invalid. Reason: The receipt handle has expired.`,
        400,
        'InvalidParameterValue',
      );
    }
    if (timeoutMs <= 0) {
      this.transition(msg, 'visible', now);
      this.notify();
    } else {
      this.transition(msg, 'inflight', now + timeoutMs);
    }
  }

  purge(): void {
    this.journal?.append([{ t: 'p' }]);
    this.messages.clear();
    this.ready.replaceAll([]);
    this.waiting.clear();
    this.visible = this.inFlight = this.delayed = 0;
  }

  depth(now = Date.now()): QueueDepth {
    this.promote(now);
    return { visible: this.visible, inFlight: this.inFlight, delayed: this.delayed };
  }

  /** Every message the queue holds, in no particular order (for inspection, O(n)). */
  list(): QueueMessage[] {
    return [...this.messages.values()];
  }

  close(): void {
    this.journal?.close();
  }

  /** Takes in a message dead-lettered by its source queue, keeping id, body and receive count. */
  private adopt(from: QueueMessage, sourceArn: string, now: number): void {
    const msg: QueueMessage = {
      ...from,
      deadLetterSourceArn: sourceArn,
      state: 'visible',
      visibleAt: now,
      generation: 0,
      receiptHandle: undefined,
    };
    this.journal?.append([this.sendRecord(msg)]);
    this.insert(msg, now);
    this.notify();
  }

  private insert(msg: QueueMessage, now: number): void {
    this.messages.set(msg.id, msg);
    const state: MessageState = msg.visibleAt > now ? 'delayed' : 'visible';
    this.count(state, +1);
    msg.state = state;
    this.index(msg);
  }

  private transition(msg: QueueMessage, state: MessageState, visibleAt: number): void {
    this.count(msg.state, -1);
    this.count(state, +1);
    msg.state = state;
    msg.visibleAt = visibleAt;
    msg.generation++;
    this.index(msg);
  }

  private remove(msg: QueueMessage): void {
    this.count(msg.state, -1);
    this.messages.delete(msg.id);
  }

  private index(msg: QueueMessage): void {
    const entry: IndexEntry = { msg, generation: msg.generation, at: msg.visibleAt };
    if (msg.state === 'visible') {
      this.ready.push(entry);
      // Deleted visible messages leave stale entries behind; rebuild when they dominate.
      if (this.ready.length > 2 * this.visible + 1024) {
        this.ready.replaceAll([...this.messages.values()].filter((m) => m.state === 'visible').map((m) => this.entryOf(m)));
      }
    } else {
      this.waiting.push(entry);
      if (this.waiting.size > 2 * (this.inFlight + this.delayed) + 1024) this.rebuildWaiting();
    }
  }

  private entryOf(msg: QueueMessage): IndexEntry {
    return { msg, generation: msg.generation, at: msg.visibleAt };
  }

  private rebuildWaiting(): void {
    this.waiting.clear();
    for (const m of this.messages.values()) if (m.state !== 'visible') this.waiting.push(this.entryOf(m));
  }

  private isCurrent(entry: IndexEntry): boolean {
    return entry.msg.generation === entry.generation && this.messages.get(entry.msg.id) === entry.msg;
  }

  /** Makes every delayed or in-flight message whose time has come visible again. */
  private promote(now: number): void {
    for (let top = this.waiting.peek(); top && top.at <= now; top = this.waiting.peek()) {
      this.waiting.pop();
      if (this.isCurrent(top) && top.msg.state !== 'visible') this.transition(top.msg, 'visible', now);
    }
  }

  private count(state: MessageState, delta: number): void {
    if (state === 'visible') this.visible += delta;
    else if (state === 'inflight') this.inFlight += delta;
    else this.delayed += delta;
  }

  private notify(): void {
    for (const listener of this.listeners) listener();
  }

  private sendRecord(m: QueueMessage): JournalRecord {
    return {
      t: 's',
      id: m.id,
      b: m.body,
      ts: m.sentTimestamp,
      // In-flight state is not kept across a restart, so only a pending delay is.
      v: m.state === 'delayed' ? m.visibleAt : m.sentTimestamp,
      sd: m.senderId,
      ...(m.attributes && { a: m.attributes }),
      ...(m.receiveCount > 0 && { n: m.receiveCount }),
      ...(m.firstReceiveTimestamp !== undefined && { f: m.firstReceiveTimestamp }),
      ...(m.deadLetterSourceArn && { dl: m.deadLetterSourceArn }),
    };
  }

  private *liveRecords(): Iterable<JournalRecord> {
    for (const m of this.messages.values()) yield this.sendRecord(m);
  }

  private maybeCompact(): void {
    if (this.journal?.wantsCompaction) this.journal.compact(this.liveRecords());
  }

  private replay(records: readonly JournalRecord[]): void {
    const now = Date.now();
    const restored = new Map<string, QueueMessage>();
    for (const r of records) {
      switch (r.t) {
        case 's':
          restored.set(r.id, {
            id: r.id,
            body: r.b,
            md5OfBody: md5Hex(r.b),
            attributes: r.a,
            md5OfAttributes: r.a ? md5OfMessageAttributes(r.a) : undefined,
            sentTimestamp: r.ts,
            senderId: r.sd,
            deadLetterSourceArn: r.dl,
            receiveCount: r.n ?? 0,
            firstReceiveTimestamp: r.f,
            state: 'visible',
            visibleAt: r.v,
            generation: 0,
            receiptHandle: undefined,
          });
          break;
        case 'r': {
          const m = restored.get(r.id);
          if (m) {
            m.receiveCount = r.n;
            m.firstReceiveTimestamp = r.f;
          }
          break;
        }
        case 'd':
        case 'x':
          restored.delete(r.id);
          break;
        case 'p':
          restored.clear();
          break;
      }
    }
    for (const m of restored.values()) this.insert(m, now);
  }
}
