import { Duration } from 'aws-cdk-lib';
import type * as apigateway from 'aws-cdk-lib/aws-apigateway';
import * as cloudwatch from 'aws-cdk-lib/aws-cloudwatch';
import * as cwActions from 'aws-cdk-lib/aws-cloudwatch-actions';
import type * as sns from 'aws-cdk-lib/aws-sns';
import type * as sqs from 'aws-cdk-lib/aws-sqs';
import { Construct } from 'constructs';
import { tableStreams, type FunctionName } from '../topology.ts';
import { concurrencyContextKeys } from './concurrency.ts';
import type { HouseFunction } from './house-function.ts';
import { StageNames } from './stage.ts';

/** Namespace the functions' Powertools Metrics write to (POWERTOOLS_METRICS_NAMESPACE) on the default stage; a named stage has its own (StageNames.metricsNamespace). */
export const metricsNamespace = StageNames.default.metricsNamespace;

/**
 * Business metrics worth a glance during a live sale. Emitted with the
 * Powertools default dimension `service` = function name; which function emits
 * which is the functions' business, so the dashboard searches across services.
 */
export const businessMetrics = ['PreordersAccepted', 'PreordersRefusedByCap', 'PreordersCancelled', 'CampaignsCreated'] as const;

/** What the clock's outbox relay counts when it moves an unreadable item aside (functions/adapters/outbox.ts `outboxMetrics`). */
export const outboxQuarantineMetric = 'OutboxItemsQuarantined';

/** What intake counts when a pre-order on the stream does not parse (functions/shared/observability.ts `metricNames`). */
export const intakeUnreadableMetric = 'IntakeUnreadableRecord';

/**
 * What intake counts when it could not enqueue a cut request on batch-cuts after its
 * retries (functions/shared/observability.ts `metricNames.intakeCutNotAsked`). Since
 * decision 28 this is intake's only enqueue: the pre-order itself reaches intake on
 * the table's stream, whose lag has its own alarm (iterator age).
 */
export const intakeCutNotAskedMetric = 'IntakeCutNotAsked';

/** What the deliverer counts when it disables a webhook that kept failing (functions/handlers/webhooks/deliverer.ts `metricNames.disabled`). */
export const webhooksDisabledMetric = 'WebhooksDisabled';

/**
 * The age in seconds of the oldest item in the event outbox when the clock's relay
 * looks (functions/adapters/outbox.ts `outboxMetrics.oldestAgeSeconds`), emitted with
 * unit Seconds on every pass, before it publishes, 0 when the outbox is empty.
 */
export const outboxAgeMetric = 'OutboxOldestItemAgeSeconds';

/**
 * Thresholds of the API and pipeline alarms, and why:
 * - 5 server errors in 5 minutes: c2m answers bad input with 4xx and overload with 429,
 *   so a 5xx is a defect or an outage; one alone is left to the function alarms
 *   and the access log, a handful pages.
 * - p99 over 1 s in 3 of 5 minutes, counted only in minutes with at least 100
 *   requests: the pre-order path is a transaction and a few reads (~30 ms p99 on an
 *   idle pipeline, bench/results.md); a quiet minute's p99 is its cold starts.
 * - the outbox: an event unpublished for 5 minutes in two 5-minute periods running
 *   means the relay, which takes what is over a minute old every minute, keeps failing.
 */
export const alarmThresholds = {
  apiServerErrorsPer5Minutes: 5,
  apiP99LatencyMs: 1000,
  apiLatencyMinRequestsPerMinute: 100,
  outboxAgeSeconds: 300,
} as const;

export interface FunctionAlarms {
  readonly errors: cloudwatch.Alarm;
  readonly throttles: cloudwatch.Alarm;
}

export interface ObservabilityProps {
  readonly functions: ReadonlyMap<FunctionName, HouseFunction>;
  readonly api: apigateway.RestApi;
  /** Dead-letter queues to chart, by what they back. */
  readonly deadLetterQueues: ReadonlyMap<string, sqs.IQueue>;
  readonly alarmTopic: sns.ITopic;
  /**
   * The stage whose names the alarms and the dashboard take, and whose metrics namespace they read.
   * @default StageNames.default
   */
  readonly names?: StageNames;
  /**
   * CloudWatch dashboard name.
   * @default 'c2m' (the stage's name for it: `c2m-<stage>`)
   */
  readonly dashboardName?: string;
}

/** Function alarms to the operators' topic, and the one dashboard an operator opens first. */
export class Observability extends Construct {
  public readonly functionAlarms = new Map<FunctionName, FunctionAlarms>();
  public readonly outboxQuarantine: cloudwatch.Alarm;
  public readonly intakeUnreadable: cloudwatch.Alarm;
  /** The API answered 5xx (stage metric 5XXError). */
  public readonly apiServerErrors: cloudwatch.Alarm;
  /** The API's p99 latency (stage metric Latency) is over budget while it is busy. */
  public readonly apiLatency: cloudwatch.Alarm;
  /** Intake could not enqueue a cut request, again and again. */
  public readonly intakeCutNotAsked: cloudwatch.Alarm;
  /** An event has waited in the outbox too long: the relay is not publishing. */
  public readonly outboxAge: cloudwatch.Alarm;
  /** A factory's webhook was disabled for failing for days. */
  public readonly webhooksDisabled: cloudwatch.Alarm;
  /** Per stream consumer (topology `tableStreams`): its oldest unprocessed record is over a minute old. */
  public readonly streamIteratorAge = new Map<FunctionName, cloudwatch.Alarm>();
  public readonly dashboard: cloudwatch.Dashboard;

  constructor(scope: Construct, id: string, props: ObservabilityProps) {
    super(scope, id);
    const names = props.names ?? StageNames.default;
    const namespace = names.metricsNamespace;
    const notify = new cwActions.SnsAction(props.alarmTopic);
    const fiveMinutes = Duration.minutes(5);
    const minute = Duration.minutes(1);

    for (const [name, fn] of props.functions) {
      const errors = new cloudwatch.Alarm(this, `${name}-errors`, {
        alarmName: names.physical(`c2m-${name}-errors`),
        alarmDescription: `${name} threw at least once in 5 minutes (unhandled error or timeout). Its log group has the stack trace.`,
        metric: fn.metricErrors({ period: fiveMinutes, statistic: cloudwatch.Stats.SUM }),
        threshold: 1,
        comparisonOperator: cloudwatch.ComparisonOperator.GREATER_THAN_OR_EQUAL_TO_THRESHOLD,
        evaluationPeriods: 1,
        treatMissingData: cloudwatch.TreatMissingData.NOT_BREACHING,
      });
      const reserved = fn.spec.reservedConcurrency;
      const throttles = new cloudwatch.Alarm(this, `${name}-throttles`, {
        alarmName: names.physical(`c2m-${name}-throttles`),
        alarmDescription:
          reserved === undefined
            ? `${name} was throttled by Lambda concurrency in the last 5 minutes: raise the account limit or reserve concurrency.`
            : `${name} ran into its reserved concurrency (${reserved}) in the last 5 minutes; its callers were answered 429. If the sale needs more, raise it with -c ${concurrencyContextKeys.reserved}.`,
        metric: fn.metricThrottles({ period: fiveMinutes, statistic: cloudwatch.Stats.SUM }),
        threshold: 1,
        comparisonOperator: cloudwatch.ComparisonOperator.GREATER_THAN_OR_EQUAL_TO_THRESHOLD,
        evaluationPeriods: 1,
        treatMissingData: cloudwatch.TreatMissingData.NOT_BREACHING,
      });
      errors.addAlarmAction(notify);
      throttles.addAlarmAction(notify);
      this.functionAlarms.set(name, { errors, throttles });
    }

    // A stream consumer retries a failing batch without end (an accepted pre-order is never skipped),
    // so a stuck one shows as its oldest record ageing: buyers are not listed or told until it moves.
    for (const spec of tableStreams) {
      const fn = props.functions.get(spec.consumer);
      if (!fn) continue;
      const alarm = new cloudwatch.Alarm(this, `${spec.name}-iterator-age`, {
        alarmName: names.physical(`c2m-${spec.name}-iterator-age`),
        alarmDescription: `${spec.consumer} is more than a minute behind the table's stream (${spec.description}). Its log says which batch fails.`,
        metric: fn.metric('IteratorAge', { period: Duration.minutes(1), statistic: cloudwatch.Stats.MAXIMUM }),
        threshold: 60_000,
        comparisonOperator: cloudwatch.ComparisonOperator.GREATER_THAN_THRESHOLD,
        evaluationPeriods: 3,
        treatMissingData: cloudwatch.TreatMissingData.NOT_BREACHING,
      });
      alarm.addAlarmAction(notify);
      this.streamIteratorAge.set(spec.consumer, alarm);
    }

    /** One of c2m's own metrics (Powertools, dimension `service` = the function that emits it). */
    const c2mMetric = (metricName: string, service: FunctionName, statistic: string) =>
      new cloudwatch.Metric({ namespace, metricName, dimensionsMap: { service }, period: fiveMinutes, statistic });
    /** An alarm on the first count of a metric c2m emits when it set something aside that nobody will act on unless paged. */
    const pagesOnFirst = (id: string, alarmName: string, alarmDescription: string, metricName: string, service: FunctionName) => {
      const alarm = new cloudwatch.Alarm(this, id, {
        alarmName: names.physical(alarmName),
        alarmDescription,
        metric: c2mMetric(metricName, service, cloudwatch.Stats.SUM),
        threshold: 1,
        comparisonOperator: cloudwatch.ComparisonOperator.GREATER_THAN_OR_EQUAL_TO_THRESHOLD,
        evaluationPeriods: 1,
        treatMissingData: cloudwatch.TreatMissingData.NOT_BREACHING,
      });
      alarm.addAlarmAction(notify);
      return alarm;
    };
    // An outbox item the relay could not read as an event was moved aside (functions/adapters/outbox.ts):
    // its announcement is not made until someone looks, so it pages like a function error.
    this.outboxQuarantine = pagesOnFirst(
      'outbox-quarantine',
      'c2m-outbox-quarantine',
      'The clock found an outbox item that is not an event and moved it to PK=OUTBOX#QUARANTINE (its announcement is not made). The campaign-clock log says which and why.',
      outboxQuarantineMetric,
      'campaign-clock',
    );
    // A pre-order on the stream intake could not parse is left behind, unlisted and unannounced: it pages.
    this.intakeUnreadable = pagesOnFirst(
      'intake-unreadable',
      'c2m-intake-unreadable-preorder',
      "preorder-intake met a pre-order on the table's stream it cannot read (it is not listed for its buyer nor announced). The preorder-intake log names its keys and what is wrong.",
      intakeUnreadableMetric,
      'preorder-intake',
    );

    // A factory's webhook disabled after failing for days (decision 26): the factory is told by event, and
    // an operator should call them, since their integration has been blind for that long.
    this.webhooksDisabled = pagesOnFirst(
      'webhooks-disabled',
      'c2m-webhooks-disabled',
      "A factory's webhook failed for days and was disabled (the factory got webhook.disabled). Its deliveries wait FAILED for a replay; call the factory. The webhook-deliverer log names it.",
      webhooksDisabledMetric,
      'webhook-deliverer',
    );

    // Intake retries a cut request thrice, then counts it and moves on: the campaign's next pre-orders,
    // its max-wait tick or its close ask again. Once is noise; in two of three 5-minute periods batch-cuts
    // is refusing sends, and lots wait for their max-wait tick instead of being cut when they fill.
    const cutNotAsked = new cloudwatch.Alarm(this, 'intake-cut-not-asked', {
      alarmName: names.physical('c2m-intake-cut-not-asked'),
      alarmDescription:
        'preorder-intake keeps failing to enqueue cut requests on batch-cuts: full lots wait for their max-wait tick. The preorder-intake log has the error.',
      metric: c2mMetric(intakeCutNotAskedMetric, 'preorder-intake', cloudwatch.Stats.SUM),
      threshold: 1,
      comparisonOperator: cloudwatch.ComparisonOperator.GREATER_THAN_OR_EQUAL_TO_THRESHOLD,
      evaluationPeriods: 3,
      datapointsToAlarm: 2,
      treatMissingData: cloudwatch.TreatMissingData.NOT_BREACHING,
    });
    cutNotAsked.addAlarmAction(notify);
    this.intakeCutNotAsked = cutNotAsked;

    const outboxAge = new cloudwatch.Alarm(this, 'outbox-age', {
      alarmName: names.physical('c2m-outbox-age'),
      alarmDescription: `An event has waited in the outbox over ${alarmThresholds.outboxAgeSeconds} s: the clock's relay is not publishing (bus refusing, relay failing). Announcements, webhooks and buyer notices behind it wait. The campaign-clock log says why.`,
      metric: c2mMetric(outboxAgeMetric, 'campaign-clock', cloudwatch.Stats.MAXIMUM),
      threshold: alarmThresholds.outboxAgeSeconds,
      comparisonOperator: cloudwatch.ComparisonOperator.GREATER_THAN_THRESHOLD,
      evaluationPeriods: 2,
      // Missing is the relay not reporting (not emitted yet, or no sweep): the clock's own error and DLQ alarms cover a dead sweep.
      treatMissingData: cloudwatch.TreatMissingData.NOT_BREACHING,
    });
    outboxAge.addAlarmAction(notify);
    this.outboxAge = outboxAge;

    const stage = props.api.deploymentStage;
    const serverErrors = new cloudwatch.Alarm(this, 'api-5xx', {
      alarmName: names.physical('c2m-api-5xx'),
      alarmDescription: `The API answered ${alarmThresholds.apiServerErrorsPer5Minutes} or more 5xx in 5 minutes. Bad input is 4xx and overload 429 by contract, so these are faults: the access log (status, errorType) and the functions' logs say where.`,
      metric: stage.metricServerError({ period: fiveMinutes, statistic: cloudwatch.Stats.SUM }),
      threshold: alarmThresholds.apiServerErrorsPer5Minutes,
      comparisonOperator: cloudwatch.ComparisonOperator.GREATER_THAN_OR_EQUAL_TO_THRESHOLD,
      evaluationPeriods: 1,
      treatMissingData: cloudwatch.TreatMissingData.NOT_BREACHING,
    });
    serverErrors.addAlarmAction(notify);
    this.apiServerErrors = serverErrors;

    const latency = new cloudwatch.Alarm(this, 'api-p99-latency', {
      alarmName: names.physical('c2m-api-p99-latency'),
      alarmDescription: `The API's p99 latency was over ${alarmThresholds.apiP99LatencyMs} ms in 3 of the last 5 busy minutes (at least ${alarmThresholds.apiLatencyMinRequestsPerMinute} requests). X-Ray and the access log's integrationLatency say whether the authorizer, a handler or DynamoDB is slow.`,
      // A minute with few requests has a p99 made of cold starts: it counts as 0.
      metric: new cloudwatch.MathExpression({
        expression: `IF(requests >= ${alarmThresholds.apiLatencyMinRequestsPerMinute}, p99, 0)`,
        usingMetrics: {
          requests: stage.metricCount({ period: minute, statistic: cloudwatch.Stats.SUM }),
          p99: stage.metricLatency({ period: minute, statistic: cloudwatch.Stats.percentile(99) }),
        },
        period: minute,
        label: 'p99 latency (ms) of busy minutes',
      }),
      threshold: alarmThresholds.apiP99LatencyMs,
      comparisonOperator: cloudwatch.ComparisonOperator.GREATER_THAN_THRESHOLD,
      evaluationPeriods: 5,
      datapointsToAlarm: 3,
      treatMissingData: cloudwatch.TreatMissingData.NOT_BREACHING,
    });
    latency.addAlarmAction(notify);
    this.apiLatency = latency;

    this.dashboard = new cloudwatch.Dashboard(this, 'Dashboard', {
      dashboardName: props.dashboardName ?? names.physical('c2m'),
      defaultInterval: Duration.hours(3),
    });

    this.dashboard.addWidgets(
      ...businessMetrics.map(
        (metricName) =>
          new cloudwatch.GraphWidget({
            title: metricName,
            width: 6,
            left: [
              new cloudwatch.MathExpression({
                expression: `SEARCH('{${namespace},service} MetricName="${metricName}"', 'Sum', 60)`,
                label: metricName,
                period: minute,
              }),
            ],
          }),
      ),
    );

    const api = props.api;
    this.dashboard.addWidgets(
      new cloudwatch.GraphWidget({
        title: 'API 4XX and 5XX',
        width: 8,
        left: [
          api.metricClientError({ period: minute, statistic: cloudwatch.Stats.SUM, label: '4XX' }),
          api.metricServerError({ period: minute, statistic: cloudwatch.Stats.SUM, label: '5XX' }),
        ],
        right: [api.metricCount({ period: minute, statistic: cloudwatch.Stats.SUM, label: 'requests' })],
      }),
      new cloudwatch.GraphWidget({
        title: 'API latency',
        width: 8,
        left: [
          api.metricLatency({ period: minute, statistic: cloudwatch.Stats.percentile(50), label: 'p50' }),
          api.metricLatency({ period: minute, statistic: cloudwatch.Stats.percentile(99), label: 'p99' }),
        ],
      }),
      new cloudwatch.GraphWidget({
        title: 'Dead-letter queue depth',
        width: 8,
        left: [...props.deadLetterQueues].map(([name, queue]) =>
          queue.metricApproximateNumberOfMessagesVisible({ period: minute, statistic: cloudwatch.Stats.MAXIMUM, label: name }),
        ),
      }),
    );

    const fns = [...props.functions];
    this.dashboard.addWidgets(
      new cloudwatch.GraphWidget({
        title: 'Function errors',
        width: 12,
        left: fns.map(([name, fn]) => fn.metricErrors({ period: minute, statistic: cloudwatch.Stats.SUM, label: name })),
      }),
      new cloudwatch.GraphWidget({
        title: 'Function throttles',
        width: 12,
        left: fns.map(([name, fn]) => fn.metricThrottles({ period: minute, statistic: cloudwatch.Stats.SUM, label: name })),
      }),
    );
  }
}
