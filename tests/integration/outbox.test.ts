import { afterAll, describe, expect, it } from 'vitest';
import { useLocalTable } from '../support/table.ts';
import { startAwsEmulator } from '../../lib/local/aws-emulator.ts';
import { envNames } from '../../lib/topology.ts';

// DynamoDB Local for the table, the local emulator for EventBridge; no consumers run.
await useLocalTable();
const emulator = await startAwsEmulator({ dataDir: null, invoke: async () => undefined, startConsumers: false });
Object.assign(process.env, { AWS_ENDPOINT_URL_EVENTBRIDGE: emulator.endpoint, [envNames.bus]: emulator.busName });
afterAll(() => emulator.stop());

const campaigns = await import('../../functions/adapters/campaign-store.ts');
const preorders = await import('../../functions/adapters/preorder-store.ts');
const { relayOutbox } = await import('../../functions/adapters/outbox.ts');
const { eventOf } = await import('../../functions/adapters/event-bus.ts');
const { newCampaign } = await import('../../functions/domain/campaign.ts');
const { newPreorder } = await import('../../functions/domain/preorder.ts');
const { newId } = await import('../../functions/shared/ids.ts');

const published = (eventId: string) => emulator.events.filter((e) => (e.detail as { eventId: string }).eventId === eventId);

describe('The event outbox', () => {
  it('When a process dies between committing a change and publishing its events, the relay publishes them once the minute has passed', async () => {
    const campaign = newCampaign({
      campaignId: newId('cmp'),
      anchorId: 'a',
      now: new Date(),
      draft: { title: 't', factoryId: 'f', currency: 'CNY', variants: [{ sku: 'A', name: 'a', unitPrice: 100 }], closesAt: new Date(Date.now() + 3600_000).toISOString(), minTotalQuantity: 5, lotSize: 10, promisedShipDays: 7 },
    });
    await campaigns.createCampaign(campaign, 'h');
    const placed = await preorders.placePreorder(
      (gateTakes) => newPreorder({ preorderId: newId('po'), campaign, buyerId: 'b', sku: 'A', unitPrice: 100, quantity: 2, shippingAddress: { name: 'n', phone: '+8612345', line1: 'l', city: 'c', region: 'r', postalCode: '100000', country: 'CN' }, gateTakes, now: new Date() }),
      campaign,
      2,
      'h',
    );
    if (!placed.placed) throw new Error('not placed');
    const now = new Date();
    const refunded = eventOf('preorder.refunded', { campaignId: campaign.campaignId, preorderId: placed.preorder.preorderId, occurredAt: now.toISOString(), refundedAmount: 200 }, placed.preorder.preorderId);
    // The change and its event commit together; then "the process dies" (nothing publishes).
    expect(await preorders.cancelPreorder(placed.preorder, [], campaign, now, [refunded])).toBe(true);
    const closed = await campaigns.closeCampaign(campaign, now, (c) => eventOf('campaign.failed', { campaignId: c.campaignId, occurredAt: now.toISOString(), status: c.status }, c.campaignId));
    expect(closed.campaign.status).toBe('FAILED');
    expect(published(refunded.detail.eventId)).toHaveLength(0);

    // Too recent for the relay: the writer may still be publishing.
    expect(await relayOutbox(now)).toBe(0);
    const later = new Date(now.getTime() + 61_000);
    expect(await relayOutbox(later)).toBe(2);
    expect(published(refunded.detail.eventId)).toHaveLength(1);
    expect(published(`campaign.failed:${campaign.campaignId}`)).toHaveLength(1);
    // Relayed events are cleared: a second sweep publishes nothing again.
    expect(await relayOutbox(later)).toBe(0);
  });

  it('A change whose condition fails writes no event', async () => {
    const campaign = newCampaign({
      campaignId: newId('cmp'),
      anchorId: 'a',
      now: new Date(),
      draft: { title: 't', factoryId: 'f', currency: 'CNY', variants: [{ sku: 'A', name: 'a', unitPrice: 100 }], closesAt: new Date(Date.now() + 3600_000).toISOString(), minTotalQuantity: 0, lotSize: 10, promisedShipDays: 7 },
    });
    await campaigns.createCampaign(campaign, 'h');
    const now = new Date();
    const announce = (c: { campaignId: string; status: string }) => eventOf('campaign.closed', { campaignId: c.campaignId, occurredAt: now.toISOString(), status: c.status }, `${c.campaignId}:${Math.random()}`);
    const first = await campaigns.closeCampaign(campaign, now, announce);
    const second = await campaigns.closeCampaign(campaign, now, announce); // a stale copy, as a racing closer would have
    expect([first.transitioned, second.transitioned]).toEqual([true, false]);
    expect(first.events).toHaveLength(1);
    expect(second.events).toHaveLength(0);
    expect(await relayOutbox(new Date(now.getTime() + 61_000))).toBe(1);
  });
});
