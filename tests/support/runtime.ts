import { inject } from 'vitest';
import { randomUUID } from 'node:crypto';
import { startLocalRuntime, type LocalRuntimeOptions, type LocalRuntime } from '../../lib/local/runtime.ts';
import { signToken, type Role } from '../../functions/shared/tokens.ts';

/**
 * The local runtime on the test run's shared DynamoDB Local, with a table of its
 * own, so every e2e file talks HTTP to the real pipeline without paying for a
 * Java start each.
 */
export const startTestRuntime = (opts: Partial<LocalRuntimeOptions> = {}): Promise<LocalRuntime> =>
  startLocalRuntime({
    dataDir: null,
    port: 0,
    dynamoEndpoint: inject('dynamoEndpoint'),
    tableName: `c2m-test-${randomUUID().slice(0, 8)}`,
    accessLog: false,
    metrics: false,
    logLevel: 'ERROR',
    visibilityTimeoutSeconds: 1,
    ...opts,
  });

export interface Reply<T = Record<string, unknown>> {
  status: number;
  headers: Headers;
  body: T;
}

/** A client as an outside integrator would be: HTTP and a bearer token, nothing else. */
export const clientFor = (url: string, secret: string, role: Role, id: string) => {
  const token = signToken(secret, { role, id });
  const call = async <T = Record<string, unknown>>(
    method: string,
    path: string,
    body?: unknown,
    headers: Record<string, string> = {},
  ): Promise<Reply<T>> => {
    const res = await fetch(`${url}${path}`, {
      method,
      headers: {
        authorization: `Bearer ${token}`,
        ...(body !== undefined && { 'content-type': 'application/json' }),
        ...headers,
      },
      ...(body !== undefined && { body: typeof body === 'string' ? body : JSON.stringify(body) }),
    });
    const text = await res.text();
    return { status: res.status, headers: res.headers, body: (text ? JSON.parse(text) : {}) as T };
  };
  return {
    token,
    get: <T = Record<string, unknown>>(path: string) => call<T>('GET', path),
    post: <T = Record<string, unknown>>(path: string, body?: unknown, headers?: Record<string, string>) =>
      call<T>('POST', path, body, headers),
    put: <T = Record<string, unknown>>(path: string, body?: unknown, headers?: Record<string, string>) =>
      call<T>('PUT', path, body, headers),
  };
};

export const campaignDraft = (overrides: Record<string, unknown> = {}) => ({
  title: 'Hand-stitched linen shirt',
  factoryId: 'factory-1',
  currency: 'CNY',
  variants: [
    { sku: 'SHIRT-S', name: 'Small', unitPrice: 12900 },
    { sku: 'SHIRT-M', name: 'Medium', unitPrice: 12900 },
  ],
  closesAt: new Date(Date.now() + 3600_000).toISOString(),
  minTotalQuantity: 1,
  lotSize: 50,
  promisedShipDays: 14,
  ...overrides,
});

export const preorderDraft = (overrides: Record<string, unknown> = {}) => ({
  sku: 'SHIRT-M',
  quantity: 1,
  shippingAddress: {
    name: 'Li Wei',
    phone: '+86 138 0000 0000',
    line1: '88 Century Avenue',
    city: 'Shanghai',
    region: 'Shanghai',
    postalCode: '200120',
    country: 'CN',
  },
  ...overrides,
});
