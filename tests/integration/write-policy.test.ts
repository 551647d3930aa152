import { afterEach, describe, expect, it, vi } from 'vitest';
import { TransactionCanceledException, TransactionConflictException } from '@aws-sdk/client-dynamodb';
import { GetCommand, TransactWriteCommand, UpdateCommand } from '@aws-sdk/lib-dynamodb';
import { useLocalTable } from '../support/table.ts';
import { testCampaign } from '../support/campaigns.ts';

/**
 * The one retry policy of c2m's writes (dynamo.ts: transactWrite, guardedTransact,
 * writeItem), against DynamoDB Local. DynamoDB Local does not make contention
 * on demand, so the contention here is injected: the client's `send` answers
 * the next N calls with the cancellation AWS gives a transaction that met
 * another (TransactionConflict), and passes everything else to DynamoDB Local.
 * That is the only thing mocked; every write that commits is real.
 */
const tableName = await useLocalTable();
const { ddb, guardedTransact, transactWrite, writeItem } = await import('../../functions/adapters/dynamo.ts');
const { OverloadedError } = await import('../../functions/domain/errors.ts');
const campaigns = await import('../../functions/adapters/campaign-store.ts');
const preorders = await import('../../functions/adapters/preorder-store.ts');
const { newPreorder } = await import('../../functions/domain/preorder.ts');
const { newId } = await import('../../functions/shared/ids.ts');

const cancelled = (items: number, code: string) =>
  new TransactionCanceledException({
    message: `Transaction cancelled, please refer cancellation reasons for specific reasons [${code}]`,
    $metadata: {},
    CancellationReasons: Array.from({ length: items }, (_, i) => (i === 0 ? { Code: code } : { Code: 'None' })),
  });

/**
 * The next `n` calls of a command kind are cancelled with `code` (contention, by default); returns how many of that kind
 * were sent in all.
 */
const contend = (kind: typeof TransactWriteCommand | typeof UpdateCommand, n: number, code = 'TransactionConflict') => {
  const send = ddb.send.bind(ddb);
  let left = n;
  let sent = 0;
  vi.spyOn(ddb, 'send').mockImplementation(((command: unknown) => {
    if (command instanceof kind) {
      sent++;
      if (left > 0) {
        left--;
        const error =
          command instanceof TransactWriteCommand
            ? cancelled(command.input.TransactItems?.length ?? 1, code)
            : new TransactionConflictException({ message: 'Transaction is ongoing for the item', $metadata: {} });
        return Promise.reject(error);
      }
    }
    return send(command as never);
  }) as typeof ddb.send);
  return { sent: () => sent };
};

afterEach(() => {
  vi.restoreAllMocks();
});

const counterKey = (id: string) => ({ PK: `TEST#${id}`, SK: 'COUNTER' });
const addOne = (id: string, condition?: string) => ({
  Update: {
    TableName: tableName,
    Key: counterKey(id),
    UpdateExpression: 'ADD n :one',
    ...(condition && { ConditionExpression: condition }),
    ExpressionAttributeValues: { ':one': 1, ...(condition?.includes(':max') && { ':max': 1 }) },
  },
});
const readCount = async (id: string) =>
  Number((await ddb.send(new GetCommand({ TableName: tableName, Key: counterKey(id), ConsistentRead: true }))).Item?.n ?? 0);

describe('the write policy', () => {
  it('retries a transaction that met another until it commits, and it counts once', async () => {
    const id = newId('t');
    const calls = contend(TransactWriteCommand, 3);
    expect(await transactWrite([addOne(id), addOne(`${id}-b`)])).toBe('done');
    expect(calls.sent()).toBe(4);
    expect(await readCount(id)).toBe(1);
    expect(await readCount(`${id}-b`)).toBe(1);
  });

  it('tells the caller to slow down after eight tries, having written nothing', async () => {
    const id = newId('t');
    const calls = contend(TransactWriteCommand, 100);
    await expect(transactWrite([addOne(id)])).rejects.toBeInstanceOf(OverloadedError);
    expect(calls.sent()).toBe(8);
    expect(await readCount(id)).toBe(0);
  });

  it('throws at once what no retry can change (an item past 400 KB is a ValidationError), instead of telling the client to slow down', async () => {
    const id = newId('t');
    const calls = contend(TransactWriteCommand, 1, 'ValidationError');
    await expect(transactWrite([addOne(id)])).rejects.toBeInstanceOf(TransactionCanceledException);
    expect(calls.sent()).toBe(1);
    // Throttled is contention: tried again, and it commits.
    vi.restoreAllMocks();
    const throttled = contend(TransactWriteCommand, 2, 'ThrottlingError');
    expect(await transactWrite([addOne(id)])).toBe('done');
    expect(throttled.sent()).toBe(3);
    expect(await readCount(id)).toBe(1);
  });

  it('returns a failed condition at once, naming the item, and never retries it', async () => {
    const id = newId('t');
    await transactWrite([addOne(`${id}-b`)]);
    const calls = contend(TransactWriteCommand, 0);
    const why = await transactWrite([addOne(id), addOne(`${id}-b`, 'attribute_not_exists(n) OR n < :max')]);
    expect(why).not.toBe('done');
    expect(why === 'done' ? [] : why.codes).toEqual(['None', 'ConditionalCheckFailed']);
    expect(calls.sent()).toBe(1);
    expect(await readCount(id)).toBe(0);
  });

  it('hands contention back when the caller would rather plan again', async () => {
    const id = newId('t');
    const calls = contend(TransactWriteCommand, 1);
    const why = await transactWrite([addOne(id)], { onConflict: 'return' });
    expect(why === 'done' ? [] : why.codes).toEqual(['TransactionConflict']);
    expect(calls.sent()).toBe(1);
    expect(await readCount(id)).toBe(0);
  });

  it('decides a guarded transaction by its first item, and throws when another item refuses', async () => {
    const id = newId('t');
    expect(await guardedTransact([addOne(id, 'attribute_not_exists(n)'), addOne(`${id}-b`)])).toBe('done');
    expect(await guardedTransact([addOne(id, 'attribute_not_exists(n)'), addOne(`${id}-b`)])).toBe('refused');
    await expect(guardedTransact([addOne(`${id}-c`), addOne(id, 'attribute_not_exists(n)')])).rejects.toThrow(/None, ConditionalCheckFailed/);
    expect(await readCount(`${id}-b`)).toBe(1);
    expect(await readCount(`${id}-c`)).toBe(0);
  });

  it('retries a single write that met a transaction, and reports its failed condition', async () => {
    const id = newId('t');
    const update = () =>
      new UpdateCommand({ ...addOne(id, 'attribute_not_exists(n) OR n < :max').Update });
    const calls = contend(UpdateCommand, 2);
    expect(await writeItem(update())).toBe('done');
    expect(calls.sent()).toBe(3);
    expect(await writeItem(update())).toBe('condition-failed');
    expect(await readCount(id)).toBe(1);
  });
});

describe('a placement meeting contention', () => {
  const address = { name: 'A', phone: '+8612345', line1: 'l', city: 'c', region: 'r', postalCode: '100000', country: 'CN' };

  it('is placed once, its units counted on exactly one gate, after its gate was busy', async () => {
    const campaign = testCampaign({ maxTotalQuantity: 1_000 });
    expect((await campaigns.createCampaign(campaign, 'hash')).created).toBe(true);
    const calls = contend(TransactWriteCommand, 3);
    const result = await preorders.placePreorder(
      (gateTakes) =>
        newPreorder({ preorderId: newId('po'), campaign, buyerId: 'b', sku: campaign.variants[0]!.sku, unitPrice: 100, quantity: 3, shippingAddress: address, gateTakes, now: new Date() }),
      campaign,
      3,
      'hash',
    );
    expect(calls.sent()).toBe(4);
    expect(result.placed).toBe(true);
    const gates = await campaigns.readGates(campaign, true);
    expect(gates.reduce((n, g) => n + (g.remaining ?? 0), 0)).toBe(997);
    const stored = await preorders.getPreorder(result.placed ? result.preorder.preorderId : '', true);
    expect(stored?.gateTakes).toEqual(result.placed ? result.preorder.gateTakes : []);
  });

  it('has eight tries in all, then tells its buyer to slow down, with nothing placed', async () => {
    const campaign = testCampaign({ maxTotalQuantity: 1_000 });
    expect((await campaigns.createCampaign(campaign, 'hash')).created).toBe(true);
    const preorderId = newId('po');
    const calls = contend(TransactWriteCommand, 100);
    await expect(
      preorders.placePreorder(
        (gateTakes) =>
          newPreorder({ preorderId, campaign, buyerId: 'b', sku: campaign.variants[0]!.sku, unitPrice: 100, quantity: 1, shippingAddress: address, gateTakes, now: new Date() }),
        campaign,
        1,
        'hash',
      ),
    ).rejects.toBeInstanceOf(OverloadedError);
    expect(calls.sent()).toBe(8);
    vi.restoreAllMocks();
    expect(await preorders.getPreorder(preorderId, true)).toBeUndefined();
  });
});
