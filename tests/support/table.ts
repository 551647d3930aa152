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
  await ensureTable(endpoint, tableName);
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
