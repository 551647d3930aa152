/**
 * `npm run console:screenshots`: the two pictures in docs/console.md, taken of the real
 * console. Starts its own runtime in this process (in memory), plays 45 minutes of a live
 * stream's pre-sale on a moved clock (a campaign with a Chinese title and three variants,
 * the live room's signals, a few dozen fans' pre-orders, the clock's sweep each few minutes
 * so the chart has its points, a factory that accepts the first batch and has made and
 * shipped part of it), then signs in with the Console link in the system's Chromium and
 * writes docs/console-desktop.png (1280×800, English) and docs/console-phone.png (390×844,
 * zh-CN), the top of the campaign page each.
 *
 * The clock (demo/clock.ts) only moves forward, so the story starts now and ends 45
 * minutes ahead; the browser's clock is set to the runtime's before it loads the page, so
 * "opened", "updated" and the chart's axis agree.
 */
import { execFileSync } from 'node:child_process';
import { statSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { relative } from 'node:path';
import { parseArgs } from 'node:util';
import { chromium, type Browser, type BrowserContextOptions } from 'playwright-core';
import { startLocalRuntime, type LocalRuntime } from '../lib/local/runtime.ts';
import { shiftableClock } from '../demo/clock.ts';
import { captureStdout } from '../demo/console.ts';
import { apiClient, HttpTally, politeRetry, renewingToken, type ApiClient } from '../demo/support/api-client.ts';
import { registerFactory } from '../demo/support/fixtures.ts';
import { seededRandom } from '../demo/random.ts';
import type { Principal } from '../functions/shared/principal.ts';

// engines says Node 20; the SDK's notice about its 2027 releases is in the README.
process.env.AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED ??= 'true';

const { values } = parseArgs({ options: { out: { type: 'string', default: fileURLToPath(new URL('../docs/', import.meta.url)) } } });
const outDir = values.out.endsWith('/') ? values.out : `${values.out}/`;

const anchorId = 'anchor-demo';
const factoryId = 'factory-linen';
const roomId = 'room-8848';
const minuteMs = 60_000;
/** Every three minutes of the stream, for 45 minutes: signals, fans ordering, the clock's sweep. */
const waves = 15;
const waveMs = 3 * minuteMs;
/** Units ordered in each wave: a slow start, the rush when the anchor holds the shirt up, a long tail. */
const unitsPerWave = [2, 3, 4, 6, 9, 12, 10, 8, 7, 6, 5, 4, 4, 3, 3];

const variants = [
  { sku: 'LINEN-NAT-S', name: '本色 S', unitPrice: 12900, weight: 3 },
  { sku: 'LINEN-NAT-M', name: '本色 M', unitPrice: 12900, weight: 5 },
  { sku: 'LINEN-IND-L', name: '靛蓝 L', unitPrice: 13900, weight: 2 },
] as const;

/** Debian's Chromium, as the browser tests drive it (playwright-core never downloads one). */
const chromiumPath = (): string => {
  try {
    const path = execFileSync('sh', ['-c', 'command -v chromium'], { encoding: 'utf8' }).trim();
    if (path) return path;
  } catch {
    // not on PATH
  }
  throw new Error('No `chromium` on PATH: apt-get install chromium fonts-noto-cjk (as .ci/run does)');
};

const step = (line: string) => process.stderr.write(`${line}\n`);
const fail = (message: string): never => {
  throw new Error(message);
};

const clock = shiftableClock();
const quiet = captureStdout((line) => step(`  runtime: ${line}`));
let runtime: LocalRuntime | undefined;
let browser: Browser | undefined;

try {
  runtime = await startLocalRuntime({
    dataDir: null,
    port: 0,
    accessLog: false,
    metrics: false,
    logLevel: 'ERROR',
    console: { buildWhenMissing: true, onBuild: step },
  });
  const rt = runtime;
  step(`runtime up at ${rt.url}`);

  const tally = new HttpTally();
  // Tokens from the local issuer, renewed before they would expire on the moving clock.
  const as = (role: Principal['role'], id: string): ApiClient =>
    apiClient({ baseUrl: rt.url, token: renewingToken(() => rt.token(role, id)), retry: politeRetry, tally, timeoutMs: 30_000 });
  const expectStatus = <T>(what: string, r: { status: number; body: T }, ...ok: number[]): T =>
    ok.includes(r.status) ? r.body : fail(`${what}: ${r.status} ${JSON.stringify(r.body).slice(0, 300)}`);

  const operator = as('operator', 'operator-demo');
  await registerFactory(operator, factoryId, '苏州麻纺工坊');
  const anchor = as('anchor', anchorId);
  const factory = as('factory', factoryId);
  const room = as('liveroom', roomId);

  const campaign = expectStatus(
    'opening the campaign',
    await anchor.post<{ campaignId: string }>(
      '/v1/campaigns',
      {
        title: '手工亚麻衬衫 · 直播间专享',
        factoryId,
        currency: 'CNY',
        variants: variants.map(({ sku, name, unitPrice }) => ({ sku, name, unitPrice })),
        closesAt: new Date(Date.now() + 2 * 3600_000).toISOString(),
        minTotalQuantity: 20,
        lotSize: 30,
        maxTotalQuantity: 120,
        maxPerBuyer: 3,
        promisedShipDays: 14,
        liveRoomIds: [roomId],
      },
      { idempotencyKey: 'console-screenshots-campaign' },
    ),
    201,
  );
  const id = campaign.campaignId;
  step(`campaign ${id} open`);

  type Line = { sku: string; quantity: number };
  type CampaignBatch = { batchId: string; status: string; lines: Line[] };
  const batches = async () => expectStatus('reading batches', await anchor.get<{ items: CampaignBatch[] }>(`/v1/campaigns/${id}/batches`), 200).items;
  const settle = async () => {
    await rt.emulator.fireSchedule('campaign-sweep');
    await rt.emulator.drain();
  };

  const rng = seededRandom(8848);
  let fans = 0;
  let factoryStage = 0;
  for (let wave = 1; wave <= waves; wave++) {
    clock.advanceTo(Date.now() + waveMs);
    const at = new Date().toISOString();
    const heat = (unitsPerWave[wave - 1] ?? 3) / 12;
    const signals = [
      { campaignId: id, type: 'view', count: Math.round(400 + 2600 * heat + rng.int(0, 200)), at },
      { campaignId: id, type: 'like', count: Math.round(80 + 900 * heat), at },
      { campaignId: id, type: 'share', count: Math.round(5 + 40 * heat), at },
      ...variants.flatMap((v) => [
        { campaignId: id, sku: v.sku, type: 'want', count: Math.round((10 + 60 * heat) * v.weight), at },
        { campaignId: id, sku: v.sku, type: 'cart', count: Math.round((3 + 20 * heat) * v.weight), at },
      ]),
    ];
    expectStatus('posting signals', await room.post('/v1/signals', { signals }, { idempotencyKey: `console-screenshots-signals-${wave}` }), 202);

    for (let units = unitsPerWave[wave - 1] ?? 0; units > 0; ) {
      const quantity = Math.min(units, rng.weighted([[1, 6], [2, 3], [3, 1]] as const));
      const sku = rng.weighted(variants.map((v) => [v.sku, v.weight] as const));
      const buyer = `dy-${String(31_870_000 + ++fans * 7919).padStart(8, '0')}`;
      expectStatus(
        'a pre-order',
        await as('buyer', buyer).post(
          `/v1/campaigns/${id}/preorders`,
          {
            sku,
            quantity,
            shippingAddress: { name: '王芳', phone: '+86 139 0000 0000', line1: '人民路 88 号', city: '苏州', region: '江苏', postalCode: '215000', country: 'CN' },
          },
          { idempotencyKey: `console-screenshots-${buyer}` },
        ),
        202,
      );
      units -= quantity;
    }
    await settle();

    // The factory answers the first batch while the stream goes on, and gets to work on it.
    const [first] = await batches();
    if (first && factoryStage === 0) {
      expectStatus('accepting', await factory.post(`/v1/factory/batches/${first.batchId}/accept`, { committedShipDate: new Date(Date.now() + 10 * 86_400_000).toISOString().slice(0, 10) }, { safeToRepeat: true }), 200);
      factoryStage = 1;
    } else if (first && factoryStage === 1 && wave >= 11) {
      for (const [i, line] of first.lines.entries()) {
        const produced = Math.ceil(line.quantity * 0.8);
        const failed = i === 0 ? 1 : 0;
        expectStatus(
          'reporting progress',
          await factory.post(`/v1/factory/batches/${first.batchId}/progress`, { sku: line.sku, produced, qcPassed: produced - failed, qcFailed: failed }, { safeToRepeat: true }),
          200,
        );
      }
      const shipped = first.lines.slice(1).map((l) => ({ sku: l.sku, quantity: Math.ceil(l.quantity * 0.8) }));
      expectStatus('shipping', await factory.post(`/v1/factory/batches/${first.batchId}/shipments`, { carrier: '顺丰速运', trackingNumber: 'SF1420388471', items: shipped }), 201);
      factoryStage = 2;
      await settle();
    }
  }
  const now = await batches();
  step(`${fans} pre-orders over ${waves} waves; batches: ${now.map((b) => b.status).join(', ')}`);
  if (factoryStage < 2) fail('the factory never got to work: no batch was released in time');
  if (tally.failures.length > 0) fail(`requests failed: ${tally.failures.join('; ')}`);

  // ---------------------------------------------------------------- the pictures

  browser = await chromium.launch({ executablePath: chromiumPath(), args: ['--no-sandbox'], headless: true });
  const shoot = async (file: string, context: BrowserContextOptions) => {
    const ctx = await browser!.newContext(context);
    try {
      // The page's clock is the runtime's (45 minutes ahead of the wall), flowing from there.
      await ctx.clock.install({ time: Date.now() });
      const page = await ctx.newPage();
      page.setDefaultTimeout(30_000);
      await page.goto(`${rt.console.url}campaigns/${id}?login_hint=${rt.issuer.signInTicket(anchorId).ticket}`);
      await page.locator('[data-testid="demand-chart"] canvas').waitFor();
      await page.locator('[data-testid="batch-card"][data-ordinal="2"]').waitFor();
      await page.getByTestId('preorder-row').first().waitFor();
      await page.getByTestId('trust-shipped').waitFor();
      // Strings, run in the page (this project's type library has no DOM).
      await page.waitForFunction(`Number(document.querySelector('[data-testid="demand-chart"]')?.getAttribute('data-points')) >= ${waves}`);
      // uPlot draws on the next frame after its data; the fonts must be in before the picture.
      await page.evaluate('document.fonts.ready.then(() => new Promise((r) => requestAnimationFrame(() => requestAnimationFrame(r))))');
      const path = `${outDir}${file}`;
      await page.screenshot({ path, fullPage: false, animations: 'disabled', caret: 'hide' });
      step(`wrote ${relative(process.cwd(), path)} (${Math.round(statSync(path).size / 1024)} KB)`);
    } finally {
      await ctx.close();
    }
  };
  await shoot('console-desktop.png', { viewport: { width: 1280, height: 800 }, locale: 'en-US' });
  await shoot('console-phone.png', { viewport: { width: 390, height: 844 }, deviceScaleFactor: 2, isMobile: true, hasTouch: true, locale: 'zh-CN' });
} finally {
  await browser?.close().catch(() => undefined);
  await runtime?.stop().catch((err: unknown) => step(`stopping the runtime: ${String(err)}`));
  quiet.restore();
  clock.restore();
}
