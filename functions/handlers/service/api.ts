import { GetCommand } from '@aws-sdk/lib-dynamodb';
import { createApi, lambdaHandler } from '../http/app.ts';
import * as routes from '#contracts/routes.ts';
import { allRoutes } from '#contracts/routes.ts';
import { ddb } from '#adapters/dynamo.ts';
import { tableName } from '#shared/config.ts';
import { OpenAPIHono } from '@hono/zod-openapi';
import { problem } from '../http/problems.ts';
import { log } from '#shared/observability.ts';

let document: unknown;

/** The OpenAPI document is generated from the same route definitions the handlers validate with. */
const openApiDocument = () => {
  if (document) return document;
  const registry = new OpenAPIHono();
  registry.openAPIRegistry.registerComponent('securitySchemes', 'bearer', {
    type: 'http',
    scheme: 'bearer',
    description: 'A token naming one principal: role (anchor, buyer, factory, liveroom, operator) and id',
  });
  for (const route of allRoutes) registry.openAPIRegistry.registerPath(route);
  document = registry.getOpenAPI31Document({
    openapi: '3.1.0',
    info: { title: 'c2m API', version: '1.0.0', description: 'Customer-to-manufacturer pipeline for live-stream commerce' },
  });
  return document;
};

export const app = createApi()
  .openapi(routes.health, async (c) => {
    try {
      // A read of a key that never exists: proves the table answers, costs half a read unit.
      await ddb.send(new GetCommand({ TableName: tableName(), Key: { PK: 'HEALTH', SK: 'HEALTH' } }));
    } catch (err) {
      log().error('health: table unreachable', { error: err as Error });
      return problem(c, 503, 'Storage is not reachable') as never;
    }
    return c.json({ status: 'ok' as const, checks: { table: 'ok' } }, 200);
  })
  .openapi(routes.openapiDocument, (c) => c.json(openApiDocument() as Record<string, unknown>, 200));

export const handler = lambdaHandler(app);
