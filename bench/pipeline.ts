/**
 * The pipeline benchmarks: ingestion, latency, write units per pre-order and the
 * hottest item of a burst. They run against one local runtime (the same handler
 * modules Lambda runs, in this process) on one in-memory DynamoDB Local, with the
 * clients in a separate process (bench/load-client.ts).
 *
 * Decisions, so the figures can be read without the code:
 * - Every campaign here is uncapped (64 gates, decision 3) and every pre-order is
 *   one unit of one variant, sent with its own Idempotency-Key by one of 1,000
 *   buyers (a live room is many buyers, each with a token the gateway's
 *   authorizer checks once and caches, as API Gateway does).
 * - Ingestion and burst campaigns have a lot size no burst reaches, so no batch
 *   is cut while they run: what is measured is what scales with the burst
 *   (request path, intake with its "accepted" notices). Cutting is serialised per
 *   campaign by its lease and runs at the cutter's pace, not the burst's; the
 *   write-units section measures it per pre-order by closing a campaign.
 * - The pipeline's follow-up work (intake, the notifier) runs while the burst runs, as
 *   it does on AWS, and competes for the same DynamoDB Local; the queues are
 *   drained before any count is read.
 */
import { spawn } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { DynamoDBDocumentClient, GetCommand, PutCommand } from '@aws-sdk/lib-dynamodb';
import type { LocalRuntime } from '../lib/local/runtime.ts';
import { localCredentials, localRegion } from '../lib/local/dynamodb.ts';
import { failedWriteUnitsAws, isWrite, keyPattern, resetCapacity, totalFailures, type CapacityTotals, type Failures } from './capacity.ts';
import { nodeCpuSeconds, treeCpuSeconds } from './cpu.ts';
import { defaultTableWriteQuota, prices } from './prices.ts';
import { functionSpec, tableStreams, type FunctionName } from '../lib/topology.ts';
import { Job, LatencyResult, ThroughputResult } from './load-client.ts';
import { apiClient } from '../demo/support/api-client.ts';
import { campaignDraft, preorderDraft, registerFactory } from '../demo/support/fixtures.ts';
import { median, num, percentile, progress, ratio, type Row, type Section } from './stats.ts';

const projectRoot = fileURLToPath(new URL('../', import.meta.url));
const loadClient = fileURLToPath(new URL('./load-client.ts', import.meta.url));

export interface Counts {
  /** Pre-orders per ingestion run (and its raw-put baseline). */
  readonly ingest: number;
  /** Pre-orders in the one-variant burst of the hot-item figure (the issue asks 20,000). */
  readonly burst: number;
  /** Sequential samples of the latency section. */
  readonly latencySamples: number;
  /** Pre-orders whose write units are followed through the pipeline. */
  readonly wcu: number;
  /** Requests in flight from the load client. */
  readonly concurrency: number;
  /** Warm-up pre-orders before anything is timed. */
  readonly warmup: number;
}

export interface PipelineContext {
  readonly runtime: LocalRuntime;
  readonly counts: Counts;
  readonly drainTimeoutMs: number;
  /** DynamoDB Local's process (its shell watchdog), whose CPU time is counted apart from Node's. */
  readonly dynamoPid?: number;
}

const anchorId = 'anchor-bench';
const buyerCount = 1_000;
const gateShards = 64;
/** A lot size no run here reaches: nothing is cut while a burst runs (see above). */
const noCuts = 1_000_000;

/** One unit of the Medium (demo/support/fixtures.ts, as the tests send it). */
const preorderBody = preorderDraft();

const campaignBody = (lotSize: number) =>
  campaignDraft({ factoryId: 'factory-bench', closesAt: new Date(Date.now() + 6 * 3600_000).toISOString(), lotSize });

/**
 * The bench's actors, with tokens from the runtime's issuer (asked once per
 * runtime, before anything is timed), and its factory registered by an operator.
 */
const tokenSets = new WeakMap<LocalRuntime, Promise<{ anchor: string; buyers: string[] }>>();
const tokensOf = (runtime: LocalRuntime) => {
  let set = tokenSets.get(runtime);
  if (!set) {
    set = (async () => {
      const operator = await runtime.token('operator', 'operator-bench');
      await registerFactory(as(runtime, operator), 'factory-bench', 'Bench Works');
      const buyers = new Array<string>(buyerCount);
      let next = 0;
      await Promise.all(
        Array.from({ length: 16 }, async () => {
          while (next < buyerCount) {
            const i = next++;
            buyers[i] = await runtime.token('buyer', `buyer-${i}`);
          }
        }),
      );
      return { anchor: await runtime.token('anchor', anchorId), buyers };
    })();
    tokenSets.set(runtime, set);
  }
  return set;
};

let runSeq = 0;
/** Idempotency-Key prefixes unique to this run, so no two jobs share a pre-order id. */
const keyPrefix = (label: string) => `bench-${process.pid}-${Date.now().toString(36)}-${label}-${runSeq++}`;

/** The runtime's API as one actor, whose token was asked for before anything was timed; no retries (set-up, not load). */
const as = (runtime: LocalRuntime, token: string) => apiClient({ baseUrl: runtime.url, token: () => token });

const openCampaign = async (runtime: LocalRuntime, lotSize: number): Promise<string> => {
  const { anchor } = await tokensOf(runtime);
  const res = await as(runtime, anchor).post('/v1/campaigns', campaignBody(lotSize));
  if (res.status !== 201 || typeof res.body.campaignId !== 'string') throw new Error(`campaign not created: ${res.status} ${JSON.stringify(res.body)}`);
  if (res.body.status !== 'OPEN') throw new Error(`campaign is ${String(res.body.status)}, not OPEN`);
  return res.body.campaignId;
};

/** Runs one job in the load-client process. */
const runJob = async (job: Job): Promise<unknown> => {
  const child = spawn(process.execPath, ['--import', 'tsx', loadClient], {
    cwd: projectRoot,
    stdio: ['pipe', 'pipe', 'inherit'],
    env: { ...process.env, AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED: 'true' },
  });
  let out = '';
  child.stdout.on('data', (d: Buffer) => {
    out += d.toString();
  });
  const exited = new Promise<number | null>((resolve, reject) => {
    child.once('error', reject);
    child.once('exit', (code) => resolve(code));
  });
  child.stdin.end(JSON.stringify(job));
  const code = await exited;
  if (code !== 0) throw new Error(`load client (${job.kind}) exited with ${code}`);
  return JSON.parse(out) as unknown;
};

const preorders = async (runtime: LocalRuntime, campaignId: string, count: number, concurrency: number, label: string) =>
  ThroughputResult.parse(
    await runJob({
      kind: 'preorders',
      url: runtime.url,
      campaignId,
      tokens: (await tokensOf(runtime)).buyers,
      body: preorderBody,
      count,
      concurrency,
      keyPrefix: keyPrefix(label),
    }),
  );

const drain = async (ctx: PipelineContext): Promise<number> => {
  const t0 = performance.now();
  await ctx.runtime.emulator.drain(ctx.drainTimeoutMs);
  const dead = (['notifications', 'batch-cuts', 'campaign-clock'] as const)
    .map((q) => ({ q, dead: ctx.runtime.emulator.depth(q).dead }))
    .filter((d) => d.dead > 0);
  if (dead.length > 0) throw new Error(`messages went to dead-letter queues: ${JSON.stringify(dead)}`);
  return performance.now() - t0;
};

const benchClient = (runtime: LocalRuntime) =>
  DynamoDBDocumentClient.from(new DynamoDBClient({ endpoint: runtime.dynamoEndpoint, region: localRegion, credentials: localCredentials }));

const indexAttributes = ['GSI1PK', 'GSI1SK', 'GSI2PK', 'GSI2SK', 'GSI3PK', 'GSI3SK'];

/**
 * A real pre-order item as the pipeline stored it, without its index keys: the
 * record one plain durable write would store. Places one pre-order to get it.
 */
const preorderTemplate = async (runtime: LocalRuntime, campaignId: string): Promise<Record<string, unknown>> => {
  const buyer = (await tokensOf(runtime)).buyers[0] as string;
  const res = await as(runtime, buyer).post(`/v1/campaigns/${campaignId}/preorders`, preorderBody);
  if (res.status !== 202 || typeof res.body.preorderId !== 'string') throw new Error(`template pre-order refused: ${res.status}`);
  const client = benchClient(runtime);
  const got = await client.send(
    new GetCommand({ TableName: runtime.tableName, Key: { PK: `PREORDER#${res.body.preorderId}`, SK: 'PREORDER' }, ConsistentRead: true }),
  );
  client.destroy();
  if (!got.Item) throw new Error('template pre-order not found');
  const item = Object.fromEntries(Object.entries(got.Item).filter(([k]) => !indexAttributes.includes(k) && k !== 'PK' && k !== 'SK'));
  // The same item under another type name (the same size): the table's stream would otherwise hand these
  // copies to intake as pre-orders, and the baseline would be loading the pipeline it is measured against.
  return { ...item, type: 'bench-raw' };
};

const itemBytes = (item: Record<string, unknown>): number =>
  // Close to DynamoDB's item size (attribute names + values) for a report; not billing-exact.
  Buffer.byteLength(JSON.stringify(item));

const warmUp = async (ctx: PipelineContext, campaignId: string) => {
  progress(`warm-up: ${ctx.counts.warmup} pre-orders`);
  await preorders(ctx.runtime, campaignId, ctx.counts.warmup, ctx.counts.concurrency, 'warmup');
  await drain(ctx);
};

/** Ingestion throughput and accept latency under load, next to raw PutItem from the same client. */
export const ingestion = async (ctx: PipelineContext): Promise<Section> => {
  const { runtime, counts } = ctx;
  const campaignId = await openCampaign(runtime, noCuts);
  await warmUp(ctx, campaignId);
  const template = await preorderTemplate(runtime, campaignId);

  progress(`ingestion baseline: ${counts.ingest} raw PutItem, ${counts.concurrency} in flight`);
  const raw = ThroughputResult.parse(
    await runJob({
      kind: 'raw-put',
      endpoint: runtime.dynamoEndpoint,
      region: localRegion,
      tableName: runtime.tableName,
      item: template,
      count: counts.ingest,
      concurrency: counts.concurrency,
      keyPrefix: keyPrefix('raw'),
    }),
  );
  await drain(ctx);

  progress(`ingestion: ${counts.ingest} pre-orders over HTTP, ${counts.concurrency} in flight`);
  const run = await preorders(runtime, campaignId, counts.ingest, counts.concurrency, 'ingest');
  const drainMs = await drain(ctx);

  const rate = (run.done / run.durationMs) * 1000;
  const rawRate = (raw.done / raw.durationMs) * 1000;
  const refused = Object.entries(run.statuses).filter(([s]) => s !== '202');
  const rows: Row[] = [
    { figure: 'pre-orders accepted per second (202)', value: num(rate), baseline: `${num(rawRate)} PutItem/s`, ratio: ratio(rate, rawRate) },
    {
      figure: 'accept latency p50 (ms)',
      value: num(percentile(run.latenciesMs, 50)),
      baseline: num(percentile(raw.latenciesMs, 50)),
      ratio: ratio(percentile(run.latenciesMs, 50), percentile(raw.latenciesMs, 50)),
    },
    {
      figure: 'accept latency p99 (ms)',
      value: num(percentile(run.latenciesMs, 99)),
      baseline: num(percentile(raw.latenciesMs, 99)),
      ratio: ratio(percentile(run.latenciesMs, 99), percentile(raw.latenciesMs, 99)),
    },
    {
      figure: 'follow-up drained after the last 202 (s)',
      value: num(drainMs / 1000, 2),
      baseline: '',
      ratio: '',
    },
  ];
  return {
    id: 'ingest',
    figures: { ingestRatio: rate / rawRate, preordersPerSecLocal: rate, rawPutItemPerSecLocal: rawRate },
    title: 'Ingestion: pre-orders accepted over HTTP',
    setup:
      `${run.done.toLocaleString('en-US')} pre-orders (1 unit, one variant, 1,000 buyers, own Idempotency-Keys) posted by ${counts.concurrency} concurrent clients ` +
      `to one open uncapped campaign on the local runtime, after ${counts.warmup} warm-up pre-orders. Baseline: ` +
      `${raw.done.toLocaleString('en-US')} plain PutItem calls of the same pre-order item (${itemBytes(template)} bytes, no index keys) into the same DynamoDB Local table, same client process and concurrency.`,
    rows,
    notes: [
      `Answers other than 202: ${refused.length ? refused.map(([s, n]) => `${n}× ${s}`).join(', ') : 'none'}; client retries (429/503, same Idempotency-Key): ${run.retries}. Latency counts from the first send to the 202, retries included.`,
      'One pre-order over HTTP is: gateway + authorizer (cached per token) + handler + one TransactWriteItems (pre-order Put with its waiting-index entry, gate Update); intake (from the table\'s stream: the buyers\' "accepted" notices, then the order refs with their buyer-index entries, 25 a BatchWriteItem, recording them; the announcements; a Query per pre-order for steps left to it) runs at the same time on the same DynamoDB Local.',
      'On AWS the request path scales out (Lambda, API Gateway, DynamoDB partitions); locally everything shares 2 cores and one DynamoDB Local, so the ratio is the pipeline\'s overhead over the bare write, not an AWS throughput.',
    ],
  };
};

/** Accept and accepted→counted latency, sequentially, next to a bare health round trip. */
export const latency = async (ctx: PipelineContext): Promise<Section> => {
  const { runtime, counts } = ctx;
  const campaignId = await openCampaign(runtime, noCuts);
  await warmUp(ctx, campaignId);
  const tokens = await tokensOf(runtime);
  progress(`latency: ${counts.latencySamples} sequential samples`);
  const r = LatencyResult.parse(
    await runJob({
      kind: 'latency',
      url: runtime.url,
      campaignId,
      buyerToken: tokens.buyers[1] as string,
      anchorToken: tokens.anchor,
      body: preorderBody,
      count: counts.latencySamples,
      keyPrefix: keyPrefix('latency'),
    }),
  );
  await drain(ctx);
  const p = (xs: number[], q: number) => percentile(xs, q);
  const row = (figure: string, xs: number[], q: number): Row => ({
    figure,
    value: num(p(xs, q)),
    baseline: num(p(r.healthMs, q)),
    ratio: ratio(p(xs, q), p(r.healthMs, q)),
  });
  const polls = r.demandPolls.reduce((a, b) => a + b, 0) / Math.max(1, r.demandPolls.length);
  return {
    id: 'latency',
    title: 'Latency: accepting a pre-order, and pre-order → counted in demand',
    setup:
      `${r.acceptMs.length} sequential samples on an idle pipeline (one request in flight). Each: a bare GET /v1/health (the baseline: gateway + handler + one GetItem), ` +
      'then POST a pre-order and poll GET /v1/campaigns/{id}/demand until its `ordered` includes it. "Counted" runs from sending the POST to the demand read that shows it.',
    rows: [
      row('accept p50 (ms)', r.acceptMs, 50),
      row('accept p99 (ms)', r.acceptMs, 99),
      row('pre-order → counted in demand p50 (ms)', r.countedMs, 50),
      row('pre-order → counted in demand p99 (ms)', r.countedMs, 99),
      { figure: 'demand reads until counted (mean)', value: num(polls, 2), baseline: '1 (same transaction)', ratio: ratio(polls, 1) },
    ],
    notes: [
      'A pre-order is counted by the transaction that writes it (decision 3), so the first demand read after the 202 shows it: "counted" is the accept plus one demand read (gates BatchGetItem + forecast reads), with no queue in between.',
      'Demand reads the gates eventually consistently; DynamoDB Local answers those consistently, on AWS a read right after the write may lag by well under a second.',
      `Health baseline p50 ${num(median(r.healthMs))} ms.`,
    ],
  };
};

type Snapshot = Map<string, Map<string, { calls: number; units: { table: number; indexes: Record<string, number>; total: number; txShortfall?: number } }>>;

const sumUnits = (snap: Snapshot, filter: (fn: string, op: string) => boolean) => {
  let total = 0;
  let indexes = 0;
  let txIndexes = 0;
  let txShortfall = 0;
  let calls = 0;
  for (const [fn, ops] of snap) {
    for (const [op, e] of ops) {
      if (!filter(fn, op)) continue;
      total += e.units.total;
      const idx = Object.values(e.units.indexes).reduce((a, b) => a + b, 0);
      indexes += idx;
      if (op === 'TransactWriteItems') txIndexes += idx;
      txShortfall += e.units.txShortfall ?? 0;
      calls += e.calls;
    }
  }
  return { total, indexes, txIndexes, txShortfall, calls };
};

/** The one-WCU floor: one plain PutItem of the pre-order item, measured. */
const floorOf = async (runtime: LocalRuntime, template: Record<string, unknown>) => {
  const client = benchClient(runtime);
  const out = await client.send(
    new PutCommand({ TableName: runtime.tableName, Item: { ...template, PK: `FLOOR#${keyPrefix('floor')}`, SK: 'RAW' }, ReturnConsumedCapacity: 'TOTAL' }),
  );
  client.destroy();
  return out.ConsumedCapacity?.CapacityUnits ?? Number.NaN;
};

/** Write (and read) units per pre-order through the pipeline, from ConsumedCapacity. */
export const writeUnits = async (ctx: PipelineContext): Promise<Section[]> => {
  const { runtime, counts } = ctx;
  const n = counts.wcu;
  const campaignId = await openCampaign(runtime, noCuts);
  // The template pre-order goes to the warm-up campaign: the measured one holds only measured pre-orders.
  const template = await preorderTemplate(runtime, await warmUpElsewhere(ctx));
  const floor = await floorOf(runtime, template);
  await drain(ctx);

  progress(`write units: ${n} pre-orders, accepted and followed until the queues are empty`);
  const cpuBefore = { node: nodeCpuSeconds(), dynamo: treeCpuSeconds(ctx.dynamoPid) };
  const eventsBefore = runtime.emulator.events.length;
  const accepted = resetCapacity();
  const run = await preorders(runtime, campaignId, n, counts.concurrency, 'wcu');
  await drain(ctx);
  const placed = run.done;
  const phaseA = accepted.byFunction;

  progress('write units: closing the campaign; final batch, release and notifications');
  const released = resetCapacity();
  const closed = await as(runtime, (await tokensOf(runtime)).anchor).post(`/v1/campaigns/${campaignId}/close`);
  if (closed.status !== 200 || closed.body.status !== 'CLOSED') throw new Error(`close answered ${closed.status} ${JSON.stringify(closed.body)}`);
  await drain(ctx);
  const phaseB = released.byFunction;
  const cpuAfter = { node: nodeCpuSeconds(), dynamo: treeCpuSeconds(ctx.dynamoPid) };
  const events = runtime.emulator.events.length - eventsBefore;

  const per = (x: number) => x / placed;
  const writes = (fn?: string) => (f: string, op: string) => isWrite(op) && (fn === undefined || f === fn);
  const reads = (f: string, op: string) => !isWrite(op);
  const request = sumUnits(phaseA, writes('preorders-api'));
  const a = sumUnits(phaseA, writes());
  const b = sumUnits(phaseB, writes());
  const aRead = sumUnits(phaseA, reads);
  const bRead = sumUnits(phaseB, reads);
  // AWS charges 2 WCU per KB for the items of a transaction; Local also doubles the
  // GSI units of a transaction (decision 3 counts GSI writes at 1 WCU: halve them)
  // and lumps a transaction's items without index entries into one charge (add back
  // what it left out: capacity.ts, txShortfall).
  const aws = (s: { total: number; txIndexes: number; txShortfall: number }) => s.total - s.txIndexes / 2 + s.txShortfall;
  const rowW = (figure: string, s: { total: number; txIndexes: number; txShortfall: number }): Row => ({
    figure,
    value: `${num(per(s.total), 2)} (AWS ≈ ${num(per(aws(s)), 2)})`,
    baseline: num(floor, 0),
    ratio: ratio(per(s.total), floor),
  });
  const wcuPerPreorderAws = per(aws(a) + aws(b));
  const wcuRequestPathAws = per(aws(request));
  const failed = totalFailures(new Map([...accepted.failures, ...[...released.failures].map(([fn, f]) => [`${fn} (released)`, f] as [string, Failures])]));
  const failedAws = per(failedWriteUnitsAws(failed));
  const readUnits = per(aRead.total + bRead.total);
  const invocations = [...accepted.invocations, ...released.invocations];
  const summaryFigures = {
    wcuPerPreorderAws,
    wcuRequestPathAws,
    sustainedPreordersPerSecDefaultTable: defaultTableWriteQuota / wcuPerPreorderAws,
    failedConditionalWritesPerPreorder: per(failed.conditional),
    transactionConflictsPerPreorder: per(failed.conflicts),
    failedWriteUnitsPerPreorderAws: failedAws,
  };
  const costs = costSection({
    placed,
    writeUnits: wcuPerPreorderAws + failedAws,
    readUnits,
    invocations,
    apiRequests: (placed + 1) / placed,
    events: per(events),
    cpu: { node: cpuAfter.node - cpuBefore.node, dynamo: cpuAfter.dynamo !== undefined && cpuBefore.dynamo !== undefined ? cpuAfter.dynamo - cpuBefore.dynamo : undefined },
    failed,
  });
  const summary: Section = {
    id: 'wcu',
    title: 'DynamoDB write units per pre-order',
    figures: summaryFigures,
    setup:
      `${placed.toLocaleString('en-US')} pre-orders on one open uncapped campaign (${counts.concurrency} in flight), followed until every queue and the table\'s stream were read to the end (accepted: request path, intake with its "accepted" notices); ` +
      'then the campaign was closed and followed until empty again (the final batch: cut, assignment, release, the buyers\' "batched" notifications). ' +
      'Units are DynamoDB Local\'s ConsumedCapacity (ReturnConsumedCapacity INDEXES on every call of the handlers\' client), summed and divided by the pre-orders. ' +
      `Baseline: one plain PutItem of the same pre-order item without index keys (${itemBytes(template)} bytes), measured: the floor of one durable write.`,
    columns: ['figure', 'WCU / pre-order (Local; AWS estimate)', 'floor (1 PutItem)', 'ratio to floor'],
    rows: [
      rowW('request path (preorders-api: the transaction)', request),
      rowW('accepted → announced → notified (all functions)', a),
      rowW('closed → batched → released → notified', b),
      rowW('whole pipeline, pre-order to released batch', { total: a.total + b.total, txIndexes: a.txIndexes + b.txIndexes, txShortfall: a.txShortfall + b.txShortfall }),
      { figure: 'read units per pre-order (accepted; batched)', value: `${num(per(aRead.total), 2)}; ${num(per(bRead.total), 2)}`, baseline: '', ratio: '' },
    ],
    notes: [
      'DynamoDB Local charges a transaction\'s items that have index entries 2 units per KB, as AWS does, but lumps all its items without index entries into one 2-unit charge (three plain Puts in a transaction report 2), and it doubles the GSI units of a transaction. The AWS estimate charges each item of a transaction 2 WCU per started KB (a Put by its item\'s size, an update as under 1 KB), adds back what Local lumped, and counts GSI writes at 1 WCU each, as docs/decisions.md (3) does.',
      `Not in these rows: writes that failed, which cost capacity on AWS though DynamoDB Local reports none; the bench counts them itself (${num(per(failed.conditional), 3)} failed conditions, ${num(per(failed.conflicts), 3)} conflicts per pre-order in this run) and the cost section adds them. The campaign's own writes (create, its 64 gates, close) are spread over its pre-orders only in the second phase.`,
      'Decision 28 puts the request path at 5 WCU (2 pre-order + 2 gate in the transaction, 1 GSI3 on the pre-order); intake at 2 (the order ref and its GSI1 entry, 25 a BatchWriteItem), which also records the "accepted" notice it sends (0 more); every later notification at 2 WCU a step on the pre-order\'s notices item (claim, record), except "batched", told a page of 100 members at a time and recorded once a page (decision 34: a claim and a write of about 3 KB a page); and the cut at one plain conditional write of the pre-order plus its GSI3 entry\'s removal, the batch\'s units counted once, in its release\'s own transaction, on one item beside the gates (decision 35).',
    ],
  };
  const breakdownRows: Row[] = [];
  for (const [phase, snap] of [
    ['accepted', phaseA],
    ['released', phaseB],
  ] as const) {
    for (const [fn, ops] of [...snap].sort(([x], [y]) => x.localeCompare(y))) {
      for (const [op, e] of [...ops].sort(([x], [y]) => x.localeCompare(y))) {
        const idx = Object.entries(e.units.indexes)
          .filter(([, u]) => u > 0)
          .map(([name, u]) => `${name} ${num(per(u), 2)}`)
          .join(', ');
        breakdownRows.push({
          figure: `${phase} · ${fn} · ${op}`,
          value: num(per(e.calls), 3),
          baseline: num(per(e.units.total), 3),
          ratio: idx || '–',
        });
      }
    }
  }
  const breakdown: Section = {
    id: 'wcu-breakdown',
    title: 'Where the units go (per pre-order, by phase, function and operation)',
    setup: 'Calls and capacity units per pre-order of every DynamoDB call the handlers made in each phase (reads included); the last column is the part that went to each GSI.',
    columns: ['phase · function · operation', 'calls / pre-order', 'units / pre-order', 'of which GSI'],
    rows: breakdownRows,
  };
  return [summary, breakdown, costs];
};

interface CostInputs {
  readonly placed: number;
  /** AWS write units per pre-order, failed writes included. */
  readonly writeUnits: number;
  readonly readUnits: number;
  readonly invocations: ReadonlyArray<[string, { count: number; ms: number; records: number }]>;
  /** API Gateway requests per pre-order. */
  readonly apiRequests: number;
  /** EventBridge events per pre-order. */
  readonly events: number;
  /** CPU seconds over the whole run, Node and DynamoDB Local apart. */
  readonly cpu: { node: number; dynamo: number | undefined };
  readonly failed: Failures;
}

/**
 * What a million pre-orders cost on AWS, from the write-units run's own counts
 * at published on-demand prices (bench/prices.ts), next to API Gateway's fee
 * alone; and where the local run's CPU went.
 */
const costSection = (c: CostInputs): Section => {
  const per = (x: number) => x / c.placed;
  const million = 1_000_000;
  let lambdaRequests = 0;
  let gbSeconds = 0;
  let sqsRequests = 0;
  for (const [fn, i] of c.invocations) {
    lambdaRequests += i.count;
    gbSeconds += (i.ms / 1000) * (functionSpec(fn as FunctionName).memoryMb / 1024);
    // A queue consumer's batch: one ReceiveMessage and one DeleteMessageBatch, and each record was one send.
    // A stream consumer's records cost nothing to read (Lambda's DynamoDB Streams reads are free).
    if (i.records > 0 && !tableStreams.some((t) => t.consumer === fn)) sqsRequests += i.records + 2 * i.count;
  }
  const lines = [
    { figure: 'DynamoDB writes', units: `${num(c.writeUnits, 2)} WRU`, usd: c.writeUnits * prices.dynamoWriteMillion },
    { figure: 'DynamoDB reads', units: `${num(c.readUnits, 2)} RRU`, usd: c.readUnits * prices.dynamoReadMillion },
    { figure: 'Lambda requests', units: `${num(per(lambdaRequests), 2)} invocations`, usd: per(lambdaRequests) * prices.lambdaRequestMillion },
    { figure: 'Lambda compute (arm64)', units: `${num(per(gbSeconds) * 1000, 2)} GB-ms`, usd: per(gbSeconds) * million * prices.lambdaArmGbSecond },
    { figure: 'API Gateway (REST)', units: `${num(c.apiRequests, 3)} requests`, usd: c.apiRequests * prices.apiGatewayRestMillion },
    { figure: 'SQS', units: `${num(per(sqsRequests), 2)} requests`, usd: per(sqsRequests) * prices.sqsMillion },
    { figure: 'EventBridge', units: `${num(c.events, 2)} events`, usd: c.events * prices.eventBridgeMillion },
  ];
  const total = lines.reduce((sum, l) => sum + l.usd, 0);
  const apiFee = c.apiRequests * prices.apiGatewayRestMillion;
  const usd = (x: number) => `$${x.toFixed(2)}`;
  const rows: Row[] = [
    ...lines.map((l) => ({ figure: `${l.figure}: ${l.units} / pre-order`, value: usd(l.usd), baseline: usd(apiFee), ratio: ratio(l.usd, apiFee) })),
    { figure: 'all of it, a million pre-orders', value: usd(total), baseline: usd(apiFee), ratio: ratio(total, apiFee) },
    {
      figure: 'CPU per pre-order (ms): Node (gateway, handlers, emulator); DynamoDB Local',
      value: `${num(per(c.cpu.node) * 1000, 2)}; ${c.cpu.dynamo === undefined ? 'n/a' : num(per(c.cpu.dynamo) * 1000, 2)}`,
      baseline: '',
      ratio: c.cpu.dynamo === undefined ? '' : `${((c.cpu.dynamo / (c.cpu.node + c.cpu.dynamo)) * 100).toFixed(0)} % in DynamoDB Local`,
    },
  ];
  return {
    id: 'cost',
    figures: {
      awsCostPerMillionPreordersUsd: total,
      apiGatewayFeePerMillionPreordersUsd: apiFee,
      costByService: Object.fromEntries(lines.map((l) => [l.figure, l.usd])),
      cpuMsPerPreorderNode: per(c.cpu.node) * 1000,
      cpuMsPerPreorderDynamoLocal: c.cpu.dynamo === undefined ? null : per(c.cpu.dynamo) * 1000,
    },
    title: 'What a million pre-orders cost on AWS, and where the local CPU went',
    setup:
      "The write-units run's own counts per pre-order (accepted to released batch, notifications included), priced at AWS's published on-demand prices (us-east-1, bench/prices.ts). " +
      "Baseline: API Gateway's fee alone for the same pre-orders, the part no storage design changes.",
    columns: ['service: usage per pre-order', 'per million pre-orders', "API Gateway's fee alone", 'ratio'],
    rows,
    notes: [
      `DynamoDB writes include the failed ones AWS charges for: ${num(per(c.failed.conditional), 3)} conditional checks failed and ${num(per(c.failed.conflicts), 3)} transaction conflicts per pre-order ` +
        `(${num(per(c.failed.singleWrites), 3)} single writes refused, ${num(per(c.failed.cancelledItems), 3)} items of cancelled transactions; estimated at 1 WCU a single write and 2 a transaction item). DynamoDB Local reports no capacity for them.`,
      "Lambda compute is local wall time × each function's memory: on 2 shared cores an invocation waits for CPU it would not wait for on Lambda, so this is an upper bound; Lambda bills by the millisecond.",
      "SQS counts a send per message and a receive and a delete per batch; the event source mapping's empty polls (a fixed cost per queue, not per pre-order) are left out, as are CloudWatch logs and metrics, X-Ray and data transfer.",
      "API Gateway: one request per pre-order (the close is shared by all). The authorizer's invocations are in Lambda's line.",
    ],
  };
};

/** Warms the pipeline on a campaign of its own, so the measured one holds only measured pre-orders. */
const warmUpElsewhere = async (ctx: PipelineContext): Promise<string> => {
  const campaignId = await openCampaign(ctx.runtime, noCuts);
  await warmUp(ctx, campaignId);
  return campaignId;
};

const copyCounts = (m: Map<string, number>) => new Map(m);

/** The busiest item in a burst on one variant, and what it becomes at 20,000 pre-orders/s. */
export const hotItem = async (ctx: PipelineContext): Promise<Section> => {
  const { runtime, counts } = ctx;
  const campaignId = await openCampaign(runtime, noCuts);
  await warmUpElsewhere(ctx);
  const projectedRate = 20_000;
  const partitionCeiling = 1_000;

  progress(`hot item: burst of ${counts.burst} pre-orders on one variant, ${counts.concurrency} in flight`);
  const totals: CapacityTotals = resetCapacity();
  const run = await preorders(runtime, campaignId, counts.burst, counts.concurrency, 'burst');
  const inBurst = copyCounts(totals.itemWrites);
  const inBurstIndex = copyCounts(totals.indexPartitionWrites);
  const drainMs = await drain(ctx);
  const seconds = run.durationMs / 1000;

  const top = (m: Map<string, number>) => [...m].sort((x, y) => y[1] - x[1]);
  const ranked = top(inBurst);
  const [hotKey, hotCount] = ranked[0] ?? ['none', 0];
  const gateCounts = ranked.filter(([k]) => k.includes('#GATE#')).map(([, c]) => c);
  const gateMean = gateCounts.reduce((a, b) => a + b, 0) / Math.max(1, gateCounts.length);
  const nonGate = ranked.find(([k]) => !k.includes('#GATE#'));
  const [hotIndex, hotIndexCount] = top(inBurstIndex)[0] ?? ['none', 0];
  const afterDrain = totals.itemWrites.get(hotKey) ?? 0;
  const byFn = [...(totals.itemWritesBy.get(hotKey) ?? new Map<string, number>())].map(([fn, c]) => `${fn} ${c}`).join(', ');

  const share = hotCount / run.done;
  const projected = share * projectedRate;
  // A gate write is a transactional write of an item under 1 KB: 2 WCU on AWS.
  const wcuPerWrite = hotKey.includes('#GATE#') ? 2 : 1;
  const expected = projectedRate / gateShards;
  const shard = /#GATE#(\d+)/.exec(hotKey)?.[1];
  return {
    id: 'hot',
    figures: { hottestItemWritesPerSecAt20k: projected, hottestItem: keyPattern(hotKey) },
    title: `Hot item: the busiest DynamoDB item in a burst of ${run.done.toLocaleString('en-US')} pre-orders on one variant`,
    setup:
      `${run.done.toLocaleString('en-US')} pre-orders of one variant on one uncapped campaign (${gateShards} gates), ${counts.concurrency} in flight, in ${num(seconds, 1)} s ` +
      `(${num(run.done / seconds)} pre-orders/s locally). Committed writes were counted per item (PK + SK) by every function while the burst ran; ` +
      `the follow-up drained ${num(drainMs / 1000, 1)} s later. The projection scales the busiest item's share of pre-orders to ${projectedRate.toLocaleString('en-US')} pre-orders/s.`,
    rows: [
      {
        figure: `busiest item: ${keyPattern(hotKey)}${shard !== undefined ? ` (k = ${shard})` : ''}`,
        value: `${hotCount.toLocaleString('en-US')} writes`,
        baseline: `${num(gateMean)} (mean gate)`,
        ratio: ratio(hotCount, gateMean),
      },
      {
        figure: 'its write rate in this burst (writes/s)',
        value: num(hotCount / seconds, 2),
        baseline: `${num(run.done / seconds)} pre-orders/s`,
        ratio: `${(share * 100).toFixed(2)} %`,
      },
      {
        figure: `projected at ${projectedRate.toLocaleString('en-US')} pre-orders/s (writes/s)`,
        value: num(projected),
        baseline: `${partitionCeiling.toLocaleString('en-US')} /s partition ceiling`,
        ratio: ratio(projected, partitionCeiling),
      },
      {
        figure: `  same in WCU/s (${wcuPerWrite} WCU a write)`,
        value: num(projected * wcuPerWrite),
        baseline: `${partitionCeiling.toLocaleString('en-US')} WCU/s`,
        ratio: ratio(projected * wcuPerWrite, partitionCeiling),
      },
      {
        figure: `  against the design's ${projectedRate.toLocaleString('en-US')} / ${gateShards} gates`,
        value: num(projected),
        baseline: num(expected),
        ratio: ratio(projected, expected),
      },
      {
        figure: `busiest non-gate item: ${nonGate ? keyPattern(nonGate[0]) : 'none'}`,
        value: `${(nonGate?.[1] ?? 0).toLocaleString('en-US')} writes`,
        baseline: '',
        ratio: '',
      },
      {
        figure: `busiest GSI partition (whole-item writes): ${keyPattern(hotIndex)}`,
        value: `${hotIndexCount.toLocaleString('en-US')} writes`,
        baseline: `${num((hotIndexCount / run.done) * projectedRate)} /s projected`,
        ratio: ratio((hotIndexCount / run.done) * projectedRate, partitionCeiling),
      },
    ],
    notes: [
      `Writes on the busiest item by function, burst and drain together: ${byFn || 'none'} (${afterDrain.toLocaleString('en-US')} in all).`,
      `Gates take one write per pre-order at a random gate, so the busiest of ${gateShards} sits above the mean by chance (about +3 standard deviations of a binomial at this count); the design's ${num(expected)}/s is the mean.`,
      'No batch was cut during the burst (its lot size is out of reach): a cut writes no gate: the batch\'s units go, with its release, into one item beside the gates (decision 35), written once a batch, and cuts run one at a time per campaign (lease). The write-units section measures them.',
      'GSI partitions are counted from whole-item writes (Put, also inside transactions): a pre-order enters GSI3 at WAIT#<campaign>#<its gate>, spread like the gates, and its order ref enters GSI1 at BUYER#<buyer>; later updates also rewrite index entries but are not attributed to a partition here.',
    ],
  };
};
