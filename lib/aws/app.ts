import { readFileSync } from 'node:fs';
import { App, type Environment } from 'aws-cdk-lib';
import { ComputeStack } from './compute-stack.ts';
import { ConsoleStack, type ConsoleSignIn } from './console-hosting.ts';
import { DataStack } from './data-stack.ts';
import { externalConsoleFromContext } from './identity.ts';

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
}

export interface C2mApp {
  readonly app: App;
  readonly data: DataStack;
  readonly compute: ComputeStack;
  /** c2m-console; not `console`, which would shadow the global where it is destructured. */
  readonly consoleHosting: ConsoleStack;
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

/** The c2m CDK app: `c2m-data`, `c2m-compute` and `c2m-console`. bin/app.ts and the infra tests both build it here. */
export const buildApp = (opts: BuildAppOptions = {}): C2mApp => {
  const app = new App({
    context: { ...cdkJsonContext(), ...opts.context },
    // An empty list of stacks to bundle skips esbuild and the console's Vite build, even under the CLI.
    postCliContext: opts.bundling === false ? { 'aws:cdk:bundling-stacks': [] } : undefined,
    outdir: opts.outdir,
  });
  const env = opts.env ?? { account: process.env.CDK_DEFAULT_ACCOUNT, region: process.env.CDK_DEFAULT_REGION };
  const data = new DataStack(app, 'c2m-data', { env });
  const compute = new ComputeStack(app, 'c2m-compute', { env, data });
  const consoleHosting = new ConsoleStack(app, 'c2m-console', {
    env,
    api: compute.api.restApi,
    signIn: consoleSignIn(data),
    ...(opts.consoleDir !== undefined && { consoleDir: opts.consoleDir }),
  });
  return { app, data, compute, consoleHosting };
};
