import { z } from 'zod';
import { envNames, type QueueName } from '#topology';

/**
 * Configuration is read from the environment once, validated, and fails loudly
 * naming the missing variable. Each reader asks only for what its function was
 * given (see `access` in lib/topology.ts).
 */
const required = (name: string): string => {
  const value = process.env[name];
  const parsed = z.string().min(1).safeParse(value);
  if (!parsed.success) throw new Error(`Configuration: environment variable ${name} is required`);
  return parsed.data;
};

const memo = <T>(read: () => T): (() => T) => {
  let value: T | undefined;
  return () => (value ??= read());
};

export const tableName = memo(() => required(envNames.table));
export const busName = memo(() => required(envNames.bus));
export const queueUrl = (queue: QueueName): string => required(envNames.queueUrl(queue));
export const scheduling = memo(() => ({
  group: required(envNames.scheduleGroup),
  roleArn: required(envNames.schedulerRole),
  clockQueueArn: required(envNames.clockQueueArn),
}));

/** Either the secret itself (local runtime) or the ARN of the Secrets Manager secret (AWS). */
export const tokenSecretSource = memo((): { secret: string } | { arn: string } => {
  const secret = process.env[envNames.tokenSecret];
  if (secret) return { secret };
  return { arn: required(envNames.tokenSecretArn) };
});
