import { batchPageSize, claimBatchPage, pageId, readBatchPages, recordBatchPage, type BatchPageTold } from '#adapters/notice-store.ts';
import { sendNotifications, type BuyerNotification } from '#adapters/notification-channel.ts';
import { getPreorderWithNotices, type KnownPages } from '#adapters/preorder-store.ts';
import { backoff } from '#adapters/dynamo.ts';
import type { BatchPageRef, NotificationLease } from '#domain/preorder.ts';
import { log } from '#shared/observability.ts';
import { inParallel } from '../batches/cutting.ts';
import { flushNotifications, noticeAt } from './flush.ts';

/** How long a page's claim holds: far longer than sending 100 notices takes (10 calls to SNS); what a crashed notifier delays them by. */
const pageLeaseMs = 10_000;
/** How long a notifier waits on another's claim of a page: past any claim taken just before it looked. */
const pageWaitLimitMs = pageLeaseMs + 5_000;

/**
 * The page's claim, waiting out another's (a notifier that died holding it, or
 * one still sending it) until it is written or its claim expires; undefined
 * when written by the other, or still claimed after the wait (the final flush
 * then finds its members waiting, and the event comes back).
 */
const claimPage = async (ref: BatchPageRef): Promise<NotificationLease | undefined> => {
  const started = Date.now();
  for (let attempt = 0; ; attempt++) {
    const lease = await claimBatchPage(ref, pageLeaseMs);
    if (lease) return lease;
    if ((await readBatchPages([ref], true)).size > 0) return undefined;
    if (Date.now() - started > pageWaitLimitMs) return undefined;
    await backoff(attempt, 25, 500);
  }
};

/**
 * The "batched" step of a released batch's members, told a page at a time
 * (decision 34): the step every member of every batch has, so a claim and a
 * record on each member's notices item (2 writes a pre-order) become two
 * writes a page, the way intake tells "accepted" (decision 28).
 *
 * 1. Read each member with what it was told (strongly consistent), and the
 *    batch's pages once for all of them.
 * 2. A member whose next unsent step is its "batched" entry of this batch,
 *    with no live claim on it, joins its entry's page.
 * 3. Per page: claim it (claimBatchPage: a redelivered event while this one
 *    runs does not send it too), send its notices, then write it naming whom
 *    it told (recordBatchPage). Until it is written, every flush leaves its
 *    members alone (foldBatchPages: awaitingBatch), so nothing else tells the
 *    step, or anything after it, first.
 * 4. Flush every member, the pages now written: those left out of a page (a
 *    step before "batched" still unsent, a claim on it, a page claimed by
 *    another notifier), and the page's own for any step written after step 1
 *    read them, whose own flush left it to the page ("in production", say,
 *    whose event the notifier does not get). Members with nothing more only
 *    cost the read.
 *
 * A notifier that dies between sending a page and writing it has the page
 * sent again, once its claim expires, under the same notification ids
 * (`<preorderId>:<position>`), which the channel de-duplicates on, as for any
 * flush that died between send and record.
 */
export const tellBatch = async (batchId: string, preorderIds: readonly string[]): Promise<number> => {
  const now = Date.now();
  const ids = [...new Set(preorderIds)];
  // The batch's pages, read once for all members (a page per 100 planned; a member planned further on reads its own).
  const refs = Array.from({ length: Math.ceil(ids.length / batchPageSize) }, (_, page) => ({ batchId, page }));
  const written = await readBatchPages(refs, true);
  const known = new Map<string, BatchPageTold | null>(refs.map((ref) => [pageId(ref), written.get(pageId(ref)) ?? null]));
  const read = await inParallel(ids, (id) => getPreorderWithNotices(id, true, { pages: known }));
  const toTell = new Map<number, { ids: string[]; notices: BuyerNotification[] }>();
  for (const p of read) {
    if (!p || !('awaitingBatch' in p)) continue;
    const position = p.notifications?.length ?? 0;
    const entry = p.timeline[position];
    const claimed = p.notifyLease !== undefined && p.notifyLease.expiresAt >= now;
    if (entry?.toldBy?.batchId !== batchId || claimed) continue;
    const page = toTell.get(entry.toldBy.page) ?? { ids: [], notices: [] };
    page.ids.push(p.preorderId);
    page.notices.push(noticeAt(p, entry, position));
    toTell.set(entry.toldBy.page, page);
  }
  let sent = 0;
  const afterwards = new Map<string, BatchPageTold | null>();
  for (const [page, told] of toTell) {
    const ref = { batchId, page };
    const lease = await claimPage(ref);
    // Written, or being told, by another notifier of the batch: its members are read afresh below.
    if (!lease) {
      known.delete(pageId(ref));
      continue;
    }
    await sendNotifications(told.notices);
    const toldAt = new Date().toISOString();
    if (await recordBatchPage(ref, told.ids, toldAt, lease)) {
      sent += told.notices.length;
      afterwards.set(pageId(ref), { toldAt, told: new Set(told.ids) });
    } else {
      known.delete(pageId(ref));
      log().warn('a batch page’s claim expired while its notices were sent; another notifier may send them again', { batchId, page, pageLeaseMs });
    }
  }
  // When intake told each member "accepted", as step 1 read it: the flush need not read each one's order ref again.
  const toldOnIntake = new Map(
    read.flatMap((p) => (p?.acceptedOnIntake && !('awaitingIntake' in p) && p.notifications?.[0] ? [[p.preorderId, p.notifications[0].sentAt] as const] : [])),
  );
  return sent + (await flushNotifications(ids, { whenStillClaimed: 'throw', pages: new Map([...known, ...afterwards]), toldOnIntake }));
};
