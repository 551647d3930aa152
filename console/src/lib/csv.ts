/**
 * The pre-orders CSV export: the API pages it (a `Link: <…>; rel="next"` header while there
 * is more); the console fetches every page and joins them into one file, the BOM and the header
 * row once. Pure: unit-tested in Node.
 */
const BOM = '\uFEFF';

/** The `rel="next"` target of a Link header (RFC 8288), resolved against the request's URL. */
export const nextLink = (header: string | null | undefined, base: string): string | undefined => {
  if (!header) return undefined;
  for (const m of header.matchAll(/<([^>]*)>((?:\s*;\s*[^;,]+)*)/g)) {
    const params = m[2] ?? '';
    const rel = /;\s*rel\s*=\s*(?:"([^"]*)"|([^\s;,]+))/i.exec(params);
    const rels = (rel?.[1] ?? rel?.[2] ?? '').toLowerCase().split(/\s+/);
    if (rels.includes('next')) return new URL(m[1] ?? '', base).toString();
  }
  return undefined;
};

/** Where the first record (the header row) ends, past its line break; quoted line breaks are part of a cell. */
const endOfFirstRecord = (text: string): number => {
  let quoted = false;
  for (let i = 0; i < text.length; i++) {
    const c = text[i];
    if (c === '"') quoted = !quoted;
    else if (c === '\n' && !quoted) return i + 1;
  }
  return text.length;
};

/** Joins CSV pages: the first whole (BOM, header, rows), the others without their BOM and header. */
export const joinCsvPages = (pages: readonly string[]): string => {
  let out = '';
  pages.forEach((page, i) => {
    const text = page.startsWith(BOM) ? page.slice(1) : page;
    if (i === 0) {
      out = BOM + text;
      return;
    }
    const rows = text.slice(endOfFirstRecord(text));
    if (rows === '') return;
    if (!out.endsWith('\n')) out += out.includes('\r\n') ? '\r\n' : '\n';
    out += rows;
  });
  return out;
};

/** A file name for the export: the campaign's title made safe, and the day. */
export const csvFileName = (title: string, day: string): string => {
  const safe = title
    .replace(/[\\/:*?"<>|\u0000-\u001f]+/g, ' ')
    .trim()
    .replace(/\s+/g, '-')
    .slice(0, 60);
  return `${safe || 'preorders'}-${day}.csv`;
};

/** Whether `url` is on the API's origin and under its path (not a look-alike host such as api.example.com.evil.net). */
export const sameApi = (url: string, apiUrl: string): boolean => {
  try {
    const u = new URL(url);
    const api = new URL(apiUrl);
    const prefix = api.pathname.replace(/\/+$/, '');
    return u.origin === api.origin && (prefix === '' || u.pathname === prefix || u.pathname.startsWith(`${prefix}/`));
  } catch {
    return false;
  }
};
