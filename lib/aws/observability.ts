import { Duration } from 'aws-cdk-lib';
import type * as apigateway from 'aws-cdk-lib/aws-apigateway';
import * as cloudwatch from 'aws-cdk-lib/aws-cloudwatch';
import * as cwActions from 'aws-cdk-lib/aws-cloudwatch-actions';
import type * as sns from 'aws-cdk-lib/aws-sns';
import type * as sqs from 'aws-cdk-lib/aws-sqs';
import { Construct } from 'constructs';
import { tableStreams, type FunctionName } from '../topology.ts';
import type { HouseFunction } from './house-function.ts';

/** Namespace the functions' Powertools Metrics write to (POWERTOOLS_METRICS_NAMESPACE). */
export const metricsNamespace = 'c2m';

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
   * CloudWatch dashboard name.
   * @default 'c2m'
   */
  readonly dashboardName?: string;
}

/** Function alarms to the operators' topic, and the one dashboard an operator opens first. */
export class Observability extends Construct {
  public readonly functionAlarms = new Map<FunctionName, FunctionAlarms>();
  public readonly outboxQuarantine: cloudwatch.Alarm;
  public readonly intakeUnreadable: cloudwatch.Alarm;
  /** Per stream consumer (topology `tableStreams`): its oldest unprocessed record is over a minute old. */
  public readonly streamIteratorAge = new Map<FunctionName, cloudwatch.Alarm>();
  public readonly dashboard: cloudwatch.Dashboard;

  constructor(scope: Construct, id: string, props: ObservabilityProps) {
    super(scope, id);
    const notify = new cwActions.SnsAction(props.alarmTopic);
    const fiveMinutes = Duration.minutes(5);

    for (const [name, fn] of props.functions) {
      const errors = new cloudwatch.Alarm(this, `${name}-errors`, {
        alarmName: `c2m-${name}-errors`,
        alarmDescription: `${name} threw at least once in 5 minutes (unhandled error or timeout). Its log group has the stack trace.`,
        metric: fn.metricErrors({ period: fiveMinutes, statistic: cloudwatch.Stats.SUM }),
        threshold: 1,
        comparisonOperator: cloudwatch.ComparisonOperator.GREATER_THAN_OR_EQUAL_TO_THRESHOLD,
        evaluationPeriods: 1,
        treatMissingData: cloudwatch.TreatMissingData.NOT_BREACHING,
      });
      const throttles = new cloudwatch.Alarm(this, `${name}-throttles`, {
        alarmName: `c2m-${name}-throttles`,
        alarmDescription: `${name} was throttled by Lambda concurrency in the last 5 minutes: raise the account limit or reserve concurrency.`,
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
        alarmName: `c2m-${spec.name}-iterator-age`,
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

    /** An alarm on the first count of a metric c2m emits when it set something aside that nobody will act on unless paged. */
    const pagesOnFirst = (id: string, alarmName: string, alarmDescription: string, metricName: string, service: FunctionName) => {
      const alarm = new cloudwatch.Alarm(this, id, {
        alarmName,
        alarmDescription,
        metric: new cloudwatch.Metric({ namespace: metricsNamespace, metricName, dimensionsMap: { service }, period: fiveMinutes, statistic: cloudwatch.Stats.SUM }),
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

    this.dashboard = new cloudwatch.Dashboard(this, 'Dashboard', {
      dashboardName: props.dashboardName ?? 'c2m',
      defaultInterval: Duration.hours(3),
    });
    const minute = Duration.minutes(1);

    this.dashboard.addWidgets(
      ...businessMetrics.map(
        (metricName) =>
          new cloudwatch.GraphWidget({
            title: metricName,
            width: 6,
            left: [
              new cloudwatch.MathExpression({
                expression: `SEARCH('{${metricsNamespace},service} MetricName="${metricName}"', 'Sum', 60)`,
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
