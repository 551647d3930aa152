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
