import { getFactory } from '#adapters/factory-store.ts';
import { isActive } from '#domain/factories.ts';
import { BatchProcessor, EventType, processPartialResponse } from '@aws-lambda-powertools/batch';
import type { Context, SQSEvent, SQSRecord } from 'aws-lambda';
import { activeWebhooksFor, createDelivery } from '#adapters/webhook-store.ts';
import { enqueueDelivery } from '#adapters/webhook-queue.ts';
import { numberEvent } from '#adapters/factory-feed.ts';
import { EventNotValidError, FactoryEventEnvelope, parseEnvelope } from '#contracts/messages.ts';
import type { FactoryEventDataOf, FactoryEventType } from '#contracts/webhooks.ts';
import type { Delivery, Webhook } from '#domain/webhooks.ts';
import { newId } from '#shared/ids.ts';
import { flushMetrics, log, logger, withLogKeys } from '#shared/observability.ts';

/** One delivery per (webhook, event): a redelivered event finds the delivery it made the first time. */
export const deliveryIdFor = (webhookId: string, eventId: string): string => newId('dlv', `${webhookId}|${eventId}`);

export interface DispatchReport {
  /** The event's number in the factory's feed (undefined when it has no factory, or one not active). */
  readonly sequence?: number;
  readonly webhooks: number;
  readonly created: number;
  readonly queued: number;
}

/** An event about one factory, as its feed and its webhooks carry it: `data` is of the schema of its type. */
export interface FactoryEvent<T extends FactoryEventType = FactoryEventType> {
  readonly factoryId: string;
  readonly eventId: string;
  readonly type: T;
  readonly occurredAt: string;
  readonly data: FactoryEventDataOf<T>;
}

/**
 * Numbers the event in the factory's feed (once, however often it comes), then
 * makes one delivery per active webhook subscribed to its type, each carrying
 * that number, and queues it. A delivery that already exists is queued again
 * only while PENDING (its first send may have been lost); one that is RETRYING
 * has its message in the queue already, and the deliverer skips a DELIVERED one.
 * Every webhook of the factory carries the event under the same number, and
 * `GET /v1/factory/events` lists it under that number too.
 */
export const dispatchToFactory = async <T extends FactoryEventType>(event: FactoryEvent<T>, now = new Date(), to?: Webhook): Promise<DispatchReport & { deliveries: Delivery[] }> => {
  const { factoryId, eventId, type } = event;
  const { sequence } = await numberEvent(event, now);
  // `to`: one webhook, whatever it subscribed to or its status (a `webhook.test` the factory asked for).
  const webhooks = to ? [to] : await activeWebhooksFor(factoryId, type);
  const deliveries: Delivery[] = [];
  let created = 0;
  let queued = 0;
  for (const webhook of webhooks) {
    const result = await createDelivery(
      {
        deliveryId: deliveryIdFor(webhook.webhookId, eventId),
        webhookId: webhook.webhookId,
        factoryId,
        eventId,
        eventType: type,
        sequence,
        occurredAt: event.occurredAt,
        data: event.data,
      },
      now,
    );
    if (result.created) created++;
    deliveries.push(result.delivery);
    if (result.created || result.delivery.status === 'PENDING') {
      await enqueueDelivery(result.delivery.deliveryId);
      queued++;
    }
  }
  log().info('factory event dispatched', { eventId, type, factoryId, sequence, webhooks: webhooks.length, created, queued });
  return { sequence, webhooks: webhooks.length, created, queued, deliveries };
};

/** A factory event from the bus: to the factory's feed and webhooks, unless it names no factory or one no longer active. */
export const dispatchEvent = async (event: FactoryEventEnvelope, now = new Date()): Promise<DispatchReport> => {
  const { detail } = event;
  const type = event['detail-type'];
  // Only `preorder.address_changed` may name no factory: a change made before the batch reached one.
  if (!detail.factoryId) {
    log().info('factory event without factoryId; no feed or webhook to deliver to', { eventId: detail.eventId, type });
    return { webhooks: 0, created: 0, queued: 0 };
  }
  // A revoked factory hears nothing more: its events may carry buyers' addresses.
  if (!isActive(await getFactory(detail.factoryId))) {
    log().info('factory not active; its feed and webhooks do not get this event', { eventId: detail.eventId, type, factoryId: detail.factoryId });
    return { webhooks: 0, created: 0, queued: 0 };
  }
  return dispatchToFactory({ factoryId: detail.factoryId, eventId: detail.eventId, type, occurredAt: detail.occurredAt, data: detail }, now);
};

/** A message that is not a factory event fails, and after its retries waits in the dead-letter queue (alarmed) for a look. */
const parse = (record: SQSRecord): FactoryEventEnvelope => {
  let body: unknown;
  try {
    body = JSON.parse(record.body);
  } catch {
    body = undefined;
  }
  try {
    return parseEnvelope(FactoryEventEnvelope, body);
  } catch (err) {
    log().error('webhook-events message is not a factory event; it will reach the dead-letter queue', {
      messageId: record.messageId,
      ...(err instanceof EventNotValidError && { type: err.eventType, issues: err.issues.slice(0, 5) }),
    });
    throw err;
  }
};

/**
 * The webhook-events consumer. Records are handled in order, not in parallel:
 * events of one factory then take their numbers in the order they arrived,
 * and do not contend for the factory's sequence counter among themselves.
 */
export const handler = async (event: SQSEvent, context: Context) => {
  logger.addContext(context);
  try {
    return await withLogKeys({ function: context.functionName, awsRequestId: context.awsRequestId }, () =>
      processPartialResponse(
        event,
        async (record: SQSRecord) => {
          await dispatchEvent(parse(record));
        },
        // One per invocation: outside Lambda (the local runtime runs batches concurrently) a shared one mixes their records.
        new BatchProcessor(EventType.SQS),
        { context, processInParallel: false },
      ),
    );
  } finally {
    flushMetrics();
  }
};
