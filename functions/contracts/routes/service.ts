import * as z from '../zod.ts';
import { createRoute } from '../route.ts';
import { problemResponses } from '../common.ts';
import { json } from './common.ts';

export const health = createRoute({
  operationId: 'getHealth',
  method: 'get',
  path: '/v1/health',
  tags: ['service'],
  summary: 'Up once storage, queues and schedules answer; says only up or down',
  security: [],
  responses: {
    200: json(
      z.object({
        status: z.literal('ok'),
        checks: z
          .record(z.string(), z.string())
          .optional()
          .openapi({ deprecated: true, description: 'No longer sent: health says only up or down. Which dependency is down is in the service API\'s log.' }),
      }),
      'Up (probed at most every few seconds)',
    ),
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
