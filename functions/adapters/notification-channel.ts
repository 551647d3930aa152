import {
  PublishBatchCommand,
  SNSClient,
  type PublishBatchCommandOutput,
  type PublishBatchRequestEntry,
} from '@aws-sdk/client-sns';
import { envNames } from '#runtime-names';
import type { NoticeParamValues, NoticeTemplate } from '#domain/notices.ts';
import type { Locale } from '#domain/preorder.ts';
import { notificationTopic } from '#shared/config.ts';

// Built at module scope but only ever called on the SNS path: locally there is no endpoint to call.
const client = new SNSClient({});

/** One message to one buyer about one step of one pre-order. */
export interface BuyerNotification {
  notificationId: string;
  preorderId: string;
  buyerId: string;
  campaignId: string;
  step: string;
  /** The notice as a stable name and values, so the platform can render its own words. */
  template: NoticeTemplate;
  params: NoticeParamValues;
  locale: Locale;
  /** Our rendering of it, in `locale`. */
  message: string;
  at: string;
}

/** Entries per PublishBatch call (the API's limit). */
export const publishBatchSize = 10;

/** Sends one PublishBatch request; `client.send` in production, a fake in tests. */
export type SendPublishBatch = (command: PublishBatchCommand) => Promise<PublishBatchCommandOutput>;

/**
 * Delivers notifications through the channel the function was configured
 * with: the SNS topic the live platform subscribes to, or the console of the
 * local runtime. Delivery is at least once; the notifier records what was sent.
 */
export const sendNotifications = async (items: readonly BuyerNotification[]): Promise<void> => {
  const target = notificationTopic();
  if (target.startsWith('arn:')) return publishToTopic(target, items, (command) => client.send(command));
  if (target === 'local:console') return printToConsole(items);
  throw new Error(`Configuration: ${envNames.notificationTopic} must be an SNS topic ARN or local:console, not "${target}"`);
};

const printToConsole = (items: readonly BuyerNotification[]): void => {
  // One line each, whatever the message holds.
  const oneLine = (text: string) => text.replace(/\s*[\r\n]+\s*/g, ' ');
  for (const n of items) process.stdout.write(`🔔 buyer ${n.buyerId} · ${n.preorderId} · ${n.step} · ${oneLine(n.message)}\n`);
};

const entryOf = (id: string, n: BuyerNotification): PublishBatchRequestEntry => ({
  Id: id,
  Message: JSON.stringify(n),
  // Subscriptions filter on these (one buyer's app, one step, one campaign's room, one language); the
  // platform renders its own text from template, params and locale without parsing the body.
  MessageAttributes: {
    buyerId: { DataType: 'String', StringValue: n.buyerId },
    step: { DataType: 'String', StringValue: n.step },
    campaignId: { DataType: 'String', StringValue: n.campaignId },
    template: { DataType: 'String', StringValue: n.template },
    locale: { DataType: 'String', StringValue: n.locale },
    params: { DataType: 'String', StringValue: JSON.stringify(n.params) },
  },
});

/**
 * Publishes 10 per PublishBatch call. Entries SNS fails on its side are
 * retried; what still fails, or fails for a reason a retry cannot fix
 * (SenderFault), is thrown so the caller's queue redelivers.
 */
export const publishToTopic = async (topicArn: string, items: readonly BuyerNotification[], send: SendPublishBatch): Promise<void> => {
  for (let i = 0; i < items.length; i += publishBatchSize) {
    // Entry ids only need to be unique within a request; the position is short and always valid.
    let chunk = items.slice(i, i + publishBatchSize).map((n, j) => entryOf(`n${i + j}`, n));
    for (let attempt = 0; chunk.length > 0; attempt++) {
      const out = await send(new PublishBatchCommand({ TopicArn: topicArn, PublishBatchRequestEntries: chunk }));
      const failed = out.Failed ?? [];
      if (failed.length === 0) break;
      const refused = failed.find((f) => f.SenderFault);
      if (refused) throw new Error(`SNS refused notification ${refused.Id}: ${refused.Code} ${refused.Message ?? ''}`.trim());
      const failedIds = new Set(failed.map((f) => f.Id));
      chunk = chunk.filter((entry) => failedIds.has(entry.Id));
      if (attempt >= 3) throw new Error(`SNS failed ${chunk.length} notifications: ${failed[0]?.Code} ${failed[0]?.Message ?? ''}`.trim());
      await new Promise((r) => setTimeout(r, 50 * 2 ** attempt));
    }
  }
};
