import type { OpenAPIHono, RouteConfig } from '@hono/zod-openapi';
import { zValidator } from '@hono/zod-validator';
import type { ZodError } from 'zod';
import { Hono, type Context, type Env, type Handler, type MiddlewareHandler } from 'hono';
import { handle, type ApiGatewayRequestContext, type LambdaContext, type LambdaEvent } from 'hono/aws-lambda';
import { bodyLimit } from 'hono/body-limit';
import { maxBodyBytes } from '#runtime-names';
import { Principal, type Role } from '#shared/principal.ts';
import { flushMetrics, withLogKeys } from '#shared/observability.ts';
import { UnauthenticatedError, WrongRoleError } from '#domain/errors.ts';
import { errorToProblem, problem, zodIssues } from './problems.ts';

export type ApiEnv = {
  Bindings: { event: LambdaEvent; requestContext: ApiGatewayRequestContext; lambdaContext: LambdaContext };
  Variables: { principal: Principal | undefined };
};
export type ApiContext = Context<ApiEnv>;

const headerNames: Record<string, string> = { 'idempotency-key': 'Idempotency-Key' };

/**
 * The principal the API Gateway authorizer put in the request context
 * (`role`, `principalId`); both targets fill it the same way.
 */
const principalFromGateway: MiddlewareHandler<ApiEnv> = async (c, next) => {
  const authorizer = (c.env?.requestContext?.authorizer ?? {}) as Record<string, unknown>;
  const parsed = Principal.safeParse({ role: authorizer.role, id: authorizer.sub });
  c.set('principal', parsed.success ? parsed.data : undefined);
  await withLogKeys(
    {
      requestId: c.env?.requestContext?.requestId,
      principal: parsed.success ? `${parsed.data.role}:${parsed.data.id}` : undefined,
    },
    next,
  );
};

/** Bodies are JSON: anything else with a body is 415 before validation runs. */
const jsonOnly: MiddlewareHandler<ApiEnv> = async (c, next) => {
  if (c.req.method === 'POST' || c.req.method === 'PUT' || c.req.method === 'PATCH') {
    const type = c.req.header('content-type') ?? '';
    const length = Number(c.req.header('content-length') ?? '0');
    if (!/^application\/(?:[\w.+-]+\+)?json\b/i.test(type) && (length > 0 || type !== '')) {
      return problem(c, 415, 'Send the body as application/json', {
        errors: [{ path: 'Content-Type', message: 'must be application/json' }],
      });
    }
  }
  await next();
};

type Hook = Parameters<typeof zValidator>[2];

/**
 * Registers a route as @hono/zod-openapi's `OpenAPIHono.openapi` does (its
 * middleware, then a zod validator per part of the request it declares: query,
 * params, headers, a JSON body), on a plain Hono app. The package's own class
 * also keeps an OpenAPI registry and imports the generator, zod whole and its
 * locales: a function serves its routes and never the document (decision 32).
 * Its types are kept, so `c.req.valid(…)` is typed from the route as before.
 */
const routeOn =
  <E extends Env>(app: Hono<E>, hook: Hook) =>
  (route: RouteConfig & { middleware?: MiddlewareHandler | MiddlewareHandler[] }, handler: Handler): void => {
    const { request } = route;
    const validators: MiddlewareHandler[] = [];
    if (request?.query) validators.push(zValidator('query', request.query as never, hook) as MiddlewareHandler);
    if (request?.params) validators.push(zValidator('param', request.params as never, hook) as MiddlewareHandler);
    if (request?.headers) validators.push(zValidator('header', request.headers as never, hook) as MiddlewareHandler);
    const content = request?.body?.content?.['application/json'];
    const json = content && 'schema' in content ? content.schema : undefined;
    if (json) {
      const validate = zValidator('json', json as never, hook) as MiddlewareHandler;
      // An optional body is validated when one is sent, as the package does; every v1 body is required.
      validators.push(
        request?.body?.required
          ? validate
          : async (c, next) => {
              if (c.req.header('content-type')) return validate(c, next);
              c.req.addValidatedData('json', {});
              await next();
            },
      );
    }
    const middleware = route.middleware === undefined ? [] : [route.middleware].flat();
    app.on([route.method.toUpperCase()], [route.path.replaceAll(/\/{(.+?)}/g, '/:$1')], ...middleware, ...validators, handler);
  };

export const createApi = (): OpenAPIHono<ApiEnv> => {
  const app = new Hono<ApiEnv>();
  const hook: Hook = (result, c) => {
    if (result.success) return;
    const target = result.target;
    const errors = zodIssues(result.error as ZodError).map((issue) =>
      target === 'header' ? { ...issue, path: headerNames[issue.path] ?? issue.path } : issue,
    );
    return problem(c, 400, `The request's ${target === 'json' ? 'body' : target} is invalid`, { errors });
  };
  app.use(principalFromGateway);
  app.use(
    bodyLimit({
      maxSize: maxBodyBytes,
      onError: (c) =>
        problem(c, 413, `The body is larger than ${maxBodyBytes} bytes`, { errors: [{ path: '(body)', message: 'too large' }] }),
    }),
  );
  app.use(jsonOnly);
  app.onError(errorToProblem);
  app.notFound((c) => problem(c, 404, `No route ${c.req.method} ${c.req.path}`));
  const on = routeOn(app, hook);
  const api = app as unknown as OpenAPIHono<ApiEnv>;
  // The chained `.openapi(route, handler)` of the routes' modules, typed as the package's.
  Object.defineProperty(app, 'openapi', {
    value: (route: Parameters<typeof on>[0], handler: Handler) => {
      on(route, handler);
      return api;
    },
  });
  return api;
};

/**
 * Route middleware: the caller must hold one of `allowed` roles. It runs before
 * the route's validators, so a wrong role is 403 whatever the body holds.
 */
export const allow =
  (...allowed: Role[]): MiddlewareHandler<ApiEnv> =>
  async (c, next) => {
    const principal = c.get('principal');
    if (!principal) throw new UnauthenticatedError();
    if (!allowed.includes(principal.role)) throw new WrongRoleError(principal.role, allowed);
    await next();
  };

/** The caller of a route guarded by `allow`. */
export const caller = (c: ApiContext): Principal => {
  const principal = c.get('principal');
  if (!principal) throw new UnauthenticatedError();
  return principal;
};

/** The Lambda entry for an API function: Hono behind API Gateway, metrics flushed per invocation. */
/**
 * A CSV body starts with a byte order mark so spreadsheets read it as UTF-8
 * (Chinese names, ¥). Hono's Lambda adapter reads the body with
 * `Response.text()`, whose decoder drops a leading BOM: put it back.
 */
const keepByteOrderMark = <T>(result: T): T => {
  const r = result as { body?: unknown; isBase64Encoded?: boolean; headers?: Record<string, unknown>; multiValueHeaders?: Record<string, unknown[]> };
  const type = String(r.headers?.['content-type'] ?? r.multiValueHeaders?.['content-type']?.[0] ?? '');
  if (typeof r.body === 'string' && !r.isBase64Encoded && type.startsWith('text/csv') && !r.body.startsWith('\uFEFF')) {
    return { ...r, body: `\uFEFF${r.body}` } as T;
  }
  return result;
};

export const lambdaHandler = (app: OpenAPIHono<ApiEnv>) => {
  const inner = handle(app);
  return async (event: LambdaEvent, context: LambdaContext) => {
    try {
      return keepByteOrderMark(await inner(event, context));
    } finally {
      flushMetrics();
    }
  };
};
