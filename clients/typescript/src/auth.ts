import { C2mAuthError } from './errors.ts';
import type { Fetch } from './transport.ts';

/** A factory's own OAuth 2.0 client, as `POST /v1/operator/factories` issued it. */
export interface ClientCredentials {
  readonly clientId: string;
  readonly clientSecret: string;
  /** @default 'c2m/factory' */
  readonly scope?: string;
  /**
   * The token endpoint. Absent, it is read from the issuer's discovery document: the issuer's
   * `/.well-known/openid-configuration`, or, without `issuer`, the one the API's own OpenAPI
   * document names (its `openIdConnect` security scheme).
   */
  readonly tokenUrl?: string;
  /** The OpenID Connect issuer, e.g. `https://cognito-idp.ap-east-1.amazonaws.com/ap-east-1_abc`. */
  readonly issuer?: string;
}

/**
 * Supplies access tokens some other way (a vault, a sidecar, a test issuer). Called before
 * every request, so it should cache; `refresh` is true after the API refused the last one.
 */
export type TokenGetter = (context: { readonly refresh: boolean }) => string | Promise<string>;

export interface TokenSource {
  get(): Promise<string>;
  refused(token: string): void;
}

/** How long before `expires_in` runs out a token is renewed: a tenth of its life, at most a minute. */
const renewalMarginMs = (lifetimeMs: number) => Math.min(60_000, lifetimeMs / 10);

/** `exp` of a JWT access token, for an issuer that leaves `expires_in` out; undefined for an opaque token. */
const jwtExpiry = (token: string): number | undefined => {
  try {
    const part = (token.split('.')[1] ?? '').replaceAll('-', '+').replaceAll('_', '/');
    const bytes = Uint8Array.from(atob(part), (c) => c.charCodeAt(0));
    const payload = JSON.parse(new TextDecoder().decode(bytes)) as { exp?: unknown };
    return typeof payload.exp === 'number' ? payload.exp * 1000 : undefined;
  } catch {
    return undefined;
  }
};

const basic = (id: string, secret: string) =>
  // RFC 6749 §2.3.1: both form-urlencoded before they are joined.
  `Basic ${btoa(`${encodeURIComponent(id)}:${encodeURIComponent(secret)}`)}`;

const readJson = async (res: Response): Promise<Record<string, unknown> | undefined> => {
  const text = await res.text();
  try {
    const parsed: unknown = JSON.parse(text);
    return typeof parsed === 'object' && parsed !== null ? (parsed as Record<string, unknown>) : undefined;
  } catch {
    return undefined;
  }
};

export interface CredentialsTokenOptions {
  readonly credentials: ClientCredentials;
  /** The API's root, to read its OpenAPI document when neither `tokenUrl` nor `issuer` is given. */
  readonly baseUrl: string;
  /** Fetch that waits out 429/503 (no token of its own). */
  readonly fetch: Fetch;
  readonly now: () => number;
}

/**
 * The client-credentials grant (RFC 6749 §4.4) with HTTP Basic at the issuer's token endpoint.
 * One token at a time, shared by every call; renewed shortly before it expires, or when the API
 * refuses it; calls that need a token while one is being fetched wait for that same request.
 */
export const clientCredentialsTokens = (o: CredentialsTokenOptions): TokenSource => {
  let tokenUrl: Promise<string> | undefined;
  let current: { token: string; renewAt: number } | undefined;
  let pending: Promise<string> | undefined;

  const discover = async (): Promise<string> => {
    if (o.credentials.tokenUrl) return o.credentials.tokenUrl;
    let discoveryUrl: string;
    if (o.credentials.issuer) discoveryUrl = `${o.credentials.issuer.replace(/\/+$/, '')}/.well-known/openid-configuration`;
    else {
      const documentUrl = `${o.baseUrl}/v1/openapi.json`;
      const res = await o.fetch(new Request(documentUrl, { headers: { accept: 'application/json' } }));
      const doc = res.ok ? await readJson(res) : undefined;
      const schemes = (doc?.components as { securitySchemes?: Record<string, { type?: string; openIdConnectUrl?: string }> } | undefined)?.securitySchemes;
      const oidc = Object.values(schemes ?? {}).find((s) => s.type === 'openIdConnect' && typeof s.openIdConnectUrl === 'string');
      if (!oidc?.openIdConnectUrl) {
        throw new C2mAuthError(`${documentUrl} (${res.status}) names no OpenID Connect issuer: pass credentials.issuer or credentials.tokenUrl`, { status: res.status });
      }
      discoveryUrl = new URL(oidc.openIdConnectUrl, documentUrl).href;
    }
    const res = await o.fetch(new Request(discoveryUrl, { headers: { accept: 'application/json' } }));
    const discovery = res.ok ? await readJson(res) : undefined;
    if (typeof discovery?.token_endpoint !== 'string') {
      throw new C2mAuthError(`The issuer's discovery document ${discoveryUrl} (${res.status}) names no token_endpoint`, { status: res.status });
    }
    return discovery.token_endpoint;
  };

  const fetchToken = async (): Promise<string> => {
    // A failed discovery is not kept: the next call looks again.
    tokenUrl ??= discover().catch((err: unknown) => {
      tokenUrl = undefined;
      throw err;
    });
    const url = await tokenUrl;
    const requestedAt = o.now();
    const res = await o.fetch(
      new Request(url, {
        method: 'POST',
        headers: {
          authorization: basic(o.credentials.clientId, o.credentials.clientSecret),
          'content-type': 'application/x-www-form-urlencoded',
          accept: 'application/json',
        },
        body: new URLSearchParams({ grant_type: 'client_credentials', scope: o.credentials.scope ?? 'c2m/factory' }),
      }),
    );
    const body = await readJson(res);
    const token = body?.access_token;
    if (!res.ok || typeof token !== 'string' || token === '') {
      const error = typeof body?.error === 'string' ? body.error : undefined;
      const description = typeof body?.error_description === 'string' ? body.error_description : undefined;
      throw new C2mAuthError(`The token endpoint ${url} refused client ${o.credentials.clientId}: ${res.status} ${error ?? ''}${description ? ` (${description})` : ''}`.trim(), {
        status: res.status,
        ...(error && { error }),
        ...(description && { errorDescription: description }),
      });
    }
    const { token_type: type, expires_in: expiresIn } = body ?? {};
    if (typeof type === 'string' && type.toLowerCase() !== 'bearer') {
      throw new C2mAuthError(`The token endpoint ${url} issued a ${type} token; the API takes Bearer tokens`);
    }
    // Timed from when it was asked for: the token's clock started before the answer arrived.
    const expiresAt = typeof expiresIn === 'number' && expiresIn > 0 ? requestedAt + expiresIn * 1000 : jwtExpiry(token);
    current = { token, renewAt: expiresAt === undefined ? Number.POSITIVE_INFINITY : expiresAt - renewalMarginMs(expiresAt - requestedAt) };
    return token;
  };

  return {
    get() {
      if (current && o.now() < current.renewAt) return Promise.resolve(current.token);
      pending ??= fetchToken().finally(() => {
        pending = undefined;
      });
      return pending;
    },
    refused(token) {
      if (current?.token === token) current = undefined;
    },
  };
};

/** Tokens from the caller's own getter, asked again (with `refresh: true`) once the API refuses one. */
export const getterTokens = (getter: TokenGetter): TokenSource => {
  let refresh = false;
  return {
    async get() {
      const token = await getter({ refresh });
      refresh = false;
      return token;
    },
    refused() {
      refresh = true;
    },
  };
};
