import { basename } from 'node:path';
import { fileURLToPath } from 'node:url';
import { Duration, RemovalPolicy, Validations } from 'aws-cdk-lib';
import * as iam from 'aws-cdk-lib/aws-iam';
import * as lambda from 'aws-cdk-lib/aws-lambda';
import { NodejsFunction, OutputFormat, SourceMapMode } from 'aws-cdk-lib/aws-lambda-nodejs';
import * as logs from 'aws-cdk-lib/aws-logs';
import type { Construct } from 'constructs';
import type { FunctionName, FunctionSpec } from '../topology.ts';

/**
 * The newest Node.js runtime this aws-cdk-lib knows. cdk-nag L1 checks for the
 * latest of the family, and NODEJS_LATEST is a moving alias that would change
 * the runtime under a deployed function on a CDK upgrade; name it instead.
 */
export const houseRuntime = lambda.Runtime.NODEJS_24_X;

/** esbuild target matching the runtime, so syntax is never down-levelled for an older Node. */
export const houseBundleTarget = houseRuntime.name.replace(/^nodejs(\d+)\.x$/, 'node$1');

/** Defines `require` inside an ESM bundle, for CommonJS dependencies that call it. */
export const esmRequireBanner =
  "import { createRequire } from 'module'; const require = createRequire(import.meta.url);";

/**
 * Files a function reads at run time, by project path, copied into its asset
 * next to index.mjs. The service API serves the OpenAPI document as the file
 * `npm run client:generate` wrote, instead of bundling the generator (decision 32).
 */
export const bundledFiles: Partial<Record<FunctionName, readonly string[]>> = {
  'service-api': ['clients/typescript/openapi.json'],
};

/** Project root, from this module's own URL (ESM has no __dirname). */
const projectRoot = fileURLToPath(new URL('../../', import.meta.url));

export interface HouseFunctionProps {
  /** The topology entry this function is built from: name, entry, memory, timeout. */
  readonly spec: FunctionSpec;
  /**
   * Environment on top of the house defaults (Powertools names, source maps).
   * @default - house defaults only
   */
  readonly environment?: Readonly<Record<string, string>>;
  /**
   * Log retention for the function's own log group.
   * @default logs.RetentionDays.ONE_MONTH
   */
  readonly logRetention?: logs.RetentionDays;
}

/**
 * A Node.js Lambda function with every house default: newest Node runtime on
 * ARM, ESM bundle built locally by esbuild (no Docker) with the AWS SDK left
 * to the runtime, X-Ray tracing, Powertools environment, its own log group,
 * and an execution role that may write to that log group and nothing else
 * until a grant says otherwise.
 */
export class HouseFunction extends NodejsFunction {
  /** The topology entry this function was built from. */
  public readonly spec: FunctionSpec;
  public readonly functionLogGroup: logs.LogGroup;
  public readonly executionRole: iam.Role;

  constructor(scope: Construct, id: string, props: HouseFunctionProps) {
    const { spec } = props;
    const logGroup = new logs.LogGroup(scope, `${id}Logs`, {
      retention: props.logRetention ?? logs.RetentionDays.ONE_MONTH,
      // Operational logs with a month's retention; replacing compute must not
      // leave orphaned groups behind. The business record lives in the table.
      removalPolicy: RemovalPolicy.DESTROY,
    });
    // An own role instead of the AWSLambdaBasicExecutionRole managed policy,
    // whose logs:* on every log group is wider than this function needs.
    const role = new iam.Role(scope, `${id}Role`, {
      assumedBy: new iam.ServicePrincipal('lambda.amazonaws.com'),
      description: `Execution role of the ${spec.name} function`,
    });
    logGroup.grantWrite(role);

    super(scope, id, {
      entry: fileURLToPath(new URL('../../' + spec.entry, import.meta.url)),
      handler: 'handler',
      projectRoot,
      depsLockFilePath: fileURLToPath(new URL('../../package-lock.json', import.meta.url)),
      runtime: houseRuntime,
      architecture: lambda.Architecture.ARM_64,
      memorySize: spec.memoryMb,
      timeout: Duration.seconds(spec.timeoutSeconds),
      reservedConcurrentExecutions: spec.reservedConcurrency,
      description: spec.description,
      tracing: lambda.Tracing.ACTIVE,
      role,
      logGroup,
      environment: {
        POWERTOOLS_SERVICE_NAME: spec.name,
        POWERTOOLS_METRICS_NAMESPACE: 'c2m',
        NODE_OPTIONS: '--enable-source-maps',
        ...props.environment,
      },
      bundling: {
        format: OutputFormat.ESM,
        // Prefer packages' ESM builds so the bundle tree-shakes.
        mainFields: ['module', 'main'],
        minify: true,
        sourceMap: true,
        sourceMapMode: SourceMapMode.EXTERNAL,
        // Stack traces need names and lines, not the sources; keeps the asset small.
        sourcesContent: false,
        target: houseBundleTarget,
        externalModules: ['@aws-sdk/*'],
        banner: esmRequireBanner,
        forceDockerBundling: false,
        // Files a function reads at run time, copied next to its bundle (LAMBDA_TASK_ROOT).
        commandHooks: {
          beforeBundling: () => [],
          beforeInstall: () => [],
          afterBundling: (inputDir: string, outputDir: string) =>
            (bundledFiles[spec.name] ?? []).map((file) => `cp "${inputDir}/${file}" "${outputDir}/${basename(file)}"`),
        },
      },
    });
    this.spec = spec;
    this.functionLogGroup = logGroup;
    this.executionRole = role;
    // Tracing ACTIVE adds xray:PutTraceSegments and xray:PutTelemetryRecords on "*".
    Validations.of(role).acknowledge({
      id: 'AwsSolutions-IAM5[Resource::*]',
      reason:
        'The only "*" resource on this role is X-Ray trace upload (PutTraceSegments, PutTelemetryRecords), which supports no resource-level permissions; every data grant names its resource.',
    });
  }
}
