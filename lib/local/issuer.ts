import { existsSync, mkdirSync, readFileSync, renameSync, writeFileSync } from 'node:fs';
import { randomBytes } from 'node:crypto';
import type { IncomingMessage, ServerResponse } from 'node:http';
import { join } from 'node:path';
import { calculateJwkThumbprint, exportJWK, generateKeyPair, type JWK } from 'jose';
import Provider, { errors, interactionPolicy, type Adapter, type AdapterPayload, type Configuration, type KoaContextWithOIDC } from 'oidc-provider';
import { identity } from '../topology.ts';
import { Principal } from '../../functions/shared/principal.ts';
import { signInPage } from './sign-in-page.ts';
import { devGrantType } from './dev-tokens.ts';
// Pure (no Powertools or SDK client at import): the runtime sets their environment first.
import { clientNameOf } from '../../functions/domain/factories.ts';

/**
 * The local OpenID provider: `oidc-provider` (a certified implementation)
 * mounted at `<runtime>/oidc`, standing in for Cognito (anchors, operators,
 * factory clients) and for the live platform's IdP (buyers, live rooms).
 *
 *  - Factories: confidential clients with the client-credentials grant and the
 *    `c2m/factory` scope, created and deleted through the emulator's Cognito
 *    calls (CreateUserPoolClient / DeleteUserPoolClient), exactly as on AWS.
 *  - The platform (the live platform's payment service): a confidential client with
 *    the client-credentials grant and the `c2m/platform` scope, whose client id names
 *    it. On AWS the stack makes its one client; here the dev grant makes one the first
 *    time an id is asked for, and keeps it with the other clients.
 *  - Anchors and operators: authorization code + PKCE through the dev sign-in
 *    page (any name; operators tick the operator group), public client `c2m-console`,
 *    whose callback is `<origin>/console/callback` for each loopback spelling of the
 *    runtime's origin (localhost, 127.0.0.1, [::1]): the browser returns where it started.
 *  - The sign-in link `npm start` prints: a single-use ticket (`c2m-ticket:…`,
 *    15 minutes, in memory only, so a restart voids it) that the console passes as
 *    the authorization request's `login_hint`; the interaction then signs its
 *    subject in without the form. A used, expired or unknown ticket shows the form.
 *    Local only: nothing of this exists on AWS.
 *  - Scripts, tests and `npm run token`: a confidential dev client whose secret
 *    sits in the data directory may ask for any anchor, operator, buyer or live
 *    room's token with a dev grant, the sign-in page without the page; for a
 *    registered factory, or the platform, it gets the token that one's own client would.
 *
 * Access tokens are ES256 JWTs (`kid`, `iss`, `aud` = `urn:c2m:api`, `exp` 1 h).
 * The signing key, cookie key, dev client secret, accounts and registered
 * clients persist under `<dataDir>/oidc/`; with no data directory, in memory.
 */
export const audience = 'urn:c2m:api';
const devClientId = 'c2m-local-dev';
export const consoleClientId = 'c2m-console';

/** The roles a dev grant or the sign-in page may name (factories and the platform are clients, not accounts). */
const accountRoles = ['anchor', 'operator', 'buyer', 'liveroom'] as const;
type AccountRole = (typeof accountRoles)[number];

/** A sign-in ticket: the prefix tells the interaction a `login_hint` is one of ours, not a name. */
export const ticketPrefix = 'c2m-ticket:';
const ticketTtlMs = 15 * 60_000;

/** The roles the sign-in page (and so a ticket) may sign in as. */
export type SignInRole = 'anchor' | 'operator';

export interface LocalIssuer {
  /** `http://localhost:<port>/oidc` */
  readonly issuer: string;
  readonly audience: string;
  readonly tokenEndpoint: string;
  readonly jwksUri: string;
  readonly discoveryUrl: string;
  readonly devClient: { readonly clientId: string; readonly clientSecret: string };
  /** Answers a request under `/oidc`; false when the path is not the issuer's. */
  handle(req: IncomingMessage, res: ServerResponse): boolean;
  /** Registers a confidential client-credentials client (the emulator's CreateUserPoolClient). */
  createClient(name: string, scopes: readonly string[]): Promise<{ clientId: string; clientSecret: string }>;
  /** Deletes a client: its credentials get no new token from now on (DeleteUserPoolClient). */
  deleteClient(clientId: string): Promise<boolean>;
  /**
   * A single-use sign-in ticket for `subject` (valid 15 minutes, in this process's memory only):
   * an authorization request whose `login_hint` is this ticket signs `subject` in without the form.
   */
  signInTicket(subject: string, role?: SignInRole): { ticket: string; expiresAt: Date };
}

// ---------------------------------------------------------------- storage

type Stored = { payload: AdapterPayload; expiresAt?: number };

/** Models kept across restarts; the rest (interactions, codes, sessions in flight) live in memory. */
const persisted = new Set(['Client', 'Grant', 'Session']);

/**
 * oidc-provider's storage contract, in memory with the persisted models written
 * through to one JSON file each (atomic rename). Small: clients and grants only.
 */
const storage = (dir: string | null) => {
  const models = new Map<string, Map<string, Stored>>();
  const fileOf = (model: string) => (dir ? join(dir, `${model}.json`) : undefined);
  const load = (model: string) => {
    let m = models.get(model);
    if (m) return m;
    m = new Map();
    const file = fileOf(model);
    if (file && persisted.has(model) && existsSync(file)) {
      for (const [id, stored] of Object.entries(JSON.parse(readFileSync(file, 'utf8')) as Record<string, Stored>)) m.set(id, stored);
    }
    models.set(model, m);
    return m;
  };
  const save = (model: string) => {
    const file = fileOf(model);
    if (!file || !persisted.has(model)) return;
    writeAtomically(file, JSON.stringify(Object.fromEntries(load(model))));
  };
  const live = (s: Stored | undefined) => (s && (s.expiresAt === undefined || s.expiresAt > Date.now()) ? s : undefined);

  class FileAdapter implements Adapter {
    constructor(private readonly model: string) {}
    async upsert(id: string, payload: AdapterPayload, expiresIn?: number) {
      load(this.model).set(id, { payload, ...(expiresIn ? { expiresAt: Date.now() + expiresIn * 1000 } : {}) });
      save(this.model);
    }
    async find(id: string) {
      return live(load(this.model).get(id))?.payload;
    }
    async findByUserCode(userCode: string) {
      return [...load(this.model).values()].find((s) => live(s) && s.payload.userCode === userCode)?.payload;
    }
    async findByUid(uid: string) {
      return [...load(this.model).values()].find((s) => live(s) && s.payload.uid === uid)?.payload;
    }
    async consume(id: string) {
      const s = load(this.model).get(id);
      if (s) s.payload.consumed = Math.floor(Date.now() / 1000);
      save(this.model);
    }
    async destroy(id: string) {
      load(this.model).delete(id);
      save(this.model);
    }
    async revokeByGrantId(grantId: string) {
      const m = load(this.model);
      for (const [id, s] of m) if (s.payload.grantId === grantId) m.delete(id);
      save(this.model);
    }
  }
  return {
    Adapter: FileAdapter,
    clients: () => [...load('Client').values()].map((s) => s.payload),
    /** One client's record, read at once (no await between a look and a write that depends on it). */
    client: (id: string) => live(load('Client').get(id))?.payload,
  };
};

/** Written whole or not at all: a crash mid-write leaves the previous file, never half of one. */
const writeAtomically = (file: string, text: string) => {
  const tmp = `${file}.${process.pid}.${randomBytes(4).toString('hex')}.tmp`;
  writeFileSync(tmp, text, { mode: 0o600 });
  renameSync(tmp, file);
};

const escapeHtml = (v: unknown) => String(v ?? '').replace(/[&<>"']/g, (c) => `&#${c.charCodeAt(0)};`);

/** A JSON file under the issuer's directory, created by `make` the first time. */
const kept = <T>(dir: string | null, name: string, make: () => T): T => {
  if (!dir) return make();
  const file = join(dir, name);
  if (existsSync(file)) return JSON.parse(readFileSync(file, 'utf8')) as T;
  const value = make();
  writeAtomically(file, JSON.stringify(value));
  return value;
};

const signingKey = async (dir: string | null): Promise<JWK> => {
  const file = dir ? join(dir, 'signing-key.json') : undefined;
  if (file && existsSync(file)) return JSON.parse(readFileSync(file, 'utf8')) as JWK;
  const { privateKey } = await generateKeyPair('ES256', { extractable: true });
  const jwk = await exportJWK(privateKey);
  const key: JWK = { ...jwk, kid: await calculateJwkThumbprint(jwk), alg: 'ES256', use: 'sig' };
  if (file) writeAtomically(file, JSON.stringify(key));
  return key;
};

// ---------------------------------------------------------------- the provider

const loopbackHost = (host: string | undefined) => /^(localhost|127\.0\.0\.1|\[::1\])(:\d+)?$/i.test(host ?? '');

/** The origins a browser may reach the runtime by: every loopback spelling of its port (`localhost` is the canonical one). */
export const loopbackOrigins = (baseUrl: string): string[] => {
  const { protocol, port } = new URL(baseUrl);
  return ['localhost', '127.0.0.1', '[::1]'].map((host) => `${protocol}//${host}${port ? `:${port}` : ''}`);
};

/** Single-use sign-in tickets, in memory: a restart of the runtime voids every one. */
const ticketBook = () => {
  const tickets = new Map<string, { subject: string; role: SignInRole; expiresAt: number }>();
  const sweep = () => {
    for (const [t, v] of tickets) if (v.expiresAt <= Date.now()) tickets.delete(t);
  };
  return {
    mint: (subject: string, role: SignInRole) => {
      const parsed = Principal.safeParse({ role, id: subject });
      if (!parsed.success) throw new Error(`a sign-in ticket names a ${role} by a usable id, not ${JSON.stringify(subject)}`);
      sweep();
      const ticket = `${ticketPrefix}${randomBytes(32).toString('base64url')}`;
      const expiresAt = Date.now() + ticketTtlMs;
      tickets.set(ticket, { subject, role, expiresAt });
      return { ticket, expiresAt: new Date(expiresAt) };
    },
    /** The ticket's subject, once: the ticket is gone whether or not it was still valid. */
    redeem: (ticket: string) => {
      const found = tickets.get(ticket);
      tickets.delete(ticket);
      return found && found.expiresAt > Date.now() ? found : undefined;
    },
  };
};

const isTicket = (hint: unknown): hint is string => typeof hint === 'string' && hint.startsWith(ticketPrefix);

/**
 * The default policy, plus: a ticket in `login_hint` always asks for the login
 * interaction, even with a session, so the link signs in its own subject (not
 * whoever this browser signed in as before). Once the interaction has logged
 * someone in, the check is satisfied and the flow goes on.
 */
const interactionPolicyWithTickets = () => {
  const policy = interactionPolicy.base();
  policy.get('login')?.checks.add(
    new interactionPolicy.Check('c2m_ticket', 'a sign-in ticket was presented', (ctx) =>
      isTicket(ctx.oidc.params?.login_hint) && !ctx.oidc.result?.login ? interactionPolicy.Check.REQUEST_PROMPT : interactionPolicy.Check.NO_NEED_TO_PROMPT,
    ),
  );
  return policy;
};

export const startLocalIssuer = async (opts: { baseUrl: string; dataDir: string | null }): Promise<LocalIssuer> => {
  const dir = opts.dataDir ? join(opts.dataDir, 'oidc') : null;
  if (dir) mkdirSync(dir, { recursive: true, mode: 0o700 });
  const issuer = `${opts.baseUrl}/oidc`;
  const key = await signingKey(dir);
  const secrets = kept(dir, 'secrets.json', () => ({
    cookieKey: randomBytes(32).toString('base64url'),
    devClientSecret: randomBytes(32).toString('base64url'),
  }));
  const accounts = new Map<string, AccountRole>(Object.entries(kept<Record<string, AccountRole>>(dir, 'accounts.json', () => ({}))));
  const saveAccounts = () => {
    if (dir) writeAtomically(join(dir, 'accounts.json'), JSON.stringify(Object.fromEntries(accounts)));
  };
  const remember = (id: string, role: AccountRole) => {
    if (accounts.get(id) === role) return;
    accounts.set(id, role);
    saveAccounts();
  };
  const store = storage(dir);
  const tickets = ticketBook();
  const origins = loopbackOrigins(opts.baseUrl);

  const resourceServer = {
    // Every scope a client may hold for the API: a client-credentials token keeps only these of what its client asks.
    scope: `${identity.factoryScope} ${identity.platformScope}`,
    audience,
    accessTokenTTL: identity.accessTokenTtlSeconds,
    accessTokenFormat: 'jwt' as const,
    jwt: { sign: { alg: 'ES256' as const } },
  };

  /** What an account's access token says beyond `sub`, in the claims the trusted-issuer rules read. */
  const claimsOf = (accountId: string): Record<string, unknown> | undefined => {
    switch (accounts.get(accountId)) {
      case 'operator':
        return { groups: [identity.operatorGroup] };
      case 'buyer':
        return { buyer_id: accountId };
      case 'liveroom':
        return { room_id: accountId };
      default:
        return undefined;
    }
  };

  const configuration: Configuration = {
    adapter: store.Adapter,
    jwks: { keys: [key] },
    clients: [
      {
        client_id: consoleClientId,
        client_name: 'c2m console',
        token_endpoint_auth_method: 'none',
        grant_types: ['authorization_code'],
        response_types: ['code'],
        // The browser comes back to the origin it started from, whichever loopback name it used.
        redirect_uris: origins.map((o) => `${o}/console/callback`),
        post_logout_redirect_uris: origins.map((o) => `${o}/console/`),
      },
      {
        client_id: devClientId,
        client_name: 'c2m local dev (npm run token, tests, demo)',
        client_secret: secrets.devClientSecret,
        grant_types: [devGrantType],
        response_types: [],
        redirect_uris: [],
      },
    ],
    // The keystore is ES256 only: without this, clients default to RS256 ID tokens and are refused.
    clientDefaults: { id_token_signed_response_alg: 'ES256', grant_types: ['authorization_code'], response_types: ['code'] },
    cookies: { keys: [secrets.cookieKey] },
    // The console's token request may come from any origin it is registered to return to (the provider's
    // default rule, written out so it does not warn): a console opened on 127.0.0.1 talks to the issuer on localhost.
    clientBasedCORS: (_ctx, origin, client) => client.redirectUris?.some((uri) => URL.canParse(uri) && new URL(uri).origin === origin) ?? false,
    // When a factory's client was made: the dev grant takes the newest of a name.
    extraClientMetadata: { properties: ['c2m_created_at'] },
    pkce: { required: () => true },
    // A client's allowed `scope` must be among these, or the provider refuses the client.
    scopes: ['openid', 'profile', identity.factoryScope, identity.platformScope],
    responseTypes: ['code'],
    ttl: {
      AccessToken: identity.accessTokenTtlSeconds,
      ClientCredentials: identity.accessTokenTtlSeconds,
      AuthorizationCode: 60,
      IdToken: identity.accessTokenTtlSeconds,
      Interaction: 600,
      Session: 8 * 3600,
      Grant: 8 * 3600,
    },
    features: {
      devInteractions: { enabled: false },
      clientCredentials: { enabled: true },
      resourceIndicators: {
        enabled: true,
        defaultResource: () => audience,
        useGrantedResource: () => true,
        getResourceServerInfo: (_ctx, resource) => {
          if (resource !== audience) throw new errors.InvalidTarget(`the only resource here is ${audience}`);
          return resourceServer;
        },
      },
    },
    findAccount: (_ctx, accountId) => (accounts.has(accountId) ? { accountId, claims: () => ({ sub: accountId }) } : undefined),
    extraTokenClaims: (_ctx, token) => ('accountId' in token && typeof token.accountId === 'string' ? claimsOf(token.accountId) : undefined),
    formats: {
      customizers: {
        // As Cognito does: a client-credentials request that names no scope gets every scope the client is allowed.
        jwt: (_ctx, token, jwt) => {
          if (token.kind === 'ClientCredentials' && !jwt.payload.scope) {
            const allowed = (token as unknown as { client?: { scope?: string } }).client?.scope;
            if (allowed) jwt.payload.scope = allowed;
          }
        },
      },
    },
    // First-party clients only: the console's sign-in needs no consent screen.
    loadExistingGrant: async (ctx: KoaContextWithOIDC) => {
      const grantId = ctx.oidc.result?.consent?.grantId ?? ctx.oidc.session?.grantIdFor(ctx.oidc.client!.clientId);
      if (grantId) return ctx.oidc.provider.Grant.find(grantId);
      if (!ctx.oidc.session?.accountId) return undefined;
      const grant = new ctx.oidc.provider.Grant({ clientId: ctx.oidc.client!.clientId, accountId: ctx.oidc.session.accountId });
      grant.addOIDCScope('openid profile');
      grant.addResourceScope(audience, '');
      await grant.save();
      return grant;
    },
    interactions: { url: (_ctx, interaction) => `/oidc/interaction/${interaction.uid}`, policy: interactionPolicyWithTickets() },
    renderError: (ctx, out) => {
      ctx.type = 'html';
      ctx.body = `<!doctype html><meta charset="utf-8"><title>Sign-in error</title><p>${escapeHtml(out.error ?? 'error')}: ${escapeHtml(out.error_description)}</p>`;
    },
  };

  const provider = new Provider(issuer, configuration);
  provider.proxy = false;

  /**
   * The platform's client, named by `clientId`: made the first time it is asked for, then kept
   * (its random secret only in the data directory; the client-credentials grant with it gets the same token).
   * An id already taken by another client (the issuer's own, a factory's) is refused, not
   * turned into a platform.
   */
  const platformClient = async (clientId: string) => {
    if (clientId === devClientId || clientId === consoleClientId) {
      throw new errors.CustomOIDCProviderError('invalid_request', `${clientId} is a client of the local issuer itself, not a platform's`);
    }
    const existing = store.client(clientId);
    if (existing && existing.scope !== identity.platformScope) {
      throw new errors.CustomOIDCProviderError('invalid_request', `client ${clientId} exists and is not a platform client`);
    }
    // Synchronous up to the write: two first requests for one id cannot make two clients with different secrets.
    if (!existing) {
      await new store.Adapter('Client').upsert(clientId, {
        client_id: clientId,
        client_secret: randomBytes(32).toString('base64url'),
        client_name: `platform ${clientId}`,
        grant_types: ['client_credentials'],
        response_types: [],
        redirect_uris: [],
        scope: identity.platformScope,
        token_endpoint_auth_method: 'client_secret_basic',
        c2m_created_at: Date.now(),
      });
    }
    const client = await provider.Client.find(clientId);
    if (!client) throw new Error(`the platform client ${clientId} was written but the provider cannot find it`);
    return client;
  };

  // The dev grant: an access token for one account, as the sign-in page would end in.
  provider.registerGrantType(
    devGrantType,
    async (ctx: KoaContextWithOIDC) => {
      const client = ctx.oidc.client;
      if (client?.clientId !== devClientId) throw new errors.UnauthorizedClient('only the local dev client may use this grant');
      const params = ctx.oidc.params as Record<string, string | undefined>;
      const role = params.role;
      const subject = params.subject;
      const principal = Principal.safeParse({ role, id: subject });
      // CustomOIDCProviderError: the description reaches the caller (the built-in errors keep it in error_detail).
      if (!principal.success) throw new errors.CustomOIDCProviderError('invalid_request', `role and subject: ${principal.error.issues.map((i) => i.message).join('; ')}`);
      let token;
      if (principal.data.role === 'factory') {
        // A factory is its own client: the token its client credentials would get, if it is registered.
        // The newest client of that name (a revoked one is deleted; an orphan of a failed registration is older).
        const registered = store
          .clients()
          .filter((c) => c.client_name === clientNameOf(principal.data.id))
          .sort((a, b) => Number(b.c2m_created_at ?? 0) - Number(a.c2m_created_at ?? 0))[0];
        const factoryClient = registered && (await provider.Client.find(String(registered.client_id)));
        if (!factoryClient) {
          throw new errors.CustomOIDCProviderError(
            'invalid_grant',
            `factory ${principal.data.id} is not registered (or was revoked): an operator registers it with POST /v1/operator/factories`,
          );
        }
        token = new provider.ClientCredentials({ client: factoryClient, scope: identity.factoryScope });
      } else if (principal.data.role === 'platform') {
        // The platform is its own client too: the token its client credentials get.
        token = new provider.ClientCredentials({ client: await platformClient(principal.data.id), scope: identity.platformScope });
      } else {
        remember(principal.data.id, principal.data.role as AccountRole);
        token = new provider.AccessToken({ accountId: principal.data.id, client, gty: devGrantType, grantId: `dev-${principal.data.id}` });
      }
      // The provider's own resource server object for our one resource (what a token request with `resource` resolves to).
      token.resourceServer = new provider.ResourceServer(audience, resourceServer);
      const value = await token.save();
      ctx.body = { access_token: value, token_type: 'Bearer', expires_in: token.expiration, ...(token.scope && { scope: token.scope }) };
    },
    ['role', 'subject'],
  );

  const koa = provider.callback();
  const mount = '/oidc';

  const readForm = async (req: IncomingMessage) => {
    const chunks: Buffer[] = [];
    for await (const chunk of req) chunks.push(chunk as Buffer);
    return new URLSearchParams(Buffer.concat(chunks).toString('utf8'));
  };
  const html = (res: ServerResponse, status: number, body: string) => {
    res.writeHead(status, { 'content-type': 'text/html; charset=utf-8', 'cache-control': 'no-store' });
    res.end(body);
  };

  /** The sign-in page: GET shows it; POST .../login signs the named account in. */
  const interaction = async (req: IncomingMessage, res: ServerResponse, path: string) => {
    const m = /^\/interaction\/([A-Za-z0-9_-]+)(\/login)?$/.exec(path);
    if (!m) return html(res, 404, 'Not found');
    try {
      const details = await provider.interactionDetails(req, res);
      if (details.uid !== m[1]) return html(res, 400, 'This sign-in has expired; start again.');
      if (req.method === 'POST' && m[2]) {
        const form = await readForm(req);
        const name = (form.get('username') ?? '').trim();
        const role: AccountRole = form.get('operator') === 'on' ? 'operator' : 'anchor';
        const parsed = Principal.safeParse({ role, id: name });
        if (!parsed.success) return html(res, 400, signInPage({ uid: details.uid, client: String(details.params.client_id), error: true, username: name }));
        remember(name, role);
        await provider.interactionFinished(req, res, { login: { accountId: name } }, { mergeWithLastSubmission: false });
        return;
      }
      const hint = details.params.login_hint;
      if (details.prompt.name === 'login' && isTicket(hint)) {
        // Consumed on sight: valid or not, a ticket never signs in twice.
        const ticket = tickets.redeem(hint);
        if (ticket) {
          remember(ticket.subject, ticket.role);
          await provider.interactionFinished(req, res, { login: { accountId: ticket.subject } }, { mergeWithLastSubmission: false });
          return;
        }
        return html(res, 200, signInPage({ uid: details.uid, client: String(details.params.client_id), error: false, username: '', ticketRefused: true }));
      }
      if (details.prompt.name === 'consent') {
        // Reached only when no grant was loaded above; first-party clients are granted what they ask.
        const grant = new provider.Grant({ clientId: String(details.params.client_id), accountId: String(details.session?.accountId) });
        grant.addOIDCScope('openid profile');
        grant.addResourceScope(audience, '');
        await provider.interactionFinished(req, res, { consent: { grantId: await grant.save() } }, { mergeWithLastSubmission: true });
        return;
      }
      return html(res, 200, signInPage({ uid: details.uid, client: String(details.params.client_id), error: false, username: '' }));
    } catch (err) {
      return html(res, 400, `<!doctype html><meta charset="utf-8"><p>Sign-in failed: ${err instanceof Error ? err.message.replace(/[<>&]/g, '') : 'error'}. Start again from the app.</p>`);
    }
  };

  return {
    issuer,
    audience,
    tokenEndpoint: `${issuer}/token`,
    jwksUri: `${issuer}/jwks`,
    discoveryUrl: `${issuer}/.well-known/openid-configuration`,
    devClient: { clientId: devClientId, clientSecret: secrets.devClientSecret },
    handle: (req, res) => {
      const url = req.url ?? '/';
      if (url !== mount && !url.startsWith(`${mount}/`) && !url.startsWith(`${mount}?`)) return false;
      // Loopback names only: a web page that rebinds its own DNS name to 127.0.0.1 must not drive the password-less sign-in.
      if (!loopbackHost(req.headers.host)) {
        html(res, 403, 'The local issuer answers only on localhost, 127.0.0.1 or [::1].');
        return true;
      }
      const path = url.slice(mount.length).split('?')[0] || '/';
      if (path.startsWith('/interaction/')) {
        void interaction(req, res, path);
        return true;
      }
      // Mounted as Express would: the provider routes on the path below its mount point.
      (req as IncomingMessage & { originalUrl?: string }).originalUrl = url;
      req.url = url.slice(mount.length) || '/';
      void koa(req, res);
      return true;
    },
    createClient: async (name, scopes) => {
      const clientId = `fc_${randomBytes(12).toString('hex')}`;
      const clientSecret = randomBytes(32).toString('base64url');
      await new store.Adapter('Client').upsert(clientId, {
        client_id: clientId,
        client_secret: clientSecret,
        client_name: name,
        grant_types: ['client_credentials'],
        response_types: [],
        redirect_uris: [],
        scope: scopes.join(' '),
        token_endpoint_auth_method: 'client_secret_basic',
        c2m_created_at: Date.now(),
      });
      return { clientId, clientSecret };
    },
    deleteClient: async (clientId) => {
      const adapter = new store.Adapter('Client');
      if (!(await adapter.find(clientId))) return false;
      await adapter.destroy(clientId);
      return true;
    },
    signInTicket: (subject, role = 'anchor') => tickets.mint(subject, role),
  };
};
