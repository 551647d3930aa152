/**
 * The bench's load generator, run as its own Node process by bench/run.ts
 * (`node --import tsx bench/load-client.ts`, one job as JSON on stdin, the result
 * as JSON on stdout, progress on stderr).
 *
 * Why a separate process: the local runtime serves HTTP and runs every handler on
 * the bench process's event loop. Clients on that same loop would steal its time
 * and inflate every latency; on AWS the clients are elsewhere. The raw DynamoDB
 * baseline is driven from here too, so the pipeline and its baseline share one
 * client process, one concurrency and one machine.
 *
 * Jobs:
 * - `preorders`: POSTs `count` pre-orders with `concurrency` in flight, each with
 *   its own Idempotency-Key (so a retry after 429/503 is safe and costs no extra
 *   write), buyers taken round robin from `tokens`. Latency is from the first
 *   send to the 202 the buyer finally gets (retries included, and counted).
 * - `raw-put`: the baseline: `count` plain PutItem calls of `item` (fresh keys),
 *   `concurrency` in flight, with a plain @aws-sdk/lib-dynamodb client.
 * - `latency`: sequential samples, each a bare GET /v1/health, then one pre-order
 *   POST followed by GET .../demand until the demand shows it.
 */
import { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { DynamoDBDocumentClient, PutCommand } from '@aws-sdk/lib-dynamodb';
import { z } from 'zod';
import { apiClient, HttpTally, type RetryPolicy } from '../demo/support/api-client.ts';

export const PreordersJob = z.object({
  kind: z.literal('preorders'),
  url: z.string(),
  campaignId: z.string(),
  tokens: z.array(z.string()).min(1),
  body: z.record(z.string(), z.unknown()),
  count: z.number().int().positive(),
  concurrency: z.number().int().positive(),
  keyPrefix: z.string(),
});
export const RawPutJob = z.object({
  kind: z.literal('raw-put'),
  endpoint: z.string(),
  region: z.string(),
  tableName: z.string(),
  item: z.record(z.string(), z.unknown()),
  count: z.number().int().positive(),
  concurrency: z.number().int().positive(),
  keyPrefix: z.string(),
});
export const LatencyJob = z.object({
  kind: z.literal('latency'),
  url: z.string(),
  campaignId: z.string(),
  buyerToken: z.string(),
  anchorToken: z.string(),
  body: z.record(z.string(), z.unknown()),
  count: z.number().int().positive(),
  keyPrefix: z.string(),
});
export const Job = z.discriminatedUnion('kind', [PreordersJob, RawPutJob, LatencyJob]);
export type Job = z.infer<typeof Job>;

export const ThroughputResult = z.object({
  startedAt: z.number(),
  durationMs: z.number(),
  done: z.number(),
  statuses: z.record(z.string(), z.number()),
  retries: z.number(),
  latenciesMs: z.array(z.number()),
});
export type ThroughputResult = z.infer<typeof ThroughputResult>;

export const LatencyResult = z.object({
  healthMs: z.array(z.number()),
  acceptMs: z.array(z.number()),
  countedMs: z.array(z.number()),
  demandPolls: z.array(z.number()),
});
export type LatencyResult = z.infer<typeof LatencyResult>;

const log = (message: string) => process.stderr.write(`[bench load] ${message}\n`);

/** Runs `count` tasks with `concurrency` in flight; reports progress every ~10 %. */
const pool = async (count: number, concurrency: number, task: (i: number) => Promise<void>, label: string): Promise<void> => {
  let next = 0;
  let finished = 0;
  const step = Math.max(1, Math.floor(count / 10));
  await Promise.all(
    Array.from({ length: Math.min(concurrency, count) }, async () => {
      for (let i = next++; i < count; i = next++) {
        await task(i);
        if (++finished % step === 0) log(`${label}: ${finished}/${count}`);
      }
    }),
  );
};

/**
 * Overloaded (429) or unavailable (503): do as a client should, wait and retry with the same
 * key, up to 10 times. The waits are short (a random part of Retry-After, 20 ms to 1 s): the
 * bench measures how fast the pipeline takes a burst, not how patient a crowd is.
 */
const benchRetry: RetryPolicy = {
  maxAttempts: 11,
  throttledDelayMs: (_attempt, retryAfterSeconds) => Math.min(1_000, Math.max(20, retryAfterSeconds * 1000 * Math.random())),
  resendWithoutAnswer: false,
};

const runPreorders = async (job: z.infer<typeof PreordersJob>): Promise<ThroughputResult> => {
  // Every try's answer is counted by status (429s included), every wait-and-retry as a retry.
  const tally = new HttpTally();
  const buyers = job.tokens.map((token) => apiClient({ baseUrl: job.url, token: () => token, retry: benchRetry, tally }));
  const path = `/v1/campaigns/${job.campaignId}/preorders`;
  const latenciesMs: number[] = [];
  let done = 0;
  const startedAt = Date.now();
  const t0 = performance.now();
  await pool(
    job.count,
    job.concurrency,
    async (i) => {
      const buyer = buyers[i % buyers.length]!;
      const sent = performance.now();
      const res = await buyer.post(path, job.body, { idempotencyKey: `${job.keyPrefix}-${i}` });
      if (res.status === 202) {
        done++;
        latenciesMs.push(performance.now() - sent);
      }
    },
    'pre-orders',
  );
  return { startedAt, durationMs: performance.now() - t0, done, statuses: tally.statuses, retries: tally.throttled, latenciesMs };
};

const runRawPut = async (job: z.infer<typeof RawPutJob>): Promise<ThroughputResult> => {
  const ddb = DynamoDBDocumentClient.from(
    new DynamoDBClient({ endpoint: job.endpoint, region: job.region, credentials: { accessKeyId: 'local', secretAccessKey: 'local' } }),
  );
  const latenciesMs: number[] = [];
  const startedAt = Date.now();
  const t0 = performance.now();
  await pool(
    job.count,
    job.concurrency,
    async (i) => {
      const sent = performance.now();
      await ddb.send(new PutCommand({ TableName: job.tableName, Item: { ...job.item, PK: `${job.keyPrefix}#${i}`, SK: 'RAW' } }));
      latenciesMs.push(performance.now() - sent);
    },
    'raw puts',
  );
  const durationMs = performance.now() - t0;
  ddb.destroy();
  return { startedAt, durationMs, done: job.count, statuses: { ok: job.count }, retries: 0, latenciesMs };
};

const runLatency = async (job: z.infer<typeof LatencyJob>): Promise<LatencyResult> => {
  const out: LatencyResult = { healthMs: [], acceptMs: [], countedMs: [], demandPolls: [] };
  // No retries here: one request in flight on an idle pipeline, and a refusal is a failed run.
  const anonymous = apiClient({ baseUrl: job.url });
  const anchor = apiClient({ baseUrl: job.url, token: () => job.anchorToken });
  const buyer = apiClient({ baseUrl: job.url, token: () => job.buyerToken });
  const ordered = async (): Promise<number> => {
    const res = await anchor.get<{ totals?: { ordered?: number } }>(`/v1/campaigns/${job.campaignId}/demand`);
    if (res.status !== 200) throw new Error(`demand answered ${res.status}: ${JSON.stringify(res.body)}`);
    return res.body.totals?.ordered ?? 0;
  };
  let expected = await ordered();
  for (let i = 0; i < job.count; i++) {
    // Interleaved with the samples, so drift on a noisy machine hits both alike.
    const h0 = performance.now();
    const health = await anonymous.get('/v1/health');
    if (health.status !== 200) throw new Error(`health answered ${health.status}`);
    out.healthMs.push(performance.now() - h0);

    const quantity = Number(job.body.quantity ?? 1);
    const sent = performance.now();
    const res = await buyer.post(`/v1/campaigns/${job.campaignId}/preorders`, job.body, { idempotencyKey: `${job.keyPrefix}-${i}` });
    if (res.status !== 202) throw new Error(`pre-order answered ${res.status}`);
    out.acceptMs.push(performance.now() - sent);
    expected += quantity;
    let polls = 0;
    for (;;) {
      polls++;
      if ((await ordered()) >= expected) break;
      if (performance.now() - sent > 30_000) throw new Error('a pre-order did not show in demand within 30 s');
    }
    out.countedMs.push(performance.now() - sent);
    out.demandPolls.push(polls);
    if ((i + 1) % Math.max(1, Math.floor(job.count / 5)) === 0) log(`latency samples: ${i + 1}/${job.count}`);
  }
  return out;
};

const readStdin = async (): Promise<string> => {
  const chunks: Buffer[] = [];
  for await (const chunk of process.stdin) chunks.push(chunk as Buffer);
  return Buffer.concat(chunks).toString('utf8');
};

const main = async () => {
  const job = Job.parse(JSON.parse(await readStdin()));
  const result = job.kind === 'preorders' ? await runPreorders(job) : job.kind === 'raw-put' ? await runRawPut(job) : await runLatency(job);
  process.stdout.write(JSON.stringify(result));
};

// Only when run as the child process, not when bench/run.ts imports the schemas.
if (process.argv[1] && import.meta.url.endsWith(process.argv[1].replace(/\\/g, '/'))) {
  main().catch((err: unknown) => {
    process.stderr.write(`[bench load] failed: ${err instanceof Error ? (err.stack ?? err.message) : String(err)}\n`);
    process.exit(1);
  });
}
