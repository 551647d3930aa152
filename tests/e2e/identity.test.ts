import { createServer, type Server } from 'node:http';
import { createHash, createHmac, randomBytes } from 'node:crypto';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { format } from 'node:util';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import {
  SignJWT,
  decodeJwt,
  decodeProtectedHeader,
  exportJWK,
  exportSPKI,
  generateKeyPair,
  importJWK,
  type CryptoKey,
  type JWK,
  type JWTHeaderParameters,
  type JWTPayload,
} from 'jose';
import type { APIGatewayAuthorizerResult } from 'aws-lambda';
import type { LocalRuntime } from '../../lib/local/runtime.ts';
import { clientCredentialsToken } from '../../lib/local/dev-tokens.ts';
import { gatewayResponses } from '../../lib/gateway-responses.ts';
import { identity, routes } from '../../lib/topology.ts';
import { roles, type Role } from '../../functions/shared/principal.ts';
import { campaignDraft, preorderDraft, startTestRuntime } from '../support/runtime.ts';
import { cookieBrowser } from '../support/cookie-browser.ts';

/**
 * Who may call what, over HTTP against the local runtime and its OpenID issuer,
 * as an integrator (or an attacker) would: hostile tokens are refused with 401,
 * valid tokens of the wrong role with 403, other tenants' ids are 404; a factory's
 * client is registered, used and revoked by an operator; the platform's client is
 * its own principal; anchors sign in through the issuer's real pages; no credential
 * ever reaches a log.
 *
 * The runtime keeps its issuer's files in a data directory of this test: that is
 * how a token signed with the issuer's own key but wrong in one claim (aud, iss,
 * nbf, exp, kid) can be made, which the issuer itself would never mint.
 * Time moves by a controlled clock, only forward, and only in the last tests.
 */

let runtime: LocalRuntime;
const dataDir = mkdtempSync(join(tmpdir(), 'c2m-identity-'));

// ---------------------------------------------------------------- what the runtime prints

/** Everything this process writes to stdout and stderr while the runtime runs: the runtime's logs and access log. */
const output: string[] = [];
/** The runtime's INFO lines, access log and buyer notifications are kept for the last test, not shown. */
const chatter = /"level":"(?:INFO|DEBUG)"|"type":"access"|^🔔/;
let restoreOutput = () => undefined as void;
const captureOutput = () => {
  const tap = (stream: NodeJS.WriteStream) => {
    const write = stream.write.bind(stream);
    stream.write = ((chunk: string | Uint8Array, ...rest: unknown[]) => {
      const text = typeof chunk === 'string' ? chunk : Buffer.from(chunk).toString('utf8');
      output.push(text);
      if (!chatter.test(text)) return write(chunk as never, ...(rest as []));
      const done = rest.find((r) => typeof r === 'function') as (() => void) | undefined;
      done?.();
      return true;
    }) as typeof stream.write;
    return () => {
      stream.write = write;
    };
  };
  // Libraries that print through console (oidc-provider's warnings) reach vitest's console, not the streams.
  const tapConsole = (method: 'log' | 'info' | 'warn' | 'error' | 'debug') => {
    const original = console[method];
    console[method] = (...args: unknown[]) => {
      output.push(`${format(...args)}\n`);
      original.apply(console, args);
    };
    return () => {
      console[method] = original;
    };
  };
  const restores = [tap(process.stdout), tap(process.stderr), ...(['log', 'info', 'warn', 'error', 'debug'] as const).map(tapConsole)];
  restoreOutput = () => restores.forEach((r) => r());
};

/** Every credential this file handles: none of them may appear in `output`. */
const credentials = new Set<string>();
const keep = <T extends string | undefined>(secret: T): T => {
  if (secret) credentials.add(secret);
  return secret;
};

// ---------------------------------------------------------------- HTTP

type Body = Record<string, unknown>;
type Reply<T = Body> = { status: number; headers: Headers; body: T };
type Problem = { status: number; title: string; detail: string; errors?: { path: string; message: string }[] };

/** One HTTP call; `auth` is a bearer token, or `{ header }` for a raw Authorization header, or nothing. */
const call = async <T = Body>(
  method: string,
  path: string,
  auth?: string | { header: string },
  body?: unknown,
  headers: Record<string, string> = {},
): Promise<Reply<T>> => {
  const authorization = auth === undefined ? undefined : typeof auth === 'string' ? `Bearer ${keep(auth)}` : auth.header;
  const res = await fetch(`${runtime.url}${path}`, {
    method,
    headers: {
      ...(authorization !== undefined && { authorization }),
      ...(body !== undefined && { 'content-type': 'application/json' }),
      ...headers,
    },
    ...(body !== undefined && { body: JSON.stringify(body) }),
  });
  const text = await res.text();
  let parsed: unknown = {};
  if (text) {
    try {
      parsed = JSON.parse(text);
    } catch {
      parsed = { text };
    }
  }
  return { status: res.status, headers: res.headers, body: parsed as T };
};

const expectProblem = (reply: Reply<unknown>, status: number) => {
  expect(reply.status, JSON.stringify(reply.body)).toBe(status);
  expect(reply.headers.get('content-type')).toMatch(/application\/problem\+json/);
  expect((reply.body as Problem).status).toBe(status);
};

/** A token from the local issuer's dev grant (what the sign-in page ends in). */
const tokenOf = async (role: Exclude<Role, 'factory'>, id: string) => keep(await runtime.token(role, id));

type Registered = { factoryId: string; clientId: string; clientSecret: string; scope: string; status: string };

const registerFactory = async (factoryId: string, operatorToken?: string): Promise<Reply<Registered & Problem>> => {
  const reply = await call<Registered & Problem>('POST', '/v1/operator/factories', operatorToken ?? (await tokenOf('operator', 'operator-identity')), {
    factoryId,
    name: `Factory ${factoryId}`,
  });
  keep(reply.body.clientSecret);
  return reply;
};

/** Registers a factory and gets a token with its own client credentials, as its integration would. */
const onboard = async (factoryId: string) => {
  const reply = await registerFactory(factoryId);
  expect(reply.status, JSON.stringify(reply.body)).toBe(201);
  const { clientId, clientSecret } = reply.body;
  const token = keep(await clientCredentialsToken(runtime.issuer.tokenEndpoint, clientId, clientSecret));
  return { clientId, clientSecret, token };
};

const revoke = async (factoryId: string) =>
  call<{ status: string; revokedAt?: string; clientId: string }>('POST', `/v1/operator/factories/${factoryId}/revoke`, await tokenOf('operator', 'operator-identity'));

/** Polls until `done`; a wait that runs out fails the test. */
const until = async <T>(what: string, probe: () => Promise<T>, done: (t: T) => boolean, timeoutMs = 25_000): Promise<T> => {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const value = await probe();
    if (done(value)) return value;
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}: ${JSON.stringify(value)}`);
    await new Promise((r) => setTimeout(r, 150));
  }
};

// ---------------------------------------------------------------- tokens the test makes

/** The issuer's own signing key, as it keeps it in its data directory. */
let issuerKey: { kid: string; key: CryptoKey; publicJwk: JWK };
/** A key the issuer has never heard of. */
let foreignKey: CryptoKey;

const nowSeconds = () => Math.floor(Date.now() / 1000);

/** Claims of an anchor's access token as the issuer would mint them. */
const anchorClaims = (sub: string): JWTPayload => ({
  iss: runtime.issuer.issuer,
  aud: runtime.issuer.audience,
  sub,
  iat: nowSeconds(),
  exp: nowSeconds() + 600,
  jti: randomBytes(8).toString('hex'),
});

/** An ES256 token signed with the issuer's key (or `key`), under the issuer's kid (or `kid`; null for none). */
const sign = async (claims: JWTPayload, opts: { key?: CryptoKey; kid?: string | null } = {}) => {
  const kid = opts.kid === undefined ? issuerKey.kid : opts.kid;
  const header: JWTHeaderParameters = { alg: 'ES256', typ: 'at+jwt', ...(kid !== null && { kid }) };
  return keep(await new SignJWT(claims).setProtectedHeader(header).sign(opts.key ?? issuerKey.key));
};

const b64 = (value: unknown) => Buffer.from(JSON.stringify(value)).toString('base64url');

/** Signs `header.payload` with HMAC-SHA256 under `secret`, by hand, as the classic key-confusion attack does. */
const hs256 = (header: Body, payload: Body, secret: string | Buffer) => {
  const input = `${b64(header)}.${b64(payload)}`;
  return `${input}.${createHmac('sha256', secret).update(input).digest('base64url')}`;
};

const mine = '/v1/campaigns?mine=true';

// ---------------------------------------------------------------- the clock

/** Moves the controlled clock forward by `ms` (Date only: timers and I/O run in real time). */
const moveClock = (ms: number) => {
  const target = Date.now() + ms;
  vi.useFakeTimers({ toFake: ['Date'], shouldAdvanceTime: true });
  vi.setSystemTime(target);
};

// ---------------------------------------------------------------- the runtime

/** A registered factory campaigns of this file name. */
const homeFactory = 'factory-identity';

beforeAll(async () => {
  captureOutput();
  runtime = await startTestRuntime({ dataDir, logLevel: 'INFO', accessLog: true });
  keep(runtime.issuer.devClient.clientSecret);
  const jwk = JSON.parse(readFileSync(join(dataDir, 'oidc', 'signing-key.json'), 'utf8')) as JWK & { kid: string };
  const { d: _private, ...publicJwk } = jwk;
  issuerKey = { kid: jwk.kid, key: (await importJWK(jwk, 'ES256')) as CryptoKey, publicJwk };
  foreignKey = (await generateKeyPair('ES256')).privateKey;
});
afterAll(async () => {
  vi.useRealTimers();
  await runtime?.stop();
  restoreOutput();
  rmSync(dataDir, { recursive: true, force: true });
});

/** The home factory's client and a token from its own client credentials. */
let home: { clientId: string; clientSecret: string; token: string };
beforeAll(async () => {
  home = await onboard(homeFactory);
});

// ================================================================ 401

describe('A token c2m cannot verify is 401, whoever made it', () => {
  it("A token the test signs with the issuer's own key is accepted: each crafted token below differs from it in one thing", async () => {
    expect((await call('GET', mine, await sign(anchorClaims('anchor-crafted')))).status).toBe(200);
  });

  it('Without an Authorization header: 401 with a problem body', async () => {
    const reply = await call<Problem>('GET', mine);
    expectProblem(reply, 401);
    expect(reply.body.title).toBe('Unauthorized');
  });

  it('An Authorization header that is not a bearer JWT: 401, even when it holds a real token without "Bearer"', async () => {
    const real = await tokenOf('anchor', 'anchor-raw');
    expect((await call('GET', mine, real)).status).toBe(200);
    for (const header of ['Bearer not-a-jwt', 'Bearer a.b.c', 'Bearer', `Basic ${Buffer.from('c2m-console:x').toString('base64')}`, real, `Token ${real}`]) {
      expectProblem(await call('GET', mine, { header }), 401);
    }
  });

  it('A real token with a claim changed under its old signature: 401, though the untouched token is served', async () => {
    const real = await tokenOf('anchor', 'anchor-tamper');
    const [header, , signature] = real.split('.');
    const claims = decodeJwt(real);
    const forge = (changes: Body) => keep(`${header}.${b64({ ...claims, ...changes })}.${signature}`);
    expect((await call('GET', mine, real)).status).toBe(200);
    expectProblem(await call('GET', mine, forge({ sub: 'anchor-victim' })), 401);
    expectProblem(await call('GET', mine, forge({ exp: (claims.exp ?? 0) + 86_400 })), 401);
    // An anchor who adds the operator group to their token gets nothing more: 403 before, 401 after.
    expectProblem(await call('GET', '/v1/operator/factories', real), 403);
    expectProblem(await call('GET', '/v1/operator/factories', forge({ groups: [identity.operatorGroup] })), 401);
  });

  it('alg none, with the real kid and the claims of a real token: 401', async () => {
    const real = await tokenOf('anchor', 'anchor-none');
    const header = decodeProtectedHeader(real);
    const claims = decodeJwt(real);
    for (const alg of ['none', 'None', 'NONE']) {
      expectProblem(await call('GET', mine, `${b64({ ...header, alg })}.${b64(claims)}.`), 401);
    }
  });

  it("HS256 signed with the issuer's public key as the HMAC secret (its published JWK as JSON, as PEM, as raw bytes), with the real kid: 401", async () => {
    const jwks = (await (await fetch(runtime.issuer.jwksUri)).json()) as { keys: JWK[] };
    const published = jwks.keys.find((k) => k.kid === issuerKey.kid);
    expect(published).toMatchObject({ kty: 'EC', crv: 'P-256', x: issuerKey.publicJwk.x });
    expect(published).not.toHaveProperty('d');
    const pem = await exportSPKI((await importJWK(published as JWK, 'ES256')) as CryptoKey);
    const header = { alg: 'HS256', typ: 'at+jwt', kid: issuerKey.kid };
    const claims = anchorClaims('anchor-hs256');
    for (const secret of [JSON.stringify(published), pem, Buffer.from(published?.x ?? '', 'base64url')]) {
      expectProblem(await call('GET', mine, hs256(header, claims, secret)), 401);
    }
  });

  it('ES256 signed by a key the issuer does not have, under a kid it does not know: 401', async () => {
    expectProblem(await call('GET', mine, await sign(anchorClaims('anchor-foreign'), { key: foreignKey, kid: 'kid-the-issuer-never-had' })), 401);
  });

  it("ES256 signed by a foreign key under the issuer's real kid: 401", async () => {
    expectProblem(await call('GET', mine, await sign(anchorClaims('anchor-foreign'), { key: foreignKey })), 401);
  });

  it("Signed with the issuer's key but naming another issuer (another host, a trailing slash, the API's own URL): 401", async () => {
    for (const iss of ['https://evil.example/oidc', `${runtime.issuer.issuer}/`, runtime.url]) {
      expectProblem(await call('GET', mine, await sign({ ...anchorClaims('anchor-iss'), iss })), 401);
    }
  });

  it("Signed with the issuer's key but for another audience, or for none: 401", async () => {
    for (const aud of ['urn:someone-else', ['urn:someone-else'], undefined]) {
      const { aud: _, ...rest } = anchorClaims('anchor-aud');
      expectProblem(await call('GET', mine, await sign({ ...rest, ...(aud !== undefined && { aud }) })), 401);
    }
  });

  it("nbf five minutes ahead, signed with the issuer's key: 401; the same claims with nbf just past are served", async () => {
    expectProblem(await call('GET', mine, await sign({ ...anchorClaims('anchor-nbf'), nbf: nowSeconds() + 300 })), 401);
    expect((await call('GET', mine, await sign({ ...anchorClaims('anchor-nbf'), nbf: nowSeconds() - 10 }))).status).toBe(200);
  });

  it("No exp, signed with the issuer's key: 401 (a token that never expires is not accepted)", async () => {
    const { exp: _, ...rest } = anchorClaims('anchor-no-exp');
    expectProblem(await call('GET', mine, await sign(rest)), 401);
  });

  it("No iat, or a lifetime past the hour the issuer allows, signed with the issuer's key: 401; an hour exactly is served", async () => {
    const { iat: _, ...noIat } = anchorClaims('anchor-no-iat');
    expectProblem(await call('GET', mine, await sign(noIat)), 401);
    const longLived = { ...anchorClaims('anchor-long'), exp: nowSeconds() + 2 * 3600 };
    expectProblem(await call('GET', mine, await sign(longLived)), 401);
    const hour = { ...anchorClaims('anchor-hour'), exp: nowSeconds() + 3600 };
    expect((await call('GET', mine, await sign(hour))).status).toBe(200);
  });

  it("No kid, signed with the issuer's key: 401", async () => {
    expectProblem(await call('GET', mine, await sign(anchorClaims('anchor-no-kid'), { kid: null })), 401);
  });

  it("A factory-scoped client token, signed with the issuer's key, of a client no operator registered: 401", async () => {
    const clientId = 'fc_000000000000000000000000';
    const claims = { ...anchorClaims(clientId), client_id: clientId, scope: identity.factoryScope };
    expectProblem(await call('GET', '/v1/factory/batches', await sign(claims)), 401);
    // The same claims for the registered client are served: what is refused is the client.
    expect((await call('GET', '/v1/factory/batches', await sign({ ...claims, sub: home.clientId, client_id: home.clientId }))).status).toBe(200);
  });
});

// ================================================================ 403

describe('A valid token of the wrong role is 403', () => {
  it('A buyer on an operator route, a factory on an anchor route, an anchor on a factory route, a live room on a buyer route: 403', async () => {
    const buyer = await tokenOf('buyer', 'buyer-wrong-role');
    expectProblem(await call('POST', '/v1/operator/factories', buyer, { factoryId: 'factory-by-buyer', name: 'x' }), 403);
    expectProblem(await call('POST', '/v1/campaigns', home.token, campaignDraft({ factoryId: homeFactory })), 403);
    expectProblem(await call('GET', '/v1/factory/batches', await tokenOf('anchor', 'anchor-wrong-role')), 403);
    expectProblem(await call('GET', '/v1/preorders?mine=true', await tokenOf('liveroom', 'room-wrong-role')), 403);
    // Each of them is served where its role belongs.
    expect((await call('GET', '/v1/preorders?mine=true', buyer)).status).toBe(200);
    expect((await call('GET', '/v1/factory/batches', home.token)).status).toBe(200);
  });

  it("A client-credentials token without the factory scope is 403: the issuer will not mint one, so it is signed with the issuer's key", async () => {
    // The factory's client is allowed c2m/factory only: asking for another scope is refused by the issuer.
    await expect(clientCredentialsToken(runtime.issuer.tokenEndpoint, home.clientId, home.clientSecret, 'openid')).rejects.toThrow(/invalid_scope/);
    const asIssued = decodeJwt(home.token);
    const claims = { ...anchorClaims(home.clientId), client_id: home.clientId };
    expectProblem(await call('GET', '/v1/factory/batches', await sign({ ...claims, scope: 'openid' })), 403);
    expectProblem(await call('GET', '/v1/factory/batches', await sign(claims)), 403);
    // With the scope it was issued, the same claims are served.
    expect(asIssued.scope).toContain(identity.factoryScope);
    expect((await call('GET', '/v1/factory/batches', await sign({ ...claims, scope: asIssued.scope }))).status).toBe(200);
  });

  it("A verified user token whose subject c2m cannot use as an id names no role: 403", async () => {
    expectProblem(await call('GET', mine, await sign(anchorClaims('has space'))), 403);
    expectProblem(await call('GET', mine, await sign(anchorClaims('x'.repeat(65)))), 403);
  });
});

// ================================================================ who may call what

type Access = readonly Role[] | 'public';
/** Every role but the platform, whose payment routes are its own: what a route "for everyone" serves. */
const everyone: readonly Role[] = ['anchor', 'buyer', 'factory', 'liveroom', 'operator'];

/** The specification: who each route serves. A route added to the topology without a line here fails the test. */
const whoMayCall: Record<string, Access> = {
  'GET /v1/health': 'public',
  'GET /v1/openapi.json': 'public',
  'POST /v1/campaigns': ['anchor'],
  'GET /v1/campaigns': ['anchor'],
  'GET /v1/campaigns/{campaignId}': everyone,
  'POST /v1/campaigns/{campaignId}/close': ['anchor', 'operator'],
  'PATCH /v1/campaigns/{campaignId}': ['anchor', 'operator'],
  'GET /v1/campaigns/{campaignId}/demand': ['anchor', 'operator'],
  'GET /v1/campaigns/{campaignId}/demand/history': ['anchor', 'operator'],
  'GET /v1/campaigns/{campaignId}/batches': ['anchor', 'operator'],
  'GET /v1/campaigns/{campaignId}/preorders': ['anchor', 'operator'],
  'GET /v1/campaigns/{campaignId}/trust': everyone,
  'GET /v1/campaigns/{campaignId}/attribution': ['anchor', 'operator'],
  'POST /v1/campaigns/{campaignId}/preorders': ['buyer'],
  'GET /v1/preorders': ['buyer'],
  'GET /v1/preorders/{preorderId}': ['buyer', 'operator'],
  'POST /v1/preorders/{preorderId}/cancel': ['buyer'],
  'PUT /v1/preorders/{preorderId}/shipping-address': ['buyer'],
  'POST /v1/preorders/{preorderId}/switch': ['buyer'],
  'POST /v1/signals': ['liveroom'],
  'GET /v1/factory/forecasts': ['factory'],
  'GET /v1/factory/batches': ['factory'],
  'GET /v1/factory/batches/{batchId}': ['factory'],
  'GET /v1/factory/batches/{batchId}/manifest': ['factory'],
  'GET /v1/factory/batches/{batchId}/shipments': ['factory'],
  'GET /v1/factory/shipments/{shipmentId}': ['factory'],
  'POST /v1/factory/batches/{batchId}/accept': ['factory'],
  'POST /v1/factory/batches/{batchId}/reject': ['factory'],
  'POST /v1/factory/batches/{batchId}/progress': ['factory'],
  'POST /v1/factory/batches/{batchId}/shipments': ['factory'],
  'POST /v1/factory/batches/{batchId}/close-short': ['factory'],
  'POST /v1/factory/shipments/{shipmentId}/delivered': ['factory'],
  'POST /v1/factory/shipments/{shipmentId}/parcels': ['factory'],
  'POST /v1/factory/shipments/{shipmentId}/parcels/{preorderId}/delivered': ['factory'],
  'GET /v1/factory/trust': ['factory'],
  'POST /v1/factory/webhooks': ['factory'],
  'GET /v1/factory/webhooks': ['factory'],
  'GET /v1/factory/webhooks/{webhookId}/deliveries': ['factory'],
  'POST /v1/factory/webhooks/{webhookId}/deliveries/{deliveryId}/retry': ['factory'],
  'PATCH /v1/factory/webhooks/{webhookId}': ['factory'],
  'DELETE /v1/factory/webhooks/{webhookId}': ['factory'],
  'POST /v1/factory/webhooks/{webhookId}/rotate-secret': ['factory'],
  'POST /v1/factory/webhooks/{webhookId}/test': ['factory'],
  'GET /v1/factory/events': ['factory'],
  'POST /v1/operator/factories': ['operator'],
  'GET /v1/operator/factories': ['operator'],
  'POST /v1/operator/factories/{factoryId}/revoke': ['operator'],
  'GET /v1/payments/refunds': ['platform'],
  'POST /v1/payments/refunds/{refundId}/confirm': ['platform'],
  'POST /v1/payments/balances': ['platform'],
  'GET /v1/payments/balances': ['platform'],
};

describe('Who may call what', () => {
  it('Every route answers every role as the table says: 403 to a role it does not serve, never 401 or 403 to one it does, 401 without a token', async () => {
    const served = routes.map((r) => `${r.method} ${r.path}`).sort();
    expect(Object.keys(whoMayCall).sort()).toEqual(served);
    for (const r of routes) expect(whoMayCall[`${r.method} ${r.path}`] === 'public', `${r.method} ${r.path} needs a token`).toBe(!r.auth);

    const tokens: Record<Role, string> = {
      anchor: await tokenOf('anchor', 'anchor-matrix'),
      buyer: await tokenOf('buyer', 'buyer-matrix'),
      factory: home.token,
      liveroom: await tokenOf('liveroom', 'room-matrix'),
      operator: await tokenOf('operator', 'operator-matrix'),
      platform: await tokenOf('platform', 'platform-matrix'),
    };
    // Well-formed ids that do not exist: a served role gets 404 (or 400 for the empty body), never a change.
    const ids: Record<string, string> = {
      campaignId: 'cmp_000000000000000000000000',
      preorderId: 'po_000000000000000000000000',
      batchId: 'bat_000000000000000000000000',
      shipmentId: 'shp_000000000000000000000000',
      webhookId: 'whk_000000000000000000000000',
      deliveryId: 'dlv_000000000000000000000000',
      factoryId: 'factory-never-registered',
      refundId: 'rf_000000000000000000000000_1',
    };
    const wrong: string[] = [];
    let served403 = 0;
    let servedOk = 0;
    for (const route of routes) {
      const key = `${route.method} ${route.path}`;
      const path = route.path.replace(/\{(\w+)\}/g, (_, name: string) => ids[name] ?? 'missing');
      const body = route.method === 'GET' ? undefined : {};
      const access = whoMayCall[key] as Access;
      const anonymous = await call(route.method, path, undefined, body);
      if (access === 'public') {
        if (anonymous.status !== 200) wrong.push(`${key} without a token: ${anonymous.status}, expected 200`);
        continue;
      }
      if (anonymous.status !== 401) wrong.push(`${key} without a token: ${anonymous.status}, expected 401`);
      for (const role of roles) {
        const reply = await call(route.method, path, tokens[role], body);
        if (!access.includes(role)) {
          if (reply.status === 403) served403++;
          else wrong.push(`${key} as ${role}: ${reply.status}, expected 403`);
        } else if (reply.status === 401 || reply.status === 403 || reply.status >= 500) {
          wrong.push(`${key} as ${role}: ${reply.status} ${JSON.stringify(reply.body)}, expected to be served`);
        } else servedOk++;
      }
    }
    expect(wrong).toEqual([]);
    expect(served403 + servedOk).toBe(routes.filter((r) => r.auth).length * roles.length);
  });

  it("Another tenant's ids are 404, as if they did not exist: anchor B on A's campaign, buyer B on A's pre-order, factory B on A's batch; nothing changes", async () => {
    const anchorA = await tokenOf('anchor', 'anchor-owner-a');
    const anchorB = await tokenOf('anchor', 'anchor-owner-b');
    const buyerA = await tokenOf('buyer', 'buyer-owner-a');
    const buyerB = await tokenOf('buyer', 'buyer-owner-b');
    const factoryB = await onboard('factory-identity-b');

    const created = await call<{ campaignId: string }>('POST', '/v1/campaigns', anchorA, campaignDraft({ factoryId: homeFactory, lotSize: 1, minTotalQuantity: 1 }));
    expect(created.status, JSON.stringify(created.body)).toBe(201);
    const campaignId = created.body.campaignId;
    expectProblem(await call('POST', `/v1/campaigns/${campaignId}/close`, anchorB), 404);
    expectProblem(await call('GET', `/v1/campaigns/${campaignId}/demand`, anchorB), 404);
    // The public view is not the owner's: no owner, no factory.
    const publicView = await call('GET', `/v1/campaigns/${campaignId}`, anchorB);
    expect(publicView.status).toBe(200);
    expect(publicView.body).not.toHaveProperty('anchorId');
    expect(publicView.body).not.toHaveProperty('factoryId');
    expect((await call<{ items: unknown[] }>('GET', mine, anchorB)).body.items).toEqual([]);

    const placed = await call<{ preorderId: string }>('POST', `/v1/campaigns/${campaignId}/preorders`, buyerA, preorderDraft());
    expect(placed.status, JSON.stringify(placed.body)).toBe(202);
    const preorderId = placed.body.preorderId;
    const elsewhere = { ...preorderDraft().shippingAddress, line1: '1 Elsewhere Road' };
    expectProblem(await call('GET', `/v1/preorders/${preorderId}`, buyerB), 404);
    expectProblem(await call('POST', `/v1/preorders/${preorderId}/cancel`, buyerB), 404);
    expectProblem(await call('PUT', `/v1/preorders/${preorderId}/shipping-address`, buyerB, elsewhere), 404);
    expectProblem(await call('POST', `/v1/preorders/${preorderId}/switch`, buyerB, { sku: 'SHIRT-S' }), 404);
    expect((await call<{ items: unknown[] }>('GET', '/v1/preorders?mine=true', buyerB)).body.items).toEqual([]);

    type Batches = { items: { batchId: string; campaignId: string; status: string }[] };
    const released = await until(
      'the batch of the campaign',
      () => call<Batches>('GET', '/v1/factory/batches', home.token),
      (r) => r.body.items.some((b) => b.campaignId === campaignId),
    );
    const batchId = released.body.items.find((b) => b.campaignId === campaignId)?.batchId as string;
    expectProblem(await call('GET', `/v1/factory/batches/${batchId}`, factoryB.token), 404);
    expectProblem(await call('GET', `/v1/factory/batches/${batchId}/manifest`, factoryB.token), 404);
    expectProblem(await call('POST', `/v1/factory/batches/${batchId}/accept`, factoryB.token, { committedShipDate: '2099-12-24' }), 404);
    expectProblem(await call('POST', `/v1/factory/batches/${batchId}/reject`, factoryB.token, { reason: 'not mine' }), 404);
    expect((await call<Batches>('GET', '/v1/factory/batches', factoryB.token)).body.items).toEqual([]);

    // The owners see everything as it was.
    expect((await call('GET', `/v1/campaigns/${campaignId}`, anchorA)).body).toMatchObject({ status: 'OPEN', anchorId: 'anchor-owner-a', factoryId: homeFactory });
    expect((await call('GET', `/v1/campaigns/${campaignId}/demand`, anchorA)).status).toBe(200);
    const own = await call<{ status: string; shippingAddress: { line1: string } }>('GET', `/v1/preorders/${preorderId}`, buyerA);
    expect(own.status).toBe(200);
    expect(own.body.status).not.toMatch(/CANCELLED|REFUNDED/);
    expect(own.body.shippingAddress.line1).toBe(preorderDraft().shippingAddress.line1);
    expect((await call('GET', `/v1/factory/batches/${batchId}`, home.token)).body).toMatchObject({ batchId, status: 'RELEASED' });
  });
});

// ================================================================ factories

type FactoryList = { items: { factoryId: string; name: string; status: string; clientId: string; revokedAt?: string }[] };
const listFactories = async () => call<FactoryList>('GET', '/v1/operator/factories?limit=200', await tokenOf('operator', 'operator-identity'));

describe('An operator onboards a factory', () => {
  it('Registering answers a client id and a secret shown once; with them the factory gets an ES256 token for c2m and reads its batches', async () => {
    const operator = await tokenOf('operator', 'operator-onboard');
    const reply = await registerFactory('factory-onboarded', operator);
    expect(reply.status, JSON.stringify(reply.body)).toBe(201);
    expect(reply.headers.get('cache-control')).toBe('no-store');
    expect(reply.body).toEqual({
      factoryId: 'factory-onboarded',
      clientId: expect.any(String),
      clientSecret: expect.any(String),
      scope: identity.factoryScope,
      status: 'ACTIVE',
    });
    const { clientId, clientSecret } = reply.body;
    expect(clientSecret.length).toBeGreaterThanOrEqual(32);

    const list = await call<FactoryList>('GET', '/v1/operator/factories?limit=200', operator);
    expect(list.status).toBe(200);
    const entry = list.body.items.find((f) => f.factoryId === 'factory-onboarded');
    expect(entry).toMatchObject({ name: 'Factory factory-onboarded', status: 'ACTIVE', clientId });
    expect(entry).not.toHaveProperty('clientSecret');
    expect(JSON.stringify(list.body)).not.toContain(clientSecret);

    const token = keep(await clientCredentialsToken(runtime.issuer.tokenEndpoint, clientId, clientSecret));
    expect(decodeProtectedHeader(token)).toMatchObject({ alg: 'ES256', kid: issuerKey.kid });
    const claims = decodeJwt(token);
    expect(claims.iss).toBe(runtime.issuer.issuer);
    expect([claims.aud].flat()).toEqual(['urn:c2m:api']);
    expect(claims.exp).toBeGreaterThan(nowSeconds());
    expect((claims.exp ?? 0) - (claims.iat ?? 0)).toBeLessThanOrEqual(identity.accessTokenTtlSeconds);
    expect(String(claims.scope).split(' ')).toContain(identity.factoryScope);
    expect(claims).toMatchObject({ sub: clientId, client_id: clientId });

    const batches = await call<{ items: unknown[] }>('GET', '/v1/factory/batches', token);
    expect(batches.status).toBe(200);
    expect(batches.body.items).toEqual([]);
  });

  it('A factory id with a colon (allowed by the API, not in a Cognito client name) registers, and its token acts as that id', async () => {
    const { token } = await onboard('acme:sz-1');
    expect((await call('GET', '/v1/factory/batches', token)).status).toBe(200);
    expect((await call('GET', '/v1/factory/trust', token)).status).toBe(200);
  });

  it('Registering an active factory again is 409 and leaves its client as it was', async () => {
    const again = await registerFactory(homeFactory);
    expectProblem(again, 409);
    expect(again.body).not.toHaveProperty('clientSecret');
    expect((await listFactories()).body.items.filter((f) => f.factoryId === homeFactory)).toEqual([
      expect.objectContaining({ status: 'ACTIVE', clientId: home.clientId }),
    ]);
    expect((await call('GET', '/v1/factory/batches', keep(await clientCredentialsToken(runtime.issuer.tokenEndpoint, home.clientId, home.clientSecret)))).status).toBe(200);
  });

  it('Only an operator registers, lists and revokes: every other role is 403 and nothing is registered or revoked', async () => {
    const others = [
      await tokenOf('anchor', 'anchor-registrar'),
      await tokenOf('buyer', 'buyer-registrar'),
      await tokenOf('liveroom', 'room-registrar'),
      await tokenOf('platform', 'platform-registrar'),
      home.token,
    ];
    for (const token of others) {
      expectProblem(await registerFactory('factory-by-stranger', token), 403);
      expectProblem(await call('GET', '/v1/operator/factories', token), 403);
      expectProblem(await call('POST', `/v1/operator/factories/${homeFactory}/revoke`, token), 403);
    }
    const list = (await listFactories()).body.items;
    expect(list.map((f) => f.factoryId)).not.toContain('factory-by-stranger');
    expect(list.find((f) => f.factoryId === homeFactory)?.status).toBe('ACTIVE');
  });

  it('A bad registration is 400 naming the field, and registers nothing', async () => {
    const operator = await tokenOf('operator', 'operator-onboard');
    const factoryId = 'factory-bad-body';
    const cases: [string, unknown, string][] = [
      ['no factoryId', { name: 'Works' }, 'factoryId'],
      ['a factoryId with a space', { factoryId: 'has space', name: 'Works' }, 'factoryId'],
      ['a factoryId of 65 characters', { factoryId: 'f'.repeat(65), name: 'Works' }, 'factoryId'],
      ['no name', { factoryId }, 'name'],
      ['a blank name', { factoryId, name: '   ' }, 'name'],
      ['a clientId, which c2m creates itself', { factoryId, name: 'Works', clientId: 'my-own-client' }, 'clientId'],
      ['an unknown field', { factoryId, name: 'Works', secret: 'x' }, '(body)'],
    ];
    for (const [what, body, field] of cases) {
      const reply = await call<Problem>('POST', '/v1/operator/factories', operator, body);
      expectProblem(reply, 400);
      expect(reply.body.errors?.map((e) => e.path), what).toContain(field);
    }
    expect((await listFactories()).body.items.map((f) => f.factoryId)).not.toContain(factoryId);
    // Nothing half-written: the same id registers cleanly now.
    expect((await registerFactory(factoryId, operator)).status).toBe(201);
  });
});

describe('The factory list', () => {
  it('pages newest first by cursor, each factory once, ids with any allowed character; a cursor it did not give out is 400', async () => {
    const operator = await tokenOf('operator', 'operator-pager');
    for (const id of ['pager.a', 'pager:b', 'pager_c']) expect((await registerFactory(id, operator)).status).toBe(201);
    const whole = (await listFactories()).body.items.map((f) => f.factoryId);
    const paged: string[] = [];
    let cursor: string | undefined;
    do {
      const page = await call<FactoryList & { nextCursor?: string }>(
        'GET',
        `/v1/operator/factories?limit=2${cursor ? `&cursor=${encodeURIComponent(cursor)}` : ''}`,
        operator,
      );
      expect(page.status).toBe(200);
      expect(page.body.items.length).toBeLessThanOrEqual(2);
      paged.push(...page.body.items.map((f) => f.factoryId));
      cursor = page.body.nextCursor;
    } while (cursor);
    expect(paged).toEqual(whole);
    expect(new Set(paged).size).toBe(paged.length);
    expect(paged.indexOf('pager_c')).toBeLessThan(paged.indexOf('pager:b'));
    expect(paged.indexOf('pager:b')).toBeLessThan(paged.indexOf('pager.a'));
    const forged = Buffer.from(JSON.stringify({ GSI1SK: 'FACTORY#x' })).toString('base64url');
    const refused = await call<Problem>('GET', `/v1/operator/factories?cursor=${forged}`, operator);
    expectProblem(refused, 400);
    expect(JSON.stringify(refused.body)).toMatch(/cursor/);
  });
});

describe('A campaign names only registered, active factories', () => {
  it('An unregistered factoryId or a revoked backupFactoryId is 400 naming the field and writes nothing; once registered, the same Idempotency-Key creates the campaign', async () => {
    const anchor = await tokenOf('anchor', 'anchor-binding');
    const late = 'factory-binding-late';
    const gone = 'factory-binding-revoked';
    await onboard(gone);
    expect((await revoke(gone)).status).toBe(200);
    const key = `binding-${randomBytes(6).toString('hex')}`;
    const draft = campaignDraft({ factoryId: late });

    const unregistered = await call<Problem>('POST', '/v1/campaigns', anchor, draft, { 'Idempotency-Key': key });
    expectProblem(unregistered, 400);
    expect(unregistered.body.errors).toEqual([{ path: 'factoryId', message: expect.stringMatching(/not registered/), code: 'factory_not_registered', params: { factoryId: expect.any(String) } }]);

    const revokedBackup = await call<Problem>('POST', '/v1/campaigns', anchor, campaignDraft({ factoryId: homeFactory, backupFactoryId: gone }));
    expectProblem(revokedBackup, 400);
    expect(revokedBackup.body.errors).toEqual([{ path: 'backupFactoryId', message: expect.stringMatching(/revoked/), code: 'factory_revoked', params: { factoryId: expect.any(String) } }]);

    const bothWrong = await call<Problem>('POST', '/v1/campaigns', anchor, campaignDraft({ factoryId: late, backupFactoryId: gone }));
    expectProblem(bothWrong, 400);
    expect(bothWrong.body.errors?.map((e) => e.path).sort()).toEqual(['backupFactoryId', 'factoryId']);

    expect((await call<{ items: unknown[] }>('GET', mine, anchor)).body.items).toEqual([]);

    await onboard(late);
    const created = await call<{ campaignId: string; factoryId: string }>('POST', '/v1/campaigns', anchor, draft, { 'Idempotency-Key': key });
    expect(created.status, JSON.stringify(created.body)).toBe(201);
    expect(created.body.factoryId).toBe(late);
    const replay = await call<{ campaignId: string }>('POST', '/v1/campaigns', anchor, draft, { 'Idempotency-Key': key });
    expect(replay.body.campaignId).toBe(created.body.campaignId);
    const listed = await call<{ items: { campaignId: string }[] }>('GET', mine, anchor);
    expect(listed.body.items.map((c) => c.campaignId)).toEqual([created.body.campaignId]);
  });
});

// ================================================================ the platform

/** One client as the local issuer keeps it in its data directory (the platform's secret is only there). */
const storedClient = (clientId: string) => {
  const clients = JSON.parse(readFileSync(join(dataDir, 'oidc', 'Client.json'), 'utf8')) as Record<string, { payload: Record<string, unknown> & { client_secret: string } }>;
  const stored = clients[clientId];
  if (!stored) throw new Error(`the issuer keeps no client ${clientId}`);
  return stored.payload;
};

/** What the route itself answers a role it does not serve: only a token the authorizer named a principal reaches it. */
const refusedByRoute = (role: Role) => new RegExp(`^Role ${role} may not call this route`);

describe("The platform (the live platform's payment service) is a client of its own, and a principal of its own", () => {
  const buyerRoute = '/v1/preorders?mine=true';

  it('A dev-grant token for the platform is the one its client credentials would get: ES256 for c2m, sub and client_id the id, scope c2m/platform alone', async () => {
    const token = await tokenOf('platform', 'pay-svc');
    expect(decodeProtectedHeader(token)).toMatchObject({ alg: 'ES256', kid: issuerKey.kid });
    const claims = decodeJwt(token);
    expect(claims).toMatchObject({ iss: runtime.issuer.issuer, sub: 'pay-svc', client_id: 'pay-svc', scope: identity.platformScope });
    expect([claims.aud].flat()).toEqual([runtime.issuer.audience]);
    expect((claims.exp ?? 0) - (claims.iat ?? 0)).toBeLessThanOrEqual(identity.accessTokenTtlSeconds);
  });

  it("The runtime takes it as the platform: a buyer route answers 403 from the route itself, naming the role platform; a client token without the platform scope is refused by the gateway before any route, as no role", async () => {
    const platform = await call<Problem>('GET', buyerRoute, await tokenOf('platform', 'pay-svc'));
    expectProblem(platform, 403);
    expect(platform.body.detail).toMatch(refusedByRoute('platform'));

    // The same client's claims without the platform scope, or with the factory scope as well: no role, denied at the gateway.
    const claims = { ...anchorClaims('pay-svc'), client_id: 'pay-svc' };
    for (const scope of [undefined, 'openid', `${identity.platformScope}-admin`, `${identity.platformScope} ${identity.factoryScope}`]) {
      const reply = await call<Problem>('GET', buyerRoute, await sign({ ...claims, ...(scope !== undefined && { scope }) }));
      expectProblem(reply, 403);
      expect(reply.body.detail, `scope ${String(scope)}`).toBe(gatewayResponses.ACCESS_DENIED.detail);
    }
    // With the scope alone, the same signed claims are the platform again: what decided was the scope.
    const scoped = await call<Problem>('GET', buyerRoute, await sign({ ...claims, scope: identity.platformScope }));
    expect(scoped.body.detail).toMatch(refusedByRoute('platform'));
    // A factory's real client token is a factory, not the platform.
    expect((await call<Problem>('GET', buyerRoute, home.token)).body.detail).toMatch(refusedByRoute('factory'));
  });

  it("The authorizer names it platform:pay-svc, as API Gateway calls it with the runtime's issuer trusted", async () => {
    const { handler } = await import('../../functions/handlers/auth/authorizer.ts');
    const { withEnvironment } = await import('../../functions/shared/config.ts');
    const env = {
      TRUSTED_ISSUERS: JSON.stringify([
        { issuer: runtime.issuer.issuer, jwksUri: runtime.issuer.jwksUri, audience: runtime.issuer.audience, names: ['c2m', 'platform'] },
      ]),
      TABLE_NAME: runtime.tableName,
    };
    const token = await tokenOf('platform', 'pay-svc');
    const decision = await withEnvironment(env, () =>
      handler({ type: 'TOKEN', authorizationToken: `Bearer ${token}`, methodArn: 'arn:aws:execute-api:us-east-1:000000000000:local/prod/POST/v1/payments/balances' }),
    );
    expect(decision).toMatchObject({
      principalId: 'platform:pay-svc',
      context: { role: 'platform', sub: 'pay-svc' },
      policyDocument: { Statement: [expect.objectContaining({ Effect: 'Allow' })] },
    });
  });

  it("With the platform client's own id and secret, the token endpoint gives the same token; the client may ask for its scope and no other, and a wrong secret gets nothing", async () => {
    await tokenOf('platform', 'pay-svc');
    const stored = storedClient('pay-svc');
    expect(stored).toMatchObject({
      client_id: 'pay-svc',
      grant_types: ['client_credentials'],
      scope: identity.platformScope,
      token_endpoint_auth_method: 'client_secret_basic',
    });
    const secret = keep(stored.client_secret);
    expect(secret.length).toBeGreaterThanOrEqual(32);

    for (const scope of [undefined, identity.platformScope]) {
      const token = keep(await clientCredentialsToken(runtime.issuer.tokenEndpoint, 'pay-svc', secret, scope));
      expect(decodeJwt(token), `scope asked: ${String(scope)}`).toMatchObject({ sub: 'pay-svc', client_id: 'pay-svc', scope: identity.platformScope });
      expect((await call<Problem>('GET', buyerRoute, token)).body.detail).toMatch(refusedByRoute('platform'));
    }
    await expect(clientCredentialsToken(runtime.issuer.tokenEndpoint, 'pay-svc', secret, identity.factoryScope)).rejects.toThrow(/invalid_scope/);
    await expect(clientCredentialsToken(runtime.issuer.tokenEndpoint, 'pay-svc', keep(randomBytes(32).toString('base64url')))).rejects.toThrow(/invalid_client/);

    // Made once: asking again keeps the client and its secret.
    await runtime.token('platform', 'pay-svc');
    expect(storedClient('pay-svc').client_secret).toBe(secret);
  });

  it("The dev grant makes no platform of a client that is something else: the issuer's own clients and a factory's client are refused, and stay as they were", async () => {
    for (const taken of ['c2m-local-dev', 'c2m-console']) {
      await expect(runtime.token('platform', taken)).rejects.toThrow(/a client of the local issuer itself/);
    }
    await expect(runtime.token('platform', home.clientId)).rejects.toThrow(/not a platform client/);
    expect(storedClient(home.clientId).scope).toBe(identity.factoryScope);
    expect((await call('GET', '/v1/factory/batches', home.token)).status).toBe(200);
  });
});

// ================================================================ signing in

const consoleClient = 'c2m-console';

const browser = cookieBrowser;

/** Signs in through the issuer's pages as a browser would, up to the redirect back to the console with a code. */
const signIn = async (username: string, opts: { operator?: boolean } = {}) => {
  const visit = browser();
  const verifier = keep(randomBytes(32).toString('base64url'));
  const challenge = createHash('sha256').update(verifier).digest('base64url');
  const redirectUri = `${runtime.url}/console/callback`;
  const query = new URLSearchParams({
    client_id: consoleClient,
    response_type: 'code',
    redirect_uri: redirectUri,
    scope: 'openid',
    code_challenge: challenge,
    code_challenge_method: 'S256',
    state: 'xyz',
  });
  let res = await visit(`${runtime.url}/oidc/auth?${query}`);
  expect([302, 303]).toContain(res.status);
  let location = new URL(res.headers.get('location') ?? '', runtime.url);
  expect(location.pathname).toMatch(/^\/oidc\/interaction\/[\w-]+$/);

  const page = await visit(location.href);
  expect(page.status).toBe(200);
  const html = await page.text();
  const action = /<form[^>]*action="([^"]+)"/.exec(html)?.[1];
  expect(action).toBe(`${location.pathname}/login`);

  res = await visit(new URL(action ?? '', runtime.url).href, {
    method: 'POST',
    headers: { 'content-type': 'application/x-www-form-urlencoded' },
    body: new URLSearchParams({ username, ...(opts.operator && { operator: 'on' }) }).toString(),
  });
  for (let hops = 0; ; hops++) {
    expect(hops, 'redirects before the console callback').toBeLessThan(10);
    expect([302, 303], `hop ${hops}`).toContain(res.status);
    location = new URL(res.headers.get('location') ?? '', runtime.url);
    if (location.href.startsWith(redirectUri)) break;
    res = await visit(location.href);
  }
  expect(location.origin + location.pathname).toBe(redirectUri);
  expect(location.searchParams.get('state')).toBe('xyz');
  const code = keep(location.searchParams.get('code') ?? '');
  expect(code).not.toBe('');
  return { code, verifier, redirectUri, html };
};

const exchange = async (code: string, redirectUri: string, verifier: string | undefined) => {
  const res = await fetch(runtime.issuer.tokenEndpoint, {
    method: 'POST',
    headers: { 'content-type': 'application/x-www-form-urlencoded' },
    body: new URLSearchParams({
      grant_type: 'authorization_code',
      code,
      redirect_uri: redirectUri,
      client_id: consoleClient,
      ...(verifier !== undefined && { code_verifier: verifier }),
    }),
  });
  const body = (await res.json()) as { access_token?: string; error?: string };
  keep(body.access_token);
  return { status: res.status, body };
};

describe('Anchors and operators sign in through the issuer (authorization code + PKCE)', () => {
  it('An anchor signs in by name on the bilingual page, gets a token for c2m naming them, and creates a campaign they own', async () => {
    const { code, verifier, redirectUri, html } = await signIn('anchor-signed-in');
    expect(html).toContain('登录');
    expect(html).toContain('Sign in');
    const token = await exchange(code, redirectUri, verifier);
    expect(token.status, JSON.stringify(token.body)).toBe(200);
    const accessToken = token.body.access_token as string;
    expect(decodeProtectedHeader(accessToken)).toMatchObject({ alg: 'ES256', kid: issuerKey.kid });
    expect(decodeJwt(accessToken)).toMatchObject({ sub: 'anchor-signed-in', iss: runtime.issuer.issuer, aud: 'urn:c2m:api' });

    const created = await call<{ campaignId: string; anchorId: string }>('POST', '/v1/campaigns', accessToken, campaignDraft({ factoryId: homeFactory }));
    expect(created.status, JSON.stringify(created.body)).toBe(201);
    expect(created.body.anchorId).toBe('anchor-signed-in');
    const listed = await call<{ items: { campaignId: string }[] }>('GET', mine, accessToken);
    expect(listed.body.items.map((c) => c.campaignId)).toEqual([created.body.campaignId]);
    expectProblem(await call('GET', '/v1/operator/factories', accessToken), 403);
  });

  it('Ticking operator gives a token that lists the factories', async () => {
    const { code, verifier, redirectUri } = await signIn('operator-signed-in', { operator: true });
    const token = await exchange(code, redirectUri, verifier);
    expect(token.status, JSON.stringify(token.body)).toBe(200);
    const accessToken = token.body.access_token as string;
    expect(decodeJwt(accessToken)).toMatchObject({ sub: 'operator-signed-in', groups: [identity.operatorGroup] });
    const list = await call<FactoryList>('GET', '/v1/operator/factories', accessToken);
    expect(list.status).toBe(200);
    expect(list.body.items.map((f) => f.factoryId)).toContain(homeFactory);
    expectProblem(await call('POST', '/v1/campaigns', accessToken, campaignDraft({ factoryId: homeFactory })), 403);
  });

  it('The code is refused without its code_verifier and with another one, then exchanged with its own', async () => {
    const { code, verifier, redirectUri } = await signIn('anchor-pkce');
    const without = await exchange(code, redirectUri, undefined);
    expect(without.status).toBe(400);
    expect(without.body.access_token).toBeUndefined();
    expect(without.body.error).toMatch(/invalid_(grant|request)/);
    const another = await exchange(code, redirectUri, randomBytes(32).toString('base64url'));
    expect(another.status).toBe(400);
    expect(another.body.error).toBe('invalid_grant');
    const own = await exchange(code, redirectUri, verifier);
    expect(own.status, JSON.stringify(own.body)).toBe(200);
    expect(decodeJwt(own.body.access_token as string).sub).toBe('anchor-pkce');
  });
});

// ================================================================ discovery

describe('A client finds the issuer from the API', () => {
  it("The OpenAPI document's security scheme is the issuer's discovery document, which names the token endpoint, the JWKS and the client-credentials grant", async () => {
    type Doc = { components: { securitySchemes: Record<string, unknown> }; paths: Record<string, Record<string, { security?: unknown }>> };
    const doc = await call<Doc>('GET', '/v1/openapi.json');
    expect(doc.status).toBe(200);
    const discoveryUrl = `${runtime.url}/oidc/.well-known/openid-configuration`;
    expect(doc.body.components.securitySchemes).toEqual({
      oidc: expect.objectContaining({ type: 'openIdConnect', openIdConnectUrl: discoveryUrl }),
    });
    // Every route that needs a token says so with this scheme.
    for (const route of routes.filter((r) => r.auth)) {
      expect(doc.body.paths[route.path]?.[route.method.toLowerCase()]?.security, `${route.method} ${route.path}`).toEqual([{ oidc: [] }]);
    }

    const config = (await (await fetch(discoveryUrl)).json()) as { issuer: string; token_endpoint: string; jwks_uri: string; grant_types_supported: string[] };
    expect(config).toMatchObject({ issuer: `${runtime.url}/oidc`, token_endpoint: `${runtime.url}/oidc/token`, jwks_uri: `${runtime.url}/oidc/jwks` });
    expect(config.grant_types_supported).toEqual(expect.arrayContaining(['client_credentials', 'authorization_code']));
    const jwks = (await (await fetch(config.jwks_uri)).json()) as { keys: JWK[] };
    expect(jwks.keys.map((k) => k.kid)).toContain(decodeProtectedHeader(home.token).kid);
    for (const k of jwks.keys) expect(k).not.toHaveProperty('d');
  });
});

// ================================================================ the authorizer alone

describe('The authorizer, called as API Gateway calls it, trusting an issuer whose keys the test holds', () => {
  // The local issuer never mints nbf; the HTTP test above signs one with the issuer's key from its
  // data directory. Here the handler runs alone, trusting a JWKS served by this test.
  let jwksServer: Server;
  let env: Record<string, string>;
  let issuer: string;
  const keys = {} as Record<'ES256' | 'RS256' | 'ES384', CryptoKey>;
  const audience = 'urn:c2m:test';

  beforeAll(async () => {
    const published: JWK[] = [];
    for (const alg of ['ES256', 'RS256', 'ES384'] as const) {
      const pair = await generateKeyPair(alg);
      keys[alg] = pair.privateKey;
      published.push({ ...(await exportJWK(pair.publicKey)), kid: `test-${alg}`, alg, use: 'sig' });
    }
    jwksServer = createServer((_req, res) => res.writeHead(200, { 'content-type': 'application/json' }).end(JSON.stringify({ keys: published })));
    await new Promise<void>((r) => jwksServer.listen(0, '127.0.0.1', r));
    const base = `http://127.0.0.1:${(jwksServer.address() as { port: number }).port}`;
    issuer = `${base}/issuer`;
    env = {
      TRUSTED_ISSUERS: JSON.stringify([{ issuer, jwksUri: `${base}/jwks`, audience, names: ['c2m'] }]),
      TABLE_NAME: runtime.tableName,
    };
  });
  afterAll(() => new Promise<void>((r) => jwksServer?.close(() => r())));

  const claims = (sub: string): JWTPayload => ({ iss: issuer, aud: audience, sub, iat: nowSeconds(), exp: nowSeconds() + 600 });
  const signedBy = (alg: keyof typeof keys, payload: JWTPayload) =>
    new SignJWT(payload).setProtectedHeader({ alg, kid: `test-${alg}` }).sign(keys[alg]);
  const authorize = async (token: string): Promise<APIGatewayAuthorizerResult> => {
    const { handler } = await import('../../functions/handlers/auth/authorizer.ts');
    const { withEnvironment } = await import('../../functions/shared/config.ts');
    return withEnvironment(env, () =>
      handler({ type: 'TOKEN', authorizationToken: `Bearer ${token}`, methodArn: 'arn:aws:execute-api:us-east-1:000000000000:local/prod/GET/v1/campaigns' }),
    );
  };
  const allowed = (principalId: string) =>
    expect.objectContaining({ principalId, policyDocument: expect.objectContaining({ Statement: [expect.objectContaining({ Effect: 'Allow' })] }) });

  it('nbf five minutes ahead is Unauthorized; the same claims without nbf, or with nbf within the 5 s tolerance, are allowed as that anchor', async () => {
    await expect(authorize(await signedBy('ES256', { ...claims('anchor-nbf'), nbf: nowSeconds() + 300 }))).rejects.toThrow('Unauthorized');
    await expect(authorize(await signedBy('ES256', { ...claims('anchor-nbf'), nbf: nowSeconds() + 30 }))).rejects.toThrow('Unauthorized');
    await expect(authorize(await signedBy('ES256', claims('anchor-nbf')))).resolves.toEqual(allowed('anchor:anchor-nbf'));
    await expect(authorize(await signedBy('ES256', { ...claims('anchor-nbf'), nbf: nowSeconds() + 2 }))).resolves.toEqual(allowed('anchor:anchor-nbf'));
  });

  it('ES256 and RS256 keys of the issuer are accepted; an ES384 key it publishes is not', async () => {
    await expect(authorize(await signedBy('ES256', claims('anchor-alg')))).resolves.toEqual(allowed('anchor:anchor-alg'));
    await expect(authorize(await signedBy('RS256', claims('anchor-alg')))).resolves.toEqual(allowed('anchor:anchor-alg'));
    await expect(authorize(await signedBy('ES384', claims('anchor-alg')))).rejects.toThrow('Unauthorized');
  });

  it('A token expired beyond the 5 s tolerance is Unauthorized; one just inside it is allowed', async () => {
    await expect(authorize(await signedBy('ES256', { ...claims('anchor-exp'), iat: nowSeconds() - 600, exp: nowSeconds() - 30 }))).rejects.toThrow('Unauthorized');
    await expect(authorize(await signedBy('ES256', { ...claims('anchor-exp'), iat: nowSeconds() - 600, exp: nowSeconds() - 1 }))).resolves.toEqual(
      allowed('anchor:anchor-exp'),
    );
  });
});

// ================================================================ time (the clock moves forward from here on)

describe('Revoking a factory', () => {
  it('refuses new tokens at once and live ones within a minute; registering again gives a new client whose token works, and the old token stays refused', async () => {
    const factoryId = 'factory-revoked';
    const first = await onboard(factoryId);
    expect((await call('GET', '/v1/factory/batches', first.token)).status).toBe(200);

    const revoked = await revoke(factoryId);
    expect(revoked.status, JSON.stringify(revoked.body)).toBe(200);
    expect(revoked.body).toMatchObject({ status: 'REVOKED', clientId: first.clientId, revokedAt: expect.any(String) });
    await expect(clientCredentialsToken(runtime.issuer.tokenEndpoint, first.clientId, first.clientSecret)).rejects.toThrow(/invalid_client/);
    // The promise is one minute; by construction the live token goes once both caches have expired,
    // authorizerCacheSeconds + clientRecordCacheSeconds after the last check that still saw it active.
    const bound = identity.authorizerCacheSeconds + identity.clientRecordCacheSeconds;
    expect(bound).toBeLessThan(60);
    moveClock((bound + 1) * 1000);
    expectProblem(await call('GET', '/v1/factory/batches', first.token), 401);
    expect((await listFactories()).body.items.find((f) => f.factoryId === factoryId)).toMatchObject({ status: 'REVOKED', clientId: first.clientId });

    const again = await registerFactory(factoryId);
    expect(again.status, JSON.stringify(again.body)).toBe(201);
    expect(again.body.clientId).not.toBe(first.clientId);
    expect(again.body.clientSecret).not.toBe(first.clientSecret);
    const token = keep(await clientCredentialsToken(runtime.issuer.tokenEndpoint, again.body.clientId, again.body.clientSecret));
    expect((await call('GET', '/v1/factory/batches', token)).status).toBe(200);
    expectProblem(await call('GET', '/v1/factory/batches', first.token), 401);
    await expect(clientCredentialsToken(runtime.issuer.tokenEndpoint, first.clientId, first.clientSecret)).rejects.toThrow(/invalid_client/);
    expect((await listFactories()).body.items.find((f) => f.factoryId === factoryId)).toMatchObject({ status: 'ACTIVE', clientId: again.body.clientId });
  });

  it('Revoking a factory never registered is 404; revoking twice answers the revoked factory again', async () => {
    expectProblem(await revoke('factory-never-was'), 404);
    await onboard('factory-revoked-twice');
    const once = await revoke('factory-revoked-twice');
    const twice = await revoke('factory-revoked-twice');
    expect(once.status).toBe(200);
    expect(twice.status).toBe(200);
    expect(twice.body).toMatchObject({ status: 'REVOKED', revokedAt: once.body.revokedAt });
  });
});

describe('Tokens expire', () => {
  it('A real token is served until its exp and is 401 once the clock is past exp and the tolerance, gateway cache or not', async () => {
    const token = await tokenOf('anchor', 'anchor-expiry');
    const exp = (decodeJwt(token).exp ?? 0) * 1000;
    expect((await call('GET', mine, token)).status).toBe(200);
    moveClock(exp - 30_000 - Date.now());
    expect((await call('GET', mine, token)).status).toBe(200);
    moveClock(exp + 60_000 - Date.now());
    expectProblem(await call('GET', mine, token), 401);
  });
});

// ================================================================ logs

describe('No credential reaches a log', () => {
  it('After a registration, client credentials, calls with good and bad tokens and a revocation, the output holds no secret, no access token and no signature of one', async () => {
    const factory = await onboard('factory-logged');
    expect((await call('GET', '/v1/factory/batches', factory.token)).status).toBe(200);
    const [header, payload] = factory.token.split('.');
    expectProblem(await call('GET', '/v1/factory/batches', keep(`${header}.${payload}.${randomBytes(64).toString('base64url')}`)), 401);
    expectProblem(await call('GET', '/v1/operator/factories', factory.token), 403);
    await expect(clientCredentialsToken(runtime.issuer.tokenEndpoint, factory.clientId, keep(randomBytes(32).toString('base64url')))).rejects.toThrow(/invalid_client/);
    expect((await revoke('factory-logged')).status).toBe(200);

    const text = output.join('');
    // The capture is live: the runtime's own lines about these calls are in it.
    expect(text).toMatch(new RegExp(`"message":"factory registered".*"clientId":"${factory.clientId}"`));
    expect(text).toMatch(/"message":"token refused"/);
    expect(text).toMatch(/"type":"access".*"status":401/);
    expect(text).toMatch(/"type":"access".*"status":403/);

    const pieces = [...credentials].flatMap((c) => {
      const parts = c.split('.');
      return parts.length === 3 ? [c, parts[2] as string] : [c];
    });
    expect(pieces.length).toBeGreaterThan(50);
    const leaked = pieces.filter((p) => p.length >= 16 && text.includes(p)).map((p) => `${p.slice(0, 10)}…`);
    expect(leaked).toEqual([]);
  });
});
