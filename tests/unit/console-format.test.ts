import { describe, expect, it } from 'vitest';
import { formatDate } from '../../functions/domain/notices.ts';
import {
  formatCount,
  formatDateTime,
  formatDay,
  formatMoney,
  formatRate,
  fromLocalInput,
  minorDigits,
  moneyInputValue,
  parseMoney,
} from '../../console/src/lib/format.ts';

describe('console money and dates', () => {
  it('CNY 12900 minor units is ¥129.00 in both languages', () => {
    expect(formatMoney(12900, 'CNY', 'zh-CN')).toBe('¥129.00');
    expect(formatMoney(12900, 'CNY', 'en')).toBe('¥129.00');
    expect(formatMoney(1234567, 'CNY', 'en')).toBe('¥12,345.67');
    expect(formatMoney(5, 'CNY', 'zh-CN')).toBe('¥0.05');
  });

  it('Minor units follow the currency: JPY has none, USD two', () => {
    expect(minorDigits('JPY')).toBe(0);
    expect(minorDigits('CNY')).toBe(2);
    expect(formatMoney(1290, 'JPY', 'en')).toBe('¥1,290');
    expect(formatMoney(12900, 'USD', 'en')).toBe('$129.00');
  });

  it('What the anchor types becomes minor units exactly, without floating-point drift', () => {
    expect(parseMoney('129.00', 'CNY')).toBe(12900);
    expect(parseMoney('129', 'CNY')).toBe(12900);
    expect(parseMoney('129.5', 'CNY')).toBe(12950);
    expect(parseMoney('0.29', 'CNY')).toBe(29);
    expect(parseMoney('1,299.99', 'CNY')).toBe(129999);
    expect(parseMoney('¥ 129', 'CNY')).toBe(12900);
    expect(parseMoney('１２９．００', 'CNY')).toBe(12900);
    expect(parseMoney('1290', 'JPY')).toBe(1290);
  });

  it('Text that is not an amount, or has more decimals than the currency, is refused', () => {
    expect(parseMoney('', 'CNY')).toBeUndefined();
    expect(parseMoney('abc', 'CNY')).toBeUndefined();
    expect(parseMoney('12.345', 'CNY')).toBeUndefined();
    expect(parseMoney('-5', 'CNY')).toBeUndefined();
    expect(parseMoney('1.5', 'JPY')).toBeUndefined();
    expect(parseMoney('1.2.3', 'CNY')).toBeUndefined();
  });

  it('An amount written back for editing round-trips through parseMoney', () => {
    for (const minor of [0, 5, 99, 12900, 123456789]) {
      expect(parseMoney(moneyInputValue(minor, 'CNY'), 'CNY')).toBe(minor);
    }
    expect(moneyInputValue(12900, 'CNY')).toBe('129.00');
    expect(moneyInputValue(1290, 'JPY')).toBe('1290');
  });

  it('Moments are shown in the given zone and language; a day is the UTC date the buyer was told, never shifted by the phone', () => {
    expect(formatDateTime('2026-12-01T12:00:00Z', 'zh-CN', 'Asia/Shanghai')).toBe('2026年12月1日 20:00');
    const en = formatDateTime('2026-12-01T12:00:00Z', 'en', 'Asia/Shanghai');
    expect(en).toMatch(/^Dec 1, 2026, 8:00\sPM$/);
    expect(formatDay('2026-12-01', 'zh-CN')).toBe('2026年12月1日');
    expect(formatDay('2026-12-01', 'en')).toBe('Dec 1, 2026');
    // A promised ship-by is the UTC date, as the buyer's notice names it, in any time zone the phone is in.
    expect(formatDay('2026-12-01T20:00:00Z', 'en')).toBe('Dec 1, 2026');
    expect(formatDay('2026-12-01T20:00:00Z', 'zh-CN')).toBe(formatDate('2026-12-01T20:00:00Z', 'zh-CN'));
  });

  it('Counts and rates use the language\'s grouping and percent sign', () => {
    expect(formatCount(1234567, 'en')).toBe('1,234,567');
    expect(formatCount(1234567, 'zh-CN')).toBe('1,234,567');
    expect(formatRate(0.973, 'en')).toBe('97.3%');
    expect(formatRate(1, 'zh-CN')).toBe('100%');
  });

  it('A datetime-local value becomes the API\'s ISO UTC string; empty or invalid is undefined', () => {
    const iso = fromLocalInput('2026-12-01T20:00');
    expect(iso).toMatch(/^2026-12-0[12]T\d{2}:00:00Z$/);
    expect(Date.parse(iso!)).toBe(new Date('2026-12-01T20:00').getTime());
    expect(fromLocalInput('')).toBeUndefined();
    expect(fromLocalInput('not a date')).toBeUndefined();
  });
});
