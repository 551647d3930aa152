import { batchPageSize, pageId, readBatchPages, recordBatchPage } from '#adapters/notice-store.ts';
import { sendNotifications, type BuyerNotification } from '#adapters/notification-channel.ts';
import { getPreorderWithNotices, type KnownPages } from '#adapters/preorder-store.ts';
import { inParallel } from '../batches/cutting.ts';
import { flushNotifications, noticeAt } from './flush.ts';

/**
 * The "batched" step of a released batch's members, told a page at a time
 * (decision 34): the step every member of every batch has, so a claim and a
 * record on each member's notices item (2 writes a pre-order) become one write
 * a page, the way intake tells "accepted" (decision 28).
 *
 * 1. Read each member with what it was told (strongly consistent).
 * 2. A member whose next unsent step is its "batched" entry of this batch,
 *    with no live claim on it, joins its entry's page; any other (a step
 *    before it still unsent, or the page written already) is flushed as any
 *    pre-order is, after the pages.
 * 3. Per page: send its notices, then write the page naming whom it told
 *    (recordBatchPage, once). Until it is written, every flush leaves its
 *    members alone (foldBatchPages: awaitingBatch), so nothing else tells the
 *    step, or anything after it, first.
 * 4. Flush the rest, and the page's members that had more steps after
 *    "batched": a step written after step 1 read them is the notifier's, whose
 *    flush of it waited for the page (its message came back).
 *
 * A flush that dies between sending a page and writing it sends that page
 * again when the event comes back, under the same notification ids
 * (`<preorderId>:<position>`), which the channel de-duplicates on, as for any
 * flush that died between send and record. Two at once (a redelivery while
 * the first still runs) may both send a page; one writes it, and the members
 * it does not name are the ones its own step 4 flushes.
 */
export const tellBatch = async (batchId: string, preorderIds: readonly string[]): Promise<number> => {
  const now = Date.now();
  const ids = [...new Set(preorderIds)];
  // The batch's pages, read once for all members (a page per 100 planned; a member planned further on reads its own).
  const refs = Array.from({ length: Math.ceil(ids.length / batchPageSize) }, (_, page) => ({ batchId, page }));
  const written = await readBatchPages(refs, true);
  const pages: KnownPages = new Map(refs.map((ref) => [pageId(ref), written.get(pageId(ref)) ?? null]));
  const read = await inParallel(ids, (id) => getPreorderWithNotices(id, true, { pages }));
  const toTell = new Map<number, { ids: string[]; notices: BuyerNotification[] }>();
  const rest: string[] = [];
  for (const p of read) {
    if (!p) continue;
    const position = p.notifications?.length ?? 0;
    const entry = p.timeline[position];
    const claimed = p.notifyLease !== undefined && p.notifyLease.expiresAt >= now;
    if ('awaitingBatch' in p && entry?.toldBy?.batchId === batchId && !claimed) {
      const page = toTell.get(entry.toldBy.page) ?? { ids: [], notices: [] };
      page.ids.push(p.preorderId);
      page.notices.push(noticeAt(p, entry, position));
      toTell.set(entry.toldBy.page, page);
      if (p.timeline.length > position + 1) rest.push(p.preorderId);
    } else {
      rest.push(p.preorderId);
    }
  }
  let sent = 0;
  for (const [page, told] of toTell) {
    await sendNotifications(told.notices);
    if (await recordBatchPage({ batchId, page }, told.ids, new Date().toISOString())) sent += told.notices.length;
  }
  return sent + (await flushNotifications(rest, { whenStillClaimed: 'throw' }));
};
