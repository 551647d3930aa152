/**
 * The one description of c2m's runtime shape: functions, HTTP routes, queues,
 * event rules, schedules and the table. `lib/aws/` builds CDK constructs from it
 * (`cdk deploy`); `lib/local/` builds the local runtime from it (`npm start`).
 * Neither builder may invent a resource that is not described here; the drift
 * test (tests/infra/drift.test.ts) holds them to that.
 */

import { busFactoryEventTypes, type EventType } from '../functions/contracts/event-types.ts';

export type FunctionName =
  | 'authorizer'
  | 'service-api'
  | 'campaigns-api'
  | 'preorders-api'
  | 'campaign-clock'
  | 'preorder-intake'
  | 'batch-cutter'
  | 'signals-api'
  | 'signal-aggregator'
  | 'factory-api'
  | 'operator-api'
  | 'webhook-dispatcher'
  | 'webhook-deliverer'
  | 'fulfillment'
  | 'notifier';

export type QueueName =
  | 'preorder-intake'
  | 'campaign-clock'
  | 'batch-cuts'
  | 'demand-signals'
  | 'webhook-events'
  | 'webhook-deliveries'
  | 'fulfillment'
  | 'notifications';

/**
 * A DynamoDB item action, named as its IAM action without `dynamodb:`. A
 * TransactWriteItems call is authorised per item it carries (Put → PutItem,
 * Update → UpdateItem, Delete → DeleteItem, ConditionCheck → ConditionCheckItem),
 * TransactGetItems per Get → GetItem; the transaction itself needs no action.
 */
export type TableAction = 'GetItem' | 'BatchGetItem' | 'Query' | 'PutItem' | 'UpdateItem' | 'DeleteItem' | 'ConditionCheckItem' | 'BatchWriteItem';

export type IndexName = (typeof table)['indexes'][number]['name'];

/**
 * What a function does with the table: the item actions its code can send, and
 * the indexes it queries. Derived from the adapter calls reachable from the
 * function's entry; tests/infra/stacks.test.ts checks it against each bundle.
 */
export interface TableAccess {
  /** Item actions on the table itself (`Query` here is a Query of the table, not of an index). */
  readonly actions: readonly TableAction[];
  /** Indexes the function queries; Query is the only action on them. @default none */
  readonly queryIndexes?: readonly IndexName[];
}

/** What `GET /v1/health` reads to tell that queues and schedules are up; read-only calls. */
export interface HealthAccess {
  /** Queues whose attributes it reads (GetQueueAttributes; env `QUEUE_URL_<NAME>`). */
  readonly queues: readonly QueueName[];
  /** Reads the campaign schedule group (GetScheduleGroup on that group only). */
  readonly scheduleGroup: boolean;
}

/** What a function may touch. Builders turn this into IAM grants and environment. */
export interface FunctionAccess {
  /** Table access: exactly the item actions and index queries the function's code makes. */
  readonly table?: TableAccess;
  /** Read-only probes of queues and the schedule group, for health. */
  readonly health?: HealthAccess;
  /** Queues this function sends to (env `QUEUE_URL_<NAME>`). */
  readonly sendTo?: readonly QueueName[];
  /** Publishes to the event bus (env `EVENT_BUS_NAME`). */
  readonly publish?: boolean;
  /**
   * Creates and deletes one-time schedules in the campaign schedule group that
   * target the campaign-clock queue (env `SCHEDULE_GROUP`, `SCHEDULER_ROLE_ARN`,
   * `CLOCK_QUEUE_ARN`).
   */
  readonly schedules?: boolean;
  /** What the function does with identity (see `IdentityAccess`). */
  readonly identity?: IdentityAccess;
  /**
   * Sends buyer notifications to the channel the live platform subscribes to
   * (env `NOTIFICATION_TOPIC_ARN`: an SNS topic on AWS; `local:console` locally,
   * where the runtime prints them).
   */
  readonly notify?: boolean;
  /**
   * Webhook signing secrets, encrypted at rest under one key (a KMS key on AWS,
   * the local emulator's key locally; env `WEBHOOK_SECRETS_KEY`). `seal` may
   * encrypt; `open` names the encryption-context uses the function may decrypt:
   * `sign` only the deliverer, `reveal` (the copy kept to answer a create's
   * idempotent replay) only the factory API.
   */
  readonly webhookSecrets?: { readonly seal?: boolean; readonly open?: readonly WebhookSecretUse[] };
}

/** What a sealed webhook secret is for: its KMS encryption context says so, and IAM decides who may open it. */
export type WebhookSecretUse = 'sign' | 'reveal';

/**
 * Identity: tokens come from OpenID Connect issuers (Cognito or the operator's own
 * IdP on AWS, the local issuer in `npm start`); no function holds a signing key.
 */
export interface IdentityAccess {
  /** Verifies access tokens against the trusted issuers' JWKS (env `TRUSTED_ISSUERS`, JSON). */
  readonly verifyTokens?: boolean;
  /** Names the issuer's discovery document in the OpenAPI security scheme (env `OIDC_DISCOVERY_URL`). */
  readonly discovery?: boolean;
  /**
   * Creates and deletes the factories' OAuth2 clients in the user pool
   * (CreateUserPoolClient, DeleteUserPoolClient on that pool only; env `USER_POOL_ID`,
   * `none` when the operator brings their own IdP).
   */
  readonly manageClients?: boolean;
}

export interface FunctionSpec {
  readonly name: FunctionName;
  /** Operator settings, passed as environment variables on both targets. */
  readonly settings?: Readonly<Record<string, string>>;
  /**
   * Values some settings take in the local runtime instead (same names: the drift
   * test compares names). Only where the local target differs by nature, such as
   * webhook receivers on localhost.
   */
  readonly localSettings?: Readonly<Record<string, string>>;
  /** Module path from the project root; it exports `handler`. */
  readonly entry: string;
  readonly description: string;
  readonly memoryMb: number;
  readonly timeoutSeconds: number;
  readonly access: FunctionAccess;
  /**
   * Lambda concurrency set aside for this function alone, on AWS: the account's
   * other functions can never take it, and the function can never run more at
   * once. For the request path a live sale cannot do without, so that a webhook
   * storm, a batch cut or another stage cannot starve it. Overridable per deploy
   * (lib/aws/concurrency.ts). The local runtime has no concurrency limit.
   * @default - none: the function shares the account's unreserved pool
   */
  readonly reservedConcurrency?: number;
}

export interface RouteSpec {
  readonly method: 'GET' | 'POST' | 'PUT' | 'PATCH' | 'DELETE';
  /** API Gateway path syntax: `/v1/campaigns/{campaignId}`. */
  readonly path: string;
  readonly fn: FunctionName;
  /** false only for health and the OpenAPI document. */
  readonly auth: boolean;
}

export interface QueueSpec {
  readonly name: QueueName;
  readonly consumer: FunctionName;
  readonly batchSize: number;
  readonly maxBatchingWindowSeconds: number;
  readonly visibilityTimeoutSeconds: number;
  /** Receives before a message moves to the queue's dead-letter queue. */
  readonly maxReceiveCount: number;
  /**
   * Most concurrent invocations of the consumer this queue's event source makes
   * (AWS: 2 to 1000). Past it, messages wait in the queue: unlike reserved
   * concurrency, the cap throttles nothing, so no receive is spent and nothing is
   * dead-lettered for it, and it takes nothing from the account's pool. It is what
   * keeps a backlog (a burst of notices, a slow factory's webhooks) from taking
   * the concurrency the API needs.
   */
  readonly maxConcurrency: number;
}

/**
 * A consumer of the table's change stream (DynamoDB Streams, `table.stream`):
 * Lambda's DynamoDB event source on AWS, the local runtime's stream poller in
 * `npm start`. Records are read in order per shard, filtered before any
 * invocation, and retried until the consumer takes them (it must be idempotent:
 * a batch is delivered at least once). Nothing a stream consumer follows can be
 * lost between a commit and a send, because the commit is the send.
 */
export interface StreamConsumerSpec {
  readonly name: string;
  readonly consumer: FunctionName;
  readonly description: string;
  /** The records the consumer is invoked with: these change kinds of items of these `type`s; the rest are skipped unseen. */
  readonly filter: { readonly eventNames: readonly ('INSERT' | 'MODIFY' | 'REMOVE')[]; readonly itemTypes: readonly string[] };
  readonly batchSize: number;
  readonly maxBatchingWindowSeconds: number;
}

export interface RuleSpec {
  readonly name: string;
  readonly description: string;
  /** EventBridge event pattern (only exact-match arrays are used); each type one with a schema in contracts/messages.ts. */
  readonly pattern: { readonly source: readonly string[]; readonly 'detail-type': readonly EventType[] };
  readonly targetQueue: QueueName;
}

export interface ScheduleSpec {
  readonly name: string;
  readonly description: string;
  readonly rateMinutes: number;
  readonly targetQueue: QueueName;
  /** JSON message body sent to the queue at every tick. */
  readonly message: Record<string, unknown>;
}

export const table = {
  partitionKey: 'PK',
  sortKey: 'SK',
  ttlAttribute: 'expiresAt',
  /** The change stream's view: each record carries the item as written (decision 28). */
  stream: 'NEW_IMAGE',
  indexes: [
    /** Owner lists: an anchor's campaigns, a buyer's pre-orders, newest first. */
    { name: 'GSI1', partitionKey: 'GSI1PK', sortKey: 'GSI1SK' },
    /** The campaign clock: campaigns with a transition due, by due time (sparse). */
    { name: 'GSI2', partitionKey: 'GSI2PK', sortKey: 'GSI2SK' },
    /**
     * Overloaded: waiting pre-orders per campaign gate shard, oldest first (sparse,
     * only while ACCEPTED), and a factory's campaigns.
     */
    { name: 'GSI3', partitionKey: 'GSI3PK', sortKey: 'GSI3SK' },
  ],
} as const;

/**
 * What most writers' code sends: reads (GetItem, BatchGetItem, a Query of the
 * table), transactions of Puts and Updates, plain updates, and the outbox's
 * deletes after publishing (then, for each refund among the events, an
 * UpdateItem ADD to the trust tallies' refund latency). Only preorders-api and
 * campaigns-api send a ConditionCheck (see there); only preorder-intake sends
 * BatchWriteItem; none sends TransactGetItems or Scan.
 */
const readWrite: readonly TableAction[] = ['GetItem', 'BatchGetItem', 'Query', 'PutItem', 'UpdateItem', 'DeleteItem'];

export const functions: readonly FunctionSpec[] = [
  {
    name: 'authorizer',
    entry: 'functions/handlers/auth/authorizer.ts',
    description: "Verifies OIDC access tokens (JWKS, issuer, audience, expiry) and names the principal; a factory's client must be registered and not revoked",
    memoryMb: 256,
    timeoutSeconds: 5,
    // GetItem: the factory client record (registered, not revoked), cached for identity.clientRecordCacheSeconds.
    access: { identity: { verifyTokens: true }, table: { actions: ['GetItem'] } },
    // Every authenticated route waits on it, and during a buy burst most buyers are new to API Gateway's
    // 20 s decision cache, so it runs about once per pre-order. Warm it takes ~20 ms (JWKS cached): 100 at
    // once serve ~5,000 decisions a second, above the stage's 3,000 requests a second (`throttling`).
    reservedConcurrency: 100,
  },
  {
    name: 'service-api',
    entry: 'functions/handlers/service/api.ts',
    description: 'Health and the OpenAPI document',
    memoryMb: 256,
    timeoutSeconds: 10,
    // Health reads one key that never exists, the notifications queue's attributes and the schedule group.
    // The OpenAPI document names the issuer's discovery URL as its security scheme.
    access: {
      identity: { discovery: true },
      table: { actions: ['GetItem'] },
      health: { queues: ['notifications'], scheduleGroup: true },
    },
  },
  {
    name: 'campaigns-api',
    entry: 'functions/handlers/campaigns/api.ts',
    description: "Anchor API: create, change, read, list and close campaigns; demand and its history; the campaign's batches and pre-orders",
    memoryMb: 512,
    timeoutSeconds: 15,
    // ConditionCheckItem: a new or changed campaign holds on its factories being registered and active (one transaction).
    // GSI1: a buyer's pre-orders (the anchor looking up one fan's); GSI3: its batches. Its pre-orders' refs are a Query of the table.
    access: { table: { actions: [...readWrite, 'ConditionCheckItem'], queryIndexes: ['GSI1', 'GSI3'] }, publish: true, schedules: true },
  },
  {
    name: 'preorders-api',
    entry: 'functions/handlers/preorders/api.ts',
    description:
      "Buyer API: place, read, list and cancel pre-orders; change their shipping address; switch a variant that missed its minimum. The platform's confirmations of refunds and balances paid, and its list of balances due",
    memoryMb: 512,
    timeoutSeconds: 10,
    // With ConditionCheckItem, for an address change that holds only while the pre-order's batch has counted no lot since it was read.
    // notify: a buyer's own changes (a switch of variant, a new address) are told at once, not at the next event.
    // GSI3: the platform's list of balances due reads a deposit campaign's owing partitions.
    access: { table: { actions: [...readWrite, 'ConditionCheckItem'], queryIndexes: ['GSI1', 'GSI3'] }, publish: true, notify: true },
    // The intake of a live sale. Budgeting 80 ms an invocation (one transaction; ~13 ms locally at p50,
    // bench/results.md), 250 at once serve ~3,100 pre-orders a second, the stage's rate (`throttling`);
    // past that clients get 429 with Retry-After either way. 250 + the authorizer's 100 leave 650 of a
    // default 1,000-account unreserved, and two stages in one account still leave 300 (AWS keeps 100).
    reservedConcurrency: 250,
  },
  {
    name: 'campaign-clock',
    entry: 'functions/handlers/campaigns/clock.ts',
    description:
      'Opens and closes campaigns when their time comes; clears schedules of closed campaigns; records demand history; escalates batches not accepted in time',
    memoryMb: 512,
    timeoutSeconds: 60,
    // sendTo its own queue: the minute sweep fans out one message per campaign and per due batch (SendMessageBatch).
    // Those messages send nothing back to this queue, so the loop is one step deep.
    access: { table: { actions: readWrite, queryIndexes: ['GSI2'] }, publish: true, schedules: true, sendTo: ['batch-cuts', 'campaign-clock'], notify: true },
    // After batch.overdue, how long a factory still has before the batch goes the way of a rejection.
    settings: { BATCH_OVERDUE_GRACE_HOURS: '12' },
  },
  {
    name: 'preorder-intake',
    entry: 'functions/handlers/preorders/intake.ts',
    description:
      "Follows accepted pre-orders from the table's stream: tells each buyer theirs was accepted, lists them for their buyer and campaign, publishes preorder.accepted, asks for a cut when a lot is waiting",
    memoryMb: 512,
    timeoutSeconds: 30,
    // BatchWriteItem: the order refs of a stream batch, 25 a request (a ref is the same item whenever it is written, but for when
    // its "accepted" was told). Query and UpdateItem: the flush after them (a pre-order with its notices item; claim and record).
    access: { table: { actions: ['GetItem', 'Query', 'UpdateItem', 'BatchGetItem', 'BatchWriteItem'] }, publish: true, notify: true, sendTo: ['batch-cuts'] },
  },
  {
    name: 'batch-cutter',
    entry: 'functions/handlers/batches/cutter.ts',
    description: 'Cuts waiting pre-orders into production batches; refunds failed campaigns',
    memoryMb: 1024,
    timeoutSeconds: 900,
    // ConditionCheckItem: a deposit forfeited at its deadline only while the campaign has not failed (preorder-store cancelPreorder).
    access: { table: { actions: [...readWrite, 'ConditionCheckItem'], queryIndexes: ['GSI3'] }, publish: true, notify: true },
    // How long a factory has to accept a released batch.
    settings: { BATCH_ACCEPT_WINDOW_HOURS: '24' },
  },
  {
    name: 'signals-api',
    entry: 'functions/handlers/signals/api.ts',
    description: 'Live room API: takes demand signals in bulk',
    memoryMb: 512,
    timeoutSeconds: 10,
    // Claims the request's idempotency key (Put), reads it back, releases it when the queue refuses (Delete).
    access: { table: { actions: ['GetItem', 'PutItem', 'DeleteItem'] }, sendTo: ['demand-signals'] },
  },
  {
    name: 'signal-aggregator',
    entry: 'functions/handlers/signals/aggregator.ts',
    description: 'Folds demand signals into per-minute counts, a handful of writes per batch',
    memoryMb: 512,
    timeoutSeconds: 60,
    // Reads the campaign; folds a batch into marker puts and counter updates inside transactions.
    access: { table: { actions: ['GetItem', 'PutItem', 'UpdateItem'] } },
  },
  {
    name: 'factory-api',
    entry: 'functions/handlers/factory/api.ts',
    description: 'Factory API: batches, manifests, acceptance, progress, shipments, webhooks and forecasts',
    memoryMb: 512,
    timeoutSeconds: 15,
    access: {
      table: { actions: readWrite, queryIndexes: ['GSI1', 'GSI3'] },
      publish: true,
      sendTo: ['batch-cuts', 'webhook-deliveries'],
      // Seals new and rotated secrets; opens only the copy that answers a create's idempotent replay.
      webhookSecrets: { seal: true, open: ['reveal'] },
    },
    // Webhook URLs must be https to a public host; locally, receivers on this machine are allowed too.
    settings: { WEBHOOK_ALLOW_LOOPBACK: 'false' },
    localSettings: { WEBHOOK_ALLOW_LOOPBACK: 'true' },
  },
  {
    name: 'operator-api',
    entry: 'functions/handlers/operator/api.ts',
    description: "Operator API: registers factories (an OAuth2 client each), lists them, revokes their access",
    memoryMb: 256,
    timeoutSeconds: 15,
    // The factory and its client record are written in one transaction; the list is a Query of GSI1 (newest first).
    access: { table: { actions: ['GetItem', 'PutItem', 'UpdateItem'], queryIndexes: ['GSI1'] }, identity: { manageClients: true } },
  },
  {
    name: 'fulfillment',
    entry: 'functions/handlers/fulfillment/consumer.ts',
    description:
      'Carries production back to buyers: in production, shipped units allocated oldest first, deliveries, short-batch refunds, delay notices',
    memoryMb: 1024,
    timeoutSeconds: 300,
    access: { table: { actions: readWrite }, publish: true, notify: true },
  },
  {
    name: 'notifier',
    entry: 'functions/handlers/notifications/notifier.ts',
    description: 'Sends each buyer one message per step of their pre-order, through the notification channel',
    memoryMb: 512,
    timeoutSeconds: 120,
    // Reads the pre-order with its notices item and the batch (a Query of each one's items), and for a pre-order whose
    // "accepted" intake tells, its order ref (GetItem: told yet?); records what was sent on the notices item; reads,
    // claims and writes a released batch's pages of "batched" notices (BatchGetItem, UpdateItem: decision 34).
    access: { table: { actions: ['BatchGetItem', 'GetItem', 'Query', 'UpdateItem'] }, notify: true },
  },
  {
    name: 'webhook-dispatcher',
    entry: 'functions/handlers/webhooks/dispatcher.ts',
    description: 'Turns factory events into one signed delivery per subscribed webhook, numbered per factory',
    memoryMb: 512,
    timeoutSeconds: 30,
    // Finds subscribed webhooks on GSI1 only; numbers the event in the factory's feed (one transaction), then puts one delivery per webhook.
    access: { table: { actions: ['GetItem', 'PutItem', 'UpdateItem'], queryIndexes: ['GSI1'] }, sendTo: ['webhook-deliveries'] },
  },
  {
    name: 'webhook-deliverer',
    entry: 'functions/handlers/webhooks/deliverer.ts',
    description: 'POSTs webhook deliveries signed with the webhook secret, retrying with exponential backoff, at most a few at a time per webhook',
    memoryMb: 512,
    timeoutSeconds: 60,
    access: {
      // Reads deliveries and webhooks, records tries and slots; a webhook disabled for failing is told to the
      // factory through its feed (one transaction) and its other webhooks (GSI1, one Put each).
      table: { actions: ['GetItem', 'PutItem', 'UpdateItem'], queryIndexes: ['GSI1'] },
      // Its own queue: ChangeMessageVisibility (backoff), a delivery put back to wait for a slot, replays.
      sendTo: ['webhook-deliveries'],
      webhookSecrets: { open: ['sign'] },
    },
    // Retry n waits min(max, base × 2^(n-1)) seconds, for WEBHOOK_MAX_TRIES tries (fewer than the queue's receives).
    // At most WEBHOOK_MAX_IN_FLIGHT POSTs to one webhook at once; a delivery finding none free waits about
    // WEBHOOK_SLOT_WAIT_SECONDS in the queue.
    settings: {
      WEBHOOK_RETRY_BASE_SECONDS: '30',
      WEBHOOK_RETRY_MAX_SECONDS: '3600',
      WEBHOOK_MAX_TRIES: '8',
      WEBHOOK_TIMEOUT_SECONDS: '10',
      WEBHOOK_MAX_IN_FLIGHT: '2',
      WEBHOOK_SLOT_WAIT_SECONDS: '5',
      WEBHOOK_ALLOW_LOOPBACK: 'false',
    },
    localSettings: { WEBHOOK_ALLOW_LOOPBACK: 'true' },
  },
];

const anchor = (method: RouteSpec['method'], path: string): RouteSpec => ({ method, path, fn: 'campaigns-api', auth: true });
const buyer = (method: RouteSpec['method'], path: string): RouteSpec => ({ method, path, fn: 'preorders-api', auth: true });
const factory = (method: RouteSpec['method'], path: string): RouteSpec => ({ method, path, fn: 'factory-api', auth: true });
const operator = (method: RouteSpec['method'], path: string): RouteSpec => ({ method, path, fn: 'operator-api', auth: true });

export const routes: readonly RouteSpec[] = [
  { method: 'GET', path: '/v1/health', fn: 'service-api', auth: false },
  { method: 'GET', path: '/v1/openapi.json', fn: 'service-api', auth: false },
  anchor('POST', '/v1/campaigns'),
  anchor('GET', '/v1/campaigns'),
  anchor('GET', '/v1/campaigns/{campaignId}'),
  anchor('PATCH', '/v1/campaigns/{campaignId}'),
  anchor('POST', '/v1/campaigns/{campaignId}/close'),
  anchor('GET', '/v1/campaigns/{campaignId}/demand'),
  anchor('GET', '/v1/campaigns/{campaignId}/demand/history'),
  anchor('GET', '/v1/campaigns/{campaignId}/batches'),
  anchor('GET', '/v1/campaigns/{campaignId}/preorders'),
  anchor('GET', '/v1/campaigns/{campaignId}/trust'),
  anchor('GET', '/v1/campaigns/{campaignId}/attribution'),
  buyer('POST', '/v1/campaigns/{campaignId}/preorders'),
  buyer('GET', '/v1/preorders'),
  buyer('GET', '/v1/preorders/{preorderId}'),
  buyer('POST', '/v1/preorders/{preorderId}/cancel'),
  buyer('PUT', '/v1/preorders/{preorderId}/shipping-address'),
  buyer('POST', '/v1/preorders/{preorderId}/switch'),
  // The live platform's payment service; served with the pre-orders, whose refunds they are.
  { method: 'GET', path: '/v1/payments/refunds', fn: 'preorders-api', auth: true },
  { method: 'POST', path: '/v1/payments/refunds/{refundId}/confirm', fn: 'preorders-api', auth: true },
  { method: 'POST', path: '/v1/payments/balances', fn: 'preorders-api', auth: true },
  { method: 'GET', path: '/v1/payments/balances', fn: 'preorders-api', auth: true },
  { method: 'POST', path: '/v1/signals', fn: 'signals-api', auth: true },
  factory('GET', '/v1/factory/forecasts'),
  factory('GET', '/v1/factory/batches'),
  factory('GET', '/v1/factory/batches/{batchId}'),
  factory('GET', '/v1/factory/batches/{batchId}/manifest'),
  factory('GET', '/v1/factory/batches/{batchId}/shipments'),
  factory('GET', '/v1/factory/shipments/{shipmentId}'),
  factory('POST', '/v1/factory/batches/{batchId}/accept'),
  factory('POST', '/v1/factory/batches/{batchId}/reject'),
  factory('POST', '/v1/factory/batches/{batchId}/progress'),
  factory('POST', '/v1/factory/batches/{batchId}/shipments'),
  factory('POST', '/v1/factory/batches/{batchId}/close-short'),
  factory('POST', '/v1/factory/shipments/{shipmentId}/delivered'),
  factory('POST', '/v1/factory/shipments/{shipmentId}/parcels'),
  factory('POST', '/v1/factory/shipments/{shipmentId}/parcels/{preorderId}/delivered'),
  factory('GET', '/v1/factory/trust'),
  factory('POST', '/v1/factory/webhooks'),
  factory('GET', '/v1/factory/webhooks'),
  factory('GET', '/v1/factory/webhooks/{webhookId}/deliveries'),
  factory('POST', '/v1/factory/webhooks/{webhookId}/deliveries/{deliveryId}/retry'),
  factory('PATCH', '/v1/factory/webhooks/{webhookId}'),
  factory('DELETE', '/v1/factory/webhooks/{webhookId}'),
  factory('POST', '/v1/factory/webhooks/{webhookId}/rotate-secret'),
  factory('POST', '/v1/factory/webhooks/{webhookId}/test'),
  factory('GET', '/v1/factory/events'),
  operator('POST', '/v1/operator/factories'),
  operator('GET', '/v1/operator/factories'),
  operator('POST', '/v1/operator/factories/{factoryId}/revoke'),
];

export const tableStreams: readonly StreamConsumerSpec[] = [
  {
    name: 'preorder-intake',
    consumer: 'preorder-intake',
    description: 'Every pre-order written: its "accepted" told, its order ref (buyer and campaign lists), preorder.accepted, a cut when a lot waits',
    filter: { eventNames: ['INSERT'], itemTypes: ['preorder'] },
    batchSize: 100,
    maxBatchingWindowSeconds: 1,
  },
];

export const queues: readonly QueueSpec[] = [
  {
    // Kept for one release, with nothing sending to it: what the code before decision 28 sent after a
    // commit ({preorderId}) is still followed by intake while a deploy replaces that code, and whatever
    // was queued when it stopped. Remove it in the release after, once its depth has been 0.
    name: 'preorder-intake',
    consumer: 'preorder-intake',
    batchSize: 100,
    maxBatchingWindowSeconds: 1,
    visibilityTimeoutSeconds: 180,
    maxReceiveCount: 5,
    // Nothing sends here any more: the smallest cap AWS allows (2).
    maxConcurrency: 2,
  },
  {
    name: 'campaign-clock',
    consumer: 'campaign-clock',
    batchSize: 10,
    maxBatchingWindowSeconds: 0,
    visibilityTimeoutSeconds: 360,
    maxReceiveCount: 5,
    // A minute's fan-out, one message per open campaign or due batch, each done in well under a second.
    maxConcurrency: 5,
  },
  {
    name: 'batch-cuts',
    consumer: 'batch-cutter',
    batchSize: 10,
    maxBatchingWindowSeconds: 0,
    // Longer than the cutter's timeout: a cut in progress is never handed to a second cutter by SQS.
    visibilityTimeoutSeconds: 960,
    maxReceiveCount: 5,
    // Cuts of one campaign contend for its gates; a few campaigns cut at once is plenty, and a cut may run 15 minutes.
    maxConcurrency: 5,
  },
  {
    name: 'demand-signals',
    consumer: 'signal-aggregator',
    batchSize: 100,
    maxBatchingWindowSeconds: 2,
    visibilityTimeoutSeconds: 360,
    maxReceiveCount: 5,
    // Folds 100 signals into a handful of counter writes; more at once would only contend on the same counters.
    maxConcurrency: 10,
  },
  {
    name: 'webhook-events',
    consumer: 'webhook-dispatcher',
    batchSize: 10,
    maxBatchingWindowSeconds: 0,
    visibilityTimeoutSeconds: 180,
    maxReceiveCount: 5,
    // One delivery per webhook per factory event: events are per batch or lot, not per pre-order.
    maxConcurrency: 5,
  },
  {
    name: 'webhook-deliveries',
    consumer: 'webhook-deliverer',
    batchSize: 10,
    maxBatchingWindowSeconds: 0,
    // The deliverer sets each failed message's visibility to its backoff delay.
    visibilityTimeoutSeconds: 360,
    // Receives before the dead-letter queue: the deliverer's WEBHOOK_MAX_TRIES (8) tries, plus spares for
    // receives that failed in c2m. A receiver that keeps failing ends FAILED, never here: the dead-letter
    // queue pages c2m's on-call, and a factory's endpoint being down is the factory's to fix.
    maxReceiveCount: 12,
    // Factories' endpoints are outside c2m and may be slow (WEBHOOK_TIMEOUT_SECONDS each): 10 deliverers × 10
    // POSTs in parallel at most, whatever the backlog, and each webhook holds at most WEBHOOK_MAX_IN_FLIGHT of them.
    maxConcurrency: 10,
  },
  {
    name: 'fulfillment',
    consumer: 'fulfillment',
    batchSize: 10,
    maxBatchingWindowSeconds: 0,
    visibilityTimeoutSeconds: 360,
    maxReceiveCount: 5,
    // Per batch or lot, each touching up to a lot's pre-orders.
    maxConcurrency: 5,
  },
  {
    name: 'notifications',
    consumer: 'notifier',
    batchSize: 10,
    maxBatchingWindowSeconds: 1,
    visibilityTimeoutSeconds: 180,
    maxReceiveCount: 5,
    // Buyer notices after a release or a refund wave come in thousands; 10 × 10 at once drain them in minutes.
    maxConcurrency: 10,
  },
];

export const rules: readonly RuleSpec[] = [
  {
    name: 'campaign-lifecycle-to-clock',
    description: 'A closed or failed campaign has its pending one-time schedules deleted',
    pattern: { source: ['c2m'], 'detail-type': ['campaign.closed', 'campaign.failed'] },
    targetQueue: 'campaign-clock',
  },
  {
    name: 'campaign-outcome-to-cutter',
    description: 'A closed campaign gets its final batch; a failed one has its pre-orders refunded',
    pattern: { source: ['c2m'], 'detail-type': ['campaign.closed', 'campaign.failed'] },
    targetQueue: 'batch-cuts',
  },
  {
    name: 'balance-paid-to-cutter',
    description: "A deposit pre-order's balance was paid: it joined the waiting line, and a lot may be due",
    pattern: { source: ['c2m'], 'detail-type': ['preorder.balance_paid'] },
    targetQueue: 'batch-cuts',
  },
  {
    name: 'factory-events-to-webhooks',
    description: "Events about a factory's batches and shipments go to its webhooks",
    pattern: {
      source: ['c2m'],
      'detail-type': [...busFactoryEventTypes],
    },
    targetQueue: 'webhook-events',
  },
  {
    name: 'production-to-fulfillment',
    description: "A batch accepted, a lot shipped or delivered, a buyer's parcel named or delivered, a batch closed short: its buyers' pre-orders follow",
    pattern: {
      source: ['c2m'],
      'detail-type': ['batch.accepted', 'batch.completed', 'shipment.created', 'shipment.delivered', 'shipment.parcels_added', 'shipment.parcel_delivered'],
    },
    targetQueue: 'fulfillment',
  },
  {
    name: 'buyer-steps-to-notifier',
    description: "Every event that moves a buyer's pre-order after its acceptance (intake tells that one): the notifier sends what the buyer has not been sent yet",
    pattern: {
      source: ['c2m'],
      'detail-type': [
        'preorder.refunded',
        // A deposit pre-order cancelled with its deposit kept (no preorder.refunded follows), its balance called or paid.
        'preorder.cancelled',
        'preorder.balance_due',
        'preorder.balance_paid',
        'preorder.shipped',
        'preorder.delivered',
        'preorder.delayed',
        'preorder.compensated',
        'preorder.address_changed',
        'refund.confirmed',
        'batch.released',
        'batch.rejected',
      ],
    },
    targetQueue: 'notifications',
  },
];

export const schedules: readonly ScheduleSpec[] = [
  {
    name: 'campaign-sweep',
    description: 'Relays the event outbox, and fans out the minute: a message per open or due campaign (transitions a schedule missed, demand history, max-wait cuts) and per due batch',
    rateMinutes: 1,
    targetQueue: 'campaign-clock',
    message: { kind: 'sweep' },
  },
];

/**
 * Stage throttling, sized for live-room bursts: a "3, 2, 1, buy!" moment is a few
 * seconds of several thousand requests per second. Over this, clients get 429 with
 * Retry-After.
 */
import { envNames } from './runtime-names.ts';

export { envNames, eventSource, maxBodyBytes } from './runtime-names.ts';

export const throttling = { rateLimit: 3000, burstLimit: 6000 } as const;


/**
 * Identity, as both targets set it up. A factory is an OAuth2 client holding the
 * factory scope; the platform (the live platform's payment service) is an OAuth2
 * client holding the platform scope; an operator is a user in the operator group;
 * any other user of the pool is an anchor. Revocation reaches a live token within
 * `authorizerCacheSeconds + clientRecordCacheSeconds` (50 s, under the 60 s promised).
 */
export const identity = {
  /** The resource server (Cognito) / resource indicator prefix for c2m's scopes. */
  resourceServer: 'c2m',
  factoryScope: 'c2m/factory',
  /** The live platform's payment service: one client of its own, named by its client id. */
  platformScope: 'c2m/platform',
  operatorGroup: 'operator',
  /** How long API Gateway (and the local gateway) keeps an authorizer decision per token. */
  authorizerCacheSeconds: 20,
  /** How long an authorizer keeps a factory client's record (registered, revoked). */
  clientRecordCacheSeconds: 30,
  /** Longest access token lifetime the issuers are set up with. */
  accessTokenTtlSeconds: 3600,
} as const;

/** Name of the one-time schedule group that holds per-campaign open/close schedules. */
export const campaignScheduleGroup = 'c2m-campaigns';



/** Where a target keeps the things a function's access names. */
export interface EnvironmentValues {
  readonly table: string;
  readonly bus: string;
  readonly queueUrl: (queue: QueueName) => string;
  readonly scheduleGroup: string;
  readonly schedulerRole: string;
  readonly clockQueueArn: string;
  /** The issuers whose tokens the authorizer trusts (JSON of functions/shared/config.ts `TrustedIssuer[]`). */
  readonly trustedIssuers: string;
  /** The c2m issuer's `/.well-known/openid-configuration`. */
  readonly oidcDiscoveryUrl: string;
  /** The user pool holding factory clients (`none` with an operator's own IdP). */
  readonly userPoolId: string;
  /** Where buyer notifications go: an SNS topic ARN on AWS, `local:console` locally. */
  readonly notificationTopic: string;
  /** The key webhook secrets are sealed under: a KMS key ARN on AWS, the emulator's key locally. */
  readonly webhookSecretsKey: string;
}

/**
 * A function's environment, derived from its access and nothing else. Both
 * builders call this, so a function sees the same variable names on AWS and in
 * the local runtime, and no variable it was not given.
 */
export const functionEnvironment = (spec: FunctionSpec, values: EnvironmentValues): Record<string, string> => {
  const env: Record<string, string> = { ...spec.settings };
  const { access } = spec;
  if (access.table) env[envNames.table] = values.table;
  for (const queue of [...(access.sendTo ?? []), ...(access.health?.queues ?? [])]) env[envNames.queueUrl(queue)] = values.queueUrl(queue);
  if (access.publish) env[envNames.bus] = values.bus;
  // Health probes the group by its name, which a stage prefixes (lib/aws/stage.ts): the name comes from the target.
  if (access.schedules || access.health?.scheduleGroup) env[envNames.scheduleGroup] = values.scheduleGroup;
  if (access.schedules) {
    env[envNames.schedulerRole] = values.schedulerRole;
    env[envNames.clockQueueArn] = values.clockQueueArn;
  }
  if (access.identity?.verifyTokens) env[envNames.trustedIssuers] = values.trustedIssuers;
  if (access.identity?.discovery) env[envNames.oidcDiscoveryUrl] = values.oidcDiscoveryUrl;
  if (access.identity?.manageClients) env[envNames.userPoolId] = values.userPoolId;
  if (access.notify) env[envNames.notificationTopic] = values.notificationTopic;
  if (access.webhookSecrets) env[envNames.webhookSecretsKey] = values.webhookSecretsKey;
  return env;
};

export const functionSpec = (name: FunctionName): FunctionSpec => {
  const spec = functions.find((f) => f.name === name);
  if (!spec) throw new Error(`unknown function ${name}`);
  return spec;
};
