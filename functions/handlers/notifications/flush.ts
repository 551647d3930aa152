import { claimNotifications, recordSent } from '#adapters/notice-store.ts';
import { sendNotifications, type BuyerNotification } from '#adapters/notification-channel.ts';
import { backoff } from '#adapters/dynamo.ts';
import { getPreorderWithNotices, type KnownPages } from '#adapters/preorder-store.ts';
import { localeOf, stepOf, type Preorder, type TimelineEntry } from '#domain/preorder.ts';
import { noticeOfEntry } from '#domain/notices.ts';
import { log } from '#shared/observability.ts';
import { inParallel } from '../batches/cutting.ts';

/**
 * Every step of a pre-order is a timeline entry, written in the same
 * transaction as the change itself, so each step exists exactly once. A flush
 * sends the entries the buyer has not been sent yet, in order, and records
 * them as sent on the pre-order's notices item (notice-store.ts; the buyer API
 * shows them as `notifications`). Several flush the same pre-order at once
 * (the notifier and the function that made the change), so sending is claimed
 * first:
 *
 * 1. claim: one conditional UpdateItem sets a lease (`notifyLease`: id,
 *    expiry) only if no unexpired lease exists and the recorded count is the
 *    one read. Only the winner sends.
 * 2. send the claimed steps through the channel.
 * 3. record: one conditional UpdateItem (the lease is still ours) counts them
 *    sent, with the time, and removes the lease.
 *
 * A flush that finds the steps it saw claimed by another waits, reading, until
 * they are recorded, or claims whatever the other did not cover once it is
 * free; it gives up after a lease's length and a bit (a holder that died has
 * lost its lease by then), which only continuous contention can reach. The
 * notifier then throws so its message comes back; the others leave the rest
 * to the notifier, which every step's event reaches.
 *
 * A pre-order placed since decision 28's intake step (`acceptedOnIntake`) has
 * its first step, "accepted", told by intake from the table's stream and
 * recorded on its order ref (`toldAt`), not here: no claim and no record for
 * the step every pre-order has. Until the ref says so, a flush leaves such a
 * pre-order alone (nothing may go before "accepted"), and intake flushes it
 * once the ref is written, so a step a flush left is sent then. The first
 * claim after it writes the notices item counting that step as sent.
 *
 * Likewise a batch's "batched" step (decision 34): its entry names a page of
 * the batch's members, which the notifier tells and records together
 * (batch-pages.ts); until that page is written a flush leaves the pre-order
 * alone, and the notifier's own flush throws so its message comes back.
 *
 * So concurrent flushes never send a step twice. Across crashes delivery is at
 * least once: a flush that dies between sending and recording (or outlives its
 * lease while sending) has those steps sent again, once the lease expires,
 * with the same `notificationId` (`<preorderId>:<n>`, the step's position),
 * which the platform de-duplicates on; the record never holds a step twice.
 *
 * Cost: a flush with nothing pending writes nothing ("accepted" costs none:
 * intake's ref records it); one with steps pending
 * makes 2 writes (claim, record) however many steps it sends, each 1 WCU (the
 * notices item is small and in no index; on the pre-order item they were 6
 * each). A flush that sees a live lease only reads (one Query of the
 * pre-order's partition); one that loses the race to claim pays 1 refused write.
 */
export const flushNotifications = async (
  preorderIds: readonly string[],
  opts: {
    readonly whenStillClaimed?: 'throw' | 'leave';
    /** When intake told these pre-orders' "accepted" (intake's own flush knows): saves reading each one's ref. */
    readonly toldOnIntake?: ReadonlyMap<string, string>;
    /** Pages of a batch the caller read or wrote just now (batch-pages.ts): saves each pre-order's reading them. */
    readonly pages?: KnownPages;
  } = {},
): Promise<number> => {
  const results = await inParallel([...new Set(preorderIds)], (id) => flushOne(id, opts.toldOnIntake?.get(id), opts.pages));
  const stuck = results.filter((r) => r.stuck).length;
  if (stuck > 0) {
    if (opts.whenStillClaimed === 'throw') throw new NotificationsStillClaimedError(stuck);
    log().warn('notifications of some pre-orders stayed claimed by another flush; the notifier sends the rest', { preorders: stuck });
  }
  // Steps behind a batch's page not written yet: the notifier comes back to them (its batch's page is on its way, in the batch's event).
  const behindPage = results.filter((r) => r.awaitingBatch).length;
  if (behindPage > 0 && opts.whenStillClaimed === 'throw') throw new NotificationsStillClaimedError(behindPage);
  return results.reduce((n, r) => n + r.sent, 0);
};

/** Retryable: some pre-orders' steps were still claimed by another flush when this one stopped waiting. */
export class NotificationsStillClaimedError extends Error {
  override readonly name = 'NotificationsStillClaimedError';
  constructor(preorders: number) {
    super(`${preorders} pre-orders had unsent steps claimed by another flush; try again later`);
  }
}

/** How long a claim holds: far longer than a send takes; what a crashed flush delays its steps by. */
const leaseMs = 10_000;
/** How long a flush waits on others' claims: past any lease taken just before it looked. */
const waitLimitMs = leaseMs + 5_000;

/**
 * The notice of a pre-order's timeline entry at `position` (from 0), in its
 * buyer's language, numbered `<preorderId>:<position + 1>` whoever sends it
 * (a flush, or intake for "accepted"), so the channel can de-duplicate a resend.
 */
export const noticeAt = (
  p: Pick<Preorder, 'preorderId' | 'buyerId' | 'campaignId' | 'currency'> & { readonly locale?: Preorder['locale'] },
  entry: TimelineEntry,
  position: number,
): BuyerNotification => ({
  notificationId: `${p.preorderId}:${position + 1}`,
  preorderId: p.preorderId,
  buyerId: p.buyerId,
  campaignId: p.campaignId,
  step: stepOf(entry),
  // An entry from before templates is told as the generic update of its step: its note may name ids.
  ...noticeOfEntry(entry, localeOf(p)),
  at: entry.at,
});

const pendingOf = (p: Preorder): BuyerNotification[] => {
  const done = p.notifications?.length ?? 0;
  return p.timeline.slice(done).map((entry, i) => noticeAt(p, entry, done + i));
};

const flushOne = async (preorderId: string, toldAt: string | undefined, pages: KnownPages | undefined): Promise<{ sent: number; stuck: boolean; awaitingBatch?: true }> => {
  const started = Date.now();
  // The steps this flush answers for: those there when it first looked.
  let seen: number | undefined;
  for (let attempt = 0; ; attempt++) {
    // The caller's pages only on the first look: a page claimed then may be written by the next.
    const p = await getPreorderWithNotices(preorderId, true, { ...(toldAt !== undefined && { toldAt }), ...(attempt === 0 && pages && { pages }) });
    if (!p) return { sent: 0, stuck: false };
    // Its "accepted" is intake's to tell, and intake has not yet: nothing may go before it. Intake flushes
    // the pre-order once it has told it (after writing its ref), so whatever this flush saw is sent then.
    if ('awaitingIntake' in p) return { sent: 0, stuck: false };
    // Its next step goes out with a page of its batch (tellBatch), and that page is not written yet: the
    // same, nothing may go before it. The notifier's flush is "stuck" (its message comes back); others leave it.
    if (p.awaitingBatch) return { sent: 0, stuck: false, awaitingBatch: true };
    seen ??= p.timeline.length;
    if ((p.notifications?.length ?? 0) >= seen) return { sent: 0, stuck: false };
    const now = Date.now();
    if (!p.notifyLease || p.notifyLease.expiresAt < now) {
      const lease = await claimNotifications(p, leaseMs, now, p.noticesItemCount);
      if (lease) {
        const pending = pendingOf(p);
        await sendNotifications(pending);
        const sentAt = new Date().toISOString();
        if (!(await recordSent(p, pending.map(() => sentAt), lease))) {
          log().warn('a notification lease expired while its steps were sent; another flush may send them again', { preorderId, leaseMs });
        }
        return { sent: pending.length, stuck: false };
      }
    }
    if (Date.now() - started > waitLimitMs) return { sent: 0, stuck: true };
    await backoff(attempt, 25, 500);
  }
};
