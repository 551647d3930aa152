import { createRoute } from '../route.ts';
import { IdempotencyHeader, ListQuery, problemResponses } from '../common.ts';
import { CreateWebhookBody, DeliveryList, DeliveryListQuery, DeliveryParams, DeliveryView, FeedPage, FeedQuery, SecretRotated, UpdateWebhookBody, WebhookCreated, WebhookList, WebhookParams, WebhookView } from '../webhooks.ts';
import { json, body, bearer } from './common.ts';

export const createWebhook = createRoute({
  operationId: 'createWebhook',
  method: 'post',
  path: '/v1/factory/webhooks',
  tags: ['factory'],
  summary: 'Subscribe a URL to events about the factory\'s batches and shipments; the secret is shown once',
  security: bearer,
  request: { headers: IdempotencyHeader, body: body(CreateWebhookBody) },
  responses: { 201: json(WebhookCreated, 'Created'), ...problemResponses(400, 401, 403, 409, 413, 415, 429) },
});
export const listWebhooks = createRoute({
  operationId: 'listWebhooks',
  method: 'get',
  path: '/v1/factory/webhooks',
  tags: ['factory'],
  summary: "The factory's webhooks, newest first",
  security: bearer,
  request: { query: ListQuery },
  responses: { 200: json(WebhookList, 'Webhooks'), ...problemResponses(400, 401, 403, 429) },
});
export const listDeliveries = createRoute({
  operationId: 'listDeliveries',
  method: 'get',
  path: '/v1/factory/webhooks/{webhookId}/deliveries',
  tags: ['factory'],
  summary: 'Each delivery of the webhook with its attempts, newest first',
  security: bearer,
  request: { params: WebhookParams, query: DeliveryListQuery },
  responses: { 200: json(DeliveryList, 'Deliveries'), ...problemResponses(400, 401, 403, 404, 429) },
});
export const retryDelivery = createRoute({
  operationId: 'retryDelivery',
  method: 'post',
  path: '/v1/factory/webhooks/{webhookId}/deliveries/{deliveryId}/retry',
  tags: ['factory'],
  summary: 'Send one delivery again, whatever its status (same event id and sequence)',
  security: bearer,
  request: { params: DeliveryParams },
  responses: { 202: json(DeliveryView, 'Queued'), ...problemResponses(400, 401, 403, 404, 429, 503) },
});
export const updateWebhook = createRoute({
  operationId: 'updateWebhook',
  method: 'patch',
  path: '/v1/factory/webhooks/{webhookId}',
  tags: ['factory'],
  summary: 'Change where a webhook points, what it hears, or switch it off and on (on again clears a disable for failing)',
  security: bearer,
  request: { params: WebhookParams, body: body(UpdateWebhookBody) },
  responses: { 200: json(WebhookView, 'Changed'), ...problemResponses(400, 401, 403, 404, 413, 415, 429) },
});
export const deleteWebhook = createRoute({
  operationId: 'deleteWebhook',
  method: 'delete',
  path: '/v1/factory/webhooks/{webhookId}',
  tags: ['factory'],
  summary: 'Delete a webhook: nothing more is delivered to it, queued deliveries included',
  security: bearer,
  request: { params: WebhookParams },
  responses: { 204: { description: 'Deleted' }, ...problemResponses(400, 401, 403, 404, 429) },
});
export const rotateWebhookSecret = createRoute({
  operationId: 'rotateWebhookSecret',
  method: 'post',
  path: '/v1/factory/webhooks/{webhookId}/rotate-secret',
  tags: ['factory'],
  summary: 'A new signing secret, shown once; for 24 h deliveries are signed with both (two v1= in C2M-Signature)',
  security: bearer,
  request: { params: WebhookParams },
  responses: { 200: json(SecretRotated, 'Rotated'), ...problemResponses(400, 401, 403, 404, 409, 429) },
});
export const testWebhook = createRoute({
  operationId: 'testWebhook',
  method: 'post',
  path: '/v1/factory/webhooks/{webhookId}/test',
  tags: ['factory'],
  summary: 'Deliver a webhook.test event to this webhook now (also when disabled, to check a fix before enabling it)',
  security: bearer,
  request: { params: WebhookParams },
  responses: { 202: json(DeliveryView, 'Queued'), ...problemResponses(400, 401, 403, 404, 429, 503) },
});
export const listFactoryEvents = createRoute({
  operationId: 'listFactoryEvents',
  method: 'get',
  path: '/v1/factory/events',
  tags: ['factory'],
  summary: "The factory's events after a sequence number, in order: the same ids and numbers its webhooks carry, for factories that poll",
  security: bearer,
  request: { query: FeedQuery },
  responses: { 200: json(FeedPage, 'Events'), ...problemResponses(400, 401, 403, 429) },
});
