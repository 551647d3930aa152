import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { main } from '../../examples/factory-integration.ts';
import type { LocalRuntime } from '../../lib/local/runtime.ts';
import { worldOf } from '../support/factory-client.ts';
import { silenceBuyerNotifications } from '../support/quiet.ts';
import { campaignDraft, clientFor, preorderDraft, startTestRuntime, untilDrained } from '../support/runtime.ts';
import { startWebhookReceiver } from '../support/webhook-receiver.ts';

/**
 * examples/factory-integration.ts, run as a factory would run it (its `main`, configured by
 * environment only) against the local runtime, so the example cannot rot: its buyers must end
 * with their units delivered, each told their own parcel's tracking number.
 */
let runtime: LocalRuntime;
let restoreStdout: () => void;
beforeAll(async () => {
  restoreStdout = silenceBuyerNotifications();
  runtime = await startTestRuntime();
});
afterAll(async () => {
  await runtime?.stop();
  restoreStdout();
});

type Preorder = { status: string; shipments: { trackingNumber: string }[] };

describe('The factory integration example', () => {
  it('takes a released batch from manifest to delivery in one pass, and a second pass does nothing twice', async () => {
    // Prepare: a registered factory, a campaign of five pre-orders from two buyers, closed, its batch released.
    const world = worldOf(runtime);
    const { factoryId, clientId, clientSecret } = await world.register('factory-example');
    const anchor = clientFor(runtime, 'anchor', 'anchor-example');
    const buyers = [clientFor(runtime, 'buyer', 'fan-example-1'), clientFor(runtime, 'buyer', 'fan-example-2')];
    const created = await anchor.post<{ campaignId: string }>('/v1/campaigns', campaignDraft({ factoryId, minTotalQuantity: 5, lotSize: 50 }));
    expect(created.status).toBe(201);
    const { campaignId } = created.body;
    const orders: { buyer: (typeof buyers)[number]; preorderId: string }[] = [];
    for (const [i, quantity] of [1, 2, 1, 1].entries()) {
      const buyer = buyers[i % 2]!;
      const r = await buyer.post<{ preorderId: string }>(`/v1/campaigns/${campaignId}/preorders`, preorderDraft({ quantity, sku: i === 3 ? 'SHIRT-S' : 'SHIRT-M' }));
      expect(r.status).toBe(202);
      orders.push({ buyer, preorderId: r.body.preorderId });
    }
    expect((await anchor.post(`/v1/campaigns/${campaignId}/close`)).status).toBe(200);
    const factory = clientFor(runtime, 'factory', factoryId);
    await untilDrained(
      runtime,
      () => factory.get<{ items: { campaignId: string }[] }>('/v1/factory/batches?status=RELEASED'),
      (r) => r.body.items.some((b) => b.campaignId === campaignId),
    );
    const receiver = await startWebhookReceiver();
    const env = { C2M_API_URL: runtime.url, C2M_CLIENT_ID: clientId, C2M_CLIENT_SECRET: clientSecret, C2M_WEBHOOK_URL: receiver.url };
    const said: string[] = [];

    try {
      // Act
      const first = await main(env, (line) => said.push(line));
      await runtime.emulator.drain();
      const second = await main({ ...env, C2M_FEED_AFTER: String(first.feedAfter) }, (line) => said.push(line));

      // Assess: every buyer's units delivered, each pre-order with a tracking number of its own.
      const preorders = await untilDrained(
        runtime,
        () => Promise.all(orders.map((o) => o.buyer.get<Preorder>(`/v1/preorders/${o.preorderId}`).then((r) => r.body))),
        (ps) => ps.every((p) => p.status === 'DELIVERED'),
        60_000,
      );
      const tracking = preorders.flatMap((p) => p.shipments.map((s) => s.trackingNumber));
      expect(new Set(tracking).size).toBe(tracking.length);
      expect(first.accepted).toHaveLength(1);
      expect(first.shipments).toHaveLength(2);
      expect(first.delivered).toEqual(first.shipments);
      expect(first.eventsSeen).toBeGreaterThan(0);
      const batch = (await factory.get<{ items: { campaignId: string; status: string; shipped: number; defects: { code: string; count: number }[] }[] }>('/v1/factory/batches')).body.items.find(
        (b) => b.campaignId === campaignId,
      )!;
      expect(batch).toMatchObject({ status: 'COMPLETED', shipped: 5, defects: [{ code: 'stitching', count: 2 }] });
      // The webhook was subscribed once; the second pass found it, had nothing to accept or ship, and read the feed on from where the first stopped.
      expect(second.webhookId).toBe(first.webhookId);
      expect((await factory.get<{ items: unknown[] }>('/v1/factory/webhooks')).body.items).toHaveLength(1);
      expect(second.accepted).toEqual([]);
      expect(second.shipments).toEqual([]);
      expect(second.feedAfter).toBeGreaterThanOrEqual(first.feedAfter);
      expect(said.filter((l) => l.startsWith('subscribed'))).toHaveLength(1);
    } finally {
      receiver.close();
    }
  }, 120_000);
});
