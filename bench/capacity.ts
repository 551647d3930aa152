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

type Units = { table: number; indexes: Record<string, number>; total: number };

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
}

const fresh = (): CapacityTotals => ({ byFunction: new Map(), itemWrites: new Map(), itemWritesBy: new Map(), indexPartitionWrites: new Map() });

let totals = fresh();
let seenHandlerCall = false;
const invocation = new AsyncLocalStorage<FunctionName>();

/** The local runtime's `wrapInvoke`: runs the invocation under its function's name. */
export const tagInvocation = (fn: FunctionName, _event: unknown, invoke: () => Promise<unknown>): Promise<unknown> =>
  invocation.run(fn, invoke);

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
      const output = await next(args);
      const op = opOf((context as { commandName?: unknown }).commandName);
      const fn = invocation.getStore() ?? 'bench';
      if (fn !== 'bench') seenHandlerCall = true;
      const out = output.output as Doc;
      const ops = totals.byFunction.get(fn) ?? new Map<string, { calls: number; units: Units }>();
      totals.byFunction.set(fn, ops);
      const entry = ops.get(op) ?? { calls: 0, units: { table: 0, indexes: {}, total: 0 } };
      ops.set(op, entry);
      entry.calls++;
      const consumed = out.ConsumedCapacity as ConsumedCapacityLike | ConsumedCapacityLike[] | undefined;
      for (const cc of Array.isArray(consumed) ? consumed : [consumed]) addUnits(entry.units, cc);
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
