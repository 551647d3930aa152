import { getFactory } from '#adapters/factory-store.ts';
import { isActive } from '#domain/factories.ts';
import { BatchProcessor, EventType, processPartialResponse } from '@aws-lambda-powertools/batch';
import { MetricUnit } from '@aws-lambda-powertools/metrics';
import type { Context, SQSEvent, SQSRecord } from 'aws-lambda';
import { queues } from '#topology';
import {
  clearFailure,
  disableFailing,
  dropRevealSecret,
  getDelivery,
  getWebhook,
  noteFailure,
  recordAttempt,
  releaseSlot,
  takeSlot,
} from '#adapters/webhook-store.ts';
import { delayRedelivery, enqueueDelivery } from '#adapters/webhook-queue.ts';
import { openSecret } from '#adapters/secret-box.ts';
import { DeliveryMessage } from '#contracts/messages.ts';
import {
  checkWebhookUrl,
  failedLongEnough,
  isDelivered,
  retryDelaySeconds,
  revealableSecret,
  signatureHeader,
  signingSecrets,
  type Delivery,
  type DeliveryAttempt,
  type Webhook,
} from '#domain/webhooks.ts';
import { numberSetting } from '#shared/config.ts';
import { flushMetrics, log, logger, metrics, withLogKeys } from '#shared/observability.ts';
import { newId } from '#shared/ids.ts';
import { dispatchToFactory } from './dispatcher.ts';
import { allowLoopback } from './use-cases.ts';

/**
 * POSTs webhook deliveries. Each try is one receive of the delivery's message
 * on webhook-deliveries. A failed try sets the message's visibility to the
 * backoff delay and reports the record failed, so SQS brings it back when the
 * delay is over; the delivery counts its own tries (`tries`, reset by a
 * replay), and the last one marks it FAILED and lets the message go. A
 * receiver that is down is the factory's to fix, not c2m's on-call's: such
 * deliveries never reach the dead-letter queue (which is alarmed), only
 * messages this function could not handle do. A webhook failing for three
 * days is disabled and its factory told (`webhook.disabled`).
 *
 * Fair share: at most WEBHOOK_MAX_IN_FLIGHT POSTs to one webhook at a time
 * (a lease on the webhook, adapters/webhook-store.ts `takeSlot`). A delivery
 * that finds every slot taken is queued again a few seconds later, without
 * counting a try, so a slow endpoint's backlog waits in the queue instead of
 * holding the deliverers every other factory needs.
 */
const deliveriesQueue = queues.find((q) => q.name === 'webhook-deliveries');
if (!deliveriesQueue) throw new Error('lib/topology.ts has no webhook-deliveries queue');

/** What the deliverer counts; `disabled` is what the webhooks-disabled alarm watches (lib/aws/observability.ts). */
export const metricNames = {
  delivered: 'WebhookDeliveriesDelivered',
  attemptFailed: 'WebhookAttemptsFailed',
  failed: 'WebhookDeliveriesFailed',
  deferred: 'WebhookDeliveriesDeferred',
  disabled: 'WebhooksDisabled',
} as const;

const settings = () => ({
  schedule: {
    baseSeconds: numberSetting('WEBHOOK_RETRY_BASE_SECONDS', 1, 3600),
    // SQS keeps a message invisible for at most 12 hours.
    maxSeconds: numberSetting('WEBHOOK_RETRY_MAX_SECONDS', 1, 43_200),
  },
  // Fewer than the queue's receives, so a try that errored in c2m does not cost the delivery its last one.
  maxTries: numberSetting('WEBHOOK_MAX_TRIES', 1, deliveriesQueue.maxReceiveCount - 1),
  // Well under the function's timeout, with a batch's POSTs running in parallel.
  timeoutMs: numberSetting('WEBHOOK_TIMEOUT_SECONDS', 1, 50) * 1000,
  maxInFlight: numberSetting('WEBHOOK_MAX_IN_FLIGHT', 1, 100),
  slotWaitSeconds: numberSetting('WEBHOOK_SLOT_WAIT_SECONDS', 1, 900),
});

/** A failed try with tries left: the record is reported failed, so SQS brings it back after the backoff. */
export class DeliveryAttemptFailedError extends Error {
  constructor(deliveryId: string, attempt: DeliveryAttempt) {
    super(`delivery ${deliveryId} try failed (${attempt.statusCode ?? attempt.error}); retrying`);
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
 * One POST of the stored payload, signed now with every secret that signs
 * (two during a rotation's overlap). Redirects are not followed: a receiver
 * that moved must be registered again, or a 3xx could point the request at an
 * address the URL policy refuses.
 */
export const postDelivery = async (url: string, secrets: readonly string[], delivery: Delivery, timeoutMs: number): Promise<DeliveryAttempt> => {
  const at = new Date();
  const started = performance.now();
  const elapsed = () => Math.round(performance.now() - started);
  try {
    const res = await fetch(url, {
      method: 'POST',
      redirect: 'manual',
      signal: AbortSignal.timeout(timeoutMs),
      headers: {
        'content-type': 'application/json',
        'user-agent': 'c2m-webhooks/1',
        'c2m-signature': signatureHeader(secrets, delivery.payload, Math.floor(at.getTime() / 1000)),
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

export type DeliveryOutcome = 'delivered' | 'skipped' | 'failed' | 'refused' | 'deferred';

/** Why a delivery is not sent at all, or undefined when it may be. */
const refusal = async (delivery: Delivery, webhook: Webhook | undefined): Promise<string | undefined> => {
  if (!webhook) return 'not sent: the webhook no longer exists';
  // A test is sent to a disabled webhook too: that is how a factory checks its fix before enabling it again.
  if (webhook.status === 'DISABLED' && delivery.eventType !== 'webhook.test') return 'not sent: the webhook is disabled';
  // Checked again at send time: the policy or the setting may have changed since the webhook was created.
  const verdict = checkWebhookUrl(webhook.url, { allowLoopback: allowLoopback() });
  if (!verdict.ok) return `not sent: ${verdict.issue.message}`;
  // And the factory: one revoked since the delivery was queued is sent nothing more.
  if (!isActive(await getFactory(delivery.factoryId))) return "not sent: the factory's access was revoked";
  return undefined;
};

/**
 * Tells the factory its webhook was disabled for failing: `webhook.disabled`
 * on its feed and to its other webhooks subscribed to it. The event's id comes
 * from the webhook and its streak, so telling twice (a redelivery, or a later
 * refused delivery finding it disabled) is telling once.
 */
const tellDisabled = async (webhook: Webhook, failingSince: string, disabledAt: string): Promise<void> => {
  await dispatchToFactory(
    {
      factoryId: webhook.factoryId,
      eventId: `webhook.disabled:${webhook.webhookId}:${failingSince}`,
      type: 'webhook.disabled',
      occurredAt: disabledAt,
      data: { webhookId: webhook.webhookId, url: webhook.url, reason: 'FAILING', failingSince, disabledAt },
    },
    new Date(disabledAt),
  );
};

/**
 * After a failed try: the webhook's failing streak, and if it has lasted
 * `autoDisableAfterMs`, the webhook disabled and the factory told. True when
 * the webhook is (now) disabled.
 */
const afterFailure = async (webhook: Webhook, at: Date): Promise<boolean> => {
  const noted = await noteFailure(webhook.webhookId, at);
  if (!noted) return false;
  if (noted.status === 'DISABLED') {
    // Disabled for failing by a deliverer that may not have lived to tell: telling is idempotent.
    if (noted.disabledReason === 'FAILING' && noted.failingSince && noted.disabledAt) await tellDisabled(noted, noted.failingSince, noted.disabledAt);
    return true;
  }
  if (!failedLongEnough(noted, at) || !noted.failingSince) return false;
  if (await disableFailing(noted.webhookId, noted.failingSince, at)) {
    metrics.addMetric(metricNames.disabled, MetricUnit.Count, 1);
    log().warn('webhook disabled after failing for days; the factory is told', { webhookId: noted.webhookId, failingSince: noted.failingSince });
    await tellDisabled(noted, noted.failingSince, at.toISOString());
    return true;
  }
  // Another deliverer changed it first (disabled it, or a success ended the streak): tell from what it is now.
  const now = await getWebhook(noted.webhookId, true);
  if (now?.status === 'DISABLED' && now.disabledReason === 'FAILING' && now.failingSince && now.disabledAt) await tellDisabled(now, now.failingSince, now.disabledAt);
  return now?.status === 'DISABLED';
};

/** Records a try that was never made, and ends the delivery FAILED (no retry). */
const refuse = async (delivery: Delivery, error: string): Promise<DeliveryOutcome> => {
  await recordAttempt(delivery, { at: new Date().toISOString(), error, durationMs: 0 }, (current) =>
    current.status === 'DELIVERED' ? { status: 'DELIVERED' } : { status: 'FAILED' },
  );
  metrics.addMetric(metricNames.failed, MetricUnit.Count, 1);
  log().warn('webhook delivery not sent; no retry', { deliveryId: delivery.deliveryId, webhookId: delivery.webhookId, error });
  return 'refused';
};

/**
 * One receive of a delivery message. Returns what happened; throws
 * DeliveryAttemptFailedError for a failed try with tries left, which fails the record.
 */
export const deliver = async (record: SQSRecord): Promise<DeliveryOutcome> => {
  const { deliveryId } = DeliveryMessage.parse(JSON.parse(record.body));
  const delivery = await getDelivery(deliveryId);
  if (!delivery) {
    log().warn('webhook delivery not found (expired?); nothing to send', { deliveryId });
    return 'skipped';
  }
  if (delivery.status === 'DELIVERED') return 'skipped';
  // Strongly consistent: a DELETE or a PATCH answered a moment ago is seen.
  const found = await getWebhook(delivery.webhookId, true);
  const { schedule, timeoutMs, maxTries, maxInFlight, slotWaitSeconds } = settings();
  const isTest = delivery.eventType === 'webhook.test';

  // Made for a deleted webhook whose id a create with the same Idempotency-Key gave again: not this one's.
  const stale = found !== undefined && delivery.createdAt < found.createdAt;
  const refused = stale ? 'not sent: the webhook no longer exists' : await refusal(delivery, found);
  if (!found || refused) {
    if (found?.status === 'DISABLED' && found.disabledReason === 'FAILING' && found.failingSince && found.disabledAt) {
      await tellDisabled(found, found.failingSince, found.disabledAt);
    }
    return refuse(delivery, refused ?? 'not sent');
  }

  // The webhook's fair share: every slot busy means wait in the queue, not here. The slot is taken
  // only if the webhook is still there and on, so a DELETE or a disable answered since is honoured.
  const leaseId = newId('lse');
  const slot = await takeSlot(found.webhookId, leaseId, { nowMs: Date.now(), leaseMs: timeoutMs + 5000, max: maxInFlight, allowDisabled: isTest });
  if (slot === 'gone') return refuse(delivery, 'not sent: the webhook no longer exists');
  if (slot === 'disabled') return refuse(delivery, 'not sent: the webhook is disabled');
  if (slot === 'busy') {
    const wait = Math.max(1, Math.ceil(slotWaitSeconds / 2 + (Math.random() * slotWaitSeconds) / 2));
    await enqueueDelivery(deliveryId, wait);
    metrics.addMetric(metricNames.deferred, MetricUnit.Count, 1);
    return 'deferred';
  }
  let attempt: DeliveryAttempt;
  try {
    const now = new Date();
    const secrets = await Promise.all(signingSecrets(found, now).map((sealed) => openSecret(sealed, found.webhookId, 'sign')));
    attempt = await postDelivery(found.url, secrets, delivery, timeoutMs);
  } finally {
    await releaseSlot(found.webhookId, leaseId).catch((err: unknown) => log().warn('delivery slot not released; it expires', { deliveryId, error: err as Error }));
  }

  if (isDelivered(attempt.statusCode)) {
    await recordAttempt(delivery, attempt, () => ({ status: 'DELIVERED', deliveredAt: attempt.at }));
    // Any streak that began before this try is over (written only if there is one).
    await clearFailure(found.webhookId, new Date(attempt.at));
    // The create's reveal copy is kept no longer than its window.
    if (found.revealSecret && !revealableSecret(found, new Date())) await dropRevealSecret(found.webhookId, found.revealSecret);
    metrics.addMetric(metricNames.delivered, MetricUnit.Count, 1);
    log().info('webhook delivered', { deliveryId, webhookId: delivery.webhookId, statusCode: attempt.statusCode, durationMs: attempt.durationMs });
    return 'delivered';
  }

  metrics.addMetric(metricNames.attemptFailed, MetricUnit.Count, 1);
  // A disabled webhook gets no more tries: its deliveries wait as FAILED for a replay once it is fixed.
  const stop = (await afterFailure(found, new Date(attempt.at))) && !isTest;
  let delaySeconds = 0;
  // Decided on the delivery as it is when the attempt is written: a replay since then started a new series.
  const after = await recordAttempt(delivery, attempt, (current) => {
    if (current.status === 'DELIVERED') return { status: 'DELIVERED' };
    const n = current.tries + 1;
    if (stop || n >= maxTries) return { status: 'FAILED' };
    delaySeconds = retryDelaySeconds(n, schedule);
    return { status: 'RETRYING', nextAttemptAt: new Date(Date.now() + delaySeconds * 1000).toISOString() };
  });
  // A replay delivered it meanwhile: this message is done.
  if (after.status === 'DELIVERED') return 'skipped';
  const fields = { deliveryId, webhookId: delivery.webhookId, try: after.tries, statusCode: attempt.statusCode, error: attempt.error };
  if (after.status === 'FAILED') {
    metrics.addMetric(metricNames.failed, MetricUnit.Count, 1);
    log().warn('webhook delivery failed its last try; FAILED until the factory replays it', fields);
    return 'failed';
  }
  try {
    await delayRedelivery(record.receiptHandle, delaySeconds);
  } catch (err) {
    log().warn('backoff not set; the message returns after the queue visibility timeout', { deliveryId, error: err as Error });
  }
  log().info('webhook delivery try failed; retrying', { ...fields, delaySeconds });
  throw new DeliveryAttemptFailedError(deliveryId, attempt);
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
