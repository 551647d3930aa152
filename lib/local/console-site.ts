import { spawn } from 'node:child_process';
import { createHash, randomBytes } from 'node:crypto';
import { existsSync, mkdirSync, readdirSync, readFileSync, renameSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { readFile, stat } from 'node:fs/promises';
import type { IncomingMessage, ServerResponse } from 'node:http';
import { tmpdir } from 'node:os';
import { extname, join, resolve, sep } from 'node:path';
import { fileURLToPath } from 'node:url';

/**
 * The anchors' console as the local runtime serves it at `/console`: the Vite
 * build in `console/dist` (long-cached hashed assets, an index.html that is
 * never cached and answers every History route), the `config.json` the console
 * reads at start (generated here, as the deploy writes it on AWS), and the
 * security headers CloudFront adds in production.
 */

const projectRoot = fileURLToPath(new URL('../../', import.meta.url));

/** Where the console's project lives: vite.config.ts, and its build in dist/. */
export const defaultConsoleDir = join(projectRoot, 'console');

export const consoleDistOf = (dir: string) => join(dir, 'dist');
export const consoleBuilt = (dir: string) => existsSync(join(consoleDistOf(dir), 'index.html'));

/** The newest modification time among the files a build reads (index.html, vite.config.ts, public/ and src/). */
const newestSource = (dir: string): number => {
  let newest = 0;
  const visit = (path: string) => {
    const stat = statSync(path, { throwIfNoEntry: false });
    if (!stat) return;
    if (stat.isDirectory()) for (const entry of readdirSync(path)) visit(join(path, entry));
    else newest = Math.max(newest, stat.mtimeMs);
  };
  for (const entry of ['index.html', 'vite.config.ts', 'public', 'src']) visit(join(dir, entry));
  return newest;
};

/** Built, and not older than its sources: an edited console is rebuilt on the next start rather than served stale. */
export const consoleCurrent = (dir: string) =>
  consoleBuilt(dir) && (statSync(join(consoleDistOf(dir), 'index.html')).mtimeMs >= newestSource(dir));

/** What `/console/config.json` says. `apiUrl` is absent: the API is on the console's own origin. */
export interface ConsoleConfig {
  readonly issuer: string;
  readonly clientId: string;
}

const mount = '/console';
const hashedAssets = 'assets/';

const contentTypes: Record<string, string> = {
  '.html': 'text/html; charset=utf-8',
  '.js': 'text/javascript; charset=utf-8',
  '.mjs': 'text/javascript; charset=utf-8',
  '.css': 'text/css; charset=utf-8',
  '.json': 'application/json; charset=utf-8',
  '.map': 'application/json; charset=utf-8',
  '.webmanifest': 'application/manifest+json; charset=utf-8',
  '.txt': 'text/plain; charset=utf-8',
  '.svg': 'image/svg+xml',
  '.png': 'image/png',
  '.jpg': 'image/jpeg',
  '.jpeg': 'image/jpeg',
  '.gif': 'image/gif',
  '.webp': 'image/webp',
  '.avif': 'image/avif',
  '.ico': 'image/x-icon',
  '.woff': 'font/woff',
  '.woff2': 'font/woff2',
  '.ttf': 'font/ttf',
  '.otf': 'font/otf',
  '.wasm': 'application/wasm',
};

const cache = {
  /** Vite names them by content hash: a new build is a new name. */
  hashed: 'public, max-age=31536000, immutable',
  /** index.html and other unhashed files: always revalidated, so a new build shows at the next load. */
  revalidate: 'no-cache',
  none: 'no-store',
} as const;

/**
 * Production's response headers (lib/aws/console-hosting.ts, the CloudFront
 * policy), for this origin: the console runs only its own code, talks to its own
 * origin and to the issuer (another origin when the browser came by 127.0.0.1 and
 * the issuer is named localhost), and is never framed. The CSP is the same string
 * as `consoleContentSecurityPolicy([issuer origin])` there (a test holds them
 * equal); it is not imported, to keep aws-cdk-lib out of `npm start`. No HSTS:
 * this is plain http on loopback, and HSTS on localhost would outlive it.
 */
export const consoleSecurityHeaders = (issuer: string): Record<string, string> => ({
  'content-security-policy': [
    "default-src 'self'",
    "script-src 'self'",
    "style-src 'self'",
    "img-src 'self' data:",
    "font-src 'self'",
    `connect-src 'self' ${new URL(issuer).origin}`,
    "object-src 'none'",
    "base-uri 'self'",
    "form-action 'self'",
    "frame-ancestors 'none'",
  ].join('; '),
  'x-content-type-options': 'nosniff',
  'x-frame-options': 'DENY',
  'referrer-policy': 'strict-origin-when-cross-origin',
  'permissions-policy': 'camera=(), microphone=(), geolocation=(), payment=()',
});

export interface ConsoleSite {
  /** Answers a request under `/console`; false when the path is not the console's. */
  handle(req: IncomingMessage, res: ServerResponse): boolean;
}

/** What a request under the mount asks for, or why it may not ask. */
type Target =
  | { kind: 'redirect'; location: string }
  | { kind: 'config' }
  | { kind: 'file'; rel: string }
  | { kind: 'refused'; status: 400; why: string }
  | { kind: 'missing' };

/**
 * Reads the raw request target, before any URL normalisation: `..`, `.`, an
 * empty segment, a backslash or a NUL, encoded or not, is refused, and the
 * resolved path must still lie inside the build.
 */
const targetOf = (rawUrl: string): Target | undefined => {
  const q = rawUrl.indexOf('?');
  const rawPath = q === -1 ? rawUrl : rawUrl.slice(0, q);
  const search = q === -1 ? '' : rawUrl.slice(q);
  if (rawPath === mount) return { kind: 'redirect', location: `${mount}/${search}` };
  if (!rawPath.startsWith(`${mount}/`)) return undefined;
  let rel: string;
  try {
    rel = decodeURIComponent(rawPath.slice(mount.length + 1));
  } catch {
    return { kind: 'refused', status: 400, why: 'The path is not valid percent-encoding' };
  }
  if (/[\\\0]/.test(rel)) return { kind: 'refused', status: 400, why: 'The path may not hold a backslash or NUL' };
  const segments = rel.split('/');
  if (segments.some((s, i) => s === '.' || s === '..' || (s === '' && i < segments.length - 1))) {
    return { kind: 'refused', status: 400, why: 'The path may not hold ".", ".." or empty segments' };
  }
  if (rel === 'config.json') return { kind: 'config' };
  // Dot files are never part of a build (and a stray .env must not be served).
  if (segments.some((s) => s.startsWith('.'))) return { kind: 'missing' };
  return { kind: 'file', rel: rel === '' || rel.endsWith('/') ? `${rel}index.html` : rel };
};

export const consoleSite = (opts: { readonly dir: string; readonly config: ConsoleConfig }): ConsoleSite => {
  const dist = resolve(consoleDistOf(opts.dir));
  const security = consoleSecurityHeaders(opts.config.issuer);
  const configBody = JSON.stringify({ issuer: opts.config.issuer, clientId: opts.config.clientId });

  const send = (req: IncomingMessage, res: ServerResponse, status: number, headers: Record<string, string>, body: Buffer | string) => {
    const bytes = typeof body === 'string' ? Buffer.from(body, 'utf8') : body;
    res.writeHead(status, { ...security, 'content-length': String(bytes.length), ...headers });
    res.end(req.method === 'HEAD' ? undefined : bytes);
  };
  const text = (req: IncomingMessage, res: ServerResponse, status: number, message: string) =>
    send(req, res, status, { 'content-type': 'text/plain; charset=utf-8', 'cache-control': cache.none }, `${message}\n`);

  /** A regular file inside the build, or undefined. */
  const fileIn = async (rel: string): Promise<string | undefined> => {
    const file = resolve(dist, rel);
    if (!file.startsWith(`${dist}${sep}`)) return undefined;
    const found = await stat(file).catch(() => undefined);
    return found?.isFile() ? file : undefined;
  };

  const serve = async (req: IncomingMessage, res: ServerResponse, target: Target) => {
    switch (target.kind) {
      case 'redirect':
        return send(req, res, 302, { location: target.location, 'cache-control': cache.none }, '');
      case 'refused':
        return text(req, res, target.status, target.why);
      case 'config':
        return send(req, res, 200, { 'content-type': contentTypes['.json'] as string, 'cache-control': cache.none }, configBody);
      case 'missing':
        return text(req, res, 404, 'Not found');
      case 'file': {
        const index = await fileIn('index.html');
        if (!index) return text(req, res, 503, 'The console is not built: run `npm run console:build` (`npm start` builds it when it is missing).');
        const file = await fileIn(target.rel);
        if (file) {
          const type = contentTypes[extname(file).toLowerCase()] ?? 'application/octet-stream';
          const caching = target.rel.startsWith(hashedAssets) ? cache.hashed : cache.revalidate;
          return send(req, res, 200, { 'content-type': type, 'cache-control': caching }, await readFile(file));
        }
        // A History route (/console/callback, /console/campaigns/x) is any extensionless path outside the assets.
        const last = target.rel.split('/').pop() ?? '';
        if (target.rel.startsWith(hashedAssets) || last.includes('.')) return text(req, res, 404, 'Not found');
        return send(req, res, 200, { 'content-type': contentTypes['.html'] as string, 'cache-control': cache.revalidate }, await readFile(index));
      }
    }
  };

  return {
    handle: (req, res) => {
      const target = targetOf(req.url ?? '/');
      if (!target) return false;
      if (req.method !== 'GET' && req.method !== 'HEAD') {
        res.writeHead(405, { ...security, allow: 'GET, HEAD', 'content-type': 'text/plain; charset=utf-8', 'cache-control': cache.none });
        res.end('Method not allowed\n');
        return true;
      }
      serve(req, res, target).catch((err: unknown) => {
        process.stderr.write(`${JSON.stringify({ level: 'ERROR', message: 'console site failure', error: String(err) })}\n`);
        if (!res.headersSent) text(req, res, 500, 'Internal error');
        else res.destroy();
      });
      return true;
    },
  };
};

// ---------------------------------------------------------------- building it when missing

export class ConsoleBuildError extends Error {}

const viteCli = join(projectRoot, 'node_modules', 'vite', 'bin', 'vite.js');
const lockWaitMs = 10 * 60_000;

const alive = (pid: number) => {
  try {
    process.kill(pid, 0);
    return true;
  } catch (err) {
    return (err as NodeJS.ErrnoException).code === 'EPERM';
  }
};

/**
 * One build at a time per console folder, across processes (test files run in
 * several workers; `npm start` may run beside them): a directory made atomically,
 * holding its owner's pid, taken over when that owner is gone.
 */
const withBuildLock = async <T>(dir: string, fn: () => Promise<T>): Promise<T> => {
  const lock = join(tmpdir(), `c2m-console-build-${createHash('sha256').update(resolve(dir)).digest('hex').slice(0, 16)}`);
  const deadline = Date.now() + lockWaitMs;
  for (;;) {
    try {
      mkdirSync(lock);
      writeFileSync(join(lock, 'pid'), String(process.pid));
      break;
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code !== 'EEXIST') throw err;
      let owner = 0;
      try {
        owner = Number(readFileSync(join(lock, 'pid'), 'utf8')) || 0;
      } catch {
        // no pid yet, or the lock was just released
      }
      const age = Date.now() - (statSync(lock, { throwIfNoEntry: false })?.mtimeMs ?? Date.now());
      // A lock without a pid yet is being taken: only older than a few seconds is it abandoned.
      if ((owner > 0 && !alive(owner)) || (owner === 0 && age > 5_000)) rmSync(lock, { recursive: true, force: true });
      else if (Date.now() > deadline) throw new ConsoleBuildError(`another process has been building the console for over ${lockWaitMs / 60_000} minutes (lock ${lock})`);
      else await new Promise((r) => setTimeout(r, 200));
    }
  }
  try {
    return await fn();
  } finally {
    rmSync(lock, { recursive: true, force: true });
  }
};

const runVite = (dir: string, outDir: string) =>
  new Promise<void>((resolvePromise, reject) => {
    // The developer's environment minus a test runner's: NODE_ENV=test would make a development bundle.
    const env = Object.fromEntries(Object.entries(process.env).filter(([name]) => !/^(VITEST|NODE_ENV$|NODE_OPTIONS$)/.test(name)));
    const child = spawn(
      process.execPath,
      [viteCli, 'build', dir, '--config', join(dir, 'vite.config.ts'), '--outDir', outDir, '--emptyOutDir', '--logLevel', 'warn'],
      { cwd: dir, env: { ...env, NODE_ENV: 'production' }, stdio: ['ignore', 'pipe', 'pipe'] },
    );
    let output = '';
    const keep = (d: Buffer) => {
      output = (output + d.toString()).slice(-8_000);
    };
    child.stdout.on('data', keep);
    child.stderr.on('data', keep);
    child.once('error', reject);
    child.once('exit', (code, signal) =>
      code === 0 ? resolvePromise() : reject(new ConsoleBuildError(`vite build of ${dir} failed (${signal ?? `exit ${code}`}):\n${output.trim()}`)),
    );
  });

/**
 * Builds the console when `dist/index.html` is missing or older than its sources, with the project's vite
 * (`vite build --config <dir>/vite.config.ts`), into a staging folder renamed to
 * `dist` at the end: a reader never sees half a build. `onBuild` is told one line
 * before a build starts.
 *
 * @returns `present` (nothing to do), `built`, or `absent` (no console project to build)
 */
export const ensureConsoleBuilt = async (opts: { dir?: string; onBuild?: (line: string) => void } = {}): Promise<'present' | 'built' | 'absent'> => {
  const dir = resolve(opts.dir ?? defaultConsoleDir);
  if (consoleCurrent(dir)) return 'present';
  if (!existsSync(join(dir, 'vite.config.ts'))) return consoleBuilt(dir) ? 'present' : 'absent';
  return withBuildLock(dir, async () => {
    // Built by whoever held the lock before.
    if (consoleCurrent(dir)) return 'present';
    const why = consoleBuilt(dir) ? 'is older than its sources' : 'is missing';
    opts.onBuild?.(`Building the console (${join(dir, 'dist', 'index.html')} ${why})…`);
    // What a build interrupted by Ctrl-C left (its process is gone); git ignores them meanwhile.
    for (const entry of readdirSync(dir)) {
      const owner = /^\.dist-building-(\d+)-/.exec(entry)?.[1];
      if (owner && !alive(Number(owner))) rmSync(join(dir, entry), { recursive: true, force: true });
    }
    const staging = join(dir, `.dist-building-${process.pid}-${randomBytes(4).toString('hex')}`);
    try {
      await runVite(dir, staging);
      if (!existsSync(join(staging, 'index.html'))) throw new ConsoleBuildError(`vite build of ${dir} wrote no index.html`);
      rmSync(consoleDistOf(dir), { recursive: true, force: true });
      renameSync(staging, consoleDistOf(dir));
    } finally {
      rmSync(staging, { recursive: true, force: true });
    }
    return 'built';
  });
};
