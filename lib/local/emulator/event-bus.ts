import { randomUUID } from 'node:crypto';
import { z } from 'zod';
import type { QueueName, RuleSpec } from '../../topology.ts';
import { AwsApiError, parseRequest } from './errors.ts';

export interface BusEvent {
  readonly id: string;
  readonly source: string;
  readonly detailType: string;
  readonly detail: unknown;
  readonly time: string;
}

type Matcher = (value: unknown) => boolean;

const isPlainObject = (v: unknown): v is Record<string, unknown> => typeof v === 'object' && v !== null && !Array.isArray(v);

/**
 * Compiles an EventBridge event pattern made of exact-match arrays, at any
 * depth (`{source: ['c2m'], detail: {status: ['CLOSED']}}`). A field matches
 * when its value, or any element of it if it is an array, equals one of the
 * listed values; a missing field never matches. Content filters (`prefix`,
 * `anything-but`, `numeric`, `exists`…) are refused when the rule is built, so
 * a pattern this matcher cannot honour fails the start instead of routing wrongly.
 */
export const compilePattern = (pattern: unknown, at = 'pattern'): Matcher => {
  if (!isPlainObject(pattern)) throw new Error(`${at} must be an object`);
  const fields = Object.entries(pattern).map(([key, expected]): [string, Matcher] => {
    const path = `${at}.${key}`;
    if (isPlainObject(expected)) {
      const nested = compilePattern(expected, path);
      return [key, (value) => isPlainObject(value) && nested(value)];
    }
    if (!Array.isArray(expected) || expected.length === 0) throw new Error(`${path} must be a non-empty array of values`);
    const allowed = new Set<unknown>();
    for (const v of expected) {
      if (v !== null && typeof v === 'object') {
        throw new Error(`${path}: content filter ${JSON.stringify(v)} is not supported by the local event bus; use exact values`);
      }
      allowed.add(v);
    }
    const matchOne = (v: unknown) => allowed.has(v);
    return [key, (value) => (Array.isArray(value) ? value.some(matchOne) : value !== undefined && matchOne(value))];
  });
  return (event) => isPlainObject(event) && fields.every(([key, match]) => match(event[key]));
};

export interface RuleBinding {
  readonly name: string;
  readonly pattern: unknown;
  readonly targetQueue: QueueName;
  readonly matches: Matcher;
}

const putEventsRequest = z.object({
  Entries: z
    .array(
      z.object({
        // The JSON protocols carry timestamps as epoch seconds.
        Time: z.union([z.number(), z.string()]).optional(),
        Source: z.string().optional(),
        Resources: z.array(z.string()).optional(),
        DetailType: z.string().optional(),
        Detail: z.string().optional(),
        EventBusName: z.string().optional(),
        TraceHeader: z.string().optional(),
      }),
    )
    .min(1)
    .max(10),
  EndpointId: z.string().optional(),
});

const maxEntryBytes = 256 * 1024;

const isoSeconds = (ms: number) => new Date(ms).toISOString().replace(/\.\d{3}Z$/, 'Z');

export interface EventBusOptions {
  readonly name: string;
  readonly region: string;
  readonly accountId: string;
  readonly rules: readonly RuleSpec[];
  /** Sends a rule's target message; throws if it cannot be stored. */
  readonly deliver: (queue: QueueName, body: string) => void;
}

type PutEventsResultEntry = { EventId: string } | { ErrorCode: string; ErrorMessage: string };

/**
 * The custom event bus: PutEvents in the AWS JSON 1.1 protocol, rules matched
 * in process, matching events sent to the rule's target queue as the
 * EventBridge envelope (what an SQS target receives on AWS).
 *
 * One deliberate difference: PutEvents naming a bus that does not exist fails
 * with ResourceNotFoundException. AWS accepts such events and drops them,
 * which hides a misconfigured EVENT_BUS_NAME; locally it should be loud.
 */
export class EventBus {
  readonly name: string;
  readonly events: BusEvent[] = [];
  readonly rules: readonly RuleBinding[];
  private readonly listeners = new Set<(e: BusEvent) => void>();

  constructor(private readonly opts: EventBusOptions) {
    this.name = opts.name;
    this.rules = opts.rules.map((r) => ({ name: r.name, pattern: r.pattern, targetQueue: r.targetQueue, matches: compilePattern(r.pattern) }));
  }

  onEvent(listener: (e: BusEvent) => void): () => void {
    this.listeners.add(listener);
    return () => this.listeners.delete(listener);
  }

  putEvents(input: unknown): { FailedEntryCount: number; Entries: PutEventsResultEntry[] } {
    const request = parseRequest(putEventsRequest, input, (message) => new AwsApiError('ValidationException', message));
    const { region, accountId } = this.opts;
    // Resolve every bus first so a bad name rejects the request before anything is delivered.
    const buses = request.Entries.map((e) => this.busOf(e.EventBusName));
    const results = request.Entries.map((entry, i): PutEventsResultEntry => {
      const invalid = (field: string) => ({
        ErrorCode: 'InvalidArgument',
        ErrorMessage: `Parameter ${field} is not valid. Reason: ${field} is a required argument.`,
      });
      if (!entry.Source) return invalid('Source');
      if (!entry.DetailType) return invalid('DetailType');
      if (entry.Detail === undefined) return invalid('Detail');
      let detail: unknown;
      try {
        detail = JSON.parse(entry.Detail);
      } catch {
        return { ErrorCode: 'MalformedDetail', ErrorMessage: 'Detail is malformed.' };
      }
      if (!isPlainObject(detail)) return { ErrorCode: 'MalformedDetail', ErrorMessage: 'Detail is malformed.' };
      const size = Buffer.byteLength(entry.Source + entry.DetailType + entry.Detail + (entry.Resources ?? []).join(''), 'utf8');
      if (size > maxEntryBytes) return { ErrorCode: 'InvalidArgument', ErrorMessage: 'Total size of the entries in the request is over the limit.' };

      const timeMs =
        entry.Time === undefined ? Date.now() : typeof entry.Time === 'number' ? Math.round(entry.Time * 1000) : Date.parse(entry.Time);
      const event: BusEvent = {
        id: randomUUID(),
        source: entry.Source,
        detailType: entry.DetailType,
        detail,
        time: isoSeconds(Number.isNaN(timeMs) ? Date.now() : timeMs),
      };
      const envelope = {
        version: '0',
        id: event.id,
        'detail-type': event.detailType,
        source: event.source,
        account: accountId,
        time: event.time,
        region,
        resources: entry.Resources ?? [],
        detail,
      };
      if (buses[i] === this.name) {
        for (const rule of this.rules) {
          if (rule.matches(envelope)) this.opts.deliver(rule.targetQueue, JSON.stringify(envelope));
        }
      }
      this.events.push(event);
      for (const listener of this.listeners) {
        try {
          listener(event);
        } catch {
          // A console listener that throws must not fail the publisher.
        }
      }
      return { EventId: event.id };
    });
    return { FailedEntryCount: results.filter((r) => 'ErrorCode' in r).length, Entries: results };
  }

  /** The bus an entry names (by name or ARN); the account's default bus always exists. */
  private busOf(nameOrArn: string | undefined): string {
    const name = !nameOrArn ? 'default' : nameOrArn.startsWith('arn:') ? (nameOrArn.split(':event-bus/')[1] ?? '') : nameOrArn;
    const arnOk = !nameOrArn?.startsWith('arn:') || nameOrArn.startsWith(`arn:aws:events:${this.opts.region}:${this.opts.accountId}:event-bus/`);
    if ((name !== this.name && name !== 'default') || !arnOk) {
      throw new AwsApiError('ResourceNotFoundException', `Event bus ${nameOrArn} does not exist.`);
    }
    return name;
  }
}
