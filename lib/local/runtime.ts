import { mkdirSync, writeFileSync } from 'node:fs';
import { randomUUID } from 'node:crypto';
import { join } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import type { Context } from 'aws-lambda';
import { campaignScheduleGroup, functionEnvironment, functionSpec, functions, type FunctionName } from '../topology.ts';
import { withEnvironment } from '../../functions/shared/config.ts';
import { ensureTable, localCredentials, localRegion, startDynamoDbLocal, type LocalDynamo } from './dynamodb.ts';
import { startAwsEmulator, type AwsEmulator } from './aws-emulator.ts';
import { startGateway, type Gateway } from './gateway.ts';
import { consoleClientId, startLocalIssuer, type LocalIssuer } from './issuer.ts';
import { consoleBuilt, consoleSite, defaultConsoleDir, ensureConsoleBuilt, type ConsoleSite } from './console-site.ts';
import { devToken, issuerFile } from './dev-tokens.ts';
import type { Role } from '../../functions/shared/principal.ts';

/**
 * `npm start`: the whole topology in one Node process. DynamoDB Local is the
 * real DynamoDB API; the emulator answers the SQS, EventBridge and Scheduler
 * calls the adapters make and runs the queue consumers, rules and schedules;
 * the gateway plays API Gateway. Handler modules are the ones Lambda runs.
 */
export interface LocalRuntimeOptions {
  /** Keeps DynamoDB data, queued messages, schedules and the issuer's keys and clients; null = all in memory. */
  readonly dataDir: string | null;
  /** HTTP port; 0 picks a free one. */
  readonly port: number;
  /** Use an already running DynamoDB Local (tests share one) instead of starting one. */
  readonly dynamoEndpoint?: string;
  /**
   * The access key the runtime's functions and stream pollers use with DynamoDB
   * Local. Without `-sharedDb` (the tests' shared DynamoDB Local) each key has a
   * database of its own, so runtimes do not slow each other down: DynamoDB
   * Local's writes get slower the more stream records other tables of the same
   * database hold. @default localCredentials
   */
  readonly dynamoCredentials?: { readonly accessKeyId: string; readonly secretAccessKey: string };
  /** @default 'c2m' */
  readonly tableName?: string;
  /** Shorter queue visibility timeouts make redelivery visible in tests. */
  readonly visibilityTimeoutSeconds?: number;
  /** Overrides every event source's batching window (see the emulator option). */
  readonly maxBatchingWindowSeconds?: number;
  /** Powertools log level. @default 'INFO' */
  readonly logLevel?: string;
  /** Emit Powertools metrics (EMF lines on stdout). @default true */
  readonly metrics?: boolean;
  /** Print one access-log line per request. @default true */
  readonly accessLog?: boolean;
  /** Wraps each function invocation; tests use it to inject crashes. */
  readonly wrapInvoke?: (fn: FunctionName, event: unknown, invoke: () => Promise<unknown>) => Promise<unknown>;
  /** Setting values per function, over the topology's (tests use short retry delays and windows). */
  readonly settings?: Partial<Record<FunctionName, Record<string, string>>>;
  /** Stage throttling override (tests of 429). */
  readonly throttle?: { rateLimit: number; burstLimit: number };
  /** The anchors' console, served at `/console`. */
  readonly console?: {
    /** Its project folder: vite.config.ts, and the build in dist/. @default `<project>/console` */
    readonly dir?: string;
    /** Build dist/ (with vite) while the runtime starts when dist/index.html is missing. @default false */
    readonly buildWhenMissing?: boolean;
    /** Told one line when a build starts. */
    readonly onBuild?: (line: string) => void;
  };
}

export interface LocalRuntime {
  readonly url: string;
  /** The local OpenID provider at `${url}/oidc`. */
  readonly issuer: LocalIssuer;
  /** The console at `${url}/console/`, served from `dir`/dist. */
  readonly console: { readonly url: string; readonly dir: string; built(): boolean };
  /** An access token from the local issuer (dev grant) for an anchor, operator, buyer, live room, or a registered factory. */
  token(role: Role, id: string): Promise<string>;
  readonly tableName: string;
  readonly dynamoEndpoint: string;
  /** The credentials to read its table with (see the option). */
  readonly dynamoCredentials: { readonly accessKeyId: string; readonly secretAccessKey: string };
  readonly emulator: AwsEmulator;
  /** What this runtime serves, read from its live router, pollers, rule matchers and timers. */
  served(): {
    routes: ReturnType<Gateway['served']>;
    queues: ReturnType<AwsEmulator['served']>['queues'];
    streams: ReturnType<AwsEmulator['served']>['streams'];
    rules: ReturnType<AwsEmulator['served']>['rules'];
    schedules: ReturnType<AwsEmulator['served']>['schedules'];
    /** The configuration each function sees, by function. */
    environments: Record<FunctionName, Record<string, string>>;
  };
  stop(): Promise<void>;
}

const projectRoot = fileURLToPath(new URL('../../', import.meta.url));

/** The pool id the functions are given locally; the emulator answers for it. */
export const localUserPoolId = 'local_c2mpool';

const lambdaContext = (fn: FunctionName): Context => {
  const spec = functionSpec(fn);
  const deadline = Date.now() + spec.timeoutSeconds * 1000;
  return {
    callbackWaitsForEmptyEventLoop: false,
    functionName: `c2m-${fn}`,
    functionVersion: '$LATEST',
    invokedFunctionArn: `arn:aws:lambda:${localRegion}:000000000000:function:c2m-${fn}`,
    memoryLimitInMB: String(spec.memoryMb),
    awsRequestId: randomUUID(),
    logGroupName: `/aws/lambda/c2m-${fn}`,
    logStreamName: 'local',
    getRemainingTimeInMillis: () => Math.max(0, deadline - Date.now()),
    done: () => undefined,
    fail: () => undefined,
    succeed: () => undefined,
  };
};

export const startLocalRuntime = async (opts: LocalRuntimeOptions): Promise<LocalRuntime> => {
  const tableName = opts.tableName ?? 'c2m';
  const dynamoCredentials = opts.dynamoCredentials ?? localCredentials;
  if (opts.dataDir) mkdirSync(opts.dataDir, { recursive: true });
  const consoleDir = opts.console?.dir ?? defaultConsoleDir;
  // Alongside the rest of the start: a first build takes seconds, DynamoDB Local too.
  const consoleBuild = opts.console?.buildWhenMissing
    ? ensureConsoleBuilt({ dir: consoleDir, ...(opts.console.onBuild && { onBuild: opts.console.onBuild }) })
    : Promise.resolve('skipped' as const);
  // Awaited below; a failure before that must not go unhandled.
  consoleBuild.catch(() => undefined);

  let dynamo: LocalDynamo | undefined;
  const dynamoEndpoint =
    opts.dynamoEndpoint ??
    (dynamo = await startDynamoDbLocal({ dataDir: opts.dataDir ? join(opts.dataDir, 'dynamodb') : null })).endpoint;
  let emulator: AwsEmulator | undefined;
  let gateway: Gateway | undefined;
  let issuer: LocalIssuer | undefined;
  let site: ConsoleSite | undefined;
  const environments = {} as Record<FunctionName, Record<string, string>>;
  // The gateway listens first (the issuer's URL needs its port); nothing runs until every function is configured.
  let ready!: () => void;
  const configured = new Promise<void>((resolve) => (ready = resolve));
  try {
    await ensureTable(dynamoEndpoint, tableName, { credentials: dynamoCredentials });

    // What every function shares: the SDK's region, credentials and endpoints.
    // Each function's own configuration is scoped to its invocations below.
    Object.assign(process.env, {
      AWS_REGION: localRegion,
      AWS_ACCESS_KEY_ID: dynamoCredentials.accessKeyId,
      AWS_SECRET_ACCESS_KEY: dynamoCredentials.secretAccessKey,
      AWS_ENDPOINT_URL_DYNAMODB: dynamoEndpoint,
      POWERTOOLS_SERVICE_NAME: 'c2m-local',
      POWERTOOLS_METRICS_NAMESPACE: 'c2m',
      POWERTOOLS_TRACE_ENABLED: 'false',
      POWERTOOLS_METRICS_DISABLED: opts.metrics === false ? 'true' : 'false',
      POWERTOOLS_LOG_LEVEL: opts.logLevel ?? 'INFO',
      // engines says Node 20; the SDK's notice about its 2027 releases is in the README.
      AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED: 'true',
    });

    const modules = new Map<FunctionName, Promise<{ handler: (event: unknown, context: Context) => Promise<unknown> }>>();
    const load = (fn: FunctionName) => {
      let mod = modules.get(fn);
      if (!mod) {
        mod = import(pathToFileURL(join(projectRoot, functionSpec(fn).entry)).href);
        modules.set(fn, mod);
      }
      return mod;
    };
    const invoke = async (fn: FunctionName, event: unknown): Promise<unknown> => {
      await configured;
      const run = async () => (await load(fn)).handler(event, lambdaContext(fn));
      try {
        return await withEnvironment(environments[fn], () => (opts.wrapInvoke ? opts.wrapInvoke(fn, event, run) : run()));
      } finally {
        // Whatever it wrote is on the table's stream now: its consumers need not wait for their next poll.
        emulator?.tableMayHaveChanged();
      }
    };

    gateway = await startGateway({
      invoke,
      port: opts.port,
      otherwise: (req, res) => (issuer?.handle(req, res) ?? false) || (site?.handle(req, res) ?? false),
      ...(opts.throttle && { throttle: opts.throttle }),
      ...(opts.accessLog !== false && { accessLog: (line) => process.stdout.write(`${JSON.stringify(line)}\n`) }),
    });
    const localIssuer = await startLocalIssuer({ baseUrl: gateway.url, dataDir: opts.dataDir });
    issuer = localIssuer;
    // The issuer names itself by localhost whatever Host a browser used; config.json names that same issuer.
    site = consoleSite({ dir: consoleDir, config: { issuer: localIssuer.issuer, clientId: consoleClientId } });
    if (opts.dataDir) {
      // For `npm run token` and the demo: where this runtime's issuer answers.
      writeFileSync(issuerFile(opts.dataDir), JSON.stringify({ issuer: localIssuer.issuer, tokenEndpoint: localIssuer.tokenEndpoint, devClientId: localIssuer.devClient.clientId }), { mode: 0o600 });
    }

    emulator = await startAwsEmulator({
      dataDir: opts.dataDir ? join(opts.dataDir, 'aws') : null,
      invoke,
      identityProvider: { userPoolId: localUserPoolId, createClient: localIssuer.createClient, deleteClient: localIssuer.deleteClient },
      region: localRegion,
      table: { endpoint: dynamoEndpoint, name: tableName, credentials: { ...dynamoCredentials } },
      ...(opts.visibilityTimeoutSeconds !== undefined && { visibilityTimeoutSeconds: opts.visibilityTimeoutSeconds }),
      ...(opts.maxBatchingWindowSeconds !== undefined && { maxBatchingWindowSeconds: opts.maxBatchingWindowSeconds }),
    });
    Object.assign(process.env, {
      AWS_ENDPOINT_URL_SQS: emulator.endpoint,
      AWS_ENDPOINT_URL_EVENTBRIDGE: emulator.endpoint,
      AWS_ENDPOINT_URL_SCHEDULER: emulator.endpoint,
      AWS_ENDPOINT_URL_COGNITO_IDENTITY_PROVIDER: emulator.endpoint,
      AWS_ENDPOINT_URL_KMS: emulator.endpoint,
    });
    // The local issuer plays both parts: c2m's own (anchors, operators, factories) and the live platform's (buyers, live rooms).
    const trustedIssuers = JSON.stringify([
      { issuer: localIssuer.issuer, jwksUri: localIssuer.jwksUri, audience: localIssuer.audience, names: ['c2m', 'platform'] },
    ]);
    const aws = emulator;
    for (const spec of functions) {
      environments[spec.name] = functionEnvironment(spec, {
        table: tableName,
        bus: aws.busName,
        queueUrl: (queue) => aws.queueUrl(queue),
        scheduleGroup: campaignScheduleGroup,
        schedulerRole: 'arn:aws:iam::000000000000:role/c2m-local-scheduler',
        clockQueueArn: aws.queueArn('campaign-clock'),
        trustedIssuers,
        oidcDiscoveryUrl: localIssuer.discoveryUrl,
        userPoolId: localUserPoolId,
        notificationTopic: 'local:console',
        webhookSecretsKey: aws.kmsKeyArn,
      });
      // The local target's own setting values, then a test's: same names, other values.
      for (const [name, value] of Object.entries({ ...spec.localSettings, ...opts.settings?.[spec.name] })) {
        if (!(name in (spec.settings ?? {}))) throw new Error(`${spec.name} has no setting ${name}`);
        environments[spec.name][name] = value;
      }
    }
    // Import every function now: a broken module fails the start, not the first request.
    await Promise.all(functions.map((f) => load(f.name)));
    await consoleBuild;
    ready();
  } catch (err) {
    await consoleBuild.catch(() => undefined);
    await gateway?.close();
    await emulator?.stop();
    await dynamo?.stop();
    throw err;
  }
  const started = { gateway, emulator, environments, issuer: issuer as LocalIssuer };
  return {
    url: started.gateway.url,
    issuer: started.issuer,
    console: { url: `${started.gateway.url}/console/`, dir: consoleDir, built: () => consoleBuilt(consoleDir) },
    token: async (role, id) => (await devToken(started.issuer, role, id)).accessToken,
    tableName,
    dynamoEndpoint,
    dynamoCredentials,
    emulator: started.emulator,
    served: () => ({ routes: started.gateway.served(), ...started.emulator.served(), environments: started.environments }),
    stop: async () => {
      await started.gateway.close();
      await started.emulator.stop();
      await dynamo?.stop();
    },
  };
};
