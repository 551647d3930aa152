/**
 * @c2m/factory-client: c2m's API for a factory's integration, typed from the API's OpenAPI
 * document (`schema.ts`, generated) with what every integrator otherwise writes by hand:
 * client-credentials tokens fetched and renewed, 429s waited out per Retry-After, an
 * Idempotency-Key on every creating call, and lists iterated across their pages.
 */
export { createC2mClient, type C2mClient, type C2mClientOptions } from './client.ts';
export type { ClientCredentials, TokenGetter } from './auth.ts';
export { C2mApiError, C2mAuthError, C2mNetworkError, type Problem, type ProblemField } from './errors.ts';
export type {
  Batch,
  BatchStatus,
  CreateOptions,
  DefectCode,
  FactoryApi,
  FactoryEvent,
  Forecast,
  ManifestEntry,
  NewParcels,
  NewShipment,
  NewWebhook,
  Parcel,
  ProgressReport,
  Shipment,
  Trust,
  Webhook,
  WebhookChange,
  WebhookCreated,
  WebhookDelivery,
  WebhookSecretRotated,
} from './factory.ts';
export { Paged } from './paging.ts';
export { unwrap, type FetchResult } from './result.ts';
export { retryAfterMs, type RetryEvent, type RetryOptions } from './transport.ts';
export { operationRoutes, type OperationId } from './operations.ts';
export type { components, operations, paths } from './schema.ts';
