import { afterEach, describe, expect, it, vi } from 'vitest';
import type { PublishBatchCommand, PublishBatchCommandOutput } from '@aws-sdk/client-sns';
import { envNames } from '../../lib/topology.ts';
import { withEnvironment } from '../../functions/shared/config.ts';
import { publishToTopic, sendNotifications, type BuyerNotification } from '../../functions/adapters/notification-channel.ts';

// The SNS path cannot run here (no AWS). What can be checked without it is checked
// through publishToTopic with a fake `send`: batching into calls of 10 and retries.

const notification = (i: number, over: Partial<BuyerNotification> = {}): BuyerNotification => ({
  notificationId: `po_${i}:SHIPPED`,
  preorderId: `po_${i}`,
  buyerId: `b-${i}`,
  campaignId: 'cmp_1',
  step: 'SHIPPED',
  message: `Your order ${i} is on its way`,
  at: '2026-05-01T10:00:00.000Z',
  ...over,
});

const withTarget = <T>(value: string, fn: () => Promise<T>) => withEnvironment({ [envNames.notificationTopic]: value }, fn);

afterEach(() => {
  vi.restoreAllMocks();
});

describe('The notification channel, locally', () => {
  it('When the target is local:console, each notification is printed as exactly one line naming buyer, pre-order, step and message', async () => {
    // Prepare
    const lines: string[] = [];
    vi.spyOn(process.stdout, 'write').mockImplementation((chunk: string | Uint8Array) => {
      lines.push(String(chunk));
      return true;
    });
    const items = [notification(1), notification(2, { step: 'DELIVERED', message: 'Delivered.\nEnjoy!' }), notification(3)];

    // Act
    await withTarget('local:console', () => sendNotifications(items));

    // Assess
    const printed = lines.join('').split('\n').filter((line) => line.length > 0);
    expect(printed).toHaveLength(items.length);
    printed.forEach((line, i) => {
      const n = items[i] as BuyerNotification;
      for (const part of [n.buyerId, n.preorderId, n.step]) expect(line).toContain(part);
    });
    expect(printed[0]).toContain('Your order 1 is on its way');
    expect(printed[1]).toContain('Delivered. Enjoy!');
  });

  it('When the target is neither an ARN nor local:console, sending fails naming NOTIFICATION_TOPIC_ARN', async () => {
    await expect(withTarget('console', () => sendNotifications([notification(1)]))).rejects.toThrow(envNames.notificationTopic);
  });

  it('When no target is configured, sending fails naming NOTIFICATION_TOPIC_ARN', async () => {
    await expect(withEnvironment({}, () => sendNotifications([notification(1)]))).rejects.toThrow(envNames.notificationTopic);
  });
});

describe('The notification channel, to SNS (fake send)', () => {
  const topicArn = 'arn:aws:sns:ap-east-1:123456789012:c2m-buyer-notifications';
  const ok = (command: PublishBatchCommand): PublishBatchCommandOutput => ({
    $metadata: {},
    Successful: (command.input.PublishBatchRequestEntries ?? []).map((e) => ({ Id: e.Id, MessageId: `m-${e.Id}` })),
    Failed: [],
  });

  it('Twenty-three notifications go out in calls of 10, 10 and 3, each entry with its JSON and filterable attributes', async () => {
    // Prepare
    const calls: PublishBatchCommand[] = [];
    const items = Array.from({ length: 23 }, (_, i) => notification(i));

    // Act
    await publishToTopic(topicArn, items, async (command) => {
      calls.push(command);
      return ok(command);
    });

    // Assess
    expect(calls.map((c) => c.input.PublishBatchRequestEntries?.length)).toEqual([10, 10, 3]);
    const entries = calls.flatMap((c) => c.input.PublishBatchRequestEntries ?? []);
    expect(calls.every((c) => c.input.TopicArn === topicArn)).toBe(true);
    expect(entries.map((e) => JSON.parse(e.Message ?? '') as BuyerNotification)).toEqual(items);
    for (const e of entries) expect(e.Id).toMatch(/^[A-Za-z0-9_-]{1,80}$/);
    expect(entries[4]?.MessageAttributes).toEqual({
      buyerId: { DataType: 'String', StringValue: 'b-4' },
      step: { DataType: 'String', StringValue: 'SHIPPED' },
      campaignId: { DataType: 'String', StringValue: 'cmp_1' },
    });
  });

  it('Entries SNS fails on its side are retried alone', async () => {
    // Prepare: the second entry fails once, then succeeds.
    const calls: PublishBatchCommand[] = [];
    const flaky = async (command: PublishBatchCommand) => {
      calls.push(command);
      const [first, second] = command.input.PublishBatchRequestEntries ?? [];
      if (calls.length === 1 && second) {
        return { ...ok(command), Successful: [{ Id: first?.Id, MessageId: 'm' }], Failed: [{ Id: second.Id, Code: 'InternalError', SenderFault: false }] };
      }
      return ok(command);
    };

    // Act
    await publishToTopic(topicArn, [notification(1), notification(2)], flaky);

    // Assess
    expect(calls).toHaveLength(2);
    expect((calls[1]?.input.PublishBatchRequestEntries ?? []).map((e) => (JSON.parse(e.Message ?? '') as BuyerNotification).preorderId)).toEqual(['po_2']);
  });

  it('Entries SNS keeps failing, or refuses as the sender’s fault, are thrown for the queue to redeliver', async () => {
    let tries = 0;
    await expect(
      publishToTopic(topicArn, [notification(1)], async (command) => {
        tries++;
        return { $metadata: {}, Failed: [{ Id: command.input.PublishBatchRequestEntries?.[0]?.Id, Code: 'InternalError', SenderFault: false }] };
      }),
    ).rejects.toThrow(/InternalError/);
    expect(tries).toBe(4);
    await expect(
      publishToTopic(topicArn, [notification(1)], async (command) => ({
        $metadata: {},
        Failed: [{ Id: command.input.PublishBatchRequestEntries?.[0]?.Id, Code: 'InvalidParameter', SenderFault: true }],
      })),
    ).rejects.toThrow(/InvalidParameter/);
  });
});
