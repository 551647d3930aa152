import { AsyncLocalStorage } from 'node:async_hooks';
import { createServer, type Server } from 'node:http';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { SQSClient, SendMessageCommand } from '@aws-sdk/client-sqs';
import { PutEventsCommand } from '@aws-sdk/client-eventbridge';
import type { LocalRuntime } from '../../lib/local/runtime.ts';
import type { FunctionName } from '../../lib/topology.ts';
import { localCredentials, localRegion } from '../../lib/local/dynamodb.ts';
import { preorderDraft, registerFactories, startTestRuntime } from '../support/runtime.ts';
import { pipelineFactories, pipelineOn, report, World, type Op, type Pipeline } from '../support/pipeline-world.ts';
import { silenceBuyerNotifications } from '../support/quiet.ts';
import { ddb } from '../../functions/adapters/dynamo.ts';

// Fault injection against the real handlers in the local runtime and DynamoDB Local. Each case
// breaks something (a consumer dying part way through a batch, queue messages duplicated and
// reordered, DynamoDB throttling, the scheduler firing twice or late, a webhook receiver that is
// down), lets the pipeline recover the way it would on AWS (redelivery, retries), and then checks
// every invariant of design.md through the API (tests/support/pipeline-world.ts). What was tried is
// printed at the end. The only thing simulated is the fault itself.

/** Which function invocation a DynamoDB call belongs to (the runtime runs them all in this process). */
const invocation = new AsyncLocalStorage<{ fn: FunctionName }>();
type Fault =
  /** `matching`: count only the writes whose input it matches (a step of the function's work, not the first writes it makes). */
  | { fn: FunctionName; afterWrites: number; seen: number; fired: number; times: number; reads: boolean; matching?: RegExp }
  | { throttle: number; fired: number };
let fault: Fault | undefined;
/** Write commands, as the document client or the low-level client names them. */
const isWrite = (name: unknown) => /^(Put|Update|Delete|TransactWrite|BatchWrite)(Item|Items)?Command$/.test(String(name));

// A middleware on the handlers' own DynamoDB client (the same module instance the runtime loaded):
// it fails the call the current fault names, before it reaches DynamoDB Local.
ddb.middlewareStack.add(
  (next, context) => async (args) => {
    const f = fault;
    const counted = (input: unknown) => !f || !('fn' in f) || f.matching === undefined || f.matching.test(JSON.stringify(input));
    if (f && 'fn' in f && invocation.getStore()?.fn === f.fn && (f.reads || isWrite(context.commandName)) && f.fired < f.times && counted(args.input)) {
      if (++f.seen >= f.afterWrites) {
        f.fired++;
        f.seen = 0;
        throw new Error(`injected crash of ${f.fn} before its DynamoDB ${f.reads ? 'call' : 'write'} #${f.afterWrites}`);
      }
    }
    if (f && 'throttle' in f && invocation.getStore() && Math.random() < f.throttle) {
      f.fired++;
      throw Object.assign(new Error('injected: rate of requests exceeds the allowed throughput'), {
        name: 'ProvisionedThroughputExceededException',
        $fault: 'client',
        $metadata: { httpStatusCode: 400 },
      });
    }
    return next(args);
  },
  { step: 'initialize', name: 'faultInjection' },
);

let runtime: LocalRuntime;
let pipe: Pipeline;
let restore: () => void;
const tried: string[] = [];

beforeAll(async () => {
  runtime = await startTestRuntime({
    maxBatchingWindowSeconds: 0,
    wrapInvoke: (fn, _event, invoke) => invocation.run({ fn }, invoke),
    settings: { 'webhook-deliverer': { WEBHOOK_RETRY_BASE_SECONDS: '1', WEBHOOK_RETRY_MAX_SECONDS: '1' } },
  });
  pipe = pipelineOn(runtime);
  // Before any fault is injected: the scheduler case names factory-p without a world to register it.
  await registerFactories(runtime, ...pipelineFactories);
  restore = silenceBuyerNotifications();
});
afterAll(async () => {
  restore?.();
  fault = undefined;
  await runtime?.stop();
  console.log(`faults: what was tried\n${tried.map((t) => `  ${t}`).join('\n')}\n${report('and the operations behind it', pipe.tried)}`);
});

/** A flow that reaches every consumer: pre-orders, a cut, acceptance (late: delay notices), progress, a lot, a delivery, a cancel, a short close. */
const flow: Op[] = [
  { kind: 'place', buyer: 0, sku: 1, quantity: 2 },
  { kind: 'place', buyer: 1, sku: 0, quantity: 1 },
  { kind: 'place', buyer: 2, sku: 1, quantity: 1 },
  { kind: 'place', buyer: 3, sku: 1, quantity: 3 },
  { kind: 'accept', pick: 0, lateDays: 20 },
  { kind: 'ship', pick: 0, sku: 1, quantity: 2 },
  { kind: 'deliver', pick: 0 },
  { kind: 'place', buyer: 0, sku: 0, quantity: 2 },
  { kind: 'cancel', pick: 4 },
  // The platform confirms the cancel's refund, and again.
  { kind: 'confirmRefund', pick: 0, wrong: false },
  { kind: 'confirmRefund', pick: 0, wrong: false },
  { kind: 'close' },
  { kind: 'closeShort', pick: 0 },
];

/** Runs the flow, letting the queues recover from whatever the fault does, then checks every invariant. */
const runFlow = async (world: World, ops: readonly Op[] = flow, afterEach?: () => Promise<void>) => {
  await world.start();
  for (const o of ops) {
    await world.run(o);
    await afterEach?.();
    await runtime.emulator.drain(90_000);
  }
  fault = undefined; // the end of the outage: what is left to do must now complete
  await world.finish();
  await world.checkInvariants(true);
  return world;
};

describe('Consumers that crash part way through a batch', () => {
  const consumers: FunctionName[] = ['preorder-intake', 'batch-cutter', 'fulfillment', 'notifier', 'campaign-clock'];
  for (const fn of consumers) {
    it(`${fn}: dying before each of its first 3 writes, it is redelivered and every invariant holds`, async () => {
      const sqs = new SQSClient({ endpoint: runtime.emulator.endpoint, region: localRegion, credentials: localCredentials });
      // The clock works on its minute tick: send the tick after every step so it has work to die in.
      const tick = fn === 'campaign-clock'
        ? async () => void (await sqs.send(new SendMessageCommand({ QueueUrl: runtime.emulator.queueUrl('campaign-clock'), MessageBody: JSON.stringify({ kind: 'sweep' }) })))
        : undefined;
      for (let step = 1; step <= 3; step++) {
        // Intake's writes are the order refs of each stream batch (it dies before listing them, then the batch comes again).
        const reads = false;
        const planned = { fn, afterWrites: step, seen: 0, fired: 0, times: 1, reads };
        fault = planned;
        const world = await runFlow(new World(pipe), flow, tick);
        const what = reads ? 'DynamoDB call' : 'write';
        expect(planned.fired, `${fn} never reached its ${what} #${step}`).toBe(1);
        tried.push(`${fn} crashed before its ${what} #${step}, then redelivered: invariants hold, ${world.preorders.length} pre-orders settled`);
      }
    }, 300_000);
  }
});

describe('A deposit sale whose cutter dies part way', () => {
  // Five buyers pay a deposit; at close the cutter calls each balance; two are paid; at the deadline it forfeits the
  // other deposits and cuts the last batch. It dies once while calling and once while forfeiting.
  const deposit = { deposit: 1000, depositDiscount: 500, balanceWindowHours: 2 };
  const orders: Op[] = [0, 1, 2, 3, 0].map((buyer, i) => ({ kind: 'place', buyer, sku: i % 2, quantity: 1 + (i % 2) }));
  it('batch-cutter dying before each of its first 2 writes while it calls the balances and while it forfeits the unpaid, is redelivered: each buyer told once, no deposit kept or balance asked twice', async () => {
    for (let step = 1; step <= 2; step++) {
      const world = new World(pipe);
      await world.start({ deposit, minTotalQuantity: 1, lotSize: 50 });
      for (const o of orders) {
        await world.run(o);
        await runtime.emulator.drain(90_000);
      }
      const calling = { fn: 'batch-cutter' as const, afterWrites: step, seen: 0, fired: 0, times: 1, reads: false };
      fault = calling;
      await world.run({ kind: 'close' });
      await runtime.emulator.drain(90_000);
      fault = undefined;
      await world.checkInvariants(false);
      // Two of the balances asked are paid (pick 1, 5: the first and second of those due).
      for (const pick of [1, 5]) {
        await world.run({ kind: 'payBalance', pick, wrong: false });
        await runtime.emulator.drain(90_000);
      }
      await world.checkInvariants(false);
      const forfeiting = { fn: 'batch-cutter' as const, afterWrites: step, seen: 0, fired: 0, times: 1, reads: false };
      fault = forfeiting;
      await world.run({ kind: 'time', to: 'balance' });
      fault = undefined;
      await runtime.emulator.drain(90_000);
      await world.finish();
      await world.checkInvariants(true);
      const ps = await world.preorderStates();
      expect({ calling: calling.fired, forfeiting: forfeiting.fired }, `the cutter never reached its write #${step}`).toEqual({ calling: 1, forfeiting: 1 });
      expect(ps.filter((p) => p.balancePaidAt !== undefined).map((p) => p.status)).toEqual(['DELIVERED', 'DELIVERED']);
      expect(ps.filter((p) => p.forfeitedAmount !== undefined)).toHaveLength(3);
      for (const p of ps) expect(p.timeline.filter((e) => e.template === 'preorder.balance_due'), p.preorderId).toHaveLength(1);
      tried.push(`batch-cutter crashed before its write #${step} calling a deposit sale's balances, and again forfeiting the unpaid: invariants hold`);
    }
  }, 300_000);
});

describe('A tiered sale whose cutter dies while it applies the price drops', () => {
  // Five pre-orders of both sizes (7 units) reach the whole campaign's second tier (6 units: ¥99); at close the cutter
  // refunds each the difference. It dies once part way through, and the redelivered close finishes the work.
  const campaignTiers = [
    { minUnits: 3, unitPrice: 11900 },
    { minUnits: 6, unitPrice: 9900 },
  ];
  const orders: Op[] = [0, 1, 2, 3, 0].map((buyer, i) => ({ kind: 'place', buyer, sku: i % 2, quantity: 1 + (i % 2) }));
  it('batch-cutter dying before its first and its second price drop is redelivered: every buyer refunded the difference once, told once', async () => {
    for (let step = 1; step <= 2; step++) {
      const world = new World(pipe);
      await world.start({ campaignTiers, minTotalQuantity: 1, lotSize: 50 });
      for (const o of orders) {
        await world.run(o);
        await runtime.emulator.drain(90_000);
      }
      // Only the price drops' writes count (each carries its buyer's notice): the close's final cut comes first.
      const repricing = { fn: 'batch-cutter' as const, afterWrites: step, seen: 0, fired: 0, times: 1, reads: false, matching: /preorder\.price_dropped/ };
      fault = repricing;
      await world.run({ kind: 'close' });
      await runtime.emulator.drain(90_000);
      fault = undefined;
      await world.checkInvariants(false);
      const ps = await world.preorderStates();
      expect(repricing.fired, `the cutter never reached its price drop #${step}`).toBe(1);
      expect((await world.campaign()).finalPrices).toEqual({ [ps[0]!.sku]: 9900, [ps[1]!.sku]: 9900 });
      for (const p of ps) {
        expect(p.refunds.filter((r) => r.reason === 'price-drop').map((r) => r.amount), p.preorderId).toEqual([p.quantity * 3000]);
        expect(p.timeline.filter((e) => e.template === 'preorder.price_dropped'), p.preorderId).toHaveLength(1);
      }
      await world.finish();
      await world.checkInvariants(true);
      tried.push(`batch-cutter crashed before its price drop #${step} after a tiered sale closed: each applied once, invariants hold`);
    }
  }, 300_000);
});

describe('Duplicated and reordered messages', () => {
  it('every event of a campaign delivered again, in reverse and shuffled order, changes nothing', async () => {
    const world = new World(pipe);
    await runFlow(world);
    const before = JSON.stringify(await world.preorderStates());
    const mine = runtime.emulator.events.filter((e) => (e.detail as { campaignId?: string }).campaignId === world.campaignId);
    const shuffled = [...mine].reverse().sort(() => Math.random() - 0.5);
    for (let i = 0; i < shuffled.length; i += 10) {
      await pipe.bus.send(
        new PutEventsCommand({
          Entries: shuffled.slice(i, i + 10).map((e) => ({ EventBusName: runtime.emulator.busName, Source: 'c2m', DetailType: e.detailType, Detail: JSON.stringify(e.detail) })),
        }),
      );
    }
    await runtime.emulator.drain(90_000);
    await world.checkInvariants(true);
    expect(JSON.stringify(await world.preorderStates())).toBe(before);
    tried.push(`${shuffled.length} events of a finished campaign redelivered out of order: nothing changed, invariants hold`);
  }, 120_000);

  it('queue messages sent twice straight to the consumers (cut, unwind, clock) change nothing twice', async () => {
    const sqs = new SQSClient({ endpoint: runtime.emulator.endpoint, region: localRegion, credentials: localCredentials });
    const world = new World(pipe);
    await world.start();
    for (const o of flow.slice(0, 5)) {
      await world.run(o);
      await runtime.emulator.drain(90_000);
    }
    const batches = await world.batches();
    const messages = [
      { queue: 'batch-cuts' as const, body: { kind: 'check', campaignId: world.campaignId } },
      ...batches.map((b) => ({ queue: 'batch-cuts' as const, body: { kind: 'unwind', batchId: b.batchId } })),
      { queue: 'campaign-clock' as const, body: { kind: 'sweep' } },
    ];
    for (let round = 0; round < 2; round++) {
      for (const m of messages) await sqs.send(new SendMessageCommand({ QueueUrl: runtime.emulator.queueUrl(m.queue), MessageBody: JSON.stringify(m.body) }));
    }
    await runtime.emulator.drain(90_000);
    await world.checkInvariants(false);
    // An unwind of a live batch does nothing; a repeated check may cut a lot that is due, never touch a cut one.
    const after = await world.batches();
    for (const b of batches) expect(after.find((x) => x.batchId === b.batchId)?.status).toBe(b.status);
    for (const o of flow.slice(5)) {
      await world.run(o);
      await runtime.emulator.drain(90_000);
    }
    await world.finish();
    await world.checkInvariants(true);
    tried.push(`${messages.length} consumer messages sent twice each mid-flow: invariants hold`);
  }, 120_000);
});

describe('DynamoDB throttling', () => {
  it('with 5% of DynamoDB calls throttled in every function, the API answers 429 (never 5xx), the queues retry, and nothing accepted is lost or counted twice', async () => {
    const world = new World(pipe);
    await world.start();
    fault = { throttle: 0.05, fired: 0 };
    const statuses = new Map<number, number>();
    const burst = new Set<string>();
    // A burst through the API under throttling, each buyer retrying 429s as a client would.
    await Promise.all(
      Array.from({ length: 40 }, async (_, i) => {
        const buyer = pipe.buyers[i % pipe.buyers.length]!;
        for (let attempt = 0; attempt < 10; attempt++) {
          const r = await buyer.post<{ preorderId: string }>(`/v1/campaigns/${world.campaignId}/preorders`, preorderDraft({ sku: 'SHIRT-M', quantity: 1 }), {
            idempotencyKey: `throttle-${world.campaignId}-${i}`,
          });
          statuses.set(r.status, (statuses.get(r.status) ?? 0) + 1);
          expect(r.status, JSON.stringify(r.body)).toBeLessThan(500);
          if (r.status === 429) expect(r.headers.get('retry-after')).toBeTruthy();
          if (r.status === 202) {
            burst.add(r.body.preorderId);
            if (!world.preorders.some((p) => p.id === r.body.preorderId)) world.preorders.push({ id: r.body.preorderId, buyer: i % pipe.buyers.length });
            return;
          }
          await new Promise((res) => setTimeout(res, 50));
        }
      }),
    );
    await runtime.emulator.drain(90_000); // the consumers behind the burst, throttled too, retry by redelivery
    const fired = fault.fired;
    fault = undefined;
    for (const o of flow.slice(4)) {
      await world.run(o);
      await runtime.emulator.drain(90_000);
    }
    await world.finish();
    await world.checkInvariants(true);
    expect(burst.size).toBe(40); // every buyer of the burst got in, once (retries found their first pre-order)
    expect(fired).toBeGreaterThan(0);
    tried.push(`5% of DynamoDB calls throttled (${fired} injected): answers ${[...statuses].map(([s, n]) => `${s}×${n}`).join(', ')}; 40 pre-orders, each once; invariants hold`);
  }, 300_000);
});

describe('The scheduler fires twice, or late', () => {
  it('a campaign closed by two close messages and a late one is closed once, with one final batch', async () => {
    const sqs = new SQSClient({ endpoint: runtime.emulator.endpoint, region: localRegion, credentials: localCredentials });
    const closesAt = Date.now() + 3_000;
    const created = await pipe.anchor.post<{ campaignId: string; closesAt: string }>('/v1/campaigns', {
      title: 'Scheduler faults',
      factoryId: 'factory-p',
      currency: 'CNY',
      variants: [{ sku: 'SHIRT-S', name: 'S', unitPrice: 100 }, { sku: 'SHIRT-M', name: 'M', unitPrice: 100 }],
      closesAt: new Date(closesAt).toISOString(),
      minTotalQuantity: 1,
      lotSize: 100,
      promisedShipDays: 5,
    });
    expect(created.status).toBe(201);
    const campaignId = created.body.campaignId;
    const world = new World(pipe);
    world.campaignId = campaignId;
    // The world checks the promises against the campaign's terms: these, not its defaults.
    world.closesAt = Date.parse(created.body.closesAt);
    world.terms = { ...world.terms, minTotalQuantity: 1, lotSize: 100, promisedShipDays: 5 };
    for (let i = 0; i < 3; i++) await world.run({ kind: 'place', buyer: i, sku: 1, quantity: 1 });
    // The one-time schedule fires on its own at closesAt; then the same message twice more, and a late one.
    await new Promise((r) => setTimeout(r, 3_500));
    for (const delay of [0, 0, 2]) {
      await sqs.send(new SendMessageCommand({ QueueUrl: runtime.emulator.queueUrl('campaign-clock'), MessageBody: JSON.stringify({ kind: 'close', campaignId }), DelaySeconds: delay }));
    }
    await new Promise((r) => setTimeout(r, 2_500));
    await runtime.emulator.drain(90_000);
    const campaign = (await pipe.anchor.get<{ status: string; closedAt: string }>(`/v1/campaigns/${campaignId}`)).body;
    expect(campaign.status).toBe('CLOSED');
    const closedEvents = runtime.emulator.events.filter((e) => e.detailType === 'campaign.closed' && (e.detail as { campaignId: string }).campaignId === campaignId);
    expect(new Set(closedEvents.map((e) => (e.detail as { eventId: string }).eventId)).size).toBe(1); // one fact, however often told
    const batches = await world.batches();
    expect(batches.filter((b) => b.status !== 'REJECTED')).toHaveLength(1);
    await world.finish();
    await world.checkInvariants(true);
    tried.push('campaign close fired by its schedule, twice more and once late: closed once, one final batch, invariants hold');
  }, 120_000);
});

describe('A webhook receiver that is down for a while', () => {
  it('gets every event once it is back, each under its stable id, with the failed attempts on record', async () => {
    let up = false;
    const seen: string[] = [];
    const receiver: Server = createServer((req, res) => {
      req.resume();
      req.on('end', () => {
        if (!up) return res.writeHead(503).end();
        seen.push(String(req.headers['c2m-event-id']));
        res.writeHead(200).end();
      });
    });
    await new Promise<void>((r) => receiver.listen(0, '127.0.0.1', r));
    const url = `http://127.0.0.1:${(receiver.address() as { port: number }).port}/events`;
    try {
      const hook = await pipe.factories['factory-p']!.post<{ webhookId: string }>('/v1/factory/webhooks', {
        url,
        events: ['batch.released', 'batch.accepted', 'shipment.created', 'shipment.delivered', 'batch.completed'],
      });
      expect(hook.status).toBe(201);
      // Down for the first 3 s (a few tries of the first deliveries), then back.
      const back = setTimeout(() => {
        up = true;
      }, 3_000);
      const world = new World(pipe);
      await world.start();
      for (const o of flow.slice(0, 7)) {
        await world.run(o);
        await runtime.emulator.drain(90_000);
      }
      await new Promise((r) => setTimeout(r, 3_000));
      clearTimeout(back);
      up = true;
      const deliveries = await waitFor(
        () => pipe.factories['factory-p']!.get<{ items: { eventId: string; status: string; attempts: unknown[] }[] }>(`/v1/factory/webhooks/${hook.body.webhookId}/deliveries?limit=200`),
        (r) => r.body.items.length > 0 && r.body.items.every((d) => d.status === 'DELIVERED'),
      );
      const items = deliveries.body.items;
      expect(items.every((d) => d.status === 'DELIVERED')).toBe(true);
      expect(items.some((d) => d.attempts.length > 1)).toBe(true); // it was down: earlier tries failed
      expect(new Set(seen)).toEqual(new Set(items.map((d) => d.eventId))); // every event reached it
      await world.finish();
      await world.checkInvariants(true);
      tried.push(`webhook receiver down ~3 s: ${items.length} deliveries, ${items.reduce((n, d) => n + d.attempts.length, 0)} attempts, all delivered once it came back`);
    } finally {
      receiver.close();
    }
  }, 120_000);
});

const waitFor = async <T>(probe: () => Promise<T>, done: (t: T) => boolean, timeoutMs = 40_000): Promise<T> => {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const value = await probe();
    if (done(value) || Date.now() > deadline) return value;
    await new Promise((r) => setTimeout(r, 250));
  }
};
