import { describe, expect, it } from 'vitest';
import { csvFileName, joinCsvPages, nextLink, sameApi } from '../../console/src/lib/csv.ts';

const BOM = '\uFEFF';
const header = 'buyerId,sku,quantity,amount,status\r\n';

describe('console CSV export', () => {
  it('Pages join into one file with the BOM and the header once', () => {
    const pages = [
      `${BOM}${header}fan-1,M,1,129.00,ACCEPTED\r\nfan-2,L,2,258.00,BATCHED\r\n`,
      `${BOM}${header}fan-3,M,1,129.00,SHIPPED\r\n`,
      `${BOM}${header}fan-4,S,3,387.00,REFUNDED\r\n`,
    ];
    const csv = joinCsvPages(pages);
    expect(csv).toBe(
      `${BOM}${header}fan-1,M,1,129.00,ACCEPTED\r\nfan-2,L,2,258.00,BATCHED\r\nfan-3,M,1,129.00,SHIPPED\r\nfan-4,S,3,387.00,REFUNDED\r\n`,
    );
    expect(csv.split(BOM)).toHaveLength(2);
    expect(csv.match(/buyerId/g)).toHaveLength(1);
  });

  it('A page with only its header adds nothing; a page without a final line break still starts a new line', () => {
    expect(joinCsvPages([`${BOM}${header}a,b,1,1,X`, `${BOM}${header}`, `${BOM}${header}c,d,2,2,Y\r\n`])).toBe(`${BOM}${header}a,b,1,1,X\r\nc,d,2,2,Y\r\n`);
    expect(joinCsvPages([`${BOM}${header}`])).toBe(`${BOM}${header}`);
    expect(joinCsvPages([])).toBe('');
  });

  it('A first page without a BOM gets one (spreadsheets read UTF-8 Chinese names by it)', () => {
    expect(joinCsvPages(['h\nr1\n', 'h\nr2\n'])).toBe(`${BOM}h\nr1\nr2\n`);
  });

  it('A quoted line break inside the header is part of the header, not its end', () => {
    expect(joinCsvPages(['"a\nb",c\n1,2\n', '"a\nb",c\n3,4\n'])).toBe(`${BOM}"a\nb",c\n1,2\n3,4\n`);
  });

  it('The next page is the Link header\'s rel="next", resolved against the request', () => {
    const base = 'https://api.example.com/v1/campaigns/x/preorders?limit=1000';
    expect(nextLink('</v1/campaigns/x/preorders?limit=1000&cursor=abc>; rel="next"', base)).toBe(
      'https://api.example.com/v1/campaigns/x/preorders?limit=1000&cursor=abc',
    );
    expect(nextLink('<https://a.example/p?c=1>; rel="prev", <https://a.example/p?c=2>; rel=next', base)).toBe('https://a.example/p?c=2');
    expect(nextLink('<?cursor=z>; rel="first next"', base)).toBe('https://api.example.com/v1/campaigns/x/preorders?cursor=z');
    expect(nextLink('<https://a.example/p?c=1>; rel="prev"', base)).toBeUndefined();
    expect(nextLink(null, base)).toBeUndefined();
  });

  it('The file is named after the campaign and the day, safe for any file system', () => {
    expect(csvFileName('手工亚麻衬衫 / Linen: "Hand"', '2026-12-01')).toBe('手工亚麻衬衫-Linen-Hand-2026-12-01.csv');
    expect(csvFileName('???', '2026-12-01')).toBe('preorders-2026-12-01.csv');
  });

  it('follows a next page only on the API itself: the token never goes to a look-alike host or another path', () => {
    expect(sameApi('https://d1.cloudfront.net/v1/campaigns/x/preorders?cursor=a', 'https://d1.cloudfront.net')).toBe(true);
    expect(sameApi('https://d1.cloudfront.net.evil.net/v1/campaigns', 'https://d1.cloudfront.net')).toBe(false);
    expect(sameApi('http://d1.cloudfront.net/v1/campaigns', 'https://d1.cloudfront.net')).toBe(false);
    expect(sameApi('https://api.example.com/prod/v1/x', 'https://api.example.com/prod')).toBe(true);
    expect(sameApi('https://api.example.com/production/v1/x', 'https://api.example.com/prod')).toBe(false);
    expect(sameApi('not a url', 'https://api.example.com')).toBe(false);
  });
});
