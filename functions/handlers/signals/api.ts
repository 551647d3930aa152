import { allow, createApi, caller, lambdaHandler } from '../http/app.ts';
import * as routes from '#contracts/routes/signals.ts';
import { acceptSignals } from './use-cases.ts';

export const app = createApi().openapi({ ...routes.postSignals, middleware: [allow('liveroom')] }, async (c) => {
  const result = await acceptSignals(caller(c), c.req.valid('json'), c.req.valid('header')['idempotency-key']);
  return c.json(result, 202);
});

export const handler = lambdaHandler(app);
