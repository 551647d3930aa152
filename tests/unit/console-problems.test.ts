import { describe, expect, it } from 'vitest';
import { CreateCampaignBody } from '../../functions/contracts/campaign-terms.ts';
import { zodIssues } from '../../functions/handlers/http/problems.ts';
import { campaignFieldOrder, focusTarget } from '../../console/src/lib/campaign-fields.ts';
import { ApiError, issueText, placeErrors, toProblem, withoutIds } from '../../console/src/lib/problems.ts';
import { en } from '../../console/src/i18n/en.ts';
import { zhCN } from '../../console/src/i18n/zh-CN.ts';

describe('console problem details', () => {
  it('A problem body is read as sent; its field errors keep their paths and messages', () => {
    const p = toProblem(400, {
      type: 'about:blank',
      title: 'Invalid input',
      status: 400,
      detail: "The request's body is invalid",
      errors: [{ path: 'variants.0.sku', message: 'sku is 1-64 letters, digits or . _ -' }, { bogus: true }],
    });
    expect(p).toEqual({
      type: 'about:blank',
      title: 'Invalid input',
      status: 400,
      detail: "The request's body is invalid",
      errors: [{ path: 'variants.0.sku', message: 'sku is 1-64 letters, digits or . _ -' }],
    });
    expect(new ApiError(p).status).toBe(400);
  });

  it('A body that is no problem (a proxy\'s HTML, nothing) still gives a problem with the status', () => {
    expect(toProblem(502, '<html>Bad gateway</html>', 'Bad Gateway')).toEqual({
      type: 'about:blank',
      title: 'Bad Gateway',
      status: 502,
      detail: '',
      errors: [],
    });
    expect(toProblem(503, undefined).title).toBe('HTTP 503');
  });

  it('Every error the API gives for a bad create body lands beside a field of the form, focus on the first', () => {
    // The API's own schema and its own issue-to-path mapping: the paths are what a real 400 carries.
    const parsed = CreateCampaignBody.safeParse({
      title: '',
      factoryId: 'factory linen',
      currency: 'yuan',
      variants: [
        { sku: 'S', name: 'Small', unitPrice: 12900 },
        { sku: 'S', name: '', unitPrice: 0, minQuantity: 900 },
      ],
      closesAt: '2000-01-01T00:00:00Z',
      minTotalQuantity: 10,
      lotSize: 0,
      maxTotalQuantity: 500,
      promisedShipDays: 14,
      lateCompensation: { percent: 10, minAmount: 900, maxAmount: 100 },
      liveRoomIds: ['room 1'],
    });
    expect(parsed.success).toBe(false);
    const issues = zodIssues(parsed.error!);
    const paths = issues.map((i) => i.path);
    expect(paths).toEqual(expect.arrayContaining(['title', 'factoryId', 'currency', 'variants.1.name', 'variants.1.unitPrice', 'lotSize', 'liveRoomIds.0']));

    const placed = placeErrors(issues, campaignFieldOrder(2));
    expect(placed.general).toEqual([]);
    expect(Object.keys(placed.byField)).toEqual(expect.arrayContaining(['title', 'variants.1.name', 'lotSize', 'liveRoomIds', 'lateCompensation.maxAmount']));
    expect(placed.first).toBe('title');
  });

  it('An error about a group lands on the group; one naming nothing on the form goes above it', () => {
    const placed = placeErrors(
      [
        { path: 'variants', message: 'Too small: expected array to have >=1 items' },
        { path: 'Idempotency-Key', message: 'Idempotency-Key is 1-128 printable ASCII characters' },
        { path: '(body)', message: 'The request body is not valid JSON' },
        { path: 'lateCompensation', message: 'Unrecognized key: "currency"' },
      ],
      campaignFieldOrder(1),
    );
    expect(placed.byField).toEqual({ variants: ['Too small: expected array to have >=1 items'], lateCompensation: ['Unrecognized key: "currency"'] });
    expect(placed.general).toEqual(['Idempotency-Key: Idempotency-Key is 1-128 printable ASCII characters', 'The request body is not valid JSON']);
    expect(placed.first).toBe('variants');
    expect(focusTarget('variants')).toBe('variants.0.sku');
    expect(focusTarget('variants.3')).toBe('variants.3.sku');
    expect(focusTarget('closesAt')).toBe('closesAt');
  });

  it('Two messages for one field are both kept, in order', () => {
    const placed = placeErrors(
      [
        { path: 'closesAt', message: 'Invalid ISO datetime' },
        { path: 'closesAt', message: 'closesAt must be in the future and after opensAt' },
      ],
      campaignFieldOrder(1),
    );
    expect(placed.byField.closesAt).toEqual(['Invalid ISO datetime', 'closesAt must be in the future and after opensAt']);
  });
});

describe('console problem texts', () => {
  it('Internal ids never reach the anchor through the API\'s words', () => {
    expect(withoutIds('Campaign cmp_0000000000000000000000ab does not exist')).toBe('Campaign does not exist');
    expect(withoutIds('Campaign cmp_0000000000000000000000ab is not open for pre-orders (status CLOSED)')).toBe(
      'Campaign is not open for pre-orders (status CLOSED)',
    );
    expect(withoutIds('Batch bat_abcdefghijklmnopqrstuvwx and pre-order po_abcdefghijklmnopqrstuvwx')).toBe('Batch and pre-order');
    expect(withoutIds('maxTotalQuantity cannot go below the 120 units already taken')).toBe('maxTotalQuantity cannot go below the 120 units already taken');
  });

  it("says the API's real errors in the anchor's language from their codes, and keeps the API's English for a code it does not know", () => {
    const draft = { title: 'T', factoryId: 'f', currency: 'CNY', variants: [{ sku: 'A', name: 'a', unitPrice: 1 }, { sku: 'A', name: 'b', unitPrice: 1 }], closesAt: '2099-01-01T00:00:00Z', minTotalQuantity: 10, lotSize: 0, maxTotalQuantity: 5, promisedShipDays: 7 };
    const parsed = CreateCampaignBody.safeParse(draft);
    if (parsed.success) throw new Error('expected the draft to be refused');
    const issues = toProblem(400, { errors: zodIssues(parsed.error) }).errors;
    const say = (locale: typeof en.issues, path: string) => issueText(issues.find((i) => i.path === path)!, locale);
    expect(say(en.issues, 'lotSize')).toBe('Must be at least 1.');
    expect(say(zhCN.issues, 'lotSize')).toBe('不能小于 1。');
    expect(say(zhCN.issues, 'variants.1.sku')).toBe('这个 SKU 重复了。');
    expect(say(zhCN.issues, 'maxTotalQuantity')).toBe('限量不能低于成团数量。');
    // Every code the create schema produced here has words in both languages.
    for (const issue of issues) expect(Object.hasOwn(zhCN.issues, issue.code!), issue.code).toBe(true);
    expect(issueText({ path: 'x', message: 'campaign cmp_0123456789abcdefghjkmnpq is odd', code: 'never_heard_of' }, zhCN.issues)).not.toMatch(/cmp_/);
  });
});
