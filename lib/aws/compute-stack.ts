import { CfnOutput, Duration, Stack, type StackProps } from 'aws-cdk-lib';
import type { IQueue } from 'aws-cdk-lib/aws-sqs';
import { FilterCriteria, StartingPosition } from 'aws-cdk-lib/aws-lambda';
import { DynamoEventSource, SqsEventSource } from 'aws-cdk-lib/aws-lambda-event-sources';
import type { Construct } from 'constructs';
import {
  campaignScheduleGroup,
  functionEnvironment,
  functions as functionSpecs,
  maxBodyBytes,
  queues as queueSpecs,
  tableStreams,
  routes,
  table,
  throttling,
  type FunctionName,
  type FunctionSpec,
  type QueueName,
} from '../topology.ts';
import { withReservedConcurrency } from './concurrency.ts';
import type { C2mData } from './data-stack.ts';
import {
  grantCampaignSchedules,
  grantClientManagement,
  grantHealthProbes,
  grantNotificationPublish,
  grantWebhookSecrets,
  grantTableAccess,
} from './grants.ts';
import { HouseFunction } from './house-function.ts';
import { noUserPool } from './identity.ts';
import { C2mApi, rateLimitsFromContext } from './http-api.ts';
import { Observability } from './observability.ts';
import { StageNames } from './stage.ts';

/** The function API Gateway runs as the TOKEN authorizer (topology names it, but not its role). */
export const authorizerFunction: FunctionName = 'authorizer';

export interface ComputeStackProps extends StackProps {
  /** The data stack's resources (or any other provider of them). */
  readonly data: C2mData;
}

/**
 * Everything that runs code: one function per topology entry with the
 * narrowest grants its access allows, the queue consumers, the REST API, and
 * the alarms and dashboard. Holds no state, so it can be destroyed and
 * redeployed without touching data.
 */
export class ComputeStack extends Stack {
  public readonly functions: ReadonlyMap<FunctionName, HouseFunction>;
  public readonly api: C2mApi;
  public readonly observability: Observability;

  constructor(scope: Construct, id: string, props: ComputeStackProps) {
    super(scope, id, {
      description: 'c2m compute: functions, queue consumers, REST API, alarms and dashboard',
      ...props,
    });
    const { data } = props;
    const names = data.names ?? StageNames.default;

    const queueNamed = (name: QueueName): IQueue => {
      const queue = data.queues.get(name);
      if (!queue) throw new Error(`no queue ${name} in the data stack`);
      return queue;
    };

    const built = new Map<FunctionName, HouseFunction>();
    // The topology's reserved concurrency, or this deploy's (context c2m:reservedConcurrency), checked against the account.
    for (const spec of withReservedConcurrency(this, functionSpecs, queueSpecs)) {
      const fn = new HouseFunction(this, spec.name, {
        spec,
        environment: { ...this.environmentFor(spec, data), POWERTOOLS_METRICS_NAMESPACE: names.metricsNamespace },
      });
      this.grantAccess(fn, spec, data, queueNamed, names);
      built.set(spec.name, fn);
    }
    this.functions = built;
    const fnNamed = (name: FunctionName): HouseFunction => {
      const fn = built.get(name);
      if (!fn) throw new Error(`no function ${name} in the topology`);
      return fn;
    };

    for (const spec of queueSpecs) {
      const consumer = fnNamed(spec.consumer);
      // Lambda keeps a batch invisible for the queue's timeout; shorter than the
      // function's own timeout and a slow batch is delivered twice while running.
      if (spec.visibilityTimeoutSeconds < consumer.spec.timeoutSeconds) {
        throw new Error(`queue ${spec.name}: visibility timeout ${spec.visibilityTimeoutSeconds}s is under ${spec.consumer}'s timeout`);
      }
      // The event source grants the consumer receive/delete/visibility on this queue only. Its maximum
      // concurrency caps the consumer without throttling it: a backlog waits in the queue (topology maxConcurrency).
      consumer.addEventSource(
        new SqsEventSource(queueNamed(spec.name), {
          batchSize: spec.batchSize,
          maxBatchingWindow: spec.maxBatchingWindowSeconds > 0 ? Duration.seconds(spec.maxBatchingWindowSeconds) : undefined,
          reportBatchItemFailures: true,
          maxConcurrency: spec.maxConcurrency,
        }),
      );
    }

    for (const spec of tableStreams) {
      // The event source grants the consumer the stream's read actions, on this table's stream only.
      // Its concurrency is bounded by the stream itself: one invocation per shard at a time.
      // Retries are unbounded on purpose: a record is an accepted pre-order, and skipping one would lose
      // its buyer's listing and notice. A stuck record holds its shard and the iterator-age alarm pages.
      fnNamed(spec.consumer).addEventSource(
        new DynamoEventSource(data.table, {
          startingPosition: StartingPosition.TRIM_HORIZON,
          batchSize: spec.batchSize,
          maxBatchingWindow: spec.maxBatchingWindowSeconds > 0 ? Duration.seconds(spec.maxBatchingWindowSeconds) : undefined,
          reportBatchItemFailures: true,
          filters: [
            FilterCriteria.filter({
              eventName: [...spec.filter.eventNames],
              dynamodb: { NewImage: { type: { S: [...spec.filter.itemTypes] } } },
            }),
          ],
        }),
      );
    }

    this.api = new C2mApi(this, 'Api', {
      routes,
      functions: built,
      authorizer: fnNamed(authorizerFunction),
      throttling,
      maxBodyBytes,
      rateLimits: rateLimitsFromContext(this),
      names,
    });

    this.observability = new Observability(this, 'Observability', {
      functions: built,
      api: this.api.restApi,
      deadLetterQueues: data.deadLetterQueues,
      alarmTopic: data.alarmTopic,
      names,
    });

    new CfnOutput(this, 'ApiUrl', {
      value: this.api.restApi.url,
      description: 'Base URL of the c2m API; routes start with v1/',
    });
  }

  /** Environment from access, through the same derivation the local runtime uses. */
  private environmentFor(spec: FunctionSpec, data: C2mData): Record<string, string> {
    return functionEnvironment(spec, {
      table: data.table.tableName,
      bus: data.bus.eventBusName,
      queueUrl: (queue) => {
        const target = data.queues.get(queue);
        if (!target) throw new Error(`${spec.name} sends to ${queue}, which the data stack lacks`);
        return target.queueUrl;
      },
      scheduleGroup: data.scheduleGroup.scheduleGroupName,
      schedulerRole: data.campaignSchedulerRole.roleArn,
      clockQueueArn: data.clockQueue.queueArn,
      trustedIssuers: data.trustedIssuers,
      oidcDiscoveryUrl: data.oidcDiscoveryUrl,
      userPoolId: data.userPool?.userPoolId ?? noUserPool,
      notificationTopic: data.notificationTopic.topicArn,
      webhookSecretsKey: data.webhookSecretsKey.keyArn,
    });
  }

  /** The narrowest grants that make the access work; see grants.ts for the action lists. */
  private grantAccess(fn: HouseFunction, spec: FunctionSpec, data: C2mData, queueNamed: (name: QueueName) => IQueue, names: StageNames): void {
    const { access } = spec;
    if (access.table) grantTableAccess(data.table, table.indexes.map((index) => index.name), fn, access.table);
    for (const queue of access.sendTo ?? []) queueNamed(queue).grantSendMessages(fn);
    if (access.publish) data.bus.grantPutEventsTo(fn);
    if (access.schedules) {
      grantCampaignSchedules(fn, { groupName: names.physical(campaignScheduleGroup), schedulerRole: data.campaignSchedulerRole });
    }
    // With the operator's own IdP there is no pool: factory clients are made there, and no Cognito grant here.
    if (access.identity?.manageClients && data.userPool) grantClientManagement(data.userPool, fn);
    if (access.notify) grantNotificationPublish(data.notificationTopic, fn);
    if (access.webhookSecrets) grantWebhookSecrets(data.webhookSecretsKey, fn, access.webhookSecrets);
    if (access.health) {
      grantHealthProbes(fn, {
        queues: access.health.queues.map(queueNamed),
        ...(access.health.scheduleGroup && { scheduleGroup: data.scheduleGroup }),
      });
    }
  }
}
