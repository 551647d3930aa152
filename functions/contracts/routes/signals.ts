import { createRoute } from '../route.ts';
import { Demand } from '../campaigns.ts';
import { IdempotencyHeader, problemResponses } from '../common.ts';
import { PostSignalsBody, SignalsAccepted } from '../signals.ts';
import { json, body, bearer } from './common.ts';

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
