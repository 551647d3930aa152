import { SQSClient, SendMessageCommand } from '@aws-sdk/client-sqs';
import { queueUrl } from '#shared/config.ts';
import { tracer } from '#shared/observability.ts';
import type { CutMessage, IntakeMessage } from '#contracts/messages.ts';

const client = tracer.captureAWSv3Client(new SQSClient({}));

export const enqueueIntake = async (message: IntakeMessage): Promise<void> => {
  await client.send(new SendMessageCommand({ QueueUrl: queueUrl('preorder-intake'), MessageBody: JSON.stringify(message) }));
};

/** Asks the batch cutter to look at a campaign; duplicates are harmless (it settles what is due). */
export const requestCut = async (campaignId: string): Promise<void> => {
  const message: CutMessage = { kind: 'check', campaignId };
  await client.send(new SendMessageCommand({ QueueUrl: queueUrl('batch-cuts'), MessageBody: JSON.stringify(message) }));
};

/** Asks the batch cutter to move a rejected batch's pre-orders on (backup factory or refund); repeating it is harmless. */
export const requestUnwind = async (batchId: string): Promise<void> => {
  const message: CutMessage = { kind: 'unwind', batchId };
  await client.send(new SendMessageCommand({ QueueUrl: queueUrl('batch-cuts'), MessageBody: JSON.stringify(message) }));
};
