/**
 * A factory's integration with c2m, whole, on one page: what a factory's developer writes
 * with the typed client (@c2m/factory-client, clients/typescript).
 *
 *   C2M_API_URL=http://localhost:3000 C2M_CLIENT_ID=… C2M_CLIENT_SECRET=… npx tsx examples/factory-integration.ts
 *
 * One pass of the loop: hear what changed (the change feed, or a webhook), take on every
 * RELEASED batch (manifest, accept with a ship date), make it (progress and QC with defect
 * reasons), ship it in lots with a parcel per buyer, and confirm what the carrier delivered.
 * Run it from a scheduler every few minutes: every step is safe to run again after a crash,
 * because every creating call has an Idempotency-Key derived from what it creates.
 *
 * Environment: C2M_API_URL, C2M_CLIENT_ID, C2M_CLIENT_SECRET (from the operator's registration);
 * optional C2M_WEBHOOK_URL (subscribe it once, instead of polling the feed), C2M_FEED_AFTER
 * (the last event sequence handled), C2M_LEAD_DAYS (days from acceptance to shipping, 10).
 * tests/e2e/factory-integration-example.test.ts runs `main` against the local runtime.
 */
import { pathToFileURL } from 'node:url';
import { C2mApiError, createC2mClient, type Batch, type C2mClient, type ManifestEntry, type Shipment } from '@c2m/factory-client';

export interface LoopSummary {
  /** The last change-feed sequence handled: pass it as C2M_FEED_AFTER next time. */
  readonly feedAfter: number;
  readonly eventsSeen: number;
  readonly webhookId?: string;
  readonly accepted: string[];
  readonly shipments: string[];
  readonly delivered: string[];
}

/** Reads the configuration once and says what is missing, instead of failing later. */
const configFrom = (env: Record<string, string | undefined>) => {
  const missing = ['C2M_API_URL', 'C2M_CLIENT_ID', 'C2M_CLIENT_SECRET'].filter((name) => !env[name]);
  if (missing.length > 0) throw new Error(`Set ${missing.join(', ')} (the operator's registration gives the client id and secret)`);
  const leadDays = Number(env.C2M_LEAD_DAYS ?? '10');
  const feedAfter = Number(env.C2M_FEED_AFTER ?? '0');
  if (!Number.isInteger(leadDays) || leadDays < 1) throw new Error(`C2M_LEAD_DAYS must be a whole number of days, not ${env.C2M_LEAD_DAYS}`);
  if (!Number.isInteger(feedAfter) || feedAfter < 0) throw new Error(`C2M_FEED_AFTER must be an event sequence, not ${env.C2M_FEED_AFTER}`);
  return {
    baseUrl: env.C2M_API_URL!,
    credentials: { clientId: env.C2M_CLIENT_ID!, clientSecret: env.C2M_CLIENT_SECRET! },
    webhookUrl: env.C2M_WEBHOOK_URL,
    leadDays,
    feedAfter,
  };
};

const day = (fromNow: number) => new Date(Date.now() + fromNow * 86_400_000).toISOString().slice(0, 10);

/**
 * Your floor's numbers for a line: here every unit is made, one in ten (at least one) fails
 * QC for a stitching fault and is remade. A real integration reads these from its MES.
 */
const floorCounts = (quantity: number) => {
  const failed = Math.ceil(quantity / 10);
  return { produced: quantity + failed, qcPassed: quantity, qcFailed: failed, defects: failed > 0 ? [{ code: 'stitching' as const, count: failed }] : [] };
};

/** A batch's lines cut into two lots: the first run ships while the second is made. */
const lotsOf = (batch: Batch) => {
  const first = batch.lines.map((l) => ({ sku: l.sku, quantity: Math.ceil(l.quantity / 2) }));
  const second = batch.lines.map((l) => ({ sku: l.sku, quantity: l.quantity - Math.ceil(l.quantity / 2) }));
  return [first, second].map((items) => items.filter((i) => i.quantity > 0)).filter((items) => items.length > 0);
};

/** One buyer's parcel of a lot, with a tracking number of its own (your carrier's API gives it). */
const parcelFor = (shipment: Shipment, preorderId: string, n: number) => ({
  preorderId,
  carrier: shipment.carrier,
  trackingNumber: `${shipment.trackingNumber}-${n + 1}`,
});

export const runOnce = async (c2m: C2mClient, o: ReturnType<typeof configFrom>, log: (line: string) => void): Promise<LoopSummary> => {
  const summary = { feedAfter: o.feedAfter, eventsSeen: 0, webhookId: undefined as string | undefined, accepted: [] as string[], shipments: [] as string[], delivered: [] as string[] };

  // 1. Hear what changed. A factory that can receive webhooks subscribes once (the secret is shown
  //    once: keep it to check each delivery's C2M-Signature); one behind a firewall polls the feed.
  if (o.webhookUrl) {
    let hook = (await c2m.factory.webhooks().all()).find((w) => w.url === o.webhookUrl);
    if (!hook) {
      const created = await c2m.factory.createWebhook({ url: o.webhookUrl, events: ['batch.released', 'batch.overdue', 'batch.units_withdrawn', 'preorder.address_changed'] });
      log(`subscribed ${created.url} (${created.webhookId}); store its secret now, it is shown once`);
      hook = created;
    }
    summary.webhookId = hook.webhookId;
  }
  for await (const event of c2m.factory.events({ after: o.feedAfter })) {
    summary.eventsSeen++;
    summary.feedAfter = event.sequence;
    if (event.type === 'preorder.address_changed') log(`address changed: re-read the manifest of ${String(event.data.batchId)}`);
  }

  // 2. Every RELEASED batch: read whom to ship to, then commit to a date.
  for await (const batch of c2m.factory.batches({ status: 'RELEASED' })) {
    const manifest: ManifestEntry[] = await c2m.factory.manifest(batch.batchId).all();
    const csv = await c2m.factory.manifestCsv(batch.batchId); // the packing floor's spreadsheet
    await c2m.factory.accept(batch.batchId, { committedShipDate: day(o.leadDays) });
    summary.accepted.push(batch.batchId);
    log(`accepted ${batch.batchId}: ${batch.units} units for ${manifest.length} buyers, ships by ${day(o.leadDays)} (${csv.split('\r\n').length - 2} CSV rows)`);
  }

  // 3. Make and ship what was accepted: cumulative counts per sku (with why units failed QC),
  //    then each lot under a key of its own, so a rerun after a crash never ships it twice.
  for await (const batch of c2m.factory.batches()) {
    if (batch.status !== 'ACCEPTED' && batch.status !== 'IN_PRODUCTION' && batch.status !== 'PARTIALLY_SHIPPED') continue;
    for (const line of batch.lines) await c2m.factory.progress(batch.batchId, { sku: line.sku, ...floorCounts(line.quantity) });
    const addresses = new Map((await c2m.factory.manifest(batch.batchId).all()).map((e) => [e.preorderId, e.shippingAddress]));
    const lots = lotsOf(batch);
    for (const [n, items] of lots.entries()) {
      const shipment = await c2m.factory.ship(
        batch.batchId,
        { carrier: 'SF Express', trackingNumber: `SF${batch.batchId.slice(-10)}${n + 1}`, items },
        { idempotencyKey: `${batch.batchId}:lot-${n + 1}` },
      );
      // Whose units are in this lot, oldest pre-orders first: one parcel (and label) per buyer.
      await c2m.factory.addParcels(shipment.shipmentId, { parcels: shipment.allocations.map((a, i) => parcelFor(shipment, a.preorderId, i)) });
      for (const a of shipment.allocations) log(`  lot ${n + 1}: ${a.quantity} × ${a.sku} to ${addresses.get(a.preorderId)?.name ?? a.preorderId}`);
      summary.shipments.push(shipment.shipmentId);
    }
  }

  // 4. The carrier confirmed delivery (here: at once, parcel by parcel; your carrier's webhook says when).
  for (const shipmentId of summary.shipments) {
    const shipment = await c2m.factory.shipment(shipmentId);
    for (const parcel of shipment.parcels) if (!parcel.deliveredAt) await c2m.factory.parcelDelivered(shipmentId, parcel.preorderId);
    summary.delivered.push(shipmentId);
  }
  return summary;
};

export const main = async (env: Record<string, string | undefined> = process.env, log: (line: string) => void = console.log): Promise<LoopSummary> => {
  const config = configFrom(env);
  const c2m = createC2mClient({ baseUrl: config.baseUrl, credentials: config.credentials });
  try {
    const summary = await runOnce(c2m, config, log);
    log(`done: ${summary.accepted.length} accepted, ${summary.shipments.length} lots shipped and delivered; next time C2M_FEED_AFTER=${summary.feedAfter}`);
    return summary;
  } catch (err) {
    // The API's answer names what it refused and why (each bad field in `errors`).
    if (err instanceof C2mApiError) log(`c2m refused ${err.operation}: ${err.status} ${err.title ?? ''} ${err.detail ?? ''} ${JSON.stringify(err.errors)}`);
    throw err;
  }
};

if (process.argv[1] && import.meta.url === pathToFileURL(process.argv[1]).href) {
  main().catch((err: unknown) => {
    console.error(err instanceof Error ? err.message : err);
    process.exit(1);
  });
}
