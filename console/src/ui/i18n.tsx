import { createContext, type ComponentChildren } from 'preact';
import { useContext, useMemo, useState } from 'preact/hooks';
import { messages, type Locale, type Messages } from '../i18n/index.ts';
import { formatCount, formatDateTime, formatDay, formatMoney, formatRate } from '../lib/format.ts';

export const localeKey = 'c2m.console.locale';

export interface I18n {
  readonly locale: Locale;
  readonly t: Messages;
  readonly setLocale: (l: Locale) => void;
  readonly money: (minor: number, currency: string) => string;
  readonly count: (n: number) => string;
  readonly rate: (r: number) => string;
  readonly dateTime: (iso: string) => string;
  readonly day: (isoOrDay: string) => string;
}

const Ctx = createContext<I18n | null>(null);

/** `<html lang>` and the tab's title follow the chosen language (screen readers pick their voice from lang). */
export const applyLocale = (locale: Locale) => {
  document.documentElement.lang = locale;
  document.title = messages[locale].app.name;
};

export const I18nProvider = (props: { initial: Locale; children: ComponentChildren }) => {
  const [locale, setLocaleState] = useState<Locale>(props.initial);
  const value = useMemo<I18n>(
    () => ({
      locale,
      t: messages[locale],
      setLocale: (l) => {
        try {
          localStorage.setItem(localeKey, l);
        } catch {
          // Private mode may refuse storage; the choice then lasts for this page only.
        }
        applyLocale(l);
        setLocaleState(l);
      },
      money: (minor, currency) => formatMoney(minor, currency, locale),
      count: (n) => formatCount(n, locale),
      rate: (r) => formatRate(r, locale),
      dateTime: (iso) => formatDateTime(iso, locale),
      day: (d) => formatDay(d, locale),
    }),
    [locale],
  );
  return <Ctx.Provider value={value}>{props.children}</Ctx.Provider>;
};

export const useI18n = (): I18n => {
  const v = useContext(Ctx);
  if (!v) throw new Error('useI18n outside I18nProvider');
  return v;
};
