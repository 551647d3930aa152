import { Stack, Validations } from 'aws-cdk-lib';
import type * as dynamodb from 'aws-cdk-lib/aws-dynamodb';
import * as iam from 'aws-cdk-lib/aws-iam';
import type * as sns from 'aws-cdk-lib/aws-sns';
import type { HouseFunction } from './house-function.ts';
import { wildcardResourceFinding } from './nag.ts';

/**
 * The DynamoDB item reads the adapters make: GetItem (also what
 * TransactGetItems checks), Query on the table and its indexes, BatchGetItem.
 * No Scan, no stream reads, no DescribeTable: nothing in c2m needs them.
 */
export const tableReadActions = ['dynamodb:GetItem', 'dynamodb:Query', 'dynamodb:BatchGetItem'] as const;

/**
 * The item writes the adapters make: puts and updates (also inside
 * TransactWriteItems, which is authorised per operation), and the outbox
 * relay's deletes. Nothing uses ConditionCheck or BatchWriteItem.
 */
export const tableWriteActions = ['dynamodb:PutItem', 'dynamodb:UpdateItem', 'dynamodb:DeleteItem'] as const;

/** What a function may do with a one-time schedule in the campaign group. */
export const scheduleActions = ['scheduler:CreateSchedule', 'scheduler:DeleteSchedule'] as const;

/**
 * Item-level access to the single table, and Query on each named index.
 * Narrower than grantReadData / grantReadWriteData, which also hand out Scan,
 * DescribeTable and stream reads, and every action on `<table>/index/*`.
 */
export const grantTableAccess = (
  table: dynamodb.ITable,
  indexNames: readonly string[],
  fn: iam.IGrantable,
  access: 'read' | 'readwrite',
): void => {
  const actions = access === 'read' ? [...tableReadActions] : [...tableReadActions, ...tableWriteActions];
  iam.Grant.addToPrincipal({ grantee: fn, actions, resourceArns: [table.tableArn] });
  // Query is the only item action that applies to an index; naming each index
  // leaves no wildcard for a later index to inherit silently.
  if (indexNames.length > 0) {
    iam.Grant.addToPrincipal({
      grantee: fn,
      actions: ['dynamodb:Query'],
      resourceArns: indexNames.map((name) => `${table.tableArn}/index/${name}`),
    });
  }
};

export interface ScheduleGrantProps {
  /** Name of the schedule group the function's one-time schedules live in. */
  readonly groupName: string;
  /** The role EventBridge Scheduler assumes to deliver those schedules; the only role the function may pass. */
  readonly schedulerRole: iam.IRole;
}

/**
 * Create, read and delete one-time schedules in one group, and hand the
 * scheduler its delivery role. Nothing on other groups, nothing on other roles.
 */
export const grantCampaignSchedules = (fn: HouseFunction, props: ScheduleGrantProps): void => {
  const stack = Stack.of(fn);
  const scheduleArnPattern = stack.formatArn({
    service: 'scheduler',
    resource: 'schedule',
    resourceName: `${props.groupName}/*`,
  });
  fn.addToRolePolicy(new iam.PolicyStatement({ actions: [...scheduleActions], resources: [scheduleArnPattern] }));
  fn.addToRolePolicy(
    new iam.PolicyStatement({
      actions: ['iam:PassRole'],
      resources: [props.schedulerRole.roleArn],
      conditions: { StringEquals: { 'iam:PassedToService': 'scheduler.amazonaws.com' } },
    }),
  );
  Validations.of(fn.executionRole).acknowledge({
    id: wildcardResourceFinding(fn, scheduleArnPattern),
    reason: `Schedule names are chosen per campaign at run time; the wildcard is confined to the ${props.groupName} group, which holds only c2m's one-time campaign schedules.`,
  });
};

/** What a function with `notify` access may do with the buyer-notification topic (PublishBatch is authorised as Publish). */
export const notificationActions = ['sns:Publish'] as const;

/**
 * Publish to the buyer-notification topic, and nothing else of SNS. No KMS
 * actions: the topic uses the AWS-managed SNS key, whose policy already lets
 * the account's principals use it through SNS. Were the topic moved to a
 * customer key, this would also need kms:GenerateDataKey* and kms:Decrypt on it.
 */
export const grantNotificationPublish = (topic: sns.ITopic, fn: iam.IGrantable): void => {
  iam.Grant.addToPrincipal({ grantee: fn, actions: [...notificationActions], resourceArns: [topic.topicArn] });
};
