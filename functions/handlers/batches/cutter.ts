import type { SQSRecord } from 'aws-lambda';
import { CutMessage } from '#contracts/messages.ts';
import { sqsConsumer } from '../queue/consumer.ts';
import { settleCampaign } from './cutting.ts';

/**
 * The batch-cuts consumer: "look at this campaign" from intake (a lot may be
 * waiting), from the clock (someone may have waited too long), and from the bus
 * (the campaign closed or failed). Every message means the same thing, so
 * duplicates and reordering are harmless.
 */
const recordHandler = async (record: SQSRecord): Promise<void> => {
  const message = CutMessage.parse(JSON.parse(record.body));
  await settleCampaign('detail' in message ? message.detail.campaignId : message.campaignId);
};

export const handler = sqsConsumer(recordHandler);
