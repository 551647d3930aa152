import { inject } from 'vitest';
import { randomUUID } from 'node:crypto';
import { ensureTable, localCredentials, localRegion } from '../../lib/local/dynamodb.ts';
import { envNames } from '../../lib/topology.ts';

/**
 * A fresh table on the run's DynamoDB Local, with the environment a function
 * would get. Call it before importing adapters: their clients read it once.
 */
export const useLocalTable = async (): Promise<string> => {
  const endpoint = inject('dynamoEndpoint');
  const tableName = `c2m-it-${randomUUID().slice(0, 8)}`;
  // No change stream: nothing here follows one, and a full stream slows every write in its database.
  await ensureTable(endpoint, tableName, { stream: false });
  Object.assign(process.env, {
    AWS_REGION: localRegion,
    AWS_ACCESS_KEY_ID: localCredentials.accessKeyId,
    AWS_SECRET_ACCESS_KEY: localCredentials.secretAccessKey,
    AWS_ENDPOINT_URL_DYNAMODB: endpoint,
    POWERTOOLS_TRACE_ENABLED: 'false',
    POWERTOOLS_METRICS_DISABLED: 'true',
    POWERTOOLS_LOG_LEVEL: 'ERROR',
    [envNames.table]: tableName,
  });
  return tableName;
};

/**
 * Factories registered in the table as the operator route leaves them (a
 * factory and its client record), for in-process tests of code that serves only
 * registered, active factories. The client ids are made up: no token is involved.
 */
export const registerFactoryRecords = async (...factoryIds: string[]): Promise<void> => {
  const { recordRegistration } = await import('../../functions/adapters/factory-store.ts');
  for (const factoryId of factoryIds) {
    await recordRegistration({
      factoryId,
      name: factoryId,
      status: 'ACTIVE',
      clientId: `it-client-${factoryId}-${randomUUID().slice(0, 8)}`,
      registeredAt: new Date().toISOString(),
      registeredBy: 'operator-it',
    });
  }
};

/**
 * The local AWS emulator with no consumer running, and the environment the
 * factory and fulfillment use cases read (bus, batch-cuts queue, accept window,
 * notifications printed): for in-process tests that decide themselves when a
 * consumer's use case runs. Stopped after the file. `settings` adds or overrides.
 */
export const useEmulatorWithoutConsumers = async (settings: Record<string, string> = {}) => {
  const { startAwsEmulator } = await import('../../lib/local/aws-emulator.ts');
  const { afterAll } = await import('vitest');
  const emulator = await startAwsEmulator({ dataDir: null, invoke: async () => undefined, startConsumers: false });
  Object.assign(process.env, {
    AWS_ENDPOINT_URL_EVENTBRIDGE: emulator.endpoint,
    AWS_ENDPOINT_URL_SQS: emulator.endpoint,
    [envNames.bus]: emulator.busName,
    [envNames.queueUrl('batch-cuts')]: emulator.queueUrl('batch-cuts'),
    BATCH_ACCEPT_WINDOW_HOURS: '24',
    [envNames.notificationTopic]: 'local:console',
    ...settings,
  });
  afterAll(() => emulator.stop());
  return emulator;
};

/**
 * What intake does with placed pre-orders when it reads them off the table's
 * stream (functions/handlers/preorders/intake.ts `tellAndList`): tells each buyer
 * theirs was accepted, lists them (their order refs) and flushes what other
 * flushes left to it. In-process tests place pre-orders with no stream
 * consumer running; this is intake's own code, run on the items as stored.
 */
export const followLikeIntake = async (preorderIds: readonly string[]): Promise<void> => {
  const { ddb } = await import('../../functions/adapters/dynamo.ts');
  const { GetCommand } = await import('@aws-sdk/lib-dynamodb');
  const { preorderKey } = await import('../../functions/adapters/preorder-store.ts');
  const { tableName } = await import('../../functions/shared/config.ts');
  const { PlacedPreorderImage } = await import('../../functions/contracts/messages.ts');
  const { tellAndList } = await import('../../functions/handlers/preorders/intake.ts');
  const images = await Promise.all(
    preorderIds.map(async (id) => PlacedPreorderImage.parse((await ddb.send(new GetCommand({ TableName: tableName(), Key: preorderKey(id), ConsistentRead: true }))).Item)),
  );
  await tellAndList(images);
};

/**
 * What the notifier does with a released batch's event (`batch.released`): tells
 * its members "batched", a page at a time (notifications/batch-pages.ts). Tests
 * that run the cutter in-process without the notifier call it after the cut, as
 * they call followLikeIntake after placing.
 */
export const tellLikeNotifier = async (batchId: string): Promise<void> => {
  const { getBatch } = await import('../../functions/adapters/batch-store.ts');
  const { tellBatch } = await import('../../functions/handlers/notifications/batch-pages.ts');
  await tellBatch(batchId, (await getBatch(batchId))?.preorderIds ?? []);
};
