import { Duration } from 'aws-cdk-lib';
import * as cloudwatch from 'aws-cdk-lib/aws-cloudwatch';
import * as cwActions from 'aws-cdk-lib/aws-cloudwatch-actions';
import type * as sns from 'aws-cdk-lib/aws-sns';
import * as sqs from 'aws-cdk-lib/aws-sqs';
import { Construct } from 'constructs';
import type { QueueSpec } from '../topology.ts';
import { StageNames } from './stage.ts';

/** How long a dead letter is kept: two weeks, the SQS maximum, to leave time for a replay. */
export const deadLetterRetention = Duration.days(14);

export interface DeadLetterQueueProps {
  /** Physical queue name. */
  readonly queueName: string;
  /** What ends up here, for the alarm description an operator reads at 3 a.m. */
  readonly purpose: string;
  /** Where the alarm goes. */
  readonly alarmTopic: sns.ITopic;
}

/**
 * A dead-letter queue with an alarm on its first message: anything here is a
 * message c2m gave up on, and an operator must look at it (and replay it).
 */
export class DeadLetterQueue extends Construct {
  public readonly queue: sqs.Queue;
  public readonly alarm: cloudwatch.Alarm;

  constructor(scope: Construct, id: string, props: DeadLetterQueueProps) {
    super(scope, id);
    this.queue = new sqs.Queue(this, 'Queue', {
      queueName: props.queueName,
      retentionPeriod: deadLetterRetention,
      encryption: sqs.QueueEncryption.SQS_MANAGED,
      enforceSSL: true,
    });
    this.alarm = new cloudwatch.Alarm(this, 'NotEmpty', {
      alarmName: `${props.queueName}-not-empty`,
      alarmDescription: `${props.queueName} holds messages: ${props.purpose}. Inspect, fix the cause, then redrive.`,
      metric: this.queue.metricApproximateNumberOfMessagesVisible({
        period: Duration.minutes(1),
        statistic: cloudwatch.Stats.MAXIMUM,
      }),
      threshold: 1,
      comparisonOperator: cloudwatch.ComparisonOperator.GREATER_THAN_OR_EQUAL_TO_THRESHOLD,
      evaluationPeriods: 1,
      treatMissingData: cloudwatch.TreatMissingData.NOT_BREACHING,
    });
    this.alarm.addAlarmAction(new cwActions.SnsAction(props.alarmTopic));
  }
}

export interface WorkQueueProps {
  /** The topology entry: name, visibility timeout, receives before dead-lettering. */
  readonly spec: QueueSpec;
  /** Where the dead-letter alarm goes. */
  readonly alarmTopic: sns.ITopic;
  /**
   * The stage whose names the queues take.
   * @default StageNames.default (the topology's names as they are)
   */
  readonly names?: StageNames;
}

/** A topology queue and its own dead-letter queue (`<name>-dlq`) with an alarm. */
export class WorkQueue extends Construct {
  public readonly spec: QueueSpec;
  public readonly queue: sqs.Queue;
  public readonly deadLetter: DeadLetterQueue;

  constructor(scope: Construct, id: string, props: WorkQueueProps) {
    super(scope, id);
    const { spec } = props;
    const names = props.names ?? StageNames.default;
    this.spec = spec;
    this.deadLetter = new DeadLetterQueue(this, 'DeadLetter', {
      queueName: names.physical(`${spec.name}-dlq`),
      purpose: `messages ${spec.consumer} failed ${spec.maxReceiveCount} times`,
      alarmTopic: props.alarmTopic,
    });
    this.queue = new sqs.Queue(this, 'Queue', {
      queueName: names.physical(spec.name),
      visibilityTimeout: Duration.seconds(spec.visibilityTimeoutSeconds),
      encryption: sqs.QueueEncryption.SQS_MANAGED,
      enforceSSL: true,
      deadLetterQueue: { queue: this.deadLetter.queue, maxReceiveCount: spec.maxReceiveCount },
    });
  }
}
