/**
 * Lambda bundle sizes and cold import times.
 *
 * Every function of lib/topology.ts is bundled with esbuild using the options
 * HouseFunction (lib/aws/house-function.ts) gives NodejsFunction: one minified
 * ES module, packages' ESM builds preferred, external source map without sources,
 * the runtime's Node target, `@aws-sdk/*` left to the Lambda runtime and the
 * `require` banner. Each function's baseline (issue 15) is a bare handler that
 * imports the same AWS SDK packages the function's bundle imports and builds
 * their clients at module scope (`new DynamoDBClient({})`,
 * `DynamoDBDocumentClient.from(…)`, …), built and imported the same way in the
 * same run: what any handler talking to those services pays, so the ratio is
 * what c2m's own code adds. A handler with nothing at all is shown too.
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

/** The client each SDK package's baseline builds, as the functions build theirs. */
const sdkClients: Readonly<Record<string, ((m: string, all: ReadonlyMap<string, string>) => string) | null>> = {
  // Helpers with no client of their own: imported only.
  '@aws-sdk/util-dynamodb': null,
  '@aws-sdk/client-dynamodb': (m) => `new ${m}.DynamoDBClient({})`,
  '@aws-sdk/lib-dynamodb': (m, all) => `${m}.DynamoDBDocumentClient.from(new ${all.get('@aws-sdk/client-dynamodb') ?? 'missing'}.DynamoDBClient({}))`,
  '@aws-sdk/client-sqs': (m) => `new ${m}.SQSClient({})`,
  '@aws-sdk/client-eventbridge': (m) => `new ${m}.EventBridgeClient({})`,
  '@aws-sdk/client-scheduler': (m) => `new ${m}.SchedulerClient({})`,
  '@aws-sdk/client-sns': (m) => `new ${m}.SNSClient({})`,
  '@aws-sdk/client-kms': (m) => `new ${m}.KMSClient({})`,
  '@aws-sdk/client-secrets-manager': (m) => `new ${m}.SecretsManagerClient({})`,
  '@aws-sdk/client-cognito-identity-provider': (m) => `new ${m}.CognitoIdentityProviderClient({})`,
};

/** A bare handler importing `packages` and building their clients, as a function does at module scope. */
export const sdkBaselineSource = (packages: readonly string[]): string => {
  const names = new Map(packages.map((p, i) => [p, `m${i}`]));
  const clients = packages.flatMap((p) => {
    const make = sdkClients[p];
    if (make === undefined) throw new Error(`the bench does not know which client ${p} builds: add it to sdkClients in bench/bundles.ts`);
    return make === null ? [] : [make(names.get(p) ?? '', names)];
  });
  return [
    ...packages.map((p) => `import * as ${names.get(p)} from '${p}';`),
    `const clients = [${clients.join(', ')}];`,
    'export const handler = async () => ({ clients: clients.length });',
    '',
  ].join('\n');
};

/** Bundles `entry`; returns the external packages the bundle imports (the AWS SDK's, left to the runtime). */
const bundle = async (entry: string, outfile: string): Promise<string[]> => {
  const result = await build({
    metafile: true,
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
  const outputs = Object.values(result.metafile.outputs).filter((o) => o.entryPoint !== undefined);
  return [...new Set(outputs.flatMap((o) => o.imports.filter((i) => i.external && i.path.startsWith('@aws-sdk/')).map((i) => i.path)))].sort();
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
    const bare = { name: 'bare handler', entry: join(dir, 'bare', 'bare.ts'), out: join(dir, 'bare', 'index.mjs') };
    mkdirSync(join(dir, 'bare'));
    writeFileSync(bare.entry, bareSource);
    progress(`bundles: building ${functions.length} functions and their baselines with esbuild`);
    const t0 = performance.now();
    await bundle(bare.entry, bare.out);
    const fns: Array<{ name: string; out: string; baseline: string; sdk: string[] }> = [];
    for (const f of functions) {
      const out = join(dir, f.name, 'index.mjs');
      const sdk = await bundle(join(projectRoot, f.entry), out);
      const baselineEntry = join(dir, `${f.name}-baseline`, 'baseline.ts');
      mkdirSync(join(dir, `${f.name}-baseline`));
      writeFileSync(baselineEntry, sdkBaselineSource(sdk));
      const baseline = join(dir, `${f.name}-baseline`, 'index.mjs');
      await bundle(baselineEntry, baseline);
      fns.push({ name: f.name, out, baseline, sdk });
    }
    const buildSeconds = (performance.now() - t0) / 1000;

    const files = [bare.out, ...fns.flatMap((f) => [f.baseline, f.out])];
    progress(`bundles: cold imports, ${opts.rounds} rounds × ${files.length} bundles × (plain, source maps)`);
    const times = new Map(files.map((file) => [file, { plain: [] as number[], maps: [] as number[] }]));
    for (let round = 0; round < opts.rounds; round++) {
      for (const file of files) {
        const entry = times.get(file);
        if (!entry) continue;
        entry.plain.push(await coldImport(file, false));
        entry.maps.push(await coldImport(file, true));
      }
    }
    const medians = (file: string) => {
      const entry = times.get(file) ?? { plain: [], maps: [] };
      return { plain: median(entry.plain), maps: median(entry.maps) };
    };

    const bareMs = medians(bare.out);
    const rows: Row[] = [
      {
        figure: `bare handler, nothing imported (${(statSync(bare.out).size / 1024).toFixed(2)} KB)`,
        value: `${num(bareMs.plain, 1)} ms; ${num(bareMs.maps, 1)} ms with maps`,
        baseline: '',
        ratio: '',
      },
      ...fns.map((f) => {
        const size = statSync(f.out).size;
        const map = statSync(`${f.out}.map`).size;
        const own = medians(f.out);
        const base = medians(f.baseline);
        return {
          figure: `${f.name} (${(size / 1024).toFixed(0)} KB, map ${(map / 1024).toFixed(0)} KB)`,
          value: `${num(own.plain)} ms; ${num(own.maps)} ms with maps`,
          baseline: `${num(base.plain)} ms; ${num(base.maps)} ms (${f.sdk.map((p) => p.replace('@aws-sdk/', '')).join(', ') || 'no SDK'})`,
          ratio: `${ratio(own.plain, base.plain)}; ${ratio(own.maps, base.maps)}`,
        };
      }),
    ];
    const sizes = fns.map((f) => statSync(f.out).size);
    const perBundle = fns.map((f) => ({
      name: f.name,
      kb: Math.round(statSync(f.out).size / 102.4) / 10,
      // With source maps: what a Lambda init pays (the house sets --enable-source-maps).
      coldImportRatio: medians(f.out).maps / medians(f.baseline).maps,
    }));
    const worst = perBundle.reduce((a, b) => (b.coldImportRatio > a.coldImportRatio ? b : a));
    return {
      id: 'bundles',
      figures: { bundles: perBundle },
      title: 'Lambda bundles: size and cold import',
      setup:
        `Every function of lib/topology.ts bundled by esbuild with HouseFunction's options (ESM, minified, target ${houseBundleTarget}, @aws-sdk/* external, external source map) in ${num(buildSeconds, 1)} s; ` +
        `then each imported by a fresh \`node\` process, median of ${opts.rounds} (Node ${process.version} here; Lambda runs Node 24 on arm64). ` +
        'Baseline, per function: a bare handler that imports the same AWS SDK packages as its bundle (named in the column) and builds their clients at module scope, built and imported the same way.',
      columns: ['bundle (size, source map)', 'cold import (median): plain; with --enable-source-maps', 'its SDK baseline: plain; with maps (packages)', 'ratio'],
      rows,
      notes: [
        `Sizes: ${(Math.min(...sizes) / 1024).toFixed(0)}–${(Math.max(...sizes) / 1024).toFixed(0)} KB (issue 15: each ≤ 300 KB; tests/infra/bundles.test.ts holds them to it). Cold import over its SDK baseline, with maps: at most ${num(worst.coldImportRatio, 2)}× (${worst.name}; issue 15: ≤ 2×).`,
        'Import time covers the module graph only (SDK clients and Powertools are built at module scope, no network); a Lambda cold start adds the runtime\'s own start and, on the first call, credentials and connections.',
        'The house sets NODE_OPTIONS=--enable-source-maps on every function: the second figure is the one a Lambda init pays.',
      ],
    };
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
};
