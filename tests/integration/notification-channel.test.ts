import { afterEach, describe, expect, it, vi } from 'vitest';
import type { PublishBatchCommand, PublishBatchCommandOutput } from '@aws-sdk/client-sns';
import { GetCommand, PutCommand, UpdateCommand } from '@aws-sdk/lib-dynamodb';
import { envNames } from '../../lib/topology.ts';
import { withEnvironment } from '../../functions/shared/config.ts';
import { publishToTopic, sendNotifications, type BuyerNotification } from '../../functions/adapters/notification-channel.ts';
import { followLikeIntake, useLocalTable } from '../support/table.ts';

// The SNS path cannot run here (no AWS). What can be checked without it is checked
// through publishToTopic with a fake `send`: batching into calls of 10 and retries.
// Flushing (what the notifier and the functions that change pre-orders do) runs
// in-process against DynamoDB Local, counting the lines the local channel prints.
const tableName = await useLocalTable();
const { ddb } = await import('../../functions/adapters/dynamo.ts');
const { getPreorderWithNotices: getPreorder, preorderKey, toItem } = await import('../../functions/adapters/preorder-store.ts');
const { noticesKey, batchPageKey, recordPageUntold, claimBatchPage } = await import('../../functions/adapters/notice-store.ts');
const { newPreorder } = await import('../../functions/domain/preorder.ts');
const { flushNotifications } = await import('../../functions/handlers/notifications/flush.ts');
const { tellBatch } = await import('../../functions/handlers/notifications/batch-pages.ts');

const notification = (i: number, over: Partial<BuyerNotification> = {}): BuyerNotification => ({
  notificationId: `po_${i}:SHIPPED`,
  preorderId: `po_${i}`,
  buyerId: `b-${i}`,
  campaignId: 'cmp_1',
  step: 'SHIPPED',
  template: 'preorder.shipped',
  params: { quantity: 1, shipped: i, carrier: 'SF Express', trackingNumber: `SF${i}` },
  locale: 'en',
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

  it('Twenty-three notifications go out in calls of 10, 10 and 3, each entry with its JSON and its template, params and locale as attributes', async () => {
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
      template: { DataType: 'String', StringValue: 'preorder.shipped' },
      locale: { DataType: 'String', StringValue: 'en' },
      params: { DataType: 'String', StringValue: expect.any(String) as string },
    });
    // The platform renders its own text from the params attribute alone: it must parse back to the values.
    expect(JSON.parse(entries[4]?.MessageAttributes?.params?.StringValue ?? '')).toEqual({ quantity: 1, shipped: 4, carrier: 'SF Express', trackingNumber: 'SF4' });
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

describe('Flushing pre-orders to the channel, against DynamoDB Local', () => {
  const address = { name: 'A', phone: '+8612345', line1: 'l', city: 'c', region: 'r', postalCode: '100000', country: 'CN' };
  const campaign = { campaignId: 'cmp_flush', currency: 'CNY', closesAt: new Date().toISOString(), promisedShipDays: 7 };
  const flushLocally = <T>(fn: () => Promise<T>) => withEnvironment({ ...process.env, [envNames.notificationTopic]: 'local:console' }, fn);

  /** Every step's note names its pre-order and position, so a printed line tells which notification it was. */
  const note = (preorderId: string, n: number) => `${preorderId} step ${n}`;
  /** A pre-order as placed now (its "accepted" is intake's to tell), or `fromBefore` that (told by a flush, claimed and recorded). */
  const place = async (preorderId: string, opts: { fromBefore?: boolean } = {}) => {
    const p = newPreorder({ preorderId, campaign, buyerId: `b-${preorderId}`, sku: 'M', unitPrice: 100, quantity: 1, shippingAddress: address, gateTakes: [{ shard: 0, units: 1 }], now: new Date() });
    const { acceptedOnIntake: _mine, ...before } = p;
    await ddb.send(new PutCommand({ TableName: tableName, Item: toItem({ ...(opts.fromBefore ? before : p), timeline: [{ ...p.timeline[0]!, note: note(preorderId, 1) }] }, 'h') }));
  };
  /** What intake does with these pre-orders' stream records: tell "accepted", list them, flush what others left to it. */
  const intake = (preorderIds: readonly string[]) => flushLocally(() => followLikeIntake(preorderIds));
  /** A change of the pre-order appends its step, as every fulfillment change does (list_append in its transaction). */
  const appendStep = async (preorderId: string, n: number) =>
    ddb.send(
      new UpdateCommand({
        TableName: tableName,
        Key: preorderKey(preorderId),
        UpdateExpression: 'SET timeline = list_append(timeline, :e)',
        ExpressionAttributeValues: {
          ':e': [
            {
              at: new Date().toISOString(),
              status: 'IN_PRODUCTION',
              step: 'delayed',
              template: 'preorder.delayed',
              params: { promisedShipBy: '2026-05-01', shipBy: '2026-05-08' },
              note: note(preorderId, n),
            },
          ],
        },
      }),
    );
  /** The cut's step: "batched", told with page `page` of `batchId` (cutting.ts writes it so). */
  const appendBatched = async (preorderId: string, n: number, batchId: string, page = 0, at = new Date()) =>
    ddb.send(
      new UpdateCommand({
        TableName: tableName,
        Key: preorderKey(preorderId),
        UpdateExpression: 'SET #status = :batched, batchId = :b, timeline = list_append(timeline, :e)',
        ExpressionAttributeNames: { '#status': 'status' },
        ExpressionAttributeValues: {
          ':batched': 'BATCHED',
          ':b': batchId,
          ':e': [{ at: at.toISOString(), status: 'BATCHED', template: 'preorder.batched', params: { confirmBy: '2026-05-01' }, note: note(preorderId, n), toldBy: { batchId, page } }],
        },
      }),
    );
  const noticesItem = async (preorderId: string) => (await ddb.send(new GetCommand({ TableName: tableName, Key: noticesKey(preorderId), ConsistentRead: true }))).Item;
  /** The pre-order as the buyer API reads it: with its notifications. */
  const read = async (preorderId: string) => (await getPreorder(preorderId, true))!;
  /** The notification ids the local channel printed, in order (a line is `🔔 buyer … · <preorderId> · <step> · <note>`). */
  const printedIds = (onPrinted?: (id: string) => void) => {
    const ids: string[] = [];
    vi.spyOn(process.stdout, 'write').mockImplementation((chunk: string | Uint8Array) => {
      for (const line of String(chunk).split('\n')) {
        const m = /^🔔 .* · (\S+) step (\d+)$/.exec(line);
        if (m) ids.push(`${m[1]}:${m[2]}`);
        if (m) onPrinted?.(`${m[1]}:${m[2]}`);
      }
      return true;
    });
    return ids;
  };
  const expectEachStepSentAndRecordedOnce = async (preorderIds: readonly string[], printed: readonly string[]) => {
    const expected: string[] = [];
    for (const id of preorderIds) {
      const item = await read(id);
      const timeline = item.timeline;
      const ids = timeline.map((_, i) => `${id}:${i + 1}`);
      expected.push(...ids);
      const recorded = item.notifications ?? [];
      expect(recorded.map((n) => n.notificationId), `${id} recorded`).toEqual(ids);
      expect(recorded.map((n) => n.message)).toEqual(timeline.map((t) => t.note));
      expect(item.notifiedCount).toBe(timeline.length);
    }
    const repeated = printed.filter((id, i) => printed.indexOf(id) !== i);
    expect(repeated, 'notifications the channel sent more than once').toEqual([]);
    expect([...printed].sort()).toEqual([...expected].sort());
  };

  it('When 8 flushes run at once on the same pre-orders, round after round while steps are appended, the channel sends each notification exactly once', async () => {
    // Prepare
    const preorderIds = Array.from({ length: 5 }, (_, i) => `po_race${i}`);
    await Promise.all(preorderIds.map((id) => place(id)));
    const steps = new Map(preorderIds.map((id) => [id, 1]));
    const printed = printedIds();

    // Act: each round, 8 flushers (in the order each caller happens to list the pre-orders) race a new step per pre-order.
    for (let round = 0; round < 5; round++) {
      const appends = preorderIds.map(async (id, i) => {
        await new Promise((r) => setTimeout(r, (i * 7 + round * 3) % 15));
        const n = steps.get(id)! + 1;
        steps.set(id, n);
        await appendStep(id, n);
      });
      const flushes = Array.from({ length: 8 }, (_, f) => flushLocally(() => flushNotifications(f % 2 ? preorderIds : [...preorderIds].reverse())));
      // Intake reads the stream while the first round's steps and flushes race it: until it has told "accepted", they send nothing.
      await Promise.all([...appends, ...flushes, ...(round === 0 ? [intake(preorderIds)] : [])]);
    }
    // The steps appended after the last round's flushers looked are the next flush's.
    await flushLocally(() => flushNotifications(preorderIds));

    // Assess
    await expectEachStepSentAndRecordedOnce(preorderIds, printed);
    expect(printed).toHaveLength(preorderIds.length * 6);
  }, 120_000);

  it('When a flush died between sending and recording, the next one sends those steps again with the same ids once its lease has expired, and records each once', async () => {
    // Prepare: a step sent by a flush that died holding its claim, now expired.
    await place('po_crashed', { fromBefore: true });
    await appendStep('po_crashed', 2);
    await ddb.send(
      new PutCommand({
        TableName: tableName,
        Item: { ...noticesKey('po_crashed'), type: 'notices', count: 0, sentAt: [], lease: { leaseId: 'dead-flush', expiresAt: Date.now() - 1 } },
      }),
    );
    const printed = printedIds();

    // Act
    const sent = await Promise.all(Array.from({ length: 4 }, () => flushLocally(() => flushNotifications(['po_crashed']))));

    // Assess
    expect(sent.reduce((n, k) => n + k, 0)).toBe(2);
    await expectEachStepSentAndRecordedOnce(['po_crashed'], printed);
    expect((await read('po_crashed')).notifyLease).toBeUndefined();
  });

  it('A flush leaves the pre-order item as it was: what was sent is recorded on its own notices item, so the pre-order and its index entries are not rewritten', async () => {
    // Prepare
    await place('po_apart');
    await intake(['po_apart']);
    await appendStep('po_apart', 2);
    const raw = async () => (await ddb.send(new GetCommand({ TableName: tableName, Key: preorderKey('po_apart'), ConsistentRead: true }))).Item;
    const before = await raw();
    printedIds();

    // Act
    const sent = await flushLocally(() => flushNotifications(['po_apart']));

    // Assess: step 2 (intake told the first)
    expect(sent).toBe(1);
    expect(await raw()).toEqual(before);
    const notices = (await ddb.send(new GetCommand({ TableName: tableName, Key: noticesKey('po_apart'), ConsistentRead: true }))).Item!;
    expect(notices).toMatchObject({ count: 2 });
    expect(Object.keys(notices).filter((k) => k.startsWith('GSI'))).toEqual([]);
    expect((await read('po_apart')).notifications?.map((n) => n.notificationId)).toEqual(['po_apart:1', 'po_apart:2']);
  });

  it('A pre-order whose first notifications were recorded on the pre-order item (before notices items) keeps them, and its later steps are sent once, numbered on from them', async () => {
    // Prepare: step 1 recorded the old way, steps 2 and 3 not yet sent.
    await place('po_older', { fromBefore: true });
    await appendStep('po_older', 2);
    await appendStep('po_older', 3);
    const first = (await read('po_older')).timeline[0]!;
    const oldRecord = { notificationId: 'po_older:1', at: first.at, step: 'ACCEPTED', template: first.template, params: first.params, locale: 'en', message: first.note, sentAt: '2026-01-01T00:00:00.000Z' };
    await ddb.send(
      new UpdateCommand({
        TableName: tableName,
        Key: preorderKey('po_older'),
        UpdateExpression: 'SET notifications = :n, notifiedCount = :c',
        ExpressionAttributeValues: { ':n': [oldRecord], ':c': 1 },
      }),
    );
    const printed = printedIds();

    // Act
    const sent = await Promise.all([1, 2, 3].map(() => flushLocally(() => flushNotifications(['po_older']))));

    // Assess
    expect(sent.reduce((n, k) => n + k, 0)).toBe(2);
    expect(printed.sort()).toEqual(['po_older:2', 'po_older:3']);
    const told = (await read('po_older')).notifications ?? [];
    expect(told.map((n) => n.notificationId)).toEqual(['po_older:1', 'po_older:2', 'po_older:3']);
    expect(told[0]?.sentAt).toBe('2026-01-01T00:00:00.000Z');
    expect(told.map((n) => n.message)).toEqual([note('po_older', 1), note('po_older', 2), note('po_older', 3)]);
  });

  it('A pre-order placed now is told "accepted" by intake, first and once recorded: a flush before intake sends nothing, not even a later step, and after it the rest follows in order', async () => {
    // Prepare: placed, and batched before intake read it off the stream.
    await place('po_new');
    await appendStep('po_new', 2);
    const printed = printedIds();

    // Act: a flush before intake, then intake, then intake again (its stream batch redelivered).
    const early = await flushLocally(() => flushNotifications(['po_new']));
    const toldBefore = (await read('po_new')).notifications ?? [];
    await intake(['po_new']);
    await intake(['po_new']);

    // Assess
    expect(early).toBe(0);
    expect(toldBefore).toEqual([]);
    // A redelivered batch tells "accepted" again under the same id (the channel de-duplicates on it); it is recorded once.
    expect(printed).toEqual(['po_new:1', 'po_new:2', 'po_new:1']);
    const item = await read('po_new');
    expect(item.notifications?.map((n) => n.notificationId)).toEqual(['po_new:1', 'po_new:2']);
    expect(item.notifications?.map((n) => n.message)).toEqual([note('po_new', 1), note('po_new', 2)]);
    expect(item.notifiedCount).toBe(2);
  });

  it('A released batch tells its members "batched" a page at a time: one write for the page and none on their own items; a flush before the page sends nothing of it, and what comes after follows in order', async () => {
    // Prepare: three pre-orders told "accepted" by intake, cut into one batch; the third has a step after it already.
    const ids = ['po_page1', 'po_page2', 'po_page3'];
    for (const id of ids) await place(id);
    const printed = printedIds();
    await intake(ids);
    for (const id of ids) await appendBatched(id, 2, 'bat_paged');
    await appendStep('po_page3', 3);

    // Act: flushes before the batch's page (another function's change, the notifier of a later event), then the page, then its event again.
    const early = await Promise.all(Array.from({ length: 4 }, () => flushLocally(() => flushNotifications(ids))));
    const toldEarly = (await read('po_page3')).notifications?.length;
    const first = await flushLocally(() => tellBatch('bat_paged', ids));
    const again = await flushLocally(() => tellBatch('bat_paged', ids));

    // Assess: nothing went before the page; then "batched" once each, the third's later step after it.
    expect(early).toEqual([0, 0, 0, 0]);
    expect(toldEarly).toBe(1);
    expect([first, again]).toEqual([4, 0]);
    expect(printed).toEqual(['po_page1:1', 'po_page2:1', 'po_page3:1', 'po_page1:2', 'po_page2:2', 'po_page3:2', 'po_page3:3']);
    await expectEachStepSentAndRecordedOnce(ids, printed);
    // The page is the record of "batched": the first two have no notices item at all (intake's ref records "accepted").
    expect(await noticesItem('po_page1')).toBeUndefined();
    expect(await noticesItem('po_page2')).toBeUndefined();
    const page = (await ddb.send(new GetCommand({ TableName: tableName, Key: batchPageKey({ batchId: 'bat_paged', page: 0 }), ConsistentRead: true }))).Item;
    expect(page?.told).toEqual(ids);
    // The third's later step was claimed and recorded on its notices item, which took the page's step in with it.
    expect(await noticesItem('po_page3')).toMatchObject({ count: 3, sentAt: [expect.any(String), page?.toldAt, expect.any(String)] });
    // The notifier's flush of a step behind a page not written yet is retried (its message comes back), not dropped.
    await place('po_page4');
    await intake(['po_page4']);
    await appendBatched('po_page4', 2, 'bat_later');
    await expect(flushLocally(() => flushNotifications(['po_page4'], { whenStillClaimed: 'throw' }))).rejects.toThrow(/try again later/);
  });

  it('A member with an earlier step still unsent is not told with the page: its steps go out in order by a flush, and the page names only the others', async () => {
    // Prepare: the first has a delay notice not yet sent when its batch is cut.
    const ids = ['po_behind', 'po_ontime'];
    for (const id of ids) await place(id);
    const printed = printedIds();
    await intake(ids);
    await appendStep('po_behind', 2);
    await appendBatched('po_behind', 3, 'bat_mixed');
    await appendBatched('po_ontime', 2, 'bat_mixed');

    // Act
    await flushLocally(() => tellBatch('bat_mixed', ids));

    // Assess
    expect(printed.filter((id) => id.startsWith('po_behind'))).toEqual(['po_behind:1', 'po_behind:2', 'po_behind:3']);
    await expectEachStepSentAndRecordedOnce(ids, printed);
    const page = (await ddb.send(new GetCommand({ TableName: tableName, Key: batchPageKey({ batchId: 'bat_mixed', page: 0 }), ConsistentRead: true }))).Item;
    expect(page?.told).toEqual(['po_ontime']);
  });

  it('A cut given up tells nobody with its pages: once they say so, its members’ "batched" and what follows go out as any step', async () => {
    // Prepare: batched by a cut that was then given up (VOID), and put back in line.
    await place('po_void');
    const printed = printedIds();
    await intake(['po_void']);
    await appendBatched('po_void', 2, 'bat_void');
    await appendStep('po_void', 3);
    const before = await flushLocally(() => flushNotifications(['po_void']));

    // Act: the put-back writes the batch's pages empty (cutting.ts), then the next flush.
    await recordPageUntold({ batchId: 'bat_void', page: 0 }, new Date().toISOString());
    const after = await flushLocally(() => flushNotifications(['po_void']));

    // Assess
    expect([before, after]).toEqual([0, 2]);
    expect(printed).toEqual(['po_void:1', 'po_void:2', 'po_void:3']);
    await expectEachStepSentAndRecordedOnce(['po_void'], printed);
  });

  it('A step written while a page is being told (its own flush left it to the page) goes out after the page, once', async () => {
    // Prepare: a member whose "in production" step is written just as its page goes out; that step's own flush (fulfillment's) leaves it.
    await place('po_racing');
    let appended: Promise<unknown> | undefined;
    const printed = printedIds((id) => {
      if (id === 'po_racing:2') appended ??= appendStep('po_racing', 3).then(() => flushLocally(() => flushNotifications(['po_racing'])));
    });
    await intake(['po_racing']);
    await appendBatched('po_racing', 2, 'bat_racing');

    // The page is written only once that step and its flush are done: the flush meets the page not written yet.
    const send = ddb.send.bind(ddb);
    vi.spyOn(ddb, 'send').mockImplementation((async (command: { input: { Key?: { PK?: string }; UpdateExpression?: string } }) => {
      if (command.input.Key?.PK === 'BATCHTOLD#bat_racing' && command.input.UpdateExpression?.startsWith('SET toldAt')) await appended;
      return send(command as never);
    }) as never);

    // Act
    await flushLocally(() => tellBatch('bat_racing', ['po_racing']));

    // Assess
    expect(printed).toEqual(['po_racing:1', 'po_racing:2', 'po_racing:3']);
    await expectEachStepSentAndRecordedOnce(['po_racing'], printed);
  });

  it('Two notifiers of one released batch at once (its event delivered twice) send each page once: the page is claimed before it is sent', async () => {
    // Prepare
    const ids = ['po_twice1', 'po_twice2'];
    for (const id of ids) await place(id);
    const printed = printedIds();
    await intake(ids);
    for (const id of ids) await appendBatched(id, 2, 'bat_twice');

    // Act: the one that finds the page claimed by the other has its message come back (it throws) until the page is written.
    const outcomes = await Promise.allSettled([0, 1].map(() => flushLocally(() => tellBatch('bat_twice', ids))));
    const retried = await flushLocally(() => tellBatch('bat_twice', ids));

    // Assess
    expect(outcomes.filter((o) => o.status === 'fulfilled').length).toBeGreaterThanOrEqual(1);
    expect(retried).toBe(0);
    await expectEachStepSentAndRecordedOnce(ids, printed);
  });

  it('A member whose page never came (its batch’s event dead-lettered) waits for it: a flush sends nothing of it, and the redriven event tells it once', async () => {
    // Prepare: cut long ago; nothing wrote its page.
    await place('po_orphan');
    const printed = printedIds();
    await intake(['po_orphan']);
    await appendBatched('po_orphan', 2, 'bat_lost', 0, new Date(Date.now() - 24 * 3600_000));
    await appendStep('po_orphan', 3);

    // Act: the later step's notifier flush comes back (throws) while the page is missing; then the redriven batch event.
    await expect(flushLocally(() => flushNotifications(['po_orphan'], { whenStillClaimed: 'throw' }))).rejects.toThrow(/try again later/);
    const sent = await flushLocally(() => tellBatch('bat_lost', ['po_orphan']));

    // Assess
    expect(sent).toBe(2);
    expect(printed).toEqual(['po_orphan:1', 'po_orphan:2', 'po_orphan:3']);
    await expectEachStepSentAndRecordedOnce(['po_orphan'], printed);
  });

  it('A notifier that died holding a page’s claim (sent, not written) delays it by its claim only: the event, come back, waits it out and tells the page, recorded once', async () => {
    // Prepare: the dead notifier's claim, for another half second.
    const ids = ['po_dead1', 'po_dead2'];
    for (const id of ids) await place(id);
    const printed = printedIds();
    await intake(ids);
    for (const id of ids) await appendBatched(id, 2, 'bat_dead');
    expect(await claimBatchPage({ batchId: 'bat_dead', page: 0 }, 500)).toBeDefined();

    // Act
    const sent = await flushLocally(() => tellBatch('bat_dead', ids));

    // Assess
    expect(sent).toBe(2);
    await expectEachStepSentAndRecordedOnce(ids, printed);
  });

  it('A step stored before notices had templates is sent as the generic update of its step, in the buyer’s language, never with its old free-text note', async () => {
    // Prepare: an old item, no locale and no template, whose note names a batch and a factory.
    const p = newPreorder({ preorderId: 'po_legacy', campaign, buyerId: 'b-legacy', sku: 'M', unitPrice: 100, quantity: 1, shippingAddress: address, gateTakes: [], now: new Date() });
    const legacy = { at: new Date().toISOString(), status: 'BATCHED' as const, note: 'In production batch bat_01OLD at factory-9' };
    const { locale: _locale, acceptedOnIntake: _mine, ...item } = toItem({ ...p, timeline: [legacy] }, 'h');
    await ddb.send(new PutCommand({ TableName: tableName, Item: item }));
    const lines: string[] = [];
    vi.spyOn(process.stdout, 'write').mockImplementation((chunk: string | Uint8Array) => {
      lines.push(String(chunk));
      return true;
    });

    // Act
    await flushLocally(() => flushNotifications(['po_legacy']));

    // Assess
    const [sent] = (await read('po_legacy')).notifications ?? [];
    expect(sent).toMatchObject({ template: 'preorder.updated', params: { step: 'BATCHED' }, locale: 'zh-CN' });
    expect(sent?.message).toMatch(/[\u4e00-\u9fff]/);
    expect(`${sent?.message} ${lines.join('')}`).not.toMatch(/bat_|factory-9/);
  });
});
