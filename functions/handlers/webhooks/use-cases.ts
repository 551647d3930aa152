import {
  createWebhook as createWebhookRecord,
  deleteWebhook,
  getDelivery,
  getWebhook,
  listDeliveriesForWebhook,
  listWebhooksForFactory,
  markForReplay,
  rotateWebhookSecret,
  undoReplay,
  updateWebhook,
} from '#adapters/webhook-store.ts';
import { enqueueDelivery } from '#adapters/webhook-queue.ts';
import type { CreateWebhookBody, UpdateWebhookBody } from '#contracts/webhooks.ts';
import { DomainError, IdempotencyKeyReusedError, InvalidInputError, ServiceUnavailableError } from '#domain/errors.ts';
import {
  checkWebhookUrl,
  DeliveryNotFoundError,
  maxWebhooksPerFactory,
  isPlainSecret,
  newWebhookSecret,
  revealableSecret,
  rotationOverlapMs,
  SecretNoLongerShownError,
  WebhookLimitReachedError,
  WebhookNotFoundError,
  type Delivery,
  type Webhook,
} from '#domain/webhooks.ts';
import { readFeed } from '#adapters/factory-feed.ts';
import { openSecret, sealSecret } from '#adapters/secret-box.ts';
import { flagSetting } from '#shared/config.ts';
import { newId, requestHash } from '#shared/ids.ts';
import { log } from '#shared/observability.ts';
import { dispatchToFactory } from './dispatcher.ts';
import type { Principal } from '#shared/principal.ts';

/**
 * The factory's side of webhooks. Every read and change starts from the
 * webhook being the caller's: another factory's webhook, or a delivery of it,
 * is 404 exactly like one that does not exist (no id probing across tenants).
 */

/** The replay could not be queued; the delivery was left as it was. Our outage, so 503. */
export class DeliveryNotQueuedError extends ServiceUnavailableError {
  constructor(cause: unknown, message = 'The delivery could not be queued for sending; nothing changed, try again') {
    super(message, 1, { cause });
  }
}

const testNotQueued = (cause: unknown) =>
  new DeliveryNotQueuedError(cause, 'The test could not be sent: try again (an earlier try may still arrive, as its own webhook.test event)');

/** The setting both the API and the deliverer read, so a URL refused at send time was refusable at creation. */
export const allowLoopback = (): boolean => flagSetting('WEBHOOK_ALLOW_LOOPBACK');

const invalidCursor = () => new InvalidInputError('The cursor is not one this list gave out', [{ path: 'cursor', message: 'invalid cursor' }]);

/**
 * Subscribes a URL. With an Idempotency-Key the webhook id comes from
 * (factory, key), so a retry lands on the stored webhook and gets the first
 * response again, secret included; the same key with another body is 409.
 */
export const createOwnWebhook = async (
  factory: Principal,
  body: CreateWebhookBody,
  idempotencyKey: string | undefined,
): Promise<{ webhook: Webhook; secret: string }> => {
  const verdict = checkWebhookUrl(body.url, { allowLoopback: allowLoopback() });
  if (!verdict.ok) throw new InvalidInputError('The webhook URL is not one c2m delivers to', [verdict.issue]);
  const webhookId = newId('whk', idempotencyKey && `webhook|${factory.id}|${idempotencyKey}`);
  const secret = newWebhookSecret();
  const webhook: Webhook = {
    webhookId,
    factoryId: factory.id,
    url: verdict.url,
    events: body.events,
    secret: await sealSecret(secret, webhookId, 'sign'),
    // A retry of this create must get this secret again; only this API can open that copy.
    ...(idempotencyKey && { revealSecret: await sealSecret(secret, webhookId, 'reveal') }),
    status: 'ACTIVE',
    createdAt: new Date().toISOString(),
  };
  const hash = requestHash({ route: 'POST /v1/factory/webhooks', body });
  const result = await createWebhookRecord(webhook, hash, maxWebhooksPerFactory);
  switch (result.outcome) {
    case 'created':
      log().info('webhook created', { webhookId: webhook.webhookId, events: webhook.events });
      return { webhook, secret };
    case 'exists': {
      const { requestHash: storedHash, ...stored } = result.existing;
      if (storedHash !== hash || stored.factoryId !== factory.id) throw new IdempotencyKeyReusedError();
      const reveal = revealableSecret(stored, new Date());
      if (reveal) return { webhook: stored, secret: await openSecret(reveal, stored.webhookId, 'reveal') };
      // A webhook from before secrets were sealed, never rotated, still has its plain secret.
      if (isPlainSecret(stored.secret)) return { webhook: stored, secret: stored.secret };
      throw new SecretNoLongerShownError();
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
  const webhook = await ownWebhook(factory, webhookId);
  const page = await listDeliveriesForWebhook(webhookId, q.limit, q.cursor);
  if (page === 'invalid-cursor') throw invalidCursor();
  // Newest first: what is older than the webhook was made for a deleted one of the same id, and ends the list.
  const items = page.items.filter((d) => d.createdAt >= webhook.createdAt);
  return items.length < page.items.length ? { items, nextCursor: undefined } : page;
};

const ownDelivery = async (factory: Principal, webhookId: string, deliveryId: string): Promise<Delivery> => {
  const webhook = await ownWebhook(factory, webhookId);
  const delivery = await getDelivery(deliveryId);
  // Older than the webhook: made for a deleted one whose id a create with the same Idempotency-Key gave again.
  if (!delivery || delivery.webhookId !== webhookId || delivery.factoryId !== factory.id || delivery.createdAt < webhook.createdAt) {
    throw new DeliveryNotFoundError(deliveryId);
  }
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

/**
 * A factory's change to its own webhook: a new URL is checked as at creation,
 * `enabled: true` also clears a disable for failing (the factory says it fixed
 * its endpoint; deliveries that FAILED meanwhile are replayed by the factory
 * or read from the feed).
 */
export const updateOwnWebhook = async (factory: Principal, webhookId: string, body: UpdateWebhookBody): Promise<Webhook> => {
  let url: string | undefined;
  if (body.url !== undefined) {
    const verdict = checkWebhookUrl(body.url, { allowLoopback: allowLoopback() });
    if (!verdict.ok) throw new InvalidInputError('The webhook URL is not one c2m delivers to', [verdict.issue]);
    url = verdict.url;
  }
  const updated = await updateWebhook(
    webhookId,
    factory.id,
    { ...(url !== undefined && { url }), ...(body.events && { events: body.events }), ...(body.enabled !== undefined && { enable: body.enabled }) },
    new Date(),
  );
  if (updated === 'not-found') throw new WebhookNotFoundError(webhookId);
  log().info('webhook changed', { webhookId, changed: Object.keys(body), status: updated.status });
  return updated;
};

export const deleteOwnWebhook = async (factory: Principal, webhookId: string): Promise<void> => {
  if ((await deleteWebhook(webhookId, factory.id)) === 'not-found') throw new WebhookNotFoundError(webhookId);
  log().info('webhook deleted', { webhookId });
};

/**
 * A new secret; the one it replaces keeps signing for `rotationOverlapMs`, so
 * a receiver can switch at its own pace. Rotating again within the overlap
 * drops the oldest: only the last two secrets ever sign.
 */
export const rotateOwnWebhookSecret = async (factory: Principal, webhookId: string): Promise<{ secret: string; previousSecretExpiresAt: string }> => {
  for (let attempt = 0; attempt < 3; attempt++) {
    const current = await ownWebhook(factory, webhookId);
    const secret = newWebhookSecret();
    const now = new Date();
    const previousSecretExpiresAt = new Date(now.getTime() + rotationOverlapMs).toISOString();
    // A secret stored in the clear (before sealing) is sealed as it becomes the previous one.
    const previous = isPlainSecret(current.secret) ? await sealSecret(current.secret, webhookId, 'sign') : current.secret;
    const rotated = await rotateWebhookSecret(current, await sealSecret(secret, webhookId, 'sign'), previous, previousSecretExpiresAt, now);
    if (rotated !== 'changed') {
      log().info('webhook secret rotated', { webhookId, previousSecretExpiresAt });
      return { secret, previousSecretExpiresAt };
    }
  }
  throw new WebhookChangedError();
};

/** Two rotations of one webhook kept racing: say so rather than guess which secret the caller holds. */
export class WebhookChangedError extends DomainError {
  readonly kind = 'conflict';
  constructor() {
    super('The webhook changed while its secret was being rotated; rotate again');
  }
}

/**
 * Delivers a `webhook.test` to this webhook: numbered in the factory's feed
 * like any event, sent even when the webhook is disabled, and listed with its
 * deliveries. Each call is a new event.
 */
export const testOwnWebhook = async (factory: Principal, webhookId: string): Promise<Delivery> => {
  const webhook = await ownWebhook(factory, webhookId);
  const now = new Date();
  const eventId = `webhook.test:${newId('tst')}`;
  let report;
  try {
    report = await dispatchToFactory(
      {
        factoryId: factory.id,
        eventId,
        type: 'webhook.test',
        occurredAt: now.toISOString(),
        data: { webhookId, url: webhook.url, message: 'A test delivery you asked for. Answer 2xx.' },
      },
      now,
      webhook,
    );
  } catch (err) {
    log().error('webhook test not queued', { webhookId, error: err as Error });
    throw testNotQueued(err);
  }
  const [delivery] = report.deliveries;
  if (!delivery) throw testNotQueued(new Error('no delivery made'));
  return delivery;
};

/** The factory's events after `after`, from its feed. */
export const readOwnFeed = (factory: Principal, q: { after: number; limit: number }) => readFeed(factory.id, q.after, q.limit);
