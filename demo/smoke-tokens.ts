import { readFileSync } from 'node:fs';
import { createC2mClient } from '@c2m/factory-client';
import { z } from 'zod';
import type { TokenSource } from './support/api-client.ts';

/**
 * Where `npm run smoke` gets its tokens for a deployed stage: a JSON file, given as
 * `--tokens <file>`. c2m holds no signing key, so the smoke cannot mint tokens: each role
 * comes from the issuer that stage trusts for it (design.md, "Identity"):
 *
 * - `anchor`: an access token of a user of the stage's pool (or your IdP) who is an anchor.
 *   Anchors sign in at the hosted UI with MFA, so it is minted beforehand (the console's
 *   sign-in, or your IdP's test tooling) and pasted here; it lives an hour.
 * - `liveroom`, `buyers`: tokens of the live platform's issuer naming a live room and
 *   buyers (its `roomClaim`, `buyerClaim`), from the platform's test tenant. One per buyer,
 *   each a different buyer: the smoke plays as many buyers as there are tokens.
 * - `factory`: a registered factory's id and either its client credentials (the smoke asks
 *   the token endpoint itself, and again when the token expires) or a token.
 *
 * No operator token: the factory is registered once, by an operator, before any smoke run.
 * No platform token: the smoke plays no payment (the payment service's calls are the platform's own).
 */
/** What the API's authorizer takes after `Bearer ` (a JWT is this); said here rather than as a 401 mid-run. */
const Token = z.string().regex(/^[A-Za-z0-9_.-]+$/, 'an access token alone (letters, digits, - _ .), without "Bearer "');
const FactoryId = z.string().regex(/^[A-Za-z0-9_.:-]{1,64}$/, 'ids are 1-64 letters, digits or _ . : -');

const FactoryCredentials = z.strictObject({
  /** The factory's id as the operator registered it: the campaign names it. */
  id: FactoryId,
  clientId: z.string().min(1),
  clientSecret: z.string().min(1),
  /** The stage's token endpoint (the TokenEndpoint output); absent: found from the API's OpenAPI document. */
  tokenUrl: z.url({ protocol: /^https?$/ }).optional(),
  /** @default 'c2m/factory' */
  scope: z.string().min(1).optional(),
});

export const TokensFile = z.strictObject({
  anchor: Token,
  liveroom: Token,
  buyers: z.array(Token).min(1).refine((ts) => new Set(ts).size === ts.length, 'each buyer once: the same token twice is the same buyer'),
  factory: z.union([z.strictObject({ id: FactoryId, token: Token }), FactoryCredentials], {
    error: 'either {id, token} or {id, clientId, clientSecret, tokenUrl?, scope?}',
  }),
});
export type TokensFile = z.infer<typeof TokensFile>;

/** The file could not be used as it is: said as one line per problem, naming the field. */
export class TokensFileError extends Error {}

/** A smoke run takes a few minutes: a token must still be good for this long when it starts. */
const minimumLifeMs = 5 * 60_000;

/** `exp` of a JWT (epoch ms), read without verification as a client would; undefined for an opaque token. */
const expiryOf = (token: string): number | undefined => {
  try {
    const { exp } = JSON.parse(Buffer.from(token.split('.')[1] ?? '', 'base64url').toString('utf8')) as { exp?: unknown };
    return typeof exp === 'number' ? exp * 1000 : undefined;
  } catch {
    return undefined;
  }
};

/** Reads and checks the file: its shape (naming each wrong field), and that no token has expired or is about to. */
export const readTokensFile = (path: string, now = Date.now()): TokensFile => {
  let text: string;
  try {
    text = readFileSync(path, 'utf8');
  } catch (err) {
    throw new TokensFileError(`cannot read ${path}: ${(err as Error).message}`);
  }
  let json: unknown;
  try {
    json = JSON.parse(text);
  } catch (err) {
    throw new TokensFileError(`${path} is not JSON: ${(err as Error).message}`);
  }
  const parsed = TokensFile.safeParse(json);
  if (!parsed.success) {
    throw new TokensFileError(`${path}: ${parsed.error.issues.map((i) => `${i.path.join('.') || '(file)'}: ${i.message}`).join('; ')}`);
  }
  const file = parsed.data;
  const tokens: [string, string][] = [
    ['anchor', file.anchor],
    ['liveroom', file.liveroom],
    ...file.buyers.map((t, i): [string, string] => [`buyers.${i}`, t]),
    ...('token' in file.factory ? [['factory.token', file.factory.token] as [string, string]] : []),
  ];
  const stale = tokens.flatMap(([field, token]) => {
    const exp = expiryOf(token);
    if (exp === undefined || exp - now >= minimumLifeMs) return [];
    return [exp <= now ? `${field} expired at ${new Date(exp).toISOString()}` : `${field} expires at ${new Date(exp).toISOString()}, in less than 5 minutes`];
  });
  if (stale.length > 0) throw new TokensFileError(`${path}: ${stale.join('; ')}; mint fresh ones (access tokens live an hour)`);
  return file;
};

/** The buyers' ids in a smoke run from a tokens file: one per token, in the file's order (their real ids are the platform's). */
export const buyerIdsOf = (file: TokensFile): string[] => file.buyers.map((_, i) => `buyer-${i + 1}`);

/**
 * The file's tokens as the smoke's actors ask for them. A factory with client credentials gets
 * its tokens from the factory client (clients/typescript), which finds the token endpoint when
 * none is given and renews the token before it expires.
 */
export const fileTokenSource = (file: TokensFile, apiUrl: string): TokenSource => {
  const buyers = new Map(buyerIdsOf(file).map((id, i) => [id, file.buyers[i]!]));
  const f = file.factory;
  const factoryToken =
    'token' in f
      ? () => Promise.resolve(f.token)
      : createC2mClient({
          baseUrl: apiUrl,
          credentials: { clientId: f.clientId, clientSecret: f.clientSecret, ...(f.tokenUrl && { tokenUrl: f.tokenUrl }), ...(f.scope && { scope: f.scope }) },
        }).accessToken;
  return async (p) => {
    switch (p.role) {
      case 'anchor':
        return file.anchor;
      case 'liveroom':
        return file.liveroom;
      case 'buyer': {
        const token = buyers.get(p.id);
        if (token === undefined) throw new Error(`no token for buyer ${p.id} in the tokens file`);
        return token;
      }
      case 'factory':
        if (p.id !== f.id) throw new Error(`no token for factory ${p.id} in the tokens file (it holds ${f.id})`);
        return factoryToken();
      case 'operator':
      case 'platform':
        throw new Error(`a smoke run from a tokens file acts as no ${p.role}`);
    }
  };
};
