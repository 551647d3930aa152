/**
 * CSV as spreadsheets read it (Excel, WPS, Numbers): UTF-8 with a byte order
 * mark, CRLF rows, a header row, and no cell that a spreadsheet would run.
 */

/**
 * One CSV cell: quoted when it holds a comma, quote or line break; a text that
 * a spreadsheet would run as a formula (= + - @, tab, carriage return) gets a
 * leading apostrophe (OWASP's advice), whoever typed it (buyer ids come from outside).
 */
export const csvCell = (value: string | number | undefined): string => {
  if (value === undefined) return '';
  let text = String(value);
  if (typeof value === 'string' && /^[=+\-@\t\r]/.test(text)) text = `'${text}`;
  return /[",\r\n]/.test(text) ? `"${text.replaceAll('"', '""')}"` : text;
};

/** Minor units as the decimal amount a spreadsheet sums (12900 CNY → 129.00), with the currency's own decimals. */
export const decimalAmount = (minor: number, currency: string): string => {
  const digits = new Intl.NumberFormat('en', { style: 'currency', currency }).resolvedOptions().maximumFractionDigits ?? 2;
  return (minor / 10 ** digits).toFixed(digits);
};

/** A whole document: BOM, the header row, then the rows (cells already made with {@link csvCell}). */
export const csvDocument = (header: readonly string[], rows: readonly string[]): string =>
  `\uFEFF${[header.join(','), ...rows].map((r) => `${r}\r\n`).join('')}`;

/** CSV when the client asks for it before JSON (`Accept: text/csv`); JSON otherwise. */
export const wantsCsv = (accept: string | undefined): boolean => {
  if (!accept) return false;
  const ranked = accept.split(',').map((part) => {
    const [type = '', ...params] = part.trim().split(';');
    const q = params.map((p) => p.trim()).find((p) => p.startsWith('q='));
    return { type: type.trim().toLowerCase(), q: q ? Number(q.slice(2)) : 1 };
  });
  const csv = ranked.find((r) => r.type === 'text/csv')?.q ?? 0;
  const json = Math.max(0, ...ranked.filter((r) => r.type === 'application/json' || r.type === '*/*').map((r) => r.q));
  return csv > 0 && csv >= json;
};

/**
 * The headers of a CSV page: its type, never cached (it holds what the caller may see now),
 * and the next page as a relative `Link` (RFC 8288) carrying the same query and the cursor.
 */
export const csvHeaders = (path: string, nextQuery?: Record<string, string>): Record<string, string> => ({
  'content-type': 'text/csv; charset=utf-8',
  'cache-control': 'no-store',
  ...(nextQuery && { link: `<${path}?${new URLSearchParams(nextQuery).toString()}>; rel="next"` }),
});
