import type { Locale, PreorderStatus, TimelineEntry } from './preorder.ts';
import { en } from './notices/en.ts';
import { zhCN } from './notices/zh-CN.ts';

/**
 * What a buyer is told, as a stable template name and typed values, rendered in
 * the buyer's language. The platform gets the name and values too (SNS message
 * attributes), so it can render its own words; the rendered `message` is ours.
 *
 * Rules every text keeps (tests/unit/notices.test.ts checks them): no internal
 * id (pre-order, batch, campaign, shipment) and no factory id; nothing a
 * factory typed (a rejection or close-short reason becomes a fixed phrase; a
 * tracking number is shown as a code, the carrier only travels as a param);
 * money as money, never minor units.
 */
export const noticeTemplates = [
  'preorder.accepted',
  'preorder.cancelled',
  'preorder.refunded',
  'preorder.cancelled_after_delay',
  'preorder.refunded_after_delay',
  'preorder.refunded_campaign_failed',
  'preorder.partly_refunded_campaign_failed',
  'preorder.batched',
  'preorder.back_in_line',
  'preorder.moved_to_backup_factory',
  'preorder.refunded_factory_declined',
  'preorder.in_production',
  'preorder.delayed_at_acceptance',
  'preorder.delayed',
  'preorder.shipped',
  'preorder.partly_shipped',
  'preorder.tracking_changed',
  'preorder.delivered',
  'preorder.partly_delivered',
  'preorder.refunded_closed_short',
  'preorder.partly_refunded_closed_short',
  'preorder.shipped_all_made',
  'preorder.delivered_all_made',
  'preorder.compensated',
  'preorder.refunded_at_ceiling',
  'preorder.variant_missed_minimum',
  'preorder.refunded_variant_missed',
  'preorder.switched',
  'preorder.address_changed',
  'preorder.refund_confirmed',
  'preorder.price_dropped',
  'preorder.accepted_deposit',
  'preorder.balance_due',
  'preorder.balance_paid',
  'preorder.forfeited',
  'preorder.cancelled_forfeit',
  'preorder.updated',
] as const;
export type NoticeTemplate = (typeof noticeTemplates)[number];

/** Minor units (2 decimals) of an ISO 4217 currency. */
type Money = { amount: number; currency: string };
/** A calendar date, YYYY-MM-DD (UTC). */
type Day = string;
type Empty = Record<string, never>;

/** The values each template is rendered from: flat, JSON-friendly, ids left out on purpose. */
export interface NoticeParams {
  /** Placed; promised to ship by the campaign's date. */
  'preorder.accepted': { quantity: number; promisedShipBy: Day } & Money;
  /** The buyer cancelled (followed by the refund). */
  'preorder.cancelled': Empty;
  /** Refunded in full after the buyer cancelled before production. */
  'preorder.refunded': Money;
  'preorder.cancelled_after_delay': { delayedTo: Day };
  'preorder.refunded_after_delay': Money;
  'preorder.refunded_campaign_failed': { minTotalQuantity: number } & Money;
  /** The campaign failed after some of the buyer's units shipped: the rest is refunded, what came is theirs. */
  'preorder.partly_refunded_campaign_failed': { units: number; ordered: number; kept: number } & Money;
  /** In a batch released to the factory, which confirms a ship date by `confirmBy`. */
  'preorder.batched': { confirmBy: Day };
  /** A cut was abandoned before release (it would have sent a factory less than a minimum): waiting again, same place. */
  'preorder.back_in_line': Empty;
  /** The factory declined (or never accepted); the pre-order waits for the backup factory. */
  'preorder.moved_to_backup_factory': Empty;
  'preorder.refunded_factory_declined': Money;
  'preorder.in_production': { shipBy: Day };
  /** The factory accepted with a ship date later than the buyer's promise. */
  'preorder.delayed_at_acceptance': { promisedShipBy: Day; shipBy: Day };
  /** The promised date passed with units unshipped. */
  'preorder.delayed': { promisedShipBy: Day; shipBy: Day };
  /** The last units left: `quantity` in this lot, `shipped` in all. */
  'preorder.shipped': { quantity: number; shipped: number; carrier: string; trackingNumber: string };
  'preorder.partly_shipped': { quantity: number; shipped: number; ordered: number; carrier: string; trackingNumber: string };
  /** Units already on their way now travel in a parcel of the buyer's own (drop-shipping): its tracking number. */
  'preorder.tracking_changed': { quantity: number; carrier: string; trackingNumber: string };
  'preorder.delivered': { quantity: number; trackingNumber: string };
  'preorder.partly_delivered': { quantity: number; delivered: number; expected: number; trackingNumber: string };
  'preorder.refunded_closed_short': Money;
  /** `units` of `ordered` will not be made; the other `kept` are the buyer's. */
  'preorder.partly_refunded_closed_short': { units: number; ordered: number; kept: number } & Money;
  'preorder.shipped_all_made': { quantity: number };
  'preorder.delivered_all_made': { quantity: number };
  /** Shipped after the date promised at order time: compensation owed. */
  'preorder.compensated': { promisedShipBy: Day } & Money;
  /** Units not shipped by the original promise plus the ceiling, refunded by the clock. */
  'preorder.refunded_at_ceiling': { units: number; latestShipBy: Day } & Money;
  /** The pre-order's variant missed its own minimum; the buyer may switch until `switchBy`. */
  'preorder.variant_missed_minimum': { sku: string; switchBy: Day };
  /** Not switched by the end of the window: refunded in full. */
  'preorder.refunded_variant_missed': { sku: string } & Money;
  'preorder.switched': { sku: string };
  'preorder.address_changed': Empty;
  /** The platform confirmed it paid a refund back (every refund template above says it was requested). */
  'preorder.refund_confirmed': Money;
  /** The campaign closed with its variant's price at a lower tier: the difference on the units kept (`amount`) is refunded. */
  'preorder.price_dropped': { units: number; unitPrice: number } & Money;
  /** Placed in a deposit campaign: the deposit (`amount`) is paid; the balance is told when the sale ends (`closesAt`). */
  'preorder.accepted_deposit': { quantity: number; closesAt: Day } & Money;
  /** The sale closed at `unitPrice` a unit (after the deposit discount): the balance (`amount`) is due by `dueBy` (a timestamp). */
  'preorder.balance_due': { unitPrice: number; dueBy: string } & Money;
  /** The platform recorded the balance (`amount`) paid: the pre-order is in line for production. */
  'preorder.balance_paid': Money;
  /** The balance was not paid by `dueBy`: cancelled, the deposit (`amount`) kept. */
  'preorder.forfeited': { dueBy: string } & Money;
  /** The buyer cancelled a deposit pre-order before paying its balance: the deposit (`amount`) is kept. */
  'preorder.cancelled_forfeit': Money;
  /** For timeline entries written before templates: only the step is known. */
  'preorder.updated': { step: string };
}

/** A param value as stored and sent (the SNS `params` attribute is their JSON). */
export type NoticeParamValues = Readonly<Record<string, string | number>>;

/** The helpers a locale's texts format values with. */
export interface NoticeFormat {
  readonly money: (m: Money) => string;
  readonly date: (day: Day) => string;
  /** A moment (an ISO timestamp) as the locale writes it, with its hour, in UTC: a deadline a day's date would blur. */
  readonly dateTime: (iso: string) => string;
  /** A tracking number or sku, shown as a code: letters, digits, `-` and `.` only. */
  readonly code: (text: string) => string;
}

/** One locale's texts: a function per template, so plurals and word order are the locale's. */
export type NoticeTexts = { readonly [T in NoticeTemplate]: (p: NoticeParams[T], f: NoticeFormat) => string };

const textsOf: Record<Locale, NoticeTexts> = { 'zh-CN': zhCN, en };

const formatters = new Map<string, Intl.NumberFormat>();
const numberFormat = (locale: Locale, currency: string | undefined): Intl.NumberFormat => {
  const key = `${locale}|${currency ?? ''}`;
  let f = formatters.get(key);
  if (!f) {
    f = new Intl.NumberFormat(locale, {
      minimumFractionDigits: 2,
      maximumFractionDigits: 2,
      ...(currency !== undefined && {
        style: 'currency',
        currency,
        // ICU writes yuan as "CN¥" in English; buyers of a CNY campaign know it as ¥ in either language.
        currencyDisplay: currency === 'CNY' ? 'narrowSymbol' : 'symbol',
      }),
    });
    formatters.set(key, f);
  }
  return f;
};

/**
 * Minor units (always 2 decimals here) as money in the locale: ¥129.00, $12.90,
 * €12.90; a currency ICU has no symbol for reads "12.90 XYZ".
 */
export const formatMoney = (amountMinor: number, currency: string, locale: Locale): string => {
  const value = amountMinor / 100;
  try {
    const f = numberFormat(locale, currency);
    const symbol = f.formatToParts(value).find((part) => part.type === 'currency')?.value;
    if (symbol !== undefined && symbol !== currency.toUpperCase()) return f.format(value);
  } catch {
    // Not an ISO 4217 code Intl accepts: shown with its code below.
  }
  return `${numberFormat(locale, undefined).format(value)} ${currency}`;
};

const dateFormats: Record<Locale, Intl.DateTimeFormat> = {
  'zh-CN': new Intl.DateTimeFormat('zh-CN', { dateStyle: 'long', timeZone: 'UTC' }),
  en: new Intl.DateTimeFormat('en', { dateStyle: 'long', timeZone: 'UTC' }),
};

/** A calendar date (or a timestamp, whose UTC date is meant) as the locale writes it: 2026年12月14日, December 14, 2026. */
export const formatDate = (day: string, locale: Locale): string => {
  const ymd = day.slice(0, 10);
  const t = Date.parse(`${ymd}T00:00:00Z`);
  return Number.isNaN(t) ? ymd : dateFormats[locale].format(t);
};

/** Chinese buyers read a deadline in Beijing time, as their live platform shows it; English ones in UTC, said so. */
const dateTimeFormats: Record<Locale, { readonly format: Intl.DateTimeFormat; readonly zone: string }> = {
  'zh-CN': { format: new Intl.DateTimeFormat('zh-CN', { dateStyle: 'long', timeStyle: 'short', timeZone: 'Asia/Shanghai', hourCycle: 'h23' }), zone: '（北京时间）' },
  en: { format: new Intl.DateTimeFormat('en', { dateStyle: 'long', timeStyle: 'short', timeZone: 'UTC', hourCycle: 'h23' }), zone: ' (UTC)' },
};

/** A timestamp with its hour, as the locale writes it: 2026年12月14日 22:00（北京时间）, December 14, 2026 at 14:00 (UTC). */
export const formatDateTime = (iso: string, locale: Locale): string => {
  const t = Date.parse(iso);
  const { format, zone } = dateTimeFormats[locale];
  return Number.isNaN(t) ? iso.slice(0, 16) : `${format.format(t)}${zone}`;
};

/** The calendar date of a timestamp, as template params carry it. */
export const dayOf = (iso: string): Day => iso.slice(0, 10);

// Factory-typed identifiers are shown as codes: nothing else they might carry reaches the buyer.
const asCode = (text: string): string => text.replace(/[^A-Za-z0-9.-]/g, '').slice(0, 40);

export const renderNotice = <T extends NoticeTemplate>(template: T, params: NoticeParams[T], locale: Locale): string => {
  const format: NoticeFormat = {
    money: (m) => formatMoney(m.amount, m.currency, locale),
    date: (day) => formatDate(day, locale),
    dateTime: (iso) => formatDateTime(iso, locale),
    code: asCode,
  };
  return textsOf[locale][template](params, format);
};

/**
 * A timeline entry telling the buyer of a step: its template and params. What it
 * says in the buyer's language is rendered from them when read (noticeOfEntry),
 * not stored: the locale never changes, and the text would be the largest part of
 * the entry (a zh-CN notice is 100–200 bytes) on an item billed per KB.
 */
export const noticeEntry = <T extends NoticeTemplate>(
  head: { readonly at: string; readonly status: PreorderStatus; readonly step?: TimelineEntry['step'] },
  template: T,
  params: NoticeParams[T],
  locale: Locale,
): TimelineEntry => {
  // Rendered once here and dropped: a step whose params cannot be told fails where it is written, not on every read.
  renderNotice(template, params, locale);
  return { at: head.at, status: head.status, ...(head.step !== undefined && { step: head.step }), template, params };
};

/** What a notice says, in full: as a notification carries it. */
export interface RenderedNotice {
  readonly template: NoticeTemplate;
  readonly params: NoticeParamValues;
  readonly locale: Locale;
  readonly message: string;
}

const isTemplate = (name: unknown): name is NoticeTemplate => typeof name === 'string' && (noticeTemplates as readonly string[]).includes(name);

/**
 * The notice of a timeline entry. An entry written before templates existed
 * has a free-text note that may name ids or a factory's words, so it is told
 * as the generic update of its step instead.
 */
export const noticeOfEntry = (entry: TimelineEntry, locale: Locale): RenderedNotice =>
  isTemplate(entry.template)
    ? { template: entry.template, params: entry.params ?? {}, locale, message: entry.note ?? renderNotice(entry.template, (entry.params ?? {}) as never, locale) }
    : genericNotice(entry.step ?? entry.status, locale);

/** The generic update of a step (a status or a step such as `delayed`). */
export const genericNotice = (step: string, locale: Locale): RenderedNotice => ({
  template: 'preorder.updated',
  params: { step },
  locale,
  message: renderNotice('preorder.updated', { step }, locale),
});
