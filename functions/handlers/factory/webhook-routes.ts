import * as routes from '#contracts/routes/webhooks.ts';
import { FactoryEventType, WebhookEventType } from '#contracts/webhooks.ts';
import type { Delivery, Webhook } from '#domain/webhooks.ts';
import { allow, caller, type createApi } from '../http/app.ts';
import {
  createOwnWebhook,
  deleteOwnWebhook,
  listOwnDeliveries,
  listOwnWebhooks,
  readOwnFeed,
  replayOwnDelivery,
  rotateOwnWebhookSecret,
  testOwnWebhook,
  updateOwnWebhook,
} from '../webhooks/use-cases.ts';

/**
 * The factory's webhook routes, mounted on the factory API. Thin: validation
 * is the contract's, logic is in handlers/webhooks/use-cases.ts, and these map
 * records to views (the secret appears only in the 201).
 */
const factory = [allow('factory')];

const eventTypes = (events: readonly string[]) => events.map((e) => WebhookEventType.parse(e));

/** Never a secret, sealed or not: the 201 and a rotation's 200 show one once. */
const webhookView = (w: Webhook) => ({
  webhookId: w.webhookId,
  url: w.url,
  events: eventTypes(w.events),
  status: w.status,
  ...(w.disabledReason && { disabledReason: w.disabledReason }),
  ...(w.disabledAt && { disabledAt: w.disabledAt }),
  ...(w.failingSince && { failingSince: w.failingSince }),
  ...(w.secretRotatedAt && { secretRotatedAt: w.secretRotatedAt }),
  ...(w.previousSecretExpiresAt && { previousSecretExpiresAt: w.previousSecretExpiresAt }),
  createdAt: w.createdAt,
  ...(w.updatedAt && { updatedAt: w.updatedAt }),
});

const deliveryView = (d: Delivery) => ({
  deliveryId: d.deliveryId,
  webhookId: d.webhookId,
  eventId: d.eventId,
  eventType: FactoryEventType.parse(d.eventType),
  sequence: d.sequence,
  status: d.status,
  attempts: d.attempts.map((a) => ({
    at: a.at,
    ...(a.statusCode !== undefined && { statusCode: a.statusCode }),
    ...(a.error !== undefined && { error: a.error }),
    durationMs: a.durationMs,
  })),
  ...(d.nextAttemptAt && { nextAttemptAt: d.nextAttemptAt }),
  createdAt: d.createdAt,
  ...(d.deliveredAt && { deliveredAt: d.deliveredAt }),
});

export const webhookRoutes = (app: ReturnType<typeof createApi>) =>
  app
    .openapi({ ...routes.createWebhook, middleware: factory }, async (c) => {
      const { webhook, secret } = await createOwnWebhook(caller(c), c.req.valid('json'), c.req.valid('header')['idempotency-key']);
      return c.json({ ...webhookView(webhook), secret }, 201);
    })
    .openapi({ ...routes.listWebhooks, middleware: factory }, async (c) => {
      const page = await listOwnWebhooks(caller(c), c.req.valid('query'));
      return c.json({ items: page.items.map(webhookView), ...(page.nextCursor && { nextCursor: page.nextCursor }) }, 200);
    })
    .openapi({ ...routes.listDeliveries, middleware: factory }, async (c) => {
      const page = await listOwnDeliveries(caller(c), c.req.valid('param').webhookId, c.req.valid('query'));
      return c.json({ items: page.items.map(deliveryView), ...(page.nextCursor && { nextCursor: page.nextCursor }) }, 200);
    })
    .openapi({ ...routes.retryDelivery, middleware: factory }, async (c) => {
      const { webhookId, deliveryId } = c.req.valid('param');
      return c.json(deliveryView(await replayOwnDelivery(caller(c), webhookId, deliveryId)), 202);
    })
    .openapi({ ...routes.updateWebhook, middleware: factory }, async (c) => {
      return c.json(webhookView(await updateOwnWebhook(caller(c), c.req.valid('param').webhookId, c.req.valid('json'))), 200);
    })
    .openapi({ ...routes.deleteWebhook, middleware: factory }, async (c) => {
      await deleteOwnWebhook(caller(c), c.req.valid('param').webhookId);
      return c.body(null, 204);
    })
    .openapi({ ...routes.rotateWebhookSecret, middleware: factory }, async (c) => {
      return c.json(await rotateOwnWebhookSecret(caller(c), c.req.valid('param').webhookId), 200);
    })
    .openapi({ ...routes.testWebhook, middleware: factory }, async (c) => {
      return c.json(deliveryView(await testOwnWebhook(caller(c), c.req.valid('param').webhookId)), 202);
    })
    .openapi({ ...routes.listFactoryEvents, middleware: factory }, async (c) => {
      const page = await readOwnFeed(caller(c), c.req.valid('query'));
      return c.json({ items: page.items, nextAfter: page.nextAfter }, 200);
    });
