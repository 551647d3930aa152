import { randomUUID } from 'node:crypto';
import { UpdateCommand } from '@aws-sdk/lib-dynamodb';
import * as z from 'zod';
import { tableName } from '#shared/config.ts';
import { localeOf, stepOf, type BatchPageRef, type NotificationLease, type Preorder, type SentNotification } from '#domain/preorder.ts';
import { noticeOfEntry } from '#domain/notices.ts';
import { batchGetItems, ddb, isConditionFailure, writeItem } from './dynamo.ts';

/**
 * What a buyer has been told, kept apart from the pre-order: one small item per
 * pre-order, `PK=PREORDER#<id>  SK=NOTICES`, this module its only writer.
 *
 *   base    how many steps were recorded on the pre-order item before this
 *           item existed (set by the first claim, never changed after)
 *   count   how many timeline steps after those were sent
 *   sentAt  when each of them was sent, in timeline order
 *   lease   a flush's claim on the steps after `base + count` (flush.ts)
 *
 * Why apart (decision 28): a notification is two writes per step (claim, then
 * record). On the pre-order item each cost the item's size (1 KB and more) plus
 * a rewrite of both of its index entries (GSI1 and GSI3 project the whole
 * item): 6 write units a step, 20 of a pre-order's 36.6 on the way to a
 * released batch. Here the item stays far under 1 KB and has no index keys:
 * 1 unit a write, 2 a step.
 *
 * Nothing of a notice's text is stored twice: a step's notice is its timeline
 * entry rendered in the pre-order's locale (which never changes), so the
 * record keeps only when it went out. Pre-orders whose notifications were
 * recorded on the pre-order item (`notifications`, before this item) keep
 * those; this item counts on from them.
 */
export const noticesKey = (preorderId: string) => ({ PK: `PREORDER#${preorderId}`, SK: 'NOTICES' });

/** The sort key that marks the item among the pre-order's (a Query of its partition reads both). */
export const noticesSortKey = 'NOTICES';

const NoticesItem = z.object({
  base: z.number().int().nonnegative().optional(),
  count: z.number().int().nonnegative(),
  sentAt: z.array(z.string()),
  lease: z.object({ leaseId: z.string(), expiresAt: z.number() }).optional(),
});
export type NoticesRecord = z.infer<typeof NoticesItem>;

/** The stored item, parsed; a malformed one is an error here, not a wrong notification later. */
export const parseNotices = (item: Record<string, unknown> | undefined): NoticesRecord | undefined =>
  item === undefined ? undefined : NoticesItem.parse({ base: item.base, count: item.count, sentAt: item.sentAt ?? [], lease: item.lease });

/**
 * The pre-order as its buyer sees it: its notifications are those recorded on
 * it before this item (if any), then one per step this item counts, rendered
 * from the timeline. `notifiedCount` and `notifyLease` become this item's.
 */
export const withNotices = (p: Preorder, record: NoticesRecord | undefined): Preorder => {
  // Positions count from the base the first claim saw, even if a flush of the
  // code before this item (still running during a deploy) appended to the
  // pre-order's own list since: those steps are among the ones counted here.
  const legacy = (p.notifications ?? []).slice(0, record?.base ?? p.notifications?.length ?? 0);
  const sent: SentNotification[] = (record?.sentAt ?? []).flatMap((sentAt, k) => {
    const position = legacy.length + k;
    const entry = p.timeline[position];
    if (!entry) return [];
    const notice = noticeOfEntry(entry, localeOf(p));
    return [{ notificationId: `${p.preorderId}:${position + 1}`, at: entry.at, step: stepOf(entry), ...notice, sentAt }];
  });
  const { notifiedCount: _count, notifyLease: itemLease, ...rest } = p;
  // A claim the code before this item holds on the pre-order itself is honoured until it expires.
  const lease = record?.lease ?? (itemLease && itemLease.expiresAt > Date.now() ? itemLease : undefined);
  return {
    ...rest,
    notifications: [...legacy, ...sent],
    ...(record && { notifiedCount: record.count }),
    ...(lease && { notifyLease: lease }),
  };
};

/**
 * What a pre-order whose "accepted" intake told (acceptedOnIntake) has been
 * told while it has no notices item: that one step, when its ref says. The
 * first claim writes the item from it (claimNotifications), and counts on.
 */
export const toldOnIntake = (toldAt: string): NoticesRecord => ({ base: 0, count: 1, sentAt: [toldAt] });

/** The notice records of many pre-orders (100 keys a request, unprocessed keys retried), by pre-order id. */
export const readNotices = async (preorderIds: readonly string[]): Promise<Map<string, NoticesRecord>> =>
  new Map((await batchGetItems(tableName(), preorderIds.map(noticesKey))).map((item) => [String(item.PK).slice('PREORDER#'.length), parseNotices(item)!]));

/**
 * The guard of every write here: the count is the one read. No item yet reads
 * as count 0, or 1 for a pre-order whose "accepted" intake told (toldOnIntake);
 * an item once written is never removed, so "none yet" can only be that.
 */
const guard = (p: Preorder) => ({ condition: '(attribute_not_exists(#count) OR #count = :before)', before: p.notifiedCount ?? 0 });

/**
 * Claims the pre-order's unsent steps (those after the recorded count) for
 * `leaseMs`: only if nobody holds an unexpired claim and the item's count is
 * the one read (`itemCount`: less than the pre-order's count when pages of
 * its batches told steps since, foldBatchPages). The claim writes the count
 * and the times as read, those pages' steps included, so the item alone says
 * what was told from then on. Undefined when another flush got there first:
 * read again.
 */
export const claimNotifications = async (p: Preorder, leaseMs: number, now = Date.now(), itemCount = p.notifiedCount ?? 0): Promise<NotificationLease | undefined> => {
  const before = p.notifiedCount ?? 0;
  const base = (p.notifications?.length ?? 0) - before;
  const lease: NotificationLease = { leaseId: randomUUID(), expiresAt: now + leaseMs };
  try {
    await ddb.send(
      new UpdateCommand({
        TableName: tableName(),
        Key: noticesKey(p.preorderId),
        UpdateExpression: 'SET #lease = :lease, #count = :before, sentAt = :sentBefore, #base = if_not_exists(#base, :base), #type = :type',
        ConditionExpression: '(attribute_not_exists(#lease) OR #lease.#expires < :now) AND (attribute_not_exists(#count) OR #count = :itemCount)',
        ExpressionAttributeNames: { '#lease': 'lease', '#expires': 'expiresAt', '#count': 'count', '#base': 'base', '#type': 'type' },
        ExpressionAttributeValues: {
          ':lease': lease,
          ':now': now,
          ':before': before,
          ':itemCount': itemCount,
          // Every step counted, as read: the item's, intake's "accepted" (as its ref says) and those pages of batches told.
          ':sentBefore': (p.notifications ?? []).slice(base).map((n) => n.sentAt),
          // The steps recorded on the pre-order item before (its `notifications`, as read).
          ':base': base,
          ':type': 'notices',
        },
      }),
    );
    return lease;
  } catch (err) {
    if (isConditionFailure(err)) return undefined;
    throw err;
  }
};

/**
 * Records steps as sent, after the channel took them, and gives the claim
 * back, in one write: on condition that the claim is still this one (so nobody
 * recorded any since), so each timeline step is recorded exactly once. False
 * when the claim had expired and another flush took it over.
 */
export const recordSent = async (p: Preorder, sentAt: readonly string[], lease: NotificationLease): Promise<boolean> => {
  const { condition, before } = guard(p);
  // Nothing else writes this item, but a write meeting a transaction on it must still record what was sent: writeItem retries it.
  const outcome = await writeItem(
    new UpdateCommand({
      TableName: tableName(),
      Key: noticesKey(p.preorderId),
      UpdateExpression: 'SET sentAt = list_append(sentAt, :sent), #count = :count REMOVE #lease',
      ConditionExpression: `#lease.#id = :leaseId AND ${condition}`,
      ExpressionAttributeNames: { '#lease': 'lease', '#id': 'leaseId', '#count': 'count' },
      ExpressionAttributeValues: { ':sent': sentAt, ':count': before + sentAt.length, ':leaseId': lease.leaseId, ':before': before },
    }),
  );
  return outcome === 'done';
};

/**
 * A page of a batch's members whose "batched" step was told together
 * (decision 34): `BATCHTOLD#<batchId> / PAGE#<page>`, written once, after the
 * channel took the page's notices, naming the members it told. Each member's
 * "batched" entry names its page (`toldBy`); until the page is written, a
 * flush leaves the member alone (nothing may go before that step), and once
 * it is, a member it names has that step told at `toldAt`, one it does not is
 * told by a flush as any step. A partition of its own, apart from the batch's:
 * getBatch reads that one whole.
 */
export const batchPageKey = (ref: BatchPageRef) => ({ PK: `BATCHTOLD#${ref.batchId}`, SK: `PAGE#${ref.page}` });

/** How many members a page holds: a page's item stays a few KB, and a resent page (a flush that died before writing it) is at most this many notices. */
export const batchPageSize = 100;

/** The page a member's "batched" step is told with: its place in the batch's plan, `batchPageSize` a page. */
export const batchPageOf = (plannedIndex: number): number => Math.floor(plannedIndex / batchPageSize);

const BatchPageItem = z.object({ toldAt: z.string().optional(), told: z.array(z.string()).optional() });

export interface BatchPageTold {
  readonly toldAt: string;
  readonly told: ReadonlySet<string>;
}

/** A page's name in maps of pages read: `<batchId>#<page>`. */
export const pageId = (ref: BatchPageRef) => `${ref.batchId}#${ref.page}`;

/** The pages written among `refs`, by `<batchId>#<page>` (absent: not told yet; a page only claimed is not told). */
export const readBatchPages = async (refs: readonly BatchPageRef[], consistent = false): Promise<Map<string, BatchPageTold>> => {
  const unique = [...new Map(refs.map((r) => [pageId(r), r])).values()];
  if (unique.length === 0) return new Map();
  const items = await batchGetItems(tableName(), unique.map(batchPageKey), consistent);
  return new Map(
    items.flatMap((item) => {
      const { toldAt, told } = BatchPageItem.parse(item);
      if (toldAt === undefined) return [];
      return [[`${String(item.PK).slice('BATCHTOLD#'.length)}#${String(item.SK).slice('PAGE#'.length)}`, { toldAt, told: new Set(told ?? []) }] as const];
    }),
  );
};

/**
 * Claims a page for `leaseMs` before its notices go out, so two notifiers of
 * one batch (a redelivered event while the first still runs) do not both send
 * it: only if it is not written and nobody holds an unexpired claim.
 * Undefined when it is written or claimed.
 */
export const claimBatchPage = async (ref: BatchPageRef, leaseMs: number, now = Date.now()): Promise<NotificationLease | undefined> => {
  const lease: NotificationLease = { leaseId: randomUUID(), expiresAt: now + leaseMs };
  const outcome = await writeItem(
    new UpdateCommand({
      TableName: tableName(),
      Key: batchPageKey(ref),
      UpdateExpression: 'SET #lease = :lease, #type = :type, batchId = :b, page = :p',
      ConditionExpression: 'attribute_not_exists(toldAt) AND (attribute_not_exists(#lease) OR #lease.#expires < :now)',
      ExpressionAttributeNames: { '#lease': 'lease', '#expires': 'expiresAt', '#type': 'type' },
      ExpressionAttributeValues: { ':lease': lease, ':now': now, ':type': 'batch-page', ':b': ref.batchId, ':p': ref.page },
    }),
  );
  return outcome === 'done' ? lease : undefined;
};

/**
 * Writes a page once, after the channel took its notices, naming whom it
 * told, and gives the claim back: on condition the claim is still this one.
 * False when it had expired and another took the page over (which sends it
 * again under the same ids, as after a crash).
 */
export const recordBatchPage = async (ref: BatchPageRef, told: readonly string[], toldAt: string, lease: NotificationLease): Promise<boolean> =>
  (await writeItem(
    new UpdateCommand({
      TableName: tableName(),
      Key: batchPageKey(ref),
      UpdateExpression: 'SET toldAt = :at, told = :told REMOVE #lease',
      ConditionExpression: '#lease.#id = :leaseId',
      ExpressionAttributeNames: { '#lease': 'lease', '#id': 'leaseId' },
      ExpressionAttributeValues: { ':at': toldAt, ':told': told, ':leaseId': lease.leaseId },
    }),
  )) === 'done';

/**
 * A page nobody was told with (a cut given up, never released): each member's
 * "batched" goes out as any step does. Repeating it changes nothing.
 */
export const recordPageUntold = async (ref: BatchPageRef, at: string): Promise<void> => {
  await writeItem(
    new UpdateCommand({
      TableName: tableName(),
      Key: batchPageKey(ref),
      UpdateExpression: 'SET toldAt = if_not_exists(toldAt, :at), told = if_not_exists(told, :none), #type = :type, batchId = :b, page = :p',
      ExpressionAttributeNames: { '#type': 'type' },
      ExpressionAttributeValues: { ':at': at, ':none': [], ':type': 'batch-page', ':b': ref.batchId, ':p': ref.page },
    }),
  );
};

/** The pages a pre-order's unsent steps may wait on: those its entries from `position` on name. */
export const pagesAhead = (p: Pick<Preorder, 'timeline'>, position: number): BatchPageRef[] =>
  p.timeline.slice(position).flatMap((e) => (e.toldBy ? [e.toldBy] : []));

/**
 * What the buyer was told, with the steps pages of batches told folded in:
 * from the first unsent step on, each "batched" entry whose page names this
 * pre-order counts as sent at the page's time. `awaitingBatch` when the first
 * unsent step is one whose page is not written yet: a flush leaves the
 * pre-order alone until it is. `itemCount` is the count on the item as read,
 * the guard of the next claim.
 */
export const foldBatchPages = (
  p: Pick<Preorder, 'preorderId' | 'timeline' | 'notifications'>,
  record: NoticesRecord | undefined,
  pages: ReadonlyMap<string, BatchPageTold>,
): { record: NoticesRecord | undefined; itemCount: number; awaitingBatch: boolean } => {
  const itemCount = record?.count ?? 0;
  const legacy = record?.base ?? p.notifications?.length ?? 0;
  const told: string[] = [];
  const folded = () => (told.length === 0 ? record : { ...record, base: legacy, count: itemCount + told.length, sentAt: [...(record?.sentAt ?? []), ...told] });
  for (;;) {
    const entry = p.timeline[legacy + itemCount + told.length];
    if (!entry?.toldBy) break;
    const page = pages.get(pageId(entry.toldBy));
    if (!page) return { record: folded(), itemCount, awaitingBatch: true };
    if (!page.told.has(p.preorderId)) break;
    told.push(page.toldAt);
  }
  return { record: folded(), itemCount, awaitingBatch: false };
};
