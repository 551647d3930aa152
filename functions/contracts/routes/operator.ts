import { createRoute } from '../route.ts';
import { ListQuery, problemResponses } from '../common.ts';
import { FactoryList, FactoryParams, FactoryRegistered, FactoryView, RegisterFactoryBody } from '../operator.ts';
import { json, body, bearer } from './common.ts';

export const registerFactory = createRoute({
  operationId: 'registerFactory',
  method: 'post',
  path: '/v1/operator/factories',
  tags: ['operator'],
  summary: 'Register a factory: creates its OAuth2 client (client credentials); the secret is shown once',
  security: bearer,
  request: { body: body(RegisterFactoryBody) },
  responses: { 201: json(FactoryRegistered, 'Registered'), ...problemResponses(400, 401, 403, 409, 413, 415, 429) },
});
export const listFactories = createRoute({
  operationId: 'listFactories',
  method: 'get',
  path: '/v1/operator/factories',
  tags: ['operator'],
  summary: 'Registered factories, newest first, with their status',
  security: bearer,
  request: { query: ListQuery },
  responses: { 200: json(FactoryList, 'Factories'), ...problemResponses(400, 401, 403, 429) },
});
export const revokeFactory = createRoute({
  operationId: 'revokeFactory',
  method: 'post',
  path: '/v1/operator/factories/{factoryId}/revoke',
  tags: ['operator'],
  summary: "Revoke a factory: its credentials get no new token, live tokens stop within 60 s, campaigns can no longer name it",
  security: bearer,
  request: { params: FactoryParams },
  responses: { 200: json(FactoryView, 'Revoked'), ...problemResponses(400, 401, 403, 404, 429) },
});
