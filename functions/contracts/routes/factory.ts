import * as z from '../zod.ts';
import { createRoute } from '../route.ts';
import { IdempotencyHeader, ListQuery, problemResponses } from '../common.ts';
import { AcceptBatchBody, AddParcelsBody, BatchList, BatchListQuery, BatchParams, BatchView, CloseShortBody, CreateShipmentBody, FactoryForecastList, FactoryForecastsQuery, Manifest, ParcelParams, ProgressBody, RejectBatchBody, ShipmentList, ShipmentParams, ShipmentView, TrustView } from '../factory.ts';
import { json, body, bearer } from './common.ts';

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
