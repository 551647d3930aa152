import { getFactory } from '#adapters/factory-store.ts';
import { isActive } from '#domain/factories.ts';
import { BatchProcessor, EventType, processPartialResponse } from '@aws-lambda-powertools/batch';
import { MetricUnit } from '@aws-lambda-powertools/metrics';
import type { Context, SQSEvent, SQSRecord } from 'aws-lambda';
import { queues } from '#topology';
import { getDelivery, getWebhook, recordAttempt } from '#adapters/webhook-store.ts';
import { delayRedelivery } from '#adapters/webhook-queue.ts';
import { DeliveryMessage } from '#contracts/messages.ts';
import {
  checkWebhookUrl,
  isDelivered,
  retryDelaySeconds,
  signatureHeader,
  type Delivery,
  type DeliveryAttempt,
  type Webhook,
} from '#domain/webhooks.ts';
import { numberSetting } from '#shared/config.ts';
import { flushMetrics, log, logger, metrics, withLogKeys } from '#shared/observability.ts';
import { allowLoopback } from './use-cases.ts';

/**
 * POSTs webhook deliveries. Each try is one receive of the delivery's message
 * on webhook-deliveries; the queue's maxReceiveCount is the number of tries.
 * A failed try sets the message's visibility to the backoff delay and reports
 * the record failed, so SQS brings it back when the delay is over; the last
 * failed try marks the delivery FAILED and lets SQS move the message to the
 * dead-letter queue. Nothing waits in the function between tries.
 */
const deliveriesQueue = queues.find((q) => q.name === 'webhook-deliveries');
if (!deliveriesQueue) throw new Error('lib/topology.ts has no webhook-deliveries queue');
/** Tries before the dead-letter queue: the queue's redrive setting, so the two cannot disagree. */
export const maxTries = deliveriesQueue.maxReceiveCount;

const metricNames = {
  delivered: 'WebhookDeliveriesDelivered',
  attemptFailed: 'WebhookAttemptsFailed',
  deadLettered: 'WebhookDeliveriesFailed',
} as const;

const settings = () => ({
  schedule: {
    baseSeconds: numberSetting('WEBHOOK_RETRY_BASE_SECONDS', 1, 3600),
    // SQS keeps a message invisible for at most 12 hours.
    maxSeconds: numberSetting('WEBHOOK_RETRY_MAX_SECONDS', 1, 43_200),
  },
  // Well under the function's timeout, with a batch's POSTs running in parallel.
  timeoutMs: numberSetting('WEBHOOK_TIMEOUT_SECONDS', 1, 50) * 1000,
});

/** A failed try: the record is reported failed, so SQS brings it back (or dead-letters it). */
export class DeliveryAttemptFailedError extends Error {
  constructor(deliveryId: string, attempt: DeliveryAttempt, readonly last: boolean) {
    super(`delivery ${deliveryId} try failed (${attempt.statusCode ?? attempt.error})${last ? '; no tries left' : ''}`);
    this.name = 'DeliveryAttemptFailedError';
  }
}

const describeError = (err: unknown, timeoutMs: number): string => {
  if (err instanceof Error && (err.name === 'TimeoutError' || err.name === 'AbortError')) return `no response within ${timeoutMs / 1000} s`;
  const cause = err instanceof Error ? (err.cause as { code?: unknown; message?: unknown } | undefined) : undefined;
  const text = typeof cause?.code === 'string' ? `${cause.code}${typeof cause.message === 'string' ? `: ${cause.message}` : ''}` : String(err);
  return text.slice(0, 200);
};

/**
 * One POST of the stored payload, signed now. Redirects are not followed: a
 * receiver that moved must be registered again, or a 3xx could point the
 * request at an address the URL policy refuses.
 */
export const postDelivery = async (webhook: Webhook, delivery: Delivery, timeoutMs: number): Promise<DeliveryAttempt> => {
  const at = new Date();
  const started = performance.now();
  const elapsed = () => Math.round(performance.now() - started);
  try {
    const res = await fetch(webhook.url, {
      method: 'POST',
      redirect: 'manual',
      signal: AbortSignal.timeout(timeoutMs),
      headers: {
        'content-type': 'application/json',
        'user-agent': 'c2m-webhooks/1',
        'c2m-signature': signatureHeader(webhook.secret, delivery.payload, Math.floor(at.getTime() / 1000)),
        'c2m-event-id': delivery.eventId,
        'c2m-event-type': delivery.eventType,
        'c2m-sequence': String(delivery.sequence),
        'c2m-delivery-id': delivery.deliveryId,
      },
      body: delivery.payload,
    });
    // The receiver's body is not kept; release the connection.
    await res.body?.cancel().catch(() => undefined);
    return { at: at.toISOString(), statusCode: res.status, durationMs: elapsed() };
  } catch (err) {
    return { at: at.toISOString(), error: describeError(err, timeoutMs), durationMs: elapsed() };
  }
};

export type DeliveryOutcome = 'delivered' | 'skipped' | 'retrying' | 'dead-lettered' | 'refused';

/**
 * One receive of a delivery message. Returns what happened; throws
 * DeliveryAttemptFailedError for a failed try, which fails the record.
 */
export const deliver = async (record: SQSRecord): Promise<DeliveryOutcome> => {
  const { deliveryId } = DeliveryMessage.parse(JSON.parse(record.body));
  const delivery = await getDelivery(deliveryId);
  if (!delivery) {
    log().warn('webhook delivery not found (expired?); nothing to send', { deliveryId });
    return 'skipped';
  }
  if (delivery.status === 'DELIVERED') return 'skipped';
  const found = await getWebhook(delivery.webhookId);
  const { schedule, timeoutMs } = settings();

  // Checked again at send time: the policy or the setting may have changed since the webhook was created.
  const verdict = found ? checkWebhookUrl(found.url, { allowLoopback: allowLoopback() }) : undefined;
  // And the factory: one revoked since the delivery was queued is sent nothing more.
  const revoked = found !== undefined && !isActive(await getFactory(delivery.factoryId));
  if (!found || !verdict?.ok || revoked) {
    const error = revoked
      ? "not sent: the factory's access was revoked"
      : verdict && !verdict.ok
        ? `not sent: ${verdict.issue.message}`
        : 'not sent: the webhook no longer exists';
    await recordAttempt(delivery, { at: new Date().toISOString(), error, durationMs: 0 }, (current) =>
      current.status === 'DELIVERED' ? { status: 'DELIVERED' } : { status: 'FAILED' },
    );
    metrics.addMetric(metricNames.deadLettered, MetricUnit.Count, 1);
    log().error('webhook delivery refused; no retry', { deliveryId, webhookId: delivery.webhookId, error });
    return 'refused';
  }

  const attempt = await postDelivery(found, delivery, timeoutMs);
  if (isDelivered(attempt.statusCode)) {
    await recordAttempt(delivery, attempt, () => ({ status: 'DELIVERED', deliveredAt: attempt.at }));
    metrics.addMetric(metricNames.delivered, MetricUnit.Count, 1);
    log().info('webhook delivered', { deliveryId, webhookId: delivery.webhookId, statusCode: attempt.statusCode, durationMs: attempt.durationMs });
    return 'delivered';
  }

  const tryNumber = Number(record.attributes.ApproximateReceiveCount) || 1;
  const last = tryNumber >= maxTries;
  const delaySeconds = last ? 0 : retryDelaySeconds(tryNumber, schedule);
  const nextAttemptAt = new Date(Date.now() + delaySeconds * 1000).toISOString();
  const after = await recordAttempt(delivery, attempt, (current) =>
    current.status === 'DELIVERED' ? { status: 'DELIVERED' } : last ? { status: 'FAILED' } : { status: 'RETRYING', nextAttemptAt },
  );
  metrics.addMetric(metricNames.attemptFailed, MetricUnit.Count, 1);
  // A replay delivered it meanwhile: this message is done.
  if (after.status === 'DELIVERED') return 'skipped';

  // On the last try, visibility 0 hands the message to the dead-letter queue at the next receive, not after the queue's timeout.
  try {
    await delayRedelivery(record.receiptHandle, delaySeconds);
  } catch (err) {
    log().warn('backoff not set; the message returns after the queue visibility timeout', { deliveryId, error: err as Error });
  }
  const fields = { deliveryId, webhookId: delivery.webhookId, try: tryNumber, statusCode: attempt.statusCode, error: attempt.error };
  if (last) {
    metrics.addMetric(metricNames.deadLettered, MetricUnit.Count, 1);
    log().error('webhook delivery failed its last try; to the dead-letter queue', fields);
  } else {
    log().warn('webhook delivery try failed; retrying', { ...fields, delaySeconds });
  }
  throw new DeliveryAttemptFailedError(deliveryId, attempt, last);
};

/**
 * The webhook-deliveries consumer: a batch's POSTs run in parallel. A batch
 * in which every try failed is a normal outcome for a receiver that is down,
 * not a function error, so it is answered with every record listed as failed
 * rather than thrown (which would count as a Lambda error and alarm).
 */
export const handler = async (event: SQSEvent, context: Context) => {
  logger.addContext(context);
  try {
    return await withLogKeys({ function: context.functionName, awsRequestId: context.awsRequestId }, () =>
      processPartialResponse(
        event,
        async (record: SQSRecord) => {
          await deliver(record);
        },
        // One per invocation: outside Lambda (the local runtime runs batches concurrently) a shared one mixes their records.
        new BatchProcessor(EventType.SQS),
        { context, throwOnFullBatchFailure: false },
      ),
    );
  } finally {
    flushMetrics();
  }
};
