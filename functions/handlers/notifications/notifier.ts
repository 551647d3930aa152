import type { SQSRecord } from 'aws-lambda';
import { getBatch } from '#adapters/batch-store.ts';
import { BusEnvelope, parseEnvelope } from '#contracts/messages.ts';
import { log } from '#shared/observability.ts';
import { sqsConsumer } from '../queue/consumer.ts';
import { flushNotifications } from './flush.ts';
import { tellBatch } from './batch-pages.ts';

/**
 * The notifier: every event that moves buyers' pre-orders brings their
 * unsent steps to the channel. The functions that make the changes flush right
 * after them too; this consumer is what makes sure nothing stays unsent when a
 * flush was cut short. Flushes claim before they send (flush.ts), so both doing
 * it sends each step once; steps another flush still holds after a wait make
 * the message fail, and it comes back.
 */
const recordHandler = async (record: SQSRecord): Promise<void> => {
  const event = parseEnvelope(BusEnvelope, JSON.parse(record.body));
  const ids = await preordersMovedBy(event);
  // A released batch's "batched" step goes out a page of members at a time (batch-pages.ts).
  const sent = event['detail-type'] === 'batch.released' ? await tellBatch(event.detail.batchId, ids) : await flushNotifications(ids, { whenStillClaimed: 'throw' });
  if (sent > 0) log().info('buyer notifications sent', { event: event['detail-type'], preorders: ids.length, sent });
};

/** The pre-orders whose steps an event may have left unsent: its own, or every one of its batch. */
const preordersMovedBy = async (event: BusEnvelope): Promise<readonly string[]> => {
  switch (event['detail-type']) {
    case 'preorder.accepted':
    case 'preorder.cancelled':
    case 'preorder.refunded':
    case 'preorder.shipped':
    case 'preorder.delivered':
    case 'preorder.delayed':
    case 'preorder.compensated':
    case 'preorder.address_changed':
    case 'preorder.balance_due':
    case 'preorder.balance_paid':
    case 'refund.confirmed':
      return [event.detail.preorderId];
    case 'batch.released':
    case 'batch.rejected':
      return (await getBatch(event.detail.batchId))?.preorderIds ?? [];
    default:
      log().warn('the notifier got an event it does not handle', { type: event['detail-type'] });
      return [];
  }
};

export const handler = sqsConsumer(recordHandler);
