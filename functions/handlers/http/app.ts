import { OpenAPIHono } from '@hono/zod-openapi';
import type { Context, MiddlewareHandler } from 'hono';
import { handle, type ApiGatewayRequestContext, type LambdaContext, type LambdaEvent } from 'hono/aws-lambda';
import { bodyLimit } from 'hono/body-limit';
import { maxBodyBytes } from '#topology';
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

export const createApi = () => {
  const app = new OpenAPIHono<ApiEnv>({
    defaultHook: (result, c) => {
      if (result.success) return;
      const target = result.target;
      const errors = zodIssues(result.error).map((issue) =>
        target === 'header' ? { ...issue, path: headerNames[issue.path] ?? issue.path } : issue,
      );
      return problem(c, 400, `The request's ${target === 'json' ? 'body' : target} is invalid`, { errors });
    },
  });
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
  return app;
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
