import type { QueueName } from './topology.ts';

/**
 * The names the functions read from the topology at run time, in a module of
 * their own: importing them from topology.ts bundled the whole topology (its
 * top-level tables, about 10 KB) into every function that reads a setting.
 * topology.ts re-exports them for the infrastructure.
 */

/** The `source` of every event c2m puts on its bus. */
export const eventSource = 'c2m';

/** Largest request body the API accepts; larger is 413 before any handler runs. */
export const maxBodyBytes = 64 * 1024;

/** Env var names a function gets for its access, shared by both builders. */
export const envNames = {
  table: 'TABLE_NAME',
  bus: 'EVENT_BUS_NAME',
  scheduleGroup: 'SCHEDULE_GROUP',
  schedulerRole: 'SCHEDULER_ROLE_ARN',
  clockQueueArn: 'CLOCK_QUEUE_ARN',
  trustedIssuers: 'TRUSTED_ISSUERS',
  oidcDiscoveryUrl: 'OIDC_DISCOVERY_URL',
  userPoolId: 'USER_POOL_ID',
  notificationTopic: 'NOTIFICATION_TOPIC_ARN',
  webhookSecretsKey: 'WEBHOOK_SECRETS_KEY',
  queueUrl: (q: QueueName) => `QUEUE_URL_${q.toUpperCase().replace(/-/g, '_')}`,
} as const;
