import { request } from 'node:http';
import { createHash, randomBytes } from 'node:crypto';
import { existsSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync, utimesSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import { decodeJwt } from 'jose';
import type { Browser } from 'playwright-core';
import type { LocalRuntime } from '../../lib/local/runtime.ts';
import { ensureConsoleBuilt } from '../../lib/local/console-site.ts';
import { consoleContentSecurityPolicy } from '../../lib/aws/console-hosting.ts';
import { consoleClientId, loopbackOrigins } from '../../lib/local/issuer.ts';
import { consoleSignInLink, startTestRuntime } from '../support/runtime.ts';
import { expectNoHorizontalScroll, launchBrowser, openPage } from '../support/browser.ts';
import { cookieBrowser } from '../support/cookie-browser.ts';

/**
 * The console as the local runtime serves it, over HTTP as a browser would ask
 * for it, and the sign-in link `npm start` prints. The console here is a small
 * Vite project of this test's own (in a temporary folder, built by the runtime
 * because its dist/ is missing), so what is checked is the serving, not the app.
 */

const demoAnchor = 'anchor-demo';

/** A Vite project shaped like console/: base /console/, a hashed script and stylesheet, an unhashed public file. */
const writeFixtureConsole = (dir: string) => {
  mkdirSync(join(dir, 'public'), { recursive: true });
  writeFileSync(join(dir, 'package.json'), JSON.stringify({ type: 'module', private: true }));
  writeFileSync(join(dir, 'vite.config.ts'), "export default { base: '/console/' };\n");
  writeFileSync(
    join(dir, 'index.html'),
    '<!doctype html><html lang="zh-CN"><head><meta charset="utf-8"><title>主播控制台 fixture</title></head>' +
      '<body><main id="app">主播控制台</main><script type="module" src="/main.js"></script></body></html>\n',
  );
  writeFileSync(join(dir, 'main.js'), "import './style.css';\ndocument.getElementById('app').dataset.ready = 'yes';\n");
  writeFileSync(join(dir, 'style.css'), 'main { font-family: sans-serif; }\n');
  writeFileSync(join(dir, 'public', 'robots.txt'), 'User-agent: *\nDisallow: /\n');
};

let runtime: LocalRuntime;
let consoleDir: string;
const buildLines: string[] = [];

beforeAll(async () => {
  consoleDir = mkdtempSync(join(tmpdir(), 'c2m-console-site-'));
  writeFixtureConsole(consoleDir);
  runtime = await startTestRuntime({ console: { dir: consoleDir, buildWhenMissing: true, onBuild: (line) => buildLines.push(line) } });
});
afterAll(async () => {
  await runtime?.stop();
  if (consoleDir) rmSync(consoleDir, { recursive: true, force: true });
});

/** A request exactly as written: no URL normalisation of `..` or `%2e` on the way. */
const raw = (path: string, method = 'GET') =>
  new Promise<{ status: number; headers: Record<string, string | string[] | undefined>; body: string }>((resolve, reject) => {
    const { port } = new URL(runtime.url);
    const req = request({ host: '127.0.0.1', port, path, method, headers: { host: `localhost:${port}` } }, (res) => {
      const chunks: Buffer[] = [];
      res.on('data', (c: Buffer) => chunks.push(c));
      res.on('end', () => resolve({ status: res.statusCode ?? 0, headers: res.headers, body: Buffer.concat(chunks).toString('utf8') }));
    });
    req.once('error', reject);
    req.end();
  });

const get = (path: string, init: RequestInit = {}) => fetch(`${runtime.url}${path}`, { redirect: 'manual', ...init });

const builtAsset = (ext: string) => {
  const name = readdirSync(join(consoleDir, 'dist', 'assets')).find((f) => f.endsWith(ext));
  if (!name) throw new Error(`the fixture build has no ${ext} asset`);
  return name;
};

/** The headers production's CloudFront policy adds (lib/aws/console-hosting.ts), with this runtime's issuer as the one to connect to. */
const expectSecurityHeaders = (headers: Headers, what: string) => {
  const csp = headers.get('content-security-policy') ?? '';
  expect(csp, what).toBe(consoleContentSecurityPolicy([new URL(runtime.issuer.issuer).origin]));
  expect(csp, what).toContain("default-src 'self'");
  expect(csp, what).toContain("frame-ancestors 'none'");
  expect(headers.get('x-content-type-options'), what).toBe('nosniff');
  expect(headers.get('referrer-policy'), what).toBe('strict-origin-when-cross-origin');
  expect(headers.get('x-frame-options'), what).toBe('DENY');
  expect(headers.get('permissions-policy'), what).toBe('camera=(), microphone=(), geolocation=(), payment=()');
  expect(headers.get('strict-transport-security'), `${what}: no HSTS on plain-http localhost`).toBeNull();
};

describe('The console at /console, served by the local runtime', () => {
  it('When dist/index.html is missing at start, the runtime builds the console with vite once and says so in one line', () => {
    expect(buildLines).toHaveLength(1);
    expect(buildLines[0]).toMatch(/^Building the console \(.*dist\/index\.html is missing\)…$/);
    expect(existsSync(join(consoleDir, 'dist', 'index.html'))).toBe(true);
    expect(runtime.console.built()).toBe(true);
    expect(readdirSync(consoleDir).filter((f) => f.startsWith('.dist-building-')), 'staging folders left behind').toEqual([]);
  });

  it('Two builds asked for at once (two test workers, say) run vite once; the other finds the build done; an interrupted build’s leftovers go', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'c2m-console-build-'));
    try {
      writeFixtureConsole(dir);
      // A build stopped by Ctrl-C: its staging folder, named after a process that no longer runs (above any pid_max).
      const leftover = join(dir, '.dist-building-2147483646-0000');
      mkdirSync(leftover);
      const lines: string[] = [];
      const results = await Promise.all([1, 2].map(() => ensureConsoleBuilt({ dir, onBuild: (l) => lines.push(l) })));
      expect(results.sort()).toEqual(['built', 'present']);
      expect(lines).toHaveLength(1);
      expect(existsSync(join(dir, 'dist', 'index.html'))).toBe(true);
      expect(existsSync(leftover)).toBe(false);
      expect(await ensureConsoleBuilt({ dir })).toBe('present');
      expect(await ensureConsoleBuilt({ dir: join(dir, 'nothing-here') })).toBe('absent');
      // An edited console is built again rather than served stale: a build older than a source.
      const earlier = new Date(Date.now() - 60_000);
      utimesSync(join(dir, 'dist', 'index.html'), earlier, earlier);
      const again: string[] = [];
      expect(await ensureConsoleBuilt({ dir, onBuild: (l) => again.push(l) })).toBe('built');
      expect(again[0]).toMatch(/older than its sources/);
      expect(await ensureConsoleBuilt({ dir })).toBe('present');
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });

  it('config.json names the runtime issuer and the console client, and no API URL (the API is on the same origin), never cached', async () => {
    const res = await get('/console/config.json');
    expect(res.status).toBe(200);
    expect(res.headers.get('content-type')).toMatch(/^application\/json/);
    expect(res.headers.get('cache-control')).toBe('no-store');
    expect(await res.json()).toEqual({ issuer: `${runtime.url}/oidc`, clientId: 'c2m-console' });
    expect(runtime.issuer.issuer).toBe(`${runtime.url}/oidc`);
  });

  it('/console redirects to /console/, keeping the query the sign-in link carries', async () => {
    const res = await get('/console?login_hint=abc&x=1');
    expect(res.status).toBe(302);
    expect(res.headers.get('location')).toBe('/console/?login_hint=abc&x=1');
    const bare = await get('/console');
    expect(bare.headers.get('location')).toBe('/console/');
  });

  it('/console/, /console/callback and a deep History route all answer index.html, revalidated on every load', async () => {
    const index = readFileSync(join(consoleDir, 'dist', 'index.html'), 'utf8');
    for (const path of ['/console/', '/console/index.html', '/console/callback', '/console/callback?code=abc&state=xyz', '/console/campaigns/cmp-123/batches']) {
      const res = await get(path);
      expect(res.status, path).toBe(200);
      expect(res.headers.get('content-type'), path).toBe('text/html; charset=utf-8');
      expect(res.headers.get('cache-control'), path).toBe('no-cache');
      expect(await res.text(), path).toBe(index);
    }
  });

  it('Hashed assets have their content type and are cached for a year; an unhashed public file is revalidated', async () => {
    const js = await get(`/console/assets/${builtAsset('.js')}`);
    expect(js.status).toBe(200);
    expect(js.headers.get('content-type')).toBe('text/javascript; charset=utf-8');
    expect(js.headers.get('cache-control')).toBe('public, max-age=31536000, immutable');
    expect(await js.text()).toContain('ready');

    const css = await get(`/console/assets/${builtAsset('.css')}`);
    expect(css.headers.get('content-type')).toBe('text/css; charset=utf-8');
    expect(css.headers.get('cache-control')).toBe('public, max-age=31536000, immutable');

    const robots = await get('/console/robots.txt');
    expect(robots.status).toBe(200);
    expect(robots.headers.get('content-type')).toBe('text/plain; charset=utf-8');
    expect(robots.headers.get('cache-control')).toBe('no-cache');
  });

  it('A missing asset, a missing file with an extension and a dot file are 404, never index.html', async () => {
    writeFileSync(join(consoleDir, 'dist', '.env'), 'SECRET=1\n');
    for (const path of ['/console/assets/index-missing.js', '/console/assets/nothing', '/console/logo.png', '/console/.env']) {
      const res = await get(path);
      expect(res.status, path).toBe(404);
      expect(await res.text(), path).not.toContain('<!doctype html>');
    }
  });

  it('Paths that climb out of the build, encoded or not, are refused with 400 and serve nothing', async () => {
    const attempts = [
      '/console/../package.json',
      '/console/assets/../../package.json',
      '/console/%2e%2e/package.json',
      '/console/..%2fpackage.json',
      '/console/%2e%2e%2f%2e%2e%2fpackage.json',
      '/console/assets/..%5c..%5cpackage.json',
      '/console/..\\..\\package.json',
      '/console//etc/passwd',
      '/console/%2fetc%2fpasswd',
      '/console/assets/x%00.js',
      '/console/%E0%A4%A',
    ];
    for (const path of attempts) {
      const res = await raw(path);
      expect(res.status, path).toBe(400);
      expect(res.body, path).not.toContain('"name"');
      expect(res.body, path).not.toContain('root:');
    }
  });

  it('Every console answer carries production’s security headers (the same CSP, connecting to this issuer): the page, an asset, config.json, a 404, a refusal', async () => {
    for (const path of ['/console/', '/console/callback', `/console/assets/${builtAsset('.js')}`, '/console/config.json', '/console/missing.png', '/console']) {
      expectSecurityHeaders((await get(path)).headers, path);
    }
    const refused = await raw('/console/%2e%2e/package.json');
    expect(refused.headers['x-content-type-options']).toBe('nosniff');
    expect(String(refused.headers['content-security-policy'])).toContain("frame-ancestors 'none'");
  });

  it('HEAD answers the headers alone; other methods are 405', async () => {
    const head = await get('/console/callback', { method: 'HEAD' });
    expect(head.status).toBe(200);
    expect(Number(head.headers.get('content-length'))).toBeGreaterThan(0);
    expect(await head.text()).toBe('');
    const post = await get('/console/config.json', { method: 'POST', body: '{}' });
    expect(post.status).toBe(405);
    expect(post.headers.get('allow')).toBe('GET, HEAD');
  });
});

// ---------------------------------------------------------------- the sign-in link

type Visit = ReturnType<typeof cookieBrowser>;

type Outcome = { kind: 'code'; code: string; verifier: string; redirectUri: string } | { kind: 'page'; status: number; html: string; url: string };

/**
 * What the console does with the link's login_hint: an authorization request (code + PKCE) at the
 * issuer's discovered endpoint, the issuer's redirects followed, until the browser is either sent
 * back to the console's callback with a code or shown a page.
 */
const authorize = async (visit: Visit, opts: { loginHint?: string; origin?: string } = {}): Promise<Outcome> => {
  const verifier = randomBytes(32).toString('base64url');
  const redirectUri = `${opts.origin ?? runtime.url}/console/callback`;
  const discovery = (await (await fetch(runtime.issuer.discoveryUrl)).json()) as { authorization_endpoint: string };
  const query = new URLSearchParams({
    client_id: consoleClientId,
    response_type: 'code',
    redirect_uri: redirectUri,
    scope: 'openid',
    code_challenge: createHash('sha256').update(verifier).digest('base64url'),
    code_challenge_method: 'S256',
    state: 'st-1',
    ...(opts.loginHint !== undefined && { login_hint: opts.loginHint }),
  });
  let url = `${discovery.authorization_endpoint}?${query}`;
  let form: { action: string; body: string } | undefined;
  for (let hops = 0; hops < 10; hops++) {
    const res = await (form
      ? visit(form.action, { method: 'POST', headers: { 'content-type': 'application/x-www-form-urlencoded' }, body: form.body })
      : visit(url));
    form = undefined;
    if (res.status !== 302 && res.status !== 303) {
      const html = await res.text();
      // The issuer's self-submitting form (signing the previous account out before the new one is in): a browser posts it at once.
      const autoSubmit = /<title>Submitting Callback<\/title>[\s\S]*<form method="post" action="([^"]+)">([\s\S]*?)<\/form>/.exec(html);
      if (!autoSubmit) return { kind: 'page', status: res.status, html, url };
      const fields = [...(autoSubmit[2] ?? '').matchAll(/<input type="hidden" name="([^"]+)" value="([^"]*)"\/>/g)].map((m): [string, string] => [m[1] ?? '', m[2] ?? '']);
      form = { action: autoSubmit[1] ?? '', body: new URLSearchParams(fields).toString() };
      continue;
    }
    const location = new URL(res.headers.get('location') ?? '', url);
    if (`${location.origin}${location.pathname}` === redirectUri) {
      expect(location.searchParams.get('state')).toBe('st-1');
      expect(location.searchParams.get('error'), location.href).toBeNull();
      return { kind: 'code', code: location.searchParams.get('code') ?? '', verifier, redirectUri };
    }
    url = location.href;
  }
  throw new Error('more than 10 redirects or forms without reaching the console callback');
};

/** The console's token request, from the page's origin (a CORS request when that is not the issuer's). */
const exchange = async (outcome: Outcome, origin?: string) => {
  if (outcome.kind !== 'code') throw new Error(`no code: the issuer showed a page (${outcome.status})`);
  const res = await fetch(runtime.issuer.tokenEndpoint, {
    method: 'POST',
    headers: { 'content-type': 'application/x-www-form-urlencoded', ...(origin && { origin }) },
    body: new URLSearchParams({
      grant_type: 'authorization_code',
      code: outcome.code,
      redirect_uri: outcome.redirectUri,
      client_id: consoleClientId,
      code_verifier: outcome.verifier,
    }),
  });
  return { status: res.status, headers: res.headers, body: (await res.json()) as { access_token?: string; error?: string } };
};

const ticketOf = (link: string) => new URL(link).searchParams.get('login_hint') ?? '';

const expectSignInForm = (outcome: Outcome, why: string) => {
  expect(outcome.kind, why).toBe('page');
  if (outcome.kind !== 'page') return;
  expect(outcome.status, why).toBe(200);
  expect(outcome.html, why).toContain('name="username"');
  expect(outcome.html, why).toContain('登录');
  expect(outcome.html, why).toContain('This sign-in link was already used, has expired or is unknown');
};

const listMine = (accessToken: string) => fetch(`${runtime.url}/v1/campaigns?mine=true`, { headers: { authorization: `Bearer ${accessToken}` } });

describe('The Console link signs the demo anchor in without a form (local only)', () => {
  it('The link is the console with a single-use ticket as login_hint: c2m-ticket: and 32 random bytes, base64url', () => {
    const link = consoleSignInLink(runtime);
    expect(link).toMatch(new RegExp(`^${runtime.url}/console/\\?login_hint=c2m-ticket:[A-Za-z0-9_-]{43}$`));
    expect(ticketOf(consoleSignInLink(runtime))).not.toBe(ticketOf(link));
  });

  it("The ticket as login_hint returns the browser to the callback with a code; its token names the demo anchor and the API takes it as the anchor's", async () => {
    const outcome = await authorize(cookieBrowser(), { loginHint: ticketOf(consoleSignInLink(runtime, demoAnchor)) });
    expect(outcome.kind, outcome.kind === 'page' ? outcome.html : '').toBe('code');
    const token = await exchange(outcome);
    expect(token.status, JSON.stringify(token.body)).toBe(200);
    const accessToken = token.body.access_token ?? '';
    const claims = decodeJwt(accessToken);
    expect(claims).toMatchObject({ sub: demoAnchor, iss: runtime.issuer.issuer, aud: 'urn:c2m:api' });
    // What identify() reads to make an anchor: a user's sub, not a client's, and no operator group.
    expect(claims.client_id === undefined || claims.client_id !== claims.sub).toBe(true);
    expect(claims.groups).toBeUndefined();
    const mine = await listMine(accessToken);
    expect(mine.status, await mine.clone().text()).toBe(200);
    expect(((await mine.json()) as { items: unknown[] }).items).toBeInstanceOf(Array);
  });

  it('A ticket signs in once: its second use shows the sign-in form, with a line saying why', async () => {
    const ticket = ticketOf(consoleSignInLink(runtime));
    expect((await authorize(cookieBrowser(), { loginHint: ticket })).kind).toBe('code');
    expectSignInForm(await authorize(cookieBrowser(), { loginHint: ticket }), 'second use');
  });

  it('An unknown ticket signs nobody in: the sign-in form, which still signs in by name', async () => {
    const visit = cookieBrowser();
    const outcome = await authorize(visit, { loginHint: `c2m-ticket:${randomBytes(32).toString('base64url')}` });
    expectSignInForm(outcome, 'unknown ticket');
    if (outcome.kind !== 'page') return;
    const action = /<form[^>]*action="([^"]+)"/.exec(outcome.html)?.[1] ?? '';
    let res = await visit(new URL(action, runtime.url).href, {
      method: 'POST',
      headers: { 'content-type': 'application/x-www-form-urlencoded' },
      body: new URLSearchParams({ username: 'anchor-typed' }).toString(),
    });
    let location = '';
    for (let hops = 0; hops < 10 && (res.status === 302 || res.status === 303); hops++) {
      location = new URL(res.headers.get('location') ?? '', runtime.url).href;
      if (location.startsWith(`${runtime.url}/console/callback`)) break;
      res = await visit(location);
    }
    expect(location).toMatch(new RegExp(`^${runtime.url}/console/callback\\?code=`));
  });

  it('A browser already signed in as someone else is signed in as the ticket’s anchor', async () => {
    const visit = cookieBrowser();
    const first = await authorize(visit, { loginHint: ticketOf(consoleSignInLink(runtime, 'anchor-before')) });
    expect(decodeJwt((await exchange(first)).body.access_token ?? '').sub).toBe('anchor-before');
    const second = await authorize(visit, { loginHint: ticketOf(consoleSignInLink(runtime, demoAnchor)) });
    expect(decodeJwt((await exchange(second)).body.access_token ?? '').sub).toBe(demoAnchor);
    // Without a ticket, the session signs in whoever it holds, with no form.
    const third = await authorize(visit);
    expect(decodeJwt((await exchange(third)).body.access_token ?? '').sub).toBe(demoAnchor);
  });

  it('A console opened at 127.0.0.1 returns there, and its token request to the issuer on localhost is allowed by CORS; a foreign origin is not', async () => {
    const [, ipv4] = loopbackOrigins(runtime.url);
    expect(ipv4).toBe(runtime.url.replace('localhost', '127.0.0.1'));
    const outcome = await authorize(cookieBrowser(), { loginHint: ticketOf(consoleSignInLink(runtime)), origin: ipv4 });
    expect(outcome.kind).toBe('code');
    const token = await exchange(outcome, ipv4);
    expect(token.status, JSON.stringify(token.body)).toBe(200);
    expect(token.headers.get('access-control-allow-origin')).toBe(ipv4);
    expect((await listMine(token.body.access_token ?? '')).status).toBe(200);

    const foreign = await exchange(await authorize(cookieBrowser(), { loginHint: ticketOf(consoleSignInLink(runtime)) }), 'http://evil.example');
    expect(foreign.status).toBe(400);
    expect(foreign.headers.get('access-control-allow-origin')).toBeNull();
  });
});

// ---------------------------------------------------------------- a real browser

describe('Chromium (the browser suite’s support) shows the issuer’s bilingual sign-in page', () => {
  let browser: Browser;
  beforeAll(async () => {
    browser = await launchBrowser();
  });
  afterAll(async () => {
    await browser?.close();
  });

  it('At the phone viewport the page renders its Chinese in a CJK font, with no sideways scroll', async () => {
    const { page } = await openPage(browser, 'phone', { locale: 'zh-CN' });
    // An authorization request as the console makes one, without a ticket: the issuer shows its form.
    const start = new URL(`${runtime.issuer.issuer}/auth`);
    const verifier = randomBytes(32).toString('base64url');
    start.search = new URLSearchParams({
      client_id: consoleClientId,
      response_type: 'code',
      redirect_uri: `${runtime.url}/console/callback`,
      scope: 'openid',
      code_challenge: createHash('sha256').update(verifier).digest('base64url'),
      code_challenge_method: 'S256',
    }).toString();
    await page.goto(start.href);
    const heading = page.locator('h1');
    await heading.waitFor();
    expect(await heading.textContent()).toContain('登录');
    expect(await page.locator('label[for=username]').textContent()).toBe('用户名 · Name');

    // Which fonts Chromium drew the heading with (DevTools' "Rendered Fonts"): the Han glyphs come from Noto Sans CJK.
    const cdp = await page.context().newCDPSession(page);
    await cdp.send('DOM.enable');
    await cdp.send('CSS.enable');
    const { root } = await cdp.send('DOM.getDocument');
    const { nodeId } = await cdp.send('DOM.querySelector', { nodeId: root.nodeId, selector: 'h1' });
    const { fonts } = await cdp.send('CSS.getPlatformFontsForNode', { nodeId });
    const cjk = fonts.filter((f) => /Noto Sans CJK/i.test(f.familyName));
    expect(cjk.length, `rendered with ${JSON.stringify(fonts)}`).toBeGreaterThan(0);
    expect(cjk.reduce((n, f) => n + f.glyphCount, 0)).toBeGreaterThanOrEqual('登录'.length);

    await expectNoHorizontalScroll(page);
  });
});

// ---------------------------------------------------------------- last: the clock moves

describe('A ticket expires', () => {
  afterAll(() => {
    vi.useRealTimers();
  });

  it('A ticket used 16 minutes after it was made shows the sign-in form', async () => {
    const ticket = ticketOf(consoleSignInLink(runtime));
    vi.useFakeTimers({ toFake: ['Date'], now: Date.now() + 16 * 60_000 });
    expectSignInForm(await authorize(cookieBrowser(), { loginHint: ticket }), 'expired ticket');
  });
});
