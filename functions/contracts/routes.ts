import { createRoute, z } from '@hono/zod-openapi';
import { IdempotencyHeader, ListQuery, problemResponses } from './common.ts';
import { CampaignList, CampaignParams, CampaignView, CreateCampaignBody, Demand } from './campaigns.ts';
import { CreatePreorderBody, PreorderList, PreorderParams, PreorderView } from './preorders.ts';
import { FactoryForecasts, PostSignalsBody, SignalsAccepted } from './signals.ts';

/**
 * Every v1 route, defined once: handlers implement these, and the served OpenAPI
 * document is generated from them. Paths match lib/topology.ts `routes`.
 */
const json = <T extends z.ZodType>(schema: T, description: string) => ({
  description,
  content: { 'application/json': { schema } },
});
const body = <T extends z.ZodType>(schema: T) => ({
  required: true,
  content: { 'application/json': { schema } },
});
const bearer = [{ bearer: [] as string[] }];

export const health = createRoute({
  method: 'get',
  path: '/v1/health',
  tags: ['service'],
  summary: 'Ready once storage, queues and schedules are up',
  responses: {
    200: json(z.object({ status: z.literal('ok'), checks: z.record(z.string(), z.string()) }), 'Up'),
    ...problemResponses(503),
  },
});

export const openapiDocument = createRoute({
  method: 'get',
  path: '/v1/openapi.json',
  tags: ['service'],
  summary: 'This document',
  responses: { 200: json(z.record(z.string(), z.unknown()), 'OpenAPI 3.1') },
});

export const createCampaign = createRoute({
  method: 'post',
  path: '/v1/campaigns',
  tags: ['anchor'],
  summary: 'Open a pre-sale campaign (now, or at opensAt)',
  security: bearer,
  request: { headers: IdempotencyHeader, body: body(CreateCampaignBody) },
  responses: { 201: json(CampaignView, 'Created'), ...problemResponses(400, 401, 403, 409, 413, 415, 429) },
});

export const listCampaigns = createRoute({
  method: 'get',
  path: '/v1/campaigns',
  tags: ['anchor'],
  summary: "The calling anchor's campaigns, newest first",
  security: bearer,
  request: { query: ListQuery.extend({ mine: z.literal('true').openapi({ description: 'Must be true' }) }) },
  responses: { 200: json(CampaignList, 'Campaigns'), ...problemResponses(400, 401, 403, 429) },
});

export const getCampaign = createRoute({
  method: 'get',
  path: '/v1/campaigns/{campaignId}',
  tags: ['anchor'],
  summary: 'A campaign with its per-variant demand; owner-only fields for its anchor',
  security: bearer,
  request: { params: CampaignParams },
  responses: { 200: json(CampaignView, 'Campaign'), ...problemResponses(400, 401, 404, 429) },
});

export const closeCampaign = createRoute({
  method: 'post',
  path: '/v1/campaigns/{campaignId}/close',
  tags: ['anchor'],
  summary: 'Close early: CLOSED, or FAILED when below minTotalQuantity',
  security: bearer,
  request: { params: CampaignParams },
  responses: { 200: json(CampaignView, 'Closed'), ...problemResponses(400, 401, 403, 404, 409, 429) },
});

export const campaignDemand = createRoute({
  method: 'get',
  path: '/v1/campaigns/{campaignId}/demand',
  tags: ['anchor'],
  summary: 'Per-variant ordered, cancelled, batched and waiting units, and totals',
  security: bearer,
  request: { params: CampaignParams },
  responses: { 200: json(Demand, 'Demand'), ...problemResponses(400, 401, 403, 404, 429) },
});

export const placePreorder = createRoute({
  method: 'post',
  path: '/v1/campaigns/{campaignId}/preorders',
  tags: ['buyer'],
  summary: 'Pre-order a variant; 409 when the campaign is not open or its cap is reached',
  security: bearer,
  request: { params: CampaignParams, headers: IdempotencyHeader, body: body(CreatePreorderBody) },
  responses: { 202: json(PreorderView, 'Accepted'), ...problemResponses(400, 401, 403, 404, 409, 413, 415, 429) },
});

export const listPreorders = createRoute({
  method: 'get',
  path: '/v1/preorders',
  tags: ['buyer'],
  summary: "The calling buyer's pre-orders, newest first",
  security: bearer,
  request: { query: ListQuery.extend({ mine: z.literal('true').openapi({ description: 'Must be true' }) }) },
  responses: { 200: json(PreorderList, 'Pre-orders'), ...problemResponses(400, 401, 403, 429) },
});

export const getPreorder = createRoute({
  method: 'get',
  path: '/v1/preorders/{preorderId}',
  tags: ['buyer'],
  summary: 'A pre-order with its status, timeline and notifications',
  security: bearer,
  request: { params: PreorderParams },
  responses: { 200: json(PreorderView, 'Pre-order'), ...problemResponses(400, 401, 403, 404, 429) },
});

export const cancelPreorder = createRoute({
  method: 'post',
  path: '/v1/preorders/{preorderId}/cancel',
  tags: ['buyer'],
  summary: 'Cancel before batching for a full refund; 409 otherwise',
  security: bearer,
  request: { params: PreorderParams },
  responses: { 200: json(PreorderView, 'Refunded'), ...problemResponses(400, 401, 403, 404, 409, 429) },
});

export const postSignals = createRoute({
  method: 'post',
  path: '/v1/signals',
  tags: ['live room'],
  summary: 'Demand signals in bulk (1-500 a call), counted per campaign, variant and minute',
  security: bearer,
  request: { headers: IdempotencyHeader, body: body(PostSignalsBody) },
  responses: { 202: json(SignalsAccepted, 'Accepted'), ...problemResponses(400, 401, 403, 409, 413, 415, 429, 503) },
});

export const factoryForecasts = createRoute({
  method: 'get',
  path: '/v1/factory/forecasts',
  tags: ['factory'],
  summary: "Forecast final demand per variant of the factory's open and scheduled campaigns",
  security: bearer,
  responses: { 200: json(FactoryForecasts, 'Forecasts'), ...problemResponses(401, 403, 429) },
});

export const allRoutes = [
  health,
  openapiDocument,
  createCampaign,
  listCampaigns,
  getCampaign,
  closeCampaign,
  campaignDemand,
  placePreorder,
  listPreorders,
  getPreorder,
  cancelPreorder,
  postSignals,
  factoryForecasts,
] as const;
