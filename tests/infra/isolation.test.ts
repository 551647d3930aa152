import { Match, Template } from 'aws-cdk-lib/assertions';
import { describe, expect, it } from 'vitest';
import { metricNames } from '../../functions/shared/observability.ts';
import { buildApp } from '../../lib/aws/app.ts';
import { concurrencyContextKeys, defaultAccountConcurrency, minimumUnreservedConcurrency } from '../../lib/aws/concurrency.ts';
import {
  commonRuleSetCountOnly,
  defaultRateLimits,
  managedRuleGroups,
  rateLimitContextKey,
  rateLimitedProblemBody,
} from '../../lib/aws/http-api.ts';
import {
  alarmThresholds,
  intakeCutNotAskedMetric,
  outboxAgeMetric,
  webhooksDisabledMetric,
} from '../../lib/aws/observability.ts';
import { outboxMetrics } from '../../functions/adapters/outbox.ts';
import { metricNames as delivererMetrics } from '../../functions/handlers/webhooks/deliverer.ts';
import { functions, maxBodyBytes, queues, throttling, type FunctionName, type QueueName } from '../../lib/topology.ts';
import { logicalId, must } from '../support/cdk.ts';

/**
 * Issue 15: one tenant must not starve the others. Reserved concurrency for the
 * request path, a cap on every queue consumer, per-client and per-address limits
 * in front of the API, and alarms on what goes wrong when they bite.
 */

interface CfnResource {
  readonly Type: string;
  readonly Properties: Record<string, unknown>;
}

// Prepare: one app, bundling skipped (these tests read templates, not code).
const { data, compute } = buildApp({ bundling: false });
const dataTemplate = Template.fromStack(data);
const computeTemplate = Template.fromStack(compute);

const resourcesOf = (template: Template, type: string, props?: unknown): Record<string, CfnResource> =>
  template.findResources(type, props) as Record<string, CfnResource>;
const fnId = (name: FunctionName) => logicalId(must(compute.functions.get(name), `function ${name}`));
const queueId = (name: QueueName) => logicalId(must(data.queues.get(name), `queue ${name}`));
const refersTo = (value: unknown, id: string): boolean => JSON.stringify(value).includes(id);
const functionResource = (template: Template, name: FunctionName): CfnResource =>
  must(
    Object.values(resourcesOf(template, 'AWS::Lambda::Function')).find(
      (r) => (r.Properties['Environment'] as { Variables: Record<string, unknown> }).Variables['POWERTOOLS_SERVICE_NAME'] === name,
    ),
    `function ${name}`,
  );
const reservedIn = (template: Template): Map<string, number | undefined> =>
  new Map(
    functions.map((f) => [f.name, functionResource(template, f.name).Properties['ReservedConcurrentExecutions'] as number | undefined]),
  );
const sqsMappings = (): CfnResource[] =>
  Object.values(resourcesOf(computeTemplate, 'AWS::Lambda::EventSourceMapping')).filter((m) => m.Properties['StartingPosition'] === undefined);

describe('Reserved concurrency: the request path of a live sale keeps its share', () => {
  it('the authorizer and the pre-order API have the concurrency the topology reserves for them', () => {
    const reserved = reservedIn(computeTemplate);
    expect(reserved.get('authorizer')).toBe(100);
    expect(reserved.get('preorders-api')).toBe(250);
  });

  it('no other function reserves any: the rest share the unreserved pool', () => {
    const reserved = [...reservedIn(computeTemplate)].filter(([, n]) => n !== undefined).map(([name]) => name);
    expect(new Set(reserved)).toEqual(new Set(['authorizer', 'preorders-api']));
  });

  it(`leaves at least ${minimumUnreservedConcurrency} of a default ${defaultAccountConcurrency}-account unreserved, even for two stages in it`, () => {
    const total = [...reservedIn(computeTemplate).values()].reduce<number>((sum, n) => sum + (n ?? 0), 0);
    expect(2 * total).toBeLessThanOrEqual(defaultAccountConcurrency - minimumUnreservedConcurrency);
  });

  it("the pre-order API's share serves the stage's rate at the 80 ms an invocation it is budgeted", () => {
    expect((must(reservedIn(computeTemplate).get('preorders-api'), 'reserved') * 1000) / 80).toBeGreaterThanOrEqual(throttling.rateLimit);
  });

  it(`${concurrencyContextKeys.reserved} overrides a function's figure, removes it with null, or removes all with none`, () => {
    const some = buildApp({ bundling: false, context: { [concurrencyContextKeys.reserved]: '{"preorders-api":40,"authorizer":null}' } });
    const reserved = reservedIn(Template.fromStack(some.compute));
    expect(reserved.get('preorders-api')).toBe(40);
    expect(reserved.get('authorizer')).toBeUndefined();
    const none = buildApp({ bundling: false, context: { [concurrencyContextKeys.reserved]: 'none' } });
    expect([...reservedIn(Template.fromStack(none.compute)).values()].every((n) => n === undefined)).toBe(true);
  });

  it('refuses a reservation that would leave the account under 100 unreserved, unless the account is bigger', () => {
    const tooMuch = { [concurrencyContextKeys.reserved]: { 'preorders-api': 850 } };
    expect(() => buildApp({ bundling: false, context: tooMuch })).toThrow(/leaves 50 of the account's 1000 unreserved/);
    const bigger = buildApp({ bundling: false, context: { ...tooMuch, [concurrencyContextKeys.accountLimit]: '3000' } });
    expect(reservedIn(Template.fromStack(bigger.compute)).get('preorders-api')).toBe(850);
  });

  it('refuses a function the topology does not know, and a consumer reserved below its queue cap', () => {
    expect(() => buildApp({ bundling: false, context: { [concurrencyContextKeys.reserved]: { 'preorder-api': 10 } } })).toThrow(/preorder-api/);
    expect(() => buildApp({ bundling: false, context: { [concurrencyContextKeys.reserved]: { notifier: 3 } } })).toThrow(
      /notifier is reserved 3, under the 10 its queue notifications/,
    );
  });
});

describe('Queue consumers: each capped, so a backlog waits in its queue', () => {
  it.each(queues.map((q) => [q.name, q] as const))('%s invokes its consumer at most its maxConcurrency at once', (name, spec) => {
    const mapping = must(
      sqsMappings().find((m) => refersTo(m.Properties['EventSourceArn'], queueId(name))),
      `mapping of ${name}`,
    );
    expect(mapping.Properties['FunctionName']).toEqual({ Ref: fnId(spec.consumer) });
    expect(mapping.Properties['ScalingConfig']).toEqual({ MaximumConcurrency: spec.maxConcurrency });
    expect(spec.maxConcurrency).toBeGreaterThanOrEqual(2);
  });

  it('every SQS event source in the stack has a cap, and together they stay a small part of the unreserved pool', () => {
    const caps = sqsMappings().map((m) => (m.Properties['ScalingConfig'] as { MaximumConcurrency?: number } | undefined)?.MaximumConcurrency);
    expect(caps.length).toBe(queues.length);
    expect(caps.every((c) => typeof c === 'number')).toBe(true);
    const reserved = [...reservedIn(computeTemplate).values()].reduce<number>((sum, n) => sum + (n ?? 0), 0);
    expect(caps.reduce<number>((sum, c) => sum + (c ?? 0), 0)).toBeLessThan((defaultAccountConcurrency - reserved) / 4);
  });

  it('the webhook deliverer runs only from its queue, 10 at once at most, and each webhook holds at most 2 of its POSTs', () => {
    const deliverer = fnId('webhook-deliverer');
    const mappings = Object.values(resourcesOf(computeTemplate, 'AWS::Lambda::EventSourceMapping')).filter((m) =>
      refersTo(m.Properties['FunctionName'], deliverer),
    );
    expect(mappings).toHaveLength(1);
    expect(refersTo(mappings[0]?.Properties['EventSourceArn'], queueId('webhook-deliveries'))).toBe(true);
    expect(mappings[0]?.Properties['ScalingConfig']).toEqual({ MaximumConcurrency: 10 });
    // Nothing else may invoke it (no API Gateway, no EventBridge permission).
    const invokers = Object.values(resourcesOf(computeTemplate, 'AWS::Lambda::Permission')).filter((p) => refersTo(p.Properties['FunctionName'], deliverer));
    expect(invokers).toEqual([]);
    // The per-endpoint share is the deliverer's own lease (decision 26), set here.
    const env = (functionResource(computeTemplate, 'webhook-deliverer').Properties['Environment'] as { Variables: Record<string, unknown> }).Variables;
    expect(env['WEBHOOK_MAX_IN_FLIGHT']).toBe('2');
  });
});

describe('The web ACL: per-address and per-client limits and AWS managed rules, before anything runs', () => {
  const acl = must(Object.values(resourcesOf(computeTemplate, 'AWS::WAFv2::WebACL'))[0], 'web ACL');
  const rules = (acl.Properties['Rules'] as { Name: string; Priority: number; [k: string]: unknown }[]).slice().sort((a, b) => a.Priority - b.Priority);
  const rule = (name: string) => must(rules.find((r) => r.Name === name), `rule ${name}`);
  const rateLimited = {
    Block: {
      CustomResponse: {
        ResponseCode: 429,
        CustomResponseBodyKey: 'too-many-requests',
        ResponseHeaders: [{ Name: 'Retry-After', Value: String(defaultRateLimits.windowSeconds) }],
      },
    },
  };

  it('evaluates IP reputation, the two rate limits, the body size, known bad inputs and the core rule set, in that order', () => {
    expect(rules.map((r) => r.Name)).toEqual(['ip-reputation', 'rate-per-ip', 'rate-per-client', 'body-size-limit', 'known-bad-inputs', 'common-rule-set']);
    expect(new Set(rules.map((r) => r.Priority)).size).toBe(rules.length);
  });

  it(`answers an address over ${defaultRateLimits.perIp} requests a minute with 429 and Retry-After`, () => {
    expect(rule('rate-per-ip')).toMatchObject({
      Statement: { RateBasedStatement: { AggregateKeyType: 'IP', Limit: defaultRateLimits.perIp, EvaluationWindowSec: 60 } },
      Action: rateLimited,
    });
  });

  it(`answers a token over ${defaultRateLimits.perClient} requests a minute with 429, so one partner cannot spend the stage's throttle`, () => {
    expect(rule('rate-per-client')).toMatchObject({
      Statement: {
        RateBasedStatement: {
          AggregateKeyType: 'CUSTOM_KEYS',
          CustomKeys: [{ Header: { Name: 'authorization', TextTransformations: [{ Priority: 0, Type: 'NONE' }] } }],
          Limit: defaultRateLimits.perClient,
          EvaluationWindowSec: 60,
        },
      },
      Action: rateLimited,
    });
    // One client at its limit is a small part of the stage's shared rate.
    expect(defaultRateLimits.perClient / defaultRateLimits.windowSeconds).toBeLessThanOrEqual(throttling.rateLimit / 50);
  });

  it('the 429 body is an RFC 9457 problem, as the gateway\'s own', () => {
    expect(acl.Properties['CustomResponseBodies']).toMatchObject({ 'too-many-requests': { ContentType: 'APPLICATION_JSON', Content: rateLimitedProblemBody } });
    expect(JSON.parse(rateLimitedProblemBody)).toMatchObject({ type: 'about:blank', title: 'Too Many Requests', status: 429 });
  });

  it.each(Object.entries(managedRuleGroups))('runs the AWS managed group %s (%s), enforcing', (name, group) => {
    expect(rule(name)).toMatchObject({
      Statement: { ManagedRuleGroupStatement: { VendorName: 'AWS', Name: group } },
      OverrideAction: { None: {} },
    });
  });

  it('the core rule set only counts its 8 KB body rule (c2m takes 64 KB, the body-size rule answers 413 past it) and its no-User-Agent rule', () => {
    expect(maxBodyBytes).toBeGreaterThan(8 * 1024);
    const statement = (rule('common-rule-set')['Statement'] as { ManagedRuleGroupStatement: { RuleActionOverrides: unknown } }).ManagedRuleGroupStatement;
    expect(statement.RuleActionOverrides).toEqual(commonRuleSetCountOnly.map((name) => ({ Name: name, ActionToUse: { Count: {} } })));
    expect(commonRuleSetCountOnly).toEqual(['SizeRestrictions_BODY', 'NoUserAgent_HEADER']);
    // The other groups block with every rule they have.
    for (const name of ['ip-reputation', 'known-bad-inputs']) {
      expect((rule(name)['Statement'] as { ManagedRuleGroupStatement: Record<string, unknown> }).ManagedRuleGroupStatement['RuleActionOverrides']).toBeUndefined();
    }
  });

  it(`takes other limits from ${rateLimitContextKey}, and refuses a window WAF does not offer`, () => {
    const other = buildApp({ bundling: false, context: { [rateLimitContextKey]: '{"perIp":60000,"windowSeconds":300}' } });
    Template.fromStack(other.compute).hasResourceProperties('AWS::WAFv2::WebACL', {
      Rules: Match.arrayWith([
        Match.objectLike({ Name: 'rate-per-ip', Statement: { RateBasedStatement: { AggregateKeyType: 'IP', Limit: 60000, EvaluationWindowSec: 300 } } }),
        Match.objectLike({ Name: 'rate-per-client', Statement: { RateBasedStatement: Match.objectLike({ Limit: defaultRateLimits.perClient, EvaluationWindowSec: 300 }) } }),
      ]),
    });
    expect(() => buildApp({ bundling: false, context: { [rateLimitContextKey]: { windowSeconds: 30 } } })).toThrow(/c2m:rateLimits is invalid: windowSeconds/);
  });
});

describe('Alarms: the API, intake, the outbox and webhooks page the operators', () => {
  const alarmTopic = logicalId(data.alarmTopic);
  const alarmNamed = (name: string): CfnResource =>
    must(Object.values(resourcesOf(computeTemplate, 'AWS::CloudWatch::Alarm', { Properties: { AlarmName: name } }))[0], `alarm ${name}`);

  it('the API alarms on 5 or more 5xx in 5 minutes on its stage', () => {
    const alarm = alarmNamed('c2m-api-5xx');
    expect(alarm.Properties).toMatchObject({
      Namespace: 'AWS/ApiGateway',
      MetricName: '5XXError',
      Statistic: 'Sum',
      Period: 300,
      Threshold: alarmThresholds.apiServerErrorsPer5Minutes,
      ComparisonOperator: 'GreaterThanOrEqualToThreshold',
      TreatMissingData: 'notBreaching',
    });
    const dimensions = alarm.Properties['Dimensions'] as { Name: string; Value: unknown }[];
    expect(dimensions.find((d) => d.Name === 'ApiName')?.Value).toBe('c2m');
    expect(refersTo(dimensions.find((d) => d.Name === 'Stage')?.Value, logicalId(compute.api.restApi.deploymentStage))).toBe(true);
  });

  it('the API alarms on p99 latency over 1 s in 3 of 5 minutes that had at least 100 requests', () => {
    const alarm = alarmNamed('c2m-api-p99-latency');
    expect(alarm.Properties).toMatchObject({ Threshold: 1000, ComparisonOperator: 'GreaterThanThreshold', EvaluationPeriods: 5, DatapointsToAlarm: 3 });
    const metrics = alarm.Properties['Metrics'] as { Id: string; Expression?: string; MetricStat?: { Metric: { MetricName: string }; Stat: string; Period: number } }[];
    expect(metrics.find((m) => m.Expression)?.Expression).toBe('IF(requests >= 100, p99, 0)');
    expect(metrics.find((m) => m.Id === 'p99')?.MetricStat).toMatchObject({ Metric: { MetricName: 'Latency' }, Stat: 'p99', Period: 60 });
    expect(metrics.find((m) => m.Id === 'requests')?.MetricStat).toMatchObject({ Metric: { MetricName: 'Count' }, Stat: 'Sum', Period: 60 });
  });

  it("failed intake enqueues (a cut intake could not ask for) alarm in 2 of 3 five-minute periods, on the metric intake counts", () => {
    expect(intakeCutNotAskedMetric).toBe(metricNames.intakeCutNotAsked);
    expect(alarmNamed('c2m-intake-cut-not-asked').Properties).toMatchObject({
      Namespace: 'c2m',
      MetricName: metricNames.intakeCutNotAsked,
      Dimensions: [{ Name: 'service', Value: 'preorder-intake' }],
      Statistic: 'Sum',
      Threshold: 1,
      EvaluationPeriods: 3,
      DatapointsToAlarm: 2,
    });
  });

  it('an event older than 5 minutes in the outbox, two periods running, alarms', () => {
    expect(outboxAgeMetric).toBe(outboxMetrics.oldestAgeSeconds);
    expect(alarmNamed('c2m-outbox-age').Properties).toMatchObject({
      Namespace: 'c2m',
      MetricName: outboxAgeMetric,
      Dimensions: [{ Name: 'service', Value: 'campaign-clock' }],
      Statistic: 'Maximum',
      Threshold: alarmThresholds.outboxAgeSeconds,
      ComparisonOperator: 'GreaterThanThreshold',
      EvaluationPeriods: 2,
      TreatMissingData: 'notBreaching',
    });
  });

  it('a webhook disabled for failing alarms, on the metric the deliverer counts when it disables one', () => {
    expect(webhooksDisabledMetric).toBe(delivererMetrics.disabled);
    expect(alarmNamed('c2m-webhooks-disabled').Properties).toMatchObject({
      Namespace: 'c2m',
      MetricName: webhooksDisabledMetric,
      Dimensions: [{ Name: 'service', Value: 'webhook-deliverer' }],
      Statistic: 'Sum',
      Threshold: 1,
    });
  });

  it('the throttle alarm of a function with reserved concurrency says how to raise it', () => {
    const alarm = alarmNamed('c2m-preorders-api-throttles');
    expect(alarm.Properties['AlarmDescription']).toContain(`reserved concurrency (250)`);
    expect(alarm.Properties['AlarmDescription']).toContain(concurrencyContextKeys.reserved);
  });

  it('every alarm of both stacks notifies the operators\' alarm topic, and only it', () => {
    const all = [
      ...Object.values(resourcesOf(computeTemplate, 'AWS::CloudWatch::Alarm')),
      ...Object.values(resourcesOf(dataTemplate, 'AWS::CloudWatch::Alarm')),
    ];
    expect(all.length).toBeGreaterThan(40);
    for (const alarm of all) {
      const actions = alarm.Properties['AlarmActions'] as unknown[];
      expect(actions, String(alarm.Properties['AlarmName'])).toHaveLength(1);
      expect(refersTo(actions[0], alarmTopic), String(alarm.Properties['AlarmName'])).toBe(true);
    }
  });
});
