import type { SQSRecord } from 'aws-lambda';
import { CutMessage } from '#contracts/messages.ts';
import { sqsConsumer } from '../queue/consumer.ts';
import { settleCampaign } from './cutting.ts';
import { unwindBatch } from './unwinding.ts';

/**
 * The batch-cuts consumer: "look at this campaign" from intake (a lot may be
 * waiting), from the clock (someone may have waited too long), and from the bus
 * (the campaign closed or failed). Every message means the same thing, so
 * duplicates and reordering are harmless. And "unwind this rejected batch",
 * from the factory API and the clock, which is as safe to repeat.
 */
const recordHandler = async (record: SQSRecord): Promise<void> => {
  const message = CutMessage.parse(JSON.parse(record.body));
  if ('kind' in message && message.kind === 'unwind') return unwindBatch(message.batchId);
  await settleCampaign('detail' in message ? message.detail.campaignId : message.campaignId);
};

export const handler = sqsConsumer(recordHandler);
