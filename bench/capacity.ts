/**
 * What the pipeline costs in DynamoDB, seen from inside the process.
 *
 * The local runtime runs every handler in this process, and they all send through
 * one module-scope client, `ddb` in functions/adapters/dynamo.ts. The bench adds
 * one middleware to that client's stack (nothing in the product changes):
 *
 * - it asks for `ReturnConsumedCapacity: 'INDEXES'` on every command and sums the
 *   `ConsumedCapacity` DynamoDB Local returns (table and each GSI apart), per
 *   function, per operation and as reads or writes by the operation's kind
 *   (DynamoDB Local reports `CapacityUnits` only, not Read/WriteCapacityUnits);
 * - it counts committed writes per item key (PK + SK) and, for items written
 *   whole (Put, also inside transactions), per GSI partition key: the hot-key
 *   figures. A write that fails (condition, TransactionConflict) counts nothing.
 *
 * Which function made a call comes from `tagInvocation`, installed as the local
 * runtime's `wrapInvoke` hook, which runs each invocation inside an
 * AsyncLocalStorage scope.
 *
 * The module instance must be the one the handlers use: the runtime imports the
 * handlers by file URL and they reach `dynamo.ts` by `#adapters/*` or `./`, both
 * resolving to the same file, so importing it here by path shares it. `install`
 * checks this by watching for a call from a handler.
 */
import { AsyncLocalStorage } from 'node:async_hooks';
import type { FunctionName } from '../lib/topology.ts';

/**
 * `txShortfall`: what DynamoDB Local left out of a transaction's table units.
 * It charges 2 units per KB for each item that has index entries but lumps every
 * item without any into one 2-unit charge (a transaction of three plain Puts
 * reports 2), where AWS charges each item of a transaction 2 WCU per KB. The
 * shortfall is what AWS charges less the table units, when positive: 2 per
 * started KB of each Put's item, 2 for each update (taken as under 1 KB, as
 * c2m's are but a batch header from before its plan moved apart).
 */
type Units = { table: number; indexes: Record<string, number>; total: number; txShortfall?: number };

/**
 * An item's size as DynamoDB counts it, near enough: each attribute's name and
 * value (strings and numbers by their characters, maps and lists by their
 * members plus a few bytes each).
 */
export const itemBytes = (value: unknown): number => {
  if (typeof value === 'string') return Buffer.byteLength(value);
  if (typeof value === 'number') return Math.ceil(String(value).length / 2) + 1;
  if (typeof value === 'boolean' || value === null || value === undefined) return 1;
  if (value instanceof Set) return [...value].reduce((n: number, v) => n + itemBytes(v), 0);
  if (Array.isArray(value)) return 3 + value.reduce((n: number, v) => n + 1 + itemBytes(v), 0);
  if (typeof value === 'object') return 3 + Object.entries(value as Record<string, unknown>).reduce((n, [k, v]) => n + 1 + Buffer.byteLength(k) + itemBytes(v), 0);
  return 0;
};

const writeOps = new Set(['PutItem', 'UpdateItem', 'DeleteItem', 'TransactWriteItems', 'BatchWriteItem']);

export interface CapacityTotals {
  /** Units by function (or `bench` for calls outside any invocation), then by operation. */
  readonly byFunction: Map<string, Map<string, { calls: number; units: Units }>>;
  /** Committed writes per item `PK|SK`. */
  readonly itemWrites: Map<string, number>;
  /** Committed writes per item, split by function: `PK|SK` → function → count. */
  readonly itemWritesBy: Map<string, Map<string, number>>;
  /** Items written whole into a GSI partition: `GSI1:<GSI1PK>` → count. */
  readonly indexPartitionWrites: Map<string, number>;
  /**
   * Writes that did not commit, by function: a condition that failed (a single
   * write's, or an item's in a cancelled transaction), a transaction conflict,
   * and the items of cancelled transactions. AWS charges for them (see `failedWriteUnitsAws`);
   * DynamoDB Local reports no capacity for them.
   */
  readonly failures: Map<string, Failures>;
  /** Invocations by function: count, wall time, and SQS records handled (queue consumers). */
  readonly invocations: Map<string, { count: number; ms: number; records: number }>;
}

export interface Failures {
  conditional: number;
  conflicts: number;
  /** Single writes refused by their condition (PutItem, UpdateItem, DeleteItem). */
  singleWrites: number;
  /** Items in transactions that were cancelled (for whatever reason). */
  cancelledItems: number;
}

const fresh = (): CapacityTotals => ({
  byFunction: new Map(),
  itemWrites: new Map(),
  itemWritesBy: new Map(),
  indexPartitionWrites: new Map(),
  failures: new Map(),
  invocations: new Map(),
});

/**
 * What failed writes cost on AWS, estimated: a write refused by its condition
 * is charged as the write (1 WCU for an item under 1 KB), and a cancelled
 * transaction is charged for its items as a transaction would be (2 WCU each).
 * Upper-bound reading of the pricing page; DynamoDB Local says nothing.
 */
export const failedWriteUnitsAws = (f: Failures): number => f.singleWrites + 2 * f.cancelledItems;

/** Sums failures over functions. */
export const totalFailures = (m: Map<string, Failures>): Failures => {
  const sum: Failures = { conditional: 0, conflicts: 0, singleWrites: 0, cancelledItems: 0 };
  for (const f of m.values()) {
    sum.conditional += f.conditional;
    sum.conflicts += f.conflicts;
    sum.singleWrites += f.singleWrites;
    sum.cancelledItems += f.cancelledItems;
  }
  return sum;
};

let totals = fresh();
let seenHandlerCall = false;
const invocation = new AsyncLocalStorage<FunctionName>();

/**
 * The local runtime's `wrapInvoke`: runs the invocation under its function's
 * name, and counts it (wall time, and the SQS records of a queue consumer's batch).
 */
export const tagInvocation = async (fn: FunctionName, event: unknown, invoke: () => Promise<unknown>): Promise<unknown> => {
  const started = performance.now();
  const records = (event as { Records?: unknown[] } | undefined)?.Records;
  try {
    return await invocation.run(fn, invoke);
  } finally {
    const entry = totals.invocations.get(fn) ?? { count: 0, ms: 0, records: 0 };
    totals.invocations.set(fn, entry);
    entry.count++;
    entry.ms += performance.now() - started;
    entry.records += Array.isArray(records) ? records.length : 0;
  }
};

/** Starts a fresh count and returns it (read it after the pipeline drained). */
export const resetCapacity = (): CapacityTotals => {
  totals = fresh();
  return totals;
};

export const handlerCallsSeen = (): boolean => seenHandlerCall;

interface ConsumedCapacityLike {
  CapacityUnits?: number;
  Table?: { CapacityUnits?: number };
  GlobalSecondaryIndexes?: Record<string, { CapacityUnits?: number }>;
}

const addUnits = (into: Units, cc: ConsumedCapacityLike | undefined) => {
  if (!cc) return;
  into.total += cc.CapacityUnits ?? 0;
  into.table += cc.Table?.CapacityUnits ?? 0;
  for (const [name, idx] of Object.entries(cc.GlobalSecondaryIndexes ?? {})) into.indexes[name] = (into.indexes[name] ?? 0) + (idx.CapacityUnits ?? 0);
};

const bump = (map: Map<string, number>, key: string, by = 1) => map.set(key, (map.get(key) ?? 0) + by);

type Doc = Record<string, unknown>;

/** Keys written by a committed command, and whole items (whose GSI keys are known). */
const writesOf = (op: string, input: Doc, output: Doc): { keys: Doc[]; items: Doc[] } => {
  const keys: Doc[] = [];
  const items: Doc[] = [];
  if (op === 'PutItem') {
    keys.push(input.Item as Doc);
    items.push(input.Item as Doc);
  } else if (op === 'UpdateItem' || op === 'DeleteItem') {
    keys.push(input.Key as Doc);
  } else if (op === 'TransactWriteItems') {
    for (const t of (input.TransactItems ?? []) as Doc[]) {
      const put = t.Put as Doc | undefined;
      const update = t.Update as Doc | undefined;
      const del = t.Delete as Doc | undefined;
      if (put) {
        keys.push(put.Item as Doc);
        items.push(put.Item as Doc);
      }
      if (update) keys.push(update.Key as Doc);
      if (del) keys.push(del.Key as Doc);
    }
  } else if (op === 'BatchWriteItem') {
    const unprocessed = new Set(
      Object.values((output.UnprocessedItems ?? {}) as Record<string, Doc[]>)
        .flat()
        .map((r) => JSON.stringify(((r.PutRequest as Doc | undefined)?.Item ?? (r.DeleteRequest as Doc | undefined)?.Key) as Doc)),
    );
    for (const requests of Object.values((input.RequestItems ?? {}) as Record<string, Doc[]>)) {
      for (const r of requests) {
        const item = (r.PutRequest as Doc | undefined)?.Item as Doc | undefined;
        const key = (r.DeleteRequest as Doc | undefined)?.Key as Doc | undefined;
        if (unprocessed.has(JSON.stringify(item ?? key))) continue;
        if (item) {
          keys.push(item);
          items.push(item);
        } else if (key) keys.push(key);
      }
    }
  }
  return { keys, items };
};

const opOf = (commandName: unknown): string => String(commandName ?? 'unknown').replace(/Command$/, '');

/** Adds the counting middleware to `ddb`'s stack. Call once, after the runtime set the environment. */
export const install = async (): Promise<void> => {
  // Imported here, not at the top: the module builds its client (and Powertools its
  // tracer) at import, and must do so after the runtime set the process environment.
  const { ddb } = await import('../functions/adapters/dynamo.ts');
  ddb.middlewareStack.add(
    (next, context) => async (args) => {
      const input = args.input as Doc;
      input.ReturnConsumedCapacity = 'INDEXES';
      const op = opOf((context as { commandName?: unknown }).commandName);
      const fn = invocation.getStore() ?? 'bench';
      let output: Awaited<ReturnType<typeof next>>;
      try {
        output = await next(args);
      } catch (err) {
        countFailure(fn, op, input, err);
        throw err;
      }
      if (fn !== 'bench') seenHandlerCall = true;
      const out = output.output as Doc;
      const ops = totals.byFunction.get(fn) ?? new Map<string, { calls: number; units: Units }>();
      totals.byFunction.set(fn, ops);
      const entry = ops.get(op) ?? { calls: 0, units: { table: 0, indexes: {}, total: 0 } };
      ops.set(op, entry);
      entry.calls++;
      const consumed = out.ConsumedCapacity as ConsumedCapacityLike | ConsumedCapacityLike[] | undefined;
      for (const cc of Array.isArray(consumed) ? consumed : [consumed]) addUnits(entry.units, cc);
      if (op === 'TransactWriteItems') {
        // AWS charges each item 2 WCU per started KB: a Put's size is known from its item, an update's is taken as under 1 KB.
        const charged = ((input.TransactItems ?? []) as Doc[])
          .filter((t) => !t.ConditionCheck)
          .reduce((n, t) => n + 2 * (t.Put ? Math.max(1, Math.ceil(itemBytes((t.Put as Doc).Item as Doc) / 1024)) : 1), 0);
        const table = (Array.isArray(consumed) ? consumed : [consumed]).reduce((n, cc) => n + (cc?.Table?.CapacityUnits ?? 0), 0);
        entry.units.txShortfall = (entry.units.txShortfall ?? 0) + Math.max(0, charged - table);
      }
      if (writeOps.has(op)) {
        const { keys, items } = writesOf(op, input, out);
        for (const key of keys) {
          const id = `${String(key.PK)}|${String(key.SK)}`;
          bump(totals.itemWrites, id);
          const by = totals.itemWritesBy.get(id) ?? new Map<string, number>();
          totals.itemWritesBy.set(id, by);
          bump(by, fn);
        }
        for (const item of items) {
          for (const gsi of ['GSI1', 'GSI2', 'GSI3']) {
            const pk = item[`${gsi}PK`];
            if (typeof pk === 'string') bump(totals.indexPartitionWrites, `${gsi}:${pk}`);
          }
        }
      }
      return output;
    },
    // Outermost: sees the document (unmarshalled) input and output, and only what committed.
    { step: 'initialize', priority: 'high', name: 'benchConsumedCapacity' },
  );
};

const countFailure = (fn: string, op: string, input: Doc, err: unknown) => {
  if (!writeOps.has(op) || !(err instanceof Error)) return;
  const f = totals.failures.get(fn) ?? { conditional: 0, conflicts: 0, singleWrites: 0, cancelledItems: 0 };
  totals.failures.set(fn, f);
  if (err.name === 'ConditionalCheckFailedException') {
    f.conditional++;
    f.singleWrites++;
  } else if (err.name === 'TransactionConflictException') {
    f.conflicts++;
    f.singleWrites++;
  } else if (err.name === 'TransactionCanceledException') {
    const reasons = ((err as { CancellationReasons?: { Code?: string }[] }).CancellationReasons ?? []).map((r) => r.Code ?? 'None');
    f.conditional += reasons.filter((c) => c === 'ConditionalCheckFailed').length;
    f.conflicts += reasons.filter((c) => c === 'TransactionConflict').length;
    f.cancelledItems += ((input.TransactItems ?? []) as unknown[]).length;
  }
};

export const isWrite = (op: string): boolean => writeOps.has(op);

/**
 * A key with its ids masked, for reports: `CAMPAIGN#cp_…#GATE#7|GATE` →
 * `CAMPAIGN#<id>#GATE#<k> / GATE`. Ids are `<prefix>_` + 24 base32 characters.
 */
export const keyPattern = (key: string): string =>
  key
    .replace(/[a-z]+_[0-9a-z]{24}/g, '<id>')
    .replace(/#GATE#\d+/, '#GATE#<k>')
    .replace(/(WAIT#<id>#)\d+/, '$1<k>')
    .replace(/BUYER#[^|#]+/, 'BUYER#<buyer>')
    .replace('|', ' / ');
