import type { createRoute as honoCreateRoute } from '@hono/zod-openapi';

/**
 * A route definition, typed as @hono/zod-openapi's `createRoute` (so handlers
 * get their validated input's types from it) without importing that package's
 * values into a function: they bring zod whole and the OpenAPI generator
 * (see ./zod.ts). The same object shape: the definition, plus Hono's path.
 */
export const createRoute: typeof honoCreateRoute = (routeConfig) => {
  const route = {
    ...routeConfig,
    // Hono's path, typed by the package from the literal path ({id} → :id).
    getRoutingPath: () => routeConfig.path.replaceAll(/\/{(.+?)}/g, '/:$1') as ReturnType<ReturnType<typeof honoCreateRoute>['getRoutingPath']>,
  };
  return Object.defineProperty(route, 'getRoutingPath', { enumerable: false }) as ReturnType<typeof honoCreateRoute<typeof routeConfig.path, typeof routeConfig>>;
};
