import { describe, expect, it } from 'vitest';
import { en } from '../../console/src/i18n/en.ts';
import { zhCN } from '../../console/src/i18n/zh-CN.ts';
import { localeNames, locales, messages, pickLocale } from '../../console/src/i18n/index.ts';

type Tree = { readonly [k: string]: unknown };

/** Every leaf of a message tree as [path, text]; a function is called with sample arguments. */
const leaves = (tree: Tree, prefix = ''): [string, string][] =>
  Object.entries(tree).flatMap(([k, v]): [string, string][] => {
    const path = prefix ? `${prefix}.${k}` : k;
    if (typeof v === 'string') return [[path, v]];
    if (typeof v === 'function') return [[path, String((v as (...a: unknown[]) => unknown)(...Array.from({ length: v.length }, (_, i) => (i === 0 ? 3 : 'x'))))]];
    if (typeof v === 'object' && v !== null) return leaves(v as Tree, path);
    throw new Error(`${path} is neither text nor a group`);
  });

describe('console texts', () => {
  it('zh-CN and en have exactly the same keys, at every level', () => {
    const keysOf = (t: Tree) => leaves(t).map(([p]) => p).sort();
    expect(keysOf(zhCN)).toEqual(keysOf(en));
    expect(leaves(en).length).toBeGreaterThan(150);
  });

  it('No text is empty in either language, and every function gives text', () => {
    for (const locale of locales) {
      for (const [path, text] of leaves(messages[locale])) {
        expect(text.trim(), `${locale} ${path}`).not.toBe('');
        expect(text, `${locale} ${path}`).not.toMatch(/undefined|\[object/);
      }
    }
  });

  it('Placeholders reach the text: the numbers and names passed in appear in both languages', () => {
    for (const t of [en, zhCN]) {
      expect(t.batches.batchN(2)).toContain('2');
      expect(t.list.orderedOfCap('1,234', '5,000')).toMatch(/1,234.*5,000/);
      expect(t.batches.ofQuantity('40', '100')).toMatch(/40.*100/);
      expect(t.app.signInFailed('state mismatch')).toContain('state mismatch');
    }
  });

  it('Every status the API can send has a word in both languages', () => {
    for (const t of [en, zhCN]) {
      expect(Object.keys(t.campaignStatus).sort()).toEqual(['CLOSED', 'FAILED', 'OPEN', 'SCHEDULED']);
      expect(Object.keys(t.preorderStatus)).toHaveLength(7);
      expect(Object.keys(t.batchStatus)).toHaveLength(7);
    }
    expect(zhCN.campaignStatus.OPEN).not.toBe(en.campaignStatus.OPEN);
  });

  it('The chosen language comes from the remembered choice, else the browser, else English', () => {
    expect(pickLocale('en', ['zh-CN'])).toBe('en');
    expect(pickLocale(null, ['zh-CN', 'en'])).toBe('zh-CN');
    expect(pickLocale(null, ['zh-TW'])).toBe('zh-CN');
    expect(pickLocale(null, ['fr-FR', 'en-GB', 'zh'])).toBe('en');
    expect(pickLocale('de', ['fr'])).toBe('en');
    expect(pickLocale(undefined, [])).toBe('en');
    expect(localeNames['zh-CN']).toBe('中文');
  });
});
