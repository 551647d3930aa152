import { Stack } from 'aws-cdk-lib';
import { Template } from 'aws-cdk-lib/assertions';
import { AwsSolutionsChecks } from 'cdk-nag';
import { describe, expect, it } from 'vitest';
import { addStage, buildApp, createApp, type C2mStage } from '../../lib/aws/app.ts';
import { stageContextKey } from '../../lib/aws/stage.ts';
import { campaignScheduleGroup, eventSource, functions, queues, rules, schedules, tableStreams } from '../../lib/topology.ts';
import { must } from '../support/cdk.ts';

/**
 * `cdk deploy -c stage=<name>` deploys a complete copy under its own names; the
 * default stage keeps today's. Proven by building the default stage and two named
 * ones side by side in one app (as they would share one account) and reading
 * every name their templates set.
 */

interface CfnTemplate {
  readonly Resources: Record<string, { Type: string; Properties?: Record<string, unknown> }>;
}

// Prepare: three stages in one app, bundling skipped.
const app = createApp({ bundling: false });
const stages: Record<'default' | 'blue' | 'green', C2mStage> = {
  default: addStage(app, undefined),
  blue: addStage(app, 'blue'),
  green: addStage(app, 'green'),
};
const stacksOf = (stage: C2mStage): Stack[] => [stage.data, stage.compute, stage.consoleHosting];
const templateOf = (stack: Stack): CfnTemplate => Template.fromStack(stack).toJSON() as CfnTemplate;

/**
 * A name as it will read once deployed: a resource's Ref is that stack's resource
 * (`<stack>.<logicalId>`, distinct per stack), a pseudo parameter stays a placeholder
 * (`${AWS::AccountId}`: the stages share one account and region).
 */
const rendered = (stackName: string, value: unknown): string => {
  if (typeof value === 'string') return value;
  const v = value as Record<string, unknown>;
  if (Array.isArray(v['Fn::Join'])) {
    const [separator, parts] = v['Fn::Join'] as [string, unknown[]];
    return parts.map((part) => rendered(stackName, part)).join(separator);
  }
  if (typeof v['Ref'] === 'string') return (v['Ref'] as string).startsWith('AWS::') ? `\${${v['Ref'] as string}}` : `${stackName}.${v['Ref'] as string}`;
  if (Array.isArray(v['Fn::GetAtt'])) return `${stackName}.${(v['Fn::GetAtt'] as string[]).join('.')}`;
  throw new Error(`cannot render ${JSON.stringify(value)}`);
};

/**
 * Every property that names something, by resource type and property, classified.
 * `unique`: a name the account (or region) holds once, which two stages must never
 * share. `scoped`: a name that only has to be unique inside its parent (a pool, an
 * API, a role) or is no name at all (a label, a metric, a reference). A name
 * property of a type not listed here fails the test, so whoever adds a named
 * resource decides which it is.
 */
const unique = new Set([
  'AWS::SQS::Queue QueueName',
  'AWS::CloudWatch::Alarm AlarmName',
  'AWS::CloudWatch::Dashboard DashboardName',
  'AWS::Events::EventBus Name',
  'AWS::Events::Rule Name',
  'AWS::Scheduler::Schedule Name',
  'AWS::Scheduler::ScheduleGroup Name',
  'AWS::WAFv2::WebACL Name',
  // Not required unique by API Gateway, but its metrics (and the API alarms) are keyed by it.
  'AWS::ApiGateway::RestApi Name',
  'AWS::Cognito::UserPool UserPoolName',
  'AWS::Cognito::UserPoolDomain Domain',
  'AWS::CloudFront::Function Name',
  'AWS::CloudFront::ResponseHeadersPolicy ResponseHeadersPolicyConfig.Name',
  'AWS::CloudFront::OriginAccessControl OriginAccessControlConfig.Name',
  'AWS::Logs::LogGroup LogGroupName',
]);
const scoped = new Set([
  'AWS::ApiGateway::Authorizer Name', // per API
  'AWS::ApiGateway::Stage StageName', // per API
  'AWS::Cognito::UserPoolClient ClientName', // per pool
  'AWS::Cognito::UserPoolGroup GroupName', // per pool
  'AWS::Cognito::UserPoolResourceServer Name', // per pool
  'AWS::IAM::Policy PolicyName', // inline, per role
  'AWS::SNS::Topic DisplayName', // a label
  'AWS::CloudWatch::Alarm MetricName', // what it watches
  'AWS::Events::Rule EventBusName', // a reference
  'AWS::Lambda::Permission FunctionName', // a reference
  'AWS::Lambda::EventSourceMapping FunctionName', // a reference
  'Custom::CDKBucketDeployment DestinationBucketName', // a reference
  'Custom::S3AutoDeleteObjects BucketName', // a reference
]);

interface Named {
  readonly stack: string;
  readonly key: string;
  readonly value: string;
}

/** The names a stage's templates set, account-unique ones only; unclassified name properties are returned apart. */
const namesOf = (stage: C2mStage): { unique: Named[]; unclassified: string[] } => {
  const found: Named[] = [];
  const unclassified: string[] = [];
  for (const stack of stacksOf(stage)) {
    for (const resource of Object.values(templateOf(stack).Resources)) {
      for (const [property, value] of Object.entries(resource.Properties ?? {})) {
        const candidates: [string, unknown][] = [];
        if (/Name$/.test(property) || property === 'Domain') candidates.push([property, value]);
        else if (/Config$/.test(property) && value !== null && typeof value === 'object' && 'Name' in value) {
          candidates.push([`${property}.Name`, (value as { Name: unknown }).Name]);
        }
        for (const [path, v] of candidates) {
          const key = `${resource.Type} ${path}`;
          if (unique.has(key)) found.push({ stack: stack.stackName, key, value: rendered(stack.stackName, v) });
          else if (!scoped.has(key)) unclassified.push(key);
        }
      }
    }
  }
  return { unique: found, unclassified };
};
const names = { default: namesOf(stages.default), blue: namesOf(stages.blue), green: namesOf(stages.green) };

/** What the default stage's names become in stage `s`: c2m-<s>- in front, the product's own c2m- kept once. */
const staged = (s: string, name: string): string => (name === 'c2m' ? `c2m-${s}` : `c2m-${s}-${name.replace(/^c2m-/, '')}`);

/**
 * Today's names, from the topology and as they are spelled in the code: what the
 * default stage must keep (a rename would replace the table's neighbours, the queues
 * with their messages, the user pool with its users).
 */
const todaysNames = (): string[] => {
  const queueNames = queues.flatMap((q) => [q.name, `${q.name}-dlq`]);
  const deliveryDlqs = [...rules, ...schedules].map((r) => `${r.name}-dlq`);
  return [
    ...queueNames,
    ...deliveryDlqs,
    ...[...queueNames.filter((n) => n.endsWith('-dlq')), ...deliveryDlqs].map((dlq) => `${dlq}-not-empty`),
    ...rules.map((r) => r.name),
    ...schedules.map((s) => s.name),
    ...functions.flatMap((f) => [`c2m-${f.name}-errors`, `c2m-${f.name}-throttles`]),
    ...tableStreams.map((t) => `c2m-${t.name}-iterator-age`),
    eventSource, // the bus
    campaignScheduleGroup,
    'c2m', // the user pool
    'c2m-${AWS::AccountId}', // its hosted-UI domain
    'c2m', // the REST API
    'c2m-api', // the web ACL
    'c2m', // the dashboard
    'c2m-outbox-quarantine',
    'c2m-intake-unreadable-preorder',
    'c2m-api-5xx',
    'c2m-api-p99-latency',
    'c2m-intake-cut-not-asked',
    'c2m-outbox-age',
    'c2m-webhooks-disabled',
  ];
};
/** Names CDK makes up from the stack and construct path (CloudFront's, a bucket deployment's log group): they follow the stack name. */
const generated = (n: Named) => /CloudFront|LogGroup/.test(n.key);

describe('Stages: a complete, separately named copy per stage', () => {
  it('stacks are c2m-data, c2m-compute, c2m-console for the default stage, c2m-<stage>-… for a named one', () => {
    expect(stacksOf(stages.default).map((s) => s.stackName)).toEqual(['c2m-data', 'c2m-compute', 'c2m-console']);
    expect(stacksOf(stages.blue).map((s) => s.stackName)).toEqual(['c2m-blue-data', 'c2m-blue-compute', 'c2m-blue-console']);
    const stackNames = app.node.children.filter((c) => Stack.isStack(c)).map((c) => (c as Stack).stackName);
    expect(stackNames).toHaveLength(9);
    expect(new Set(stackNames).size).toBe(9);
  });

  it('every name property of every resource is classified as account-unique or scoped', () => {
    expect([...new Set([...names.default.unclassified, ...names.blue.unclassified])]).toEqual([]);
  });

  it('the default stage keeps exactly the names it has today', () => {
    const declared = names.default.unique.filter((n) => !generated(n)).map((n) => n.value);
    expect(declared.slice().sort()).toEqual(todaysNames().sort());
  });

  it("a named stage's names are the default's with c2m-<stage>- in front", () => {
    const declared = names.blue.unique.filter((n) => !generated(n)).map((n) => n.value);
    expect(declared.slice().sort()).toEqual(todaysNames().map((n) => staged('blue', n)).sort());
  });

  it('no two stages in one account claim the same name', () => {
    const owners = new Map<string, string>();
    const clashes: string[] = [];
    for (const [stage, { unique: found }] of Object.entries(names)) {
      for (const n of found) {
        const id = `${n.key}=${n.value}`;
        const owner = owners.get(id);
        if (owner !== undefined && owner !== stage) clashes.push(`${id} (${owner} and ${stage})`);
        owners.set(id, stage);
      }
    }
    expect(names.blue.unique.length).toBeGreaterThan(80);
    expect(clashes).toEqual([]);
  });

  it('every account-unique name of a named stage carries the stage', () => {
    for (const n of names.green.unique) {
      expect(n.value.replace(/-/g, ''), `${n.key} in ${n.stack}`).toMatch(/c2mgreen/);
    }
  });

  it("a named stage's functions write metrics to its own namespace, and its alarms and dashboard read it", () => {
    const compute = Template.fromStack(stages.blue.compute);
    for (const fn of Object.values(compute.findResources('AWS::Lambda::Function'))) {
      expect((fn as { Properties: { Environment: { Variables: Record<string, unknown> } } }).Properties.Environment.Variables['POWERTOOLS_METRICS_NAMESPACE']).toBe('c2m-blue');
    }
    const alarms = Object.values(compute.findResources('AWS::CloudWatch::Alarm')) as { Properties: Record<string, unknown> }[];
    const namespaces = new Set(alarms.map((a) => a.Properties['Namespace']).filter((n) => typeof n === 'string' && !n.startsWith('AWS/')));
    expect(namespaces).toEqual(new Set(['c2m-blue']));
    const dashboard = JSON.stringify(Object.values(compute.findResources('AWS::CloudWatch::Dashboard'))[0]);
    expect(dashboard).toContain('{c2m-blue,service}');
    expect(dashboard).not.toContain('{c2m,service}');
  });

  it("a named stage's functions may schedule only in its own schedule group", () => {
    const policies = JSON.stringify(Template.fromStack(stages.blue.compute).findResources('AWS::IAM::Policy'));
    expect(policies).toContain(':schedule/c2m-blue-campaigns/*');
    expect(policies).not.toContain(':schedule/c2m-campaigns/');
  });

  it("a named stage's health probes its own schedule group, named in the function's environment", () => {
    const compute = Template.fromStack(stages.blue.compute);
    const service = Object.values(compute.findResources('AWS::Lambda::Function')).find(
      (fn) => (fn as { Properties: { Environment: { Variables: Record<string, unknown> } } }).Properties.Environment.Variables['POWERTOOLS_SERVICE_NAME'] === 'service-api',
    ) as { Properties: { Environment: { Variables: Record<string, unknown> } } } | undefined;
    // Not the default stage's c2m-campaigns: health of a named stage would say down, or probe a neighbour.
    expect(service?.Properties.Environment.Variables['SCHEDULE_GROUP']).toBe('c2m-blue-campaigns');
  });

  it('a named stage passes cdk-nag AwsSolutions like the default one', () => {
    const findings = stacksOf(stages.blue).flatMap((stack) =>
      new AwsSolutionsChecks().validateScope(stack).violations.map((v) => `${v.ruleName} at ${v.violatingResources.map((r) => r.constructPath).join(', ')}`),
    );
    expect(findings).toEqual([]);
  });

  it(`reads the stage from context ${stageContextKey}, as \`cdk deploy -c ${stageContextKey}=<name>\` gives it`, () => {
    const fromCli = buildApp({ bundling: false, context: { [stageContextKey]: 'qa-2' } });
    expect([fromCli.data, fromCli.compute, fromCli.consoleHosting].map((s) => s.stackName)).toEqual(['c2m-qa-2-data', 'c2m-qa-2-compute', 'c2m-qa-2-console']);
    expect(must(fromCli.names.stage, 'stage')).toBe('qa-2');
  });

  it.each([['Blue'], ['blue_1'], ['-blue'], ['blue-'], ['1blue'], ['a'.repeat(17)], ['default']])('refuses the stage name %j, saying what a stage name may be', (stage) => {
    expect(() => buildApp({ bundling: false, context: { [stageContextKey]: stage } })).toThrow(new RegExp(`Context ${stageContextKey}`));
  });
});
