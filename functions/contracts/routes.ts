import { createRoute, z } from '@hono/zod-openapi';
import { IdempotencyHeader, ListQuery, problemResponses } from './common.ts';
import {
  CampaignBatchList,
  CampaignList,
  CampaignParams,
  CampaignPreorderList,
  CampaignPreordersQuery,
  CampaignView,
  CreateCampaignBody,
  Demand,
  DemandHistory,
  DemandHistoryQuery,
  UpdateCampaignBody,
} from './campaigns.ts';
import { CreatePreorderBody, PreorderList, PreorderParams, PreorderView, ShippingAddress, SwitchVariantBody } from './preorders.ts';
import { PostSignalsBody, SignalsAccepted } from './signals.ts';
import { FactoryList, FactoryParams, FactoryRegistered, FactoryView, RegisterFactoryBody } from './operator.ts';
import {
  AcceptBatchBody,
  AddParcelsBody,
  CloseShortBody,
  TrustView,
  BatchList,
  BatchListQuery,
  BatchParams,
  BatchView,
  CreateShipmentBody,
  FactoryForecastList,
  FactoryForecastsQuery,
  Manifest,
  ParcelParams,
  ProgressBody,
  RejectBatchBody,
  ShipmentList,
  ShipmentParams,
  ShipmentView,
} from './factory.ts';
import {
  CreateWebhookBody,
  DeliveryList,
  DeliveryListQuery,
  DeliveryParams,
  DeliveryView,
  FeedPage,
  FeedQuery,
  SecretRotated,
  UpdateWebhookBody,
  WebhookCreated,
  WebhookList,
  WebhookParams,
  WebhookView,
} from './webhooks.ts';

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
/** Every route but health and the document: an access token from the issuer (see the `oidc` security scheme). */
const bearer = [{ oidc: [] as string[] }];

export const health = createRoute({
  operationId: 'getHealth',
  method: 'get',
  path: '/v1/health',
  tags: ['service'],
  summary: 'Ready once storage, queues and schedules are up',
  security: [],
  responses: {
    200: json(z.object({ status: z.literal('ok'), checks: z.record(z.string(), z.string()) }), 'Up'),
    ...problemResponses(429, 503),
  },
});

export const openapiDocument = createRoute({
  operationId: 'getOpenApiDocument',
  method: 'get',
  path: '/v1/openapi.json',
  tags: ['service'],
  summary: 'This document',
  security: [],
  responses: { 200: json(z.record(z.string(), z.unknown()), 'OpenAPI 3.1'), ...problemResponses(429) },
});

export const createCampaign = createRoute({
  operationId: 'createCampaign',
  method: 'post',
  path: '/v1/campaigns',
  tags: ['anchor'],
  summary: 'Open a pre-sale campaign (now, or at opensAt)',
  security: bearer,
  request: { headers: IdempotencyHeader, body: body(CreateCampaignBody) },
  responses: { 201: json(CampaignView, 'Created'), ...problemResponses(400, 401, 403, 409, 413, 415, 429) },
});

export const listCampaigns = createRoute({
  operationId: 'listCampaigns',
  method: 'get',
  path: '/v1/campaigns',
  tags: ['anchor'],
  summary: "The calling anchor's campaigns, newest first",
  security: bearer,
  request: { query: ListQuery.extend({ mine: z.literal('true').openapi({ description: 'Must be true' }) }) },
  responses: { 200: json(CampaignList, 'Campaigns'), ...problemResponses(400, 401, 403, 429) },
});

export const getCampaign = createRoute({
  operationId: 'getCampaign',
  method: 'get',
  path: '/v1/campaigns/{campaignId}',
  tags: ['anchor'],
  summary: 'A campaign with its per-variant demand; owner-only fields for its anchor',
  security: bearer,
  request: { params: CampaignParams },
  responses: { 200: json(CampaignView, 'Campaign'), ...problemResponses(400, 401, 404, 429) },
});

export const updateCampaign = createRoute({
  operationId: 'updateCampaign',
  method: 'patch',
  path: '/v1/campaigns/{campaignId}',
  tags: ['anchor'],
  summary: 'Change a campaign: any term before it opens; while OPEN only a higher cap, a later close or more live rooms (409 naming the field otherwise)',
  security: bearer,
  request: { params: CampaignParams, body: body(UpdateCampaignBody) },
  responses: { 200: json(CampaignView, 'Changed'), ...problemResponses(400, 401, 403, 404, 409, 413, 415, 429) },
});

export const closeCampaign = createRoute({
  operationId: 'closeCampaign',
  method: 'post',
  path: '/v1/campaigns/{campaignId}/close',
  tags: ['anchor'],
  summary: 'Close early: CLOSED, or FAILED when below minTotalQuantity',
  security: bearer,
  request: { params: CampaignParams },
  responses: { 200: json(CampaignView, 'Closed'), ...problemResponses(400, 401, 403, 404, 409, 429) },
});

export const campaignDemand = createRoute({
  operationId: 'getCampaignDemand',
  method: 'get',
  path: '/v1/campaigns/{campaignId}/demand',
  tags: ['anchor'],
  summary: 'Per-variant ordered, cancelled, batched and waiting units, and totals',
  security: bearer,
  request: { params: CampaignParams },
  responses: { 200: json(Demand, 'Demand'), ...problemResponses(400, 401, 403, 404, 429) },
});

export const campaignBatches = createRoute({
  operationId: 'listCampaignBatches',
  method: 'get',
  path: '/v1/campaigns/{campaignId}/batches',
  tags: ['anchor'],
  summary: "The campaign's batches: factory status, production per sku, shipments, delays, refunds and compensation",
  security: bearer,
  request: { params: CampaignParams },
  responses: { 200: json(CampaignBatchList, 'Batches'), ...problemResponses(400, 401, 403, 404, 429) },
});

export const campaignPreorders = createRoute({
  operationId: 'listCampaignPreorders',
  method: 'get',
  path: '/v1/campaigns/{campaignId}/preorders',
  tags: ['anchor'],
  summary: "The campaign's pre-orders, newest first, without addresses or phones; Accept: text/csv for CSV",
  security: bearer,
  request: { params: CampaignParams, query: CampaignPreordersQuery },
  responses: {
    200: {
      description: 'Pre-orders',
      headers: z.object({ link: z.string().optional().openapi({ description: 'CSV only: <…?cursor=…>; rel="next" while there is more' }) }),
      content: {
        'application/json': { schema: CampaignPreorderList },
        'text/csv': { schema: z.string().openapi({ description: 'UTF-8 with BOM, a header row; cells that a spreadsheet would run as a formula are escaped' }) },
      },
    },
    ...problemResponses(400, 401, 403, 404, 429),
  },
});

export const campaignDemandHistory = createRoute({
  operationId: 'getCampaignDemandHistory',
  method: 'get',
  path: '/v1/campaigns/{campaignId}/demand/history',
  tags: ['anchor'],
  summary: 'Per-minute net ordered units, signals and forecast per variant, behind the console chart',
  security: bearer,
  request: { params: CampaignParams, query: DemandHistoryQuery },
  responses: { 200: json(DemandHistory, 'History'), ...problemResponses(400, 401, 403, 404, 429) },
});

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

export const postSignals = createRoute({
  operationId: 'postSignals',
  method: 'post',
  path: '/v1/signals',
  tags: ['live room'],
  summary: 'Demand signals in bulk (1-500 a call), counted per campaign, variant and minute',
  security: bearer,
  request: { headers: IdempotencyHeader, body: body(PostSignalsBody) },
  responses: { 202: json(SignalsAccepted, 'Accepted'), ...problemResponses(400, 401, 403, 409, 413, 415, 429, 503) },
});

export const factoryForecasts = createRoute({
  operationId: 'listFactoryForecasts',
  method: 'get',
  path: '/v1/factory/forecasts',
  tags: ['factory'],
  summary: "Forecast final demand per variant of the factory's open and scheduled campaigns, newest first",
  security: bearer,
  request: { query: FactoryForecastsQuery },
  responses: { 200: json(FactoryForecastList, 'Forecasts'), ...problemResponses(400, 401, 403, 429) },
});

export const listBatches = createRoute({
  operationId: 'listFactoryBatches',
  method: 'get',
  path: '/v1/factory/batches',
  tags: ['factory'],
  summary: "The calling factory's batches, newest first, optionally of one status",
  security: bearer,
  request: { query: BatchListQuery },
  responses: { 200: json(BatchList, 'Batches'), ...problemResponses(400, 401, 403, 429) },
});

export const getBatch = createRoute({
  operationId: 'getFactoryBatch',
  method: 'get',
  path: '/v1/factory/batches/{batchId}',
  tags: ['factory'],
  summary: 'One of the factory\'s batches with its lines and production counts',
  security: bearer,
  request: { params: BatchParams },
  responses: { 200: json(BatchView, 'Batch'), ...problemResponses(400, 401, 403, 404, 429) },
});

export const batchManifest = createRoute({
  operationId: 'getBatchManifest',
  method: 'get',
  path: '/v1/factory/batches/{batchId}/manifest',
  tags: ['factory'],
  summary: "The batch's pre-orders with quantity and shipping address, for drop-shipping (oldest first)",
  security: bearer,
  request: { params: BatchParams, query: ListQuery },
  responses: {
    200: {
      description: 'Manifest',
      headers: z.object({ link: z.string().optional().openapi({ description: 'CSV only: <…?cursor=…>; rel="next" while there is more' }) }),
      content: {
        'application/json': { schema: Manifest },
        'text/csv': {
          schema: z.string().openapi({
            description: 'Accept: text/csv. UTF-8 with BOM, a header row, the address in columns; cells a spreadsheet would run as a formula are escaped',
          }),
        },
      },
    },
    ...problemResponses(400, 401, 403, 404, 409, 429),
  },
});

export const listBatchShipments = createRoute({
  operationId: 'listBatchShipments',
  method: 'get',
  path: '/v1/factory/batches/{batchId}/shipments',
  tags: ['factory'],
  summary: "The batch's lots with whose units each holds (the lot → buyer trace), oldest first",
  security: bearer,
  request: { params: BatchParams },
  responses: { 200: json(ShipmentList, 'Shipments'), ...problemResponses(400, 401, 403, 404, 429) },
});

export const getShipment = createRoute({
  operationId: 'getShipment',
  method: 'get',
  path: '/v1/factory/shipments/{shipmentId}',
  tags: ['factory'],
  summary: 'A lot with whose units it holds (allocations)',
  security: bearer,
  request: { params: ShipmentParams },
  responses: { 200: json(ShipmentView, 'Shipment'), ...problemResponses(400, 401, 403, 404, 429) },
});

export const acceptBatch = createRoute({
  operationId: 'acceptBatch',
  method: 'post',
  path: '/v1/factory/batches/{batchId}/accept',
  tags: ['factory'],
  summary: 'Accept a released batch, committing to a ship date',
  security: bearer,
  request: { params: BatchParams, body: body(AcceptBatchBody) },
  responses: { 200: json(BatchView, 'Accepted'), ...problemResponses(400, 401, 403, 404, 409, 413, 415, 429) },
});

export const rejectBatch = createRoute({
  operationId: 'rejectBatch',
  method: 'post',
  path: '/v1/factory/batches/{batchId}/reject',
  tags: ['factory'],
  summary: "Decline a batch: its pre-orders go to the campaign's backup factory, or are refunded",
  security: bearer,
  request: { params: BatchParams, body: body(RejectBatchBody) },
  responses: { 200: json(BatchView, 'Rejected'), ...problemResponses(400, 401, 403, 404, 409, 413, 415, 429) },
});

export const reportProgress = createRoute({
  operationId: 'reportProgress',
  method: 'post',
  path: '/v1/factory/batches/{batchId}/progress',
  tags: ['factory'],
  summary: 'Cumulative produced and QC counts, for one sku or the batch in total; never backwards, never past the batch',
  security: bearer,
  request: { params: BatchParams, body: body(ProgressBody) },
  responses: { 200: json(BatchView, 'Batch'), ...problemResponses(400, 401, 403, 404, 409, 413, 415, 429) },
});

export const createShipment = createRoute({
  operationId: 'createShipment',
  method: 'post',
  path: '/v1/factory/batches/{batchId}/shipments',
  tags: ['factory'],
  summary: 'Ship a lot (partial shipments are normal); never more than QC passed',
  description:
    "Units are allocated to the batch's pre-orders oldest first. One buyer's order arrives in at most 50 lots: a lot that would be the 50th to reach an order without finishing it is a 409 whose `errors` name the item and what it must carry (`params.atLeast`, the units that finish that order).",
  security: bearer,
  request: { params: BatchParams, headers: IdempotencyHeader, body: body(CreateShipmentBody) },
  responses: { 201: json(ShipmentView, 'Shipped'), ...problemResponses(400, 401, 403, 404, 409, 413, 415, 429) },
});

export const confirmDelivery = createRoute({
  operationId: 'confirmDelivery',
  method: 'post',
  path: '/v1/factory/shipments/{shipmentId}/delivered',
  tags: ['factory'],
  summary: 'The carrier confirmed delivery of a shipment (repeating it changes nothing)',
  security: bearer,
  request: { params: ShipmentParams },
  responses: { 200: json(ShipmentView, 'Delivered'), ...problemResponses(400, 401, 403, 404, 429) },
});

export const addShipmentParcels = createRoute({
  operationId: 'addShipmentParcels',
  method: 'post',
  path: '/v1/factory/shipments/{shipmentId}/parcels',
  tags: ['factory'],
  summary: "Name each buyer's own parcel of a lot (drop-shipping): all or none; the same parcel again changes nothing, a new tracking number replaces it until delivered (then 409), at most 5 labels a parcel",
  description:
    "Each parcel is for a pre-order allocated in the lot (else 400 naming parcels.<i>.preorderId), at most once per request. Pre-orders not named keep the lot's tracking; " +
    "a buyer whose units already shipped is told their parcel's tracking number. A lot or parcel already delivered takes no change (409), only the same parcel again (200).",
  security: bearer,
  request: { params: ShipmentParams, body: body(AddParcelsBody) },
  responses: { 200: json(ShipmentView, 'Shipment with its parcels'), ...problemResponses(400, 401, 403, 404, 409, 413, 415, 429) },
});

export const confirmParcelDelivered = createRoute({
  operationId: 'confirmParcelDelivered',
  method: 'post',
  path: '/v1/factory/shipments/{shipmentId}/parcels/{preorderId}/delivered',
  tags: ['factory'],
  summary: "The carrier delivered one buyer's parcel: that buyer's units are delivered (repeating it changes nothing)",
  description: "404 when the lot has no parcel for the pre-order. The last parcel of a lot whose every buyer has one delivers the lot too; a lot confirmed delivered as a whole delivered its parcels.",
  security: bearer,
  request: { params: ParcelParams },
  responses: { 200: json(ShipmentView, 'Delivered'), ...problemResponses(400, 401, 403, 404, 429) },
});

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

export const closeBatchShort = createRoute({
  operationId: 'closeBatchShort',
  method: 'post',
  path: '/v1/factory/batches/{batchId}/close-short',
  tags: ['factory'],
  summary: 'The factory will make no more: COMPLETED with what shipped; the units that never will are refunded to their buyers',
  security: bearer,
  request: { params: BatchParams, body: body(CloseShortBody) },
  responses: { 200: json(BatchView, 'Completed'), ...problemResponses(400, 401, 403, 404, 409, 413, 415, 429) },
});

export const factoryTrust = createRoute({
  operationId: 'getFactoryTrust',
  method: 'get',
  path: '/v1/factory/trust',
  tags: ['factory'],
  summary: "The calling factory's on-time, QC and refund figures",
  security: bearer,
  responses: { 200: json(TrustView, 'Trust'), ...problemResponses(401, 403, 429) },
});

export const campaignTrust = createRoute({
  operationId: 'getCampaignTrust',
  method: 'get',
  path: '/v1/campaigns/{campaignId}/trust',
  tags: ['anchor'],
  summary: 'On-time ship rate, QC pass rate, refund rate and median days from pre-order to delivery',
  security: bearer,
  request: { params: CampaignParams },
  responses: { 200: json(TrustView, 'Trust'), ...problemResponses(400, 401, 404, 429) },
});

export const registerFactory = createRoute({
  operationId: 'registerFactory',
  method: 'post',
  path: '/v1/operator/factories',
  tags: ['operator'],
  summary: 'Register a factory: creates its OAuth2 client (client credentials); the secret is shown once',
  security: bearer,
  request: { body: body(RegisterFactoryBody) },
  responses: { 201: json(FactoryRegistered, 'Registered'), ...problemResponses(400, 401, 403, 409, 413, 415, 429) },
});

export const listFactories = createRoute({
  operationId: 'listFactories',
  method: 'get',
  path: '/v1/operator/factories',
  tags: ['operator'],
  summary: 'Registered factories, newest first, with their status',
  security: bearer,
  request: { query: ListQuery },
  responses: { 200: json(FactoryList, 'Factories'), ...problemResponses(400, 401, 403, 429) },
});

export const revokeFactory = createRoute({
  operationId: 'revokeFactory',
  method: 'post',
  path: '/v1/operator/factories/{factoryId}/revoke',
  tags: ['operator'],
  summary: "Revoke a factory: its credentials get no new token, live tokens stop within 60 s, campaigns can no longer name it",
  security: bearer,
  request: { params: FactoryParams },
  responses: { 200: json(FactoryView, 'Revoked'), ...problemResponses(400, 401, 403, 404, 429) },
});

export const allRoutes = [
  health,
  openapiDocument,
  createCampaign,
  listCampaigns,
  getCampaign,
  updateCampaign,
  closeCampaign,
  campaignDemand,
  campaignBatches,
  campaignPreorders,
  campaignDemandHistory,
  placePreorder,
  listPreorders,
  getPreorder,
  cancelPreorder,
  changeShippingAddress,
  switchVariant,
  postSignals,
  factoryForecasts,
  listBatches,
  getBatch,
  batchManifest,
  listBatchShipments,
  getShipment,
  acceptBatch,
  rejectBatch,
  reportProgress,
  createShipment,
  confirmDelivery,
  addShipmentParcels,
  confirmParcelDelivered,
  createWebhook,
  listWebhooks,
  listDeliveries,
  retryDelivery,
  updateWebhook,
  deleteWebhook,
  rotateWebhookSecret,
  testWebhook,
  listFactoryEvents,
  closeBatchShort,
  factoryTrust,
  campaignTrust,
  registerFactory,
  listFactories,
  revokeFactory,
] as const;
