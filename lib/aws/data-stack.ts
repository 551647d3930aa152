import { CfnOutput, RemovalPolicy, Stack, type StackProps } from 'aws-cdk-lib';
import type * as cloudwatch from 'aws-cdk-lib/aws-cloudwatch';
import type * as cognito from 'aws-cdk-lib/aws-cognito';
import * as dynamodb from 'aws-cdk-lib/aws-dynamodb';
import * as events from 'aws-cdk-lib/aws-events';
import * as iam from 'aws-cdk-lib/aws-iam';
import * as kms from 'aws-cdk-lib/aws-kms';
import * as scheduler from 'aws-cdk-lib/aws-scheduler';
import * as sns from 'aws-cdk-lib/aws-sns';
import type * as sqs from 'aws-cdk-lib/aws-sqs';
import type { Construct } from 'constructs';
import {
  campaignScheduleGroup,
  eventSource,
  identity as identitySpec,
  queues as queueSpecs,
  rules,
  schedules,
  table as tableSpec,
  type QueueName,
} from '../topology.ts';
import { C2mIdentity, identityPropsFromContext, type C2mIdentityProps } from './identity.ts';
import { WorkQueue, type DeadLetterQueue } from './queues.ts';
import { EventRouting } from './routing.ts';
import { StageNames } from './stage.ts';

/**
 * The queue one-time campaign schedules deliver to. Topology names it only in
 * prose (FunctionAccess.schedules); the type check keeps it a real queue name.
 */
export const clockQueueName: QueueName = 'campaign-clock';

/** What the compute stack is built on. DataStack provides it; a test may provide another. */
export interface C2mData {
  readonly table: dynamodb.ITable;
  readonly bus: events.IEventBus;
  /** Every topology queue, by name. */
  readonly queues: ReadonlyMap<QueueName, sqs.IQueue>;
  /** Every dead-letter queue: of topology queues by queue name, of rules and schedules by their name. */
  readonly deadLetterQueues: ReadonlyMap<string, sqs.IQueue>;
  readonly scheduleGroup: scheduler.IScheduleGroup;
  /** Role EventBridge Scheduler assumes to deliver one-time campaign schedules to the clock queue. */
  readonly campaignSchedulerRole: iam.IRole;
  /** The queue one-time campaign schedules target. */
  readonly clockQueue: sqs.IQueue;
  /** The issuers the authorizer trusts, JSON (functions/shared/config.ts `TrustedIssuer[]`). */
  readonly trustedIssuers: string;
  /** The c2m issuer's `/.well-known/openid-configuration`. */
  readonly oidcDiscoveryUrl: string;
  /** The pool that holds the factories' OAuth2 clients; undefined when the operator brings their own IdP. */
  readonly userPool?: cognito.IUserPool;
  readonly alarmTopic: sns.ITopic;
  /** Where buyer notifications are published; the live platform subscribes to it. */
  readonly notificationTopic: sns.ITopic;
  /** The key webhook signing secrets are sealed under (functions/adapters/secret-box.ts). */
  readonly webhookSecretsKey: kms.IKey;
  /**
   * The stage these resources belong to; what is built on them takes the same stage's names.
   * @default StageNames.default
   */
  readonly names?: StageNames;
}

export interface DataStackProps extends StackProps {
  /**
   * How c2m gets its identities: a Cognito user pool, or the operator's own
   * issuer, plus the live platform's.
   * @default - read from context (lib/aws/identity.ts `identityContextKeys`); with none set, a user pool and no platform issuer
   */
  readonly identity?: C2mIdentityProps;
  /**
   * The stage whose names the bus, queues, rules, schedules, schedule group and user pool take.
   * @default StageNames.default (c2m's names as they have always been)
   */
  readonly names?: StageNames;
}

/**
 * Everything that holds state or routes it: the table, the event bus, the
 * queues with their dead-letter queues, the schedule group and the role its
 * schedules run with, the identity issuers (a user pool unless the operator
 * brings their own IdP), the operators' alarm topic, the buyer-notification
 * topic. It lives
 * apart from compute so compute can be replaced without touching data; the
 * scheduler role lives here because schedules created at run time keep its
 * ARN long after the function that created them was redeployed, and the user
 * pool because its users, MFA devices and factory clients are state.
 */
export class DataStack extends Stack implements C2mData {
  public readonly table: dynamodb.Table;
  public readonly bus: events.EventBus;
  public readonly queues: ReadonlyMap<QueueName, sqs.Queue>;
  public readonly workQueues: ReadonlyMap<QueueName, WorkQueue>;
  public readonly deadLetterQueues: ReadonlyMap<string, sqs.Queue>;
  /** Every dead-letter alarm, by the name of what the queue backs. */
  public readonly deadLetterAlarms: ReadonlyMap<string, cloudwatch.Alarm>;
  public readonly scheduleGroup: scheduler.ScheduleGroup;
  public readonly campaignSchedulerRole: iam.Role;
  public readonly clockQueue: sqs.Queue;
  public readonly routing: EventRouting;
  public readonly identity: C2mIdentity;
  public readonly trustedIssuers: string;
  public readonly oidcDiscoveryUrl: string;
  public readonly userPool?: cognito.UserPool;
  public readonly alarmTopic: sns.Topic;
  /**
   * Buyer notifications, one message per buyer per pre-order step. The live
   * platform subscribes, filtering on the buyerId, step and campaignId attributes.
   */
  public readonly notificationTopic: sns.Topic;
  /**
   * Webhook signing secrets are encrypted under this key, each bound to its
   * webhook and use by the encryption context; the compute stack grants
   * Decrypt per use (only the deliverer may open a signing secret).
   */
  public readonly webhookSecretsKey: kms.Key;
  /** The stage whose names this stack's resources take. */
  public readonly names: StageNames;

  constructor(scope: Construct, id: string, props: DataStackProps = {}) {
    super(scope, id, {
      description: 'c2m data: table, event bus, queues, schedule group, identity, alarm and buyer-notification topics',
      ...props,
    });
    const names = props.names ?? StageNames.default;
    this.names = names;

    this.table = new dynamodb.Table(this, 'Table', {
      partitionKey: { name: tableSpec.partitionKey, type: dynamodb.AttributeType.STRING },
      sortKey: { name: tableSpec.sortKey, type: dynamodb.AttributeType.STRING },
      billingMode: dynamodb.BillingMode.PAY_PER_REQUEST,
      pointInTimeRecoverySpecification: { pointInTimeRecoveryEnabled: true },
      encryption: dynamodb.TableEncryption.AWS_MANAGED,
      timeToLiveAttribute: tableSpec.ttlAttribute,
      // Stream consumers (topology `tableStreams`) follow what was written; see decision 28.
      stream: dynamodb.StreamViewType[tableSpec.stream],
      removalPolicy: RemovalPolicy.RETAIN,
      deletionProtection: true,
    });
    for (const index of tableSpec.indexes) {
      this.table.addGlobalSecondaryIndex({
        indexName: index.name,
        partitionKey: { name: index.partitionKey, type: dynamodb.AttributeType.STRING },
        sortKey: { name: index.sortKey, type: dynamodb.AttributeType.STRING },
        projectionType: dynamodb.ProjectionType.ALL,
      });
    }

    this.bus = new events.EventBus(this, 'Bus', {
      // The bus is the stage's; the events' source stays `c2m` on every stage (rules match on it).
      eventBusName: names.physical(eventSource),
      description: 'c2m domain events (source "c2m")',
    });

    // CloudWatch alarms cannot publish to a topic encrypted with the AWS-managed
    // SNS key, and alarm messages carry no customer data; TLS is enforced instead.
    this.alarmTopic = new sns.Topic(this, 'AlarmTopic', {
      displayName: `${names.prefix} operator alarms`,
      enforceSSL: true,
    });

    // Messages name buyers, so they are encrypted at rest. The AWS-managed SNS key
    // suffices: only c2m's functions publish, through the SNS API, which that key's
    // policy allows to every principal of the account, so publishers need no KMS
    // grant. (A CloudWatch or EventBridge publisher would need a customer key.)
    this.notificationTopic = new sns.Topic(this, 'BuyerNotifications', {
      displayName: `${names.prefix} buyer notifications`,
      masterKey: kms.Alias.fromAliasName(this, 'SnsManagedKey', 'alias/aws/sns'),
      enforceSSL: true,
    });

    this.webhookSecretsKey = new kms.Key(this, 'WebhookSecretsKey', {
      description: 'c2m: encrypts factory webhook signing secrets at rest',
      enableKeyRotation: true,
      // Without it no stored secret opens again: every webhook would need a new one.
      removalPolicy: RemovalPolicy.RETAIN,
    });

    const workQueues = new Map<QueueName, WorkQueue>();
    for (const spec of queueSpecs) {
      workQueues.set(spec.name, new WorkQueue(this, spec.name, { spec, alarmTopic: this.alarmTopic, names }));
    }
    this.workQueues = workQueues;
    this.queues = new Map([...workQueues].map(([name, wq]) => [name, wq.queue]));
    const clockQueue = this.queues.get(clockQueueName);
    if (!clockQueue) throw new Error(`the topology has no ${clockQueueName} queue`);
    this.clockQueue = clockQueue;

    this.scheduleGroup = new scheduler.ScheduleGroup(this, 'CampaignScheduleGroup', {
      scheduleGroupName: names.physical(campaignScheduleGroup),
      // Pending open/close schedules are state, like the table's items.
      removalPolicy: RemovalPolicy.RETAIN,
    });
    this.campaignSchedulerRole = new iam.Role(this, 'CampaignSchedulerRole', {
      description: `EventBridge Scheduler delivers one-time schedules of ${names.physical(campaignScheduleGroup)} to ${names.physical(clockQueueName)} with this role`,
      assumedBy: new iam.ServicePrincipal('scheduler.amazonaws.com', {
        conditions: {
          StringEquals: {
            'aws:SourceAccount': this.account,
            'aws:SourceArn': this.scheduleGroup.scheduleGroupArn,
          },
        },
      }),
    });
    // Only SendMessage: not GetQueueUrl/GetQueueAttributes that grantSendMessages adds.
    this.clockQueue.grant(this.campaignSchedulerRole, 'sqs:SendMessage');

    this.routing = new EventRouting(this, 'Routing', {
      bus: this.bus,
      queues: this.queues,
      rules,
      schedules,
      alarmTopic: this.alarmTopic,
      names,
    });

    const deadLetters = new Map<string, DeadLetterQueue>([
      ...[...workQueues].map(([name, wq]) => [name, wq.deadLetter] as const),
      ...this.routing.deadLetterQueues,
    ]);
    this.deadLetterQueues = new Map([...deadLetters].map(([name, dlq]) => [name, dlq.queue]));
    this.deadLetterAlarms = new Map([...deadLetters].map(([name, dlq]) => [name, dlq.alarm]));

    this.identity = new C2mIdentity(this, 'Identity', { ...(props.identity ?? identityPropsFromContext(this)), names });
    this.trustedIssuers = this.identity.trustedIssuers;
    this.oidcDiscoveryUrl = this.identity.openIdConfigurationUrl;
    this.userPool = this.identity.cognito?.userPool;

    new CfnOutput(this, 'TableName', { value: this.table.tableName, description: 'The single c2m table' });
    new CfnOutput(this, 'IssuerUrl', {
      value: this.identity.issuerUrl,
      description: "Issuer (iss) of anchors', operators' and factories' access tokens",
    });
    new CfnOutput(this, 'OpenIdConfigurationUrl', {
      value: this.identity.openIdConfigurationUrl,
      description: "The c2m issuer's OpenID Connect discovery document",
    });
    const pool = this.identity.cognito;
    if (pool) {
      new CfnOutput(this, 'UserPoolId', {
        value: pool.userPool.userPoolId,
        description: 'Operators create anchors here and add operators to the operator group',
      });
      new CfnOutput(this, 'TokenEndpoint', {
        value: pool.tokenEndpoint,
        description: `Factories and the platform trade their client id and secret for an access token here (client_credentials, scope ${identitySpec.factoryScope} or ${identitySpec.platformScope})`,
      });
      new CfnOutput(this, 'ConsoleClientId', {
        value: pool.consoleClient.userPoolClientId,
        description: "The anchors' console signs in with this public client (authorization code with PKCE)",
      });
      new CfnOutput(this, 'PlatformClientId', {
        value: pool.platformClient.userPoolClientId,
        description:
          `The live platform's payment service gets its tokens with this client (client_credentials, scope ${identitySpec.platformScope}). ` +
          'Its secret is in Cognito only, never in this template: hand it over from `aws cognito-idp describe-user-pool-client ' +
          '--user-pool-id <UserPoolId> --client-id <PlatformClientId> --query UserPoolClient.ClientSecret`.',
      });
    }
    new CfnOutput(this, 'AlarmTopicArn', {
      value: this.alarmTopic.topicArn,
      description: 'Subscribe operators here: every dead-letter and function alarm publishes to it',
    });
    new CfnOutput(this, 'NotificationTopicArn', {
      value: this.notificationTopic.topicArn,
      description: 'The live platform subscribes here: one message per buyer per pre-order step, attributes buyerId, step, campaignId',
    });
  }
}
