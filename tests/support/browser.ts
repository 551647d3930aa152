import { execFileSync } from 'node:child_process';
import { mkdirSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { expect, onTestFinished } from 'vitest';
import { chromium, type Browser, type BrowserContext, type Page } from 'playwright-core';

/**
 * The browser suite's Chromium: the system's (Debian's `chromium`, which .ci/run
 * installs with fonts-noto-cjk), driven by playwright-core, which never downloads
 * a browser. Pages open at the two viewports the console is made for; a failing
 * test leaves a full-page screenshot in tests/artifacts/ (git-ignored).
 */

const artifacts = fileURLToPath(new URL('../artifacts/', import.meta.url));

export const viewports = {
  desktop: { viewport: { width: 1280, height: 800 } },
  phone: { viewport: { width: 390, height: 844 }, isMobile: true, hasTouch: true, deviceScaleFactor: 3 },
} as const;
export type Viewport = keyof typeof viewports;

/** Where `command -v chromium` finds it; a clear failure (not a skip) when it is missing: CI installs it. */
export const chromiumPath = (): string => {
  try {
    const path = execFileSync('sh', ['-c', 'command -v chromium'], { encoding: 'utf8' }).trim();
    if (path) return path;
  } catch {
    // not on PATH
  }
  throw new Error('No `chromium` on PATH: the browser tests drive the system Chromium (apt-get install chromium fonts-noto-cjk, as .ci/run does)');
};

/** One Chromium for a test file (headless; root needs --no-sandbox). Close it in afterAll. */
export const launchBrowser = (): Promise<Browser> => chromium.launch({ executablePath: chromiumPath(), args: ['--no-sandbox'], headless: true });

/** A file name from a test's name: letters, digits, CJK, dashes; nothing that climbs out of tests/artifacts. */
const fileNameOf = (name: string) =>
  name
    .normalize('NFKC')
    .replace(/[^\p{L}\p{N}]+/gu, '-')
    .replace(/^-+|-+$/g, '')
    .slice(0, 120) || 'test';

/** Saves a full-page screenshot of `page` as tests/artifacts/<name>.png; never throws (the test's own failure matters more). */
export const saveScreenshot = async (page: Page, name: string): Promise<string | undefined> => {
  mkdirSync(artifacts, { recursive: true });
  const path = join(artifacts, `${fileNameOf(name)}.png`);
  try {
    await page.screenshot({ path, fullPage: true, timeout: 10_000 });
    return path;
  } catch {
    return undefined;
  }
};

/**
 * When the running test fails, saves a full-page screenshot of `page` to
 * tests/artifacts/<test name>.png. Call it inside a test. `openPage` does.
 */
export const screenshotOnFailure = (page: Page, suffix = '') => {
  // onTestFinished runs after the test and its afterEach hooks, when the result is known,
  // and before onTestFailed: the one hook where the page is still open and the outcome settled.
  onTestFinished(async ({ task }) => {
    if (task.result?.state !== 'fail' || page.isClosed()) return;
    const path = await saveScreenshot(page, `${task.name}${suffix}`);
    if (path) process.stderr.write(`screenshot of the failed test: ${path}\n`);
  });
};

/**
 * A fresh context (no cookies, no storage) and a page at the viewport, opened at
 * `url` if given. Inside a test, a failure saves a screenshot and the context is
 * closed when the test ends either way.
 */
export const openPage = async (
  browser: Browser,
  viewport: Viewport,
  opts: { url?: string; locale?: string } = {},
): Promise<{ page: Page; context: BrowserContext }> => {
  const context = await browser.newContext({ ...viewports[viewport], locale: opts.locale ?? 'en-US' });
  const page = await context.newPage();
  try {
    // Finished-hooks run last registered first: the screenshot (registered second) before the close.
    onTestFinished(async () => {
      await context.close().catch(() => undefined);
    });
    screenshotOnFailure(page, viewport === 'desktop' ? '' : ` (${viewport})`);
  } catch {
    // Opened outside a test (a beforeAll): the caller closes it, and takes its own screenshots.
  }
  if (opts.url) await page.goto(opts.url);
  return { page, context };
};

/**
 * Fails when the page scrolls sideways: the document is no wider than the window,
 * nor than the viewport the page was opened at (a phone without `width=device-width`,
 * or with content too wide, zooms out, and then `innerWidth` grows with the content).
 */
export const expectNoHorizontalScroll = async (page: Page): Promise<void> => {
  const { scrollWidth, innerWidth } = await page.evaluate(() => {
    // Runs in the page; the project's type library has no DOM.
    const win = globalThis as unknown as { innerWidth: number; document: { documentElement: { scrollWidth: number } } };
    return { scrollWidth: win.document.documentElement.scrollWidth, innerWidth: win.innerWidth };
  });
  const width = Math.min(innerWidth, page.viewportSize()?.width ?? innerWidth);
  expect(scrollWidth, `the page scrolls sideways at ${page.url()}: ${scrollWidth} px of content in a ${width} px wide viewport`).toBeLessThanOrEqual(width);
};
