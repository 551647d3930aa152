/**
 * Lambda bundle sizes and cold import times.
 *
 * Every function of lib/topology.ts is bundled with esbuild using the options
 * HouseFunction (lib/aws/house-function.ts) gives NodejsFunction: one minified
 * ES module, packages' ESM builds preferred, external source map without sources,
 * the runtime's Node target, `@aws-sdk/*` left to the Lambda runtime and the
 * `require` banner. The baseline is a bare handler
 * (`export const handler = async () => ({})`) built the same way in the same run.
 *
 * Cold import: for each bundle a fresh `node` process imports it and reports
 * `performance.now()` around `await import(file)`, i.e. what a Lambda init pays
 * for the module graph (the AWS SDK packages it imports included, loaded from
 * node_modules as the Lambda runtime provides them). Median of `rounds`, taken
 * round-robin over the bundles so a noisy moment hits all of them alike; once
 * plain and once with NODE_OPTIONS=--enable-source-maps, which the house sets on
 * every function (Node then reads each bundle's source map at load).
 *
 * Bundles go to a temporary directory outside the project whose `node_modules`
 * is a link to the project's, so nothing is left behind in the tree.
 */
import { spawn } from 'node:child_process';
import { mkdirSync, mkdtempSync, rmSync, statSync, symlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { build } from 'esbuild';
import { esmRequireBanner, houseBundleTarget } from '../lib/aws/house-function.ts';
import { functions } from '../lib/topology.ts';
import { median, num, progress, ratio, type Row, type Section } from './stats.ts';

const projectRoot = fileURLToPath(new URL('../', import.meta.url));

const bareSource = 'export const handler = async () => ({});\n';

const bundle = async (entry: string, outfile: string): Promise<void> => {
  await build({
    entryPoints: [entry],
    outfile,
    bundle: true,
    platform: 'node',
    format: 'esm',
    mainFields: ['module', 'main'],
    minify: true,
    sourcemap: 'external',
    sourcesContent: false,
    target: houseBundleTarget,
    external: ['@aws-sdk/*'],
    banner: { js: esmRequireBanner },
    absWorkingDir: projectRoot,
    logLevel: 'error',
  });
};

const importScript = `
const t0 = performance.now();
const mod = await import(process.argv[1]);
const ms = performance.now() - t0;
if (typeof mod.handler !== 'function') throw new Error('no handler export');
process.stdout.write(JSON.stringify({ ms }));
`;

const coldImport = (file: string, sourceMaps: boolean): Promise<number> =>
  new Promise((resolve, reject) => {
    const child = spawn(process.execPath, ['--input-type=module', '-e', importScript, pathToFileURL(file).href], {
      // What a function's environment holds that matters at import: region and the house's Powertools names.
      env: {
        PATH: process.env.PATH ?? '',
        AWS_REGION: 'us-east-1',
        POWERTOOLS_SERVICE_NAME: 'bench',
        POWERTOOLS_METRICS_NAMESPACE: 'c2m',
        AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED: 'true',
        ...(sourceMaps && { NODE_OPTIONS: '--enable-source-maps' }),
      },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let out = '';
    let err = '';
    child.stdout.on('data', (d: Buffer) => (out += d.toString()));
    child.stderr.on('data', (d: Buffer) => (err += d.toString()));
    child.once('error', reject);
    child.once('exit', (code) => {
      if (code !== 0) return reject(new Error(`importing ${file} failed (${code}): ${err.slice(0, 1000)}`));
      resolve((JSON.parse(out) as { ms: number }).ms);
    });
  });

export const bundles = async (opts: { rounds: number }): Promise<Section> => {
  const dir = mkdtempSync(join(tmpdir(), 'c2m-bench-bundles-'));
  try {
    // Bare specifiers (`@aws-sdk/*`) resolve from here as from the Lambda runtime's own copy.
    symlinkSync(join(projectRoot, 'node_modules'), join(dir, 'node_modules'), 'dir');
    const targets = [
      { name: 'bare handler (baseline)', entry: join(dir, 'bare', 'bare.ts'), out: join(dir, 'bare', 'index.mjs') },
      ...functions.map((f) => ({ name: f.name, entry: join(projectRoot, f.entry), out: join(dir, f.name, 'index.mjs') })),
    ];
    mkdirSync(join(dir, 'bare'));
    writeFileSync(join(dir, 'bare', 'bare.ts'), bareSource);

    progress(`bundles: building ${targets.length} with esbuild`);
    const t0 = performance.now();
    for (const t of targets) await bundle(t.entry, t.out);
    const buildSeconds = (performance.now() - t0) / 1000;

    progress(`bundles: cold imports, ${opts.rounds} rounds × ${targets.length} bundles × (plain, source maps)`);
    const times = new Map(targets.map((t) => [t.name, { plain: [] as number[], maps: [] as number[] }]));
    for (let round = 0; round < opts.rounds; round++) {
      for (const t of targets) {
        const entry = times.get(t.name);
        if (!entry) continue;
        entry.plain.push(await coldImport(t.out, false));
        entry.maps.push(await coldImport(t.out, true));
      }
    }

    const bare = targets[0];
    const bareTimes = bare ? times.get(bare.name) : undefined;
    if (!bare || !bareTimes) throw new Error('no baseline');
    const bareSize = statSync(bare.out).size;
    const bareMs = median(bareTimes.plain);
    const bareMapsMs = median(bareTimes.maps);
    const rows: Row[] = targets.map((t) => {
      const size = statSync(t.out).size;
      const map = statSync(`${t.out}.map`).size;
      const entry = times.get(t.name) ?? { plain: [], maps: [] };
      const plain = median(entry.plain);
      const maps = median(entry.maps);
      return {
        figure: t === bare ? t.name : `${t.name} (${(size / 1024).toFixed(0)} KB, map ${(map / 1024).toFixed(0)} KB)`,
        value: `${num(plain)} ms; ${num(maps)} ms with maps`,
        baseline: t === bare ? `${(size / 1024).toFixed(2)} KB` : `${num(bareMs, 2)} ms; ${num(bareMapsMs, 2)} ms`,
        ratio: t === bare ? '1.00×' : `${ratio(plain, bareMs)}; ${ratio(maps, bareMapsMs)}`,
      };
    });
    const sizes = targets.slice(1).map((t) => statSync(t.out).size);
    const perBundle = targets.slice(1).map((t) => {
      const entry = times.get(t.name) ?? { plain: [], maps: [] };
      // With source maps: what a Lambda init pays (the house sets --enable-source-maps).
      return { name: t.name, kb: Math.round(statSync(t.out).size / 102.4) / 10, coldImportRatio: median(entry.maps) / bareMapsMs };
    });
    return {
      id: 'bundles',
      figures: { bundles: perBundle },
      title: 'Lambda bundles: size and cold import',
      setup:
        `Every function of lib/topology.ts bundled by esbuild with HouseFunction's options (ESM, minified, target ${houseBundleTarget}, @aws-sdk/* external, external source map) in ${num(buildSeconds, 1)} s; ` +
        `then each imported by a fresh \`node\` process, median of ${opts.rounds} (Node ${process.version} here; Lambda runs Node 24 on arm64). ` +
        `Baseline: a bare handler, ${bareSize} bytes, built and imported the same way.`,
      columns: ['bundle (size, source map)', 'cold import (median): plain; with --enable-source-maps', 'bare handler', 'ratio'],
      rows,
      notes: [
        `Sizes: ${(Math.min(...sizes) / 1024).toFixed(0)}–${(Math.max(...sizes) / 1024).toFixed(0)} KB; tests/infra/bundles.test.ts holds each under 1.5 MB.`,
        'Import time covers the module graph only (SDK clients and Powertools are built at module scope, no network); a Lambda cold start adds the runtime\'s own start and, on the first call, credentials and connections.',
        'The house sets NODE_OPTIONS=--enable-source-maps on every function: the second figure is the one a Lambda init pays.',
      ],
    };
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
};
