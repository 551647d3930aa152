import { describe, expect, it } from 'vitest';
import { useEmulatorWithoutConsumers, useLocalTable } from '../support/table.ts';
import { testCampaign } from '../support/campaigns.ts';
import { expectPublishedEventsFitTheirSchemas } from '../support/events.ts';

// The address change in-process against DynamoDB Local, with no consumer running: a lot counted on the
// batch stays short of its pre-orders (the fulfillment consumer never runs), which the e2e test cannot hold.
await useLocalTable();
const emulator = await useEmulatorWithoutConsumers();
expectPublishedEventsFitTheirSchemas(emulator);

const campaigns = await import('../../functions/adapters/campaign-store.ts');
const preorders = await import('../../functions/adapters/preorder-store.ts');
const batches = await import('../../functions/adapters/batch-store.ts');
const { settleCampaign } = await import('../../functions/handlers/batches/cutting.ts');
const factoryApi = await import('../../functions/handlers/factory/use-cases.ts');
const { changeOwnShippingAddress } = await import('../../functions/handlers/preorders/address.ts');
const { AddressNotChangeableError } = await import('../../functions/domain/errors.ts');
const { newPreorder } = await import('../../functions/domain/preorder.ts');
const { newId } = await import('../../functions/shared/ids.ts');

const factory = { role: 'factory' as const, id: 'factory-1' };
const address = { name: 'A', phone: '+8612345', line1: 'old street 1', city: 'c', region: 'r', postalCode: '100000', country: 'CN' };
const moved = { ...address, line1: 'new street 2', postalCode: '100001' };

/** Two pre-orders of one M each (buyers b0, b1), cut into one released batch and accepted, 2 units passed QC. */
const batchInProduction = async () => {
  const campaign = testCampaign({ factoryId: 'factory-1', variants: [{ sku: 'M', name: 'm', unitPrice: 250 }], lotSize: 2 });
  await campaigns.createCampaign(campaign, 'h');
  const ids: string[] = [];
  for (const buyerId of ['b0', 'b1']) {
    const r = await preorders.placePreorder(
      (gateTakes) => newPreorder({ preorderId: newId('po'), campaign, buyerId, sku: 'M', unitPrice: 250, quantity: 1, shippingAddress: address, gateTakes, now: new Date() }),
      campaign,
      1,
      'h',
    );
    if (r.placed) ids.push(r.preorder.preorderId);
  }
  await settleCampaign(campaign.campaignId);
  const batchId = (await preorders.getPreorder(ids[0]!, true))!.batchId!;
  expect(batchId).toBeDefined();
  await factoryApi.acceptOwnBatch(factory, batchId, '2099-01-31');
  await factoryApi.reportOwnProgress(factory, batchId, { sku: 'M', produced: 2, qcPassed: 2, qcFailed: 0 });
  return { ids: ids as [string, string], batchId };
};

const shipOne = (batchId: string) =>
  factoryApi.shipFromOwnBatch(factory, batchId, { carrier: 'SF', trackingNumber: 'SF1', items: [{ sku: 'M', quantity: 1 }] }, undefined);

describe('An address change against the lots counted on the batch, before they reach the pre-orders', () => {
  it('When a lot counted on the batch went to the pre-order, the change is refused though the pre-order shows no unit shipped yet, and nothing is written', async () => {
    const { ids, batchId } = await batchInProduction();
    await shipOne(batchId); // allocated oldest first: to ids[0]; fulfillment never runs here
    const before = (await preorders.getPreorder(ids[0], true))!;
    expect(before.shippedQuantity ?? 0).toBe(0);

    await expect(changeOwnShippingAddress({ role: 'buyer', id: 'b0' }, ids[0], moved)).rejects.toBeInstanceOf(AddressNotChangeableError);
    expect(await preorders.getPreorder(ids[0], true)).toEqual(before);
    const changes = emulator.events.filter((e) => e.detailType === 'preorder.address_changed' && (e.detail as { preorderId?: string }).preorderId === ids[0]);
    expect(changes).toEqual([]);

    // The lot did not reach the other pre-order: it may still change, and its factory is told.
    const changed = await changeOwnShippingAddress({ role: 'buyer', id: 'b1' }, ids[1], moved);
    expect(changed.shippingAddress).toEqual(moved);
    const told = emulator.events.filter((e) => e.detailType === 'preorder.address_changed' && (e.detail as { preorderId?: string }).preorderId === ids[1]);
    expect(told.map((e) => e.detail)).toEqual([expect.objectContaining({ batchId, factoryId: 'factory-1', shippingAddress: moved })]);
  });

  it('When a lot is counted on the batch between the look at it and the write, the write does not commit (the batch moved): nothing is written', async () => {
    const { ids, batchId } = await batchInProduction();
    const p = (await preorders.getPreorder(ids[0], true))!;
    const looked = (await batches.getBatch(batchId))!;
    await shipOne(batchId);

    const entry = { at: new Date().toISOString(), status: p.status, step: 'address-changed' as const, note: 'changed' };
    const outcome = await preorders.changeShippingAddress(p, moved, entry, [], [batches.batchUnchanged(looked)], new Date());
    expect(outcome).toBe('stale');
    expect(await preorders.getPreorder(ids[0], true)).toEqual(p);

    // Decided again on what is there now, it is refused.
    await expect(changeOwnShippingAddress({ role: 'buyer', id: 'b0' }, ids[0], moved)).rejects.toBeInstanceOf(AddressNotChangeableError);
  });
});
