import { recordSent } from '#adapters/fulfillment-store.ts';
import { sendNotifications, type BuyerNotification } from '#adapters/notification-channel.ts';
import { getPreorder } from '#adapters/preorder-store.ts';
import { stepOf, type Preorder, type SentNotification } from '#domain/preorder.ts';
import { log } from '#shared/observability.ts';
import { inParallel } from '../batches/cutting.ts';

/**
 * Every step of a pre-order is a timeline entry, written in the same
 * transaction as the change itself, so each step exists exactly once. This
 * sends the entries the buyer has not been sent yet, in order, then records
 * them as sent on the pre-order (its `notifications`, which the buyer API
 * shows). The channel is at least once: a crash between sending and recording
 * sends those again with the same `notificationId` (`<preorderId>:<n>`, the
 * step's position), which the platform de-duplicates on; the record never
 * holds a step twice.
 */
export const flushNotifications = async (preorderIds: readonly string[]): Promise<number> => {
  const sent = await inParallel([...new Set(preorderIds)], flushOne);
  return sent.reduce((n, k) => n + k, 0);
};

const pendingOf = (p: Preorder): BuyerNotification[] => {
  const done = p.notifications?.length ?? 0;
  return p.timeline.slice(done).map((entry, i) => ({
    notificationId: `${p.preorderId}:${done + i + 1}`,
    preorderId: p.preorderId,
    buyerId: p.buyerId,
    campaignId: p.campaignId,
    step: stepOf(entry),
    message: entry.note,
    at: entry.at,
  }));
};

const flushOne = async (preorderId: string): Promise<number> => {
  for (let round = 0; round < 5; round++) {
    const p = await getPreorder(preorderId, true);
    if (!p) return 0;
    const pending = pendingOf(p);
    if (pending.length === 0) return 0;
    await sendNotifications(pending);
    const sentAt = new Date().toISOString();
    const record: SentNotification[] = pending.map((n) => ({ notificationId: n.notificationId, at: n.at, step: n.step, message: n.message, sentAt }));
    if (await recordSent(p, record)) return pending.length;
    // Someone recorded some meanwhile (another flush): look again; what they sent is not sent twice by us.
  }
  log().warn('notifications of a pre-order kept changing; the next event sends the rest', { preorderId });
  return 0;
};
