import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { Template } from 'aws-cdk-lib/assertions';
import { buildApp } from '../../lib/aws/app.ts';
import type { LocalRuntime } from '../../lib/local/runtime.ts';
import { startTestRuntime } from '../support/runtime.ts';

/**
 * Local and cloud cannot drift: everything the synthesized CloudFormation
 * template wires (routes, queue consumers, rules, schedules) must be served by
 * a running local runtime, and the reverse. Both sides are read from what was
 * built (template resources; the runtime's live router, pollers, rule matchers
 * and timers), not from lib/topology.ts.
 */
type Resources = Record<string, { Type: string; Properties: Record<string, unknown> }>;

const { data, compute } = buildApp({ bundling: false });
const dataTemplate = Template.fromStack(data).toJSON() as { Resources: Resources; Outputs?: Record<string, { Value: unknown }> };
const computeTemplate = Template.fromStack(compute).toJSON() as { Resources: Resources };

const ofType = (resources: Resources, type: string) => Object.entries(resources).filter(([, r]) => r.Type === type);
const getAtt = (value: unknown): string | undefined => (value as { 'Fn::GetAtt'?: [string, string] })?.['Fn::GetAtt']?.[0];
const ref = (value: unknown): string | undefined => (value as { Ref?: string })?.Ref;

/** Lambda logical id → topology function name (each function carries it as its service name). */
const functionByLogicalId = new Map(
  ofType(computeTemplate.Resources, 'AWS::Lambda::Function').map(([id, r]) => [
    id,
    (r.Properties.Environment as { Variables: Record<string, string> }).Variables.POWERTOOLS_SERVICE_NAME,
  ]),
);
const queueNameByLogicalId = new Map(
  ofType(dataTemplate.Resources, 'AWS::SQS::Queue').map(([id, r]) => [id, r.Properties.QueueName as string]),
);

/** A queue ARN as the compute stack sees it: a cross-stack output of the data stack. */
const queueOfArn = (arn: unknown): string | undefined => {
  const direct = getAtt(arn);
  if (direct) return queueNameByLogicalId.get(direct);
  const output = (arn as { 'Fn::GetStackOutput'?: { OutputName: string } })?.['Fn::GetStackOutput']?.OutputName;
  const value = output ? dataTemplate.Outputs?.[output]?.Value : undefined;
  return queueNameByLogicalId.get(getAtt(value) ?? '');
};

const templateRoutes = () => {
  const resources = new Map(
    ofType(computeTemplate.Resources, 'AWS::ApiGateway::Resource').map(([id, r]) => [
      id,
      { part: r.Properties.PathPart as string, parent: ref(r.Properties.ParentId) },
    ]),
  );
  const pathOf = (id: string | undefined): string => {
    const r = id ? resources.get(id) : undefined;
    return r ? `${pathOf(r.parent)}/${r.part}` : '';
  };
  return ofType(computeTemplate.Resources, 'AWS::ApiGateway::Method')
    .filter(([, m]) => m.Properties.HttpMethod !== 'OPTIONS')
    .map(([, m]) => {
      const uri = JSON.stringify((m.Properties.Integration as { Uri: unknown }).Uri);
      const fnId = [...functionByLogicalId.keys()].find((id) => uri.includes(`"${id}"`));
      return {
        method: m.Properties.HttpMethod as string,
        path: pathOf(ref(m.Properties.ResourceId)),
        fn: fnId ? functionByLogicalId.get(fnId) : undefined,
        auth: m.Properties.AuthorizationType === 'CUSTOM',
      };
    });
};

/** SQS mappings have no starting position; the table stream's has one. */
const isStreamMapping = (m: { Properties: Record<string, unknown> }) => m.Properties.StartingPosition !== undefined;

const templateConsumers = () =>
  ofType(computeTemplate.Resources, 'AWS::Lambda::EventSourceMapping').filter(([, m]) => !isStreamMapping(m)).map(([, m]) => ({
    queue: queueOfArn(m.Properties.EventSourceArn),
    consumer: functionByLogicalId.get(ref(m.Properties.FunctionName) ?? ''),
    batchSize: m.Properties.BatchSize,
  }));

const templateStreamConsumers = () =>
  ofType(computeTemplate.Resources, 'AWS::Lambda::EventSourceMapping').filter(([, m]) => isStreamMapping(m)).map(([, m]) => ({
    consumer: functionByLogicalId.get(ref(m.Properties.FunctionName) ?? ''),
    batchSize: m.Properties.BatchSize,
    patterns: ((m.Properties.FilterCriteria as { Filters: { Pattern: string }[] }).Filters ?? []).map((f) => JSON.parse(f.Pattern) as unknown),
  }));

const templateRules = () =>
  ofType(dataTemplate.Resources, 'AWS::Events::Rule').map(([, r]) => ({
    name: r.Properties.Name,
    pattern: r.Properties.EventPattern,
    targets: (r.Properties.Targets as { Arn: unknown }[]).map((t) => queueOfArn(t.Arn)),
  }));

const templateSchedules = () =>
  ofType(dataTemplate.Resources, 'AWS::Scheduler::Schedule').map(([, s]) => {
    const target = s.Properties.Target as { Arn: unknown; Input: string };
    return {
      name: s.Properties.Name,
      expression: s.Properties.ScheduleExpression,
      queue: queueOfArn(target.Arn),
      input: JSON.parse(target.Input) as unknown,
    };
  });

const byKey = <T>(items: T[], key: (t: T) => string) => [...items].sort((a, b) => key(a).localeCompare(key(b)));

let runtime: LocalRuntime;
beforeAll(async () => {
  runtime = await startTestRuntime();
});
afterAll(() => runtime?.stop());

describe('The synthesized template and the local runtime serve the same topology', () => {
  it('Every API Gateway route is served locally by the same function with the same auth, and the reverse', () => {
    const key = (r: { method: string; path: string }) => `${r.method} ${r.path}`;
    const cloud = byKey(templateRoutes(), key);
    const local = byKey(runtime.served().routes, key);
    expect(cloud.length).toBeGreaterThan(0);
    expect(local).toEqual(cloud);
  });

  it('Every SQS event source mapping has a local poller on the same queue, consumer and batch size, and the reverse', () => {
    const cloud = byKey(templateConsumers(), (c) => c.queue ?? '');
    const local = byKey(
      runtime.served().queues.map((q) => ({ queue: q.name, consumer: q.consumer, batchSize: q.batchSize })),
      (c) => c.queue,
    );
    expect(cloud.length).toBeGreaterThan(0);
    expect(local).toEqual(cloud);
  });

  it("Every consumer of the table's stream has a local stream poller with the same batch size and filter, and the reverse", () => {
    const cloud = byKey(templateStreamConsumers(), (c) => c.consumer ?? '');
    const local = byKey(
      runtime.served().streams.map((s) => ({
        consumer: s.consumer,
        batchSize: s.batchSize,
        patterns: [{ eventName: s.filter.eventNames, dynamodb: { NewImage: { type: { S: s.filter.itemTypes } } } }],
      })),
      (c) => c.consumer,
    );
    expect(cloud.length).toBeGreaterThan(0);
    expect(JSON.parse(JSON.stringify(local))).toEqual(cloud);
  });

  it('Every queue consumed locally dead-letters after the same number of receives as its SQS redrive policy', () => {
    const redrive = new Map(
      ofType(dataTemplate.Resources, 'AWS::SQS::Queue')
        .filter(([, q]) => q.Properties.RedrivePolicy)
        .map(([, q]) => [
          q.Properties.QueueName as string,
          {
            dlq: queueNameByLogicalId.get(getAtt((q.Properties.RedrivePolicy as { deadLetterTargetArn: unknown }).deadLetterTargetArn) ?? ''),
            maxReceiveCount: (q.Properties.RedrivePolicy as { maxReceiveCount: number }).maxReceiveCount,
          },
        ]),
    );
    for (const q of runtime.served().queues) {
      expect(redrive.get(q.name), q.name).toEqual({ dlq: q.dlq, maxReceiveCount: q.maxReceiveCount });
    }
  });

  it('Every EventBridge rule is matched locally with the same pattern into the same queue, and the reverse', () => {
    const cloud = byKey(templateRules(), (r) => String(r.name));
    const local = byKey(
      runtime.served().rules.map((r) => ({ name: r.name, pattern: r.pattern, targets: [r.targetQueue] })),
      (r) => r.name,
    );
    expect(cloud.length).toBeGreaterThan(0);
    expect(JSON.parse(JSON.stringify(local))).toEqual(cloud);
  });

  it('Every rate schedule ticks locally at the same rate into the same queue, and the reverse', () => {
    const cloud = byKey(templateSchedules(), (s) => String(s.name));
    const local = byKey(
      runtime.served().schedules.map((s) => ({
        name: s.name,
        expression: `rate(${s.rateMinutes} minute${s.rateMinutes === 1 ? '' : 's'})`,
        queue: s.targetQueue,
      })),
      (s) => s.name,
    );
    expect(cloud.length).toBeGreaterThan(0);
    expect(local).toEqual(cloud.map(({ input: _input, ...rest }) => rest));
  });
});

describe('Each function sees the same configuration on both targets', () => {
  it('Every function gets the same environment variable names locally as in the template, and no more', () => {
    // Same names on both targets; only the values differ (the local issuer and emulator instead of Cognito).
    const normalise = (names: string[]) => [...names].sort();
    const platform = /^(POWERTOOLS_|NODE_OPTIONS$|AWS_)/;
    const cloud = Object.fromEntries(
      ofType(computeTemplate.Resources, 'AWS::Lambda::Function').map(([, r]) => {
        const vars = (r.Properties.Environment as { Variables: Record<string, string> }).Variables;
        return [vars.POWERTOOLS_SERVICE_NAME, normalise(Object.keys(vars).filter((n) => !platform.test(n)))];
      }),
    );
    const local = Object.fromEntries(Object.entries(runtime.served().environments).map(([fn, env]) => [fn, normalise(Object.keys(env))]));
    expect(Object.keys(cloud).length).toBeGreaterThan(0);
    expect(local).toEqual(cloud);
    // The authorizer reads factory client records and verifies tokens against the trusted issuers' JWKS.
    expect(local['authorizer']).toEqual(['TABLE_NAME', 'TRUSTED_ISSUERS']);
    // Health reads the notifications queue's attributes and the schedule group (named per stage), so it needs their names too; the OpenAPI document names the issuer.
    expect(local['service-api']).toEqual(['OIDC_DISCOVERY_URL', 'QUEUE_URL_NOTIFICATIONS', 'SCHEDULE_GROUP', 'TABLE_NAME']);
    expect(local['operator-api']).toEqual(['TABLE_NAME', 'USER_POOL_ID']);
  });
});
