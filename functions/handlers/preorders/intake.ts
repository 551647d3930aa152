import type { Context, DynamoDBBatchResponse, DynamoDBStreamEvent, SQSBatchResponse, SQSEvent, SQSRecord } from 'aws-lambda';
import * as z from 'zod';
import { sqsConsumer } from '../queue/consumer.ts';
import type { AttributeValue } from '@aws-sdk/client-dynamodb';
import { unmarshall } from '@aws-sdk/util-dynamodb';
import { MetricUnit } from '@aws-lambda-powertools/metrics';
import { getPreorder, getPreorders, putOrderRefs } from '#adapters/preorder-store.ts';
import { getCampaign, readDemand } from '#adapters/campaign-store.ts';
import { requestCut } from '#adapters/queues.ts';
import { backoff } from '#adapters/dynamo.ts';
import { eventOf, publish } from '#adapters/event-bus.ts';
import { PlacedPreorderImage } from '#contracts/messages.ts';
import { sendNotifications, type BuyerNotification } from '#adapters/notification-channel.ts';
import type { TimelineEntry } from '#domain/preorder.ts';
import { flushNotifications, noticeAt } from '../notifications/flush.ts';
import { flushMetrics, log, logger, metricNames, metrics, withLogKeys } from '#shared/observability.ts';

/**
 * Campaigns this container asked a cut for recently (a burst asks once, not
 * once per pre-order), and whether it asked once more for the window's end.
 */
const asked = new Map<string, { until: number; trailing: boolean }>();
const askAgainAfterMs = 2_000;

/**
 * When a lot is waiting, asks the cutter to cut it (the cutter re-checks;
 * asking twice is harmless). Within the window after an ask, pre-orders may
 * land after the cutter looked: one more ask goes then, delayed to the
 * window's end, so the last of a burst is cut at once rather than at the
 * clock's next tick (the all-or-nothing test's sixth pre-order, the one that
 * meets the minimum, waited for it).
 */
const requestCutIfLotWaiting = async (campaignId: string): Promise<void> => {
  const now = Date.now();
  const recent = asked.get(campaignId);
  if (recent && recent.until > now) {
    if (recent.trailing) return;
    recent.trailing = true;
    try {
      await requestCut(campaignId, Math.ceil((recent.until - now) / 1000));
    } catch (err) {
      recent.trailing = false;
      throw err;
    }
    return;
  }
  asked.set(campaignId, { until: now + askAgainAfterMs, trailing: false });
  try {
    const campaign = await getCampaign(campaignId);
    if (!campaign) return;
    const demand = await readDemand(campaign);
    if (demand.totals.waiting >= campaign.lotSize) await requestCut(campaignId);
    else asked.delete(campaignId);
  } catch (err) {
    asked.delete(campaignId);
    throw err;
  }
};

/**
 * Asks for the cuts a batch's campaigns may need, each on its own: one that
 * cannot be asked (its reads or the queue failing) is logged and counted and
 * holds up nothing. Failing the batch would hold every pre-order behind it on
 * the shard, of every campaign, and asking again comes with the campaign's next
 * pre-orders, its max-wait tick and its close anyway.
 */
const requestCuts = async (campaignIds: Iterable<string>): Promise<void> => {
  for (const campaignId of campaignIds) {
    for (let attempt = 0; ; attempt++) {
      try {
        await requestCutIfLotWaiting(campaignId);
        break;
      } catch (err) {
        if (attempt < 2) {
          await backoff(attempt, 50, 400);
          continue;
        }
        metrics.addMetric(metricNames.intakeCutNotAsked, MetricUnit.Count, 1);
        log().error('could not ask for a cut; the campaign is asked again with its next pre-orders', { campaignId, error: err as Error });
        break;
      }
    }
  }
};

/** The pre-orders a stream batch placed, parsed; a record that is not one is logged and counted, and left behind. */
const placedIn = (event: DynamoDBStreamEvent): PlacedPreorderImage[] =>
  event.Records.flatMap((record) => {
    if (record.eventName !== 'INSERT' || !record.dynamodb?.NewImage) return [];
    const newImage = record.dynamodb.NewImage;
    const parsed = (() => {
      try {
        return PlacedPreorderImage.safeParse(unmarshall(newImage as Record<string, AttributeValue>));
      } catch (err) {
        return { success: false as const, error: { issues: [{ path: [], message: `not DynamoDB JSON: ${String(err)}` }] } };
      }
    })();
    if (parsed.success) return [parsed.data];
    // The filter passes only new pre-order items, so this is c2m writing a pre-order it cannot read back: page, do not stall the shard.
    metrics.addMetric(metricNames.intakeUnreadableRecord, MetricUnit.Count, 1);
    log().error('a pre-order on the stream is not one intake can follow; left behind', {
      sequenceNumber: record.dynamodb.SequenceNumber,
      keys: record.dynamodb.Keys,
      issues: parsed.error.issues.map((i) => `${i.path.join('.')}: ${i.message}`),
    });
    return [];
  });

/** The "accepted" notice of a placed pre-order: its first timeline entry, numbered as a flush would (`<id>:1`). */
const acceptedNotice = (p: PlacedPreorderImage): BuyerNotification => noticeAt(p, p.timeline[0]! as TimelineEntry, 0);

/**
 * Tells, lists, announces and asks cuts for placed pre-orders: the work of a
 * stream batch, and of a queued message from before.
 *
 * Their "accepted" step is intake's (acceptedOnIntake, decision 28): sent
 * first, then recorded by writing the order refs with the time (`toldAt`), so
 * a ref that says so means the buyer was told; a batch cut short between the
 * two is delivered again and tells them again under the same notification id,
 * which the channel de-duplicates on. No claim and no record per pre-order:
 * the stream gives a shard's records to one batch at a time, in order, and
 * every other flush leaves such a pre-order alone until its ref says it was
 * told. Those flushes may have seen later steps meanwhile (a cut, a cancel),
 * so the pre-orders are flushed once more after the refs are written: anything
 * a flush left before then is sent now, after "accepted", in order.
 */
const follow = async (placed: readonly PlacedPreorderImage[]): Promise<void> => {
  await tellAndList(placed);
  await publish(
    placed.map((p) =>
      eventOf(
        'preorder.accepted',
        { campaignId: p.campaignId, preorderId: p.preorderId, occurredAt: p.createdAt, status: 'ACCEPTED', sku: p.sku, quantity: p.quantity },
        p.preorderId,
      ),
    ),
  );
  await requestCuts(new Set(placed.map((p) => p.campaignId)));
};

/**
 * Tells the buyers of placed pre-orders theirs was accepted (those whose step
 * is intake's), lists them all (their order refs, with when they were told),
 * then flushes them: the steps after "accepted" other flushes left to intake,
 * and the "accepted" of pre-orders from before (told the old way, claimed and
 * recorded).
 */
export const tellAndList = async (placed: readonly PlacedPreorderImage[]): Promise<void> => {
  const ours = placed.filter((p) => p.acceptedOnIntake === true);
  await sendNotifications(ours.map(acceptedNotice));
  const toldAt = new Date().toISOString();
  await putOrderRefs(placed.map((p) => (p.acceptedOnIntake === true ? { ...p, toldAt } : p)));
  // Read after the refs are written (one BatchGetItem a hundred, not a Query each): only a pre-order with a step past
  // "accepted", or one from before whose "accepted" is a flush's, has anything to send.
  const now = await getPreorders(placed.map((p) => p.preorderId));
  const pending = now.filter((p) => p.acceptedOnIntake !== true || p.timeline.length > 1).map((p) => p.preorderId);
  await flushNotifications(pending, { toldOnIntake: new Map(ours.map((p) => [p.preorderId, toldAt])) });
};

/** What the code before decision 28 queued after a commit. */
const QueuedPreorder = z.object({ preorderId: z.string().min(1) });

/**
 * A message on the `preorder-intake` queue, kept one release for what the code
 * before this one queued during the deploy (lib/topology.ts): the same work as
 * for a stream record, from the pre-order as stored.
 */
const queuedHandler = sqsConsumer(async (record: SQSRecord) => {
  const { preorderId } = QueuedPreorder.parse(JSON.parse(record.body));
  const stored = await getPreorder(preorderId, true);
  if (!stored) throw new Error(`pre-order ${preorderId} is not in the table`);
  await follow([PlacedPreorderImage.parse({ ...stored, type: 'preorder' })]);
});

/**
 * Follows pre-orders from the table's stream (topology `tableStreams`), a batch
 * at a time: lists them for their buyer and campaign (their order refs),
 * announces `preorder.accepted`, and asks for a cut where a lot is waiting.
 *
 * The stream carries every committed pre-order, so nothing accepted goes
 * unfollowed, a crash right after the commit included (decision 28). A batch
 * is delivered at least once, and everything here is idempotent: a ref is the
 * same item each time it is written, an announcement keeps its id
 * (`preorder.accepted:<id>`), a cut asked twice is cut once. A failure to list
 * or announce fails the whole batch, which comes back in order; a cut that
 * cannot be asked for does not (requestCuts).
 */
export const handler = async (event: DynamoDBStreamEvent | SQSEvent, context: Context): Promise<DynamoDBBatchResponse | SQSBatchResponse> => {
  if (event.Records[0]?.eventSource === 'aws:sqs') return queuedHandler(event as SQSEvent, context);
  logger.addContext(context);
  try {
    return await withLogKeys({ function: context.functionName, awsRequestId: context.awsRequestId }, async () => {
      await follow(placedIn(event as DynamoDBStreamEvent));
      return { batchItemFailures: [] };
    });
  } finally {
    flushMetrics();
  }
};
