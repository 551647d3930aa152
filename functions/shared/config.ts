import { AsyncLocalStorage } from 'node:async_hooks';
import * as z from 'zod';
import { envNames } from '#runtime-names';
import type { QueueName } from '#topology';

/**
 * Configuration is read from the environment once, validated, and fails loudly
 * naming the missing variable. Each reader asks only for what its function was
 * given (see `access` in lib/topology.ts).
 */
const scope = new AsyncLocalStorage<Readonly<Record<string, string | undefined>>>();

/**
 * Runs `fn` seeing `env` as its configuration. The local runtime hosts every
 * function in one process; this is how each still sees only the variables its
 * access gives it, as on Lambda, where the process environment is the function's.
 */
export const withEnvironment = <T>(env: Readonly<Record<string, string | undefined>>, fn: () => Promise<T>): Promise<T> =>
  scope.run(env, fn);

const required = (name: string): string => {
  const value = (scope.getStore() ?? process.env)[name];
  const parsed = z.string().min(1).safeParse(value);
  if (!parsed.success) throw new Error(`Configuration: environment variable ${name} is required`);
  return parsed.data;
};

export const tableName = (): string => required(envNames.table);
export const busName = (): string => required(envNames.bus);
export const queueUrl = (queue: QueueName): string => required(envNames.queueUrl(queue));
/** The campaigns' schedule group, as the stage names it (health probes it; scheduling puts schedules in it). */
export const scheduleGroupName = (): string => required(envNames.scheduleGroup);
export const scheduling = () => ({
  group: required(envNames.scheduleGroup),
  roleArn: required(envNames.schedulerRole),
  clockQueueArn: required(envNames.clockQueueArn),
});

/**
 * An OpenID Connect issuer the authorizer trusts. `names` says whom its tokens
 * may name: `c2m`, its own users (anchors, operators) and partner clients
 * (factories); `platform`, the live platform's buyers and live rooms, each
 * named by a claim.
 */
export const TrustedIssuer = z.object({
  issuer: z.url(),
  jwksUri: z.url(),
  /** Required `aud`; absent for Cognito, whose access tokens carry none (then `token_use` must be `access`). */
  audience: z.string().min(1).optional(),
  names: z.array(z.enum(['c2m', 'platform'])).min(1),
  /** Where a user token lists its groups (`cognito:groups` on Cognito). */
  groupsClaim: z.string().min(1).default('groups'),
  /** The claim that names a buyer in a platform token. */
  buyerClaim: z.string().min(1).default('buyer_id'),
  /** The claim that names a live room in a platform token. */
  roomClaim: z.string().min(1).default('room_id'),
  /**
   * When set, a user is an anchor only in this group. Cognito's access tokens tell
   * users from machine clients (sub = client_id); other IdPs' machine tokens may
   * not, so with your own IdP set this and nothing unmarked becomes an anchor.
   */
  anchorGroup: z.string().min(1).optional(),
  /** Longest lifetime (exp - iat) accepted from this issuer; c2m's own issue one hour. */
  maxTokenLifetimeSeconds: z.number().int().positive().max(24 * 3600).default(3600),
});
export type TrustedIssuer = z.infer<typeof TrustedIssuer>;

let trusted: { raw: string; parsed: TrustedIssuer[] } | undefined;

/** The issuers the authorizer trusts, parsed once per value (env `TRUSTED_ISSUERS`, JSON). */
export const trustedIssuers = (): TrustedIssuer[] => {
  const raw = required(envNames.trustedIssuers);
  if (trusted?.raw === raw) return trusted.parsed;
  let json: unknown;
  try {
    json = JSON.parse(raw);
  } catch {
    throw new Error(`Configuration: ${envNames.trustedIssuers} must be JSON`);
  }
  const parsed = z
    .array(TrustedIssuer)
    .min(1)
    // One entry per issuer: a second would never be consulted (tokens are matched by `iss`); say `names: ['c2m', 'platform']` instead.
    .refine((list) => new Set(list.map((i) => i.issuer)).size === list.length, 'each issuer appears once; list what it names in `names`')
    .safeParse(json);
  if (!parsed.success) throw new Error(`Configuration: ${envNames.trustedIssuers} is invalid: ${parsed.error.issues.map((i) => `${i.path.join('.')}: ${i.message}`).join('; ')}`);
  trusted = { raw, parsed: parsed.data };
  return parsed.data;
};

/** The c2m issuer's discovery document, for the OpenAPI security scheme. */
export const oidcDiscoveryUrl = (): string => required(envNames.oidcDiscoveryUrl);

/** The Cognito user pool holding factory clients, or undefined when the operator brings their own IdP. */
export const userPoolId = (): string | undefined => {
  const id = required(envNames.userPoolId);
  return id === 'none' ? undefined : id;
};

/** Hours a factory has to accept a released batch (operator setting). */
export const acceptWindowHours = (): number => {
  const parsed = z.coerce.number().positive().max(24 * 30).safeParse(required('BATCH_ACCEPT_WINDOW_HOURS'));
  if (!parsed.success) throw new Error('Configuration: BATCH_ACCEPT_WINDOW_HOURS must be a number of hours (0-720]');
  return parsed.data;
};

/** A numeric operator setting (see `settings` in lib/topology.ts), validated, failing loudly. */
export const numberSetting = (name: string, min: number, max: number): number => {
  const parsed = z.coerce.number().min(min).max(max).safeParse(required(name));
  if (!parsed.success) throw new Error(`Configuration: ${name} must be a number in [${min}, ${max}]`);
  return parsed.data;
};

/** A true/false operator setting. */
export const flagSetting = (name: string): boolean => {
  const value = required(name);
  if (value !== 'true' && value !== 'false') throw new Error(`Configuration: ${name} must be true or false`);
  return value === 'true';
};

/** Hours between batch.overdue and treating the batch as rejected (operator setting). */
export const overdueGraceHours = (): number => numberSetting('BATCH_OVERDUE_GRACE_HOURS', 0, 24 * 30);

/** Where buyer notifications go: an SNS topic ARN (AWS) or `local:console` (local runtime). */
export const notificationTopic = (): string => required(envNames.notificationTopic);
export const webhookSecretsKey = (): string => required(envNames.webhookSecretsKey);
