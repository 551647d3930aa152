import { createHash, randomBytes } from 'node:crypto';

const alphabet = '0123456789abcdefghjkmnpqrstvwxyz';

const base32 = (bytes: Uint8Array, length: number): string => {
  let out = '';
  let bits = 0;
  let value = 0;
  for (const byte of bytes) {
    value = (value << 8) | byte;
    bits += 8;
    while (bits >= 5 && out.length < length) {
      out += alphabet[(value >>> (bits - 5)) & 31];
      bits -= 5;
    }
    if (out.length >= length) break;
  }
  return out;
};

/**
 * Ids are `<prefix>_` + 24 base32 characters. With an idempotency key the id is
 * derived from (principal, key), so a retried create lands on the same item and
 * the store's `attribute_not_exists` condition turns the retry into a replay:
 * idempotency costs no extra write.
 */
export const newId = (prefix: string, idempotencyScope?: string): string => {
  const bytes = idempotencyScope ? createHash('sha256').update(idempotencyScope).digest() : randomBytes(16);
  return `${prefix}_${base32(bytes, 24)}`;
};

/** A stable hash of a request's meaning (parsed body plus the path it was sent to). */
export const requestHash = (value: unknown): string =>
  createHash('sha256').update(canonicalJson(value)).digest('base64url');

const canonicalJson = (value: unknown): string => {
  if (Array.isArray(value)) return `[${value.map(canonicalJson).join(',')}]`;
  if (value && typeof value === 'object') {
    const entries = Object.entries(value as Record<string, unknown>)
      .filter(([, v]) => v !== undefined)
      .sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0));
    return `{${entries.map(([k, v]) => `${JSON.stringify(k)}:${canonicalJson(v)}`).join(',')}}`;
  }
  return JSON.stringify(value);
};
