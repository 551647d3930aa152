import { GetCommand, PutCommand, QueryCommand, UpdateCommand } from '@aws-sdk/lib-dynamodb';
import { tableName } from '#shared/config.ts';
import { deliveryPayload, withAttempt, type Delivery, type DeliveryAttempt, type DeliveryStatus, type Webhook } from '#domain/webhooks.ts';
import { parseStoredDelivery, parseStoredWebhook } from './stored-items.ts';
import { backoff, ddb, failedAt, isConditionFailure, pageOfOwnerIndex, transactWrite } from './dynamo.ts';

/**
 * Factory webhooks and the record of their deliveries.
 *
 * Keys:
 *   webhook   PK=WEBHOOK#<id>        SK=WEBHOOK       factoryId, url, events, status, createdAt, requestHash,
 *             secret, previousSecret(+ExpiresAt), revealSecret (all sealed: adapters/secret-box.ts),
 *             disabledReason, disabledAt, failingSince, slots {leaseId: expiresAtMs}, slotsVersion
 *             GSI1PK=FACTORY#<factoryId>#WEBHOOKS  GSI1SK=<createdAt>#<id>   (a factory's webhooks, newest first)
 *             id = hash(factory | Idempotency-Key) when the create carries a key
 *   count     PK=FACTORY#<factoryId> SK=WEBHOOKS      webhooks   (capped; taken with the webhook's Put)
 *   delivery  PK=WHDELIVERY#<id>     SK=WHDELIVERY    webhookId, factoryId, eventId, eventType, sequence, status,
 *             attempts (newest 20), attemptCount, tries, payload, nextAttemptAt, createdAt, deliveredAt   (TTL 30 days)
 *             GSI1PK=WEBHOOK#<webhookId>#DELIVERIES  GSI1SK=<createdAt>#<id>  (a webhook's deliveries, newest first)
 *             id = hash(webhookId | eventId): an event delivered twice to the dispatcher is one delivery
 *
 * A delivery carries its event's number from the factory's feed
 * (adapters/factory-feed.ts): one number per event per factory, the same on
 * every webhook and in `GET /v1/factory/events`.
 *
 * Attempts are appended by read-modify-write guarded by `attemptCount`, so two
 * deliverers racing on one delivery (a replay while a retry is pending) both
 * land their attempt and neither overwrites the other's.
 */
export const webhookKey = (webhookId: string) => ({ PK: `WEBHOOK#${webhookId}`, SK: 'WEBHOOK' });
export const deliveryKey = (deliveryId: string) => ({ PK: `WHDELIVERY#${deliveryId}`, SK: 'WHDELIVERY' });
const webhookCountKey = (factoryId: string) => ({ PK: `FACTORY#${factoryId}`, SK: 'WEBHOOKS' });
const factoryWebhooks = (factoryId: string) => `FACTORY#${factoryId}#WEBHOOKS`;
const webhookDeliveries = (webhookId: string) => `WEBHOOK#${webhookId}#DELIVERIES`;

/** Deliveries are an operational record, not business data: kept 30 days (TTL), then a replay is 404. */
const deliveryRetentionSeconds = 30 * 24 * 3600;
const maxAttempts = 10;

type Item = Record<string, unknown>;

// ---------------------------------------------------------------- webhooks

const webhookToItem = (w: Webhook, requestHash: string): Item => ({
  ...webhookKey(w.webhookId),
  type: 'webhook',
  ...w,
  requestHash,
  GSI1PK: factoryWebhooks(w.factoryId),
  GSI1SK: `${w.createdAt}#${w.webhookId}`,
});

/** The webhook as stored, less its delivery slots (takeSlot reads those), parsed (stored-items.ts). */
const webhookFromItem = (item: Item): Webhook & { requestHash: string } => {
  const { PK, SK: _sk, type: _type, GSI1PK: _g1, GSI1SK: _g1s, slots: _slots, slotsVersion: _sv, ...rest } = item;
  return parseStoredWebhook(rest, String(PK));
};

export type CreateWebhookOutcome =
  | { readonly outcome: 'created' }
  | { readonly outcome: 'exists'; readonly existing: Webhook & { requestHash: string } }
  | { readonly outcome: 'limit-reached' };

/**
 * Records a new webhook and counts it against the factory's cap, in one
 * transaction. When the id exists (a retried create with the same
 * Idempotency-Key) nothing is written and the stored webhook comes back, even
 * if the factory has reached its cap since.
 */
export const createWebhook = async (w: Webhook, requestHash: string, limit: number): Promise<CreateWebhookOutcome> => {
  const outcome = await transactWrite([
    { Put: { TableName: tableName(), Item: webhookToItem(w, requestHash), ConditionExpression: 'attribute_not_exists(PK)' } },
    {
      Update: {
        TableName: tableName(),
        Key: webhookCountKey(w.factoryId),
        UpdateExpression: 'SET #type = :type ADD webhooks :one',
        ConditionExpression: 'attribute_not_exists(webhooks) OR webhooks < :limit',
        ExpressionAttributeNames: { '#type': 'type' },
        ExpressionAttributeValues: { ':type': 'webhook-count', ':one': 1, ':limit': limit },
      },
    },
  ]);
  if (outcome === 'done') return { outcome: 'created' };
  if (failedAt(outcome, 0)) {
    const existing = await getWebhook(w.webhookId, true);
    if (existing) return { outcome: 'exists', existing };
  }
  if (failedAt(outcome, 1)) return { outcome: 'limit-reached' };
  // The id's Put failed but nothing is there: it was deleted in between. Create it again.
  return createWebhook(w, requestHash, limit);
};

export const getWebhook = async (webhookId: string, consistent = false) => {
  const out = await ddb.send(new GetCommand({ TableName: tableName(), Key: webhookKey(webhookId), ConsistentRead: consistent }));
  return out.Item ? webhookFromItem(out.Item) : undefined;
};

/** A page of the factory's webhooks, newest first; 'invalid-cursor' for a cursor this list did not give out. */
export const listWebhooksForFactory = (factoryId: string, limit: number, cursor: string | undefined) =>
  pageOfOwnerIndex({ tableName: tableName(), owner: factoryWebhooks(factoryId), baseKey: webhookKey, limit, cursor, fromItem: webhookFromItem });

/**
 * The factory's active webhooks subscribed to `eventType`, all pages. The
 * index is eventually consistent: a webhook created a moment before the event
 * may miss it.
 */
export const activeWebhooksFor = async (factoryId: string, eventType: string): Promise<Webhook[]> => {
  const found: Webhook[] = [];
  let start: Item | undefined;
  do {
    const out = await ddb.send(
      new QueryCommand({
        TableName: tableName(),
        IndexName: 'GSI1',
        KeyConditionExpression: 'GSI1PK = :pk',
        ExpressionAttributeValues: { ':pk': factoryWebhooks(factoryId) },
        ExclusiveStartKey: start,
      }),
    );
    for (const item of out.Items ?? []) {
      const { requestHash: _h, ...w } = webhookFromItem(item);
      if (w.status === 'ACTIVE' && w.events.includes(eventType)) found.push(w);
    }
    start = out.LastEvaluatedKey;
  } while (start);
  return found;
};

/** What a PATCH changes; `enable` clears why it was disabled and since when it failed. */
export interface WebhookChange {
  readonly url?: string;
  readonly events?: readonly string[];
  readonly enable?: boolean;
}

/**
 * Applies a factory's change to its own webhook. Conditional on the webhook
 * existing and being that factory's: 'not-found' otherwise, nothing written.
 */
export const updateWebhook = async (webhookId: string, factoryId: string, change: WebhookChange, now: Date): Promise<Webhook | 'not-found'> => {
  const set = ['updatedAt = :now'];
  const remove: string[] = [];
  const names: Record<string, string> = {};
  const values: Item = { ':now': now.toISOString(), ':factory': factoryId };
  if (change.url !== undefined) {
    names['#url'] = 'url';
    set.push('#url = :url');
    values[':url'] = change.url;
  }
  if (change.events !== undefined) {
    set.push('events = :events');
    values[':events'] = change.events;
  }
  if (change.enable !== undefined) names['#status'] = 'status';
  if (change.enable === true) {
    set.push('#status = :active');
    values[':active'] = 'ACTIVE';
    remove.push('disabledReason', 'disabledAt', 'failingSince');
  } else if (change.enable === false) {
    // Disabling an already disabled webhook keeps its first reason and time.
    set.push('#status = :disabled', 'disabledReason = if_not_exists(disabledReason, :byFactory)', 'disabledAt = if_not_exists(disabledAt, :now)');
    values[':disabled'] = 'DISABLED';
    values[':byFactory'] = 'BY_FACTORY';
  }
  try {
    const out = await ddb.send(
      new UpdateCommand({
        TableName: tableName(),
        Key: webhookKey(webhookId),
        UpdateExpression: `SET ${set.join(', ')}${remove.length ? ` REMOVE ${remove.join(', ')}` : ''}`,
        ConditionExpression: 'attribute_exists(PK) AND factoryId = :factory',
        ...(Object.keys(names).length > 0 && { ExpressionAttributeNames: names }),
        ExpressionAttributeValues: values,
        ReturnValues: 'ALL_NEW',
      }),
    );
    const { requestHash: _h, ...webhook } = webhookFromItem(out.Attributes ?? {});
    return webhook;
  } catch (err) {
    if (isConditionFailure(err)) return 'not-found';
    throw err;
  }
};

/**
 * Deletes the factory's webhook and gives its place under the cap back, in one
 * transaction. Its deliveries stay until they expire, unreachable: the
 * deliverer finds no webhook and sends nothing more.
 */
export const deleteWebhook = async (webhookId: string, factoryId: string): Promise<'deleted' | 'not-found'> => {
  const outcome = await transactWrite([
    {
      Delete: {
        TableName: tableName(),
        Key: webhookKey(webhookId),
        ConditionExpression: 'attribute_exists(PK) AND factoryId = :factory',
        ExpressionAttributeValues: { ':factory': factoryId },
      },
    },
    {
      Update: {
        TableName: tableName(),
        Key: webhookCountKey(factoryId),
        UpdateExpression: 'ADD webhooks :minusOne',
        ConditionExpression: 'webhooks > :zero',
        ExpressionAttributeValues: { ':minusOne': -1, ':zero': 0 },
      },
    },
  ]);
  if (outcome === 'done') return 'deleted';
  if (failedAt(outcome, 0)) return 'not-found';
  // The count is already 0 with the webhook still there: only a lost count item could do that. Nothing is deleted; say so.
  throw new Error(`webhook ${webhookId} could not be deleted: its factory's webhook count is already 0`);
};

/**
 * Replaces the signing secret, keeping the one it replaces (`previous`, that
 * secret sealed: a secret stored before sealing is sealed here) until
 * `previousExpiresAt`. Conditional on the secret being the one the
 * caller read: of two rotations racing, one wins and the other is retried by
 * its caller on the new state ('changed').
 */
export const rotateWebhookSecret = async (
  webhook: Webhook,
  next: Webhook['secret'],
  previous: Webhook['secret'],
  previousExpiresAt: string,
  now: Date,
): Promise<Webhook | 'changed'> => {
  try {
    const out = await ddb.send(
      new UpdateCommand({
        TableName: tableName(),
        Key: webhookKey(webhook.webhookId),
        // The create's reveal copy goes: a replay of the create must not hand out a secret that no longer signs.
        UpdateExpression:
          'SET secret = :next, previousSecret = :previous, previousSecretExpiresAt = :expires, secretRotatedAt = :now, updatedAt = :now REMOVE revealSecret',
        ConditionExpression: 'attribute_exists(PK) AND secret = :current',
        ExpressionAttributeValues: {
          ':next': next,
          ':previous': previous,
          ':current': webhook.secret,
          ':expires': previousExpiresAt,
          ':now': now.toISOString(),
        },
        ReturnValues: 'ALL_NEW',
      }),
    );
    const { requestHash: _h, ...rotated } = webhookFromItem(out.Attributes ?? {});
    return rotated;
  } catch (err) {
    if (isConditionFailure(err)) return 'changed';
    throw err;
  }
};

/** Records a failed try: `failingSince` is set by the first failure after a success and then kept. */
export const noteFailure = async (webhookId: string, at: Date): Promise<Webhook | undefined> => {
  try {
    const out = await ddb.send(
      new UpdateCommand({
        TableName: tableName(),
        Key: webhookKey(webhookId),
        UpdateExpression: 'SET failingSince = if_not_exists(failingSince, :at)',
        ConditionExpression: 'attribute_exists(PK)',
        ExpressionAttributeValues: { ':at': at.toISOString() },
        ReturnValues: 'ALL_NEW',
      }),
    );
    const { requestHash: _h, ...webhook } = webhookFromItem(out.Attributes ?? {});
    return webhook;
  } catch (err) {
    if (isConditionFailure(err)) return undefined;
    throw err;
  }
};

/**
 * A try delivered at `at` ends a failing streak that began before it (a
 * failure recorded after it, by a POST that ran alongside, starts a new one).
 * Only written when there is such a streak.
 */
export const clearFailure = async (webhookId: string, at: Date): Promise<void> => {
  try {
    await ddb.send(
      new UpdateCommand({
        TableName: tableName(),
        Key: webhookKey(webhookId),
        UpdateExpression: 'REMOVE failingSince',
        ConditionExpression: 'failingSince <= :at',
        ExpressionAttributeValues: { ':at': at.toISOString() },
      }),
    );
  } catch (err) {
    if (!isConditionFailure(err)) throw err;
  }
};

/**
 * Disables a webhook that has been failing since `failingSince`. Conditional on
 * it still being ACTIVE with that streak: of the deliverers that see the
 * threshold pass, one disables it (true) and tells the factory once.
 */
export const disableFailing = async (webhookId: string, failingSince: string, at: Date): Promise<boolean> => {
  try {
    await ddb.send(
      new UpdateCommand({
        TableName: tableName(),
        Key: webhookKey(webhookId),
        UpdateExpression: 'SET #status = :disabled, disabledReason = :failing, disabledAt = :at, updatedAt = :at',
        ConditionExpression: '#status = :active AND failingSince = :since',
        ExpressionAttributeNames: { '#status': 'status' },
        ExpressionAttributeValues: { ':disabled': 'DISABLED', ':failing': 'FAILING', ':at': at.toISOString(), ':active': 'ACTIVE', ':since': failingSince },
      }),
    );
    return true;
  } catch (err) {
    if (isConditionFailure(err)) return false;
    throw err;
  }
};

// ---------------------------------------------------------------- delivery slots

/** What `takeSlot` found: a slot taken, every slot busy, or the webhook gone or switched off since it was read. */
export type SlotOutcome = 'taken' | 'busy' | 'gone' | 'disabled';

/**
 * At most `max` POSTs to one webhook at a time, across every deliverer: a
 * slot is a lease in the webhook's `slots` map (lease id → expiry, ms), taken
 * by a read-modify-write guarded by `slotsVersion` and by the webhook's status
 * as read, so a webhook deleted or disabled since the deliverer read it gets no
 * slot ('gone', 'disabled'; a `webhook.test` passes `allowDisabled`). A lease
 * left by a crashed deliverer frees itself at its expiry. 'busy' when every
 * slot is taken, or the slots kept changing under it.
 */
export const takeSlot = async (
  webhookId: string,
  leaseId: string,
  opts: { nowMs: number; leaseMs: number; max: number; allowDisabled: boolean },
): Promise<SlotOutcome> => {
  for (let attempt = 0; attempt < maxAttempts; attempt++) {
    const out = await ddb.send(
      new GetCommand({
        TableName: tableName(),
        Key: webhookKey(webhookId),
        ConsistentRead: true,
        ProjectionExpression: 'slots, slotsVersion, #status',
        ExpressionAttributeNames: { '#status': 'status' },
      }),
    );
    if (!out.Item) return 'gone';
    const status = String(out.Item.status);
    if (status !== 'ACTIVE' && !opts.allowDisabled) return 'disabled';
    const version = Number(out.Item.slotsVersion ?? 0);
    const live = Object.entries((out.Item.slots ?? {}) as Record<string, number>).filter(([, expires]) => Number(expires) > opts.nowMs);
    if (live.length >= opts.max) return 'busy';
    try {
      await ddb.send(
        new UpdateCommand({
          TableName: tableName(),
          Key: webhookKey(webhookId),
          UpdateExpression: 'SET slots = :slots, slotsVersion = :next',
          ConditionExpression: `#status = :status AND ${version === 0 ? 'attribute_not_exists(slotsVersion)' : 'slotsVersion = :seen'}`,
          ExpressionAttributeNames: { '#status': 'status' },
          ExpressionAttributeValues: {
            ':slots': Object.fromEntries([...live, [leaseId, opts.nowMs + opts.leaseMs]]),
            ':next': version + 1,
            ':status': status,
            ...(version !== 0 && { ':seen': version }),
          },
        }),
      );
      return 'taken';
    } catch (err) {
      if (!isConditionFailure(err)) throw err;
      await backoff(attempt);
    }
  }
  // Others kept taking and giving back slots: wait in the queue like a busy endpoint.
  return 'busy';
};

/** Gives a slot back (a no-op for a lease already expired and dropped, or a deleted webhook). */
export const releaseSlot = async (webhookId: string, leaseId: string): Promise<void> => {
  try {
    await ddb.send(
      new UpdateCommand({
        TableName: tableName(),
        Key: webhookKey(webhookId),
        // The version moves too, so a taker that read the map before this cannot write the lease back.
        UpdateExpression: 'REMOVE slots.#lease ADD slotsVersion :one',
        ConditionExpression: 'attribute_exists(slots.#lease)',
        ExpressionAttributeNames: { '#lease': leaseId },
        ExpressionAttributeValues: { ':one': 1 },
      }),
    );
  } catch (err) {
    if (!isConditionFailure(err)) throw err;
  }
};

// ---------------------------------------------------------------- deliveries

const deliveryToItem = (d: Delivery): Item => ({
  ...deliveryKey(d.deliveryId),
  type: 'webhook-delivery',
  ...d,
  GSI1PK: webhookDeliveries(d.webhookId),
  GSI1SK: `${d.createdAt}#${d.deliveryId}`,
  expiresAt: Math.floor(Date.parse(d.createdAt) / 1000) + deliveryRetentionSeconds,
});

/** The delivery as stored, less its TTL, parsed (stored-items.ts, which gives older deliveries their counters). */
const deliveryFromItem = (item: Item): Delivery => {
  const { PK, SK: _sk, type: _type, GSI1PK: _g1, GSI1SK: _g1s, expiresAt: _exp, ...rest } = item;
  return parseStoredDelivery(rest, String(PK));
};

export const getDelivery = async (deliveryId: string, consistent = true): Promise<Delivery | undefined> => {
  const out = await ddb.send(new GetCommand({ TableName: tableName(), Key: deliveryKey(deliveryId), ConsistentRead: consistent }));
  return out.Item ? deliveryFromItem(out.Item) : undefined;
};

export const listDeliveriesForWebhook = (webhookId: string, limit: number, cursor: string | undefined) =>
  pageOfOwnerIndex({ tableName: tableName(), owner: webhookDeliveries(webhookId), baseKey: deliveryKey, limit, cursor, fromItem: deliveryFromItem });

/** What the dispatcher knows of a delivery: the event, with the number the factory's feed gave it. */
export interface NewDelivery {
  readonly deliveryId: string;
  readonly webhookId: string;
  readonly factoryId: string;
  readonly eventId: string;
  readonly eventType: string;
  readonly sequence: number;
  readonly occurredAt: string;
  readonly data: Record<string, unknown>;
}

/**
 * Creates the delivery, or returns the one that exists (a redelivered event):
 * `created` says which. The number is the event's (adapters/factory-feed.ts),
 * so every webhook of the factory and its feed carry the same one.
 */
export const createDelivery = async (input: NewDelivery, now: Date): Promise<{ created: boolean; delivery: Delivery }> => {
  const { data, occurredAt, ...ids } = input;
  const delivery: Delivery = {
    ...ids,
    status: 'PENDING',
    attempts: [],
    attemptCount: 0,
    tries: 0,
    payload: deliveryPayload({ id: input.eventId, type: input.eventType, sequence: input.sequence, occurredAt, factoryId: input.factoryId, data }),
    createdAt: now.toISOString(),
  };
  try {
    await ddb.send(new PutCommand({ TableName: tableName(), Item: deliveryToItem(delivery), ConditionExpression: 'attribute_not_exists(PK)' }));
    return { created: true, delivery };
  } catch (err) {
    if (!isConditionFailure(err)) throw err;
    const existing = await getDelivery(input.deliveryId);
    if (!existing) throw err;
    return { created: false, delivery: existing };
  }
};

const withoutNextAttempt = (d: Delivery): Delivery => {
  const { nextAttemptAt: _n, ...rest } = d;
  return rest;
};

/** The state a delivery moves to with an attempt. */
export interface AttemptOutcome {
  readonly status: DeliveryStatus;
  readonly nextAttemptAt?: string;
  readonly deliveredAt?: string;
}

/**
 * Appends `attempt` and moves the delivery to what `decide` says, given the
 * delivery as it is now. Conditional on `attemptCount` being what was read: on
 * a lost race the delivery is read again and `decide` asked again, so a late
 * failure never turns a DELIVERED delivery back into RETRYING (decide sees it).
 * `deliveredAt` is the last successful delivery; a later failed replay keeps it.
 */
export const recordAttempt = async (
  read: Delivery,
  attempt: DeliveryAttempt,
  decide: (current: Delivery) => AttemptOutcome,
): Promise<Delivery> => {
  let current = read;
  for (let tries = 0; ; tries++) {
    const outcome = decide(current);
    const next: Delivery = {
      ...withoutNextAttempt(current),
      ...outcome,
      attempts: withAttempt(current.attempts, attempt),
      attemptCount: current.attemptCount + 1,
      tries: current.tries + 1,
    };
    const set = ['#status = :status', 'attempts = :attempts', 'attemptCount = :count', 'tries = :tries'];
    if (outcome.nextAttemptAt) set.push('nextAttemptAt = :next');
    if (outcome.deliveredAt) set.push('deliveredAt = :delivered');
    try {
      await ddb.send(
        new UpdateCommand({
          TableName: tableName(),
          Key: deliveryKey(current.deliveryId),
          UpdateExpression: `SET ${set.join(', ')}${outcome.nextAttemptAt ? '' : ' REMOVE nextAttemptAt'}`,
          ConditionExpression: 'attemptCount = :seen',
          ExpressionAttributeNames: { '#status': 'status' },
          ExpressionAttributeValues: {
            ':status': next.status,
            ':attempts': next.attempts,
            ':count': next.attemptCount,
            ':tries': next.tries,
            ':seen': current.attemptCount,
            ...(outcome.nextAttemptAt && { ':next': outcome.nextAttemptAt }),
            ...(outcome.deliveredAt && { ':delivered': outcome.deliveredAt }),
          },
        }),
      );
      return next;
    } catch (err) {
      if (!(err instanceof Error && err.name === 'ConditionalCheckFailedException') || tries + 1 >= maxAttempts) throw err;
      const again = await getDelivery(current.deliveryId);
      if (!again) throw err;
      current = again;
    }
  }
};

/** Makes a delivery PENDING again for a replay, whatever its status, with a fresh series of tries; its attempts stay. */
export const markForReplay = async (deliveryId: string): Promise<Delivery> => {
  const out = await ddb.send(
    new UpdateCommand({
      TableName: tableName(),
      Key: deliveryKey(deliveryId),
      UpdateExpression: 'SET #status = :pending, tries = :zero REMOVE nextAttemptAt',
      ConditionExpression: 'attribute_exists(PK)',
      ExpressionAttributeNames: { '#status': 'status' },
      ExpressionAttributeValues: { ':pending': 'PENDING', ':zero': 0 },
      ReturnValues: 'ALL_NEW',
    }),
  );
  return deliveryFromItem(out.Attributes ?? {});
};

/**
 * Puts back the status a replay replaced when its message could not be queued,
 * unless a deliverer has recorded an attempt since (then its status stands).
 */
export const undoReplay = async (before: Delivery): Promise<void> => {
  try {
    await ddb.send(
      new UpdateCommand({
        TableName: tableName(),
        Key: deliveryKey(before.deliveryId),
        UpdateExpression: `SET #status = :before, tries = :tries${before.nextAttemptAt ? ', nextAttemptAt = :next' : ''}`,
        ConditionExpression: '#status = :pending AND attemptCount = :seen',
        ExpressionAttributeNames: { '#status': 'status' },
        ExpressionAttributeValues: {
          ':before': before.status,
          ':tries': before.tries,
          ':pending': 'PENDING',
          ':seen': before.attemptCount,
          ...(before.nextAttemptAt && { ':next': before.nextAttemptAt }),
        },
      }),
    );
  } catch (err) {
    if (!(err instanceof Error && err.name === 'ConditionalCheckFailedException')) throw err;
  }
};

/** Drops the create's reveal copy once its window has passed (the deliverer, after a delivered try). */
export const dropRevealSecret = async (webhookId: string, seen: Webhook['secret']): Promise<void> => {
  try {
    await ddb.send(
      new UpdateCommand({
        TableName: tableName(),
        Key: webhookKey(webhookId),
        UpdateExpression: 'REMOVE revealSecret',
        ConditionExpression: 'revealSecret = :seen',
        ExpressionAttributeValues: { ':seen': seen },
      }),
    );
  } catch (err) {
    if (!isConditionFailure(err)) throw err;
  }
};
