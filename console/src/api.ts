/**
 * The console's one door to the network: the only module that calls fetch. The API's shapes
 * are the contracts' zod schemas, imported as types only (`z.infer`), so the bundle carries
 * no zod: the server validated what it sends, and the console trusts its own API's answers.
 */
import type { z } from 'zod';
import type { AttributionView } from '../../functions/contracts/attribution.ts';
import type { CreateCampaignBody, UpdateCampaignBody } from '../../functions/contracts/campaign-terms.ts';
import type {
  CampaignBatchList,
  CampaignList,
  CampaignPreorderList,
  CampaignView,
  Demand as DemandSchema,
  DemandHistory as DemandHistorySchema,
  preorderStatuses,
} from '../../functions/contracts/campaigns.ts';
import type { TrustView } from '../../functions/contracts/factory.ts';
import { nextLink, joinCsvPages, sameApi } from './lib/csv.ts';
import { ApiError, toProblem } from './lib/problems.ts';

export type Campaign = z.infer<typeof CampaignView>;
export type CampaignSummary = z.infer<typeof CampaignList>['items'][number];
export type CampaignPage = z.infer<typeof CampaignList>;
export type NewCampaign = z.input<typeof CreateCampaignBody>;
export type CampaignChange = z.input<typeof UpdateCampaignBody>;
export type Demand = z.infer<typeof DemandSchema>;
export type VariantDemand = Demand['variants'][number];
export type DemandHistory = z.infer<typeof DemandHistorySchema>;
export type BatchList = z.infer<typeof CampaignBatchList>;
export type Batch = BatchList['items'][number];
export type PreorderPage = z.infer<typeof CampaignPreorderList>;
export type Preorder = PreorderPage['items'][number];
export type PreorderStatus = (typeof preorderStatuses)[number];
export type Trust = z.infer<typeof TrustView>;
export type Attribution = z.infer<typeof AttributionView>;

export { ApiError };

// ---------------------------------------------------------------- configuration and the issuer

/** `config.json` beside index.html: written by the deploy on AWS, served by the local runtime. */
export interface ConsoleConfig {
  readonly issuer: string;
  readonly clientId: string;
  /** The API's origin (and path prefix, if any); same origin as the console when absent. */
  readonly apiUrl: string;
  readonly scope: string;
  /**
   * Where to end the issuer's session when its discovery names no end_session_endpoint
   * (Cognito's hosted UI `/logout`, which takes `client_id` and `logout_uri`).
   */
  readonly logoutUrl?: string;
}

const isRecord = (v: unknown): v is Record<string, unknown> => typeof v === 'object' && v !== null && !Array.isArray(v);
const isHttpUrl = (v: unknown): v is string => {
  if (typeof v !== 'string') return false;
  try {
    const u = new URL(v);
    return u.protocol === 'https:' || u.protocol === 'http:';
  } catch {
    return false;
  }
};

export class ConfigError extends Error {
  override readonly name = 'ConfigError';
}

/** Reads and checks config.json, failing loudly with what is wrong rather than running half-configured. */
export const loadConfig = async (base: string): Promise<ConsoleConfig> => {
  let raw: unknown;
  try {
    const res = await fetch(`${base}config.json`, { cache: 'no-store', headers: { Accept: 'application/json' } });
    if (!res.ok) throw new ConfigError(`config.json answered ${res.status}`);
    raw = await res.json();
  } catch (err) {
    throw err instanceof ConfigError ? err : new ConfigError(`config.json could not be read: ${String(err)}`);
  }
  if (!isRecord(raw)) throw new ConfigError('config.json is not an object');
  if (!isHttpUrl(raw.issuer)) throw new ConfigError('config.json: issuer must be an http(s) URL');
  if (typeof raw.clientId !== 'string' || raw.clientId === '') throw new ConfigError('config.json: clientId is required');
  if (raw.apiUrl !== undefined && raw.apiUrl !== '' && !isHttpUrl(raw.apiUrl)) throw new ConfigError('config.json: apiUrl must be an http(s) URL');
  if (raw.scope !== undefined && typeof raw.scope !== 'string') throw new ConfigError('config.json: scope must be a string');
  if (raw.logoutUrl !== undefined && !isHttpUrl(raw.logoutUrl)) throw new ConfigError('config.json: logoutUrl must be an http(s) URL');
  const apiUrl = typeof raw.apiUrl === 'string' && raw.apiUrl !== '' ? raw.apiUrl : location.origin;
  return {
    issuer: raw.issuer.replace(/\/+$/, ''),
    clientId: raw.clientId,
    apiUrl: apiUrl.replace(/\/+$/, ''),
    scope: typeof raw.scope === 'string' && raw.scope.trim() !== '' ? raw.scope.trim() : 'openid',
    ...(isHttpUrl(raw.logoutUrl) && { logoutUrl: raw.logoutUrl }),
  };
};

/** The parts of the issuer's discovery document the console uses. */
export interface Discovery {
  readonly issuer: string;
  readonly authorizationEndpoint: string;
  readonly tokenEndpoint: string;
  readonly endSessionEndpoint?: string;
}

export const discover = async (issuer: string): Promise<Discovery> => {
  const res = await fetch(`${issuer}/.well-known/openid-configuration`, { headers: { Accept: 'application/json' } });
  if (!res.ok) throw new Error(`the issuer's discovery document answered ${res.status}`);
  const d: unknown = await res.json();
  if (!isRecord(d) || !isHttpUrl(d.authorization_endpoint) || !isHttpUrl(d.token_endpoint) || typeof d.issuer !== 'string') {
    throw new Error("the issuer's discovery document lacks its endpoints");
  }
  return {
    issuer: d.issuer,
    authorizationEndpoint: d.authorization_endpoint,
    tokenEndpoint: d.token_endpoint,
    ...(isHttpUrl(d.end_session_endpoint) && { endSessionEndpoint: d.end_session_endpoint }),
  };
};

export interface TokenResponse {
  readonly accessToken: string;
  readonly idToken?: string;
  readonly expiresIn: number;
}

/** The authorization code grant's token request (a form POST; a public client sends no secret). */
export const requestTokens = async (tokenEndpoint: string, form: URLSearchParams): Promise<TokenResponse> => {
  const res = await fetch(tokenEndpoint, {
    method: 'POST',
    headers: { 'Content-Type': 'application/x-www-form-urlencoded', Accept: 'application/json' },
    body: form,
  });
  const body: unknown = await res.json().catch(() => undefined);
  if (!res.ok || !isRecord(body) || typeof body.access_token !== 'string') {
    const why = isRecord(body) ? [body.error, body.error_description].filter((x) => typeof x === 'string').join(': ') : '';
    throw new Error(`the token endpoint answered ${res.status}${why ? ` (${why})` : ''}`);
  }
  return {
    accessToken: body.access_token,
    ...(typeof body.id_token === 'string' && { idToken: body.id_token }),
    expiresIn: typeof body.expires_in === 'number' && body.expires_in > 0 ? body.expires_in : 3600,
  };
};

// ---------------------------------------------------------------- the API

export interface ApiOptions {
  readonly apiUrl: string;
  /** The current access token, if any. */
  readonly token: () => string | undefined;
  /** Called on a 401 (and when there is no token): restarts sign-in. */
  readonly unauthorized: () => void;
}

type Query = Record<string, string | number | undefined>;

interface RequestOptions {
  readonly query?: Query;
  readonly body?: unknown;
  readonly headers?: Record<string, string>;
  readonly signal?: AbortSignal;
}

const withQuery = (url: string, query: Query | undefined): string => {
  if (!query) return url;
  const u = new URL(url);
  for (const [k, v] of Object.entries(query)) if (v !== undefined && v !== '') u.searchParams.set(k, String(v));
  return u.toString();
};

const offline = (): ApiError => new ApiError({ type: 'urn:c2m:console:offline', title: 'Offline', status: 0, detail: '', errors: [] });

const isAbort = (err: unknown): boolean => err instanceof DOMException && err.name === 'AbortError';

/** A fresh Idempotency-Key: 128 random bits, printable ASCII as the API asks. */
export const newIdempotencyKey = (): string => {
  const bytes = crypto.getRandomValues(new Uint8Array(16));
  return `console-${Array.from(bytes, (b) => b.toString(16).padStart(2, '0')).join('')}`;
};

export const createApi = (opts: ApiOptions) => {
  const send = async (method: string, path: string, accept: string, o: RequestOptions = {}): Promise<Response> => {
    const token = opts.token();
    if (!token) {
      opts.unauthorized();
      throw new ApiError(toProblem(401, undefined, 'Unauthenticated'));
    }
    const url = withQuery(`${opts.apiUrl}${path}`, o.query);
    let res: Response;
    try {
      res = await fetch(url, {
        method,
        headers: {
          Authorization: `Bearer ${token}`,
          Accept: `${accept}, application/problem+json`,
          ...(o.body !== undefined && { 'Content-Type': 'application/json' }),
          ...o.headers,
        },
        ...(o.body !== undefined && { body: JSON.stringify(o.body) }),
        ...(o.signal && { signal: o.signal }),
      });
    } catch (err) {
      if (isAbort(err)) throw err;
      throw offline();
    }
    if (res.ok) return res;
    const body: unknown = await res.json().catch(() => undefined);
    if (res.status === 401) opts.unauthorized();
    throw new ApiError(toProblem(res.status, body, res.statusText));
  };

  const json = async <T>(method: string, path: string, o?: RequestOptions): Promise<T> => {
    const res = await send(method, path, 'application/json', o);
    try {
      return (await res.json()) as T;
    } catch (err) {
      if (isAbort(err)) throw err;
      throw offline();
    }
  };

  const campaign = (id: string) => `/v1/campaigns/${encodeURIComponent(id)}`;

  return {
    listCampaigns: (cursor?: string, signal?: AbortSignal) =>
      json<CampaignPage>('GET', '/v1/campaigns', { query: { mine: 'true', limit: 50, cursor }, ...(signal && { signal }) }),
    getCampaign: (id: string, signal?: AbortSignal) => json<Campaign>('GET', campaign(id), signal && { signal }),
    createCampaign: (body: NewCampaign, idempotencyKey: string) =>
      json<Campaign>('POST', '/v1/campaigns', { body, headers: { 'Idempotency-Key': idempotencyKey } }),
    updateCampaign: (id: string, change: CampaignChange) => json<Campaign>('PATCH', campaign(id), { body: change }),
    closeCampaign: (id: string) => json<Campaign>('POST', `${campaign(id)}/close`),
    demand: (id: string, signal?: AbortSignal) => json<Demand>('GET', `${campaign(id)}/demand`, signal && { signal }),
    demandHistory: (id: string, signal?: AbortSignal) => json<DemandHistory>('GET', `${campaign(id)}/demand/history`, signal && { signal }),
    batches: (id: string, signal?: AbortSignal) => json<BatchList>('GET', `${campaign(id)}/batches`, signal && { signal }),
    trust: (id: string, signal?: AbortSignal) => json<Trust>('GET', `${campaign(id)}/trust`, signal && { signal }),
    /** Reads every pre-order of the campaign on the server: asked for when the anchor opens it, not polled. */
    attribution: (id: string, signal?: AbortSignal) => json<Attribution>('GET', `${campaign(id)}/attribution`, signal && { signal }),
    attributionCsv: async (id: string): Promise<string> => joinCsvPages([await (await send('GET', `${campaign(id)}/attribution`, 'text/csv')).text()]),
    preorders: (id: string, q: { status?: PreorderStatus; buyerId?: string; cursor?: string; limit?: number }, signal?: AbortSignal) =>
      json<PreorderPage>('GET', `${campaign(id)}/preorders`, { query: { limit: 20, ...q }, ...(signal && { signal }) }),
    /**
     * Every page of the pre-orders as CSV, following `Link: <…>; rel="next"`, joined with the
     * BOM and header once. (Cross-origin, the API must expose Link: Access-Control-Expose-Headers.)
     */
    preordersCsv: async (id: string, q: { status?: PreorderStatus; buyerId?: string }, onPage?: (pages: number) => void): Promise<string> => {
      const pages: string[] = [];
      let url: string | undefined = withQuery(`${opts.apiUrl}${campaign(id)}/preorders`, { limit: 1000, ...q });
      const seen = new Set<string>();
      while (url && !seen.has(url)) {
        seen.add(url);
        const path: string = url.slice(opts.apiUrl.length);
        // The next page only on the API's own origin and path: the Bearer token goes nowhere else.
        const res = sameApi(url, opts.apiUrl) ? await send('GET', path, 'text/csv') : undefined;
        if (!res) throw new ApiError(toProblem(502, undefined, 'The next page is on another site'));
        pages.push(await res.text());
        onPage?.(pages.length);
        url = nextLink(res.headers.get('link'), url);
      }
      return joinCsvPages(pages);
    },
  };
};

export type Api = ReturnType<typeof createApi>;
