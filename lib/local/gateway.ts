import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import { randomUUID } from 'node:crypto';
import type { APIGatewayAuthorizerResult, APIGatewayProxyResult } from 'aws-lambda';
import { identity, routes, throttling, type FunctionName, type RouteSpec } from '../topology.ts';
import { gatewayResponses } from '../gateway-responses.ts';

/**
 * The local stand-in for API Gateway (REST, stage `prod`): routes from the
 * topology, the same TOKEN authorizer function with a per-token cache, stage
 * throttling (429 + Retry-After), and the same problem+json gateway responses as
 * the deployed API. Each request becomes an APIGatewayProxyEvent for the route's
 * function, exactly as Lambda would receive it.
 */
export type Invoke = (fn: FunctionName, event: unknown) => Promise<unknown>;

export interface GatewayOptions {
  readonly invoke: Invoke;
  readonly port: number;
  /** Writes one access-log line per request (as the stage's access log does). */
  readonly accessLog?: (line: Record<string, unknown>) => void;
  /** Stage throttling; defaults to the topology's. */
  readonly throttle?: { rateLimit: number; burstLimit: number };
  /** Answers requests outside the API first (the local issuer under /oidc); returns false to pass. */
  readonly otherwise?: (req: IncomingMessage, res: ServerResponse) => boolean;
}

export interface Gateway {
  readonly url: string;
  readonly server: Server;
  served(): { method: string; path: string; fn: FunctionName; auth: boolean }[];
  close(): Promise<void>;
}

/** API Gateway's own payload limit; the handlers enforce the API's smaller one. */
const gatewayMaxBytes = 10 * 1024 * 1024;
const authorizerCacheMs = identity.authorizerCacheSeconds * 1000;
const stage = 'prod';

interface CompiledRoute extends RouteSpec {
  readonly regex: RegExp;
  readonly params: string[];
}

const compile = (route: RouteSpec): CompiledRoute => {
  const params: string[] = [];
  const pattern = route.path.replace(/\{([^}]+)\}/g, (_, name: string) => {
    params.push(name);
    return '([^/]+)';
  });
  return { ...route, regex: new RegExp(`^${pattern}$`), params };
};

/** Token bucket: `rateLimit` per second refill, `burstLimit` capacity, as API Gateway documents. */
const tokenBucket = ({ rateLimit, burstLimit }: { rateLimit: number; burstLimit: number }) => {
  let tokens = burstLimit;
  let last = Date.now();
  return () => {
    const now = Date.now();
    tokens = Math.min(burstLimit, tokens + ((now - last) / 1000) * rateLimit);
    last = now;
    if (tokens < 1) return false;
    tokens -= 1;
    return true;
  };
};

export const startGateway = async (opts: GatewayOptions): Promise<Gateway> => {
  const compiled = routes.map(compile);
  const allow = tokenBucket(opts.throttle ?? throttling);
  const authCache = new Map<string, { until: number; result: APIGatewayAuthorizerResult | 'unauthorized' }>();

  const send = (res: ServerResponse, status: number, headers: Record<string, string>, body: string) => {
    res.writeHead(status, { 'content-length': Buffer.byteLength(body).toString(), ...headers });
    res.end(body);
  };
  const gatewayResponse = (res: ServerResponse, type: keyof typeof gatewayResponses, detail?: string) => {
    const r = gatewayResponses[type];
    const body = JSON.stringify({ type: 'about:blank', title: r.title, status: r.status, detail: detail ?? r.detail });
    send(res, r.status, { 'content-type': 'application/problem+json', ...(r.headers ?? {}) }, body);
    return r.status;
  };

  const authorize = async (token: string, methodArn: string) => {
    const hit = authCache.get(token);
    if (hit && hit.until > Date.now()) return hit.result;
    let result: APIGatewayAuthorizerResult | 'unauthorized';
    try {
      result = (await opts.invoke('authorizer', { type: 'TOKEN', authorizationToken: token, methodArn })) as APIGatewayAuthorizerResult;
    } catch (err) {
      if (err instanceof Error && err.message === 'Unauthorized') result = 'unauthorized';
      else throw err;
    }
    authCache.set(token, { until: Date.now() + authorizerCacheMs, result });
    if (authCache.size > 10_000) authCache.delete(authCache.keys().next().value as string);
    return result;
  };

  const handle = async (req: IncomingMessage, res: ServerResponse): Promise<number> => {
    const url = new URL(req.url ?? '/', 'http://localhost');
    const method = req.method ?? 'GET';
    const candidates = compiled.filter((r) => r.regex.test(url.pathname));
    const route = candidates.find((r) => r.method === method);
    if (!route) {
      // What API Gateway answers for a path or method it has no resource for.
      return gatewayResponse(
        res,
        'MISSING_AUTHENTICATION_TOKEN',
        candidates.length > 0 ? `${method} is not allowed on ${url.pathname}` : `No route ${method} ${url.pathname}`,
      );
    }
    if (!allow()) return gatewayResponse(res, 'THROTTLED');

    const chunks: Buffer[] = [];
    let size = 0;
    for await (const chunk of req) {
      size += (chunk as Buffer).length;
      if (size > gatewayMaxBytes) return gatewayResponse(res, 'REQUEST_TOO_LARGE');
      chunks.push(chunk as Buffer);
    }
    const body = Buffer.concat(chunks).toString('utf8');

    const requestId = randomUUID();
    const methodArn = `arn:aws:execute-api:us-east-1:000000000000:local/${stage}/${method}${url.pathname}`;
    let authorizer: Record<string, unknown> | undefined;
    if (route.auth) {
      const token = req.headers.authorization;
      if (!token) return gatewayResponse(res, 'UNAUTHORIZED');
      const result = await authorize(token, methodArn);
      if (result === 'unauthorized') return gatewayResponse(res, 'UNAUTHORIZED');
      const allowed = result.policyDocument.Statement.some((s) => 'Effect' in s && s.Effect === 'Allow');
      if (!allowed) return gatewayResponse(res, 'ACCESS_DENIED');
      authorizer = { principalId: result.principalId, ...(result.context ?? {}) };
    }

    const match = route.regex.exec(url.pathname) as RegExpExecArray;
    let pathParameters: Record<string, string>;
    try {
      pathParameters = Object.fromEntries(route.params.map((name, i) => [name, decodeURIComponent(match[i + 1] ?? '')]));
    } catch {
      return gatewayResponse(res, 'DEFAULT_4XX', 'The path is not valid percent-encoding');
    }
    const headers: Record<string, string> = {};
    const multiValueHeaders: Record<string, string[]> = {};
    for (const [name, value] of Object.entries(req.headers)) {
      if (value === undefined) continue;
      const values = Array.isArray(value) ? value : [value];
      headers[name] = values.join(',');
      multiValueHeaders[name] = values;
    }
    const query: Record<string, string> = {};
    const multiQuery: Record<string, string[]> = {};
    for (const [name, value] of url.searchParams) {
      query[name] = value;
      (multiQuery[name] ??= []).push(value);
    }
    const event = {
      resource: route.path,
      path: url.pathname,
      httpMethod: method,
      headers,
      multiValueHeaders,
      queryStringParameters: url.searchParams.size > 0 ? query : null,
      multiValueQueryStringParameters: url.searchParams.size > 0 ? multiQuery : null,
      pathParameters: route.params.length > 0 ? pathParameters : null,
      stageVariables: null,
      requestContext: {
        accountId: '000000000000',
        apiId: 'local',
        authorizer: authorizer ?? null,
        domainName: req.headers.host ?? 'localhost',
        domainPrefix: 'localhost',
        extendedRequestId: requestId,
        httpMethod: method,
        identity: { sourceIp: req.socket.remoteAddress ?? '127.0.0.1', userAgent: req.headers['user-agent'] ?? null },
        path: `/${stage}${url.pathname}`,
        protocol: `HTTP/${req.httpVersion}`,
        requestId,
        requestTimeEpoch: Date.now(),
        resourceId: 'local',
        resourcePath: route.path,
        stage,
      },
      body: body.length > 0 ? body : null,
      isBase64Encoded: false,
    };
    let result: APIGatewayProxyResult;
    try {
      result = (await opts.invoke(route.fn, event)) as APIGatewayProxyResult;
    } catch (err) {
      process.stderr.write(`${JSON.stringify({ level: 'ERROR', message: 'integration failed', fn: route.fn, error: String(err) })}\n`);
      return gatewayResponse(res, 'DEFAULT_5XX');
    }
    const outHeaders: Record<string, string> = {};
    for (const [k, v] of Object.entries(result.headers ?? {})) outHeaders[k.toLowerCase()] = String(v);
    for (const [k, v] of Object.entries(result.multiValueHeaders ?? {})) outHeaders[k.toLowerCase()] = v.map(String).join(', ');
    const payload = result.isBase64Encoded ? Buffer.from(result.body, 'base64').toString('utf8') : result.body;
    send(res, result.statusCode, outHeaders, payload ?? '');
    return result.statusCode;
  };

  const onRequest = (req: IncomingMessage, res: ServerResponse) => {
    if (opts.otherwise?.(req, res)) return;
    const started = Date.now();
    handle(req, res)
      .then((status) => {
        opts.accessLog?.({ type: 'access', method: req.method, path: req.url, status, latencyMs: Date.now() - started });
      })
      .catch((err: unknown) => {
        process.stderr.write(`${JSON.stringify({ level: 'ERROR', message: 'gateway failure', error: String(err) })}\n`);
        if (!res.headersSent) gatewayResponse(res, 'DEFAULT_5XX');
        else res.destroy();
      });
  };
  const listen = (server: Server, host: string, port: number) =>
    new Promise<number>((resolve, reject) => {
      server.once('error', reject);
      server.listen(port, host, () => {
        const address = server.address();
        resolve(typeof address === 'object' && address ? address.port : port);
      });
    });
  // Loopback only: "localhost" may resolve to 127.0.0.1 or ::1, so both answer.
  const server = createServer(onRequest);
  server.keepAliveTimeout = 30_000;
  const port = await listen(server, '127.0.0.1', opts.port);
  const servers = [server];
  const v6 = createServer(onRequest);
  v6.keepAliveTimeout = 30_000;
  await listen(v6, '::1', port).then(
    () => servers.push(v6),
    () => undefined, // no IPv6 loopback here: 127.0.0.1 alone serves
  );
  return {
    url: `http://localhost:${port}`,
    server,
    served: () => compiled.map((r) => ({ method: r.method, path: r.path, fn: r.fn, auth: r.auth })),
    close: async () => {
      await Promise.all(
        servers.map(
          (s) =>
            new Promise<void>((resolve) => {
              s.close(() => resolve());
              s.closeAllConnections();
            }),
        ),
      );
    },
  };
};
