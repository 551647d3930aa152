import { BatchProcessor, EventType, processPartialResponse } from '@aws-lambda-powertools/batch';
import type { Context, SQSEvent, SQSRecord } from 'aws-lambda';
import { getPreorder } from '#adapters/preorder-store.ts';
import { eventOf, publish } from '#adapters/event-bus.ts';
import { IntakeMessage } from '#contracts/messages.ts';
import { flushMetrics, logger } from '#shared/observability.ts';

const processor = new BatchProcessor(EventType.SQS);

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

export const handler = async (event: SQSEvent, context: Context) => {
  logger.addContext(context);
  try {
    return await processPartialResponse(event, recordHandler, processor, { context });
  } finally {
    flushMetrics();
  }
};
