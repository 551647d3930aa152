import { en, type Messages } from './en.ts';
import { zhCN } from './zh-CN.ts';
import type { Locale } from '../lib/format.ts';

export type { Locale, Messages };

export const locales: readonly Locale[] = ['zh-CN', 'en'];
export const messages: Readonly<Record<Locale, Messages>> = { en, 'zh-CN': zhCN };
/** Each language named in itself, for the switch. */
export const localeNames: Readonly<Record<Locale, string>> = { 'zh-CN': '中文', en: 'English' };

const isLocale = (v: unknown): v is Locale => v === 'en' || v === 'zh-CN';

/**
 * The anchor's choice if remembered, else the first of the browser's languages that the console
 * speaks (any Chinese → zh-CN: simplified is what the console has), else English.
 */
export const pickLocale = (remembered: string | null | undefined, languages: readonly string[]): Locale => {
  if (isLocale(remembered)) return remembered;
  for (const tag of languages) {
    const lang = tag.toLowerCase().split('-')[0];
    if (lang === 'zh') return 'zh-CN';
    if (lang === 'en') return 'en';
  }
  return 'en';
};
