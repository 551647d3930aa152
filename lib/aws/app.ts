import { readFileSync } from 'node:fs';
import { App, type Environment } from 'aws-cdk-lib';
import { ComputeStack } from './compute-stack.ts';
import { ConsoleStack, type ConsoleSignIn } from './console-hosting.ts';
import { DataStack } from './data-stack.ts';
import { externalConsoleFromContext } from './identity.ts';
import { StageNames, parseStageName, stageFromContext } from './stage.ts';

export interface BuildAppOptions {
  /**
   * Bundle the functions with esbuild and build the console with Vite. Tests
   * that only read templates turn it off (about 2 s a stack with it, 0.2 s without).
   * @default true
   */
  readonly bundling?: boolean;
  /**
   * Where to deploy. Left undefined, the stacks are environment-agnostic and
   * synthesize without credentials.
   * @default - CDK_DEFAULT_ACCOUNT / CDK_DEFAULT_REGION, which may be unset
   */
  readonly env?: Environment;
  /**
   * Extra context, on top of cdk.json's.
   * @default - none
   */
  readonly context?: Readonly<Record<string, unknown>>;
  /**
   * Where to write the cloud assembly.
   * @default - the CLI's, or a temporary directory
   */
  readonly outdir?: string;
  /**
   * The console's Vite project, built into c2m-console when that stack is bundled.
   * @default - console/ of this repository
   */
  readonly consoleDir?: string;
  /**
   * The stage to build: its stacks are `c2m-<stage>-data`, `c2m-<stage>-compute` and
   * `c2m-<stage>-console`, and every name in them carries the stage (lib/aws/stage.ts).
   * @default - context `stage` (`cdk deploy -c stage=blue`); unset, the default stage, named as c2m always was
   */
  readonly stage?: string;
}

/** One stage's three stacks. */
export interface C2mStage {
  /** The names the stage's resources take. */
  readonly names: StageNames;
  readonly data: DataStack;
  readonly compute: ComputeStack;
  /** c2m-console; not `console`, which would shadow the global where it is destructured. */
  readonly consoleHosting: ConsoleStack;
}

export interface C2mApp extends C2mStage {
  readonly app: App;
}

/**
 * cdk.json's context (feature flags), so an App built by a test behaves like
 * the one `cdk synth` builds. The CLI passes the same values, and they win.
 */
const cdkJsonContext = (): Record<string, unknown> => {
  const cdkJson = JSON.parse(readFileSync(new URL('../../cdk.json', import.meta.url), 'utf8')) as { context?: Record<string, unknown> };
  return cdkJson.context ?? {};
};

/** How the hosted console signs in: with c2m's user pool, or with the operator's IdP named in the context. */
const consoleSignIn = (data: DataStack): ConsoleSignIn => {
  const pool = data.identity.cognito;
  if (pool) return { kind: 'userPool', userPool: pool.userPool, issuer: data.identity.issuerUrl, hostedUiUrl: pool.domain.baseUrl() };
  return { kind: 'external', issuer: data.identity.issuerUrl, ...externalConsoleFromContext(data) };
};

/** An App with cdk.json's context and the options' (no stage in it yet). */
export const createApp = (opts: Pick<BuildAppOptions, 'bundling' | 'context' | 'outdir'> = {}): App =>
  new App({
    context: { ...cdkJsonContext(), ...opts.context },
    // An empty list of stacks to bundle skips esbuild and the console's Vite build, even under the CLI.
    postCliContext: opts.bundling === false ? { 'aws:cdk:bundling-stacks': [] } : undefined,
    outdir: opts.outdir,
  });

/**
 * Adds one stage's stacks to an app. Each stage has its own table, bus, queues,
 * user pool, API, web ACL and alarms under its own names, so several can live in
 * one app (tests/infra/stages.test.ts builds three) and in one account. The one
 * setting they share is the account's: API Gateway's CloudWatch logging role
 * (AWS::ApiGateway::Account, one per account and region), which each stage points
 * at its own role; CDK retains those roles, so removing a stage leaves it valid.
 * @param stage the stage's name; undefined for the default stage
 */
export const addStage = (
  app: App,
  stage: string | undefined,
  opts: Pick<BuildAppOptions, 'env' | 'consoleDir'> = {},
): C2mStage => {
  const names = stage === undefined ? StageNames.default : new StageNames(stage);
  const env = opts.env ?? { account: process.env.CDK_DEFAULT_ACCOUNT, region: process.env.CDK_DEFAULT_REGION };
  const data = new DataStack(app, names.stackName('data'), { env, names });
  const compute = new ComputeStack(app, names.stackName('compute'), { env, data });
  const consoleHosting = new ConsoleStack(app, names.stackName('console'), {
    env,
    api: compute.api.restApi,
    signIn: consoleSignIn(data),
    ...(opts.consoleDir !== undefined && { consoleDir: opts.consoleDir }),
  });
  return { names, data, compute, consoleHosting };
};

/**
 * The c2m CDK app: `c2m-data`, `c2m-compute` and `c2m-console` (`c2m-<stage>-…` for a
 * named stage). bin/app.ts and the infra tests both build it here.
 */
export const buildApp = (opts: BuildAppOptions = {}): C2mApp => {
  const app = createApp(opts);
  const stage = opts.stage !== undefined ? parseStageName(opts.stage) : stageFromContext(app);
  return { app, ...addStage(app, stage, opts) };
};

