import { describe, expect, it } from 'vitest';
import { noticeEntry, renderNotice, noticeTemplates } from '../../functions/domain/notices.ts';
import { parseRefundId, refundIdOf, refundsOf, refundTemplates } from '../../functions/domain/refunds.ts';
import type { TimelineEntry } from '../../functions/domain/preorder.ts';

const preorderId = 'po_0123456789abcdefghijklmn';
const cny = (amount: number) => ({ amount, currency: 'CNY' });
const at = (minute: number) => `2026-12-01T10:${String(minute).padStart(2, '0')}:00.000Z`;

describe('Refunds are the refund entries of a pre-order’s timeline', () => {
  it('Each refund entry is one refund, numbered in order, with its amount and why; other entries are none', () => {
    const timeline: TimelineEntry[] = [
      noticeEntry({ at: at(0), status: 'ACCEPTED' }, 'preorder.accepted', { quantity: 3, promisedShipBy: '2026-12-20', ...cny(30000) }, 'en'),
      noticeEntry({ at: at(1), status: 'IN_PRODUCTION', step: 'partly-refunded' }, 'preorder.partly_refunded_closed_short', { units: 1, ordered: 3, kept: 2, ...cny(10000) }, 'en'),
      noticeEntry({ at: at(2), status: 'SHIPPED' }, 'preorder.compensated', { promisedShipBy: '2026-12-20', ...cny(500) }, 'en'),
      noticeEntry({ at: at(3), status: 'REFUNDED' }, 'preorder.refunded_at_ceiling', { units: 2, latestShipBy: '2026-12-27', ...cny(20000) }, 'en'),
      // Stored before templates: no amount to pay, not listed.
      { at: at(4), status: 'REFUNDED', note: 'Refunded' },
    ];
    const refunds = refundsOf({ preorderId, timeline, refundConfirmations: [{ refundId: `rf_0123456789abcdefghijklmn_2`, confirmedAt: at(9) }] });
    expect(refunds).toEqual([
      { refundId: 'rf_0123456789abcdefghijklmn_1', amount: 10000, currency: 'CNY', reason: 'batch-closed-short', status: 'REQUESTED', requestedAt: at(1) },
      { refundId: 'rf_0123456789abcdefghijklmn_2', amount: 20000, currency: 'CNY', reason: 'ceiling', status: 'CONFIRMED', requestedAt: at(3), confirmedAt: at(9) },
    ]);
    // Compensation is owed, but it is no refund of what was paid: not listed (decision 36).
    expect(refunds.map((r) => r.amount)).not.toContain(500);
  });

  it('A refund id names its pre-order and place, and nothing else parses as one', () => {
    expect(refundIdOf(preorderId, 3)).toBe('rf_0123456789abcdefghijklmn_3');
    expect(parseRefundId('rf_0123456789abcdefghijklmn_3')).toEqual({ preorderId, n: 3 });
    for (const bad of ['rf_0123456789abcdefghijklmn_0', 'rf_0123456789abcdefghijklmn_', 'po_0123456789abcdefghijklmn', 'rf_0123456789ABCDEFGHIJKLMN_1', 'rf_short_1', '']) {
      expect(parseRefundId(bad), bad).toBeUndefined();
    }
  });

  it('Every refund text tells the buyer the refund is on its way, not that it was paid; only the confirmation says it was', () => {
    const refundText = Object.keys(refundTemplates) as (keyof typeof refundTemplates)[];
    expect(refundText.length).toBeGreaterThan(0);
    const params = { units: 1, ordered: 2, kept: 1, minTotalQuantity: 10, latestShipBy: '2026-12-27', sku: 'TEE-M', unitPrice: 9900, ...cny(12900) };
    for (const template of refundText) {
      expect(noticeTemplates).toContain(template);
      const en = renderNotice(template, params as never, 'en');
      const zh = renderNotice(template, params as never, 'zh-CN');
      expect(en, template).toMatch(/refund of ¥129\.00 .*is on its way to you/);
      expect(en, template).not.toMatch(/is refunded|has been refunded/);
      expect(zh, template).toMatch(/申请(全额)?退款¥129\.00/);
      expect(zh, template).not.toMatch(/已全额退款|已退款/);
    }
    expect(renderNotice('preorder.refund_confirmed', cny(12900), 'en')).toBe('Your refund of ¥129.00 has been paid back to you.');
    expect(renderNotice('preorder.refund_confirmed', cny(12900), 'zh-CN')).toBe('退款¥129.00已退还给您。');
  });
});
