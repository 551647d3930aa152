import { describe, expect, it } from 'vitest';
import { CreateCampaignBody } from '../../functions/contracts/campaign-terms.ts';
import { zodIssues } from '../../functions/handlers/http/problems.ts';
import { campaignFieldOrder, focusTarget } from '../../console/src/lib/campaign-fields.ts';
import { ApiError, issueText, placeErrors, toProblem, withoutIds } from '../../console/src/lib/problems.ts';
import { en } from '../../console/src/i18n/en.ts';
import { zhCN } from '../../console/src/i18n/zh-CN.ts';

/** A create body the API accepts, for a test to break one term of. */
const validTerms = {
  title: 'T',
  factoryId: 'f',
  currency: 'CNY',
  variants: [{ sku: 'S', name: 'Small', unitPrice: 12900 }],
  closesAt: '2099-01-01T00:00:00Z',
  minTotalQuantity: 10,
  lotSize: 5,
  promisedShipDays: 7,
};

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

    const placed = placeErrors(issues, campaignFieldOrder({ variantTiers: [0, 0] }));
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
      campaignFieldOrder({ variantTiers: [0] }),
    );
    expect(placed.byField).toEqual({ variants: ['Too small: expected array to have >=1 items'], lateCompensation: ['Unrecognized key: "currency"'] });
    expect(placed.general).toEqual(['Idempotency-Key: Idempotency-Key is 1-128 printable ASCII characters', 'The request body is not valid JSON']);
    expect(placed.first).toBe('variants');
    expect(focusTarget('variants')).toBe('variants.0.sku');
    expect(focusTarget('variants.3')).toBe('variants.3.sku');
    expect(focusTarget('closesAt')).toBe('closesAt');
  });

  it('The price tiers, payment terms and commission the API refuses land on their inputs, focus on the first in screen order', () => {
    // A variant's tiers out of order, a deposit sale without its balance window, commissions over 100 % together.
    const parsed = CreateCampaignBody.safeParse({
      ...validTerms,
      variants: [
        { sku: 'S', name: 'Small', unitPrice: 12900, priceTiers: [{ minUnits: 10, unitPrice: 11900 }, { minUnits: 5, unitPrice: 12000 }] },
        { sku: 'M', name: 'Medium', unitPrice: 12900 },
      ],
      payment: { mode: 'deposit', deposit: 2000 },
      commission: { anchorPercent: 80, affiliatePercent: 30 },
    });
    if (parsed.success) throw new Error('expected the draft to be refused');
    const issues = zodIssues(parsed.error);
    expect(issues.map((i) => [i.path, i.code])).toEqual(
      expect.arrayContaining([
        ['variants.0.priceTiers.1.minUnits', 'tiers_not_ascending'],
        ['variants.0.priceTiers.1.unitPrice', 'tier_price_not_lower'],
        ['payment.balanceWindowHours', 'balance_window_required'],
        ['commission.affiliatePercent', 'commission_above_100'],
      ]),
    );

    const placed = placeErrors(issues, campaignFieldOrder({ variantTiers: [2, 0], deposit: true }));
    expect(placed.general).toEqual([]);
    expect(Object.keys(placed.byField).sort()).toEqual(['commission.affiliatePercent', 'payment.balanceWindowHours', 'variants.0.priceTiers.1.minUnits', 'variants.0.priceTiers.1.unitPrice']);
    expect(placed.first).toBe('variants.0.priceTiers.1.minUnits');
    expect(focusTarget(placed.first!)).toBe('variants.0.priceTiers.1.minUnits');
    expect(focusTarget('variants.0.priceTiers.1.unitPrice')).toBe('variants.0.priceTiers.1.unitPrice');
  });

  it('Tiers for the whole campaign refused as a whole land on the list (focus on its first row), a variant listing tiers too on its own list', () => {
    const parsed = CreateCampaignBody.safeParse({
      ...validTerms,
      variants: [
        { sku: 'S', name: 'Small', unitPrice: 12900 },
        { sku: 'M', name: 'Medium', unitPrice: 13900, priceTiers: [{ minUnits: 5, unitPrice: 12900 }] },
      ],
      priceTiers: [{ minUnits: 10, unitPrice: 11900 }],
    });
    if (parsed.success) throw new Error('expected the draft to be refused');
    const issues = zodIssues(parsed.error);
    expect(issues.map((i) => [i.path, i.code])).toEqual([
      ['priceTiers', 'tiers_need_one_price'],
      ['variants.1.priceTiers', 'tiers_twice'],
    ]);
    const placed = placeErrors(issues, campaignFieldOrder({ variantTiers: [0, 1], campaignTiers: 1 }));
    expect(Object.keys(placed.byField).sort()).toEqual(['priceTiers', 'variants.1.priceTiers']);
    expect(placed.first).toBe('variants.1.priceTiers');
    expect(focusTarget('variants.1.priceTiers')).toBe('variants.1.priceTiers.0.minUnits');
    expect(focusTarget('priceTiers')).toBe('priceTiers.0.minUnits');
    expect(focusTarget('priceTiers.2')).toBe('priceTiers.2.minUnits');
    // Only the campaign's tiers wrong: focus on their first row.
    expect(placeErrors(issues.slice(0, 1), campaignFieldOrder({ variantTiers: [0, 0], campaignTiers: 2 })).first).toBe('priceTiers');
  });

  it('An error naming a tier row the form no longer has lands on its list; one naming a hidden deposit input on the payment terms, focus on the mode', () => {
    const placed = placeErrors(
      [
        { path: 'variants.0.priceTiers.1.unitPrice', message: 'x' },
        { path: 'payment.deposit', message: 'y' },
        { path: 'commission', message: 'z' },
      ],
      campaignFieldOrder({ variantTiers: [1] }),
    );
    expect(placed.byField).toEqual({ 'variants.0.priceTiers': ['x'], payment: ['y'], commission: ['z'] });
    expect(placed.general).toEqual([]);
    expect(focusTarget('payment')).toBe('payment.mode');
    expect(focusTarget('commission')).toBe('commission.anchorPercent');
    expect(focusTarget('lateCompensation')).toBe('lateCompensation.percent');
    expect(placeErrors([{ path: 'payment.deposit', message: 'y' }], campaignFieldOrder({ variantTiers: [1], deposit: true })).byField).toEqual({ 'payment.deposit': ['y'] });
  });

  it('The order is the screen order: the variants with their tiers, the campaign\'s tiers, how buyers pay, … the commission last', () => {
    const order = campaignFieldOrder({ variantTiers: [1, 0], campaignTiers: 1, deposit: true });
    const at = (path: string) => {
      expect(order, path).toContain(path);
      return order.indexOf(path);
    };
    const screen = [
      'currency',
      'variants.0.minQuantity',
      'variants.0.priceTiers.0.minUnits',
      'variants.0.priceTiers.0.unitPrice',
      'variants.0.priceTiers',
      'variants.1.sku',
      'variants',
      'priceTiers.0.minUnits',
      'priceTiers.0.unitPrice',
      'priceTiers',
      'payment.mode',
      'payment.deposit',
      'payment.balanceWindowHours',
      'payment.depositDiscount',
      'payment',
      'opensAt',
      'maxTotalQuantity',
      'maxWaitHours',
      'lateCompensation',
      'switchWindowHours',
      'liveRoomIds',
      'commission.anchorPercent',
      'commission.affiliatePercent',
      'commission',
    ];
    expect(screen.map(at)).toEqual(screen.map(at).toSorted((a, b) => a - b));
    expect(new Set(order).size).toBe(order.length);
    expect(order).not.toContain('variants.1.priceTiers.0.minUnits');
  });

  it('Two messages for one field are both kept, in order', () => {
    const placed = placeErrors(
      [
        { path: 'closesAt', message: 'Invalid ISO datetime' },
        { path: 'closesAt', message: 'closesAt must be in the future and after opensAt' },
      ],
      campaignFieldOrder({ variantTiers: [0] }),
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

  it('says why tiers, a deposit or a commission are refused in both languages, from the codes the API really sends', () => {
    const refused = (body: Record<string, unknown>) => {
      const parsed = CreateCampaignBody.safeParse({ ...validTerms, ...body });
      if (parsed.success) throw new Error(`expected ${JSON.stringify(body)} to be refused`);
      return toProblem(400, { errors: zodIssues(parsed.error) }).errors;
    };
    const shirt = (priceTiers?: unknown) => ({ sku: 'S', name: 'Small', unitPrice: 12900, ...(priceTiers !== undefined && { priceTiers }) });
    const issues = [
      ...refused({ variants: [shirt([{ minUnits: 10, unitPrice: 11900 }, { minUnits: 10, unitPrice: 12900 }])] }),
      ...refused({ variants: [shirt(), { ...shirt(), sku: 'M', unitPrice: 13900 }], priceTiers: [{ minUnits: 3, unitPrice: 11900 }] }),
      ...refused({ variants: [shirt([{ minUnits: 3, unitPrice: 11900 }])], priceTiers: [{ minUnits: 3, unitPrice: 11900 }] }),
      ...refused({ priceTiers: [{ minUnits: 3, unitPrice: 11900 }], payment: { mode: 'deposit', deposit: 11900, balanceWindowHours: 48 } }),
      ...refused({ payment: { mode: 'deposit', deposit: 10000, depositDiscount: 2900, balanceWindowHours: 48 } }),
      ...refused({ payment: { mode: 'deposit' } }),
      ...refused({ payment: { mode: 'full', deposit: 2000 } }),
      ...refused({ commission: { anchorPercent: 60, affiliatePercent: 50 } }),
      ...refused({ commission: { anchorPercent: 12.345, affiliatePercent: 5 } }),
    ];
    const byCode = Object.fromEntries(issues.map((i) => [i.code, i]));
    expect(Object.keys(byCode).sort()).toEqual([
      'balance_window_required',
      'commission_above_100',
      'deposit_above_price',
      'deposit_required',
      'discount_above_price',
      'not_a_deposit_campaign',
      'percent_decimals',
      'tier_price_not_lower',
      'tiers_need_one_price',
      'tiers_not_ascending',
      'tiers_twice',
    ]);
    expect(issueText(byCode.tier_price_not_lower!, zhCN.issues)).toBe('每一档的单价须低于上一档（第一档低于原单价）。');
    expect(issueText(byCode.deposit_above_price!, en.issues)).toBe('The deposit must be below the lowest price a unit can reach (the lowest tier).');
    expect(byCode.deposit_above_price!.message, "the API's English names an sku and a price in minor units").toMatch(/S can cost 11900/);
    for (const issue of issues) {
      for (const texts of [en.issues, zhCN.issues]) {
        const said = issueText(issue, texts);
        expect(said, issue.code).not.toBe(issue.message);
        expect(said, issue.code).not.toMatch(/\d{4,}|[A-Za-z]+Percent|unitPrice/);
      }
    }
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
