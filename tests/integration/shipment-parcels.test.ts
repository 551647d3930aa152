import { describe, expect, it } from 'vitest';
import { followLikeIntake, tellLikeNotifier, useEmulatorWithoutConsumers, useLocalTable } from '../support/table.ts';
import { testCampaign } from '../support/campaigns.ts';
import { expectPublishedEventsFitTheirSchemas } from '../support/events.ts';

// Per-buyer parcels in-process against DynamoDB Local, with no consumer running, so that each test
// decides when the fulfillment consumer's use cases run: before or after the parcels, concurrently, twice.
await useLocalTable();
const emulator = await useEmulatorWithoutConsumers();
expectPublishedEventsFitTheirSchemas(emulator);

const campaigns = await import('../../functions/adapters/campaign-store.ts');
const preorders = await import('../../functions/adapters/preorder-store.ts');
const shipments = await import('../../functions/adapters/shipment-store.ts');
const { settleCampaign } = await import('../../functions/handlers/batches/cutting.ts');
const factoryApi = await import('../../functions/handlers/factory/use-cases.ts');
const fulfillment = await import('../../functions/handlers/fulfillment/use-cases.ts');
const { eventOf } = await import('../../functions/adapters/event-bus.ts');
const { newPreorder } = await import('../../functions/domain/preorder.ts');
const { newId } = await import('../../functions/shared/ids.ts');
const { InvalidInputError } = await import('../../functions/domain/errors.ts');

const factory = { role: 'factory' as const, id: 'factory-1' };
const address = { name: 'A', phone: '+8612345', line1: 'l', city: 'c', region: 'r', postalCode: '100000', country: 'CN' };

/** `count` pre-orders of one M each, cut, accepted, and shipped in one lot (the consumer not run yet). */
const shippedLot = async (count: number) => {
  const campaign = testCampaign({ factoryId: 'factory-1', variants: [{ sku: 'M', name: 'm', unitPrice: 250 }], lotSize: count });
  await campaigns.createCampaign(campaign, 'h');
  const ids: string[] = [];
  for (let i = 0; i < count; i++) {
    const r = await preorders.placePreorder(
      (gateTakes) => newPreorder({ preorderId: newId('po'), campaign, buyerId: `b${i}`, sku: 'M', unitPrice: 250, quantity: 1, shippingAddress: address, gateTakes, now: new Date() }),
      campaign,
      1,
      'h',
    );
    if (r.placed) ids.push(r.preorder.preorderId);
  }
  // Told "accepted" and listed, as intake does off the stream.
  await followLikeIntake(ids);
  await settleCampaign(campaign.campaignId);
  const batchId = (await preorders.getPreorder(ids[0]!, true))!.batchId!;
  // Its buyers told "batched", as the notifier does on the release's event.
  await tellLikeNotifier(batchId);
  await factoryApi.acceptOwnBatch(factory, batchId, '2099-01-31');
  await fulfillment.startBatchProduction(batchId);
  await factoryApi.reportOwnProgress(factory, batchId, { sku: 'M', produced: count, qcPassed: count, qcFailed: 0 });
  const { shipment } = await factoryApi.shipFromOwnBatch(factory, batchId, { carrier: 'SF', trackingNumber: 'LOT1', items: [{ sku: 'M', quantity: count }] }, undefined);
  return { ids, shipmentId: shipment.shipmentId };
};
const entryOf = async (preorderId: string) => (await preorders.getPreorder(preorderId, true))!.shipments?.[0];

describe('Per-buyer parcels of a lot, against the table', () => {
  it('When parcels are named before the lot reaches its buyers, each buyer gets the lot under their own label at once, with no second notice', async () => {
    const { ids, shipmentId } = await shippedLot(2);
    await factoryApi.attachOwnParcels(factory, shipmentId, { parcels: [{ preorderId: ids[0]!, carrier: 'EMS', trackingNumber: 'PAR0' }] });
    await fulfillment.shipToBuyers(shipmentId);
    await fulfillment.tellParcels(shipmentId);
    expect(await entryOf(ids[0]!)).toMatchObject({ carrier: 'EMS', trackingNumber: 'PAR0' });
    expect(await entryOf(ids[1]!)).toMatchObject({ carrier: 'SF', trackingNumber: 'LOT1' });
    const p0 = (await preorders.getPreorder(ids[0]!, true))!;
    expect(p0.timeline.map((t) => t.template)).not.toContain('preorder.tracking_changed');
    expect(p0.timeline.find((t) => t.template === 'preorder.shipped')?.params).toMatchObject({ trackingNumber: 'PAR0' });
  });

  it('When parcels are named after the lot reached its buyers, the label changes once however often, and concurrently, the event is handled', async () => {
    const { ids, shipmentId } = await shippedLot(2);
    await fulfillment.shipToBuyers(shipmentId);
    await factoryApi.attachOwnParcels(factory, shipmentId, { parcels: [{ preorderId: ids[1]!, carrier: 'EMS', trackingNumber: 'PAR1' }] });
    await Promise.all([fulfillment.tellParcels(shipmentId), fulfillment.tellParcels(shipmentId), fulfillment.tellParcels(shipmentId)]);
    await fulfillment.tellParcels(shipmentId);
    const p1 = (await preorders.getPreorderWithNotices(ids[1]!, true))!;
    expect(p1.shipments?.[0]).toMatchObject({ carrier: 'EMS', trackingNumber: 'PAR1', quantity: 1 });
    expect(p1.timeline.filter((t) => t.template === 'preorder.tracking_changed')).toHaveLength(1);
    expect(p1.notifications?.map((n) => n.template)).toEqual(p1.timeline.map((t) => t.template));
    expect(await entryOf(ids[0]!)).toMatchObject({ trackingNumber: 'LOT1' });
  });

  it('Requests racing each other are applied one after the other: no parcel is lost, and each change has its own event', async () => {
    const { ids, shipmentId } = await shippedLot(4);
    await Promise.all(ids.map((preorderId, i) => factoryApi.attachOwnParcels(factory, shipmentId, { parcels: [{ preorderId, carrier: 'EMS', trackingNumber: `RACE${i}` }] })));
    const lot = (await shipments.getShipment(shipmentId))!;
    expect(lot.parcels.map((p) => p.trackingNumber)).toEqual(['RACE0', 'RACE1', 'RACE2', 'RACE3']);
    expect(lot.parcelsVersion).toBe(4);
    const added = emulator.events.filter((e) => e.detailType === 'shipment.parcels_added' && (e.detail as { shipmentId?: string }).shipmentId === shipmentId);
    expect(added.map((e) => (e.detail as { eventId: string }).eventId).sort()).toEqual([1, 2, 3, 4].map((v) => `shipment.parcels_added:${shipmentId}:${v}`));
  });

  it('A write decided on parcels that changed since they were read does not commit', async () => {
    const { ids, shipmentId } = await shippedLot(2);
    const read = (await shipments.getShipment(shipmentId))!;
    await factoryApi.attachOwnParcels(factory, shipmentId, { parcels: [{ preorderId: ids[0]!, carrier: 'EMS', trackingNumber: 'FIRST' }] });
    const stale = [{ preorderId: ids[1]!, carrier: 'EMS', trackingNumber: 'LOST', attachedAt: new Date().toISOString() }];
    const event = eventOf('shipment.parcels_added', { campaignId: read.campaignId, batchId: read.batchId, factoryId: read.factoryId, shipmentId, occurredAt: new Date().toISOString(), parcels: [{ preorderId: ids[1]!, carrier: 'EMS', trackingNumber: 'LOST' }] }, `${shipmentId}:stale`);
    expect(await shipments.saveParcels(read, stale, event)).toBe(false);
    expect((await shipments.getShipment(shipmentId))!.parcels.map((p) => p.trackingNumber)).toEqual(['FIRST']);
  });

  it('A request with one parcel outside the lot writes none of its parcels', async () => {
    const { ids, shipmentId } = await shippedLot(2);
    const before = await shipments.getShipment(shipmentId);
    await expect(
      factoryApi.attachOwnParcels(factory, shipmentId, {
        parcels: [
          { preorderId: ids[0]!, carrier: 'EMS', trackingNumber: 'OK01' },
          { preorderId: newId('po'), carrier: 'EMS', trackingNumber: 'NO01' },
        ],
      }),
    ).rejects.toBeInstanceOf(InvalidInputError);
    expect(await shipments.getShipment(shipmentId)).toEqual(before);
  });

  it('A parcel delivered before the lot reached its buyer delivers it under its own label, once, and nobody else', async () => {
    const { ids, shipmentId } = await shippedLot(2);
    await factoryApi.attachOwnParcels(factory, shipmentId, { parcels: [{ preorderId: ids[0]!, carrier: 'EMS', trackingNumber: 'PAR0' }] });
    const lot = await factoryApi.confirmOwnParcelDelivered(factory, shipmentId, ids[0]!);
    // Out of order: the delivery is handled first, twice.
    await fulfillment.deliverParcelToBuyer(shipmentId, ids[0]!);
    await fulfillment.deliverParcelToBuyer(shipmentId, ids[0]!);
    const [p0, p1] = await Promise.all(ids.map((id) => preorders.getPreorder(id, true)));
    expect(p0).toMatchObject({ status: 'DELIVERED', deliveredQuantity: 1 });
    expect(p0!.shipments?.[0]).toMatchObject({ trackingNumber: 'PAR0', deliveredAt: lot.parcels[0]!.deliveredAt });
    expect(p0!.timeline.filter((t) => t.template === 'preorder.delivered')).toHaveLength(1);
    expect(p1!.status).toBe('IN_PRODUCTION');
  });
});
