import type { IConstruct } from 'constructs';

/**
 * CDK context key naming the stage: `npx cdk deploy --all -c stage=blue` deploys
 * c2m-blue-data, c2m-blue-compute and c2m-blue-console. Unset, the default stage
 * keeps the names c2m has always had (c2m-data, the `c2m` bus, queue `batch-cuts`…).
 */
export const stageContextKey = 'stage';

/**
 * What a stage name may be: lowercase letters, digits and inner hyphens, starting
 * with a letter, at most 16 characters. The tightest names it ends up in: an
 * EventBridge rule or schedule name (64, `c2m-<stage>-campaign-lifecycle-to-clock`),
 * a Cognito domain prefix (63, `c2m-<stage>-<account id>`, lowercase only) and
 * a CloudFormation stack name (letters, digits, hyphens).
 */
export const stageNamePattern = /^[a-z](?:[a-z0-9-]{0,14}[a-z0-9])?$/;

/** Refused as a stage name: it reads as "the default stage", which is no `-c stage` at all. */
const reservedStageNames = new Set(['default']);

/** The stage name, checked; a clear error naming the context key when it is not one. */
export const parseStageName = (value: unknown): string => {
  if (typeof value !== 'string' || !stageNamePattern.test(value)) {
    throw new Error(
      `Context ${stageContextKey} must be 1 to 16 lowercase letters, digits or inner hyphens, starting with a letter (got ${JSON.stringify(value)})`,
    );
  }
  if (reservedStageNames.has(value)) {
    throw new Error(`Context ${stageContextKey}=${value} is reserved: leave ${stageContextKey} unset for the default stage's names`);
  }
  return value;
};

/** The stage a scope's context names, or undefined for the default stage. */
export const stageFromContext = (scope: IConstruct): string | undefined => {
  const value: unknown = scope.node.tryGetContext(stageContextKey);
  if (value === undefined || value === null || value === '') return undefined;
  return parseStageName(value);
};

/**
 * The physical names of one stage. Every resource c2m names explicitly (queues,
 * the bus, rules, schedules, the schedule group, alarms, the dashboard, the web
 * ACL, the REST API, the user pool and its domain, the metrics namespace) takes
 * its name from here, so two stages in one account never claim the same name.
 *
 * The default stage returns every name unchanged. A named stage `blue` puts
 * `c2m-blue-` in front: `batch-cuts` → `c2m-blue-batch-cuts`, and a name that
 * already starts with the product's own `c2m-` keeps one: `c2m-campaigns` →
 * `c2m-blue-campaigns`, `c2m` → `c2m-blue`.
 */
export class StageNames {
  /** The default stage: today's names, `c2m-data` and the rest. */
  public static readonly default = new StageNames(undefined);

  /** The stage the scope's context names (`-c stage=…`), or the default. */
  public static fromContext(scope: IConstruct): StageNames {
    const stage = stageFromContext(scope);
    return stage === undefined ? StageNames.default : new StageNames(stage);
  }

  /** The stage's name; undefined for the default stage. */
  public readonly stage: string | undefined;

  public constructor(stage: string | undefined) {
    this.stage = stage === undefined ? undefined : parseStageName(stage);
  }

  /** The prefix every name of the stage starts with: `c2m`, or `c2m-<stage>`. */
  public get prefix(): string {
    return this.stage === undefined ? 'c2m' : `c2m-${this.stage}`;
  }

  /** A stack's name and construct id: `c2m-data`, or `c2m-<stage>-data`. */
  public stackName(part: 'data' | 'compute' | 'console'): string {
    return `${this.prefix}-${part}`;
  }

  /** The physical name of what the default stage calls `name`. */
  public physical(name: string): string {
    if (this.stage === undefined) return name;
    if (name === 'c2m') return this.prefix;
    return `${this.prefix}-${name.startsWith('c2m-') ? name.slice('c2m-'.length) : name}`;
  }

  /**
   * The CloudWatch namespace the functions' Powertools Metrics write to, and the
   * alarms and dashboard read. Per stage: alarms filter by `service` (the function
   * name), which two stages share, so one namespace would mix their counts.
   */
  public get metricsNamespace(): string {
    return this.physical('c2m');
  }
}
