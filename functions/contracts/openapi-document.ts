// First, before any contract: @hono/zod-openapi gives zod's schemas the real `.openapi()`,
// which records the metadata the generator reads (./zod.ts installs a stand-in only where
// it is missing). ESM evaluates imports in order, so this one runs before ./routes.ts.
import { OpenAPIHono } from '@hono/zod-openapi';
import { allRoutes } from './routes.ts';
import { webhookDeliveries } from './webhooks.ts';
import { openapiMetadataDropped } from './zod.ts';

/**
 * The v1 OpenAPI document, generated from the same route definitions the
 * functions validate with. Built offline by `npm run client:generate`
 * (clients/typescript/openapi.json, kept current by
 * tests/infra/client-generated.test.ts) and served as that file by the
 * service API (decision 32): no function bundles the generator. Its security
 * scheme is the issuer's discovery document, from which a client finds the
 * token endpoint and the JWKS; the service API puts its own issuer there.
 */
export const buildOpenApiDocument = (discoveryUrl: string): Record<string, unknown> => {
  if (openapiMetadataDropped()) {
    throw new Error(
      'The contracts were loaded before @hono/zod-openapi in this process, so their OpenAPI metadata is gone: import functions/contracts/openapi-document.ts first.',
    );
  }
  const registry = new OpenAPIHono();
  registry.openAPIRegistry.registerComponent('securitySchemes', 'oidc', {
    type: 'openIdConnect',
    openIdConnectUrl: discoveryUrl,
    description:
      'An access token from the OpenID Connect issuer. Factories: the client-credentials grant with their own client (scope c2m/factory). ' +
      'Anchors and operators: sign in (authorization code + PKCE). Buyers and live rooms: the live platform\'s tokens. ' +
      'The live platform\'s payment service: the client-credentials grant with its own client (scope c2m/platform).',
  });
  for (const route of allRoutes) registry.openAPIRegistry.registerPath(route);
  for (const webhook of webhookDeliveries) registry.openAPIRegistry.registerWebhook(webhook);
  return registry.getOpenAPI31Document({
    openapi: '3.1.0',
    info: {
      title: 'c2m API',
      version: '1.0.0',
      description: 'Customer-to-manufacturer pipeline for live-stream commerce',
      // Not open source: an SPDX reference to the project's own terms. (`identifier` is OpenAPI 3.1's;
      // the generator's types describe 3.0's License object, hence the spread.)
      license: { name: 'Proprietary', ...{ identifier: 'LicenseRef-c2m-Proprietary' } },
    },
    // Relative to where this document is served (…/v1/openapi.json): the API's root on every
    // target, behind a stage prefix or not (OpenAPI 3.1 §4.8.5).
    servers: [{ url: '..', description: 'The deployment this document was fetched from' }],
  }) as unknown as Record<string, unknown>;
};
