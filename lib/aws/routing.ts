import { Duration, Stack, Validations } from 'aws-cdk-lib';
import * as events from 'aws-cdk-lib/aws-events';
import * as targets from 'aws-cdk-lib/aws-events-targets';
import * as iam from 'aws-cdk-lib/aws-iam';
import * as scheduler from 'aws-cdk-lib/aws-scheduler';
import * as schedulerTargets from 'aws-cdk-lib/aws-scheduler-targets';
import type * as sns from 'aws-cdk-lib/aws-sns';
import type * as sqs from 'aws-cdk-lib/aws-sqs';
import { Construct } from 'constructs';
import type { QueueName, RuleSpec, ScheduleSpec } from '../topology.ts';
import { DeadLetterQueue } from './queues.ts';
import { StageNames } from './stage.ts';

const deadLetterAck = {
  id: 'AwsSolutions-SQS3',
  reason: 'This queue is itself a dead-letter queue (for failed EventBridge deliveries); a DLQ of a DLQ would only move the problem. Its alarm fires on the first message.',
};

export interface EventRoutingProps {
  readonly bus: events.IEventBus;
  /** The topology queues, by name: targets of rules and schedules. */
  readonly queues: ReadonlyMap<QueueName, sqs.IQueue>;
  readonly rules: readonly RuleSpec[];
  readonly schedules: readonly ScheduleSpec[];
  /** Where dead-letter alarms go. */
  readonly alarmTopic: sns.ITopic;
  /**
   * The stage whose names the rules, schedules and their dead-letter queues take.
   * @default StageNames.default (the topology's names as they are)
   */
  readonly names?: StageNames;
}

/**
 * Event rules and rate schedules that feed the topology queues. They sit with
 * the queues and the bus, not with compute: an EventBridge target writes the
 * queue's resource policy, which would tie the data stack to the compute stack
 * in a cycle, and none of it runs code.
 */
export class EventRouting extends Construct {
  public readonly rules = new Map<string, events.Rule>();
  public readonly schedules = new Map<string, scheduler.Schedule>();
  /** Dead-letter queues for failed deliveries, by rule or schedule name. */
  public readonly deadLetterQueues = new Map<string, DeadLetterQueue>();

  constructor(scope: Construct, id: string, props: EventRoutingProps) {
    super(scope, id);
    const names = props.names ?? StageNames.default;
    const queueNamed = (name: QueueName): sqs.IQueue => {
      const queue = props.queues.get(name);
      if (!queue) throw new Error(`no queue ${name} in the topology`);
      return queue;
    };

    for (const spec of props.rules) {
      const dlq = new DeadLetterQueue(this, `${spec.name}-dlq`, {
        queueName: names.physical(`${spec.name}-dlq`),
        purpose: `events the ${spec.name} rule could not deliver to ${spec.targetQueue}`,
        alarmTopic: props.alarmTopic,
      });
      Validations.of(dlq.queue).acknowledge(deadLetterAck);
      const rule = new events.Rule(this, spec.name, {
        // Rule names are per bus, and each stage has its own; prefixed all the same, to read which stage's it is.
        ruleName: names.physical(spec.name),
        description: spec.description,
        eventBus: props.bus,
        eventPattern: { source: [...spec.pattern.source], detailType: [...spec.pattern['detail-type']] },
        targets: [new targets.SqsQueue(queueNamed(spec.targetQueue), { deadLetterQueue: dlq.queue })],
      });
      this.rules.set(spec.name, rule);
      this.deadLetterQueues.set(spec.name, dlq);
    }

    for (const spec of props.schedules) {
      const dlq = new DeadLetterQueue(this, `${spec.name}-dlq`, {
        queueName: names.physical(`${spec.name}-dlq`),
        purpose: `ticks the ${spec.name} schedule could not deliver to ${spec.targetQueue}`,
        alarmTopic: props.alarmTopic,
      });
      Validations.of(dlq.queue).acknowledge(deadLetterAck);
      const role = new iam.Role(this, `${spec.name}-role`, {
        description: `EventBridge Scheduler delivers ${spec.name} ticks to ${spec.targetQueue} with this role, and nothing else`,
        assumedBy: new iam.ServicePrincipal('scheduler.amazonaws.com', {
          conditions: {
            StringEquals: {
              'aws:SourceAccount': Stack.of(this).account,
              // Rate schedules live in the default group; the campaign group's one-time schedules use another role.
              'aws:SourceArn': Stack.of(this).formatArn({ service: 'scheduler', resource: 'schedule-group', resourceName: 'default' }),
            },
          },
        }),
      });
      // The target adds sqs:SendMessage on the queue (and on the DLQ) to this role.
      const schedule = new scheduler.Schedule(this, spec.name, {
        // Rate schedules live in the account's default group: two stages' names would clash there.
        scheduleName: names.physical(spec.name),
        description: spec.description,
        schedule: scheduler.ScheduleExpression.rate(Duration.minutes(spec.rateMinutes)),
        target: new schedulerTargets.SqsSendMessage(queueNamed(spec.targetQueue), {
          input: scheduler.ScheduleTargetInput.fromObject(spec.message),
          role,
          deadLetterQueue: dlq.queue,
          // A tick is only worth delivering before the next one is due.
          maxEventAge: Duration.minutes(Math.max(1, spec.rateMinutes)),
        }),
      });
      this.schedules.set(spec.name, schedule);
      this.deadLetterQueues.set(spec.name, dlq);
    }
  }
}
