import { SQSClient, SendMessageCommand } from '@aws-sdk/client-sqs';
import { queueUrl } from '#shared/config.ts';
import { tracer } from '#shared/observability.ts';
import type { IntakeMessage } from '#contracts/messages.ts';

const client = tracer.captureAWSv3Client(new SQSClient({}));

export const enqueueIntake = async (message: IntakeMessage): Promise<void> => {
  await client.send(new SendMessageCommand({ QueueUrl: queueUrl('preorder-intake'), MessageBody: JSON.stringify(message) }));
};
