import { describe, expect, it } from 'vitest';
import { useLocalTable } from '../support/table.ts';
import { testCampaign } from '../support/campaigns.ts';

// The anchor's list of a campaign's pre-orders, against DynamoDB Local: a merge of 64 index partitions.
await useLocalTable();
const campaigns = await import('../../functions/adapters/campaign-store.ts');
const preorders = await import('../../functions/adapters/preorder-store.ts');
const { newPreorder } = await import('../../functions/domain/preorder.ts');
const { newId } = await import('../../functions/shared/ids.ts');

const address = { name: 'A', phone: '+8612345', line1: 'l', city: 'c', region: 'r', postalCode: '100000', country: 'CN' };

const campaignWith = async (count: number) => {
  const campaign = testCampaign({ variants: [{ sku: 'A', name: 'a', unitPrice: 100 }], lotSize: 1000 });
  expect((await campaigns.createCampaign(campaign, 'hash')).created).toBe(true);
  const placed: string[] = [];
  for (let i = 0; i < count; i++) {
    const r = await preorders.placePreorder(
      (gateTakes) =>
        newPreorder({ preorderId: newId('po'), campaign, buyerId: `b${i % 5}`, sku: 'A', unitPrice: 100, quantity: 1, shippingAddress: address, gateTakes, now: new Date(Date.now() + i) }),
      campaign,
      1,
      'hash',
    );
    if (!r.placed) throw new Error('not placed');
    placed.push(r.preorder.preorderId);
  }
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
