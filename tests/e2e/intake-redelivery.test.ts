import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { SQSClient, SendMessageCommand } from '@aws-sdk/client-sqs';
import type { DynamoDBStreamEvent } from 'aws-lambda';
import type { LocalRuntime } from '../../lib/local/runtime.ts';
import { campaignDraft, clientFor, preorderDraft, registerFactories, startTestRuntime } from '../support/runtime.ts';

let runtime: LocalRuntime;
let anchor: ReturnType<typeof clientFor>;
let buyer: ReturnType<typeof clientFor>;
/** Set by a test: the next intake batch is handled whole, then its answer is lost (the stream hands it over again). */
let loseNextAnswer = false;
/** Set by a test: the next intake batch of 2+ records crashes after handling half of it. */
let crashNextBatch = false;
/** Set by a test: the next answer of preorders-api is lost after the handler ran (the pre-order is committed). */
let losePlacementAnswer = false;
let crashes = 0;

beforeAll(async () => {
  runtime = await startTestRuntime({
    wrapInvoke: async (fn, event, invoke) => {
      if (fn === 'preorders-api' && losePlacementAnswer) {
        losePlacementAnswer = false;
        await invoke();
        throw new Error('injected crash after the placement committed, before it answered');
      }
      const records = (event as Partial<DynamoDBStreamEvent>).Records ?? [];
      // Only the stream's batches (intake also takes the queue kept for one release).
      if (fn !== 'preorder-intake' || records[0]?.eventSource !== 'aws:dynamodb') return invoke();
      if (loseNextAnswer) {
        loseNextAnswer = false;
        crashes++;
        await invoke();
        throw new Error('injected crash after the batch was handled, before it answered');
      }
      if (crashNextBatch && records.length >= 2) {
        crashNextBatch = false;
        crashes++;
        // Really handle the first half (its side effects happen), then die before answering.
        const { handler } = await import('../../functions/handlers/preorders/intake.ts');
        await handler({ Records: records.slice(0, Math.floor(records.length / 2)) }, { functionName: 'preorder-intake' } as never);
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

/** The ids on the buyer's own list and on the anchor's list of the campaign, as many times as each lists them. */
const listed = async (as: ReturnType<typeof clientFor>, campaignId: string) => ({
  mine: (await as.get<{ items: { preorderId: string }[] }>('/v1/preorders?mine=true&limit=100')).body.items.map((p) => p.preorderId),
  campaign: (await anchor.get<{ items: { preorderId: string }[] }>(`/v1/campaigns/${campaignId}/preorders?limit=100`)).body.items.map(
    (p) => p.preorderId,
  ),
});

describe("Intake follows every pre-order from the table's stream, and a batch handed over again changes nothing", () => {
  it('When a stream batch is handed over twice (its answer was lost), the pre-order is listed once, counted once, and its announcement keeps one id', async () => {
    const { body } = await anchor.post<{ campaignId: string }>('/v1/campaigns', campaignDraft());
    const before = crashes;
    loseNextAnswer = true;
    const placed = await buyer.post<{ preorderId: string }>(`/v1/campaigns/${body.campaignId}/preorders`, preorderDraft());
    expect(placed.status).toBe(202);
    await runtime.emulator.drain(10_000);

    expect(crashes).toBe(before + 1);
    const events = acceptedEvents([placed.body.preorderId]);
    expect(events.length).toBe(2); // handed over twice, announced twice…
    expect(new Set(events).size).toBe(1); // …under one eventId a consumer de-duplicates on
    expect(await demandOrdered(body.campaignId)).toBe(1);
    const lists = await listed(buyer, body.campaignId);
    expect(lists.mine.filter((id) => id === placed.body.preorderId)).toHaveLength(1);
    expect(lists.campaign).toEqual([placed.body.preorderId]);
  });

  it('When the intake consumer crashes half way through a batch and the batch comes again, every pre-order is listed, announced and counted exactly once', async () => {
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
    expect(events.length).toBeGreaterThan(30); // the crashed half was really handed over again
    expect(await demandOrdered(body.campaignId)).toBe(30);
    expect((await listed(buyer, body.campaignId)).campaign.sort()).toEqual([...ids].sort());
    // Processing twice changed no pre-order: each is still one ACCEPTED record with one timeline entry, listed once for its buyer.
    for (const [i, r] of replies.entries()) {
      const crowd = clientFor(runtime, 'buyer', `crowd-${i}`);
      const read = await crowd.get<{ status: string; timeline: unknown[] }>(`/v1/preorders/${r.body.preorderId}`);
      expect(read.body.status).toBe('ACCEPTED');
      expect(read.body.timeline).toHaveLength(1);
      expect((await listed(crowd, body.campaignId)).mine).toEqual([r.body.preorderId]);
    }
  });

  it('A pre-order the code before this release queued for intake is still followed from the queue, and once', async () => {
    const { body } = await anchor.post<{ campaignId: string }>('/v1/campaigns', campaignDraft());
    const placed = await buyer.post<{ preorderId: string }>(`/v1/campaigns/${body.campaignId}/preorders`, preorderDraft());
    await runtime.emulator.drain(10_000);

    // What preorders-api sent after its commit before decision 28 ({preorderId}), as a deploy would leave it queued.
    const sqs = new SQSClient({ endpoint: runtime.emulator.endpoint, region: 'us-east-1', credentials: { accessKeyId: 'l', secretAccessKey: 'l' } });
    await sqs.send(
      new SendMessageCommand({ QueueUrl: runtime.emulator.queueUrl('preorder-intake'), MessageBody: JSON.stringify({ preorderId: placed.body.preorderId }) }),
    );
    await runtime.emulator.drain(10_000);

    const events = acceptedEvents([placed.body.preorderId]);
    expect(events.length).toBe(2); // from the stream, and from the queue…
    expect(new Set(events).size).toBe(1); // …under one eventId
    expect(runtime.emulator.depth('preorder-intake')).toMatchObject({ visible: 0, inFlight: 0, dead: 0 });
    const lists = await listed(buyer, body.campaignId);
    expect(lists.campaign).toEqual([placed.body.preorderId]);
    expect(await demandOrdered(body.campaignId)).toBe(1);
  });

  it('When the placement dies after its commit and the buyer never tries again, the pre-order is still listed for them and announced', async () => {
    const { body } = await anchor.post<{ campaignId: string }>('/v1/campaigns', campaignDraft());
    const quiet = clientFor(runtime, 'buyer', 'buyer-who-gave-up');
    losePlacementAnswer = true;
    const lost = await quiet.post<{ preorderId?: string }>(`/v1/campaigns/${body.campaignId}/preorders`, preorderDraft());
    expect(lost.status).toBeGreaterThanOrEqual(500);
    await runtime.emulator.drain(10_000);

    const lists = await listed(quiet, body.campaignId);
    expect(lists.mine).toHaveLength(1);
    expect(lists.campaign).toEqual(lists.mine);
    expect(acceptedEvents(lists.mine)).toHaveLength(1);
    expect(await demandOrdered(body.campaignId)).toBe(1);
  });
});
