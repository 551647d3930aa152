import { readFileSync } from 'node:fs';
import { App, type Environment } from 'aws-cdk-lib';
import { ComputeStack } from './compute-stack.ts';
import { DataStack } from './data-stack.ts';

export interface BuildAppOptions {
  /**
   * Bundle the functions with esbuild. Tests that only read templates turn it
   * off (about 2 s a stack with it, 0.2 s without).
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
}

export interface C2mApp {
  readonly app: App;
  readonly data: DataStack;
  readonly compute: ComputeStack;
}

/**
 * cdk.json's context (feature flags), so an App built by a test behaves like
 * the one `cdk synth` builds. The CLI passes the same values, and they win.
 */
const cdkJsonContext = (): Record<string, unknown> => {
  const cdkJson = JSON.parse(readFileSync(new URL('../../cdk.json', import.meta.url), 'utf8')) as { context?: Record<string, unknown> };
  return cdkJson.context ?? {};
};

/** The c2m CDK app: `c2m-data` and `c2m-compute`. bin/app.ts and the infra tests both build it here. */
export const buildApp = (opts: BuildAppOptions = {}): C2mApp => {
  const app = new App({
    context: { ...cdkJsonContext(), ...opts.context },
    // An empty list of stacks to bundle skips esbuild, even under the CLI.
    postCliContext: opts.bundling === false ? { 'aws:cdk:bundling-stacks': [] } : undefined,
    outdir: opts.outdir,
  });
  const env = opts.env ?? { account: process.env.CDK_DEFAULT_ACCOUNT, region: process.env.CDK_DEFAULT_REGION };
  const data = new DataStack(app, 'c2m-data', { env });
  const compute = new ComputeStack(app, 'c2m-compute', { env, data });
  return { app, data, compute };
};
