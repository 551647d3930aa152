/**
 * Every v1 route, defined once, by the function that serves it (./routes/<area>.ts): a
 * function imports its own area's module only, so its bundle carries its own routes'
 * schemas and not every route's (decision 32). This module is for what needs them all:
 * the OpenAPI document (./openapi-document.ts) and the tests. Paths match lib/topology.ts `routes`.
 */
import * as service from './routes/service.ts';
import * as campaigns from './routes/campaigns.ts';
import * as preorders from './routes/preorders.ts';
import * as signals from './routes/signals.ts';
import * as factory from './routes/factory.ts';
import * as webhooks from './routes/webhooks.ts';
import * as operator from './routes/operator.ts';
import * as payments from './routes/payments.ts';

export * from './routes/service.ts';
export * from './routes/campaigns.ts';
export * from './routes/preorders.ts';
export * from './routes/signals.ts';
export * from './routes/factory.ts';
export * from './routes/webhooks.ts';
export * from './routes/operator.ts';
export * from './routes/payments.ts';

export const allRoutes = [
  service.health,
  service.openapiDocument,
  campaigns.createCampaign,
  campaigns.listCampaigns,
  campaigns.getCampaign,
  campaigns.updateCampaign,
  campaigns.closeCampaign,
  campaigns.campaignDemand,
  campaigns.campaignBatches,
  campaigns.campaignPreorders,
  campaigns.campaignDemandHistory,
  preorders.placePreorder,
  preorders.listPreorders,
  preorders.getPreorder,
  preorders.cancelPreorder,
  preorders.changeShippingAddress,
  preorders.switchVariant,
  signals.postSignals,
  factory.factoryForecasts,
  factory.listBatches,
  factory.getBatch,
  factory.batchManifest,
  factory.listBatchShipments,
  factory.getShipment,
  factory.acceptBatch,
  factory.rejectBatch,
  factory.reportProgress,
  factory.createShipment,
  factory.confirmDelivery,
  factory.addShipmentParcels,
  factory.confirmParcelDelivered,
  webhooks.createWebhook,
  webhooks.listWebhooks,
  webhooks.listDeliveries,
  webhooks.retryDelivery,
  webhooks.updateWebhook,
  webhooks.deleteWebhook,
  webhooks.rotateWebhookSecret,
  webhooks.testWebhook,
  webhooks.listFactoryEvents,
  factory.closeBatchShort,
  factory.factoryTrust,
  campaigns.campaignTrust,
  campaigns.campaignAttribution,
  operator.registerFactory,
  operator.listFactories,
  operator.revokeFactory,
  payments.listOwedRefunds,
  payments.confirmRefund,
  payments.payBalance,
  payments.listBalancesDue,
] as const;

