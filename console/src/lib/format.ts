/**
 * Money, numbers and dates in the anchor's chosen locale. Pure (Intl only): unit-tested in Node.
 *
 * Money travels in minor units (12900 CNY is ¥129.00); the number of minor digits comes from
 * Intl for the currency, so JPY (0 digits) and KWD (3) are right too. `narrowSymbol` shows ¥ in
 * both locales (en's default would be "CN¥").
 */
export type Locale = 'en' | 'zh-CN';

const moneyFormats = new Map<string, Intl.NumberFormat>();
const moneyFormat = (locale: Locale, currency: string): Intl.NumberFormat => {
  const key = `${locale}|${currency}`;
  let f = moneyFormats.get(key);
  if (!f) {
    f = new Intl.NumberFormat(locale, { style: 'currency', currency, currencyDisplay: 'narrowSymbol' });
    moneyFormats.set(key, f);
  }
  return f;
};

/** How many minor digits a currency has (CNY 2, JPY 0). */
export const minorDigits = (currency: string): number =>
  new Intl.NumberFormat('en', { style: 'currency', currency }).resolvedOptions().maximumFractionDigits ?? 2;

/** 12900 CNY → "¥129.00" (both locales). */
export const formatMoney = (minor: number, currency: string, locale: Locale): string =>
  moneyFormat(locale, currency).format(minor / 10 ** minorDigits(currency));

/** The amount as the anchor would type it back: 12900 CNY → "129.00" (no symbol, no grouping). */
export const moneyInputValue = (minor: number, currency: string): string => {
  const digits = minorDigits(currency);
  const negative = minor < 0;
  const s = String(Math.abs(Math.trunc(minor))).padStart(digits + 1, '0');
  const whole = digits === 0 ? s : s.slice(0, -digits);
  const frac = digits === 0 ? '' : `.${s.slice(-digits)}`;
  return `${negative ? '-' : ''}${whole}${frac}`;
};

const fullWidth = /[\uFF10-\uFF19\uFF0E\uFF0C]/g;

/**
 * What the anchor typed ("129", "129.00", "1,299.5", "¥129", full-width "１２９．００") in minor
 * units; undefined when it is not an amount or has more decimals than the currency has.
 * String arithmetic: 0.29 * 100 is 28.999999999999996 in floating point.
 */
export const parseMoney = (text: string, currency: string): number | undefined => {
  const digits = minorDigits(currency);
  const s = text
    .replace(fullWidth, (c) => (c === '\uFF0E' ? '.' : c === '\uFF0C' ? ',' : String.fromCharCode(c.charCodeAt(0) - 0xfee0)))
    .replace(/[\s,¥￥$€£]|CN¥|RMB|CNY/gi, '');
  const m = /^(\d+)(?:\.(\d*))?$/.exec(s);
  if (!m) return undefined;
  const whole = m[1] ?? '0';
  const frac = m[2] ?? '';
  if (frac.length > digits) return undefined;
  const value = Number(whole) * 10 ** digits + Number(frac.padEnd(digits, '0') || '0');
  return Number.isSafeInteger(value) ? value : undefined;
};

const numberFormats = new Map<Locale, Intl.NumberFormat>();
/** 1234 → "1,234" in both locales. */
export const formatCount = (n: number, locale: Locale): string => {
  let f = numberFormats.get(locale);
  if (!f) {
    f = new Intl.NumberFormat(locale, { maximumFractionDigits: 0 });
    numberFormats.set(locale, f);
  }
  return f.format(n);
};

/** 0.973 → "97.3%". */
export const formatRate = (rate: number, locale: Locale): string =>
  new Intl.NumberFormat(locale, { style: 'percent', maximumFractionDigits: 1 }).format(rate);

/** A share of a whole for progress bars, 0-100, safe for a zero whole. */
export const percentOf = (part: number, whole: number): number => (whole <= 0 ? 0 : Math.min(100, Math.max(0, (part / whole) * 100)));

/** A moment in the anchor's time zone: "Dec 1, 2026, 8:00 PM" / "2026年12月1日 20:00". */
export const formatDateTime = (iso: string, locale: Locale, timeZone?: string): string =>
  new Intl.DateTimeFormat(locale, { dateStyle: 'medium', timeStyle: 'short', ...(timeZone && { timeZone }) }).format(new Date(iso));

/**
 * A calendar day: a bare YYYY-MM-DD (a committed ship date), or the UTC date of a
 * timestamp (a promised ship-by). Buyers' notices name the same UTC date
 * (functions/domain/notices.ts), so the anchor answering "when does mine ship?"
 * says the day the fan was told, whatever the phone's time zone.
 */
export const formatDay = (isoOrDay: string, locale: Locale): string =>
  new Intl.DateTimeFormat(locale, { dateStyle: 'medium', timeZone: 'UTC' }).format(new Date(`${isoOrDay.slice(0, 10)}T00:00:00Z`));

/** Hours and minutes for the chart's time axis, 24-hour in both languages (short enough for a phone's axis). */
export const formatClock = (epochMs: number, locale: Locale, timeZone?: string): string =>
  new Intl.DateTimeFormat(locale, { hour: '2-digit', minute: '2-digit', hourCycle: 'h23', ...(timeZone && { timeZone }) }).format(new Date(epochMs));

/** An ISO moment as a `datetime-local` input shows it, in the browser's zone: "2026-12-01T20:00". */
export const toLocalInput = (iso: string): string => {
  const d = new Date(iso);
  const pad = (n: number) => String(n).padStart(2, '0');
  return `${d.getFullYear()}-${pad(d.getMonth() + 1)}-${pad(d.getDate())}T${pad(d.getHours())}:${pad(d.getMinutes())}`;
};

/** A `datetime-local` value (the browser's zone) as the API's ISO UTC string; undefined when empty or invalid. */
export const fromLocalInput = (value: string): string | undefined => {
  if (!value) return undefined;
  const d = new Date(value);
  return Number.isNaN(d.getTime()) ? undefined : d.toISOString().replace(/\.\d{3}Z$/, 'Z');
};
