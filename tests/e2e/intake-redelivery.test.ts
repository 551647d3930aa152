import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { SQSClient, SendMessageCommand } from '@aws-sdk/client-sqs';
import type { SQSEvent } from 'aws-lambda';
import type { LocalRuntime } from '../../lib/local/runtime.ts';
import { campaignDraft, clientFor, preorderDraft, registerFactories, startTestRuntime } from '../support/runtime.ts';

let runtime: LocalRuntime;
let anchor: ReturnType<typeof clientFor>;
let buyer: ReturnType<typeof clientFor>;
/** Set by a test: the next intake batch of 2+ records crashes after handling half of it. */
let crashNextBatch = false;
let crashes = 0;

beforeAll(async () => {
  runtime = await startTestRuntime({
    wrapInvoke: async (fn, event, invoke) => {
      const records = (event as SQSEvent).Records;
      if (fn === 'preorder-intake' && crashNextBatch && records.length >= 2) {
        crashNextBatch = false;
        crashes++;
        // Really handle the first half (its side effects happen), then die before answering.
        const { handler } = await import('../../functions/handlers/preorders/intake.ts');
        await handler({ Records: records.slice(0, Math.floor(records.length / 2)) }, {} as never);
        throw new Error('injected crash half way through the batch');
      }
      return invoke();
    },
  });
  anchor = clientFor(runtime, 'anchor', 'anchor-1');
  buyer = clientFor(runtime, 'buyer', 'buyer-1');
  await registerFactories(runtime, 'factory-1');
});
afterAll(() => runtime?.stop());

const acceptedEvents = (preorderIds: string[]) => {
  const wanted = new Set(preorderIds.map((id) => `preorder.accepted:${id}`));
  return runtime.emulator.events
    .filter((e) => e.detailType === 'preorder.accepted')
    .map((e) => (e.detail as { eventId: string }).eventId)
    .filter((id) => wanted.has(id));
};

const demandOrdered = async (campaignId: string) =>
  (await anchor.get<{ totals: { ordered: number } }>(`/v1/campaigns/${campaignId}/demand`)).body.totals.ordered;

describe('Queue redelivery never counts a pre-order twice', () => {
  it('When an intake message is delivered twice, the pre-order counts once and its event keeps one id', async () => {
    const { body } = await anchor.post<{ campaignId: string }>('/v1/campaigns', campaignDraft());
    const placed = await buyer.post<{ preorderId: string }>(`/v1/campaigns/${body.campaignId}/preorders`, preorderDraft());
    await runtime.emulator.drain(10_000);

    const sqs = new SQSClient({ endpoint: runtime.emulator.endpoint, region: 'us-east-1', credentials: { accessKeyId: 'l', secretAccessKey: 'l' } });
    await sqs.send(
      new SendMessageCommand({ QueueUrl: runtime.emulator.queueUrl('preorder-intake'), MessageBody: JSON.stringify({ preorderId: placed.body.preorderId }) }),
    );
    await runtime.emulator.drain(10_000);

    const events = acceptedEvents([placed.body.preorderId]);
    expect(events.length).toBe(2); // delivered twice, announced twice…
    expect(new Set(events).size).toBe(1); // …under one eventId a consumer de-duplicates on
    expect(await demandOrdered(body.campaignId)).toBe(1);
    expect(runtime.emulator.depth('preorder-intake').dead).toBe(0);
  });

  it('When the intake consumer crashes half way through a batch and the batch is redelivered, every pre-order still counts exactly once', async () => {
    const { body } = await anchor.post<{ campaignId: string }>('/v1/campaigns', campaignDraft());
    crashNextBatch = true;
    const before = crashes;
    const replies = await Promise.all(
      Array.from({ length: 30 }, (_, i) =>
        clientFor(runtime, 'buyer', `crowd-${i}`).post<{ preorderId: string }>(
          `/v1/campaigns/${body.campaignId}/preorders`,
          preorderDraft(),
        ),
      ),
    );
    expect(replies.every((r) => r.status === 202)).toBe(true);
    await runtime.emulator.drain(20_000);

    expect(crashes).toBe(before + 1);
    const ids = replies.map((r) => r.body.preorderId);
    const events = acceptedEvents(ids);
    expect(new Set(events).size).toBe(30); // none lost
    expect(events.length).toBeGreaterThan(30); // the crashed half was really redelivered
    expect(await demandOrdered(body.campaignId)).toBe(30);
    expect(runtime.emulator.depth('preorder-intake').dead).toBe(0);
    // Processing twice changed no pre-order: each is still one ACCEPTED record with one timeline entry.
    for (const [i, r] of replies.entries()) {
      const read = await clientFor(runtime, 'buyer', `crowd-${i}`).get<{ status: string; timeline: unknown[] }>(
        `/v1/preorders/${r.body.preorderId}`,
      );
      expect(read.body.status).toBe('ACCEPTED');
      expect(read.body.timeline).toHaveLength(1);
    }
  });
});
