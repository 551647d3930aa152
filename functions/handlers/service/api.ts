import { createApi, lambdaHandler } from '../http/app.ts';
import * as routes from '#contracts/routes.ts';
import { allRoutes } from '#contracts/routes.ts';
import { webhookDeliveries } from '#contracts/webhooks.ts';
import { probeQueue, probeScheduleGroup, probeTable } from '#adapters/health-probes.ts';
import { functionSpec } from '#topology';
import { OpenAPIHono } from '@hono/zod-openapi';
import { problem } from '../http/problems.ts';
import { log } from '#shared/observability.ts';
import { oidcDiscoveryUrl } from '#shared/config.ts';

const documents = new Map<string, unknown>();

/**
 * The OpenAPI document is generated from the same route definitions the
 * handlers validate with. Its security scheme is the issuer's discovery
 * document, from which a client finds the token endpoint and the JWKS.
 */
const openApiDocument = () => {
  const discovery = oidcDiscoveryUrl();
  const cached = documents.get(discovery);
  if (cached) return cached;
  const registry = new OpenAPIHono();
  registry.openAPIRegistry.registerComponent('securitySchemes', 'oidc', {
    type: 'openIdConnect',
    openIdConnectUrl: discovery,
    description:
      'An access token from the OpenID Connect issuer. Factories: the client-credentials grant with their own client (scope c2m/factory). ' +
      'Anchors and operators: sign in (authorization code + PKCE). Buyers and live rooms: the live platform\'s tokens.',
  });
  for (const route of allRoutes) registry.openAPIRegistry.registerPath(route);
  for (const webhook of webhookDeliveries) registry.openAPIRegistry.registerWebhook(webhook);
  const document = registry.getOpenAPI31Document({
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
  });
  documents.set(discovery, document);
  return document;
};

/** What health reads, as the topology grants it: the table, these queues, the schedule group. */
const probed = functionSpec('service-api').access.health;

interface Check {
  /** As api.md names it: storage (the table), queues, schedules. */
  readonly name: 'table' | 'queues' | 'schedules';
  readonly probes: ReadonlyArray<{ readonly what: string; readonly run: () => Promise<void> }>;
}

/** Each dependency, and the probes that prove it answers; a dependency with nothing to probe is left out. */
const checks: readonly Check[] = ([
  { name: 'table', probes: [{ what: 'table', run: probeTable }] },
  { name: 'queues', probes: (probed?.queues ?? []).map((queue) => ({ what: queue, run: () => probeQueue(queue) })) },
  { name: 'schedules', probes: probed?.scheduleGroup ? [{ what: 'schedule group', run: probeScheduleGroup }] : [] },
] satisfies Check[]).filter((check) => check.probes.length > 0);

export const app = createApi()
  .openapi(routes.health, async (c) => {
    const results = await Promise.all(
      checks.map(async (check) => {
        const outcomes = await Promise.allSettled(check.probes.map((p) => p.run()));
        const failed = check.probes.flatMap((p, i) => {
          const outcome = outcomes[i];
          return outcome?.status === 'rejected' ? [{ what: p.what, error: outcome.reason as Error }] : [];
        });
        return { name: check.name, failed };
      }),
    );
    const down = results.filter((r) => r.failed.length > 0);
    if (down.length > 0) {
      log().error('health: dependencies not answering', {
        down: down.flatMap((r) => r.failed.map((f) => ({ check: r.name, what: f.what, error: String(f.error) }))),
      });
      const named = down.map((r) => (r.name === 'queues' ? `queues (${r.failed.map((f) => f.what).join(', ')})` : r.name));
      return problem(c, 503, `Not up: ${named.join(', ')}`) as never;
    }
    return c.json({ status: 'ok' as const, checks: Object.fromEntries(results.map((r) => [r.name, 'ok'])) }, 200);
  })
  .openapi(routes.openapiDocument, (c) => c.json(openApiDocument() as Record<string, unknown>, 200));

export const handler = lambdaHandler(app);
