import { describe, expect, it } from 'vitest';
import { createHash } from 'node:crypto';
import {
  authorizationUrl,
  base64url,
  idTokenProblem,
  jwtClaims,
  randomToken,
  s256Challenge,
  sha256,
  tokenRequestBody,
} from '../../console/src/auth/pkce.ts';
import { parseRoute, safeReturnPath } from '../../console/src/lib/routes.ts';

const rfcVerifier = 'dBjftJeZ4CVP-mB92K27uhbUJU1p1r_wW1gFWFOEjXk';
// RFC 7636 appendix B prints E9Melhoa2…: 'a' after 'Melho' (SHA-256 of the verifier, base64url).
const rfcChallenge = 'E9Melhoa2OwvFrEMTJguCHaoeK1t8URWbuGJSstw-cM';

const jwt = (claims: object) => `${base64url(new TextEncoder().encode('{"alg":"ES256"}'))}.${base64url(new TextEncoder().encode(JSON.stringify(claims)))}.sig`;

describe('console sign-in (PKCE)', () => {
  it('The S256 challenge of RFC 7636 appendix B\'s verifier is the RFC\'s, with WebCrypto', async () => {
    expect(await s256Challenge(rfcVerifier)).toBe(rfcChallenge);
  });

  it('Without WebCrypto (a page on plain http from another host) the fallback SHA-256 gives the same challenge', async () => {
    expect(await s256Challenge(rfcVerifier, null)).toBe(rfcChallenge);
  });

  it('The fallback SHA-256 agrees with Node\'s on empty, one-block, two-block and long inputs', () => {
    for (const text of ['', 'abc', 'a'.repeat(55), 'a'.repeat(56), 'a'.repeat(64), '中文'.repeat(100), 'x'.repeat(1000)]) {
      const bytes = new TextEncoder().encode(text);
      expect(Buffer.from(sha256(bytes)).toString('hex'), text.slice(0, 10)).toBe(createHash('sha256').update(bytes).digest('hex'));
    }
  });

  it('Verifiers, states and nonces are 43 base64url characters and never repeat', () => {
    const seen = new Set<string>();
    for (let i = 0; i < 100; i++) {
      const v = randomToken();
      expect(v).toMatch(/^[A-Za-z0-9_-]{43}$/);
      seen.add(v);
    }
    expect(seen.size).toBe(100);
  });

  it('The authorization request carries S256, state, nonce, and the login_hint it was given', () => {
    const url = new URL(
      authorizationUrl({
        authorizationEndpoint: 'http://localhost:3000/oidc/auth',
        clientId: 'c2m-console',
        redirectUri: 'http://localhost:3000/console/callback',
        scope: 'openid',
        state: 's1',
        nonce: 'n1',
        codeChallenge: rfcChallenge,
        loginHint: 'demo-anchor token',
      }),
    );
    expect(Object.fromEntries(url.searchParams)).toEqual({
      client_id: 'c2m-console',
      response_type: 'code',
      scope: 'openid',
      redirect_uri: 'http://localhost:3000/console/callback',
      state: 's1',
      nonce: 'n1',
      code_challenge: rfcChallenge,
      code_challenge_method: 'S256',
      login_hint: 'demo-anchor token',
    });
    const without = new URL(authorizationUrl({ authorizationEndpoint: 'https://idp.example/authorize?x=1', clientId: 'c', redirectUri: 'r', scope: 'openid', state: 's', nonce: 'n', codeChallenge: 'c' }));
    expect(without.searchParams.has('login_hint')).toBe(false);
    expect(without.searchParams.get('x')).toBe('1');
  });

  it('The token request is the authorization_code grant with the verifier and no secret', () => {
    expect(Object.fromEntries(tokenRequestBody({ code: 'abc', redirectUri: 'r', clientId: 'c2m-console', verifier: rfcVerifier }))).toEqual({
      grant_type: 'authorization_code',
      code: 'abc',
      redirect_uri: 'r',
      client_id: 'c2m-console',
      code_verifier: rfcVerifier,
    });
  });

  it('An ID token is accepted only with this sign-in\'s nonce, issuer and client', () => {
    const expect_ = { issuer: 'http://localhost:3000/oidc', clientId: 'c2m-console', nonce: 'n1', nowSeconds: 1_800_000_000 };
    const good = { iss: expect_.issuer, aud: 'c2m-console', nonce: 'n1', exp: 1_800_000_600, sub: '中文-anchor' };
    expect(jwtClaims(jwt(good))).toEqual(good);
    expect(idTokenProblem(jwtClaims(jwt(good)), expect_)).toBeUndefined();
    expect(idTokenProblem(jwtClaims(jwt({ ...good, aud: ['other', 'c2m-console'] })), expect_)).toBeUndefined();
    expect(idTokenProblem(jwtClaims(jwt({ ...good, nonce: 'n2' })), expect_)).toMatch(/nonce/);
    expect(idTokenProblem(jwtClaims(jwt({ ...good, iss: 'https://evil.example' })), expect_)).toMatch(/issuer/);
    expect(idTokenProblem(jwtClaims(jwt({ ...good, aud: 'other' })), expect_)).toMatch(/client/);
    expect(idTokenProblem(jwtClaims(jwt({ ...good, exp: 1_700_000_000 })), expect_)).toMatch(/expired/);
    expect(idTokenProblem(jwtClaims('not-a-jwt'), expect_)).toMatch(/not a JWT/);
  });

  it('After sign-in the console returns only to its own pages', () => {
    expect(safeReturnPath('/console/campaigns/cmp_1?x=1', '/console/')).toBe('/console/campaigns/cmp_1?x=1');
    expect(safeReturnPath('https://evil.example/console/', '/console/')).toBe('/console/');
    expect(safeReturnPath('//evil.example/console/', '/console/')).toBe('/console/');
    expect(safeReturnPath('/other', '/console/')).toBe('/console/');
    expect(safeReturnPath(null, '/console/')).toBe('/console/');
  });

  it('The console\'s paths map to its screens', () => {
    expect(parseRoute('/console/', '/console/')).toEqual({ name: 'list' });
    expect(parseRoute('/console', '/console/')).toEqual({ name: 'list' });
    expect(parseRoute('/console/campaigns/new', '/console/')).toEqual({ name: 'new' });
    expect(parseRoute('/console/campaigns/cmp_0000000000000000000000ab', '/console/')).toEqual({ name: 'campaign', campaignId: 'cmp_0000000000000000000000ab' });
    expect(parseRoute('/console/callback', '/console/')).toEqual({ name: 'callback' });
    expect(parseRoute('/console/nope/x', '/console/')).toEqual({ name: 'not-found' });
  });
});
