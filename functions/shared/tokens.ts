import { createHmac, timingSafeEqual } from 'node:crypto';
import { z } from 'zod';

export const roles = ['anchor', 'buyer', 'factory', 'liveroom', 'operator'] as const;
export const Role = z.enum(roles);
export type Role = z.infer<typeof Role>;

export const Principal = z.object({
  role: Role,
  id: z.string().regex(/^[A-Za-z0-9_.:-]{1,64}$/, 'ids are 1-64 letters, digits or _ . : -'),
});
export type Principal = z.infer<typeof Principal>;

const Claims = z.object({ role: Role, sub: Principal.shape.id, iat: z.number().int(), exp: z.number().int() });

const b64 = (s: string | Buffer): string => Buffer.from(s).toString('base64url');
const header = b64(JSON.stringify({ alg: 'HS256', typ: 'JWT' }));

/** A compact HS256 JWT naming one principal. */
export const signToken = (secret: string, principal: Principal, ttlSeconds = 30 * 24 * 3600, now = Date.now()): string => {
  const iat = Math.floor(now / 1000);
  const payload = b64(JSON.stringify({ role: principal.role, sub: principal.id, iat, exp: iat + ttlSeconds }));
  const signature = createHmac('sha256', secret).update(`${header}.${payload}`).digest('base64url');
  return `${header}.${payload}.${signature}`;
};

/** Returns the principal, or undefined for any token that is malformed, forged or expired. */
export const verifyToken = (secret: string, token: string, now = Date.now()): Principal | undefined => {
  const parts = token.split('.');
  if (parts.length !== 3) return undefined;
  const [h, p, s] = parts as [string, string, string];
  if (h !== header) return undefined;
  const expected = createHmac('sha256', secret).update(`${h}.${p}`).digest();
  const given = Buffer.from(s, 'base64url');
  if (given.length !== expected.length || !timingSafeEqual(given, expected)) return undefined;
  let json: unknown;
  try {
    json = JSON.parse(Buffer.from(p, 'base64url').toString('utf8'));
  } catch {
    return undefined;
  }
  const claims = Claims.safeParse(json);
  if (!claims.success || claims.data.exp * 1000 <= now) return undefined;
  return { role: claims.data.role, id: claims.data.sub };
};
