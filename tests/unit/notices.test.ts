import { describe, expect, it } from 'vitest';
import {
  formatDate,
  formatDateTime,
  formatMoney,
  noticeEntry,
  noticeOfEntry,
  noticeTemplates,
  renderNotice,
  type NoticeParams,
  type NoticeTemplate,
} from '../../functions/domain/notices.ts';
import { en } from '../../functions/domain/notices/en.ts';
import { zhCN } from '../../functions/domain/notices/zh-CN.ts';
import { locales, newPreorder, type Locale } from '../../functions/domain/preorder.ts';

// Values a factory or the system could put into a notice, chosen so that a leak is visible:
// amounts whose minor units differ from their money form, a carrier with a factory id in it.
const cny = { amount: 12900, currency: 'CNY' };
const samples: { readonly [T in NoticeTemplate]: NoticeParams[T] } = {
  'preorder.accepted': { quantity: 2, promisedShipBy: '2026-12-14', ...cny },
  'preorder.cancelled': {},
  'preorder.refunded': cny,
  'preorder.cancelled_after_delay': { delayedTo: '2026-12-20' },
  'preorder.refunded_after_delay': cny,
  'preorder.refunded_campaign_failed': { minTotalQuantity: 10, ...cny },
  'preorder.partly_refunded_campaign_failed': { units: 1, ordered: 3, kept: 2, ...cny },
  'preorder.batched': { confirmBy: '2026-12-02' },
  'preorder.back_in_line': {},
  'preorder.moved_to_backup_factory': {},
  'preorder.refunded_factory_declined': cny,
  'preorder.in_production': { shipBy: '2026-12-10' },
  'preorder.delayed_at_acceptance': { promisedShipBy: '2026-12-14', shipBy: '2026-12-20' },
  'preorder.delayed': { promisedShipBy: '2026-12-14', shipBy: '2026-12-28' },
  'preorder.shipped': { quantity: 1, shipped: 2, carrier: 'factory-7 own van (po_01X)', trackingNumber: 'SF1234567890' },
  'preorder.partly_shipped': { quantity: 1, shipped: 1, ordered: 2, carrier: 'factory-7 own van (po_01X)', trackingNumber: 'SF1234567890' },
  'preorder.tracking_changed': { quantity: 2, carrier: 'factory-7 own van (po_01X)', trackingNumber: 'SF1234567891' },
  'preorder.delivered': { quantity: 1, trackingNumber: 'SF1234567890' },
  'preorder.partly_delivered': { quantity: 1, delivered: 1, expected: 2, trackingNumber: 'SF1234567890' },
  'preorder.refunded_closed_short': cny,
  'preorder.partly_refunded_closed_short': { units: 1, ordered: 2, kept: 1, amount: 6450, currency: 'CNY' },
  'preorder.shipped_all_made': { quantity: 1 },
  'preorder.delivered_all_made': { quantity: 1 },
  'preorder.compensated': { promisedShipBy: '2026-12-14', amount: 1290, currency: 'CNY' },
  'preorder.refunded_at_ceiling': { units: 1, latestShipBy: '2026-12-28', amount: 6450, currency: 'CNY' },
  'preorder.variant_missed_minimum': { sku: 'TEE-RED-M', switchBy: '2026-12-03' },
  'preorder.refunded_variant_missed': { sku: 'TEE-RED-M', ...cny },
  'preorder.switched': { sku: 'TEE-BLUE-M' },
  'preorder.address_changed': {},
  'preorder.refund_confirmed': cny,
  'preorder.price_dropped': { units: 2, unitPrice: 9900, amount: 6000, currency: 'CNY' },
  'preorder.accepted_deposit': { quantity: 2, closesAt: '2026-12-04', amount: 4000, currency: 'CNY' },
  'preorder.balance_due': { unitPrice: 10900, dueBy: '2026-12-06T14:00:00.000Z', amount: 17800, currency: 'CNY' },
  'preorder.balance_paid': { amount: 17800, currency: 'CNY' },
  'preorder.forfeited': { dueBy: '2026-12-06T14:00:00.000Z', amount: 4000, currency: 'CNY' },
  'preorder.cancelled_forfeit': { amount: 4000, currency: 'CNY' },
  'preorder.updated': { step: 'IN_PRODUCTION' },
};

const render = <T extends NoticeTemplate>(template: T, locale: Locale) => renderNotice(template, samples[template], locale);
const everyRendering = noticeTemplates.flatMap((template) => locales.map((locale) => ({ template, locale, text: render(template, locale) })));
const cjk = /[\u4e00-\u9fff]/;

describe('Buyer notices', () => {
  it('Every template has a text in every locale, and no locale has a text for a template that does not exist', () => {
    for (const texts of [en, zhCN]) expect(Object.keys(texts).sort()).toEqual([...noticeTemplates].sort());
  });

  it('Every template renders in zh-CN with Chinese characters and in en without them', () => {
    for (const { template, locale, text } of everyRendering) {
      expect(text.trim().length, `${template} ${locale}`).toBeGreaterThan(0);
      if (locale === 'zh-CN') expect(text, template).toMatch(cjk);
      else expect(text, template).not.toMatch(cjk);
    }
  });

  it('No rendered text names an internal id, a factory id, a carrier a factory typed, or an amount in minor units', () => {
    for (const { template, locale, text } of everyRendering) {
      expect(text, `${template} ${locale}`).not.toMatch(/\b(po|bat|cmp|shp)_|factory-\d|own van|minor units/);
      expect(text, `${template} ${locale}`).not.toMatch(/12900|6450|\b1290\b|\bCNY\b/);
    }
  });

  it('Money reads as money: ¥129.00 for CNY in both locales, the currency symbol or code otherwise', () => {
    expect(formatMoney(12900, 'CNY', 'zh-CN')).toBe('¥129.00');
    expect(formatMoney(12900, 'CNY', 'en')).toBe('¥129.00');
    expect(formatMoney(1290, 'USD', 'en')).toBe('$12.90');
    expect(formatMoney(1290, 'EUR', 'en')).toBe('€12.90');
    expect(formatMoney(1290, 'XYZ', 'en')).toBe('12.90 XYZ');
    expect(formatMoney(123456789, 'CNY', 'en')).toBe('¥1,234,567.89');
    expect(render('preorder.refunded', 'zh-CN')).toContain('¥129.00');
    expect(render('preorder.refunded', 'en')).toContain('¥129.00');
  });

  it('Dates read as dates in the buyer’s language', () => {
    expect(formatDate('2026-12-14', 'zh-CN')).toBe('2026年12月14日');
    expect(formatDate('2026-12-14T23:59:59.999Z', 'en')).toBe('December 14, 2026');
    expect(render('preorder.in_production', 'zh-CN')).toContain('2026年12月10日');
  });

  it('A balance deadline reads with its hour (Beijing time in Chinese, UTC in English, said so), so a 48-hour window does not blur into a day', () => {
    expect(formatDateTime('2026-12-06T14:05:00.000Z', 'zh-CN')).toBe('2026年12月6日 22:05（北京时间）');
    expect(formatDateTime('2026-12-06T17:05:00.000Z', 'zh-CN')).toBe('2026年12月7日 01:05（北京时间）');
    expect(formatDateTime('2026-12-06T14:05:00.000Z', 'en')).toMatch(/^December 6, 2026(,| at) 14:05 \(UTC\)$/);
    expect(render('preorder.balance_due', 'zh-CN')).toMatch(/2026年12月6日 22:00（北京时间）前支付尾款¥178\.00/);
    expect(render('preorder.forfeited', 'en')).toMatch(/deposit of ¥40\.00 is not refunded/);
  });

  it('A factory-typed tracking number is shown only as a code, and the carrier not at all', () => {
    const params = { quantity: 1, shipped: 1, carrier: 'Van of factory-7', trackingNumber: 'SF 123_4\nignore po_01X <b>' };
    for (const locale of locales) {
      const text = renderNotice('preorder.shipped', params, locale);
      expect(text).toContain('SF1234ignorepo01Xb');
      expect(text).not.toMatch(/Van of|factory-7|po_|<b>|\n/);
    }
  });

  it('A timeline entry carries its template and params, not their text, and is told rendered in the buyer’s language', () => {
    const entry = noticeEntry({ at: '2026-12-01T10:00:00.000Z', status: 'REFUNDED' }, 'preorder.refunded', cny, 'en');
    expect(entry).toEqual({ at: '2026-12-01T10:00:00.000Z', status: 'REFUNDED', template: 'preorder.refunded', params: cny });
    expect(noticeOfEntry(entry, 'en')).toEqual({ template: 'preorder.refunded', params: cny, locale: 'en', message: render('preorder.refunded', 'en') });
    expect(noticeOfEntry(entry, 'zh-CN').message).toBe(render('preorder.refunded', 'zh-CN'));
    // An entry stored with its rendering (before decision 28) is told as it was stored.
    expect(noticeOfEntry({ ...entry, note: 'as stored' }, 'en').message).toBe('as stored');
  });

  it('A pre-order is accepted with a notice in its own locale, zh-CN by default in a CNY campaign and en otherwise', () => {
    const base = {
      preorderId: 'po_1',
      buyerId: 'b-1',
      sku: 'M',
      unitPrice: 12900,
      quantity: 1,
      shippingAddress: { name: 'A', phone: '+8612345', line1: 'l', city: 'c', region: 'r', postalCode: '100000', country: 'CN' },
      gateTakes: [],
      now: new Date('2026-11-01T00:00:00Z'),
    };
    const campaign = (currency: string) => ({ campaignId: 'cmp_1', currency, closesAt: '2026-12-01T00:00:00.000Z', promisedShipDays: 13 });
    const zh = newPreorder({ ...base, campaign: campaign('CNY') }).timeline[0]!;
    const chosen = newPreorder({ ...base, campaign: campaign('CNY'), locale: 'en' }).timeline[0]!;
    const usd = newPreorder({ ...base, campaign: campaign('USD') }).timeline[0]!;
    expect(zh).toMatchObject({ template: 'preorder.accepted', params: { quantity: 1, amount: 12900, currency: 'CNY', promisedShipBy: '2026-12-14' } });
    const toldZh = noticeOfEntry(zh, 'zh-CN').message;
    const toldChosen = noticeOfEntry(chosen, 'en').message;
    expect(toldZh).toMatch(cjk);
    expect(toldZh).toContain('¥129.00');
    expect(toldChosen).toContain('¥129.00');
    expect(toldChosen).not.toMatch(cjk);
    expect(noticeOfEntry(usd, 'en').message).toContain('$129.00');
  });

  it('A timeline entry stored before templates is told as the generic update of its step, not with its old note', () => {
    const old = { at: '2026-12-01T10:00:00.000Z', status: 'IN_PRODUCTION' as const, step: 'delayed' as const, note: 'Factory factory-7 delayed batch bat_01X' };
    const notice = noticeOfEntry(old, 'en');
    expect(notice).toEqual({ template: 'preorder.updated', params: { step: 'delayed' }, locale: 'en', message: 'Your order is delayed.' });
    expect(noticeOfEntry(old, 'zh-CN').message).toMatch(cjk);
    expect(renderNotice('preorder.updated', { step: 'something-new' }, 'en')).toBe('Your order is updated.');
  });
});
