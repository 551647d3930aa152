import * as z from '../zod.ts';
import { createRoute } from '../route.ts';
import { CampaignParams } from '../campaigns.ts';
import { IdempotencyHeader, ListQuery, problemResponses } from '../common.ts';
import { CreatePreorderBody, PreorderList, PreorderParams, PreorderView, ShippingAddress, SwitchVariantBody } from '../preorders.ts';
import { json, body, bearer } from './common.ts';

export const placePreorder = createRoute({
  operationId: 'placePreorder',
  method: 'post',
  path: '/v1/campaigns/{campaignId}/preorders',
  tags: ['buyer'],
  summary: 'Pre-order a variant; 409 when the campaign is not open or its cap is reached',
  security: bearer,
  request: { params: CampaignParams, headers: IdempotencyHeader, body: body(CreatePreorderBody) },
  responses: { 202: json(PreorderView, 'Accepted'), ...problemResponses(400, 401, 403, 404, 409, 413, 415, 429) },
});
export const listPreorders = createRoute({
  operationId: 'listPreorders',
  method: 'get',
  path: '/v1/preorders',
  tags: ['buyer'],
  summary: "The calling buyer's pre-orders, newest first",
  security: bearer,
  request: { query: ListQuery.extend({ mine: z.literal('true').openapi({ description: 'Must be true' }) }) },
  responses: { 200: json(PreorderList, 'Pre-orders'), ...problemResponses(400, 401, 403, 429) },
});
export const getPreorder = createRoute({
  operationId: 'getPreorder',
  method: 'get',
  path: '/v1/preorders/{preorderId}',
  tags: ['buyer'],
  summary: 'A pre-order with its status, timeline and notifications',
  security: bearer,
  request: { params: PreorderParams },
  responses: { 200: json(PreorderView, 'Pre-order'), ...problemResponses(400, 401, 403, 404, 429) },
});
export const cancelPreorder = createRoute({
  operationId: 'cancelPreorder',
  method: 'post',
  path: '/v1/preorders/{preorderId}/cancel',
  tags: ['buyer'],
  summary: 'Cancel before batching for a full refund; 409 otherwise',
  security: bearer,
  request: { params: PreorderParams },
  responses: { 200: json(PreorderView, 'Refunded'), ...problemResponses(400, 401, 403, 404, 409, 429) },
});
export const changeShippingAddress = createRoute({
  operationId: 'changeShippingAddress',
  method: 'put',
  path: '/v1/preorders/{preorderId}/shipping-address',
  tags: ['buyer'],
  summary: "Ship the pre-order to another address; 409 once a unit of it has shipped, or after ten changes. A batched pre-order's factory hears of it (preorder.address_changed)",
  security: bearer,
  request: { params: PreorderParams, body: body(ShippingAddress) },
  responses: { 200: json(PreorderView, 'Changed'), ...problemResponses(400, 401, 403, 404, 409, 413, 415, 429) },
});
export const switchVariant = createRoute({
  operationId: 'switchVariant',
  method: 'post',
  path: '/v1/preorders/{preorderId}/switch',
  tags: ['buyer'],
  summary:
    'Move a pre-order whose variant missed its own minimum to a variant that made its own, keeping its place in line, until switchBy; 409 otherwise',
  security: bearer,
  request: { params: PreorderParams, body: body(SwitchVariantBody) },
  responses: { 200: json(PreorderView, 'Switched'), ...problemResponses(400, 401, 403, 404, 409, 413, 415, 429) },
});
