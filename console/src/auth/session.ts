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
/** The `state` of a sign-out in flight: the issuer hands it back with the anchor at the console. */
const signOutKey = 'c2m.console.signout';

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
/** Where the issuer sends the anchor after signing out: the console's root (registered as the client's post-logout URI). */
export const postLogoutRedirectUri = (): string => `${location.origin}${base}`;

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
  if (!pending) throw new SignInError('this sign-in was not started in this tab');
  if (!q.get('state') || q.get('state') !== pending.state) throw new SignInError('the answer does not match this sign-in (state)');
  // Only the error code, and only once the state matched: a crafted link must not put its own words on this page.
  const error = q.get('error');
  if (error) throw new SignInError(/^[a-z_]{1,64}$/.test(error) ? error : 'refused');
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
 * Set when the anchor signs out: a poll or a list request still in flight then finds no token,
 * and must not take that for an expired session and sign straight back in.
 */
let signingOut = false;

/**
 * The API said 401: sign in again, back to where the anchor was. Right after a sign-in that
 * would loop (the issuer signs in someone the API refuses), so then it reports instead; while
 * signing out, it does nothing.
 */
export const signInAgain = async (config: ConsoleConfig): Promise<'loop' | 'signing-out' | never> => {
  if (signingOut) return 'signing-out';
  const t = read<Tokens>(tokensKey);
  sessionStorage.removeItem(tokensKey);
  if (t && Date.now() - t.signedInAt < 15_000) return 'loop';
  return beginSignIn(config, { returnTo: location.pathname + location.search });
};

/**
 * Clears the tokens; ends the issuer's session too when it has an end_session_endpoint, asking
 * it to send the anchor back to the console (RP-initiated logout: `post_logout_redirect_uri`,
 * with `id_token_hint` when the ID token is at hand, and a `state` the console recognises).
 */
export const signOut = async (config: ConsoleConfig): Promise<'left' | 'signed-out'> => {
  signingOut = true;
  const t = read<Tokens>(tokensKey);
  sessionStorage.removeItem(tokensKey);
  sessionStorage.removeItem(pendingKey);
  const d = await discover(config.issuer).catch(() => undefined);
  if (d?.endSessionEndpoint) {
    const state = randomToken();
    const url = new URL(d.endSessionEndpoint);
    url.searchParams.set('client_id', config.clientId);
    if (t?.idToken) url.searchParams.set('id_token_hint', t.idToken);
    url.searchParams.set('post_logout_redirect_uri', postLogoutRedirectUri());
    url.searchParams.set('state', state);
    sessionStorage.setItem(signOutKey, state);
    location.assign(url.toString());
    return 'left';
  }
  if (config.logoutUrl) {
    // Cognito's hosted UI: its own logout, back to the console's root (a registered logout URL).
    const url = new URL(config.logoutUrl);
    url.searchParams.set('client_id', config.clientId);
    url.searchParams.set('logout_uri', postLogoutRedirectUri());
    location.assign(url.toString());
    return 'left';
  }
  return 'signed-out';
};

/**
 * Back at the console from the issuer's sign-out (its `state` is the one this tab sent): the
 * console then says so instead of signing straight back in. Forgets the state either way.
 */
export const returnedFromSignOut = (url: URL): boolean => {
  const sent = sessionStorage.getItem(signOutKey);
  const state = url.searchParams.get('state');
  if (state === null) return false;
  sessionStorage.removeItem(signOutKey);
  return sent !== null && state === sent;
};
