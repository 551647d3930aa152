import { DynamoDBClient, TransactionCanceledException } from '@aws-sdk/client-dynamodb';
import { DynamoDBDocumentClient } from '@aws-sdk/lib-dynamodb';
import { unmarshall } from '@aws-sdk/util-dynamodb';
import { tracer } from '#shared/observability.ts';

/** One client per process, created at module scope and reused by every invocation. */
export const ddb = DynamoDBDocumentClient.from(tracer.captureAWSv3Client(new DynamoDBClient({})), {
  marshallOptions: { removeUndefinedValues: true },
});

export type CancellationCode = 'None' | 'ConditionalCheckFailed' | 'TransactionConflict' | 'ThrottlingError' | string;

export interface Cancellation {
  readonly codes: CancellationCode[];
  /** The item as it was, for items whose condition failed (ReturnValuesOnConditionCheckFailure: ALL_OLD). */
  readonly items: (Record<string, unknown> | undefined)[];
}

/** Reads why a transaction was cancelled, item by item; undefined for other errors. */
export const cancellation = (err: unknown): Cancellation | undefined => {
  if (!(err instanceof TransactionCanceledException)) return undefined;
  const reasons = err.CancellationReasons ?? [];
  return {
    codes: reasons.map((r) => r.Code ?? 'None'),
    items: reasons.map((r) => (r.Item ? unmarshallLoose(r.Item) : undefined)),
  };
};

const unmarshallLoose = (item: Parameters<typeof unmarshall>[0]): Record<string, unknown> => unmarshall(item);

export const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

/** Full-jitter backoff for transaction conflicts and throttling. */
export const backoff = (attempt: number, baseMs = 10, capMs = 400) =>
  sleep(Math.random() * Math.min(capMs, baseMs * 2 ** attempt));

/** Opaque list cursors: base64url JSON of the last sort key; the partition is never taken from the client. */
export const encodeCursor = (value: Record<string, unknown> | undefined): string | undefined =>
  value ? Buffer.from(JSON.stringify(value)).toString('base64url') : undefined;

export const decodeCursor = (cursor: string | undefined): Record<string, unknown> | undefined | 'invalid' => {
  if (cursor === undefined) return undefined;
  try {
    const value: unknown = JSON.parse(Buffer.from(cursor, 'base64url').toString('utf8'));
    if (value && typeof value === 'object' && !Array.isArray(value)) return value as Record<string, unknown>;
  } catch {
    // fall through
  }
  return 'invalid';
};
