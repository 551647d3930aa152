import { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { DynamoDBDocumentClient, PutCommand, TransactWriteCommand, UpdateCommand } from '@aws-sdk/lib-dynamodb';
import { startDynamoDbLocal, ensureTable, localRegion, localCredentials } from '../lib/local/dynamodb.ts';

const d = await startDynamoDbLocal({ dataDir: null });
const table = 'probe';
await ensureTable(d.endpoint, table, { stream: process.env.STREAM !== '0' });
const client = DynamoDBDocumentClient.from(new DynamoDBClient({ endpoint: d.endpoint, region: localRegion, credentials: localCredentials }));
const item = Object.fromEntries(Array.from({ length: 30 }, (_, i) => [`a${i}`, 'x'.repeat(20)]));
const run = async (label: string, fn: (i: number) => Promise<unknown>, n = 3000, conc = 32) => {
  let next = 0; const t0 = performance.now();
  await Promise.all(Array.from({ length: conc }, async () => { while (next < n) { const i = next++; await fn(i); } }));
  const rate = n / ((performance.now() - t0) / 1000);
  console.log(label, rate.toFixed(0), '/s');
  return rate;
};
for (let g = 0; g < 64; g++) await client.send(new PutCommand({ TableName: table, Item: { PK: `G#${g}`, SK: 'GATE', open: true, ordered: { v0: 0 } } }));
for (let round = 0; round < 2; round++) {
  const put = await run('put', (i) => client.send(new PutCommand({ TableName: table, Item: { PK: `P#${round}#${i}`, SK: 'P', ...item }, ConditionExpression: 'attribute_not_exists(PK)' })));
  const put2 = await run('put+gsi', (i) => client.send(new PutCommand({ TableName: table, Item: { PK: `Q#${round}#${i}`, SK: 'P', GSI3PK: `W#${i % 64}`, GSI3SK: `${i}`, ...item }, ConditionExpression: 'attribute_not_exists(PK)' })));
  const upd = await run('update gate', (i) => client.send(new UpdateCommand({ TableName: table, Key: { PK: `G#${i % 64}`, SK: 'GATE' }, UpdateExpression: 'ADD ordered.v0 :one', ConditionExpression: '#o = :t', ExpressionAttributeNames: { '#o': 'open' }, ExpressionAttributeValues: { ':one': 1, ':t': true } })));
  const tx = await run('tx put+gate', (i) => client.send(new TransactWriteCommand({ TransactItems: [
    { Put: { TableName: table, Item: { PK: `T#${round}#${i}`, SK: 'P', GSI3PK: `W#${i % 64}`, GSI3SK: `${i}`, ...item }, ConditionExpression: 'attribute_not_exists(PK)' } },
    { Update: { TableName: table, Key: { PK: `G#${Math.floor(Math.random() * 64)}`, SK: 'GATE' }, UpdateExpression: 'ADD ordered.v0 :one', ConditionExpression: '#o = :t', ExpressionAttributeNames: { '#o': 'open' }, ExpressionAttributeValues: { ':one': 1, ':t': true } } },
  ] })));
  console.log('ratios put+gsi', (put2 / put).toFixed(2), 'update', (upd / put).toFixed(2), 'tx', (tx / put).toFixed(2));
}
await d.stop?.();
process.exit(0);
