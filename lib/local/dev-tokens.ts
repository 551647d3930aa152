import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import type { Role } from '../../functions/shared/principal.ts';

/**
 * Tokens for local use (npm run token, tests, the demo, the bench), asked of the
 * local issuer's token endpoint over HTTP with the dev client's credentials:
 * the same ES256 access tokens a signed-in anchor or a factory's own client
 * credentials get. A factory must be registered first.
 */
/** The local issuer's dev grant (lib/local/issuer.ts): here so the CLI need not load the provider. */
export const devGrantType = 'urn:c2m:params:oauth:grant-type:local-dev';

export interface DevTokenSource {
  readonly tokenEndpoint: string;
  readonly devClient: { readonly clientId: string; readonly clientSecret: string };
}

export class DevTokenError extends Error {}

export const devToken = async (source: DevTokenSource, role: Role, id: string): Promise<{ accessToken: string; expiresIn: number }> => {
  const res = await fetch(source.tokenEndpoint, {
    method: 'POST',
    headers: {
      'content-type': 'application/x-www-form-urlencoded',
      authorization: `Basic ${Buffer.from(`${encodeURIComponent(source.devClient.clientId)}:${encodeURIComponent(source.devClient.clientSecret)}`).toString('base64')}`,
    },
    body: new URLSearchParams({ grant_type: devGrantType, role, subject: id }),
  });
  const body = (await res.json().catch(() => ({}))) as { access_token?: string; expires_in?: number; error?: string; error_description?: string };
  if (!res.ok || !body.access_token) throw new DevTokenError(`${body.error ?? res.status}: ${body.error_description ?? 'the issuer refused'}`);
  return { accessToken: body.access_token, expiresIn: body.expires_in ?? 0 };
};

/** Client credentials, as a factory's integration does it (HTTP Basic, RFC 6749 §2.3.1). */
export const clientCredentialsToken = async (tokenEndpoint: string, clientId: string, clientSecret: string, scope?: string): Promise<string> => {
  const res = await fetch(tokenEndpoint, {
    method: 'POST',
    headers: {
      'content-type': 'application/x-www-form-urlencoded',
      authorization: `Basic ${Buffer.from(`${encodeURIComponent(clientId)}:${encodeURIComponent(clientSecret)}`).toString('base64')}`,
    },
    body: new URLSearchParams({ grant_type: 'client_credentials', ...(scope && { scope }) }),
  });
  const body = (await res.json().catch(() => ({}))) as { access_token?: string; error?: string; error_description?: string };
  if (!res.ok || !body.access_token) throw new DevTokenError(`${body.error ?? res.status}: ${body.error_description ?? 'the issuer refused'}`);
  return body.access_token;
};

/** What `npm start` leaves in its data directory for `npm run token` and the demo: where its issuer answers, and the dev client. */
export const issuerFile = (dataDir: string) => join(dataDir, 'oidc', 'issuer.json');

export const devTokenSourceIn = (dataDir: string): DevTokenSource | undefined => {
  const file = issuerFile(dataDir);
  const secrets = join(dataDir, 'oidc', 'secrets.json');
  if (!existsSync(file) || !existsSync(secrets)) return undefined;
  const { tokenEndpoint, devClientId } = JSON.parse(readFileSync(file, 'utf8')) as { tokenEndpoint: string; devClientId: string };
  const { devClientSecret } = JSON.parse(readFileSync(secrets, 'utf8')) as { devClientSecret: string };
  return { tokenEndpoint, devClient: { clientId: devClientId, clientSecret: devClientSecret } };
};

/**
 * One token per principal, asked for once and reused until a minute before it
 * expires (tokens last an hour; a demo or a bench may outlive one).
 */
export const cachedTokens = (source: DevTokenSource) => {
  const cache = new Map<string, Promise<{ accessToken: string; until: number }>>();
  return async (role: Role, id: string): Promise<string> => {
    const key = `${role}|${id}`;
    const hit = cache.get(key);
    if (hit) {
      const t = await hit.catch(() => undefined);
      if (t && t.until > Date.now()) return t.accessToken;
    }
    const next = devToken(source, role, id).then((t) => ({ accessToken: t.accessToken, until: Date.now() + (t.expiresIn - 60) * 1000 }));
    cache.set(key, next);
    next.catch(() => cache.delete(key));
    return (await next).accessToken;
  };
};
