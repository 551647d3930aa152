import { allow, caller, createApi, lambdaHandler } from '../http/app.ts';
import * as routes from '#contracts/routes/operator.ts';
import { factoryPage, factoryView, registerFactory, revokeFactory } from './use-cases.ts';

export const app = createApi()
  .openapi({ ...routes.registerFactory, middleware: [allow('operator')] }, async (c) => {
    const registered = await registerFactory(caller(c), c.req.valid('json'));
    // The secret is in this answer only: nothing between here and the operator may keep it.
    c.header('cache-control', 'no-store');
    return c.json(registered, 201);
  })
  .openapi({ ...routes.listFactories, middleware: [allow('operator')] }, async (c) => {
    const { limit, cursor } = c.req.valid('query');
    const page = await factoryPage(limit, cursor);
    return c.json({ items: page.items.map(factoryView), ...(page.nextCursor && { nextCursor: page.nextCursor }) }, 200);
  })
  .openapi({ ...routes.revokeFactory, middleware: [allow('operator')] }, async (c) => {
    const factory = await revokeFactory(c.req.valid('param').factoryId);
    return c.json(factoryView(factory), 200);
  });

export const handler = lambdaHandler(app);
