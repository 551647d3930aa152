import type { APIGatewayAuthorizerResult, APIGatewayTokenAuthorizerEvent } from 'aws-lambda';
import { createRemoteJWKSet, decodeJwt, decodeProtectedHeader, errors as joseErrors, jwtVerify, type JWTPayload } from 'jose';
import { identity } from '#topology';
import { getFactoryClient } from '#adapters/factory-store.ts';
import { identify } from '#domain/identity.ts';
import type { FactoryClient } from '#domain/factories.ts';
import { tableName, trustedIssuers, type TrustedIssuer } from '#shared/config.ts';
import { log } from '#shared/observability.ts';
import type { Principal } from '#shared/principal.ts';

/**
 * API Gateway TOKEN authorizer. Verifies an OpenID Connect access token against
 * its issuer's JWKS (ES256 or RS256 only, `kid` required, `iss`, `aud`, `exp`,
 * `nbf`), maps its claims to a c2m principal (functions/domain/identity.ts),
 * and for a factory checks that the token's client is registered and not
 * revoked. No key is held here: the issuers' public keys are fetched and cached.
 *
 * 401 (`Unauthorized`) for anything not verifiable; a verified token that names
 * no role gets a Deny policy, which API Gateway answers with 403. A decision is
 * cached per token by the gateway for `identity.authorizerCacheSeconds`.
 */
const algorithms = ['ES256', 'RS256'];
const clockToleranceSeconds = 5;

/** One remote key set per JWKS URL, kept for the container's life (jose refetches on an unknown kid, at most every 30 s). */
const keySets = new Map<string, ReturnType<typeof createRemoteJWKSet>>();
const keySetFor = (uri: string) => {
  let set = keySets.get(uri);
  if (!set) {
    set = createRemoteJWKSet(new URL(uri), { cooldownDuration: 30_000, cacheMaxAge: 10 * 60_000, timeoutDuration: 3_000 });
    keySets.set(uri, set);
  }
  return set;
};

/** Factory client records, per table, for `identity.clientRecordCacheSeconds`: a revocation reaches live tokens within that plus the gateway's cache. */
const clientRecords = new Map<string, { until: number; record: FactoryClient | undefined }>();
const factoryClient = async (clientId: string): Promise<FactoryClient | undefined> => {
  const key = `${tableName()}|${clientId}`;
  const hit = clientRecords.get(key);
  if (hit && hit.until > Date.now()) return hit.record;
  const record = await readWithRetries(() => getFactoryClient(clientId));
  clientRecords.set(key, { until: Date.now() + identity.clientRecordCacheSeconds * 1000, record });
  if (clientRecords.size > 10_000) clientRecords.delete(clientRecords.keys().next().value as string);
  return record;
};

/**
 * An authorizer cannot answer 429 (API Gateway turns its errors into 500), so a
 * throttled read is tried again a few times before giving up.
 */
const readWithRetries = async <T>(read: () => Promise<T>, attempts = 4): Promise<T> => {
  for (let attempt = 1; ; attempt++) {
    try {
      return await read();
    } catch (err) {
      if (attempt >= attempts || !(err instanceof Error && /Throttl|ProvisionedThroughputExceeded|RequestLimitExceeded/.test(err.name))) throw err;
      await new Promise((r) => setTimeout(r, 20 * 2 ** attempt * Math.random()));
    }
  }
};

class Refused extends Error {}

/** Thrown errors that mean "this token is no good" rather than "we could not check". */
const isTokenError = (err: unknown) =>
  err instanceof joseErrors.JOSEError && !(err instanceof joseErrors.JWKSTimeout) && err.code !== 'ERR_JOSE_GENERIC';

const verify = async (token: string): Promise<{ payload: JWTPayload; issuer: TrustedIssuer }> => {
  let header: ReturnType<typeof decodeProtectedHeader>;
  let unverified: JWTPayload;
  try {
    header = decodeProtectedHeader(token);
    unverified = decodeJwt(token);
  } catch {
    throw new Refused('not a JWT');
  }
  if (typeof header.kid !== 'string' || header.kid.length === 0) throw new Refused('no kid');
  if (typeof header.alg !== 'string' || !algorithms.includes(header.alg)) throw new Refused(`alg ${String(header.alg)} not accepted`);
  const issuer = trustedIssuers().find((i) => i.issuer === unverified.iss);
  if (!issuer) throw new Refused('issuer not trusted');
  try {
    const { payload } = await jwtVerify(token, keySetFor(issuer.jwksUri), {
      issuer: issuer.issuer,
      ...(issuer.audience !== undefined && { audience: issuer.audience }),
      algorithms,
      requiredClaims: ['exp', 'iat'],
      clockTolerance: clockToleranceSeconds,
      currentDate: new Date(),
    });
    // Short-lived only: a token minted for longer than the issuer's policy is refused, whatever its exp.
    if ((payload.exp as number) - (payload.iat as number) > issuer.maxTokenLifetimeSeconds) throw new Refused('token lives too long');
    // Cognito's access tokens carry no aud; token_use tells them from ID tokens.
    if (issuer.audience === undefined && payload.token_use !== 'access') throw new Refused('not an access token');
    return { payload, issuer };
  } catch (err) {
    if (err instanceof Refused) throw err;
    if (isTokenError(err)) throw new Refused((err as joseErrors.JOSEError).code);
    throw err;
  }
};

const principalOf = async (token: string): Promise<Principal | 'no-role'> => {
  const { payload, issuer } = await verify(token);
  const who = identify(payload, issuer, identity);
  if (who.kind === 'principal') return who.principal;
  if (who.kind === 'no-role') {
    log().info('token names no role', { why: who.why, iss: issuer.issuer });
    return 'no-role';
  }
  const record = await factoryClient(who.clientId);
  if (!record) throw new Refused('client is not a registered factory');
  if (record.status !== 'ACTIVE') throw new Refused('factory revoked');
  return { role: 'factory', id: record.factoryId };
};

export const handler = async (event: APIGatewayTokenAuthorizerEvent): Promise<APIGatewayAuthorizerResult> => {
  const match = /^Bearer ([A-Za-z0-9_.-]+)$/.exec(event.authorizationToken ?? '');
  let principal: Principal | 'no-role';
  try {
    if (!match) throw new Refused('no bearer token');
    principal = await principalOf(match[1] as string);
  } catch (err) {
    if (!(err instanceof Refused)) throw err;
    // The reason only: a token is a credential and never goes to a log.
    log().info('token refused', { reason: err.message });
    throw new Error('Unauthorized');
  }
  // arn:aws:execute-api:region:account:apiId/stage/METHOD/path → every route of this stage
  const [arnPrefix, apiId, stage] = event.methodArn.split('/') as [string, string?, string?];
  const resource = `${arnPrefix}/${apiId ?? '*'}/${stage ?? '*'}/*`;
  if (principal === 'no-role') {
    return { principalId: 'no-role', policyDocument: { Version: '2012-10-17', Statement: [{ Action: 'execute-api:Invoke', Effect: 'Deny', Resource: resource }] } };
  }
  return {
    principalId: `${principal.role}:${principal.id}`,
    policyDocument: { Version: '2012-10-17', Statement: [{ Action: 'execute-api:Invoke', Effect: 'Allow', Resource: resource }] },
    // `principalId` is reserved by API Gateway at the top level; the id travels as `sub`.
    context: { role: principal.role, sub: principal.id },
  };
};
