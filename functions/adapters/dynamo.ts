import { DynamoDBClient, TransactionCanceledException } from '@aws-sdk/client-dynamodb';
import { BatchGetCommand, BatchWriteCommand, DeleteCommand, DynamoDBDocumentClient, PutCommand, QueryCommand, TransactWriteCommand, UpdateCommand } from '@aws-sdk/lib-dynamodb';
import { unmarshall } from '@aws-sdk/util-dynamodb';
import { OverloadedError } from '#domain/errors.ts';

/** One client per process, created at module scope and reused by every invocation. */
export const ddb = DynamoDBDocumentClient.from(new DynamoDBClient({}), {
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

/** A single write's condition did not hold (not a transaction's: see `cancellation`). */
export const isConditionFailure = (err: unknown): boolean => err instanceof Error && err.name === 'ConditionalCheckFailedException';

/** A single write met a transaction in progress on the same item: retry it. */
export const isTransactionConflict = (err: unknown): boolean => err instanceof Error && err.name === 'TransactionConflictException';

/** One item of a TransactWriteItems call, as the adapters build them for each other. */
export type TransactItem = NonNullable<ConstructorParameters<typeof TransactWriteCommand>[0]['TransactItems']>[number];

/**
 * The one retry policy of c2m's writes. A write (or transaction) that met
 * another transaction on the same item, or was throttled past what the SDK
 * retries itself, is tried again after a full-jitter backoff, up to
 * `maxAttempts` tries in all; past them the caller's client is told to slow
 * down (OverloadedError, a 429 at the API, a redelivery in a consumer). A
 * condition that did not hold is never retried here: it is an answer, for the
 * caller to decide on.
 */
export const writeAttempts = 8;

export interface TransactOptions {
  /** Tries in all while the transaction only meets others or throttling. @default writeAttempts */
  readonly maxAttempts?: number;
  /**
   * 'return': a transaction cancelled by a conflict or throttling is returned
   * at once, like a failed condition, for callers whose answer to contention
   * is to plan again rather than to wait (a cut that lost its plan, a batch
   * change made on a stale read, a gate a finisher will count later).
   * @default 'retry'
   */
  readonly onConflict?: 'retry' | 'return';
}

/**
 * One transaction, with the policy above: `'done'`, or why it was cancelled,
 * item by item (a condition failed; or, with `onConflict: 'return'`, it met
 * another transaction or throttling). A cancellation another try cannot change
 * (ValidationError: an item past 400 KB; ItemCollectionSizeLimitExceeded) is
 * thrown as it came. `items` may be a function of the attempt, for a
 * caller that spreads a retry elsewhere (a placement tries another gate).
 */
export const transactWrite = async (
  items: readonly TransactItem[] | ((attempt: number) => readonly TransactItem[]),
  opts: TransactOptions = {},
): Promise<'done' | Cancellation> => {
  const maxAttempts = opts.maxAttempts ?? writeAttempts;
  for (let attempt = 0; ; attempt++) {
    try {
      await ddb.send(new TransactWriteCommand({ TransactItems: [...(typeof items === 'function' ? items(attempt) : items)] }));
      return 'done';
    } catch (err) {
      const why = cancellation(err);
      if (!why) throw err;
      if (why.codes.includes('ConditionalCheckFailed')) return why;
      // What trying again cannot change (an item past 400 KB, a bad expression): an error, not "slow down".
      if (!why.codes.every((code) => code === 'None' || contention.has(code))) throw err;
      if (opts.onConflict === 'return') return why;
      if (attempt + 1 >= maxAttempts) throw new OverloadedError();
      await backoff(attempt);
    }
  }
};

/** Cancellation codes that another try may not meet: contention on an item, throttling. */
const contention: ReadonlySet<CancellationCode> = new Set(['TransactionConflict', 'ThrottlingError', 'ProvisionedThroughputExceeded', 'RequestLimitExceeded']);

/** Whether a cancelled transaction's item `index` failed its condition. */
export const failedAt = (why: Cancellation, index: number): boolean => why.codes[index] === 'ConditionalCheckFailed';

/**
 * A transaction decided by its first item's condition (the entity is as it was
 * read), the others going with it: `'refused'` when that guard failed. Another
 * item's condition failing is not an answer a caller could act on, and is
 * thrown, naming the items' codes.
 */
export const guardedTransact = async (items: readonly TransactItem[], opts: TransactOptions = {}): Promise<'done' | 'refused'> => {
  const outcome = await transactWrite(items, opts);
  if (outcome === 'done') return 'done';
  if (failedAt(outcome, 0)) return 'refused';
  throw new Error(`a transaction was refused by an item that goes with its change: ${outcome.codes.join(', ')}`);
};

/**
 * One conditional write outside a transaction (Put, Update or Delete), with
 * the same policy: retried while it meets a transaction on its item, past
 * `maxAttempts` OverloadedError; `'condition-failed'` when its condition did
 * not hold.
 */
export const writeItem = async (
  command: PutCommand | UpdateCommand | DeleteCommand,
  opts: { readonly maxAttempts?: number } = {},
): Promise<'done' | 'condition-failed'> => {
  const maxAttempts = opts.maxAttempts ?? writeAttempts;
  for (let attempt = 0; ; attempt++) {
    try {
      await ddb.send(command as UpdateCommand);
      return 'done';
    } catch (err) {
      if (isConditionFailure(err)) return 'condition-failed';
      if (!isTransactionConflict(err)) throw err;
      if (attempt + 1 >= maxAttempts) throw new OverloadedError();
      await backoff(attempt);
    }
  }
};

export const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

/**
 * The items of `keys` that exist, in no particular order: 100 keys a
 * BatchGetItem (the API's limit), the keys DynamoDB left unprocessed asked
 * again with backoff.
 */
export const batchGetItems = async (table: string, keys: readonly Record<string, unknown>[], consistent = false): Promise<Record<string, unknown>[]> => {
  const found: Record<string, unknown>[] = [];
  for (let i = 0; i < keys.length; i += 100) {
    let pending = keys.slice(i, i + 100);
    for (let attempt = 0; pending.length > 0; attempt++) {
      const out = await ddb.send(new BatchGetCommand({ RequestItems: { [table]: { Keys: [...pending], ConsistentRead: consistent } } }));
      found.push(...(out.Responses?.[table] ?? []));
      pending = (out.UnprocessedKeys?.[table]?.Keys ?? []) as Record<string, unknown>[];
      if (pending.length > 0) await backoff(attempt);
    }
  }
  return found;
};

/**
 * Writes whole items, 25 a BatchWriteItem (the API's limit), the items DynamoDB
 * left unprocessed sent again with backoff. Plain Puts: for items that are the
 * same whenever they are written (a redelivery writes them again unchanged), so
 * an item given twice is written once. The table's keys must be PK and SK.
 */
export const batchWriteItems = async (table: string, items: readonly Record<string, unknown>[], maxAttempts = 12): Promise<void> => {
  // One write per key: BatchWriteItem refuses a request naming a key twice (the same item, written twice, is the same).
  const unique = [...new Map(items.map((item) => [`${String(item.PK)}\u0000${String(item.SK)}`, item])).values()];
  for (let i = 0; i < unique.length; i += 25) {
    let pending = unique.slice(i, i + 25).map((Item) => ({ PutRequest: { Item } }));
    for (let attempt = 0; pending.length > 0; attempt++) {
      if (attempt >= maxAttempts) throw new OverloadedError();
      const out = await ddb.send(new BatchWriteCommand({ RequestItems: { [table]: pending } }));
      pending = (out.UnprocessedItems?.[table] ?? []) as typeof pending;
      if (pending.length > 0) await backoff(attempt);
    }
  }
};

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

/**
 * One page of an owner's items on GSI1 (`GSI1PK` = owner, `GSI1SK` = `<createdAt>#<id>`),
 * newest first. The cursor carries only the sort key: the partition always comes
 * from the caller's identity, so a cursor cannot reach another owner's items.
 */
export const pageOfOwnerIndex = async <T>(input: {
  tableName: string;
  owner: string;
  baseKey: (id: string) => Record<string, string>;
  limit: number;
  cursor: string | undefined;
  fromItem: (item: Record<string, unknown>) => T;
  /** What the ids in this list look like (a cursor naming anything else is refused). @default c2m's generated ids */
  idPattern?: string;
}): Promise<{ items: T[]; nextCursor: string | undefined } | 'invalid-cursor'> => {
  const start = decodeCursor(input.cursor);
  const sortKey = new RegExp(`^\\d{4}-\\d{2}-\\d{2}T[^#]+#${input.idPattern ?? '[a-z]+_[0-9a-z]{24}'}$`);
  if (start === 'invalid' || (start && !(typeof start.GSI1SK === 'string' && sortKey.test(start.GSI1SK)))) {
    return 'invalid-cursor';
  }
  const out = await ddb.send(
    new QueryCommand({
      TableName: input.tableName,
      IndexName: 'GSI1',
      KeyConditionExpression: 'GSI1PK = :pk',
      ExpressionAttributeValues: { ':pk': input.owner },
      ScanIndexForward: false,
      Limit: input.limit,
      ...(start && {
        ExclusiveStartKey: {
          GSI1PK: input.owner,
          GSI1SK: start.GSI1SK,
          ...input.baseKey(String(start.GSI1SK).split('#')[1] ?? ''),
        },
      }),
    }),
  );
  const last = out.LastEvaluatedKey;
  return {
    items: (out.Items ?? []).map(input.fromItem),
    nextCursor: encodeCursor(last ? { GSI1SK: last.GSI1SK } : undefined),
  };
};
