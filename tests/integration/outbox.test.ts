import { afterAll, describe, expect, it, vi } from 'vitest';
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
const { outboxMetrics, outboxPut, publishCommitted, relayOutbox } = await import('../../functions/adapters/outbox.ts');
const { metrics } = await import('../../functions/shared/observability.ts');
const { readTally } = await import('../../functions/adapters/trust-store.ts');
const { ddb } = await import('../../functions/adapters/dynamo.ts');
const { GetCommand, TransactWriteCommand } = await import('@aws-sdk/lib-dynamodb');
const { eventOf } = await import('../../functions/adapters/event-bus.ts');
const { newCampaign } = await import('../../functions/domain/campaign.ts');
const { newPreorder } = await import('../../functions/domain/preorder.ts');
const { newId } = await import('../../functions/shared/ids.ts');

/** A campaign with one placed pre-order, as the writers leave them: what a refund event is about. */
const placedPreorder = async () => {
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
  return { campaign, preorder: placed.preorder };
};

const published = (eventId: string) => emulator.events.filter((e) => (e.detail as { eventId: string }).eventId === eventId);

describe('The event outbox', () => {
  it('When a process dies between committing a change and publishing its events, the relay publishes them once the minute has passed', async () => {
    const { campaign, preorder } = await placedPreorder();
    const now = new Date();
    const refunded = eventOf('preorder.refunded', { campaignId: campaign.campaignId, preorderId: preorder.preorderId, sku: 'A', occurredAt: now.toISOString(), status: 'REFUNDED', quantity: 2, refundedAmount: 200 }, preorder.preorderId);
    // The change and its event commit together; then "the process dies" (nothing publishes).
    expect(await preorders.cancelPreorder(preorder, [], campaign, now, [refunded])).toBe(true);
    const closed = await campaigns.closeCampaign(campaign, now, (c) => eventOf('campaign.failed', { campaignId: c.campaignId, occurredAt: now.toISOString(), status: 'FAILED', quantity: 0 }, c.campaignId));
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

  it('Each refund published, by the writer or by the relay, adds its wait from decision to bus to the refund latency of its campaign, and of its factory when it names one', async () => {
    const campaignId = newId('cmp');
    const factoryId = `factory-${newId('f')}`;
    const now = Date.now();
    // Decided five minutes ago and left in the outbox (the writer died): the relay publishes it ~300 s late.
    // (Refunds of real pre-orders: one whose pre-order cannot be read is held back, see below.)
    const stranded = eventOf('preorder.refunded', { campaignId, factoryId, preorderId: (await placedPreorder()).preorder.preorderId, sku: 'A', occurredAt: new Date(now - 300_000).toISOString(), status: 'REFUNDED', quantity: 1, refundedAmount: 100, reason: 'ceiling' }, 'stranded');
    // Decided now and published by its writer right after the commit; a buyer's cancel names no factory.
    const prompt = eventOf('preorder.refunded', { campaignId, preorderId: (await placedPreorder()).preorder.preorderId, sku: 'A', occurredAt: new Date(now).toISOString(), status: 'REFUNDED', quantity: 1, refundedAmount: 100 }, 'prompt');
    const notARefund = eventOf('preorder.cancelled', { campaignId, preorderId: newId('po'), sku: 'A', occurredAt: new Date(now - 300_000).toISOString(), status: 'CANCELLED', quantity: 1 }, 'cancelled');
    await ddb.send(new TransactWriteCommand({ TransactItems: [outboxPut(stranded), outboxPut(prompt), outboxPut(notARefund)] }));

    expect(await relayOutbox(new Date(now))).toBe(2);
    await publishCommitted([prompt]);
    expect(published(prompt.detail.eventId)).toHaveLength(1);

    // Buckets are log2 seconds: up to 1 s is bucket 0, 256-512 s is bucket 9.
    expect((await readTally('CAMPAIGN', campaignId)).refundLatency).toEqual({ '0': 1, '9': 1 });
    expect((await readTally('FACTORY', factoryId)).refundLatency).toEqual({ '9': 1 });
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
    const announce = (c: { campaignId: string }) => eventOf('campaign.closed', { campaignId: c.campaignId, occurredAt: now.toISOString(), status: 'CLOSED', quantity: 0 }, `${c.campaignId}:${Math.random()}`);
    const first = await campaigns.closeCampaign(campaign, now, announce);
    const second = await campaigns.closeCampaign(campaign, now, announce); // a stale copy, as a racing closer would have
    expect([first.transitioned, second.transitioned]).toEqual([true, false]);
    expect(first.events).toHaveLength(1);
    expect(second.events).toHaveLength(0);
    expect(await relayOutbox(new Date(now.getTime() + 61_000))).toBe(1);
  });

  it('An outbox item that is not an event, or whose detail does not fit its type, is moved aside whole, with why, and the relay publishes the others in the same sweep', async () => {
    const campaignId = newId('cmp');
    const at = new Date(Date.now() - 10 * 60_000).toISOString();
    const good = eventOf('campaign.closed', { campaignId, occurredAt: at, status: 'CLOSED', quantity: 0 }, `${campaignId}:good`);
    const alsoGood = eventOf('campaign.failed', { campaignId, occurredAt: at, status: 'FAILED' }, `${campaignId}:also`);
    const badKey = { PK: 'OUTBOX#3', SK: `${at}#not-an-event-${campaignId}` };
    const misfitKey = { PK: 'OUTBOX#5', SK: `${at}#misfit-${campaignId}` };
    await ddb.send(
      new TransactWriteCommand({
        TransactItems: [
          outboxPut(good),
          outboxPut(alsoGood),
          // What a bad deploy could leave behind: an event type this code does not know,
          { Put: { TableName: process.env[envNames.table], Item: { ...badKey, type: 'outbox', eventType: 'campaign.exploded', detail: { campaignId } } } },
          // and a known type whose detail lacks what its schema requires.
          {
            Put: {
              TableName: process.env[envNames.table],
              Item: { ...misfitKey, type: 'outbox', eventType: 'campaign.closed', detail: { eventId: `campaign.closed:${campaignId}:misfit`, occurredAt: at, campaignId, status: 'CLOSED' } },
            },
          },
        ],
      }),
    );

    const relayed = await relayOutbox(new Date());

    expect(relayed).toBeGreaterThanOrEqual(2);
    expect(published(good.detail.eventId)).toHaveLength(1);
    expect(published(alsoGood.detail.eventId)).toHaveLength(1);
    expect((await ddb.send(new GetCommand({ TableName: process.env[envNames.table], Key: badKey }))).Item).toBeUndefined();
    const moved = await ddb.send(new GetCommand({ TableName: process.env[envNames.table], Key: { PK: 'OUTBOX#QUARANTINE', SK: `${badKey.PK}#${badKey.SK}` } }));
    expect(moved.Item).toMatchObject({ original: { ...badKey, eventType: 'campaign.exploded' }, why: expect.stringContaining('eventType') });
    const misfit = await ddb.send(new GetCommand({ TableName: process.env[envNames.table], Key: { PK: 'OUTBOX#QUARANTINE', SK: `${misfitKey.PK}#${misfitKey.SK}` } }));
    expect(misfit.Item?.why).toMatch(/campaign\.closed[\s\S]*detail\.quantity/);
    expect(published(`campaign.closed:${campaignId}:misfit`)).toHaveLength(0);
    // The next sweep finds nothing left to relay or to move.
    expect(await relayOutbox(new Date())).toBe(0);
  });

  it('A refund goes out with its refund.requested, or not at all: one whose pre-order cannot be read is held, then moved aside by the relay, alarmed, while the others go', async () => {
    const campaignId = newId('cmp');
    const at = new Date(Date.now() - 10 * 60_000);
    // A refund decided for a pre-order that is not there (what only a bug could leave), and an event beside it.
    const ghost = newId('po');
    const lost = eventOf('preorder.refunded', { campaignId, preorderId: ghost, sku: 'A', occurredAt: at.toISOString(), status: 'REFUNDED', quantity: 1, refundedAmount: 100 }, ghost);
    const fine = eventOf('campaign.closed', { campaignId, occurredAt: at.toISOString(), status: 'CLOSED', quantity: 0 }, `${campaignId}:fine`);
    await ddb.send(new TransactWriteCommand({ TransactItems: [outboxPut(lost), outboxPut(fine)] }));

    // The writer publishes what it can and leaves the refund for the relay.
    await publishCommitted([lost, fine]);
    expect(published(fine.detail.eventId)).toHaveLength(1);
    expect(published(lost.detail.eventId)).toHaveLength(0);

    const quarantined = vi.spyOn(metrics, 'addMetric');
    await relayOutbox(new Date());
    expect(published(lost.detail.eventId)).toHaveLength(0);
    const key = outboxPut(lost).Put.Item;
    expect((await ddb.send(new GetCommand({ TableName: process.env[envNames.table], Key: { PK: key.PK, SK: key.SK } }))).Item).toBeUndefined();
    const moved = await ddb.send(new GetCommand({ TableName: process.env[envNames.table], Key: { PK: 'OUTBOX#QUARANTINE', SK: `${key.PK}#${key.SK}` } }));
    expect(moved.Item?.why).toBe('the refunded pre-order does not exist');
    expect(quarantined).toHaveBeenCalledWith(outboxMetrics.quarantined, expect.anything(), 1);
    quarantined.mockRestore();
  });

  it('An event not yet published never expires from the outbox', async () => {
    const e = eventOf('campaign.closed', { campaignId: newId('cmp'), occurredAt: new Date().toISOString(), status: 'CLOSED', quantity: 0 }, newId('x'));
    expect(outboxPut(e).Put.Item).not.toHaveProperty('expiresAt');
  });

  it("Every relay pass reports how old the outbox's oldest event is: growing while nothing empties it, 0 once it is empty (the outbox-age alarm's metric)", async () => {
    const added = vi.spyOn(metrics, 'addMetric');
    const ages = () => added.mock.calls.filter(([name]) => name === outboxMetrics.oldestAgeSeconds).map(([, unit, value]) => ({ unit, value }));
    try {
      // Whatever earlier tests left is relayed first.
      await relayOutbox(new Date(Date.now() + 3600_000));
      added.mockClear();
      await relayOutbox(new Date());
      expect(ages()).toEqual([{ unit: 'Seconds', value: 0 }]);

      const now = Date.now();
      const stuck = eventOf('campaign.closed', { campaignId: newId('cmp'), occurredAt: new Date(now - 600_000).toISOString(), status: 'CLOSED', quantity: 0 }, 'stuck');
      await ddb.send(new TransactWriteCommand({ TransactItems: [outboxPut(stuck)] }));
      // Two passes that leave it there (as failing ones would: here the window is wider than its age), five minutes apart.
      added.mockClear();
      await relayOutbox(new Date(now), 3600_000);
      await relayOutbox(new Date(now + 300_000), 3600_000);
      expect(ages()).toEqual([
        { unit: 'Seconds', value: 600 },
        { unit: 'Seconds', value: 900 },
      ]);

      // A pass that publishes it reports the age it found, and the next one finds the outbox empty.
      added.mockClear();
      expect(await relayOutbox(new Date(now + 360_000))).toBe(1);
      await relayOutbox(new Date(now + 420_000));
      expect(ages()).toEqual([
        { unit: 'Seconds', value: 960 },
        { unit: 'Seconds', value: 0 },
      ]);
    } finally {
      added.mockRestore();
    }
  });
});
