import { describe, expect, it } from 'vitest';
import { useLocalTable } from '../support/table.ts';
import { testCampaign } from '../support/campaigns.ts';

// The anchor's list of a campaign's pre-orders, against DynamoDB Local: a merge of 64 index partitions.
const tableName = await useLocalTable();
const campaigns = await import('../../functions/adapters/campaign-store.ts');
const preorders = await import('../../functions/adapters/preorder-store.ts');
const { newPreorder } = await import('../../functions/domain/preorder.ts');
const { newId } = await import('../../functions/shared/ids.ts');

const address = { name: 'A', phone: '+8612345', line1: 'l', city: 'c', region: 'r', postalCode: '100000', country: 'CN' };

const campaignWith = async (count: number, buyerOf = (i: number) => `b${i % 5}`) => {
  const campaign = testCampaign({ variants: [{ sku: 'A', name: 'a', unitPrice: 100 }], lotSize: 1000 });
  expect((await campaigns.createCampaign(campaign, 'hash')).created).toBe(true);
  const placed: string[] = [];
  const refs: Parameters<typeof preorders.putOrderRefs>[0][number][] = [];
  for (let i = 0; i < count; i++) {
    const r = await preorders.placePreorder(
      (gateTakes) =>
        newPreorder({ preorderId: newId('po'), campaign, buyerId: buyerOf(i), sku: 'A', unitPrice: 100, quantity: 1, shippingAddress: address, gateTakes, now: new Date(Date.now() + i) }),
      campaign,
      1,
      'hash',
    );
    if (!r.placed) throw new Error('not placed');
    placed.push(r.preorder.preorderId);
    refs.push(r.preorder);
  }
  // What intake does for them from the table's stream (no stream consumer runs in this file): list them.
  // Each named twice in one call, as a stream batch holding a copy may: one write each, listed once.
  await preorders.putOrderRefs([...refs, ...refs]);
  return { campaign, placed };
};

type Page = Awaited<ReturnType<typeof preorders.listPreordersForCampaign>>;
const all = async (list: (cursor: string | undefined) => Promise<Page>) => {
  const ids: string[] = [];
  const sizes: number[] = [];
  let cursor: string | undefined;
  for (let pages = 0; pages < 200; pages++) {
    const page = await list(cursor);
    if (page === 'invalid-cursor') throw new Error('invalid cursor');
    ids.push(...page.items.map((p) => p.preorderId));
    sizes.push(page.items.length);
    cursor = page.nextCursor;
    if (!cursor) return { ids, sizes };
  }
  throw new Error('the pages never end');
};

describe("A campaign's pre-orders, newest first over every gate shard", () => {
  it('a rare status is found within a read budget per page: short or empty pages carry a cursor, and together they hold each match once, in order', async () => {
    const { campaign, placed } = await campaignWith(90);
    const refundedIds = [placed[7]!, placed[61]!];
    const entries = [{ at: new Date().toISOString(), status: 'REFUNDED' as const, note: 'x' }];
    for (const id of refundedIds) {
      const p = (await preorders.getPreorder(id, true))!;
      expect(await preorders.cancelPreorder(p, entries, campaign, new Date(), [])).toBe(true);
    }
    const found = await all((cursor) => preorders.listPreordersForCampaign(campaign, { limit: 5, status: 'REFUNDED', cursor, readBudget: 20 }));
    expect(found.ids).toEqual([placed[61], placed[7]]);
    expect(found.sizes.length).toBeGreaterThan(2); // the budget cut pages short, and the cursor carried on
    const everyone = await all((cursor) => preorders.listPreordersForCampaign(campaign, { limit: 7, cursor }));
    expect(everyone.ids).toEqual([...placed].reverse());
    const unlimited = await all((cursor) => preorders.listPreordersForCampaign(campaign, { limit: 5, status: 'REFUNDED', cursor }));
    expect(unlimited).toEqual({ ids: [placed[61], placed[7]], sizes: [2] });
  });
});

describe("A buyer's pre-orders, from the buyer index on the pre-orders' refs", () => {
  type BuyerPage = Awaited<ReturnType<typeof preorders.listPreordersForBuyer>>;
  const allOfBuyer = async (list: (cursor: string | undefined) => Promise<BuyerPage>) => all(list as (cursor: string | undefined) => Promise<Page>);

  it('lists each of a fan’s pre-orders once, newest first, across campaigns and across the change (an older pre-order indexed on its own item), and one campaign’s alone for its anchor', async () => {
    // Prepare: two campaigns, fan-0 in both; one older pre-order whose index entry is on its own item.
    const buyerOf = (i: number) => (i % 5 === 0 ? 'fan-0' : `fan-${i}`);
    const first = await campaignWith(6, buyerOf);
    const second = await campaignWith(6, buyerOf);
    const mineIn = (placed: string[]) => placed.filter((_, i) => i % 5 === 0);
    const older = newPreorder({ preorderId: newId('po'), campaign: first.campaign, buyerId: 'fan-0', sku: 'A', unitPrice: 100, quantity: 1, shippingAddress: address, gateTakes: [{ shard: 0, units: 1 }], now: new Date(Date.now() - 86_400_000) });
    const { ddb } = await import('../../functions/adapters/dynamo.ts');
    const { PutCommand, UpdateCommand } = await import('@aws-sdk/lib-dynamodb');
    await ddb.send(new PutCommand({ TableName: tableName, Item: { ...preorders.toItem(older, 'h'), GSI1PK: 'BUYER#fan-0', GSI1SK: `${older.createdAt}#${older.preorderId}` } }));
    const expected = [...mineIn(second.placed).reverse(), ...mineIn(first.placed).reverse(), older.preorderId];

    // Act
    const listed = await allOfBuyer((cursor) => preorders.listPreordersForBuyer('fan-0', 1, cursor));
    const inFirst = await all((cursor) => preorders.listPreordersForCampaign(first.campaign, { limit: 1, buyerId: 'fan-0', cursor }));

    // Assess
    expect(listed.ids).toEqual(expected);
    expect(inFirst.ids).toEqual([...mineIn(first.placed).reverse(), older.preorderId]);
    // A change of a pre-order placed now writes no buyer-index entry: the entry is on its ref, which never changes.
    const out = await ddb.send(
      new UpdateCommand({
        TableName: tableName,
        Key: preorders.preorderKey(first.placed[0]!),
        UpdateExpression: 'SET updatedAt = :now',
        ExpressionAttributeValues: { ':now': new Date().toISOString() },
        ReturnConsumedCapacity: 'INDEXES',
      }),
    );
    expect(Object.keys(out.ConsumedCapacity?.GlobalSecondaryIndexes ?? {})).not.toContain('GSI1');
  });
});
