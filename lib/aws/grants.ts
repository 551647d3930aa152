import { Stack, Validations } from 'aws-cdk-lib';
import type * as cognito from 'aws-cdk-lib/aws-cognito';
import type * as dynamodb from 'aws-cdk-lib/aws-dynamodb';
import * as iam from 'aws-cdk-lib/aws-iam';
import type * as kms from 'aws-cdk-lib/aws-kms';
import type * as scheduler from 'aws-cdk-lib/aws-scheduler';
import type * as sns from 'aws-cdk-lib/aws-sns';
import type * as sqs from 'aws-cdk-lib/aws-sqs';
import type { FunctionAccess, TableAccess } from '../topology.ts';
import type { HouseFunction } from './house-function.ts';
import { wildcardResourceFinding } from './nag.ts';

/** What a function may do with a one-time schedule in the campaign group. */
export const scheduleActions = ['scheduler:CreateSchedule', 'scheduler:DeleteSchedule'] as const;

/** The IAM actions of a function's table access, in the topology's order. */
export const tableActionsOf = (access: TableAccess): string[] => access.actions.map((action) => `dynamodb:${action}`);

/**
 * Exactly the item actions the function's code sends, on the table itself, and
 * Query on each index it names. Narrower than grantReadData /
 * grantReadWriteData, which also hand out Scan, DescribeTable and stream reads,
 * and every action on `<table>/index/*`.
 *
 * @param indexNames the indexes the table has; the function may name only these.
 */
export const grantTableAccess = (
  table: dynamodb.ITable,
  indexNames: readonly string[],
  fn: iam.IGrantable,
  access: TableAccess,
): void => {
  const actions = tableActionsOf(access);
  if (actions.length === 0 || new Set(actions).size !== actions.length) {
    throw new Error(`table access must name each action once, and at least one: ${actions.join(', ')}`);
  }
  const indexes = access.queryIndexes ?? [];
  const unknown = indexes.filter((name) => !indexNames.includes(name));
  if (unknown.length > 0) throw new Error(`no index ${unknown.join(', ')} on the table`);
  iam.Grant.addToPrincipal({ grantee: fn, actions, resourceArns: [table.tableArn] });
  // Query is the only item action that applies to an index; naming each index
  // leaves no wildcard for a later index to inherit silently.
  if (indexes.length > 0) {
    iam.Grant.addToPrincipal({
      grantee: fn,
      actions: ['dynamodb:Query'],
      resourceArns: indexes.map((name) => `${table.tableArn}/index/${name}`),
    });
  }
};

/** The read-only calls behind `GET /v1/health`: one per kind of dependency. */
export const healthActions = { queue: ['sqs:GetQueueAttributes'], scheduleGroup: ['scheduler:GetScheduleGroup'] } as const;

export interface HealthGrantProps {
  /** Queues whose attributes the function may read. */
  readonly queues: readonly sqs.IQueue[];
  /** The schedule group it may read, if any. @default - none */
  readonly scheduleGroup?: scheduler.IScheduleGroup;
}

/**
 * Read the attributes of the named queues and of one schedule group, and
 * nothing else of SQS or Scheduler: no message is sent, received or changed.
 * GetQueueAttributes needs no KMS grant (the queues use SQS-managed keys).
 */
export const grantHealthProbes = (fn: iam.IGrantable, props: HealthGrantProps): void => {
  if (props.queues.length > 0) {
    iam.Grant.addToPrincipal({ grantee: fn, actions: [...healthActions.queue], resourceArns: props.queues.map((q) => q.queueArn) });
  }
  if (props.scheduleGroup) {
    iam.Grant.addToPrincipal({
      grantee: fn,
      actions: [...healthActions.scheduleGroup],
      resourceArns: [props.scheduleGroup.scheduleGroupArn],
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

/** What a function with `identity.manageClients` may do in the user pool: make and remove factory clients. */
export const clientManagementActions = ['cognito-idp:CreateUserPoolClient', 'cognito-idp:DeleteUserPoolClient'] as const;

/**
 * Create and delete app clients in one user pool, and nothing else of Cognito:
 * no user administration, no reading other clients' secrets (DescribeUserPoolClient),
 * no pool settings. IAM cannot narrow below the pool: a client's settings
 * (flows, scopes) are fixed by functions/adapters/identity-admin.ts, and a
 * DeleteUserPoolClient could name the console client too (recovered by redeploying).
 */
export const grantClientManagement = (userPool: cognito.IUserPool, fn: iam.IGrantable): void => {
  iam.Grant.addToPrincipal({ grantee: fn, actions: [...clientManagementActions], resourceArns: [userPool.userPoolArn] });
};

/**
 * Webhook secrets: `seal` may Encrypt with the key; `open` may Decrypt only
 * ciphertexts whose encryption context says one of the given uses
 * (functions/adapters/secret-box.ts binds `c2m:use` into each one). So the
 * factory API, which seals every secret, can open only the copy kept to
 * answer a create's replay, and only the deliverer opens signing secrets.
 */
export const grantWebhookSecrets = (key: kms.IKey, fn: iam.IGrantable, access: NonNullable<FunctionAccess['webhookSecrets']>): void => {
  if (access.seal) iam.Grant.addToPrincipal({ grantee: fn, actions: ['kms:Encrypt'], resourceArns: [key.keyArn] });
  if (access.open?.length) {
    fn.grantPrincipal.addToPrincipalPolicy(
      new iam.PolicyStatement({
        actions: ['kms:Decrypt'],
        resources: [key.keyArn],
        conditions: { 'ForAllValues:StringEquals': { 'kms:EncryptionContextKeys': ['c2m:webhookId', 'c2m:use'] }, StringEquals: { 'kms:EncryptionContext:c2m:use': [...access.open] } },
      }),
    );
  }
};
