import { describe, expect, it } from 'vitest';
import { newId, requestHash } from '../../functions/shared/ids.ts';

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
