import type { SQSRecord } from 'aws-lambda';
import { sqsConsumer } from '../queue/consumer.ts';
import { getPreorder } from '#adapters/preorder-store.ts';
import { getCampaign, readDemand } from '#adapters/campaign-store.ts';
import { requestCut } from '#adapters/queues.ts';
import { eventOf, publish } from '#adapters/event-bus.ts';
import { IntakeMessage } from '#contracts/messages.ts';

/** Campaigns this container asked a cut for recently: a burst asks once, not once per pre-order. */
const asked = new Map<string, number>();
const askAgainAfterMs = 2_000;

/** When a lot is waiting, asks the cutter to cut it (the cutter re-checks; asking twice is harmless). */
const requestCutIfLotWaiting = async (campaignId: string): Promise<void> => {
  if ((asked.get(campaignId) ?? 0) > Date.now()) return;
  asked.set(campaignId, Date.now() + askAgainAfterMs);
  const campaign = await getCampaign(campaignId);
  if (!campaign) return;
  const demand = await readDemand(campaign);
  if (demand.totals.waiting >= campaign.lotSize) await requestCut(campaignId);
  else asked.delete(campaignId);
};

/**
 * Follows an accepted pre-order: announces `preorder.accepted`, and asks for a
 * cut when its campaign has a lot waiting. The pre-order
 * was counted when it was written, so a redelivered message can only repeat the
 * announcement, and that carries the same eventId (`preorder.accepted:<id>`).
 */
const recordHandler = async (record: SQSRecord): Promise<void> => {
  const message = IntakeMessage.parse(JSON.parse(record.body));
  const p = await getPreorder(message.preorderId);
  if (!p) {
    // Eventually consistent read right after the write: let the queue bring it back.
    throw new Error(`pre-order ${message.preorderId} not readable yet`);
  }
  await publish([
    eventOf(
      'preorder.accepted',
      { campaignId: p.campaignId, preorderId: p.preorderId, occurredAt: p.createdAt, status: 'ACCEPTED', sku: p.sku, quantity: p.quantity },
      p.preorderId,
    ),
  ]);
  await requestCutIfLotWaiting(p.campaignId);
};

export const handler = sqsConsumer(recordHandler);
