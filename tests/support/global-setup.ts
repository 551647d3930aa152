import type {} from 'vitest';
import type { TestProject } from 'vitest/node';
import { startDynamoDbLocal, type LocalDynamo } from '../../lib/local/dynamodb.ts';

// Node 20 is what engines promises; the SDK's notice about its 2027 releases is in the README.
process.env.AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED = 'true';

let dynamo: LocalDynamo | undefined;

/**
 * One in-memory DynamoDB Local for the whole run; each test file makes its own
 * table. Not shared between access keys: each runtime's key has a database of
 * its own (tests/support/runtime.ts), because DynamoDB Local's writes slow down
 * as other tables' change streams in the same database fill (measured: 8,000
 * records in one table's stream took another table from ~1,000 to ~150 PutItem/s).
 */
export async function setup(project: TestProject): Promise<void> {
  dynamo = await startDynamoDbLocal({ dataDir: null, sharedDb: false });
  project.provide('dynamoEndpoint', dynamo.endpoint);
}

export async function teardown(): Promise<void> {
  await dynamo?.stop();
}

declare module 'vitest' {
  export interface ProvidedContext {
    dynamoEndpoint: string;
  }
}
