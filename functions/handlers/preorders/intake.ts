import type { SQSRecord } from 'aws-lambda';
import { sqsConsumer } from '../queue/consumer.ts';
import { getPreorder } from '#adapters/preorder-store.ts';
import { eventOf, publish } from '#adapters/event-bus.ts';
import { IntakeMessage } from '#contracts/messages.ts';

/**
 * Follows an accepted pre-order: announces `preorder.accepted`. The pre-order
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
};

export const handler = sqsConsumer(recordHandler);
