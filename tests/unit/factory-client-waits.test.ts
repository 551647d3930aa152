import { describe, expect, it } from 'vitest';
import { Paged, retryAfterMs } from '@c2m/factory-client';

// The factory client's pure parts: how long a Retry-After asks for, and a list that would never end.

describe('How long a Retry-After asks the client to wait', () => {
  const now = Date.parse('2026-12-01T12:00:00Z');

  it('reads delay-seconds as seconds', () => {
    expect(retryAfterMs('1', now)).toBe(1_000);
    expect(retryAfterMs(' 120 ', now)).toBe(120_000);
    expect(retryAfterMs('0', now)).toBe(0);
  });

  it('reads an HTTP date as the time left until then, and a date already past as no wait', () => {
    expect(retryAfterMs('Tue, 01 Dec 2026 12:00:30 GMT', now)).toBe(30_000);
    expect(retryAfterMs('Tue, 01 Dec 2026 11:59:00 GMT', now)).toBe(0);
  });

  it('ignores what is neither (absent, negative, fractional, words), so the client falls back to its own backoff', () => {
    for (const value of [null, undefined, '', '-1', '1.5', 'soon', '2026-12-01T12:00:30Z']) expect(retryAfterMs(value, now)).toBeUndefined();
  });
});

describe('A paged list', () => {
  it('asks for each page only when the previous one is used up, and stops asking when the caller stops', async () => {
    const asked: (string | undefined)[] = [];
    const pages: Record<string, { items: number[]; next?: string }> = { first: { items: [1, 2], next: 'b' }, b: { items: [3, 4], next: 'c' }, c: { items: [5] } };
    const list = new Paged<number>(async (position) => {
      asked.push(position);
      return pages[position ?? 'first']!;
    }, 'GET /numbers');

    const firstThree: number[] = [];
    for await (const n of list) {
      firstThree.push(n);
      if (firstThree.length === 3) break;
    }

    expect(firstThree).toEqual([1, 2, 3]);
    expect(asked).toEqual([undefined, 'b']);
    expect(await list.all()).toEqual([1, 2, 3, 4, 5]);
  });

  it('fails, naming the list, when the API serves a page position it served before (instead of looping forever)', async () => {
    const list = new Paged<number>(async () => ({ items: [1], next: 'same' }), 'GET /v1/factory/batches');
    await expect(list.all()).rejects.toThrow('GET /v1/factory/batches: the API answered with the same page position twice (same)');
  });
});
