import type { SQSRecord } from 'aws-lambda';
import { getBatch } from '#adapters/batch-store.ts';
import { BusEnvelope } from '#contracts/messages.ts';
import { log } from '#shared/observability.ts';
import { sqsConsumer } from '../queue/consumer.ts';
import { flushNotifications } from './flush.ts';

/**
 * The notifier: every event that moves buyers' pre-orders brings their
 * unsent steps to the channel. The functions that make the changes flush right
 * after them too; this consumer is what makes sure nothing stays unsent when a
 * flush was cut short. Flushes claim before they send (flush.ts), so both doing
 * it sends each step once; steps another flush still holds after a wait make
 * the message fail, and it comes back.
 */
const recordHandler = async (record: SQSRecord): Promise<void> => {
  const event = BusEnvelope.parse(JSON.parse(record.body));
  const { preorderId, batchId } = event.detail;
  const ids = preorderId ? [preorderId] : batchId ? ((await getBatch(batchId))?.preorderIds ?? []) : [];
  const sent = await flushNotifications(ids, { whenStillClaimed: 'throw' });
  if (sent > 0) log().info('buyer notifications sent', { event: event['detail-type'], preorders: ids.length, sent });
};

export const handler = sqsConsumer(recordHandler);
