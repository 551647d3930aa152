import { describe, expect, it } from 'vitest';
import { signToken, verifyToken } from '../../functions/shared/tokens.ts';
import { newId, requestHash } from '../../functions/shared/ids.ts';

describe('tokens', () => {
  const secret = 'test-secret';

  it('A token signed with the secret names its principal', () => {
    expect(verifyToken(secret, signToken(secret, { role: 'factory', id: 'f-1' }))).toEqual({ role: 'factory', id: 'f-1' });
  });

  it('A token signed with another secret, tampered with, or expired is refused', () => {
    const token = signToken(secret, { role: 'buyer', id: 'b-1' });
    expect(verifyToken('other', token)).toBeUndefined();
    const [h, , s] = token.split('.');
    const forged = Buffer.from(JSON.stringify({ role: 'operator', sub: 'b-1', iat: 0, exp: 9e9 })).toString('base64url');
    expect(verifyToken(secret, `${h}.${forged}.${s}`)).toBeUndefined();
    const old = signToken(secret, { role: 'buyer', id: 'b-1' }, 60, Date.now() - 120_000);
    expect(verifyToken(secret, old)).toBeUndefined();
    expect(verifyToken(secret, 'not-a-token')).toBeUndefined();
  });
});

describe('ids', () => {
  it('The same principal and idempotency key always give the same id; another key another id', () => {
    expect(newId('po', 'preorder|b-1|k1')).toBe(newId('po', 'preorder|b-1|k1'));
    expect(newId('po', 'preorder|b-1|k1')).not.toBe(newId('po', 'preorder|b-2|k1'));
    expect(newId('po')).toMatch(/^po_[0-9a-z]{24}$/);
    expect(newId('po')).not.toBe(newId('po'));
  });

  it('A request hash ignores key order but not values', () => {
    expect(requestHash({ a: 1, b: { c: 2, d: 3 } })).toBe(requestHash({ b: { d: 3, c: 2 }, a: 1 }));
    expect(requestHash({ a: 1 })).not.toBe(requestHash({ a: 2 }));
  });
});
