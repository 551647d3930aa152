import { GetQueueAttributesCommand, SQSClient } from '@aws-sdk/client-sqs';
import { GetScheduleGroupCommand, SchedulerClient } from '@aws-sdk/client-scheduler';
import { GetCommand } from '@aws-sdk/lib-dynamodb';
import type { QueueName } from '#topology';
import { queueUrl, scheduleGroupName, tableName } from '#shared/config.ts';
import { ddb } from './dynamo.ts';

/**
 * Read-only probes behind `GET /v1/health`, one per dependency the API needs
 * to be up: the table, the queues the service-api's access names (see
 * `health` in lib/topology.ts), and the campaign schedule group. Each is the
 * cheapest call that proves the dependency answers, and none writes.
 */
const sqs = new SQSClient({ maxAttempts: 2 });
const scheduler = new SchedulerClient({ maxAttempts: 2 });

/** A probe that has not answered by then counts as down: a health check must answer quickly, not hang on a dependency. */
const probeTimeoutMs = 3_000;
const options = () => ({ abortSignal: AbortSignal.timeout(probeTimeoutMs) });

/** A read of a key that never exists: proves the table answers, costs half a read unit. */
export const probeTable = async (): Promise<void> => {
  await ddb.send(new GetCommand({ TableName: tableName(), Key: { PK: 'HEALTH', SK: 'HEALTH' } }), options());
};

/** Proves SQS answers for the queue (GetQueueAttributes of one attribute: no message is sent, received or changed). */
export const probeQueue = async (queue: QueueName): Promise<void> => {
  await sqs.send(new GetQueueAttributesCommand({ QueueUrl: queueUrl(queue), AttributeNames: ['QueueArn'] }), options());
};

/** Proves EventBridge Scheduler answers and the group that holds the campaigns' one-time schedules exists and is active. */
export const probeScheduleGroup = async (): Promise<void> => {
  const name = scheduleGroupName();
  const out = await scheduler.send(new GetScheduleGroupCommand({ Name: name }), options());
  if (out.State !== 'ACTIVE') throw new Error(`schedule group ${name} is ${out.State ?? 'in no state'}`);
};
