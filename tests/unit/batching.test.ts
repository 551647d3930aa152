import { describe, expect, it } from 'vitest';
import { acceptBy, batchLines, cutReason, selectForBatch, type WaitingPreorder } from '../../functions/domain/batching.ts';

const now = new Date('2026-11-22T12:00:00Z');
const p = (id: string, quantity: number, minutesAgo: number, sku = 'M'): WaitingPreorder => ({
  preorderId: id,
  sku,
  quantity,
  createdAt: new Date(now.getTime() - minutesAgo * 60_000).toISOString(),
});

describe('When a batch is cut', () => {
  const open = { status: 'OPEN', lotSize: 10, now };

  it('Nothing is cut while fewer than lotSize units wait and nobody has waited too long', () => {
    expect(cutReason({ ...open, waitingUnits: 9, maxWaitHours: 2, oldestWaitingAt: p('a', 1, 119).createdAt })).toBeUndefined();
  });

  it('Waiting units reaching lotSize cut a lot', () => {
    expect(cutReason({ ...open, waitingUnits: 10 })).toBe('lot');
  });

  it('The oldest pre-order waiting maxWaitHours cuts a batch even below lotSize', () => {
    expect(cutReason({ ...open, waitingUnits: 1, maxWaitHours: 2, oldestWaitingAt: p('a', 1, 120).createdAt })).toBe('max-wait');
  });

  it('A closed campaign cuts a final batch of whatever waits; a failed one never cuts', () => {
    expect(cutReason({ ...open, status: 'CLOSED', waitingUnits: 1 })).toBe('final');
    expect(cutReason({ ...open, status: 'FAILED', waitingUnits: 500 })).toBeUndefined();
    expect(cutReason({ ...open, status: 'CLOSED', waitingUnits: 0 })).toBeUndefined();
  });
});

describe('What a batch holds', () => {
  const waiting = [p('c', 4, 1), p('a', 3, 30), p('b', 5, 20), p('d', 2, 0)];

  it('Whole pre-orders, oldest first, until the lot size is reached', () => {
    expect(selectForBatch(waiting, 8, 'lot').map((x) => x.preorderId)).toEqual(['a', 'b']);
    expect(selectForBatch(waiting, 9, 'lot').map((x) => x.preorderId)).toEqual(['a', 'b', 'c']);
  });

  it('A max-wait batch takes what waits when that is less than a lot', () => {
    expect(selectForBatch(waiting, 100, 'max-wait').map((x) => x.preorderId)).toEqual(['a', 'b', 'c', 'd']);
  });

  it('The final batch takes everything, however much', () => {
    expect(selectForBatch(waiting, 2, 'final')).toHaveLength(4);
  });

  it('Pre-orders placed in the same millisecond are ordered the same way by every cutter', () => {
    const tie = [p('z', 1, 5), p('y', 1, 5)];
    expect(selectForBatch(tie, 1, 'lot').map((x) => x.preorderId)).toEqual(['y']);
  });

  it('Lines give the quantity per sku in the campaign’s variant order; acceptBy is the window after release', () => {
    expect(batchLines([p('a', 2, 0, 'M'), p('b', 1, 0, 'S'), p('c', 3, 0, 'M')], ['S', 'M', 'L'])).toEqual([
      { sku: 'S', quantity: 1 },
      { sku: 'M', quantity: 5 },
    ]);
    expect(acceptBy(now, 24)).toBe('2026-11-23T12:00:00.000Z');
  });
});
