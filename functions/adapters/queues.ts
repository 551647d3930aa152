import { SQSClient, SendMessageBatchCommand, SendMessageCommand, type SendMessageBatchRequestEntry } from '@aws-sdk/client-sqs';
import { queueUrl } from '#shared/config.ts';
import type { ClockWork, CutMessage } from '#contracts/messages.ts';

const client = new SQSClient({});

/** Asks the batch cutter to look at a campaign; duplicates are harmless (it settles what is due). */
export const requestCut = async (campaignId: string, delaySeconds = 0): Promise<void> => {
  const message: CutMessage = { kind: 'check', campaignId };
  await client.send(
    new SendMessageCommand({ QueueUrl: queueUrl('batch-cuts'), MessageBody: JSON.stringify(message), ...(delaySeconds > 0 && { DelaySeconds: delaySeconds }) }),
  );
};

/** Asks the batch cutter to move a rejected batch's pre-orders on (backup factory or refund); repeating it is harmless. */
export const requestUnwind = async (batchId: string): Promise<void> => {
  const message: CutMessage = { kind: 'unwind', batchId };
  await client.send(new SendMessageCommand({ QueueUrl: queueUrl('batch-cuts'), MessageBody: JSON.stringify(message) }));
};

/** SendMessageBatch takes at most ten entries. */
const entriesPerCall = 10;
/** Calls in flight at once: a sweep of thousands of campaigns sends in seconds, well inside the clock's timeout. */
const callsAtOnce = 8;
/** Tries per entry: SQS may refuse some entries of a call (throttling, an internal error) and take the rest. */
const triesPerEntry = 3;

/**
 * Puts the sweep's work on the campaign-clock queue, ten messages a call.
 * Entries SQS refuses are sent again (up to three tries); answers how many it
 * still refused, after sending every other, so one refusal costs no one else
 * their message. A call that fails outright throws.
 */
export const enqueueClockWork = async (work: readonly ClockWork[]): Promise<number> => {
  const calls: SendMessageBatchRequestEntry[][] = [];
  for (let i = 0; i < work.length; i += entriesPerCall) {
    calls.push(work.slice(i, i + entriesPerCall).map((w, k) => ({ Id: String(k), MessageBody: JSON.stringify(w) })));
  }
  let refused = 0;
  for (let i = 0; i < calls.length; i += callsAtOnce) {
    const left = await Promise.all(calls.slice(i, i + callsAtOnce).map(sendClockEntries));
    refused += left.reduce((n, l) => n + l, 0);
  }
  return refused;
};

const sendClockEntries = async (entries: SendMessageBatchRequestEntry[]): Promise<number> => {
  let pending = entries;
  for (let attempt = 0; attempt < triesPerEntry && pending.length > 0; attempt++) {
    // Full jitter, 0–200 ms then 0–400 ms: the refusals are throttling or internal errors that pass.
    if (attempt > 0) await new Promise((r) => setTimeout(r, Math.random() * 100 * 2 ** attempt));
    const out = await client.send(new SendMessageBatchCommand({ QueueUrl: queueUrl('campaign-clock'), Entries: pending }));
    const failed = new Set((out.Failed ?? []).map((f) => f.Id));
    pending = pending.filter((e) => failed.has(e.Id));
  }
  return pending.length;
};
