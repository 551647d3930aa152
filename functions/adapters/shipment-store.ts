import { GetCommand, QueryCommand, TransactWriteCommand } from '@aws-sdk/lib-dynamodb';
import { tableName } from '#shared/config.ts';
import { cancellation, ddb } from './dynamo.ts';
import { outboxPut } from './outbox.ts';
import type { DomainEvent } from './event-bus.ts';

/**
 * A lot that left the factory.
 *
 * Keys:
 *   PK=SHIPMENT#<id>  SK=SHIPMENT
 *   GSI1PK=BATCH#<batchId>#SHIPMENTS  GSI1SK=<createdAt>#<id>   (a batch's shipments)
 *
 * It is written in the same transaction as the batch counts it moves (see
 * createShipment in handlers/factory/use-cases.ts), so a shipment and the
 * batch's `shipped` never disagree.
 */
export interface Shipment {
  readonly shipmentId: string;
  readonly batchId: string;
  readonly campaignId: string;
  readonly factoryId: string;
  readonly status: 'SHIPPED' | 'DELIVERED';
  readonly carrier: string;
  readonly trackingNumber: string;
  readonly items: readonly { sku: string; quantity: number }[];
  readonly units: number;
  readonly createdAt: string;
  readonly deliveredAt?: string;
  /** Which pre-orders get its units, decided when it was counted on the batch (oldest first, per sku). */
  readonly allocations: readonly { preorderId: string; sku: string; quantity: number }[];
}

export const shipmentKey = (shipmentId: string) => ({ PK: `SHIPMENT#${shipmentId}`, SK: 'SHIPMENT' });

const fromItem = (item: Record<string, unknown>): Shipment & { requestHash?: string } => {
  const { PK: _pk, SK: _sk, type: _type, GSI1PK: _g1, GSI1SK: _g1s, ...rest } = item;
  return rest as unknown as Shipment & { requestHash?: string };
};

/** The transaction item that records a new shipment (only if its id is new). */
export const shipmentPut = (s: Shipment, requestHash: string) => ({
  Put: {
    TableName: tableName(),
    Item: {
      ...shipmentKey(s.shipmentId),
      type: 'shipment',
      ...s,
      requestHash,
      GSI1PK: `BATCH#${s.batchId}#SHIPMENTS`,
      GSI1SK: `${s.createdAt}#${s.shipmentId}`,
    },
    ConditionExpression: 'attribute_not_exists(PK)',
  },
});

/** A batch's lots, oldest first (GSI1: `BATCH#<id>#SHIPMENTS`); a batch ships a handful, so one list holds them all. */
export const listShipmentsForBatch = async (batchId: string): Promise<Shipment[]> => {
  const found: Shipment[] = [];
  let start: Record<string, unknown> | undefined;
  do {
    const out = await ddb.send(
      new QueryCommand({
        TableName: tableName(),
        IndexName: 'GSI1',
        KeyConditionExpression: 'GSI1PK = :pk',
        ExpressionAttributeValues: { ':pk': `BATCH#${batchId}#SHIPMENTS` },
        ExclusiveStartKey: start,
      }),
    );
    for (const item of out.Items ?? []) {
      const { requestHash: _h, ...shipment } = fromItem(item);
      found.push(shipment);
    }
    start = out.LastEvaluatedKey;
  } while (start);
  return found;
};

export const getShipment = async (shipmentId: string, consistent = true) => {
  const out = await ddb.send(new GetCommand({ TableName: tableName(), Key: shipmentKey(shipmentId), ConsistentRead: consistent }));
  return out.Item ? fromItem(out.Item) : undefined;
};

/** SHIPPED → DELIVERED with its event, once; false when it was delivered already. */
export const markDelivered = async (shipmentId: string, now: Date, event: DomainEvent): Promise<boolean> => {
  try {
    await ddb.send(
      new TransactWriteCommand({
        TransactItems: [
          {
            Update: {
              TableName: tableName(),
              Key: shipmentKey(shipmentId),
              UpdateExpression: 'SET #status = :delivered, deliveredAt = :now',
              ConditionExpression: '#status = :shipped',
              ExpressionAttributeNames: { '#status': 'status' },
              ExpressionAttributeValues: { ':delivered': 'DELIVERED', ':shipped': 'SHIPPED', ':now': now.toISOString() },
            },
          },
          outboxPut(event),
        ],
      }),
    );
    return true;
  } catch (err) {
    if (cancellation(err)?.codes[0] === 'ConditionalCheckFailed') return false;
    throw err;
  }
};
