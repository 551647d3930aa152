import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { randomUUID } from 'node:crypto';
import { afterAll, afterEach, describe, expect, inject, test } from 'vitest';
import type { DynamoDBStreamEvent } from 'aws-lambda';
import { DynamoDBClient, PutItemCommand, UpdateItemCommand } from '@aws-sdk/client-dynamodb';
import { ensureTable, localRegion } from '../../lib/local/dynamodb.ts';
import { TableStreamPoller } from '../../lib/local/emulator/table-stream.ts';
import type { StreamConsumerSpec } from '../../lib/topology.ts';

// What the local runtime puts in place of Lambda's DynamoDB event source mapping, against DynamoDB Local's
// own stream: the order, the filter, batches, retries of a failed batch, and the position kept across a
// restart. Each test has a table in a database of its own (an access key of its own).
const endpoint = inject('dynamoEndpoint');
const dirs: string[] = [];
const pollers: TableStreamPoller[] = [];
afterEach(async () => {
  await Promise.all(pollers.splice(0).map((p) => p.stop()));
});
afterAll(() => {
  for (const d of dirs) rmSync(d, { recursive: true, force: true });
});

const spec: StreamConsumerSpec = {
  name: 'preorder-intake',
  consumer: 'preorder-intake',
  description: 'test',
  filter: { eventNames: ['INSERT'], itemTypes: ['preorder'] },
  batchSize: 3,
  maxBatchingWindowSeconds: 0,
};

type Answer = (records: DynamoDBStreamEvent['Records'], call: number) => unknown;

const setUp = async () => {
  const credentials = { accessKeyId: `stream${randomUUID().replace(/-/g, '').slice(0, 12)}`, secretAccessKey: 'local' };
  const tableName = `stream-${randomUUID().slice(0, 8)}`;
  await ensureTable(endpoint, tableName, { credentials });
  const ddb = new DynamoDBClient({ endpoint, region: localRegion, credentials });
  const dir = mkdtempSync(join(tmpdir(), 'c2m-stream-'));
  dirs.push(dir);
  const checkpointPath = join(dir, 'checkpoint.json');
  /** Every batch handed over, as the ids of its items. */
  const batches: string[][] = [];
  const start = (answer: Answer = () => undefined, path: string | null = checkpointPath) => {
    let calls = 0;
    const poller = new TableStreamPoller({
      spec,
      endpoint,
      tableName,
      region: localRegion,
      credentials,
      pollIntervalMs: 20,
      checkpointPath: path,
      invoke: async (_fn, event) => {
        const records = (event as DynamoDBStreamEvent).Records;
        batches.push(records.map((r) => String(r.dynamodb?.NewImage?.['id']?.S)));
        return answer(records, calls++);
      },
    });
    poller.start();
    pollers.push(poller);
    return poller;
  };
  const put = (id: string, type = 'preorder') =>
    ddb.send(new PutItemCommand({ TableName: tableName, Item: { PK: { S: `P#${id}` }, SK: { S: 'X' }, type: { S: type }, id: { S: id } } }));
  const modify = (id: string) =>
    ddb.send(
      new UpdateItemCommand({
        TableName: tableName,
        Key: { PK: { S: `P#${id}` }, SK: { S: 'X' } },
        UpdateExpression: 'SET touched = :t',
        ExpressionAttributeValues: { ':t': { S: 'yes' } },
      }),
    );
  return { batches, start, put, modify };
};

/** Until a pass begun now finds the stream read to its end, as drain() waits. */
const caughtUp = async (poller: TableStreamPoller) => {
  const mark = poller.passes;
  poller.wake();
  const deadline = Date.now() + 10_000;
  while (!poller.caughtUpAfter(mark)) {
    if (Date.now() > deadline) throw new Error('the poller did not catch up within 10 s');
    await new Promise((r) => setTimeout(r, 10));
  }
};

describe("The table's stream, followed as Lambda's event source mapping would", () => {
  test('Only new items of the filtered type reach the consumer, in the order written, at most batchSize at a time', async () => {
    const t = await setUp();
    for (const [i, type] of ['preorder', 'gate', 'preorder', 'notices', 'preorder', 'preorder', 'batch', 'preorder'].entries()) await t.put(`i${i}`, type);
    await t.modify('i0'); // a change of a pre-order, not a new one
    await t.put('i8');

    const poller = t.start();
    await caughtUp(poller);

    expect(t.batches.flat()).toEqual(['i0', 'i2', 'i4', 'i5', 'i7', 'i8']);
    expect(t.batches.every((b) => b.length >= 1 && b.length <= 3)).toBe(true);
  });

  test('When the consumer reports a record failed, the batch comes again from that record, and the ones before it do not', async () => {
    const t = await setUp();
    for (let i = 0; i < 3; i++) await t.put(`f${i}`);

    const poller = t.start((records, call) =>
      call === 0 ? { batchItemFailures: [{ itemIdentifier: records[1]?.dynamodb?.SequenceNumber }] } : { batchItemFailures: [] },
    );
    await caughtUp(poller);

    expect(t.batches[0]).toEqual(['f0', 'f1', 'f2']);
    expect(t.batches[1]).toEqual(['f1', 'f2']);
    expect(t.batches.flat().filter((id) => id === 'f0')).toHaveLength(1);
  });

  test('When the consumer throws, the same records come again until it takes them: none is skipped', async () => {
    const t = await setUp();
    for (let i = 0; i < 2; i++) await t.put(`t${i}`);

    const poller = t.start((_records, call) => {
      if (call < 2) throw new Error('consumer down');
      return undefined;
    });
    await caughtUp(poller);

    expect(t.batches).toEqual([
      ['t0', 't1'],
      ['t0', 't1'],
      ['t0', 't1'],
    ]);
  });

  test('Started again on its checkpoint file, it goes on after what was taken; without the file, it reads from the start', async () => {
    const t = await setUp();
    for (let i = 0; i < 4; i++) await t.put(`r${i}`);
    const first = t.start();
    await caughtUp(first);
    await first.stop();
    for (let i = 4; i < 6; i++) await t.put(`r${i}`);

    t.batches.length = 0;
    const second = t.start();
    await caughtUp(second);
    expect(t.batches.flat()).toEqual(['r4', 'r5']);
    await second.stop();

    t.batches.length = 0;
    const fresh = t.start(undefined, null);
    await caughtUp(fresh);
    expect(t.batches.flat()).toEqual(['r0', 'r1', 'r2', 'r3', 'r4', 'r5']);
  });
});
