import { allow, createApi, caller, lambdaHandler } from '../http/app.ts';
import * as routes from '#contracts/routes/factory.ts';
import {
  acceptOwnBatch,
  attachOwnParcels,
  closeOwnBatchShort,
  confirmOwnDelivery,
  confirmOwnParcelDelivered,
  listOwnBatches,
  manifestPage,
  ownForecasts,
  ownBatch,
  ownBatchShipments,
  ownShipment,
  rejectOwnBatch,
  reportOwnProgress,
  shipFromOwnBatch,
} from './use-cases.ts';
import { batchView, shipmentView } from './views.ts';
import { webhookRoutes } from './webhook-routes.ts';
import { factoryTrust } from '../campaigns/trust.ts';
import { csvCell, csvDocument, csvHeaders, wantsCsv } from '../http/csv.ts';

/**
 * Factory API: its batches (list, read, manifest, accept, reject, progress,
 * shipments, per-buyer parcels, deliveries), its webhooks, and forecasts. Forecasts let a factory book material and capacity before the
 * batches come: its open and scheduled campaigns, each variant's net ordered
 * units and expected final quantity. A factory only ever sees its own campaigns.
 */
const factory = [allow('factory')];

const batches = createApi()
  .openapi({ ...routes.listBatches, middleware: factory }, async (c) => {
    const page = await listOwnBatches(caller(c), c.req.valid('query'));
    return c.json({ items: page.items.map(batchView), ...(page.nextCursor && { nextCursor: page.nextCursor }) }, 200);
  })
  .openapi({ ...routes.getBatch, middleware: factory }, async (c) =>
    c.json(batchView(await ownBatch(caller(c), c.req.valid('param').batchId)), 200),
  )
  .openapi({ ...routes.batchManifest, middleware: factory }, async (c) => {
    const query = c.req.valid('query');
    const page = await manifestPage(caller(c), c.req.valid('param').batchId, query);
    if (wantsCsv(c.req.header('accept'))) {
      const next = page.nextCursor ? { limit: String(query.limit), cursor: page.nextCursor } : undefined;
      return c.body(manifestCsv(page.items), 200, csvHeaders(`/v1/factory/batches/${page.batchId}/manifest`, next));
    }
    return c.json({ batchId: page.batchId, items: page.items, ...(page.nextCursor && { nextCursor: page.nextCursor }) }, 200);
  })
  .openapi({ ...routes.listBatchShipments, middleware: factory }, async (c) =>
    c.json({ items: (await ownBatchShipments(caller(c), c.req.valid('param').batchId)).map(shipmentView) }, 200),
  )
  .openapi({ ...routes.getShipment, middleware: factory }, async (c) =>
    c.json(shipmentView(await ownShipment(caller(c), c.req.valid('param').shipmentId)), 200),
  )
  .openapi({ ...routes.acceptBatch, middleware: factory }, async (c) =>
    c.json(batchView(await acceptOwnBatch(caller(c), c.req.valid('param').batchId, c.req.valid('json').committedShipDate)), 200),
  )
  .openapi({ ...routes.rejectBatch, middleware: factory }, async (c) =>
    c.json(batchView(await rejectOwnBatch(caller(c), c.req.valid('param').batchId, c.req.valid('json').reason)), 200),
  )
  .openapi({ ...routes.reportProgress, middleware: factory }, async (c) =>
    c.json(batchView(await reportOwnProgress(caller(c), c.req.valid('param').batchId, c.req.valid('json'))), 200),
  )
  .openapi({ ...routes.createShipment, middleware: factory }, async (c) => {
    const { shipment } = await shipFromOwnBatch(
      caller(c),
      c.req.valid('param').batchId,
      c.req.valid('json'),
      c.req.valid('header')['idempotency-key'],
    );
    return c.json(shipmentView(shipment), 201);
  })
  .openapi({ ...routes.closeBatchShort, middleware: factory }, async (c) =>
    c.json(batchView(await closeOwnBatchShort(caller(c), c.req.valid('param').batchId, c.req.valid('json').reason)), 200),
  )
  .openapi({ ...routes.factoryTrust, middleware: factory }, async (c) => c.json(await factoryTrust(caller(c).id), 200))
  .openapi({ ...routes.confirmDelivery, middleware: factory }, async (c) =>
    c.json(shipmentView(await confirmOwnDelivery(caller(c), c.req.valid('param').shipmentId)), 200),
  )
  .openapi({ ...routes.addShipmentParcels, middleware: factory }, async (c) =>
    c.json(shipmentView(await attachOwnParcels(caller(c), c.req.valid('param').shipmentId, c.req.valid('json'))), 200),
  )
  .openapi({ ...routes.confirmParcelDelivered, middleware: factory }, async (c) => {
    const { shipmentId, preorderId } = c.req.valid('param');
    return c.json(shipmentView(await confirmOwnParcelDelivered(caller(c), shipmentId, preorderId)), 200);
  });

export const app = webhookRoutes(batches).openapi({ ...routes.factoryForecasts, middleware: factory }, async (c) => {
  const page = await ownForecasts(caller(c), c.req.valid('query'));
  return c.json({ items: page.items, ...(page.nextCursor && { nextCursor: page.nextCursor }) }, 200);
});

type ManifestItem = Awaited<ReturnType<typeof manifestPage>>['items'][number];

const manifestColumns = ['preorderId', 'sku', 'quantity', 'status', 'createdAt', 'name', 'phone', 'line1', 'line2', 'city', 'region', 'postalCode', 'country'] as const;

/**
 * The manifest page as a spreadsheet for the packing floor: one row per pre-order with its
 * address spread over columns; every cell through csvCell (an address is buyer-typed text).
 */
const manifestCsv = (items: readonly ManifestItem[]): string =>
  csvDocument(
    manifestColumns,
    items.map((i) => {
      const a = i.shippingAddress;
      return [i.preorderId, i.sku, i.quantity, i.status, i.createdAt, a.name, a.phone, a.line1, a.line2, a.city, a.region, a.postalCode, a.country]
        .map((v) => csvCell(v))
        .join(',');
    }),
  );

export const handler = lambdaHandler(app);
