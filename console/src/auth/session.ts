/**
 * Signing the anchor in: OpenID Connect authorization code + PKCE (S256), a public client with
 * no secret. Tokens live in sessionStorage (gone with the tab, never shared with other tabs or
 * kept on the phone); signing out clears them and ends the issuer's session where it has an
 * end_session_endpoint.
 */
import { discover, requestTokens, type ConsoleConfig } from '../api.ts';
import { safeReturnPath } from '../lib/routes.ts';
import { authorizationUrl, idTokenProblem, jwtClaims, randomToken, s256Challenge, tokenRequestBody } from './pkce.ts';

const tokensKey = 'c2m.console.tokens';
const pendingKey = 'c2m.console.signin';

interface Tokens {
  readonly accessToken: string;
  readonly idToken?: string;
  /** Epoch ms. */
  readonly expiresAt: number;
  readonly signedInAt: number;
}

interface Pending {
  readonly state: string;
  readonly nonce: string;
  readonly verifier: string;
  readonly returnTo: string;
}

const read = <T>(key: string): T | undefined => {
  try {
    const v = sessionStorage.getItem(key);
    return v ? (JSON.parse(v) as T) : undefined;
  } catch {
    return undefined;
  }
};

const base = import.meta.env.BASE_URL;
export const redirectUri = (): string => `${location.origin}${base}callback`;

/** The access token while it has more than 30 s to live. */
export const accessToken = (): string | undefined => {
  const t = read<Tokens>(tokensKey);
  return t && t.expiresAt - 30_000 > Date.now() ? t.accessToken : undefined;
};

export const beginSignIn = async (config: ConsoleConfig, opts: { returnTo: string; loginHint?: string }): Promise<never> => {
  const d = await discover(config.issuer);
  const pending: Pending = {
    state: randomToken(),
    nonce: randomToken(),
    verifier: randomToken(32),
    returnTo: safeReturnPath(opts.returnTo, base),
  };
  sessionStorage.setItem(pendingKey, JSON.stringify(pending));
  location.assign(
    authorizationUrl({
      authorizationEndpoint: d.authorizationEndpoint,
      clientId: config.clientId,
      redirectUri: redirectUri(),
      scope: config.scope,
      state: pending.state,
      nonce: pending.nonce,
      codeChallenge: await s256Challenge(pending.verifier),
      ...(opts.loginHint && { loginHint: opts.loginHint }),
    }),
  );
  // The page is leaving; nothing after this should render.
  return new Promise<never>(() => {});
};

export class SignInError extends Error {
  override readonly name = 'SignInError';
}

/** At /console/callback: checks state, exchanges the code, checks the ID token's nonce; returns where to go next. */
export const completeSignIn = async (config: ConsoleConfig, url: URL): Promise<string> => {
  const pending = read<Pending>(pendingKey);
  sessionStorage.removeItem(pendingKey);
  const q = url.searchParams;
  const error = q.get('error');
  if (error) throw new SignInError(q.get('error_description') ?? error);
  if (!pending) throw new SignInError('this sign-in was not started in this tab');
  if (!q.get('state') || q.get('state') !== pending.state) throw new SignInError('the answer does not match this sign-in (state)');
  const code = q.get('code');
  if (!code) throw new SignInError('the issuer sent no code');
  const d = await discover(config.issuer);
  const tokens = await requestTokens(
    d.tokenEndpoint,
    tokenRequestBody({ code, redirectUri: redirectUri(), clientId: config.clientId, verifier: pending.verifier }),
  );
  if (tokens.idToken) {
    const wrong = idTokenProblem(jwtClaims(tokens.idToken), {
      issuer: d.issuer,
      clientId: config.clientId,
      nonce: pending.nonce,
      nowSeconds: Date.now() / 1000,
    });
    if (wrong) throw new SignInError(wrong);
  } else if (config.scope.split(' ').includes('openid')) {
    throw new SignInError('the issuer sent no ID token');
  }
  const now = Date.now();
  const stored: Tokens = {
    accessToken: tokens.accessToken,
    ...(tokens.idToken && { idToken: tokens.idToken }),
    expiresAt: now + tokens.expiresIn * 1000,
    signedInAt: now,
  };
  sessionStorage.setItem(tokensKey, JSON.stringify(stored));
  return pending.returnTo;
};

/**
 * The API said 401: sign in again, back to where the anchor was. Right after a sign-in that
 * would loop (the issuer signs in someone the API refuses), so then it reports instead.
 */
export const signInAgain = async (config: ConsoleConfig): Promise<'loop' | never> => {
  const t = read<Tokens>(tokensKey);
  sessionStorage.removeItem(tokensKey);
  if (t && Date.now() - t.signedInAt < 15_000) return 'loop';
  return beginSignIn(config, { returnTo: location.pathname + location.search });
};

/** Clears the tokens; ends the issuer's session too when it has an end_session_endpoint. */
export const signOut = async (config: ConsoleConfig): Promise<'left' | 'signed-out'> => {
  const t = read<Tokens>(tokensKey);
  sessionStorage.removeItem(tokensKey);
  sessionStorage.removeItem(pendingKey);
  const d = await discover(config.issuer).catch(() => undefined);
  if (d?.endSessionEndpoint) {
    const url = new URL(d.endSessionEndpoint);
    url.searchParams.set('client_id', config.clientId);
    if (t?.idToken) url.searchParams.set('id_token_hint', t.idToken);
    location.assign(url.toString());
    return 'left';
  }
  return 'signed-out';
};
