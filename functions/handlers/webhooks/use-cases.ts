import {
  createWebhook as createWebhookRecord,
  getDelivery,
  getWebhook,
  listDeliveriesForWebhook,
  listWebhooksForFactory,
  markForReplay,
  undoReplay,
} from '#adapters/webhook-store.ts';
import { enqueueDelivery } from '#adapters/webhook-queue.ts';
import type { CreateWebhookBody } from '#contracts/webhooks.ts';
import { IdempotencyKeyReusedError, InvalidInputError, ServiceUnavailableError } from '#domain/errors.ts';
import {
  checkWebhookUrl,
  DeliveryNotFoundError,
  maxWebhooksPerFactory,
  newWebhookSecret,
  WebhookLimitReachedError,
  WebhookNotFoundError,
  type Delivery,
  type Webhook,
} from '#domain/webhooks.ts';
import { flagSetting } from '#shared/config.ts';
import { newId, requestHash } from '#shared/ids.ts';
import { log } from '#shared/observability.ts';
import type { Principal } from '#shared/principal.ts';

/**
 * The factory's side of webhooks. Every read and change starts from the
 * webhook being the caller's: another factory's webhook, or a delivery of it,
 * is 404 exactly like one that does not exist (no id probing across tenants).
 */

/** The replay could not be queued; the delivery was left as it was. Our outage, so 503. */
export class DeliveryNotQueuedError extends ServiceUnavailableError {
  constructor(cause: unknown) {
    super('The delivery could not be queued for sending; nothing changed, try again', 1, { cause });
  }
}

/** The setting both the API and the deliverer read, so a URL refused at send time was refusable at creation. */
export const allowLoopback = (): boolean => flagSetting('WEBHOOK_ALLOW_LOOPBACK');

const invalidCursor = () => new InvalidInputError('The cursor is not one this list gave out', [{ path: 'cursor', message: 'invalid cursor' }]);

/**
 * Subscribes a URL. With an Idempotency-Key the webhook id comes from
 * (factory, key), so a retry lands on the stored webhook and gets the first
 * response again, secret included; the same key with another body is 409.
 */
export const createOwnWebhook = async (factory: Principal, body: CreateWebhookBody, idempotencyKey: string | undefined): Promise<Webhook> => {
  const verdict = checkWebhookUrl(body.url, { allowLoopback: allowLoopback() });
  if (!verdict.ok) throw new InvalidInputError('The webhook URL is not one c2m delivers to', [verdict.issue]);
  const webhook: Webhook = {
    webhookId: newId('whk', idempotencyKey && `webhook|${factory.id}|${idempotencyKey}`),
    factoryId: factory.id,
    url: verdict.url,
    events: body.events,
    secret: newWebhookSecret(),
    status: 'ACTIVE',
    createdAt: new Date().toISOString(),
  };
  const hash = requestHash({ route: 'POST /v1/factory/webhooks', body });
  const result = await createWebhookRecord(webhook, hash, maxWebhooksPerFactory);
  switch (result.outcome) {
    case 'created':
      log().info('webhook created', { webhookId: webhook.webhookId, events: webhook.events });
      return webhook;
    case 'exists': {
      const { requestHash: storedHash, ...stored } = result.existing;
      if (storedHash !== hash || stored.factoryId !== factory.id) throw new IdempotencyKeyReusedError();
      return stored;
    }
    case 'limit-reached':
      throw new WebhookLimitReachedError(maxWebhooksPerFactory);
  }
};

export const listOwnWebhooks = async (factory: Principal, q: { limit: number; cursor?: string | undefined }) => {
  const page = await listWebhooksForFactory(factory.id, q.limit, q.cursor);
  if (page === 'invalid-cursor') throw invalidCursor();
  return page;
};

export const ownWebhook = async (factory: Principal, webhookId: string): Promise<Webhook> => {
  const found = await getWebhook(webhookId);
  if (!found || found.factoryId !== factory.id) throw new WebhookNotFoundError(webhookId);
  const { requestHash: _h, ...webhook } = found;
  return webhook;
};

export const listOwnDeliveries = async (factory: Principal, webhookId: string, q: { limit: number; cursor?: string | undefined }) => {
  await ownWebhook(factory, webhookId);
  const page = await listDeliveriesForWebhook(webhookId, q.limit, q.cursor);
  if (page === 'invalid-cursor') throw invalidCursor();
  return page;
};

const ownDelivery = async (factory: Principal, webhookId: string, deliveryId: string): Promise<Delivery> => {
  await ownWebhook(factory, webhookId);
  const delivery = await getDelivery(deliveryId);
  if (!delivery || delivery.webhookId !== webhookId || delivery.factoryId !== factory.id) throw new DeliveryNotFoundError(deliveryId);
  return delivery;
};

/**
 * Sends one delivery again, whatever its status: the same payload, so the same
 * event id and sequence (receivers de-duplicate by the id). The delivery is
 * made PENDING first, then queued: queued first, a deliverer could still see
 * DELIVERED and skip it. If the queue cannot be reached the status is put back
 * and the caller gets 503.
 */
export const replayOwnDelivery = async (factory: Principal, webhookId: string, deliveryId: string): Promise<Delivery> => {
  const before = await ownDelivery(factory, webhookId, deliveryId);
  const pending = await markForReplay(deliveryId);
  try {
    await enqueueDelivery(deliveryId);
  } catch (err) {
    log().error('webhook replay not queued', { deliveryId, error: err as Error });
    await undoReplay(before).catch((e: unknown) => log().warn('replayed delivery status not restored', { deliveryId, error: e as Error }));
    throw new DeliveryNotQueuedError(err);
  }
  log().info('webhook delivery replay queued', { webhookId, deliveryId, previousStatus: before.status });
  return pending;
};
