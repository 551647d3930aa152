import { z } from 'zod';
import { AwsApiError, parseRequest } from './errors.ts';
import { Journal } from './journal.ts';
import { MinHeap } from './structures.ts';

const validation = (message: string) => new AwsApiError('ValidationException', message, 400);
const notFound = (message: string) => new AwsApiError('ResourceNotFoundException', message, 404);

const targetSchema = z.looseObject({
  Arn: z.string().min(1).max(1600),
  RoleArn: z.string().min(1).max(1600),
  Input: z.string().min(1).optional(),
  RetryPolicy: z.object({ MaximumEventAgeInSeconds: z.int().optional(), MaximumRetryAttempts: z.int().optional() }).optional(),
  DeadLetterConfig: z.object({ Arn: z.string().optional() }).optional(),
  SqsParameters: z.object({ MessageGroupId: z.string().optional() }).optional(),
});

const scheduleRequest = z.object({
  ScheduleExpression: z.string().min(1).max(256),
  Target: targetSchema,
  FlexibleTimeWindow: z.object({ Mode: z.enum(['OFF', 'FLEXIBLE']), MaximumWindowInMinutes: z.int().min(1).max(1440).optional() }),
  GroupName: z.string().min(1).max(64).optional(),
  // REST-JSON carries timestamps as epoch seconds.
  StartDate: z.number().optional(),
  EndDate: z.number().optional(),
  Description: z.string().max(512).optional(),
  ScheduleExpressionTimezone: z.string().min(1).max(50).optional(),
  State: z.enum(['ENABLED', 'DISABLED']).optional(),
  KmsKeyArn: z.string().optional(),
  ClientToken: z.string().optional(),
  ActionAfterCompletion: z.enum(['NONE', 'DELETE']).optional(),
});

const storedSchedule = z.object({
  name: z.string(),
  group: z.string(),
  expression: z.string(),
  timezone: z.string().optional(),
  dueAt: z.number(),
  state: z.enum(['ENABLED', 'DISABLED']),
  target: targetSchema,
  flexibleTimeWindow: scheduleRequest.shape.FlexibleTimeWindow,
  actionAfterCompletion: z.enum(['NONE', 'DELETE']),
  description: z.string().optional(),
  startDate: z.number().optional(),
  endDate: z.number().optional(),
  kmsKeyArn: z.string().optional(),
  clientToken: z.string().optional(),
  createdAt: z.number(),
  modifiedAt: z.number(),
  /** A one-time schedule that has run and was kept (ActionAfterCompletion NONE). */
  fired: z.boolean(),
});
type StoredSchedule = z.infer<typeof storedSchedule>;

const journalRecord = z.discriminatedUnion('t', [
  z.object({ t: z.literal('put'), s: storedSchedule }),
  z.object({ t: z.literal('del'), g: z.string(), n: z.string() }),
  z.object({ t: z.literal('fired'), g: z.string(), n: z.string() }),
]);
type JournalRecord = z.infer<typeof journalRecord>;

const namePattern = /^[0-9a-zA-Z\-_.]{1,64}$/;
const atPattern = /^at\((\d{4})-(\d{2})-(\d{2})T(\d{2}):(\d{2}):(\d{2})\)$/;

/** Milliseconds a time zone is ahead of UTC at the instant `utcMs`. */
const zoneOffsetMs = (utcMs: number, timeZone: string): number => {
  const parts = new Intl.DateTimeFormat('en-US', {
    timeZone,
    hourCycle: 'h23',
    year: 'numeric',
    month: 'numeric',
    day: 'numeric',
    hour: 'numeric',
    minute: 'numeric',
    second: 'numeric',
  }).formatToParts(new Date(utcMs));
  const get = (type: Intl.DateTimeFormatPartTypes) => Number(parts.find((p) => p.type === type)?.value ?? 0);
  const wall = Date.UTC(get('year'), get('month') - 1, get('day'), get('hour'), get('minute'), get('second'));
  return wall - Math.floor(utcMs / 1000) * 1000;
};

/**
 * The instant an `at(yyyy-mm-ddThh:mm:ss)` expression names, read as wall-clock
 * time in `timeZone` (UTC when absent). Recurring expressions are refused: the
 * recurring schedules of c2m are the topology's, not created at run time.
 */
export const dueTimeOf = (expression: string, timeZone: string | undefined): number => {
  const m = atPattern.exec(expression);
  if (!m) {
    if (/^(rate|cron)\(/.test(expression)) {
      throw validation(`${expression}: the local scheduler runs one-time at() schedules only; recurring schedules are declared in lib/topology.ts`);
    }
    throw validation(`Invalid Schedule Expression ${expression}.`);
  }
  const [year, month, day, hour, minute, second] = m.slice(1).map(Number) as [number, number, number, number, number, number];
  const wall = Date.UTC(year, month - 1, day, hour, minute, second);
  const back = new Date(wall);
  if (back.getUTCMonth() !== month - 1 || back.getUTCDate() !== day || hour > 23 || minute > 59 || second > 59) {
    throw validation(`Invalid Schedule Expression ${expression}.`);
  }
  if (!timeZone || timeZone === 'UTC' || timeZone === 'Etc/UTC') return wall;
  try {
    // Two rounds settle the offset on either side of a daylight-saving change.
    const first = wall - zoneOffsetMs(wall, timeZone);
    return wall - zoneOffsetMs(first, timeZone);
  } catch {
    throw validation(`Invalid ScheduleExpressionTimezone ${timeZone}.`);
  }
};

const epochSeconds = (ms: number) => ms / 1000;

export interface SchedulerOptions {
  readonly region: string;
  readonly accountId: string;
  readonly groups: readonly string[];
  /** null keeps schedules in memory only. */
  readonly journalPath: string | null;
  /** True when `arn` is a queue this emulator serves. */
  readonly isTarget: (arn: string) => boolean;
  /** Sends a due schedule's input to its target; throws if it cannot. */
  readonly deliver: (targetArn: string, body: string) => void;
  readonly onError: (fields: Record<string, unknown>) => void;
}

export interface RestResponse {
  readonly status: number;
  readonly body: unknown;
}

interface DueEntry {
  readonly schedule: StoredSchedule;
  readonly at: number;
}

/**
 * EventBridge Scheduler for one-time schedules, in its REST-JSON protocol.
 * A due schedule sends its target Input to the target queue, then is deleted
 * (ActionAfterCompletion DELETE) or marked done. The send is journaled before
 * the completion, so a crash in between fires it again: at least once, as on AWS.
 * A schedule that fell due while the process was down fires right after start.
 */
export class Scheduler {
  private readonly schedules = new Map<string, StoredSchedule>();
  private readonly due = new MinHeap<DueEntry>((e) => e.at);
  private readonly journal: Journal<JournalRecord> | null;
  private readonly groups: ReadonlySet<string>;
  private timer: NodeJS.Timeout | undefined;
  private running = false;
  readonly createdAt = Date.now();

  constructor(private readonly opts: SchedulerOptions) {
    this.groups = new Set(opts.groups);
    if (opts.journalPath) {
      const { journal, records, skipped } = Journal.open(opts.journalPath, journalRecord);
      this.journal = journal;
      if (skipped > 0) opts.onError({ message: 'skipped unreadable schedule journal lines (a write torn by a crash)', lines: skipped });
      for (const r of records) {
        if (r.t === 'put') this.schedules.set(key(r.s.group, r.s.name), r.s);
        else if (r.t === 'del') this.schedules.delete(key(r.g, r.n));
        else {
          const s = this.schedules.get(key(r.g, r.n));
          if (s) this.schedules.set(key(r.g, r.n), { ...s, fired: true });
        }
      }
      journal.compact([...this.schedules.values()].map((s): JournalRecord => ({ t: 'put', s })));
    } else {
      this.journal = null;
    }
    for (const s of this.schedules.values()) this.index(s);
  }

  start(): void {
    this.running = true;
    this.arm();
  }

  stop(): void {
    this.running = false;
    clearTimeout(this.timer);
    this.journal?.close();
  }

  /** Routes one REST request; `null` when the path is not the Scheduler's. */
  handle(method: string, pathname: string, query: URLSearchParams, body: unknown): RestResponse | null {
    const parts = pathname.split('/').filter((p) => p !== '').map(decodeURIComponent);
    if (parts[0] === 'schedules' && parts.length === 2 && parts[1] !== undefined) {
      const name = parts[1];
      switch (method) {
        case 'POST':
          return this.create(name, body);
        case 'PUT':
          return this.update(name, body);
        case 'GET':
          return this.get(name, query.get('groupName') ?? undefined);
        case 'DELETE':
          return this.delete(name, query.get('groupName') ?? undefined);
      }
    }
    if (parts[0] === 'schedules' && parts.length === 1 && method === 'GET') return this.list(query);
    if (parts[0] === 'schedule-groups' && method === 'GET') {
      if (parts.length === 1) return { status: 200, body: { ScheduleGroups: [...this.groups].map((g) => this.groupView(g)) } };
      if (parts.length === 2 && parts[1] !== undefined) {
        if (!this.groups.has(parts[1])) throw notFound(`Schedule group ${parts[1]} does not exist.`);
        return { status: 200, body: this.groupView(parts[1]) };
      }
    }
    return null;
  }

  private create(name: string, body: unknown): RestResponse {
    const request = parseRequest(scheduleRequest, body, validation);
    const group = this.checkGroup(request.GroupName);
    const existing = this.schedules.get(key(group, name));
    if (existing) {
      // The SDK reuses its ClientToken when it retries, so a retried create is not a conflict.
      if (request.ClientToken && existing.clientToken === request.ClientToken) return { status: 200, body: { ScheduleArn: this.arnOf(existing) } };
      throw new AwsApiError('ConflictException', `Schedule ${name} already exists.`, 409);
    }
    const s = this.build(name, group, request, Date.now());
    this.put(s);
    return { status: 200, body: { ScheduleArn: this.arnOf(s) } };
  }

  private update(name: string, body: unknown): RestResponse {
    const request = parseRequest(scheduleRequest, body, validation);
    const group = this.checkGroup(request.GroupName);
    const existing = this.schedules.get(key(group, name));
    if (!existing) throw notFound(`Schedule ${name} does not exist.`);
    const s = { ...this.build(name, group, request, Date.now()), createdAt: existing.createdAt };
    this.put(s);
    return { status: 200, body: { ScheduleArn: this.arnOf(s) } };
  }

  private get(name: string, groupName: string | undefined): RestResponse {
    const group = this.checkGroup(groupName);
    const s = this.schedules.get(key(group, name));
    if (!s) throw notFound(`Schedule ${name} does not exist.`);
    return {
      status: 200,
      body: {
        Arn: this.arnOf(s),
        Name: s.name,
        GroupName: s.group,
        ScheduleExpression: s.expression,
        ...(s.timezone && { ScheduleExpressionTimezone: s.timezone }),
        State: s.state,
        CreationDate: epochSeconds(s.createdAt),
        LastModificationDate: epochSeconds(s.modifiedAt),
        Target: s.target,
        FlexibleTimeWindow: s.flexibleTimeWindow,
        ActionAfterCompletion: s.actionAfterCompletion,
        ...(s.description && { Description: s.description }),
        ...(s.startDate !== undefined && { StartDate: s.startDate }),
        ...(s.endDate !== undefined && { EndDate: s.endDate }),
        ...(s.kmsKeyArn && { KmsKeyArn: s.kmsKeyArn }),
      },
    };
  }

  private delete(name: string, groupName: string | undefined): RestResponse {
    const group = this.checkGroup(groupName);
    if (!this.schedules.has(key(group, name))) throw notFound(`Schedule ${name} does not exist.`);
    this.journal?.append([{ t: 'del', g: group, n: name }]);
    this.schedules.delete(key(group, name));
    return { status: 200, body: {} };
  }

  private list(query: URLSearchParams): RestResponse {
    const group = query.get('ScheduleGroup');
    const prefix = query.get('NamePrefix') ?? '';
    const state = query.get('State');
    const offset = Number(query.get('NextToken') ?? 0) || 0;
    const max = Math.min(Number(query.get('MaxResults') ?? 100) || 100, 100);
    const matching = [...this.schedules.values()]
      .filter((s) => (!group || s.group === group) && s.name.startsWith(prefix) && (!state || s.state === state))
      .sort((a, b) => a.group.localeCompare(b.group) || a.name.localeCompare(b.name));
    const page = matching.slice(offset, offset + max);
    return {
      status: 200,
      body: {
        Schedules: page.map((s) => ({
          Arn: this.arnOf(s),
          Name: s.name,
          GroupName: s.group,
          State: s.state,
          CreationDate: epochSeconds(s.createdAt),
          LastModificationDate: epochSeconds(s.modifiedAt),
          Target: { Arn: s.target.Arn },
        })),
        ...(offset + max < matching.length && { NextToken: String(offset + max) }),
      },
    };
  }

  private build(name: string, group: string, r: z.infer<typeof scheduleRequest>, now: number): StoredSchedule {
    if (!namePattern.test(name)) throw validation(`Schedule name ${name} must be 1-64 of [0-9a-zA-Z-_.].`);
    const dueAt = dueTimeOf(r.ScheduleExpression, r.ScheduleExpressionTimezone);
    if (!this.opts.isTarget(r.Target.Arn)) {
      throw validation(`Target ${r.Target.Arn} is not a queue of the local emulator; only its SQS queues can be targets.`);
    }
    return {
      name,
      group,
      expression: r.ScheduleExpression,
      ...(r.ScheduleExpressionTimezone && { timezone: r.ScheduleExpressionTimezone }),
      dueAt,
      state: r.State ?? 'ENABLED',
      target: r.Target,
      flexibleTimeWindow: r.FlexibleTimeWindow,
      actionAfterCompletion: r.ActionAfterCompletion ?? 'NONE',
      ...(r.Description && { description: r.Description }),
      ...(r.StartDate !== undefined && { startDate: r.StartDate }),
      ...(r.EndDate !== undefined && { endDate: r.EndDate }),
      ...(r.KmsKeyArn && { kmsKeyArn: r.KmsKeyArn }),
      ...(r.ClientToken && { clientToken: r.ClientToken }),
      createdAt: now,
      modifiedAt: now,
      fired: false,
    };
  }

  private put(s: StoredSchedule): void {
    this.journal?.append([{ t: 'put', s }]);
    this.schedules.set(key(s.group, s.name), s);
    this.index(s);
  }

  private index(s: StoredSchedule): void {
    if (s.fired || s.state !== 'ENABLED') return;
    const head = this.due.peek();
    this.due.push({ schedule: s, at: s.dueAt });
    if (!head || s.dueAt < head.at) this.arm();
  }

  private isLive(e: DueEntry): boolean {
    const s = e.schedule;
    return this.schedules.get(key(s.group, s.name)) === s && !s.fired && s.state === 'ENABLED';
  }

  private arm(): void {
    if (!this.running) return;
    clearTimeout(this.timer);
    let head = this.due.peek();
    while (head && !this.isLive(head)) {
      this.due.pop();
      head = this.due.peek();
    }
    if (!head) return;
    // setTimeout overflows past ~24.8 days; wake hourly and look again.
    const delay = Math.min(Math.max(0, head.at - Date.now()), 3_600_000);
    this.timer = setTimeout(() => this.fireDue(), delay);
  }

  private fireDue(): void {
    const now = Date.now();
    for (let head = this.due.peek(); head && head.at <= now; head = this.due.peek()) {
      this.due.pop();
      if (!this.isLive(head)) continue;
      const s = head.schedule;
      try {
        this.opts.deliver(s.target.Arn, s.target.Input ?? '{}');
        if (s.actionAfterCompletion === 'DELETE') {
          this.journal?.append([{ t: 'del', g: s.group, n: s.name }]);
          this.schedules.delete(key(s.group, s.name));
        } else {
          this.journal?.append([{ t: 'fired', g: s.group, n: s.name }]);
          this.schedules.set(key(s.group, s.name), { ...s, fired: true });
        }
      } catch (err) {
        this.opts.onError({ message: 'one-time schedule could not run; retrying in 1 s', schedule: s.name, group: s.group, error: String(err) });
        this.due.push({ schedule: s, at: now + 1000 });
      }
    }
    this.arm();
  }

  private checkGroup(groupName: string | undefined): string {
    const group = groupName ?? 'default';
    if (!this.groups.has(group)) throw notFound(`Schedule group ${group} does not exist.`);
    return group;
  }

  private groupView(name: string) {
    return {
      Arn: `arn:aws:scheduler:${this.opts.region}:${this.opts.accountId}:schedule-group/${name}`,
      Name: name,
      State: 'ACTIVE',
      CreationDate: epochSeconds(this.createdAt),
      LastModificationDate: epochSeconds(this.createdAt),
    };
  }

  private arnOf(s: StoredSchedule): string {
    return `arn:aws:scheduler:${this.opts.region}:${this.opts.accountId}:schedule/${s.group}/${s.name}`;
  }
}

const key = (group: string, name: string) => `${group}/${name}`;
