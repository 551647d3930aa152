/**
 * The pieces of OpenID Connect authorization code + PKCE (RFC 7636, S256) that need no
 * browser: random values, the challenge, the authorization URL, reading an ID token's claims.
 * WebCrypto only, so the same code runs in the browser and in the unit tests (Node 20).
 */
export const base64url = (bytes: Uint8Array): string => {
  let s = '';
  for (const b of bytes) s += String.fromCharCode(b);
  return btoa(s).replace(/\+/g, '-').replace(/\//g, '_').replace(/=+$/, '');
};

const fromBase64url = (s: string): Uint8Array => {
  const b64 = s.replace(/-/g, '+').replace(/_/g, '/') + '='.repeat((4 - (s.length % 4)) % 4);
  const bin = atob(b64);
  return Uint8Array.from(bin, (c) => c.charCodeAt(0));
};

/** 32 random bytes as base64url: 43 characters, within RFC 7636's 43-128 for a verifier; also state and nonce. */
export const randomToken = (bytes = 32): string => base64url(crypto.getRandomValues(new Uint8Array(bytes)));

const K = Uint32Array.from(
  '428a2f98 71374491 b5c0fbcf e9b5dba5 3956c25b 59f111f1 923f82a4 ab1c5ed5 d807aa98 12835b01 243185be 550c7dc3 72be5d74 80deb1fe 9bdc06a7 c19bf174 e49b69c1 efbe4786 0fc19dc6 240ca1cc 2de92c6f 4a7484aa 5cb0a9dc 76f988da 983e5152 a831c66d b00327c8 bf597fc7 c6e00bf3 d5a79147 06ca6351 14292967 27b70a85 2e1b2138 4d2c6dfc 53380d13 650a7354 766a0abb 81c2c92e 92722c85 a2bfe8a1 a81a664b c24b8b70 c76c51a3 d192e819 d6990624 f40e3585 106aa070 19a4c116 1e376c08 2748774c 34b0bcb5 391c0cb3 4ed8aa4a 5b9cca4f 682e6ff3 748f82ee 78a5636f 84c87814 8cc70208 90befffa a4506ceb bef9a3f7 c67178f2'
    .split(' ')
    .map((h) => parseInt(h, 16)),
);

/**
 * SHA-256 (FIPS 180-4) in plain JS, for where WebCrypto's `subtle` is missing: browsers hide it
 * outside secure contexts, e.g. a phone opening `npm start`'s console at http://192.168.x.y:3000.
 */
export const sha256 = (data: Uint8Array): Uint8Array => {
  const h = Uint32Array.from([0x6a09e667, 0xbb67ae85, 0x3c6ef372, 0xa54ff53a, 0x510e527f, 0x9b05688c, 0x1f83d9ab, 0x5be0cd19]);
  const padded = new Uint8Array(Math.ceil((data.length + 9) / 64) * 64);
  padded.set(data);
  padded[data.length] = 0x80;
  const view = new DataView(padded.buffer);
  view.setUint32(padded.length - 8, Math.floor(data.length / 0x20000000));
  view.setUint32(padded.length - 4, (data.length * 8) >>> 0);
  const w = new Uint32Array(64);
  const rotr = (x: number, n: number) => (x >>> n) | (x << (32 - n));
  for (let off = 0; off < padded.length; off += 64) {
    for (let i = 0; i < 16; i++) w[i] = view.getUint32(off + i * 4);
    for (let i = 16; i < 64; i++) {
      const a = w[i - 15]!;
      const b = w[i - 2]!;
      w[i] = (w[i - 16]! + (rotr(a, 7) ^ rotr(a, 18) ^ (a >>> 3)) + w[i - 7]! + (rotr(b, 17) ^ rotr(b, 19) ^ (b >>> 10))) >>> 0;
    }
    let [a, b, c, d, e, f, g, hh] = h as unknown as [number, number, number, number, number, number, number, number];
    for (let i = 0; i < 64; i++) {
      const t1 = (hh + (rotr(e, 6) ^ rotr(e, 11) ^ rotr(e, 25)) + ((e & f) ^ (~e & g)) + K[i]! + w[i]!) >>> 0;
      const t2 = ((rotr(a, 2) ^ rotr(a, 13) ^ rotr(a, 22)) + ((a & b) ^ (a & c) ^ (b & c))) >>> 0;
      hh = g;
      g = f;
      f = e;
      e = (d + t1) >>> 0;
      d = c;
      c = b;
      b = a;
      a = (t1 + t2) >>> 0;
    }
    h[0] = (h[0]! + a) >>> 0;
    h[1] = (h[1]! + b) >>> 0;
    h[2] = (h[2]! + c) >>> 0;
    h[3] = (h[3]! + d) >>> 0;
    h[4] = (h[4]! + e) >>> 0;
    h[5] = (h[5]! + f) >>> 0;
    h[6] = (h[6]! + g) >>> 0;
    h[7] = (h[7]! + hh) >>> 0;
  }
  const out = new Uint8Array(32);
  const outView = new DataView(out.buffer);
  h.forEach((v, i) => outView.setUint32(i * 4, v));
  return out;
};

/** The S256 code challenge: BASE64URL(SHA-256(ASCII(verifier))); WebCrypto where the page has it. */
type Digest = { digest(algorithm: 'SHA-256', data: Uint8Array<ArrayBuffer>): Promise<ArrayBuffer> };

export const s256Challenge = async (verifier: string, subtle: Digest | null = globalThis.crypto?.subtle ?? null): Promise<string> => {
  const bytes = new TextEncoder().encode(verifier);
  return base64url(subtle ? new Uint8Array(await subtle.digest('SHA-256', bytes)) : sha256(bytes));
};

export interface AuthorizationRequest {
  readonly authorizationEndpoint: string;
  readonly clientId: string;
  readonly redirectUri: string;
  readonly scope: string;
  readonly state: string;
  readonly nonce: string;
  readonly codeChallenge: string;
  /** Passed through from the console's own URL (`?login_hint=`): the local issuer signs the demo anchor in with it. */
  readonly loginHint?: string;
}

export const authorizationUrl = (r: AuthorizationRequest): string => {
  const url = new URL(r.authorizationEndpoint);
  const q = url.searchParams;
  q.set('client_id', r.clientId);
  q.set('response_type', 'code');
  q.set('scope', r.scope);
  q.set('redirect_uri', r.redirectUri);
  q.set('state', r.state);
  q.set('nonce', r.nonce);
  q.set('code_challenge', r.codeChallenge);
  q.set('code_challenge_method', 'S256');
  if (r.loginHint) q.set('login_hint', r.loginHint);
  return url.toString();
};

/** The token request's form body (authorization_code grant, public client: no secret). */
export const tokenRequestBody = (p: { code: string; redirectUri: string; clientId: string; verifier: string }): URLSearchParams =>
  new URLSearchParams({
    grant_type: 'authorization_code',
    code: p.code,
    redirect_uri: p.redirectUri,
    client_id: p.clientId,
    code_verifier: p.verifier,
  });

/** An ID token's claims, unverified; undefined when it is not a JWT. */
export const jwtClaims = (jwt: string): Record<string, unknown> | undefined => {
  const part = jwt.split('.')[1];
  if (!part) return undefined;
  try {
    const claims: unknown = JSON.parse(new TextDecoder().decode(fromBase64url(part)));
    return typeof claims === 'object' && claims !== null ? (claims as Record<string, unknown>) : undefined;
  } catch {
    return undefined;
  }
};

/**
 * The ID token's claims that bind it to this sign-in. It came straight from the token endpoint
 * over TLS, so OIDC Core 3.1.3.7 lets TLS stand in for the signature; the nonce, issuer,
 * audience and expiry are still checked. Returns what is wrong, or undefined.
 */
export const idTokenProblem = (
  claims: Record<string, unknown> | undefined,
  expect: { issuer: string; clientId: string; nonce: string; nowSeconds: number },
): string | undefined => {
  if (!claims) return 'the ID token is not a JWT';
  if (claims.iss !== expect.issuer) return 'the ID token is from another issuer';
  const aud = claims.aud;
  if (!(aud === expect.clientId || (Array.isArray(aud) && aud.includes(expect.clientId)))) return 'the ID token is for another client';
  if (claims.nonce !== expect.nonce) return 'the ID token does not carry this sign-in’s nonce';
  if (typeof claims.exp === 'number' && claims.exp + 60 < expect.nowSeconds) return 'the ID token has expired';
  return undefined;
};
