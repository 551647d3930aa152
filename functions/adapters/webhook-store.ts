import { GetCommand, QueryCommand, TransactWriteCommand, UpdateCommand } from '@aws-sdk/lib-dynamodb';
import { tableName } from '#shared/config.ts';
import { OverloadedError } from '#domain/errors.ts';
import { deliveryPayload, withAttempt, type Delivery, type DeliveryAttempt, type DeliveryStatus, type Webhook } from '#domain/webhooks.ts';
import { backoff, cancellation, ddb, pageOfOwnerIndex } from './dynamo.ts';

/**
 * Factory webhooks and the record of their deliveries.
 *
 * Keys:
 *   webhook   PK=WEBHOOK#<id>        SK=WEBHOOK       factoryId, url, events, secret, status, createdAt, requestHash
 *             GSI1PK=FACTORY#<factoryId>#WEBHOOKS  GSI1SK=<createdAt>#<id>   (a factory's webhooks, newest first)
 *             id = hash(factory | Idempotency-Key) when the create carries a key
 *   count     PK=FACTORY#<factoryId> SK=WEBHOOKS      webhooks   (capped; taken with the webhook's Put)
 *   delivery  PK=WHDELIVERY#<id>     SK=WHDELIVERY    webhookId, factoryId, eventId, eventType, sequence, status,
 *             attempts (newest 20), attemptCount, payload, nextAttemptAt, createdAt, deliveredAt   (TTL 30 days)
 *             GSI1PK=WEBHOOK#<webhookId>#DELIVERIES  GSI1SK=<createdAt>#<id>  (a webhook's deliveries, newest first)
 *             id = hash(webhookId | eventId): an event delivered twice to the dispatcher is one delivery
 *   sequence  PK=FACTORY#<factoryId> SK=WEBHOOKSEQ    seq        (the factory's last delivery number)
 *
 * A delivery's number is taken in the same TransactWriteItems as the delivery's
 * conditional Put: the counter moves from the value read to the next one only
 * if the delivery is new, so a redelivered event neither creates a second
 * delivery nor burns a number. (A plain `ADD seq 1` would not give the number
 * back inside a transaction, and the payload, which carries it, is written in
 * the same Put.) Concurrent dispatchers for one factory retry on the counter.
 *
 * Attempts are appended by read-modify-write guarded by `attemptCount`, so two
 * deliverers racing on one delivery (a replay while a retry is pending) both
 * land their attempt and neither overwrites the other's.
 */
export const webhookKey = (webhookId: string) => ({ PK: `WEBHOOK#${webhookId}`, SK: 'WEBHOOK' });
export const deliveryKey = (deliveryId: string) => ({ PK: `WHDELIVERY#${deliveryId}`, SK: 'WHDELIVERY' });
const sequenceKey = (factoryId: string) => ({ PK: `FACTORY#${factoryId}`, SK: 'WEBHOOKSEQ' });
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

const webhookFromItem = (item: Item): Webhook & { requestHash: string } => {
  const { PK: _pk, SK: _sk, type: _type, GSI1PK: _g1, GSI1SK: _g1s, ...rest } = item;
  return rest as unknown as Webhook & { requestHash: string };
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
  for (let attempt = 0; ; attempt++) {
    try {
      await ddb.send(
        new TransactWriteCommand({
          TransactItems: [
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
          ],
        }),
      );
      return { outcome: 'created' };
    } catch (err) {
      const why = cancellation(err);
      if (!why) throw err;
      if (why.codes[0] === 'ConditionalCheckFailed') {
        const existing = await getWebhook(w.webhookId, true);
        if (existing) return { outcome: 'exists', existing };
      }
      if (why.codes[1] === 'ConditionalCheckFailed') return { outcome: 'limit-reached' };
      if (attempt + 1 >= maxAttempts) throw new OverloadedError();
      await backoff(attempt);
    }
  }
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

// ---------------------------------------------------------------- deliveries

const deliveryToItem = (d: Delivery): Item => ({
  ...deliveryKey(d.deliveryId),
  type: 'webhook-delivery',
  ...d,
  GSI1PK: webhookDeliveries(d.webhookId),
  GSI1SK: `${d.createdAt}#${d.deliveryId}`,
  expiresAt: Math.floor(Date.parse(d.createdAt) / 1000) + deliveryRetentionSeconds,
});

const deliveryFromItem = (item: Item): Delivery => {
  const { PK: _pk, SK: _sk, type: _type, GSI1PK: _g1, GSI1SK: _g1s, expiresAt: _exp, ...rest } = item;
  const d = rest as unknown as Delivery;
  return { ...d, attempts: d.attempts ?? [], attemptCount: Number(d.attemptCount ?? 0), sequence: Number(d.sequence) };
};

export const getDelivery = async (deliveryId: string, consistent = true): Promise<Delivery | undefined> => {
  const out = await ddb.send(new GetCommand({ TableName: tableName(), Key: deliveryKey(deliveryId), ConsistentRead: consistent }));
  return out.Item ? deliveryFromItem(out.Item) : undefined;
};

export const listDeliveriesForWebhook = (webhookId: string, limit: number, cursor: string | undefined) =>
  pageOfOwnerIndex({ tableName: tableName(), owner: webhookDeliveries(webhookId), baseKey: deliveryKey, limit, cursor, fromItem: deliveryFromItem });

/** What the dispatcher knows of a delivery before it has a number. */
export interface NewDelivery {
  readonly deliveryId: string;
  readonly webhookId: string;
  readonly factoryId: string;
  readonly eventId: string;
  readonly eventType: string;
  readonly occurredAt: string;
  readonly data: Record<string, unknown>;
}

/**
 * Creates the delivery with the factory's next sequence number, or returns the
 * one that exists (a redelivered event): `created` says which.
 */
export const createDelivery = async (input: NewDelivery, now: Date): Promise<{ created: boolean; delivery: Delivery }> => {
  const existing = await getDelivery(input.deliveryId);
  if (existing) return { created: false, delivery: existing };
  for (let attempt = 0; ; attempt++) {
    const counter = await ddb.send(
      new GetCommand({ TableName: tableName(), Key: sequenceKey(input.factoryId), ConsistentRead: true, ProjectionExpression: 'seq' }),
    );
    const current = Number(counter.Item?.seq ?? 0);
    const sequence = current + 1;
    const { data, occurredAt, ...ids } = input;
    const delivery: Delivery = {
      ...ids,
      sequence,
      status: 'PENDING',
      attempts: [],
      attemptCount: 0,
      payload: deliveryPayload({ id: input.eventId, type: input.eventType, sequence, occurredAt, factoryId: input.factoryId, data }),
      createdAt: now.toISOString(),
    };
    try {
      await ddb.send(
        new TransactWriteCommand({
          TransactItems: [
            {
              Update: {
                TableName: tableName(),
                Key: sequenceKey(input.factoryId),
                UpdateExpression: 'SET seq = :next, #type = :type',
                ConditionExpression: current === 0 ? 'attribute_not_exists(seq)' : 'seq = :current',
                ExpressionAttributeNames: { '#type': 'type' },
                ExpressionAttributeValues: { ':next': sequence, ':type': 'webhook-sequence', ...(current !== 0 && { ':current': current }) },
              },
            },
            { Put: { TableName: tableName(), Item: deliveryToItem(delivery), ConditionExpression: 'attribute_not_exists(PK)' } },
          ],
        }),
      );
      return { created: true, delivery };
    } catch (err) {
      const why = cancellation(err);
      if (!why) throw err;
      if (why.codes[1] === 'ConditionalCheckFailed') {
        const again = await getDelivery(input.deliveryId);
        if (again) return { created: false, delivery: again };
      }
      // Another delivery of this factory took the number (or the transaction conflicted): read the counter again.
      if (attempt + 1 >= maxAttempts) throw err;
      await backoff(attempt);
    }
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
    };
    const set = ['#status = :status', 'attempts = :attempts', 'attemptCount = :count'];
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

/** Makes a delivery PENDING again for a replay, whatever its status; its attempts stay. */
export const markForReplay = async (deliveryId: string): Promise<Delivery> => {
  const out = await ddb.send(
    new UpdateCommand({
      TableName: tableName(),
      Key: deliveryKey(deliveryId),
      UpdateExpression: 'SET #status = :pending REMOVE nextAttemptAt',
      ConditionExpression: 'attribute_exists(PK)',
      ExpressionAttributeNames: { '#status': 'status' },
      ExpressionAttributeValues: { ':pending': 'PENDING' },
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
        UpdateExpression: `SET #status = :before${before.nextAttemptAt ? ', nextAttemptAt = :next' : ''}`,
        ConditionExpression: '#status = :pending AND attemptCount = :seen',
        ExpressionAttributeNames: { '#status': 'status' },
        ExpressionAttributeValues: {
          ':before': before.status,
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
