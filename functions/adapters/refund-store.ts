import { DeleteCommand, PutCommand, QueryCommand } from '@aws-sdk/lib-dynamodb';
import { tableName } from '#shared/config.ts';
import type { RefundReason } from '#domain/refunds.ts';
import { ddb, decodeCursor, encodeCursor, type TransactItem } from './dynamo.ts';

/**
 * The refunds the platform still owes, for it to reconcile against
 * (`GET /v1/payments/refunds?status=REQUESTED`): one small item per refund,
 * put when its `refund.requested` goes out (outbox.ts) and deleted in the
 * transaction that records its confirmation (preorder-store.ts). The refund
 * itself stays its pre-order's timeline entry (decision 36); this is its
 * entry in a to-do list, read oldest first.
 *
 * Keys: PK=REFUNDS#OWED#<0..7> (spread by refund id) SK=<requestedAt>#<refundId>
 *
 * A marker can outlive its refund's confirmation only when a redelivered
 * announcement read the refund before it was confirmed and put the marker
 * after: the listing reads each listed refund's pre-order and drops (and
 * deletes) those confirmed.
 */
const shards = 8;

export interface RefundOwed {
  readonly refundId: string;
  readonly preorderId: string;
  readonly campaignId: string;
  readonly amount: number;
  readonly currency: string;
  readonly reason: RefundReason;
  readonly requestedAt: string;
  readonly paymentRef?: string;
}

const shardOf = (refundId: string) => [...refundId].reduce((h, ch) => (h * 31 + ch.charCodeAt(0)) >>> 0, 7) % shards;
const owedKey = (r: Pick<RefundOwed, 'refundId' | 'requestedAt'>) => ({ PK: `REFUNDS#OWED#${shardOf(r.refundId)}`, SK: `${r.requestedAt}#${r.refundId}` });

/**
 * Puts the markers of refunds being announced (the same item however often: a redelivery
 * writes it again). One PutItem each, not BatchWriteItem: every function that publishes
 * refunds may put them, and only intake is granted BatchWriteItem (lib/topology.ts).
 */
export const putRefundsOwed = async (refunds: readonly RefundOwed[]): Promise<void> => {
  await Promise.all(refunds.map((r) => ddb.send(new PutCommand({ TableName: tableName(), Item: { ...owedKey(r), type: 'refund-owed', ...r } }))));
};

/** The marker's delete, for the transaction that records the refund's confirmation. */
export const refundOwedDelete = (r: Pick<RefundOwed, 'refundId' | 'requestedAt'>): TransactItem => ({ Delete: { TableName: tableName(), Key: owedKey(r) } });

export const deleteRefundOwed = async (r: Pick<RefundOwed, 'refundId' | 'requestedAt'>): Promise<void> => {
  await ddb.send(new DeleteCommand({ TableName: tableName(), Key: owedKey(r) }));
};

const sortKey = /^\d{4}-\d{2}-\d{2}T[^#]+#rf_[0-9a-z]{24}_\d{1,3}$/;

/** Refunds owed, oldest first, `limit` at a time; 'invalid-cursor' for a cursor this did not give out. */
export const listRefundsOwed = async (opts: { limit: number; cursor?: string | undefined }): Promise<{ items: RefundOwed[]; nextCursor: string | undefined } | 'invalid-cursor'> => {
  const start = decodeCursor(opts.cursor);
  if (start === 'invalid' || (start && !(typeof start.after === 'string' && sortKey.test(start.after)))) return 'invalid-cursor';
  const after = start ? String(start.after) : undefined;
  const pages = await Promise.all(
    Array.from({ length: shards }, (_, k) =>
      ddb.send(
        new QueryCommand({
          TableName: tableName(),
          // (A key condition takes no empty string: the first page has none.)
          KeyConditionExpression: after === undefined ? 'PK = :pk' : 'PK = :pk AND SK > :after',
          ExpressionAttributeValues: { ':pk': `REFUNDS#OWED#${k}`, ...(after !== undefined && { ':after': after }) },
          Limit: opts.limit,
        }),
      ),
    ),
  );
  const merged = pages.flatMap((p) => p.Items ?? []).sort((a, b) => String(a.SK).localeCompare(String(b.SK)));
  const taken = merged.slice(0, opts.limit);
  const more = merged.length > taken.length || pages.some((p) => p.LastEvaluatedKey !== undefined);
  const items = taken.map((i) => ({
    refundId: String(i.refundId),
    preorderId: String(i.preorderId),
    campaignId: String(i.campaignId),
    amount: Number(i.amount),
    currency: String(i.currency),
    reason: i.reason as RefundReason,
    requestedAt: String(i.requestedAt),
    ...(typeof i.paymentRef === 'string' && { paymentRef: i.paymentRef }),
  }));
  const last = taken.at(-1);
  return { items, nextCursor: more && last ? encodeCursor({ after: String(last.SK) }) : undefined };
};
