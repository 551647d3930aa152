import { GetCommand, QueryCommand } from '@aws-sdk/lib-dynamodb';
import * as z from 'zod';
import { tableName } from '#shared/config.ts';
import type { Parcel } from '#domain/parcels.ts';
import { ddb, transactWrite } from './dynamo.ts';
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
 * batch's `shipped` never disagree. Its per-buyer parcels live on it, written
 * whole under `parcelsVersion` (compare-and-set), so a set of parcels is never
 * half written and two requests at once are applied one after the other.
 */
const Line = z.object({ sku: z.string(), quantity: z.number().int() });
const StoredParcel = z.object({
  preorderId: z.string(),
  carrier: z.string(),
  trackingNumber: z.string(),
  attachedAt: z.string(),
  deliveredAt: z.string().optional(),
  labels: z.number().int().positive().optional(),
});
const ShipmentItem = z.object({
  shipmentId: z.string(),
  batchId: z.string(),
  campaignId: z.string(),
  factoryId: z.string(),
  status: z.enum(['SHIPPED', 'DELIVERED']),
  carrier: z.string(),
  trackingNumber: z.string(),
  items: z.array(Line),
  units: z.number().int(),
  createdAt: z.string(),
  deliveredAt: z.string().optional(),
  // Lots stored before the trace have none.
  allocations: z.array(z.object({ preorderId: z.string(), sku: z.string(), quantity: z.number().int() })).default([]),
  parcels: z.array(StoredParcel).default([]),
  parcelsVersion: z.number().int().default(0),
  requestHash: z.string().optional(),
});

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
  /** Per-buyer parcels the factory named (drop-shipping), in allocation order; [] when none. */
  readonly parcels: readonly Parcel[];
  /** Bumped by every change of `parcels`: the guard of the next one. */
  readonly parcelsVersion: number;
}

export const shipmentKey = (shipmentId: string) => ({ PK: `SHIPMENT#${shipmentId}`, SK: 'SHIPMENT' });

const fromItem = (item: Record<string, unknown>): Shipment & { requestHash?: string } => ShipmentItem.parse(item);

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
  const result = await transactWrite([
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
  ]);
  return result === 'done';
};

/** The parcels were changed since `read` was read (or the lot delivered): read again and decide again. */
const parcelsGuard = (read: Shipment) => ({
  condition: '(attribute_not_exists(parcelsVersion) OR parcelsVersion = :version)',
  values: { ':version': read.parcelsVersion },
});

/**
 * Replaces the lot's parcels with `parcels`, with their event, on condition that
 * neither they nor the lot's status changed since `read`; false when they did.
 */
export const saveParcels = async (read: Shipment, parcels: readonly Parcel[], event: DomainEvent): Promise<boolean> => {
  const guard = parcelsGuard(read);
  const result = await transactWrite([
    {
      Update: {
        TableName: tableName(),
        Key: shipmentKey(read.shipmentId),
        UpdateExpression: 'SET parcels = :parcels, parcelsVersion = :next',
        ConditionExpression: `#status = :shipped AND ${guard.condition}`,
        ExpressionAttributeNames: { '#status': 'status' },
        ExpressionAttributeValues: { ':parcels': parcels, ':next': read.parcelsVersion + 1, ':shipped': 'SHIPPED', ...guard.values },
      },
    },
    outboxPut(event),
  ]);
  return result === 'done';
};

/**
 * One parcel delivered: the lot's parcels as `parcels`, with its events; with
 * `lotDeliveredAt` the lot is DELIVERED too (its last parcel). Conditional like
 * saveParcels; false when the lot changed since `read`.
 */
export const saveParcelDelivered = async (
  read: Shipment,
  parcels: readonly Parcel[],
  events: readonly DomainEvent[],
  lotDeliveredAt?: string,
): Promise<boolean> => {
  const guard = parcelsGuard(read);
  const result = await transactWrite([
    {
      Update: {
        TableName: tableName(),
        Key: shipmentKey(read.shipmentId),
        UpdateExpression: `SET parcels = :parcels, parcelsVersion = :next${lotDeliveredAt ? ', #status = :delivered, deliveredAt = :at' : ''}`,
        ConditionExpression: `#status = :shipped AND ${guard.condition}`,
        ExpressionAttributeNames: { '#status': 'status' },
        ExpressionAttributeValues: {
          ':parcels': parcels,
          ':next': read.parcelsVersion + 1,
          ':shipped': 'SHIPPED',
          ...guard.values,
          ...(lotDeliveredAt && { ':delivered': 'DELIVERED', ':at': lotDeliveredAt }),
        },
      },
    },
    ...events.map(outboxPut),
  ]);
  return result === 'done';
};
