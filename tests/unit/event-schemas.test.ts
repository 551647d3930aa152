import { describe, expect, it } from 'vitest';
import {
  BusEnvelope,
  busFactoryEventTypes,
  ClockMessage,
  DomainEvent,
  eventDetails,
  EventNotValidError,
  eventTypes,
  FactoryEventEnvelope,
  parseEnvelope,
  type EventType,
} from '../../functions/contracts/messages.ts';
import { factoryEventTypes, FeedEventView, WebhookPayload, webhookDeliveries } from '../../functions/contracts/webhooks.ts';
import { eventOf, refundedInFull } from '../../functions/adapters/event-bus.ts';
import { deliveryPayload } from '../../functions/domain/webhooks.ts';
import { rules } from '../../lib/topology.ts';

const at = '2026-12-01T12:00:00.000Z';
const campaignId = 'cmp_0000000000000000000000c1';
const batchId = 'bat_0000000000000000000000b1';
const preorderId = 'po_00000000000000000000000p1';
const shipmentId = 'shp_0000000000000000000000s1';
const ofBatch = { campaignId, batchId, factoryId: 'factory-1', occurredAt: at };

/** What a consumer gets: the detail as EventBridge carries it (JSON) in the envelope a rule delivers. */
const onTheBus = (e: DomainEvent) => JSON.parse(JSON.stringify({ 'detail-type': e.type, source: 'c2m', detail: e.detail })) as unknown;

/** Why parsing `detail` as an event of `type` fails, as the consumer says it. */
const refusal = (type: string, detail: unknown): EventNotValidError => {
  try {
    parseEnvelope(BusEnvelope, { 'detail-type': type, source: 'c2m', detail });
  } catch (err) {
    if (err instanceof EventNotValidError) return err;
    throw err;
  }
  throw new Error(`${type} was accepted`);
};

describe('One schema per event type', () => {
  it('Every event type has its own detail schema, and the bus envelope accepts exactly those types', () => {
    expect(Object.keys(eventDetails).sort()).toEqual([...eventTypes].sort());
    expect(BusEnvelope.options.map((o) => o.shape['detail-type'].value)).toEqual([...eventTypes]);
    expect(DomainEvent.options.map((o) => o.shape.type.value)).toEqual([...eventTypes]);
    expect(FactoryEventEnvelope.options.map((o) => o.shape['detail-type'].value)).toEqual([...busFactoryEventTypes]);
    // Each envelope's detail is that type's schema, not a shared one.
    for (const option of BusEnvelope.options) expect(option.shape.detail).toBe(eventDetails[option.shape['detail-type'].value]);
  });

  it("Every rule of the topology names only event types with a schema, and the factories' rule names exactly the factory events", () => {
    for (const rule of rules) for (const type of rule.pattern['detail-type']) expect(eventTypes).toContain(type);
    const toWebhooks = rules.find((r) => r.name === 'factory-events-to-webhooks');
    expect([...(toWebhooks?.pattern['detail-type'] ?? [])].sort()).toEqual([...busFactoryEventTypes].sort());
  });

  it("The webhooks of the OpenAPI document and the feed carry, as data, each factory event's own schema", () => {
    expect(webhookDeliveries.map((w) => w.path)).toEqual([...factoryEventTypes]);
    for (const type of busFactoryEventTypes) {
      const payload = WebhookPayload.options.find((o) => o.shape.type.value === type);
      const feed = FeedEventView.options.find((o) => o.shape.type.value === type);
      expect(payload?.shape.data).toBe(eventDetails[type]);
      expect(feed?.shape.data).toBe(eventDetails[type]);
    }
  });
});

describe('An event that does not fit its type is refused where it is parsed, naming the type and the field', () => {
  const released = eventOf('batch.released', { ...ofBatch, lines: [{ sku: 'S', quantity: 3 }], quantity: 3, reason: 'lot' }, batchId).detail;

  it('A detail missing a required field', () => {
    const { quantity: _quantity, ...detail } = released;
    const error = refusal('batch.released', detail);
    expect(error.eventType).toBe('batch.released');
    expect(error.issues).toEqual([{ path: 'detail.quantity', message: expect.stringMatching(/expected number/) }]);
    expect(error.message).toMatch(/^batch\.released event refused: detail\.quantity: /);
  });

  it('A field of the wrong type', () => {
    const error = refusal('batch.released', { ...released, lines: [{ sku: 'S', quantity: '3' }] });
    expect(error.issues).toEqual([{ path: 'detail.lines.0.quantity', message: expect.stringMatching(/expected number/) }]);
  });

  it("Another type's detail: a batch.accepted is not a batch.released", () => {
    const accepted = eventOf('batch.accepted', { ...ofBatch, committedShipDate: '2026-12-20' }, batchId).detail;
    expect(refusal('batch.released', accepted).issues.map((i) => i.path).sort()).toEqual(['detail.lines', 'detail.quantity', 'detail.reason']);
  });

  it('A field only another type has is not a substitute: preorder.shipped needs its batch and factory', () => {
    const { batchId: _b, factoryId: _f, ...detail } = eventOf(
      'preorder.shipped',
      { ...ofBatch, preorderId, sku: 'S', status: 'SHIPPED', quantity: 1 },
      preorderId,
    ).detail;
    expect(refusal('preorder.shipped', detail).issues.map((i) => i.path).sort()).toEqual(['detail.batchId', 'detail.factoryId']);
  });

  it('A type c2m does not publish', () => {
    expect(refusal('campaign.exploded', { campaignId }).issues[0]?.path).toBe('detail-type');
  });

  it('The clock refuses a campaign.closed without what its schema requires, as every other consumer does', () => {
    expect(ClockMessage.safeParse({ 'detail-type': 'campaign.closed', source: 'c2m', detail: { campaignId } }).success).toBe(false);
  });

  it("The clock takes the sweep's fanned-out work only with the time it is for: a tick without `at` is refused, not done as of whenever it arrives", () => {
    const at = '2026-12-01T12:00:00.000Z';
    expect(ClockMessage.parse({ kind: 'tick', campaignId, at })).toEqual({ kind: 'tick', campaignId, at });
    expect(ClockMessage.parse({ kind: 'batch-due', batchId: 'bat_1', at })).toEqual({ kind: 'batch-due', batchId: 'bat_1', at });
    expect(ClockMessage.safeParse({ kind: 'tick', campaignId }).success).toBe(false);
    expect(ClockMessage.safeParse({ kind: 'tick', campaignId, at: 'now' }).success).toBe(false);
    expect(ClockMessage.safeParse({ kind: 'batch-due', at }).success).toBe(false);
  });

  it('A producer cannot make an event its consumers would refuse: eventOf parses what it builds', () => {
    expect(() => eventOf('campaign.opened', { campaignId, occurredAt: 'yesterday', status: 'OPEN' }, campaignId)).toThrow(/occurredAt/);
  });
});

describe('Events as their producers build them round-trip through every consumer unchanged', () => {
  // One per producer path, with the fields that path sets (see the call sites of eventOf).
  const produced: DomainEvent[] = [
    eventOf('campaign.opened', { campaignId, occurredAt: at, status: 'OPEN' }, campaignId),
    eventOf('campaign.failed', { campaignId, occurredAt: at, status: 'FAILED', reason: 'below-minimum-after-switching' }, campaignId),
    eventOf('preorder.accepted', { campaignId, preorderId, occurredAt: at, status: 'ACCEPTED', sku: 'S', quantity: 2 }, preorderId),
    eventOf('preorder.refunded', { campaignId, preorderId, occurredAt: at, sku: 'S', quantity: 2, status: 'REFUNDED', refundedAmount: 200 }, preorderId),
    refundedInFull({ campaignId, preorderId, sku: 'S', quantity: 2, amount: 200, refundedAmount: 0 }, 'batch-rejected', new Date(at), batchId),
    refundedInFull({ campaignId, preorderId, sku: 'S', quantity: 2, amount: 200, refundedAmount: 50 }, 'variant-below-minimum', new Date(at)),
    eventOf('preorder.refunded', { campaignId, preorderId, occurredAt: at, sku: 'S', quantity: 2, status: 'IN_PRODUCTION', refundedAmount: 40, reason: 'price-drop' }, `${preorderId}:price-drop`),
    eventOf('batch.rejected', { ...ofBatch, reason: 'no capacity', next: 'backup-factory', nextFactoryId: 'factory-2' }, batchId),
    eventOf('batch.progressed', { ...ofBatch, produced: 5, qcPassed: 4, qcFailed: 1, shipped: 0, status: 'IN_PRODUCTION', defects: [{ code: 'stitching', count: 1 }] }, `${batchId}:2`),
    eventOf(
      'shipment.created',
      {
        ...ofBatch,
        shipmentId,
        carrier: 'SF',
        trackingNumber: 'SF123456',
        items: [{ sku: 'S', quantity: 2 }],
        allocations: [{ preorderId, sku: 'S', quantity: 2 }],
        quantity: 2,
        shipped: 2,
        status: 'COMPLETED',
      },
      shipmentId,
    ),
    eventOf('shipment.parcel_delivered', { ...ofBatch, shipmentId, preorderId, carrier: 'SF', trackingNumber: 'SF123456' }, `${shipmentId}:${preorderId}`),
    eventOf('preorder.delayed', { ...ofBatch, preorderId, sku: 'S', status: 'IN_PRODUCTION', promisedShipBy: '2026-12-20T23:59:59.999Z', committedShipDate: '2026-12-20' }, preorderId),
    eventOf('preorder.compensated', { ...ofBatch, preorderId, sku: 'S', status: 'SHIPPED', compensatedAmount: 50, currency: 'CNY', promisedShipBy: '2026-12-08T23:59:59.999Z' }, preorderId),
    eventOf(
      'preorder.address_changed',
      { campaignId, preorderId, occurredAt: at, shippingAddress: { name: 'Wang Fang', phone: '+86 139 1111 2222', line1: '1 Nanjing Road', city: 'Shanghai', region: 'Shanghai', postalCode: '200001', country: 'CN' } },
      `${preorderId}:3`,
    ),
    eventOf('batch.units_withdrawn', { ...ofBatch, lines: [{ sku: 'S', quantity: 12 }], quantity: 12, reason: 'ceiling' }, `${batchId}:ceiling`),
  ];

  it.each(produced.map((e) => [e.type, e] as const))('%s', (type: EventType, e) => {
    expect(e.detail.eventId.startsWith(`${type}:`)).toBe(true);
    // The outbox stores it and reads it back; a rule delivers it to a queue and its consumer parses it.
    expect(DomainEvent.parse(JSON.parse(JSON.stringify(e)))).toEqual(e);
    const envelope = parseEnvelope(BusEnvelope, onTheBus(e));
    expect(envelope).toEqual({ 'detail-type': type, source: 'c2m', detail: e.detail });
    if (!(busFactoryEventTypes as readonly EventType[]).includes(type)) return;
    // A factory event: the dispatcher's parse, then the body of its webhook deliveries.
    const factoryEvent = parseEnvelope(FactoryEventEnvelope, onTheBus(e));
    const body = deliveryPayload({ id: e.detail.eventId, type, sequence: 7, occurredAt: e.detail.occurredAt, factoryId: 'factory-1', data: factoryEvent.detail });
    expect(WebhookPayload.parse(JSON.parse(body))).toEqual(JSON.parse(body));
  });

  it('Optional fields stay absent when their producer leaves them out (a buyer’s cancel names no reason and no batch)', () => {
    const cancelRefund = produced.find((e) => e.type === 'preorder.refunded' && !('reason' in e.detail));
    expect(cancelRefund?.detail).not.toHaveProperty('batchId');
    expect(cancelRefund?.detail).not.toHaveProperty('factoryId');
  });
});

describe('What producers may not write (checked by tsc, which compiles this file)', () => {
  it('A forgotten field, a foreign field slipped in by a spread, and a wrong literal do not type-check', () => {
    const common = { campaignId, occurredAt: at };
    const foreign = { ...common, batchId };
    // @ts-expect-error campaign.closed needs quantity
    expect(() => eventOf('campaign.closed', { ...common, status: 'CLOSED' }, campaignId)).toThrow(/quantity/);
    // @ts-expect-error campaign.opened has no batchId, even from a spread
    expect(eventOf('campaign.opened', { ...foreign, status: 'OPEN' }, campaignId).detail).not.toHaveProperty('batchId');
    // @ts-expect-error campaign.opened is OPEN
    expect(() => eventOf('campaign.opened', { ...common, status: 'CLOSED' }, campaignId)).toThrow(/status/);
  });
});
