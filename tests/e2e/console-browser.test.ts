import { readFileSync } from 'node:fs';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Browser, Page } from 'playwright-core';
import type { LocalRuntime } from '../../lib/local/runtime.ts';
import { expectNoHorizontalScroll, launchBrowser, openPage, type Viewport } from '../support/browser.ts';
import { silenceBuyerNotifications } from '../support/quiet.ts';
import { campaignDraft, clientFor, consoleSignInLink, preorderDraft, registerFactories, startTestRuntime, untilDrained } from '../support/runtime.ts';

/**
 * The anchor console as an anchor uses it, in a real Chromium (the system's, driven by
 * playwright-core) against the local runtime: signed in by the Console link, the campaign
 * made through the form, the sale watched while buyers order over the API, the cap raised
 * and the sale closed through the page, production followed as the factory reports over
 * the API, both languages, a phone's viewport, the buyer lookup, the CSV export and signing out.
 *
 * What is asserted is what the anchor sees (texts, figures, the values of the bars), checked
 * against what the API was told. Every wait is for the page to show something (playwright's
 * own waiting, bounded); none is a fixed sleep. A failing test leaves a screenshot in
 * tests/artifacts/. The console is the build in console/dist, built when missing but not when
 * merely stale: after changing console/src, `npm run console:build` first.
 */

const anchorId = 'anchor-browser';
const factoryId = 'factory-browser';
/** How long the page may take to show what the API already holds: the slowest poll is 10 s, the machine may be busy. */
const showsWithin = 30_000;
const slowTest = 120_000;

let runtime: LocalRuntime;
let browser: Browser;
let anchor: ReturnType<typeof clientFor>;
let factory: ReturnType<typeof clientFor>;
let loud: (() => void) | undefined;

beforeAll(async () => {
  loud = silenceBuyerNotifications();
  runtime = await startTestRuntime({ console: { buildWhenMissing: true } });
  anchor = clientFor(runtime, 'anchor', anchorId);
  factory = clientFor(runtime, 'factory', factoryId);
  await registerFactories(runtime, factoryId);
  browser = await launchBrowser();
});
afterAll(async () => {
  await browser?.close();
  await runtime?.stop();
  loud?.();
});

// ---------------------------------------------------------------- the world, over the API

interface Campaign {
  campaignId: string;
  title: string;
  status: string;
  lotSize: number;
  maxTotalQuantity?: number;
  variants: { sku: string; name: string; unitPrice: number }[];
}
interface CampaignBatch {
  batchId: string;
  status: string;
  units: number;
  produced: number;
  qcPassed: number;
  shipped: number;
}
type Problem = { errors?: { path: string; message: string; code?: string; params?: Record<string, string | number> }[] };

const inTwoDays = () => new Date(Date.now() + 2 * 86_400_000);
/** A day as `YYYY-MM-DD`, `days` from today. */
const dayIn = (days: number) => new Date(Date.now() + days * 86_400_000).toISOString().slice(0, 10);

/** A campaign the test's anchor opens over the API (the form has its own test). */
const openCampaign = async (overrides: Record<string, unknown> = {}): Promise<Campaign> => {
  const r = await anchor.post<Campaign>('/v1/campaigns', campaignDraft({ factoryId, closesAt: inTwoDays().toISOString(), ...overrides }));
  expect(r.status, JSON.stringify(r.body)).toBe(201);
  return r.body;
};

let fans = 0;
/** A buyer's pre-order, with a shipping address the anchor must never see. */
const preorder = async (campaignId: string, sku: string, quantity: number, buyerId = `fan-${++fans}`, paymentRef?: string) => {
  const body = preorderDraft({ sku, quantity, ...(paymentRef !== undefined && { paymentRef }) });
  const r = await clientFor(runtime, 'buyer', buyerId).post<{ preorderId: string }>(`/v1/campaigns/${campaignId}/preorders`, body);
  expect(r.status, JSON.stringify(r.body)).toBe(202);
  return { buyerId, ...r.body };
};
/** What the shipping address in `preorderDraft` holds, piece by piece. */
const addressParts = ['Li Wei', '138 0000', 'Century Avenue', '200120'];

const until = <T>(probe: () => Promise<T>, done: (t: T) => boolean, timeoutMs = showsWithin) => untilDrained(runtime, probe, done, timeoutMs);

const batchesOf = (campaignId: string) => anchor.get<{ items: CampaignBatch[] }>(`/v1/campaigns/${campaignId}/batches`);

// ---------------------------------------------------------------- the browser

/**
 * A fresh browser signed in as the test's anchor by the Console link, at `path` under
 * /console/ (the link returns there after signing in), once the console's shell shows.
 */
const consoleAt = async (viewport: Viewport, path = '', opts: { locale?: string; beforeSignIn?: (page: Page) => unknown } = {}) => {
  const link = new URL(consoleSignInLink(runtime, anchorId));
  link.pathname = `/console/${path}`;
  const { page } = await openPage(browser, viewport, opts);
  page.setDefaultTimeout(showsWithin);
  await opts.beforeSignIn?.(page);
  await page.goto(link.href);
  await page.getByTestId('nav-campaigns').waitFor();
  return page;
};

const text = async (page: Page, testid: string) => ((await page.getByTestId(testid).first().textContent()) ?? '').trim();

/** Waits until the element shows `value` in its data-value; on timeout, says what it showed instead. */
const waitForValue = async (page: Page, testid: string, value: string | number, within = showsWithin) => {
  try {
    await page.locator(`[data-testid="${testid}"][data-value="${value}"]`).first().waitFor({ timeout: within });
  } catch {
    const shown = await page.getByTestId(testid).first().getAttribute('data-value', { timeout: 1_000 }).catch(() => '(absent)');
    throw new Error(`${testid} did not show ${value} within ${within} ms; it shows ${shown}`);
  }
};

/** What a progress bar says: its value, its whole, and the text beside it. */
const bar = async (page: Page, scope: string, testid: string) => {
  const el = page.locator(scope).getByTestId(testid);
  return {
    value: await el.getAttribute('data-value'),
    max: await el.getAttribute('data-max'),
    text: ((await page.locator(scope).getByTestId(`${testid}-text`).textContent()) ?? '').trim(),
  };
};

/** The page's own JavaScript world survives: set before, read after, proves no reload happened. */
const markPage = (page: Page) =>
  page.evaluate(() => {
    (globalThis as unknown as { c2mTestMarker?: string }).c2mTestMarker = 'not reloaded';
  });
const pageMark = (page: Page) => page.evaluate(() => (globalThis as unknown as { c2mTestMarker?: string }).c2mTestMarker ?? null);

// ---------------------------------------------------------------- the specification

describe('The anchor console in Chromium', () => {
  it('The Console link signs the anchor in without a form, lists their campaigns with what is ordered, and leaves no ticket in the address bar', async () => {
    const campaign = await openCampaign({ title: 'Linen shirt, first drop', maxTotalQuantity: 80 });
    await preorder(campaign.campaignId, 'SHIRT-M', 2);
    await preorder(campaign.campaignId, 'SHIRT-S', 1);

    const issuerPages: string[] = [];
    const page = await consoleAt('desktop', '', {
      beforeSignIn: (p) =>
        p.on('response', (res) => {
          // A page the issuer answered with content (a form, an error) rather than a redirect onwards.
          if (res.request().resourceType() === 'document' && res.url().startsWith(runtime.issuer.issuer) && res.status() < 300) issuerPages.push(res.url());
        }),
    });

    expect(issuerPages, 'the issuer showed a page on the way in').toEqual([]);
    expect(page.url()).toBe(runtime.console.url);
    expect(await page.getByRole('heading', { level: 1 }).textContent()).toBe('Your campaigns');

    const row = page.locator(`[data-testid="campaign-row"][data-campaign-id="${campaign.campaignId}"]`);
    await row.waitFor();
    expect(await row.getByTestId('campaign-row-title').textContent()).toBe('Linen shirt, first drop');
    expect(await row.getByTestId('campaign-row-status').getAttribute('data-status')).toBe('OPEN');
    expect(await row.getByTestId('campaign-row-status').textContent()).toBe('Open');
    await row.locator('[data-testid="campaign-row-ordered"][data-value="3"]').waitFor();
    expect(await row.getByTestId('campaign-row-ordered').textContent()).toBe('3 of 80');

    await row.getByTestId('campaign-row-title').click();
    await page.getByTestId('campaign-title').waitFor();
    expect(page.url()).toBe(`${runtime.console.url}campaigns/${campaign.campaignId}`);
  });

  it("A campaign made through the form: a lot size of 0 is refused beside the field in the anchor's words for the API's reason, the field marked invalid and focused; corrected, the campaign opens", async () => {
    const page = await consoleAt('desktop');
    await page.getByTestId('nav-new-campaign').click();
    await page.getByTestId('create-form').waitFor();

    const closes = inTwoDays().toISOString().slice(0, 16);
    const fill = (path: string, value: string) => page.getByTestId(`field-${path}`).fill(value);
    await fill('title', '手工亚麻衬衫 · 春季款');
    await fill('factoryId', factoryId);
    await fill('variants.0.sku', 'LINEN-S');
    await fill('variants.0.name', '小号');
    await fill('variants.0.unitPrice', '129.00');
    await page.getByTestId('add-variant').click();
    await fill('variants.1.sku', 'LINEN-M');
    await fill('variants.1.name', '中号');
    await fill('variants.1.unitPrice', '139.50');
    await fill('closesAt', closes);
    await fill('minTotalQuantity', '10');
    await fill('lotSize', '0');
    await fill('maxTotalQuantity', '200');
    await fill('promisedShipDays', '14');
    await page.getByTestId('create-submit').click();

    // What the API says of the same mistake, asked independently of the page: the console says it in the anchor's words.
    const refused = await anchor.post<Problem>('/v1/campaigns', campaignDraft({ factoryId, lotSize: 0, closesAt: inTwoDays().toISOString() }));
    expect(refused.status).toBe(400);
    const issue = refused.body.errors?.find((e) => e.path === 'lotSize');
    expect(issue).toMatchObject({ code: 'too_small', params: { minimum: 1 } });

    const error = page.getByTestId('error-lotSize');
    await error.waitFor();
    expect((await error.textContent())?.trim()).toBe('Must be at least 1.');
    const lotSize = page.getByTestId('field-lotSize');
    expect(await lotSize.getAttribute('aria-invalid')).toBe('true');
    expect(await lotSize.getAttribute('aria-describedby')).toContain('error-lotSize');
    await page.locator('[data-testid="field-lotSize"]:focus').waitFor();
    expect(await page.locator('[data-testid^="error-"]').count(), 'only the lot size is wrong').toBe(1);
    expect(await text(page, 'form-errors')).toContain('The campaign was not created.');
    expect(page.url()).toBe(`${runtime.console.url}campaigns/new`);

    await lotSize.fill('50');
    await page.getByTestId('create-submit').click();
    await page.getByTestId('campaign-title').waitFor();
    expect(await text(page, 'campaign-title')).toBe('手工亚麻衬衫 · 春季款');
    expect(await page.getByTestId('campaign-status').getAttribute('data-status')).toBe('OPEN');
    await waitForValue(page, 'cap', 200);
    await waitForValue(page, 'variant-ordered-LINEN-M', 0);
    await waitForValue(page, 'variant-ordered-LINEN-S', 0);

    // What the API holds is what was typed: the price as money in minor units, the corrected lot size.
    const campaignId = /\/campaigns\/(cmp_[0-9a-z]+)$/.exec(page.url())?.[1];
    expect(campaignId).toBeTruthy();
    const stored = await anchor.get<Campaign>(`/v1/campaigns/${campaignId}`);
    expect(stored.body).toMatchObject({ title: '手工亚麻衬衫 · 春季款', lotSize: 50, maxTotalQuantity: 200, status: 'OPEN' });
    expect(stored.body.variants.map((v) => [v.sku, v.name, v.unitPrice])).toEqual([
      ['LINEN-S', '小号', 12900],
      ['LINEN-M', '中号', 13950],
    ]);
  });

  it('A deposit sale with tiers for the whole campaign and a commission, made through the form in Chinese: a tier price not below the one before and a deposit not below the lowest tier are refused on their fields in Chinese; corrected, the campaign holds exactly the terms typed and its page lists the tiers and what unlocks the next', async () => {
    const page = await consoleAt('desktop', '', { locale: 'zh-CN' });
    await page.getByTestId('nav-new-campaign').click();
    await page.getByTestId('create-form').waitFor();

    const fill = (path: string, value: string) => page.getByTestId(`field-${path}`).fill(value);
    await fill('title', '亚麻衬衫 · 定金预售');
    await fill('factoryId', factoryId);
    await fill('variants.0.sku', 'TIER-S');
    await fill('variants.0.name', '小号');
    await fill('variants.0.unitPrice', '129.00');
    await page.getByTestId('add-variant').click();
    await fill('variants.1.sku', 'TIER-M');
    await fill('variants.1.name', '中号');
    await fill('variants.1.unitPrice', '129');
    await page.getByTestId('add-tier-priceTiers').click();
    await fill('priceTiers.0.minUnits', '3');
    await fill('priceTiers.0.unitPrice', '119.00');
    await page.getByTestId('add-tier-priceTiers').click();
    await fill('priceTiers.1.minUnits', '10');
    await fill('priceTiers.1.unitPrice', '119.00');
    // The deposit terms show once the sale takes deposits.
    expect(await page.getByTestId('field-payment.deposit').count()).toBe(0);
    await page.getByTestId('field-payment.mode').selectOption('deposit');
    await fill('payment.deposit', '120.00');
    await fill('payment.balanceWindowHours', '36.5');
    await fill('payment.depositDiscount', '10.00');
    await fill('closesAt', inTwoDays().toISOString().slice(0, 16));
    await fill('minTotalQuantity', '1');
    await fill('lotSize', '50');
    await fill('promisedShipDays', '14');
    await fill('commission.anchorPercent', '12.5');
    await fill('commission.affiliatePercent', '5');
    await page.getByTestId('create-submit').click();

    // What the API says of the same two mistakes, asked independently of the page.
    const terms = {
      variants: [
        { sku: 'TIER-S', name: '小号', unitPrice: 12900 },
        { sku: 'TIER-M', name: '中号', unitPrice: 12900 },
      ],
      payment: { mode: 'deposit', deposit: 12000, balanceWindowHours: 36.5, depositDiscount: 1000 },
    };
    const refused = await anchor.post<Problem>('/v1/campaigns', campaignDraft({ factoryId, closesAt: inTwoDays().toISOString(), ...terms, priceTiers: [{ minUnits: 3, unitPrice: 11900 }, { minUnits: 10, unitPrice: 11900 }] }));
    expect(refused.status).toBe(400);
    expect(refused.body.errors?.map((e) => [e.path, e.code])).toEqual([
      ['priceTiers.1.unitPrice', 'tier_price_not_lower'],
      ['payment.deposit', 'deposit_above_price'],
    ]);

    const tierError = page.getByTestId('error-priceTiers.1.unitPrice');
    await tierError.waitFor();
    expect((await tierError.textContent())?.trim()).toBe('每一档的单价须低于上一档（第一档低于原单价）。');
    expect((await page.getByTestId('error-payment.deposit').textContent())?.trim()).toBe('定金须低于每件可能的最低价（最低一档）。');
    expect(await page.locator('[data-testid^="error-"]').count(), 'only the tier price and the deposit are wrong').toBe(2);
    expect(await page.getByTestId('field-priceTiers.1.unitPrice').getAttribute('aria-invalid')).toBe('true');
    expect(await page.getByTestId('field-payment.deposit').getAttribute('aria-invalid')).toBe('true');
    expect(await page.getByTestId('field-priceTiers.0.unitPrice').getAttribute('aria-invalid')).toBeNull();
    // Focus on the first of them on screen: the campaign's tiers come before how buyers pay.
    await page.locator('[data-testid="field-priceTiers.1.unitPrice"]:focus').waitFor();
    expect(await text(page, 'form-errors')).toBe('预售未创建。 有 2 项需要修改。');

    await fill('priceTiers.1.unitPrice', '109.00');
    await fill('payment.deposit', '20');
    await page.getByTestId('create-submit').click();
    await page.getByTestId('campaign-title').waitFor();
    expect(await text(page, 'campaign-title')).toBe('亚麻衬衫 · 定金预售');

    // What the API holds is what was typed, money in minor units, nothing more.
    const campaignId = /\/campaigns\/(cmp_[0-9a-z]+)$/.exec(page.url())?.[1];
    expect(campaignId).toBeTruthy();
    const stored = await anchor.get<Campaign & { payment?: unknown; priceTiers?: unknown; commission?: unknown; variants: { priceTiers?: unknown }[] }>(`/v1/campaigns/${campaignId}`);
    expect(stored.body.payment).toEqual({ mode: 'deposit', deposit: 2000, balanceWindowHours: 36.5, depositDiscount: 1000 });
    expect(stored.body.priceTiers).toEqual([
      { minUnits: 3, unitPrice: 11900 },
      { minUnits: 10, unitPrice: 10900 },
    ]);
    expect(stored.body.commission).toEqual({ anchorPercent: 12.5, affiliatePercent: 5 });
    expect(stored.body.variants).toEqual(terms.variants);

    // The page lists the tiers, none reached yet, and what the first takes.
    await page.getByTestId('campaign-tiers').waitFor();
    expect(await page.getByTestId('campaign-tier').allTextContents()).toEqual(['满3件：每件¥119.00', '满10件：每件¥109.00']);
    expect(await page.locator('[data-testid="campaign-tier"][data-reached="true"]').count()).toBe(0);
    await waitForValue(page, 'campaign-next-tier', 3);
    expect(await text(page, 'campaign-next-tier')).toBe('全场再售3件（任意规格），所有规格解锁每件¥119.00');
    expect(await text(page, 'deposit-terms')).toBe('定金每件¥20.00，付定金尾款每件立减¥10.00；截单后36.5小时内付尾款。');

    // Three units of one size reach the first tier for every size.
    await preorder(campaignId!, 'TIER-M', 3, undefined, 'pay-console-tiers-1');
    await waitForValue(page, 'campaign-next-tier', 7);
    expect(await text(page, 'campaign-next-tier')).toBe('全场再售7件（任意规格），所有规格解锁每件¥109.00');
    expect(await page.locator('[data-testid="campaign-tier"]').evaluateAll((items) => items.map((i) => i.getAttribute('data-reached')))).toEqual(['true', 'false']);
    expect(await page.getByTestId('campaign-tier').first().textContent()).toBe('满3件：每件¥119.00 ✓ 已达成');
  });

  it('Pre-orders that buyers send over the API show in the live figures, per variant and in total, without a reload', async () => {
    const campaign = await openCampaign({ maxTotalQuantity: 80 });
    const page = await consoleAt('desktop', `campaigns/${campaign.campaignId}`);
    await waitForValue(page, 'total-ordered', 0);
    expect(await text(page, 'cap-progress-text')).toBe('0 of 80');
    await markPage(page);

    await preorder(campaign.campaignId, 'SHIRT-M', 2);
    await preorder(campaign.campaignId, 'SHIRT-M', 2);
    await preorder(campaign.campaignId, 'SHIRT-S', 2);

    await waitForValue(page, 'total-ordered', 6);
    await waitForValue(page, 'variant-ordered-SHIRT-M', 4);
    await waitForValue(page, 'variant-ordered-SHIRT-S', 2);
    expect(await text(page, 'total-ordered')).toBe('6');
    expect(await text(page, 'variant-ordered-SHIRT-M')).toBe('4');
    expect(await text(page, 'cap-progress-text')).toBe('6 of 80');
    await waitForValue(page, 'remaining', 74);
    expect(await pageMark(page), 'the page was reloaded').toBe('not reloaded');
  });

  it('A deposit campaign shows its terms and the units whose balance is unpaid apart from those waiting for a batch; once it closed, until when balances are due', async () => {
    const campaign = await openCampaign({ payment: { mode: 'deposit', deposit: 2000, balanceWindowHours: 48, depositDiscount: 1000 } });
    await preorder(campaign.campaignId, 'SHIRT-M', 2, undefined, 'pay-console-1');
    await preorder(campaign.campaignId, 'SHIRT-S', 1, undefined, 'pay-console-2');
    const page = await consoleAt('desktop', `campaigns/${campaign.campaignId}`);
    await waitForValue(page, 'variant-awaiting-balance-SHIRT-M', 2);
    await waitForValue(page, 'total-ordered', 3);
    expect(await text(page, 'variant-waiting-SHIRT-M')).toBe('0');
    expect(await text(page, 'deposit-terms')).toBe('Deposit ¥20.00 a unit (and ¥10.00 a unit off the balance for it); the balance is due within 48 h of the close.');
    expect(await page.getByTestId('balance-due-by').count()).toBe(0);

    expect((await anchor.post<{ status: string }>(`/v1/campaigns/${campaign.campaignId}/close`)).body.status).toBe('CLOSED');
    const closed = await until(
      () => anchor.get<Campaign & { balanceDueBy?: string }>(`/v1/campaigns/${campaign.campaignId}`),
      (r) => r.body.balanceDueBy !== undefined,
    );
    await page.reload();
    await page.getByTestId('balance-due-by').waitFor();
    const dueBy = new Date(closed.body.balanceDueBy!);
    // The deadline with its hour, as the anchor's locale writes it; nothing is made while nobody has paid.
    expect(await text(page, 'balance-due-by')).toContain(String(dueBy.getUTCFullYear()));
    expect(await text(page, 'variant-awaiting-balance-SHIRT-M')).toBe('2');
    expect(await text(page, 'variant-batched-SHIRT-M')).toBe('0');
  });

  it('Raising the cap asks first (cancel changes nothing, a lower cap is refused in the dialog), then the page shows the new cap', async () => {
    const campaign = await openCampaign({ maxTotalQuantity: 10 });
    await preorder(campaign.campaignId, 'SHIRT-M', 3);
    const page = await consoleAt('desktop', `campaigns/${campaign.campaignId}`);
    await waitForValue(page, 'total-ordered', 3);
    await waitForValue(page, 'cap', 10);

    const dialog = page.getByTestId('confirm-dialog');
    await page.getByTestId('raise-cap').click();
    await dialog.waitFor();
    expect(await page.getByTestId('new-cap').inputValue()).toBe('10');
    await page.getByTestId('cancel-action').click();
    await dialog.waitFor({ state: 'detached' });
    expect((await anchor.get<Campaign>(`/v1/campaigns/${campaign.campaignId}`)).body.maxTotalQuantity).toBe(10);

    await page.getByTestId('raise-cap').click();
    await page.getByTestId('new-cap').fill('8');
    await page.getByTestId('confirm-action').click();
    await page.getByTestId('action-error').waitFor();
    expect(await text(page, 'action-error')).toBe('Enter more than 10.');
    expect(await page.getByTestId('new-cap').getAttribute('aria-invalid')).toBe('true');

    await page.getByTestId('new-cap').fill('120');
    await page.getByTestId('confirm-action').click();
    await dialog.waitFor({ state: 'detached' });
    expect(await text(page, 'action-result')).toBe('The cap is now 120.');
    await waitForValue(page, 'cap', 120);
    expect(await text(page, 'cap')).toBe('120');
    await waitForValue(page, 'remaining', 117);
    expect(await text(page, 'cap-progress-text')).toBe('3 of 120');
    expect((await anchor.get<Campaign>(`/v1/campaigns/${campaign.campaignId}`)).body.maxTotalQuantity).toBe(120);
  });

  it('Closing the sale asks first, then the campaign shows Closed and offers no more changes', async () => {
    const campaign = await openCampaign({ minTotalQuantity: 2, maxTotalQuantity: 50 });
    await preorder(campaign.campaignId, 'SHIRT-S', 2);
    const page = await consoleAt('desktop', `campaigns/${campaign.campaignId}`);
    await waitForValue(page, 'total-ordered', 2);
    expect(await text(page, 'campaign-status')).toBe('Open');

    await page.getByTestId('close-sale').click();
    const dialog = page.getByTestId('confirm-dialog');
    await dialog.waitFor();
    expect(await dialog.getByRole('heading').textContent()).toBe('Close the sale now?');
    await page.getByTestId('confirm-action').click();
    await dialog.waitFor({ state: 'detached' });

    await page.locator('[data-testid="campaign-status"][data-status="CLOSED"]').waitFor();
    expect(await text(page, 'campaign-status')).toBe('Closed');
    expect(await text(page, 'action-result')).toBe('The sale is closed.');
    expect(await page.getByTestId('close-sale').count()).toBe(0);
    expect(await page.getByTestId('raise-cap').count()).toBe(0);
    expect((await anchor.get<Campaign>(`/v1/campaigns/${campaign.campaignId}`)).body.status).toBe('CLOSED');
  });

  it('As the factory accepts, reports production and QC and ships over the API, the batch card shows produced, QC passed and shipped of its units', async () => {
    const campaign = await openCampaign({ lotSize: 4 });
    await preorder(campaign.campaignId, 'SHIRT-M', 2);
    await preorder(campaign.campaignId, 'SHIRT-S', 1);
    await preorder(campaign.campaignId, 'SHIRT-M', 1);
    const released = await until(() => batchesOf(campaign.campaignId), (r) => r.body.items?.length === 1);
    expect(released.body.items[0]).toMatchObject({ status: 'RELEASED', units: 4 });

    const page = await consoleAt('desktop', `campaigns/${campaign.campaignId}`);
    const card = '[data-testid="batch-card"][data-ordinal="1"]';
    await page.locator(`${card}[data-status="RELEASED"]`).waitFor();
    expect(await page.locator(card).getByTestId('batch-status').textContent()).toBe('Waiting for the factory');
    expect(await bar(page, card, 'batch-produced')).toEqual({ value: '0', max: '4', text: '0 of 4' });
    await markPage(page);

    const factoryBatch = (await factory.get<{ items: { batchId: string; campaignId: string }[] }>('/v1/factory/batches?limit=200')).body.items.find(
      (b) => b.campaignId === campaign.campaignId,
    );
    expect(factoryBatch).toBeDefined();
    const path = `/v1/factory/batches/${factoryBatch!.batchId}`;
    expect((await factory.post(`${path}/accept`, { committedShipDate: dayIn(7) })).status).toBe(200);
    expect((await factory.post(`${path}/progress`, { sku: 'SHIRT-M', produced: 3, qcPassed: 3, qcFailed: 0 })).status).toBe(200);
    expect((await factory.post(`${path}/progress`, { sku: 'SHIRT-S', produced: 1, qcPassed: 0, qcFailed: 1 })).status).toBe(200);
    expect(
      (await factory.post(`${path}/shipments`, { carrier: 'SF Express', trackingNumber: 'SF-BROWSER-1', items: [{ sku: 'SHIRT-M', quantity: 3 }] })).status,
    ).toBe(201);
    await until(() => batchesOf(campaign.campaignId), (r) => r.body.items[0]?.status === 'PARTIALLY_SHIPPED' && r.body.items[0].shipped === 3);

    await page.locator(`${card}[data-status="PARTIALLY_SHIPPED"]`).waitFor();
    await waitForValue(page, 'batch-shipped', 3);
    expect(await page.locator(card).getByTestId('batch-status').textContent()).toBe('Partly shipped');
    expect(await bar(page, card, 'batch-produced')).toEqual({ value: '4', max: '4', text: '4 of 4' });
    expect(await bar(page, card, 'batch-qc-passed')).toEqual({ value: '3', max: '4', text: '3 of 4' });
    expect(await bar(page, card, 'batch-shipped')).toEqual({ value: '3', max: '4', text: '3 of 4' });
    expect(await text(page, 'batch-qc-failed')).toBe('1 failed QC');
    expect(await text(page, 'batch-committed-ship-date')).toBe(new Intl.DateTimeFormat('en', { dateStyle: 'medium', timeZone: 'UTC' }).format(new Date(`${dayIn(7)}T00:00:00Z`)));
    expect(await text(page, 'batch-refunds')).toBe('Refunded: 0 pre-orders, 0 units, ¥0.00');
    expect(await pageMark(page), 'the page was reloaded').toBe('not reloaded');
  }, slowTest);

  it('Switching to 中文 puts the page in Chinese (texts, ¥ amounts, <html lang="zh-CN">), is remembered, and switches back to English; a Chinese browser starts in Chinese', async () => {
    const campaign = await openCampaign({ title: '真丝围巾', maxTotalQuantity: 80 });
    await preorder(campaign.campaignId, 'SHIRT-M', 2);
    const page = await consoleAt('desktop', `campaigns/${campaign.campaignId}`);
    await waitForValue(page, 'total-ordered', 2);
    await page.getByTestId('preorder-row').first().waitFor();
    const lang = () => page.locator('html').getAttribute('lang');
    expect(await lang()).toBe('en');
    expect(await text(page, 'campaign-status')).toBe('Open');
    expect(await text(page, 'preorder-amount')).toBe('¥258.00');

    await page.getByTestId('language-switch').selectOption('zh-CN');
    await page.locator('html[lang="zh-CN"]').waitFor();
    expect(await page.title()).toBe('c2m 主播控制台');
    expect(await text(page, 'nav-campaigns')).toBe('我的预售');
    expect(await text(page, 'campaign-status')).toBe('预售中');
    expect(await text(page, 'cap-progress-text')).toBe('2 / 80');
    expect(await text(page, 'preorder-amount')).toBe('¥258.00');
    expect(await page.getByRole('heading', { name: '实时订单' }).count()).toBe(1);
    expect(await page.getByRole('heading', { name: '买家订单' }).count()).toBe(1);
    expect(await page.getByTestId('close-sale').textContent()).toBe('立即截单');

    await page.reload();
    await page.getByTestId('campaign-status').waitFor();
    expect(await lang()).toBe('zh-CN');
    expect(await text(page, 'campaign-status')).toBe('预售中');

    await page.getByTestId('language-switch').selectOption('en');
    await page.locator('html[lang="en"]').waitFor();
    expect(await page.title()).toBe('c2m anchor console');
    expect(await text(page, 'campaign-status')).toBe('Open');
    expect(await text(page, 'cap-progress-text')).toBe('2 of 80');
    expect(await page.getByRole('heading', { name: 'Live demand' }).count()).toBe(1);

    const chinese = await consoleAt('phone', '', { locale: 'zh-CN' });
    expect(await chinese.locator('html').getAttribute('lang')).toBe('zh-CN');
    expect(await chinese.getByRole('heading', { level: 1 }).textContent()).toBe('我的预售');
    expect(await chinese.getByTestId('language-switch').inputValue()).toBe('zh-CN');
  });

  it('At a phone’s 390×844 the campaign list, the form showing its errors, a busy campaign page and its dialog never scroll sideways', async () => {
    const campaign = await openCampaign({
      title: '手工亚麻衬衫 · 直播间专享 · 春季第二批（限量）',
      lotSize: 2,
      maxTotalQuantity: 500,
      variants: [
        { sku: 'LINEN-SHIRT-NATURAL-S', name: '本色 · 小号', unitPrice: 12900 },
        { sku: 'LINEN-SHIRT-NATURAL-M', name: '本色 · 中号', unitPrice: 12900, priceTiers: [{ minUnits: 5, unitPrice: 11900 }] },
        { sku: 'LINEN-SHIRT-INDIGO-XL', name: '靛蓝 · 加大号', unitPrice: 13900 },
      ],
    });
    await preorder(campaign.campaignId, 'LINEN-SHIRT-NATURAL-M', 2, 'fan-with-a-rather-long-platform-id-0001');
    await preorder(campaign.campaignId, 'LINEN-SHIRT-INDIGO-XL', 1);
    await until(() => batchesOf(campaign.campaignId), (r) => r.body.items?.length === 1);

    const page = await consoleAt('phone');
    await page.locator(`[data-testid="campaign-row"][data-campaign-id="${campaign.campaignId}"] [data-testid="campaign-row-ordered"][data-value="3"]`).waitFor();
    await expectNoHorizontalScroll(page);

    await page.getByTestId('nav-new-campaign').click();
    await page.getByTestId('create-form').waitFor();
    await expectNoHorizontalScroll(page);
    await page.getByTestId('create-submit').click();
    await page.getByTestId('error-title').waitFor();
    expect(await page.locator('[data-testid^="error-"]').count()).toBeGreaterThan(3);
    await expectNoHorizontalScroll(page);

    await page.goto(`${runtime.console.url}campaigns/${campaign.campaignId}`);
    await waitForValue(page, 'total-ordered', 3);
    await page.getByTestId('batch-card').waitFor();
    await page.getByTestId('preorder-row').first().waitFor();
    await page.locator('[data-testid="demand-chart"] canvas').waitFor();
    // Tier pricing on the variant card: the price its 2 units reach (still the list price) and what unlocks the next.
    expect(await page.getByTestId('variant-price-LINEN-SHIRT-NATURAL-M').getAttribute('data-value')).toBe('12900');
    const nextTier = page.getByTestId('variant-next-tier-LINEN-SHIRT-NATURAL-M');
    expect(await nextTier.getAttribute('data-value')).toBe('3');
    expect(await nextTier.textContent()).toMatch(/^(3 more to unlock ¥119\.00 a unit|再售3件解锁每件¥119\.00)$/);
    expect(await page.getByTestId('variant-next-tier-LINEN-SHIRT-INDIGO-XL').count()).toBe(0);
    await expectNoHorizontalScroll(page);

    await page.getByTestId('raise-cap').click();
    await page.getByTestId('confirm-dialog').waitFor();
    await expectNoHorizontalScroll(page);
  }, slowTest);

  it('Looking a fan up by buyer ID finds their pre-order, what they bought and when it ships, and never their address or phone', async () => {
    const campaign = await openCampaign({ maxTotalQuantity: 80 });
    const fan = await preorder(campaign.campaignId, 'SHIRT-M', 2, 'fan-asks-when');
    await preorder(campaign.campaignId, 'SHIRT-S', 1);
    await preorder(campaign.campaignId, 'SHIRT-M', 1);
    const page = await consoleAt('desktop', `campaigns/${campaign.campaignId}`);
    await page.locator('[data-testid="preorder-row"]').nth(2).waitFor();

    await page.getByTestId('preorder-buyer-input').fill(fan.buyerId);
    await page.getByTestId('preorder-buyer-find').click();
    await page.locator('[data-testid="preorder-list"]:not(:has([data-testid="preorder-row"]:not([data-buyer="fan-asks-when"])))').waitFor();
    const rows = page.getByTestId('preorder-row');
    expect(await rows.count()).toBe(1);
    const row = rows.first();
    expect(await row.getAttribute('data-buyer')).toBe('fan-asks-when');
    expect(await row.getAttribute('data-status')).toBe('ACCEPTED');
    const rowText = (await row.textContent()) ?? '';
    expect(rowText).toContain('fan-asks-when');
    expect(rowText).toContain('Medium');
    expect(rowText).toContain('× 2');
    expect(await row.getByTestId('preorder-amount').textContent()).toBe('¥258.00');
    expect(rowText).toContain('Ships by');
    expect(((await row.getByTestId('preorder-ship-by').textContent()) ?? '').trim()).toMatch(/\d{4}/);

    const everything = (await page.locator('body').textContent()) ?? '';
    for (const part of addressParts) {
      expect(rowText, `the row shows "${part}"`).not.toContain(part);
      expect(everything, `the page shows "${part}"`).not.toContain(part);
    }
  });

  it('Export CSV downloads the campaign’s pre-orders as one file: a BOM, one header row, a row per pre-order, amounts as money, no addresses', async () => {
    const campaign = await openCampaign({ title: 'Linen shirt / spring', maxTotalQuantity: 80 });
    const placed = [
      await preorder(campaign.campaignId, 'SHIRT-M', 2),
      await preorder(campaign.campaignId, 'SHIRT-S', 1),
      await preorder(campaign.campaignId, 'SHIRT-M', 3),
    ];
    const page = await consoleAt('desktop', `campaigns/${campaign.campaignId}`);
    await page.locator('[data-testid="preorder-row"]').nth(2).waitFor();

    const [download] = await Promise.all([page.waitForEvent('download'), page.getByTestId('csv-export').click()]);
    expect(download.suggestedFilename()).toMatch(/^Linen-shirt-spring-\d{4}-\d{2}-\d{2}\.csv$/);
    const file = await download.path();
    const bytes = readFileSync(file);
    expect([...bytes.subarray(0, 3)]).toEqual([0xef, 0xbb, 0xbf]);
    const lines = bytes.toString('utf8').slice(1).trimEnd().split(/\r?\n/);
    expect(lines.filter((l) => l.startsWith('preorderId,')), 'header rows').toHaveLength(1);
    expect(lines[0]).toMatch(/^preorderId,buyerId,sku,quantity,unitPrice,amount,currency,status,/);
    expect(lines).toHaveLength(1 + placed.length);
    expect(lines.slice(1).map((l) => l.split(',')[0]).sort()).toEqual(placed.map((p) => p.preorderId).sort());
    expect(lines.find((l) => l.startsWith(placed[2]!.preorderId))).toContain(',SHIRT-M,3,129.00,387.00,CNY,ACCEPTED,');
    for (const part of addressParts) expect(bytes.toString('utf8')).not.toContain(part);
    expect(await text(page, 'csv-export-result')).toBe(`Saved ${download.suggestedFilename()}`);
  });

  it('Sales by source, when asked for, shows what each live room and affiliate sold after refunds and the commission in money, in Chinese too, and downloads as CSV', async () => {
    const campaign = await openCampaign({ title: 'Linen by room', liveRoomIds: ['room-north', 'room-south'], commission: { anchorPercent: 20, affiliatePercent: 5 } });
    const place = async (buyerId: string, quantity: number, source?: Record<string, string>) => {
      const r = await clientFor(runtime, 'buyer', buyerId).post<{ preorderId: string }>(
        `/v1/campaigns/${campaign.campaignId}/preorders`,
        preorderDraft({ quantity, ...(source && { source }) }),
      );
      expect(r.status, JSON.stringify(r.body)).toBe(202);
      return r.body.preorderId;
    };
    await place('fan-src-1', 3, { liveRoomId: 'room-north', affiliateId: 'aff-mei' });
    const cancelled = await place('fan-src-2', 1, { liveRoomId: 'room-north', affiliateId: 'aff-mei' });
    await place('fan-src-3', 2, { liveRoomId: 'room-south' });
    expect((await clientFor(runtime, 'buyer', 'fan-src-2').post(`/v1/preorders/${cancelled}/cancel`)).status).toBe(200);
    // Listed once intake has read them off the stream: the report reads the list.
    await until(() => anchor.get<{ totals: { preorders: number } }>(`/v1/campaigns/${campaign.campaignId}/attribution`), (r) => r.body.totals?.preorders === 3);

    const page = await consoleAt('desktop', `campaigns/${campaign.campaignId}`);
    // Not read until asked for: it reads every pre-order of the campaign.
    expect(await page.getByTestId('sources-table').count()).toBe(0);
    expect(await page.locator('#sources-title').textContent()).toBe('Sales by source');
    expect(await page.locator('section[aria-labelledby="sources-title"] p.muted').first().textContent()).toContain('20 % to you, 5 % to the affiliate');
    await page.getByTestId('sources-load').click();
    await page.getByTestId('sources-table').waitFor();
    const rows = await page.getByTestId('sources-row').allTextContents();
    // Biggest first: room-north sold 3 units kept (¥387.00) after a ¥129.00 refund; room-south 2 (¥258.00).
    expect(rows).toEqual([
      expect.stringMatching(/^room-north · affiliate aff-mei3¥387\.00¥129\.00¥77\.40¥19\.35$/),
      expect.stringMatching(/^room-south2¥258\.00¥0\.00¥51\.60¥0\.00$/),
    ]);
    expect(await text(page, 'sources-total')).toBe('Total5¥645.00¥129.00¥129.00¥19.35');
    for (const id of [campaign.campaignId, cancelled]) expect(await page.locator('body').textContent()).not.toContain(id);

    const [download] = await Promise.all([page.waitForEvent('download'), page.getByTestId('sources-export').click()]);
    expect(download.suggestedFilename()).toMatch(/^Linen-by-room-sources-\d{4}-\d{2}-\d{2}\.csv$/);
    const bytes = readFileSync(await download.path());
    expect([...bytes.subarray(0, 3)]).toEqual([0xef, 0xbb, 0xbf]);
    const lines = bytes.toString('utf8').slice(1).trimEnd().split(/\r?\n/);
    expect(lines).toEqual([
      'row,liveRoomId,sessionId,affiliateId,preorders,units,refundedUnits,netUnits,currency,gmv,refunded,netGmv,anchorCommission,affiliateCommission',
      'source,room-north,,aff-mei,2,4,1,3,CNY,516.00,129.00,387.00,77.40,19.35',
      'source,room-south,,,1,2,0,2,CNY,258.00,0.00,258.00,51.60,0.00',
      'total,,,,3,6,1,5,CNY,774.00,129.00,645.00,129.00,19.35',
    ]);

    await page.getByTestId('language-switch').selectOption('zh-CN');
    await page.locator('#sources-title', { hasText: '按来源统计' }).waitFor();
    expect(await text(page, 'sources-total')).toBe('合计5¥645.00¥129.00¥129.00¥19.35');
    expect((await page.getByTestId('sources-row').first().textContent()) ?? '').toMatch(/^room-north · 推广者 aff-mei/);
  });

  it('Signing out ends the issuer’s session and brings the anchor back to the console, signed out, even with requests still to come back; signing in again asks who they are', async () => {
    // The list asks for each campaign, four at a time. Those answers are held until sign-out has begun (and the
    // sign-out's own look-up of the issuer until they are in), so the rows asked next find no token: that must not
    // be taken for an expired session and sign the anchor straight back in over the sign-out.
    for (let i = 0; i < 6; i++) await openCampaign({ title: `Sign-out ${i}` });
    const gate = () => {
      let open!: () => void;
      const opened = new Promise<void>((resolve) => (open = resolve));
      return { open, opened };
    };
    const answers = gate();
    const discovery = gate();
    let signingOut = false;
    const page = await consoleAt('desktop', '', {
      beforeSignIn: async (p) => {
        await p.route(/\/v1\/campaigns\/cmp_[0-9a-z]+$/, async (route) => {
          await answers.opened;
          await route.continue().catch(() => undefined);
        });
        await p.route(/\/\.well-known\/openid-configuration$/, async (route) => {
          if (signingOut) await discovery.opened;
          await route.continue().catch(() => undefined);
        });
      },
    });
    await page.getByTestId('campaign-row').nth(5).waitFor();
    signingOut = true;
    await page.getByTestId('sign-out').click();
    answers.open();
    await page.locator('[data-testid="campaign-row-ordered"]:not([data-value=""])').nth(3).waitFor();
    discovery.open();

    // The local issuer asks before it ends its session (the default of oidc-provider's end_session page).
    await page.getByRole('button', { name: /sign me out/i }).click();
    await page.getByTestId('standalone-message').waitFor();
    expect(await text(page, 'standalone-message')).toBe('You are signed out.');
    expect(page.url()).toBe(runtime.console.url);
    expect(await page.getByTestId('nav-campaigns').count()).toBe(0);

    await page.getByTestId('standalone-action').click();
    await page.locator('input[name="username"]').waitFor();
    expect(page.url().startsWith(runtime.issuer.issuer)).toBe(true);
  });
});
