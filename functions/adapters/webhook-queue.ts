import { ChangeMessageVisibilityCommand, SQSClient, SendMessageCommand } from '@aws-sdk/client-sqs';
import { queueUrl } from '#shared/config.ts';
import type { DeliveryMessage } from '#contracts/messages.ts';

/**
 * The webhook-deliveries queue: one message `{deliveryId}` per delivery to try.
 * The message carries only the id; what is POSTed is the stored payload, so a
 * retry and a replay send the same bytes.
 */

const client = new SQSClient({});

/** Queues a try of the delivery, after `delaySeconds` (at most 900, SQS's limit). */
export const enqueueDelivery = async (deliveryId: string, delaySeconds = 0): Promise<void> => {
  const message: DeliveryMessage = { deliveryId };
  await client.send(
    new SendMessageCommand({
      QueueUrl: queueUrl('webhook-deliveries'),
      MessageBody: JSON.stringify(message),
      ...(delaySeconds > 0 && { DelaySeconds: Math.min(900, delaySeconds) }),
    }),
  );
};

/**
 * Sets how long a received delivery message stays invisible: the backoff
 * before its next try (the consumer then reports it failed, and SQS brings it
 * back when this runs out).
 */
export const delayRedelivery = async (receiptHandle: string, seconds: number): Promise<void> => {
  await client.send(
    new ChangeMessageVisibilityCommand({ QueueUrl: queueUrl('webhook-deliveries'), ReceiptHandle: receiptHandle, VisibilityTimeout: seconds }),
  );
};
