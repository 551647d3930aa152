import { GetCommand, QueryCommand, UpdateCommand } from '@aws-sdk/lib-dynamodb';
import { log } from '#shared/observability.ts';
import { tableName } from '#shared/config.ts';
import { planCapTakes, type Campaign } from '#domain/campaign.ts';
import type { GateTake, Preorder, TimelineEntry } from '#domain/preorder.ts';
import { CampaignCapReachedError, CampaignNotOpenError, OverloadedError, PurchaseLimitReachedError, ServiceUnavailableError } from '#domain/errors.ts';
import { batchGetItems, batchWriteItems, ddb, decodeCursor, encodeCursor, failedAt, guardedTransact, isConditionFailure, transactWrite, type TransactItem } from './dynamo.ts';
import { campaignKey, gateKey, readGates, variantSlot } from './campaign-store.ts';
import { outboxPut } from './outbox.ts';
import { freeUnitsPart, takeUnitsPart } from './buyer-limit-store.ts';
import type { DomainEvent } from './event-bus.ts';
import { foldBatchPages, noticesSortKey, pageId, pagesAhead, parseNotices, readBatchPages, readNotices, toldOnIntake, withNotices, type BatchPageTold, type NoticesRecord } from './notice-store.ts';
import { parseStoredPreorderItem } from './stored-items.ts';
import { awaitsBalance, paidOf } from '#domain/payment.ts';
import { stillHeld } from '#domain/pricing.ts';

/**
 * The pre-order entity.
 *
 * Keys:
 *   PK=PREORDER#<id>  SK=PREORDER
 *   GSI3PK=WAIT#<campaignId>#<gate shard>  GSI3SK=<createdAt>#<id>
 *                            (sparse: while ACCEPTED; the batch cutter reads it oldest first)
 *
 * A pre-order is written in one transaction with the gate item(s) it draws from:
 * the gate's per-sku `ordered` counter (demand, counted exactly once because it
 * commits or fails with the pre-order itself) and, for capped campaigns, its
 * `remaining` units (no oversell: the condition `remaining >= units` is checked
 * by DynamoDB, not by us).
 */
export const preorderKey = (preorderId: string) => ({ PK: `PREORDER#${preorderId}`, SK: 'PREORDER' });

type Item = Record<string, unknown>;

/** The pre-order item. What the buyer was told is never on it (notice-store.ts), whatever `p` carries. */
export const toItem = ({ notifications: _told, notifiedCount: _count, notifyLease: _lease, ...p }: Preorder, requestHash: string): Item => ({
  ...preorderKey(p.preorderId),
  type: 'preorder',
  ...p,
  requestHash,
  ...(p.status === 'ACCEPTED' && {
    GSI3PK: (awaitsBalance(p) ? owingPartition : waitingPartition)(p.campaignId, p.gateTakes[0]?.shard ?? 0),
    GSI3SK: `${p.createdAt}#${p.preorderId}`,
  }),
});

/** The waiting-index partition of a campaign's gate shard: waiting pre-orders spread like the gates. */
export const waitingPartition = (campaignId: string, shard: number) => `WAIT#${campaignId}#${shard}`;
/**
 * The same index's partition of a deposit campaign's pre-orders whose balance
 * is not paid (domain/payment.ts): listed for the balance call and the forfeit
 * at its deadline, never read by a cut. Paying moves a pre-order to its
 * waiting partition, keeping its sort key: its place in line is its order time.
 */
export const owingPartition = (campaignId: string, shard: number) => `OWE#${campaignId}#${shard}`;

/**
 * A campaign's pre-orders, for its anchor's list: one small item per pre-order,
 * `PK=ORDERS#<campaignId>#<gate shard>  SK=<createdAt>#<preorderId>`, written by
 * intake from the table's stream (putOrderRefs; in the placement transaction
 * before decision 28) and never changed. Apart from the pre-order item
 * (not an index entry on it) so that the pre-order stays under 1 KB: every one of
 * its many later writes, and each index entry's, costs per started KB.
 * Partitioned like the gates, so a burst on one campaign is spread the same way.
 *
 * It also carries the buyer's index entry (`GSI1PK=BUYER#<buyerId>`,
 * `GSI1SK=<createdAt>#<id>`, a buyer's pre-orders newest first): on the pre-order
 * item, whose index projection is the whole item, every change of the pre-order
 * (batched, in production, shipped, delivered...) rewrote that entry at the item's
 * size; on a ref that never changes it is written once, small (decision 28).
 * Pre-orders placed before that keep the entry on their own item.
 */
export const orderRefKey = (campaignId: string, shard: number, createdAt: string, preorderId: string) => ({
  PK: `ORDERS#${campaignId}#${shard}`,
  SK: `${createdAt}#${preorderId}`,
});
/** What a placed pre-order's order ref is made of; `toldAt` when intake told its buyer it was accepted (acceptedOnIntake). */
export type PlacedRef = Pick<Preorder, 'campaignId' | 'preorderId' | 'buyerId' | 'createdAt' | 'gateTakes'> & { readonly toldAt?: string };

/**
 * The order ref of a placed pre-order: the same item however often it is
 * written, but for `toldAt`, the time its "accepted" step went to the buyer
 * (a redelivered stream batch tells it again, under the same notification id,
 * and the ref says when it last went).
 */
export const orderRefItem = (p: PlacedRef): Item => ({
  ...orderRefKey(p.campaignId, p.gateTakes[0]?.shard ?? 0, p.createdAt, p.preorderId),
  type: 'order-ref',
  campaignId: p.campaignId,
  preorderId: p.preorderId,
  GSI1PK: buyerPartition(p.buyerId),
  GSI1SK: `${p.createdAt}#${p.preorderId}`,
  ...(p.toldAt !== undefined && { toldAt: p.toldAt }),
});

/**
 * Lists placed pre-orders for their buyer and campaign: their order refs, 25 a
 * BatchWriteItem. Written by intake from the table's stream, not by the
 * placement (decision 28): a ref is derived from the pre-order and never
 * changes, so a redelivered stream batch writes the same items again, and
 * nothing is listed twice.
 */
export const putOrderRefs = (placed: readonly PlacedRef[]): Promise<void> => batchWriteItems(tableName(), placed.map(orderRefItem));

/** When intake told the pre-order's buyer it was accepted (its order ref's `toldAt`), if it has. */
const readToldAt = async (p: Pick<Preorder, 'campaignId' | 'preorderId' | 'createdAt' | 'gateTakes'>): Promise<string | undefined> => {
  const out = await ddb.send(
    new GetCommand({
      TableName: tableName(),
      Key: orderRefKey(p.campaignId, p.gateTakes[0]?.shard ?? 0, p.createdAt, p.preorderId),
      ConsistentRead: true,
      ProjectionExpression: 'toldAt',
    }),
  );
  return typeof out.Item?.toldAt === 'string' ? out.Item.toldAt : undefined;
};

const buyerPartition = (buyerId: string) => `BUYER#${buyerId}`;

/** The pre-order as stored, parsed (stored-items.ts): an item that is not one fails here, naming its key and field. */
export const fromItem = (item: Item): Preorder & { requestHash: string } => parseStoredPreorderItem(item);

const maxAttempts = 8;

/**
 * The gate update for one take: the first take carries the per-sku counter, and
 * on capped campaigns every take moves `remaining` (down to place, up to cancel).
 */
const gateAdd = (counter: 'ordered' | 'cancelled', first: boolean, capped: boolean, unpaid = false): string => {
  const adds = [
    first ? `${counter}.#slot :q` : undefined,
    capped ? `remaining ${counter === 'ordered' ? ':take' : ':units'}` : undefined,
    // A deposit pre-order's units are unpaid from its placement until its balance is paid or it is cancelled.
    unpaid ? `unpaid.#slot ${counter === 'ordered' ? ':q' : ':unq'}` : undefined,
  ];
  return `ADD ${adds.filter(Boolean).join(', ')}`;
};

/** Recently seen "no room anywhere" per campaign, so a sold-out burst is refused without re-reading every gate. */
const soldOut = new Map<string, { until: number; remaining: number }>();
const soldOutMemoMs = 1_000;

export type PlaceResult =
  | { placed: true; preorder: Preorder }
  | { placed: false; existing: Preorder & { requestHash: string } };

/**
 * Places the pre-order. Throws CampaignNotOpenError when the gates are closed and
 * CampaignCapReachedError when the cap cannot hold the quantity. When the id
 * already exists (same Idempotency-Key) nothing is written and the stored
 * pre-order is returned for the caller to compare.
 */
export const placePreorder = async (
  build: (takes: GateTake[]) => Preorder,
  campaign: Pick<Campaign, 'campaignId' | 'gateShards' | 'maxTotalQuantity' | 'maxPerBuyer' | 'status' | 'variants'>,
  quantity: number,
  requestHash: string,
  /** Looks up an earlier pre-order with the same id, so a retry is not refused by the sold-out memo. */
  findExisting?: () => Promise<(Preorder & { requestHash: string }) | undefined>,
): Promise<PlaceResult> => {
  const capped = campaign.maxTotalQuantity !== undefined;
  const memo = soldOut.get(campaign.campaignId);
  if (capped && memo && memo.until > Date.now() && memo.remaining < quantity) {
    const existing = await findExisting?.();
    if (existing) return { placed: false, existing };
    throw new CampaignCapReachedError(campaign.campaignId, memo.remaining);
  }
  let takes: GateTake[] = [{ shard: Math.floor(Math.random() * campaign.gateShards), units: quantity }];
  // One budget of tries for the placement, whether they met contention (retried inside) or a full gate (planned again here).
  let tries = 0;
  for (;;) {
    if (tries >= maxAttempts) throw new OverloadedError();
    let preorder = build(takes);
    const why = await transactWrite((attempt) => {
      tries++;
      // After a conflict (a transaction on the same gate at that moment) or throttling, another gate: the cap is still the gate's condition.
      if (attempt > 0 && takes.length === 1) {
        takes = [{ shard: Math.floor(Math.random() * campaign.gateShards), units: quantity }];
        preorder = build(takes);
      }
      return [
        {
          Put: {
            TableName: tableName(),
            Item: toItem(preorder, requestHash),
            ConditionExpression: 'attribute_not_exists(PK)',
          },
        },
        ...takes.map((take, i) => ({
          Update: {
            TableName: tableName(),
            Key: gateKey(campaign.campaignId, take.shard),
            UpdateExpression: gateAdd('ordered', i === 0, capped, i === 0 && awaitsBalance(preorder)),
            ConditionExpression: capped ? '#open = :true AND remaining >= :units' : '#open = :true',
            ExpressionAttributeNames: { '#open': 'open', ...(i === 0 && { '#slot': variantSlot(campaign, preorder.sku) }) },
            ExpressionAttributeValues: {
              ':true': true,
              ...(i === 0 && { ':q': preorder.quantity }),
              ...(capped && { ':take': -take.units, ':units': take.units }),
            },
            ReturnValuesOnConditionCheckFailure: 'ALL_OLD' as const,
          },
        })),
        ...takeUnitsPart(campaign, preorder.buyerId, preorder.quantity),
      ];
    }, { maxAttempts: maxAttempts - tries });
    if (why === 'done') return { placed: true, preorder };
    if (failedAt(why, 0)) {
      const existing = await getPreorder(preorder.preorderId, true);
      if (existing) return { placed: false, existing };
    }
    const limitAt = 1 + takes.length;
    if (campaign.maxPerBuyer !== undefined && failedAt(why, limitAt)) {
      const held = why.items[limitAt]?.units;
      throw new PurchaseLimitReachedError(campaign.maxPerBuyer, typeof held === 'number' ? held : 0);
    }
    if (tries >= maxAttempts) throw new OverloadedError();
    const closedGate = why.items.slice(1, limitAt).some((item) => item && item.open !== true);
    if (closedGate) throw new CampaignNotOpenError(campaign.campaignId, 'CLOSED');
    // The chosen gate has no room left: look at all of them and pick again.
    const gates = await readGates(campaign, true);
    if (gates.some((g) => !g.open)) throw new CampaignNotOpenError(campaign.campaignId, 'CLOSED');
    const remaining = gates.map((g) => g.remaining ?? 0);
    const plan = planCapTakes(remaining, quantity);
    if (!plan) {
      const total = remaining.reduce((a, b) => a + b, 0);
      soldOut.set(campaign.campaignId, { until: Date.now() + soldOutMemoMs, remaining: total });
      throw new CampaignCapReachedError(campaign.campaignId, total);
    }
    takes = plan;
  }
};

export const getPreorder = async (preorderId: string, consistent = false) => {
  const out = await ddb.send(new GetCommand({ TableName: tableName(), Key: preorderKey(preorderId), ConsistentRead: consistent }));
  return out.Item ? fromItem(out.Item) : undefined;
};

/**
 * The pre-order with what its buyer was told (`notifications`, and the notices
 * item's count and claim): one Query of its partition reads the pre-order item
 * and its notices item (notice-store.ts) together, for the read units of the
 * pre-order alone. What the buyer API shows and what a flush works from.
 */
export const getPreorderWithNotices = async (
  preorderId: string,
  consistent = false,
  /** When intake told the pre-order's "accepted", if the caller knows (intake does): saves reading its ref. */
  opts: { readonly toldAt?: string; readonly pages?: KnownPages } = {},
) => {
  const out = await ddb.send(
    new QueryCommand({
      TableName: tableName(),
      KeyConditionExpression: 'PK = :pk',
      ExpressionAttributeValues: { ':pk': preorderKey(preorderId).PK },
      ConsistentRead: consistent,
    }),
  );
  const items = out.Items ?? [];
  const item = items.find((i) => i.SK === preorderKey(preorderId).SK);
  if (!item) return undefined;
  const { requestHash, ...p } = fromItem(item);
  const stored = parseNotices(items.find((i) => i.SK === noticesSortKey));
  if (!stored && p.acceptedOnIntake) {
    // Nothing recorded yet: its "accepted" step is intake's to tell, and its ref says whether it has.
    const toldAt = opts.toldAt ?? (await readToldAt(p));
    if (toldAt === undefined) return { ...withNotices(p, undefined), requestHash, noticesItemCount: 0, awaitingIntake: true as const };
    return { ...(await withBatchPages(p, toldOnIntake(toldAt), consistent, opts.pages)), requestHash };
  }
  return { ...(await withBatchPages(p, stored, consistent, opts.pages)), requestHash };
};

/** Pages of a batch a caller read already (by `<batchId>#<page>`; null: not written), so each member's read need not read them again. */
export type KnownPages = ReadonlyMap<string, BatchPageTold | null>;

/**
 * The pre-order with what its buyer was told, steps told with a page of their
 * batch folded in (notice-store.ts, foldBatchPages): the pages its unsent
 * entries name are read only when there are any. `noticesItemCount` is the
 * item's own count, the guard of a claim; `awaitingBatch` when the next step
 * waits for its page.
 */
const withBatchPages = async (p: Preorder, record: NoticesRecord | undefined, consistent: boolean, known: KnownPages = new Map()) => {
  const position = (record?.base ?? p.notifications?.length ?? 0) + (record?.count ?? 0);
  const unknown = pagesAhead(p, position).filter((ref) => !known.has(pageId(ref)));
  const pages = new Map([...known].flatMap(([k, v]) => (v ? [[k, v] as const] : [])));
  if (unknown.length > 0) for (const [k, v] of await readBatchPages(unknown, consistent)) pages.set(k, v);
  const folded = foldBatchPages(p, record, pages);
  return { ...withNotices(p, folded.record), noticesItemCount: folded.itemCount, ...(folded.awaitingBatch && { awaitingBatch: true as const }) };
};

/** Many pre-orders by id, strongly consistent (100 keys a request, unprocessed keys retried). */
export const getPreorders = async (ids: readonly string[]): Promise<Preorder[]> =>
  (await batchGetItems(tableName(), ids.map(preorderKey), true)).map(fromItem);

/**
 * A page of the buyer's index (GSI1), newest first, below `before`: each entry
 * as the pre-order's id and campaign, with the pre-order itself when the entry
 * is on an older pre-order's own item (see orderRefKey).
 */
const buyerIndexPage = async (buyerId: string, before: string, limit: number) => {
  const out = await ddb.send(
    new QueryCommand({
      TableName: tableName(),
      IndexName: 'GSI1',
      KeyConditionExpression: 'GSI1PK = :pk AND GSI1SK < :before',
      ExpressionAttributeValues: { ':pk': buyerPartition(buyerId), ':before': before },
      ScanIndexForward: false,
      Limit: limit,
    }),
  );
  const entries = (out.Items ?? []).map((item) => {
    const sortKey = String(item.GSI1SK);
    if (item.type === 'order-ref') {
      return { sortKey, preorderId: String(item.preorderId), campaignId: String(item.campaignId), ...(typeof item.toldAt === 'string' && { toldAt: item.toldAt }) };
    }
    const p = fromItem(item);
    return { sortKey, preorderId: p.preorderId, campaignId: p.campaignId, preorder: p as Preorder };
  });
  return { entries, more: out.LastEvaluatedKey !== undefined };
};

/**
 * The pre-orders the entries name, in their order, without what their buyers
 * were told (one BatchGetItem): the anchor's list. Apart from resolveEntries so
 * that a function listing for anchors does not bundle the notices' texts.
 */
const resolvePreorders = async (entries: readonly { preorderId: string; preorder?: Preorder }[]): Promise<Preorder[]> => {
  const fetched = new Map((await getPreorders(entries.filter((e) => !e.preorder).map((e) => e.preorderId))).map((p) => [p.preorderId, p]));
  return entries.flatMap((e) => {
    const p = e.preorder ?? fetched.get(e.preorderId);
    return p ? [p] : [];
  });
};

/** The pre-orders the entries name, in their order, each with what the buyer was told (one BatchGetItem of each kind). */
const resolveEntries = async (entries: readonly { preorderId: string; preorder?: Preorder; toldAt?: string }[]): Promise<Preorder[]> => {
  const fetched = new Map((await getPreorders(entries.filter((e) => !e.preorder).map((e) => e.preorderId))).map((p) => [p.preorderId, p]));
  const notices = await readNotices(entries.map((e) => e.preorderId));
  const listed = entries.flatMap((e) => {
    const p = e.preorder ?? fetched.get(e.preorderId);
    if (!p) return [];
    // A pre-order whose "accepted" intake told, and nothing since: its ref (this entry) says when.
    const record = notices.get(p.preorderId) ?? (p.acceptedOnIntake && e.toldAt !== undefined ? toldOnIntake(e.toldAt) : undefined);
    return [{ p, record }];
  });
  // Steps told with a page of their batch: the pages the listed pre-orders' unsent entries name, one BatchGetItem.
  const position = (x: (typeof listed)[number]) => (x.record?.base ?? x.p.notifications?.length ?? 0) + (x.record?.count ?? 0);
  const pages = await readBatchPages(listed.flatMap((x) => pagesAhead(x.p, position(x))));
  return listed.map(({ p, record }) => withNotices(p, foldBatchPages(p, record, pages).record));
};

const buyerSortKey = /^\d{4}-\d{2}-\d{2}T[^#]+#po_[0-9a-z]{24}$/;

/** A page of one buyer's pre-orders, newest first, each with what the buyer was told. The cursor is the last sort key. */
export const listPreordersForBuyer = async (
  buyerId: string,
  limit: number,
  cursor: string | undefined,
): Promise<{ items: Preorder[]; nextCursor: string | undefined } | 'invalid-cursor'> => {
  const start = decodeCursor(cursor);
  if (start === 'invalid' || (start && !(typeof start.GSI1SK === 'string' && buyerSortKey.test(start.GSI1SK)))) return 'invalid-cursor';
  const page = await buyerIndexPage(buyerId, start ? String(start.GSI1SK) : '\uffff', limit);
  const last = page.entries.at(-1);
  return { items: await resolveEntries(page.entries), nextCursor: page.more && last ? encodeCursor({ GSI1SK: last.sortKey }) : undefined };
};

const orderSortKey = /^\d{4}-\d{2}-\d{2}T[^#]+#po_[0-9a-z]{24}$/;

/**
 * A page of a campaign's pre-orders, newest first, optionally of one status or
 * one buyer. The campaign's order refs sit in one partition per gate shard; a
 * page merges the shards' newest (reading each a little ahead, refilling only
 * the one the merge used up), reads the pre-orders it reaches in that order and
 * keeps those of the status asked for. The cursor is the sort key of the last
 * pre-order examined: the next page is everything older, on every shard. A page
 * examines at most `readBudget` pre-orders (a rare status among many): it may
 * then come back short, even empty, with a cursor to go on. One buyer's are read
 * from the buyer's own index partition (GSI1), filtered to the campaign.
 */
export const listPreordersForCampaign = async (
  c: Pick<Campaign, 'campaignId' | 'gateShards'>,
  opts: {
    limit: number;
    status?: Preorder['status'] | undefined;
    buyerId?: string | undefined;
    cursor?: string | undefined;
    /** Pre-orders one page may examine before it answers, short if need be, with a cursor. @default max(1000, 4 × limit) */
    readBudget?: number;
  },
): Promise<{ items: Preorder[]; nextCursor: string | undefined } | 'invalid-cursor'> => {
  const start = decodeCursor(opts.cursor);
  if (start === 'invalid' || (start && !(typeof start.before === 'string' && orderSortKey.test(start.before)))) return 'invalid-cursor';
  const before = start ? String(start.before) : '\uffff';
  const budget = opts.readBudget ?? Math.max(1000, opts.limit * 4);
  if (opts.buyerId !== undefined) return pageOfBuyerInCampaign(c.campaignId, opts.buyerId, before, opts.limit, opts.status, budget);

  type Stream = { pk: string; buffer: string[]; next: Item | undefined; done: boolean };
  const streams: Stream[] = Array.from({ length: c.gateShards }, (_, k) => ({
    pk: orderRefKey(c.campaignId, k, '', '').PK,
    buffer: [],
    next: undefined,
    done: false,
  }));
  const ahead = Math.max(2, Math.ceil((opts.limit * (opts.status ? 3 : 1.2)) / streams.length));
  const refill = async (s: Stream) => {
    if (s.buffer.length > 0 || s.done) return;
    const out = await ddb.send(
      new QueryCommand({
        TableName: tableName(),
        KeyConditionExpression: 'PK = :pk AND SK < :before',
        ExpressionAttributeValues: { ':pk': s.pk, ':before': before },
        ScanIndexForward: false,
        Limit: ahead,
        ...(s.next && { ExclusiveStartKey: s.next }),
      }),
    );
    s.buffer.push(...(out.Items ?? []).map((i) => String(i.SK)));
    s.next = out.LastEvaluatedKey;
    s.done = s.next === undefined;
  };
  /** The next `n` sort keys of the merge, newest first. */
  const nextKeys = async (n: number): Promise<string[]> => {
    const keys: string[] = [];
    while (keys.length < n) {
      await Promise.all(streams.map(refill));
      let best: Stream | undefined;
      for (const s of streams) if (s.buffer.length > 0 && (!best || s.buffer[0]! > best.buffer[0]!)) best = s;
      if (!best) break;
      keys.push(best.buffer.shift()!);
    }
    return keys;
  };
  const items: Preorder[] = [];
  let examined = 0;
  let lastExamined: string | undefined;
  let exhausted = false;
  let leftover = false;
  while (items.length < opts.limit && examined < budget) {
    const want = Math.min(100, budget - examined, opts.status ? Math.max(opts.limit - items.length, 25) : opts.limit - items.length);
    const keys = await nextKeys(want);
    if (keys.length === 0) {
      exhausted = true;
      break;
    }
    const found = new Map((await getPreorders(keys.map((k) => k.slice(k.indexOf('#') + 1)))).map((p) => [p.preorderId, p]));
    for (const key of keys) {
      if (items.length >= opts.limit) {
        // Not examined: the next page starts with it.
        leftover = true;
        break;
      }
      examined++;
      lastExamined = key;
      const p = found.get(key.slice(key.indexOf('#') + 1));
      if (p && (opts.status === undefined || p.status === opts.status)) items.push(p);
    }
  }
  const more = leftover || (!exhausted && streams.some((s) => s.buffer.length > 0 || !s.done));
  return { items, nextCursor: more && lastExamined ? encodeCursor({ before: lastExamined }) : undefined };
};

/**
 * Every pre-order of the campaign, in no order, handed to `onPage` up to 100 at
 * a time: each order-ref partition read whole (ids only), its pre-orders read
 * 100 a BatchGetItem, eight partitions at once. For reports over the whole
 * campaign (attribution). Costs a read of every pre-order (about 0.5 read unit
 * each); pre-orders are listed once intake has read them (decision 28), a
 * second or so after their 202.
 */
export const forEachPreorderOfCampaign = async (
  c: Pick<Campaign, 'campaignId' | 'gateShards'>,
  onPage: (page: readonly Preorder[]) => void | Promise<void>,
  /** Epoch ms: past it, ServiceUnavailableError (503 with Retry-After) rather than the function's own timeout. */
  deadline = Infinity,
): Promise<void> => {
  const shards = Array.from({ length: c.gateShards }, (_, k) => k);
  const readShard = async (k: number) => {
    let start: Record<string, unknown> | undefined;
    do {
      if (Date.now() > deadline) throw new ServiceUnavailableError(`campaign ${c.campaignId} has more pre-orders than one request reads in time`, 30);
      const out = await ddb.send(
        new QueryCommand({
          TableName: tableName(),
          KeyConditionExpression: 'PK = :pk',
          ExpressionAttributeValues: { ':pk': orderRefKey(c.campaignId, k, '', '').PK },
          // The id from the sort key (`<createdAt>#<id>`): refs written before they carried `preorderId` have only their keys.
          ProjectionExpression: 'SK',
          ExclusiveStartKey: start,
          Limit: 100,
        }),
      );
      const ids = (out.Items ?? []).map((i) => String(i.SK).slice(String(i.SK).indexOf('#') + 1));
      if (ids.length > 0) {
        const page = await getPreorders(ids);
        // A ref is written after its pre-order and never without one: a miss would be a pre-order left out unseen.
        if (page.length !== ids.length) log().error('order refs without their pre-order', { campaignId: c.campaignId, refs: ids.length, found: page.length });
        await onPage(page);
      }
      start = out.LastEvaluatedKey;
    } while (start);
  };
  for (let i = 0; i < shards.length; i += 8) await Promise.all(shards.slice(i, i + 8).map(readShard));
};

/** One buyer's pre-orders in the campaign, from the buyer's GSI1 partition (small: one fan's orders). */
const pageOfBuyerInCampaign = async (
  campaignId: string,
  buyerId: string,
  before: string,
  limit: number,
  status: Preorder['status'] | undefined,
  budget: number,
): Promise<{ items: Preorder[]; nextCursor: string | undefined }> => {
  const items: Preorder[] = [];
  let read = 0;
  let from = before;
  for (;;) {
    const page = await buyerIndexPage(buyerId, from, Math.min(100, budget - read));
    const inCampaign = page.entries.filter((e) => e.campaignId === campaignId);
    // The anchor's view of a pre-order shows no notifications: none are read.
    const found = new Map((await resolvePreorders(inCampaign)).map((p) => [p.preorderId, p]));
    for (const e of page.entries) {
      if (items.length >= limit) return { items, nextCursor: encodeCursor({ before: from }) };
      read++;
      from = e.sortKey;
      const p = found.get(e.preorderId);
      if (p && (status === undefined || p.status === status)) items.push(p);
    }
    if (!page.more) return { items, nextCursor: undefined };
    if (items.length >= limit || read >= budget) return { items, nextCursor: encodeCursor({ before: from }) };
  }
};

/**
 * ACCEPTED → REFUNDED in one transaction with the gates: the units go back under
 * the cap and into `cancelled`, exactly once, because the pre-order's status
 * condition lets only one cancel commit. Returns false when the status no longer
 * allows it (or its refunds, or whether its balance is paid, changed since it was read).
 *
 * `forfeit`: a deposit pre-order whose balance was never paid, cancelled by its
 * buyer or past its deadline (domain/payment.ts): → CANCELLED, what was paid
 * (the deposit) kept as `forfeitedAmount`, nothing refunded. Only while the
 * fault is the buyer's: on condition that the campaign has not failed and the
 * pre-order's variant did not miss its minimum (the seller's faults, refunded).
 */
export const cancelPreorder = async (
  p: Preorder,
  entries: readonly TimelineEntry[],
  campaign: Pick<Campaign, 'campaignId' | 'variants' | 'maxTotalQuantity' | 'maxPerBuyer'>,
  now: Date,
  events: readonly DomainEvent[],
  outcome: 'refund' | 'forfeit' = 'refund',
): Promise<boolean> => {
  const capped = campaign.maxTotalQuantity !== undefined;
  const unpaid = awaitsBalance(p);
  if (outcome === 'forfeit' && !unpaid) throw new Error(`pre-order ${p.preorderId} has no unpaid balance: nothing to forfeit`);
  // Whether the balance is paid, as read: an unpaid pre-order's units leave the gate's `unpaid` too.
  const balanceAsRead = p.depositAmount === undefined ? '' : unpaid ? ' AND attribute_not_exists(balancePaidAt)' : ' AND attribute_exists(balancePaidAt)';
  return (await guardedTransact([
    {
      Update: {
        TableName: tableName(),
        Key: preorderKey(p.preorderId),
        UpdateExpression:
          outcome === 'refund'
            ? 'SET #status = :refunded, refundedAmount = :amount, updatedAt = :now, timeline = list_append(timeline, :entries) REMOVE GSI3PK, GSI3SK'
            : 'SET #status = :cancelled, forfeitedAmount = :kept, updatedAt = :now, timeline = list_append(timeline, :entries) REMOVE GSI3PK, GSI3SK',
        // On the refunds as read too: the entries say what this refund pays back (what is still held), and a price drop may not land in between.
        ConditionExpression: `#status = :accepted AND refundedAmount = :before${balanceAsRead}`,
        ExpressionAttributeNames: { '#status': 'status' },
        ExpressionAttributeValues: {
          ':accepted': 'ACCEPTED',
          ':before': p.refundedAmount,
          ':now': now.toISOString(),
          ':entries': entries,
          ...(outcome === 'refund' ? { ':refunded': 'REFUNDED', ':amount': paidOf(p) } : { ':cancelled': 'CANCELLED', ':kept': stillHeld(p) }),
        },
      },
    },
    ...p.gateTakes.map((take, i) => ({
      Update: {
        TableName: tableName(),
        Key: gateKey(p.campaignId, take.shard),
        UpdateExpression: gateAdd('cancelled', i === 0, capped, i === 0 && unpaid),
        ExpressionAttributeNames: i === 0 ? { '#slot': variantSlot(campaign, p.sku) } : undefined,
        ExpressionAttributeValues: {
          ...(i === 0 && { ':q': p.quantity }),
          ...(i === 0 && unpaid && { ':unq': -p.quantity }),
          ...(capped && { ':units': take.units }),
        },
      },
    })),
    ...freeUnitsPart(campaign, p.buyerId, p.quantity),
    ...(outcome === 'forfeit'
      ? [
          {
            ConditionCheck: {
              TableName: tableName(),
              Key: campaignKey(p.campaignId),
              ConditionExpression: '#status <> :failed AND (attribute_not_exists(variantsMissed) OR NOT contains(variantsMissed, :sku))',
              ExpressionAttributeNames: { '#status': 'status' },
              ExpressionAttributeValues: { ':failed': 'FAILED', ':sku': p.sku },
            },
          },
        ]
      : []),
    ...events.map(outboxPut),
  ])) === 'done';
};

/**
 * The price drop at close (domain/pricing.ts), on one pre-order: its final unit
 * price and the difference on the units it keeps refunded, with its timeline
 * entry and its `preorder.refunded` (outbox), once: conditional on no drop yet
 * and on the pre-order as it was read (status, variant, what was refunded), so
 * a refund racing it is either counted in or comes after at the new price.
 * 'stale' when it changed: read again, decide again.
 */
export const applyPriceDrop = async (
  p: Preorder,
  drop: { readonly finalUnitPrice: number; readonly amount: number },
  entry: TimelineEntry,
  events: readonly DomainEvent[],
  now: Date,
): Promise<'done' | 'stale'> =>
  (await guardedTransact([
    {
      Update: {
        TableName: tableName(),
        Key: preorderKey(p.preorderId),
        UpdateExpression: 'SET finalUnitPrice = :price, refundedAmount = :refunded, updatedAt = :now, timeline = list_append(timeline, :entries)',
        ConditionExpression: 'attribute_not_exists(finalUnitPrice) AND refundedAmount = :before AND #status = :was AND sku = :sku',
        ExpressionAttributeNames: { '#status': 'status' },
        ExpressionAttributeValues: {
          ':price': drop.finalUnitPrice,
          ':refunded': p.refundedAmount + drop.amount,
          ':before': p.refundedAmount,
          ':was': p.status,
          ':sku': p.sku,
          ':now': now.toISOString(),
          ':entries': [entry],
        },
      },
    },
    ...events.map(outboxPut),
  ])) === 'done'
    ? 'done'
    : 'stale';

/**
 * The buyer's new shipping address: one update of the pre-order, on condition
 * that it is as it was read (status, batch, no unit shipped, `updatedAt`), with
 * its timeline entry, its events (outbox) and `also` (for a batched pre-order:
 * that its batch is unchanged since the lots counted on it were looked at). So
 * a shipment racing the change is either seen first (and the change refused)
 * or comes after it. 'stale' when anything moved: read again, decide again.
 */
export const changeShippingAddress = async (
  p: Preorder,
  address: Preorder['shippingAddress'],
  entry: TimelineEntry,
  events: readonly DomainEvent[],
  also: readonly TransactItem[],
  now: Date,
): Promise<'done' | 'stale'> => {
  const sameBatch = p.batchId === undefined ? 'attribute_not_exists(batchId)' : 'batchId = :batch';
  const outcome = await transactWrite([
    {
      Update: {
        TableName: tableName(),
        Key: preorderKey(p.preorderId),
        UpdateExpression: 'SET shippingAddress = :address, updatedAt = :now, timeline = list_append(timeline, :entries)',
        ConditionExpression: `#status = :was AND updatedAt = :read AND ${sameBatch} AND (attribute_not_exists(shippedQuantity) OR shippedQuantity = :zero)`,
        ExpressionAttributeNames: { '#status': 'status' },
        ExpressionAttributeValues: {
          ':address': address,
          ':now': now.toISOString(),
          ':entries': [entry],
          ':was': p.status,
          ':read': p.updatedAt,
          ':zero': 0,
          ...(p.batchId !== undefined && { ':batch': p.batchId }),
        },
      },
    },
    ...also,
    ...events.map(outboxPut),
  ]);
  return outcome === 'done' ? 'done' : 'stale';
};

/**
 * Tells a waiting pre-order of a variant that missed its own minimum that it
 * may switch until `switchBy`: once (conditional on no offer yet), with its
 * timeline entry.
 */
export const offerSwitch = async (p: Preorder, switchBy: string, entry: TimelineEntry, now: Date): Promise<boolean> => {
  try {
    await ddb.send(
      new UpdateCommand({
        TableName: tableName(),
        Key: preorderKey(p.preorderId),
        UpdateExpression: 'SET switchBy = :by, updatedAt = :now, timeline = list_append(timeline, :entries)',
        ConditionExpression: '#status = :accepted AND sku = :sku AND attribute_not_exists(switchBy)',
        ExpressionAttributeNames: { '#status': 'status' },
        ExpressionAttributeValues: { ':by': switchBy, ':now': now.toISOString(), ':entries': [entry], ':accepted': 'ACCEPTED', ':sku': p.sku },
      }),
    );
    return true;
  } catch (err) {
    if (isConditionFailure(err)) return false;
    throw err;
  }
};

/**
 * Moves a waiting pre-order to another variant of its campaign, keeping its
 * place in line (its waiting-index key is its creation time, which does not
 * change) and its price. Its gate's `ordered` counter moves from one variant to
 * the other in the same transaction, so demand still adds up per variant.
 * False when it is no longer waiting on `from` (switched or refunded meanwhile).
 */
export const switchVariant = async (
  p: Preorder,
  campaign: Pick<Campaign, 'campaignId' | 'variants'>,
  to: string,
  entry: TimelineEntry,
  now: Date,
): Promise<boolean> => {
  const shard = p.gateTakes[0]?.shard ?? 0;
  const unpaid = awaitsBalance(p);
  const outcome = await transactWrite([
    {
      Update: {
        TableName: tableName(),
        Key: preorderKey(p.preorderId),
        UpdateExpression: 'SET sku = :to, switchedFrom = :from, updatedAt = :now, timeline = list_append(timeline, :entries) REMOVE switchBy',
        ConditionExpression: `#status = :accepted AND sku = :from${unpaid ? ' AND attribute_not_exists(balancePaidAt)' : ''}`,
        ExpressionAttributeNames: { '#status': 'status' },
        ExpressionAttributeValues: { ':to': to, ':from': p.sku, ':now': now.toISOString(), ':entries': [entry], ':accepted': 'ACCEPTED' },
      },
    },
    {
      Update: {
        TableName: tableName(),
        Key: gateKey(p.campaignId, shard),
        // A deposit pre-order switched before its balance is paid moves its unpaid units too.
        UpdateExpression: `ADD ordered.#from :minus, ordered.#to :q${unpaid ? ', unpaid.#from :minus, unpaid.#to :q' : ''}`,
        ExpressionAttributeNames: { '#from': variantSlot(campaign, p.sku), '#to': variantSlot(campaign, to) },
        ExpressionAttributeValues: { ':minus': -p.quantity, ':q': p.quantity },
      },
    },
  ]);
  return outcome === 'done';
};

/**
 * A deposit pre-order's balance, called (domain/payment.ts): its final unit
 * price, `balanceDue` and `balanceDueBy`, with its timeline entry and its
 * `preorder.balance_due` (outbox), once: conditional on no call yet and on the
 * pre-order as read (waiting, unpaid, its variant). 'stale' when it changed.
 */
export const callBalance = async (
  p: Preorder,
  due: { readonly finalUnitPrice: number; readonly balanceDue: number; readonly balanceDueBy: string },
  entry: TimelineEntry,
  events: readonly DomainEvent[],
  now: Date,
): Promise<'done' | 'stale'> =>
  (await guardedTransact([
    {
      Update: {
        TableName: tableName(),
        Key: preorderKey(p.preorderId),
        UpdateExpression: 'SET finalUnitPrice = :price, balanceDue = :due, balanceDueBy = :by, updatedAt = :now, timeline = list_append(timeline, :entries)',
        ConditionExpression: '#status = :accepted AND sku = :sku AND attribute_not_exists(balanceDue) AND attribute_not_exists(balancePaidAt) AND attribute_exists(depositAmount)',
        ExpressionAttributeNames: { '#status': 'status' },
        ExpressionAttributeValues: {
          ':price': due.finalUnitPrice,
          ':due': due.balanceDue,
          ':by': due.balanceDueBy,
          ':accepted': 'ACCEPTED',
          ':sku': p.sku,
          ':now': now.toISOString(),
          ':entries': [entry],
        },
      },
    },
    ...events.map(outboxPut),
  ])) === 'done'
    ? 'done'
    : 'stale';

/**
 * The platform paid a deposit pre-order's balance: what was paid grows by it,
 * the pre-order joins the waiting line (its waiting partition, its place its
 * order time) and its units leave the gate's `unpaid`, in one transaction,
 * once: conditional on the balance being due, unpaid, of this amount, and not
 * past its deadline. 'stale' when any of that no longer holds: read again.
 */
export const recordBalancePaid = async (
  p: Preorder,
  campaign: Pick<Campaign, 'variants'>,
  entry: TimelineEntry,
  events: readonly DomainEvent[],
  now: Date,
): Promise<'done' | 'stale'> => {
  const first = p.gateTakes[0] ?? { shard: 0, units: p.quantity };
  return (await guardedTransact([
    {
      Update: {
        TableName: tableName(),
        Key: preorderKey(p.preorderId),
        UpdateExpression:
          'SET balancePaidAt = :now, paidAmount = :paid, updatedAt = :now, timeline = list_append(timeline, :entries), GSI3PK = :wpk, GSI3SK = :wsk',
        ConditionExpression:
          '#status = :accepted AND balanceDue = :due AND balanceDueBy > :now AND attribute_not_exists(balancePaidAt) AND paidAmount = :before AND refundedAmount = :zero',
        ExpressionAttributeNames: { '#status': 'status' },
        ExpressionAttributeValues: {
          ':now': now.toISOString(),
          ':paid': paidOf(p) + (p.balanceDue ?? 0),
          ':before': paidOf(p),
          ':due': p.balanceDue,
          ':zero': 0,
          ':accepted': 'ACCEPTED',
          ':entries': [entry],
          ':wpk': waitingPartition(p.campaignId, first.shard),
          ':wsk': `${p.createdAt}#${p.preorderId}`,
        },
      },
    },
    {
      Update: {
        TableName: tableName(),
        Key: gateKey(p.campaignId, first.shard),
        UpdateExpression: 'ADD unpaid.#slot :minus',
        ExpressionAttributeNames: { '#slot': variantSlot(campaign, p.sku) },
        ExpressionAttributeValues: { ':minus': -p.quantity },
      },
    },
    ...events.map(outboxPut),
  ])) === 'done'
    ? 'done'
    : 'stale';
};

/**
 * The platform's confirmation of one refund (domain/refunds.ts): recorded on
 * the pre-order once, with its timeline entry ("refunded") and its event
 * (outbox), in one transaction, on condition that the pre-order's status is
 * as read. The set `confirmedRefundIds` guards it: a second confirmation,
 * however it races the first, finds the id there and writes nothing. 'stale'
 * either way: read again, and answer from what is there.
 */
export const recordRefundConfirmation = async (
  p: Pick<Preorder, 'preorderId' | 'status'>,
  confirmation: { readonly refundId: string; readonly confirmedAt: string },
  entry: TimelineEntry,
  events: readonly DomainEvent[],
  /** What goes with it: the refund's marker on the platform's list of refunds owed, deleted (refund-store.ts). */
  also: readonly TransactItem[] = [],
): Promise<'done' | 'stale'> =>
  (await guardedTransact([
    {
      Update: {
        TableName: tableName(),
        Key: preorderKey(p.preorderId),
        UpdateExpression:
          'SET refundConfirmations = list_append(if_not_exists(refundConfirmations, :none), :confirmation), timeline = list_append(timeline, :entries), updatedAt = :now ADD confirmedRefundIds :ids',
        // Its entry carries the status as read: a status that moved meanwhile would leave the timeline ending on a stale one.
        ConditionExpression: '#status = :was AND (attribute_not_exists(confirmedRefundIds) OR NOT contains(confirmedRefundIds, :id))',
        ExpressionAttributeNames: { '#status': 'status' },
        ExpressionAttributeValues: {
          ':was': p.status,
          ':none': [],
          ':confirmation': [confirmation],
          ':entries': [entry],
          ':now': confirmation.confirmedAt,
          ':ids': new Set([confirmation.refundId]),
          ':id': confirmation.refundId,
        },
      },
    },
    ...also,
    ...events.map(outboxPut),
  ])) === 'done'
    ? 'done'
    : 'stale';
