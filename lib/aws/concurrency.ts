import type { IConstruct } from 'constructs';
import { z } from 'zod';
import type { FunctionName, FunctionSpec, QueueSpec } from '../topology.ts';

/**
 * CDK context keys that tune Lambda concurrency per deploy. JSON from the command line:
 * `cdk deploy -c 'c2m:reservedConcurrency={"preorders-api":100}'`.
 */
export const concurrencyContextKeys = {
  /**
   * Reserved concurrency per function, over the topology's figures: `{"<function>": n}`
   * sets it, `{"<function>": null}` removes it; `none` removes every reservation (an
   * account whose quota is under 1,000, or a third stage in one account).
   */
  reserved: 'c2m:reservedConcurrency',
  /** The account's Lambda concurrency quota in the deploy region, when it is not AWS's default. */
  accountLimit: 'c2m:accountConcurrency',
} as const;

/** Lambda's default concurrency quota per account and region. */
export const defaultAccountConcurrency = 1000;

/**
 * Lambda refuses a reservation that would leave less than this unreserved in the
 * account: every function without one runs in that pool.
 */
export const minimumUnreservedConcurrency = 100;

/** Lambda's bounds for an SQS event source's maximum concurrency. */
export const sqsMaxConcurrencyBounds = { min: 2, max: 1000 } as const;

const Reservations = z.union([z.literal('none'), z.record(z.string(), z.number().int().positive().nullable())]);

/** A context value, parsed; a JSON value passed with `-c` arrives as a string. */
const contextValue = (scope: IConstruct, key: string): unknown => {
  const value: unknown = scope.node.tryGetContext(key);
  if (typeof value !== 'string' || value === 'none') return value;
  try {
    return JSON.parse(value);
  } catch {
    throw new Error(`Context ${key} must be JSON or "none" (got ${value})`);
  }
};

/** The account's concurrency quota this deploy is sized for (context `c2m:accountConcurrency`). */
export const accountConcurrencyFromContext = (scope: IConstruct): number => {
  const raw = contextValue(scope, concurrencyContextKeys.accountLimit);
  if (raw === undefined || raw === null || raw === '') return defaultAccountConcurrency;
  const parsed = z.number().int().positive().safeParse(raw);
  if (!parsed.success) throw new Error(`Context ${concurrencyContextKeys.accountLimit} must be a positive integer (got ${JSON.stringify(raw)})`);
  return parsed.data;
};

/**
 * Each function's spec with the reserved concurrency this deploy gives it: the
 * topology's figure unless the context overrides it. Refuses a function name the
 * topology does not know, a total that would leave the account less than
 * `minimumUnreservedConcurrency` unreserved, and a queue consumer reserved below
 * its event source's maximum concurrency (the source would be throttled by Lambda
 * and spend receives, where the cap alone only lets messages wait).
 */
export const withReservedConcurrency = (
  scope: IConstruct,
  functions: readonly FunctionSpec[],
  queues: readonly QueueSpec[],
): FunctionSpec[] => {
  const raw = contextValue(scope, concurrencyContextKeys.reserved);
  let overrides: Readonly<Record<string, number | null>> = {};
  let none = false;
  if (raw !== undefined && raw !== null && raw !== '') {
    const parsed = Reservations.safeParse(raw);
    if (!parsed.success) {
      throw new Error(`Context ${concurrencyContextKeys.reserved} must be "none" or an object of function name to a positive integer or null`);
    }
    if (parsed.data === 'none') none = true;
    else overrides = parsed.data;
  }
  const known = new Set<string>(functions.map((f) => f.name));
  const unknown = Object.keys(overrides).filter((name) => !known.has(name));
  if (unknown.length > 0) throw new Error(`Context ${concurrencyContextKeys.reserved} names no function of the topology: ${unknown.join(', ')}`);

  const resolved = functions.map((spec): FunctionSpec => {
    const { reservedConcurrency: _topology, ...rest } = spec;
    const override = overrides[spec.name];
    const reserved = none ? undefined : override === null ? undefined : (override ?? spec.reservedConcurrency);
    return reserved === undefined ? rest : { ...rest, reservedConcurrency: reserved };
  });

  const limit = accountConcurrencyFromContext(scope);
  const total = resolved.reduce((sum, f) => sum + (f.reservedConcurrency ?? 0), 0);
  if (limit - total < minimumUnreservedConcurrency) {
    throw new Error(
      `Reserved concurrency totals ${total}, which leaves ${limit - total} of the account's ${limit} unreserved; Lambda keeps at least ` +
        `${minimumUnreservedConcurrency}. Lower it with -c ${concurrencyContextKeys.reserved}=… (or none), or give your quota with -c ${concurrencyContextKeys.accountLimit}=….`,
    );
  }
  const reservedOf = new Map<FunctionName, number | undefined>(resolved.map((f) => [f.name, f.reservedConcurrency]));
  for (const queue of queues) {
    const { min, max } = sqsMaxConcurrencyBounds;
    if (!Number.isInteger(queue.maxConcurrency) || queue.maxConcurrency < min || queue.maxConcurrency > max) {
      throw new Error(`queue ${queue.name}: maxConcurrency ${queue.maxConcurrency} is outside Lambda's ${min}..${max}`);
    }
    const reserved = reservedOf.get(queue.consumer);
    if (reserved !== undefined && reserved < queue.maxConcurrency) {
      throw new Error(`${queue.consumer} is reserved ${reserved}, under the ${queue.maxConcurrency} its queue ${queue.name} may invoke at once`);
    }
  }
  return resolved;
};
