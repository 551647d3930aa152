import * as z from '../zod.ts';
import { createRoute } from '../route.ts';
import { AttributionView } from '../attribution.ts';
import { CampaignBatchList, CampaignList, CampaignParams, CampaignPreorderList, CampaignPreordersQuery, CampaignView, Demand, DemandHistory, DemandHistoryQuery } from '../campaigns.ts';
import { CreateCampaignBody, UpdateCampaignBody } from '../campaign-terms.ts';
import { IdempotencyHeader, ListQuery, problemResponses } from '../common.ts';
import { TrustView } from '../factory.ts';
import { json, body, bearer } from './common.ts';

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
export const campaignAttribution = createRoute({
  operationId: 'getCampaignAttribution',
  method: 'get',
  path: '/v1/campaigns/{campaignId}/attribution',
  tags: ['anchor'],
  summary: 'Units, GMV and commission per source (live room, session, affiliate), net of refunds; Accept: text/csv for CSV',
  security: bearer,
  request: { params: CampaignParams },
  responses: {
    200: {
      description: 'Attribution',
      content: {
        'application/json': { schema: AttributionView },
        'text/csv': { schema: z.string().openapi({ description: 'UTF-8 with BOM, a header row, one row per source (row=source) and the total (row=total); amounts as decimals' }) },
      },
    },
    ...problemResponses(400, 401, 403, 404, 429),
  },
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
