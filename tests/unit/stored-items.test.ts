import { marshall, unmarshall } from '@aws-sdk/util-dynamodb';
import { describe, expect, it } from 'vitest';
import { batchKey, type Batch } from '../../functions/adapters/batch-store.ts';
import { toItem as campaignToItem } from '../../functions/adapters/campaign-store.ts';
import { toItem as preorderToItem } from '../../functions/adapters/preorder-store.ts';
import {
  parseStoredBatch,
  parseStoredBatchPlan,
  parseStoredCampaign,
  parseStoredDelivery,
  parseStoredGate,
  parseStoredPreorder,
  parseStoredWebhook,
  planLine,
  StoredItemInvalidError,
} from '../../functions/adapters/stored-items.ts';
import { deliveryKey, webhookKey } from '../../functions/adapters/webhook-store.ts';
import { defaultMaxDelayDays, defaultSwitchWindowHours, newCampaign, type Campaign } from '../../functions/domain/campaign.ts';
import { noticeEntry, noticeOfEntry } from '../../functions/domain/notices.ts';
import { newPreorder, type Preorder, type ShippingAddress } from '../../functions/domain/preorder.ts';
import type { Delivery, SealedSecret, Webhook } from '../../functions/domain/webhooks.ts';

type Item = Record<string, unknown>;

/** What the DocumentClient does to an item on its way to DynamoDB and back (numbers as numbers, sets as sets). */
const throughDynamo = (item: Item): Item => unmarshall(marshall(item, { removeUndefinedValues: true }));

/** The item less its key and index attributes, as every store's fromItem takes them off. */
const withoutKeys = (item: Item): Item => {
  const { PK: _pk, SK: _sk, type: _type, GSI1PK: _g1, GSI1SK: _g1s, GSI2PK: _g2, GSI2SK: _g2s, GSI3PK: _g3, GSI3SK: _g3s, ...rest } = item;
  return rest;
};

/** The webhook item less its keys and its delivery slots, as webhook-store.ts takes them off before parsing. */
const webhookRest = (item: Item): Item => {
  const { slots: _slots, slotsVersion: _sv, ...rest } = withoutKeys(item);
  return rest;
};
/** The delivery item less its keys and its TTL, as webhook-store.ts takes them off before parsing. */
const deliveryRest = (item: Item): Item => {
  const { expiresAt: _exp, ...rest } = withoutKeys(item);
  return rest;
};

/** The StoredItemInvalidError `parse` throws. */
const refusal = (parse: () => unknown): StoredItemInvalidError => {
  try {
    parse();
  } catch (err) {
    if (err instanceof StoredItemInvalidError) return err;
    throw err;
  }
  throw new Error('the item was accepted');
};

// ---------------------------------------------------------------- scenes

const at = (iso: string) => new Date(iso);
const created = at('2026-12-01T10:00:00.000Z');
const campaignId = 'cmp_0000000000000000000000c1';
const preorderId = 'po_00000000000000000000000a';
const batchId = 'bat_0000000000000000000000b1';

const address: ShippingAddress = {
  name: 'Li Wei',
  phone: '+86 138 0000 0000',
  line1: '88 Century Avenue',
  line2: 'Flat 1201',
  city: 'Shanghai',
  region: 'Shanghai',
  postalCode: '200120',
  country: 'CN',
};

/** A capped campaign with a per-buyer limit, late compensation, variant minimums and named rooms. */
const campaign: Campaign = newCampaign({
  campaignId,
  anchorId: 'anchor-1',
  draft: {
    title: 'Hand-stitched linen shirt',
    factoryId: 'factory-1',
    backupFactoryId: 'factory-2',
    currency: 'CNY',
    variants: [
      { sku: 'SHIRT-S', name: 'Small', unitPrice: 12900, minQuantity: 20 },
      { sku: 'SHIRT-M', name: 'Medium', unitPrice: 12900 },
    ],
    closesAt: '2026-12-02T10:00:00.000Z',
    minTotalQuantity: 30,
    lotSize: 50,
    maxWaitHours: 12,
    maxTotalQuantity: 400,
    promisedShipDays: 14,
    maxPerBuyer: 5,
    maxDelayDays: 10,
    lateCompensation: { percent: 10, minAmount: 500, maxAmount: 10000 },
    liveRoomIds: ['room-1', 'room-2'],
    switchWindowHours: 12,
  },
  now: created,
});

/**
 * A pre-order of 3 taken from two gates, batched, delayed, then 2 units shipped
 * late (compensated): every step's timeline entry with its template and params.
 */
const shippedPreorder = (): Preorder => {
  const placed = newPreorder({
    preorderId,
    campaign,
    buyerId: 'buyer-1',
    sku: 'SHIRT-M',
    unitPrice: 12900,
    quantity: 3,
    shippingAddress: address,
    locale: 'en',
    gateTakes: [
      { shard: 4, units: 2 },
      { shard: 9, units: 1 },
    ],
    now: created,
  });
  const entry = (iso: string, status: Preorder['status'], step?: NonNullable<Preorder['timeline'][number]['step']>) => ({ at: iso, status, ...(step && { step }) });
  return {
    ...placed,
    status: 'IN_PRODUCTION',
    batchId,
    promisedShipBy: '2026-12-20T10:00:00.000Z',
    firstPromisedShipBy: placed.promisedShipBy,
    delayedTo: '2026-12-20T10:00:00.000Z',
    timeline: [
      ...placed.timeline,
      noticeEntry(entry('2026-12-02T10:05:00.000Z', 'BATCHED'), 'preorder.batched', { confirmBy: '2026-12-03' }, 'en'),
      noticeEntry(entry('2026-12-03T09:00:00.000Z', 'IN_PRODUCTION'), 'preorder.in_production', { shipBy: '2026-12-16' }, 'en'),
      noticeEntry(entry('2026-12-17T00:00:00.000Z', 'IN_PRODUCTION', 'delayed'), 'preorder.delayed', { promisedShipBy: '2026-12-16', shipBy: '2026-12-20' }, 'en'),
      noticeEntry(
        entry('2026-12-19T08:00:00.000Z', 'IN_PRODUCTION', 'partly-shipped'),
        'preorder.partly_shipped',
        { quantity: 2, shipped: 2, ordered: 3, carrier: 'SF Express', trackingNumber: 'SF1234567890' },
        'en',
      ),
      noticeEntry(entry('2026-12-19T08:00:00.000Z', 'IN_PRODUCTION', 'compensated'), 'preorder.compensated', { promisedShipBy: '2026-12-16', amount: 2580, currency: 'CNY' }, 'en'),
    ],
    shipments: [
      { shipmentId: 'shp_0000000000000000000000s1', carrier: 'SF Express', trackingNumber: 'SF1234567890', quantity: 2, shippedAt: '2026-12-19T08:00:00.000Z', deliveredAt: '2026-12-21T08:00:00.000Z' },
    ],
    shippedQuantity: 2,
    deliveredQuantity: 0,
    compensatedAmount: 2580,
    updatedAt: '2026-12-19T08:00:00.000Z',
  };
};

/** A cut under way: its planned pre-orders, one planned before notices had a locale. */
const cuttingBatch = (): Batch => ({
  batchId,
  campaignId,
  factoryId: 'factory-1',
  status: 'CUTTING',
  reason: 'lot',
  planned: [
    { preorderId, sku: 'SHIRT-M', quantity: 3, createdAt: '2026-12-01T10:00:00.000Z', gateShard: 4, locale: 'en' },
    { preorderId: 'po_00000000000000000000000b', sku: 'SHIRT-S', quantity: 1, createdAt: '2026-12-01T10:01:00.000Z', gateShard: 9 },
  ],
  preorderIds: [],
  lines: [],
  units: 0,
  countsAtRelease: true,
  createdAt: '2026-12-02T10:00:00.000Z',
  produced: 0,
  qcPassed: 0,
  qcFailed: 0,
  shipped: 0,
});

/** The same batch released and in production, as releaseBatch and the factory's reports leave it. */
const releasedBatch = (): Batch => ({
  ...cuttingBatch(),
  status: 'IN_PRODUCTION',
  planned: [],
  preorderIds: [preorderId, 'po_00000000000000000000000b'],
  lines: [
    { sku: 'SHIRT-M', quantity: 3, shipped: 2, produced: 3, qcPassed: 2, qcFailed: 1, defects: { stitching: 1 } },
    { sku: 'SHIRT-S', quantity: 1, shipped: 0 },
  ],
  units: 4,
  produced: 4,
  qcPassed: 2,
  qcFailed: 1,
  defects: { stitching: 1 },
  shipped: 2,
  progressBy: 'sku',
  releasedAt: '2026-12-02T10:00:05.000Z',
  acceptBy: '2026-12-03T10:00:05.000Z',
  acceptedAt: '2026-12-03T09:00:00.000Z',
  committedShipDate: '2026-12-16',
  version: 4,
  preorderCount: 2,
  ceilingAt: '2026-12-26T10:00:00.000Z',
  promiseDue: '2026-12-20T10:00:00.000Z',
  gateUnits: { '4': { v1: 3 }, '9': { v0: 1 } },
});

/** Its header item: `planned` removed at release, its pre-orders on its MEMBERS item (the header keeps the cut's empty list). */
const releasedHeader = (): Item => {
  const { planned: _planned, preorderIds: _ids, ...released } = releasedBatch();
  return {
    ...batchKey(batchId),
    type: 'batch',
    ...released,
    preorderIds: [],
    GSI1PK: 'FACTORY#factory-1#BATCHES',
    GSI1SK: `2026-12-02T10:00:05.000Z#${batchId}`,
    GSI2PK: 'BATCHCLOCK',
    GSI2SK: `2026-12-20T10:00:00.000Z#${batchId}`,
    GSI3PK: `BATCHES#${campaignId}`,
    GSI3SK: `2026-12-02T10:00:05.000Z#${batchId}`,
  };
};
const membersItem: Item = { ...batchKey(batchId), SK: 'MEMBERS', type: 'batch-members', preorderIds: [preorderId, 'po_00000000000000000000000b'] };

const webhookId = 'wh_00000000000000000000000w';
const webhook: Webhook = {
  webhookId,
  factoryId: 'factory-1',
  url: 'https://hooks.factory-one.example/c2m',
  events: ['batch.released', 'batch.withdrawn'],
  secret: 'sealed:v1:current' as SealedSecret,
  previousSecret: 'whsec_stored-before-sealing' as SealedSecret,
  previousSecretExpiresAt: '2026-12-02T10:00:00.000Z',
  revealSecret: 'sealed:v1:reveal' as SealedSecret,
  secretRotatedAt: '2026-12-01T10:00:00.000Z',
  status: 'DISABLED',
  disabledReason: 'FAILING',
  disabledAt: '2026-12-04T10:00:00.000Z',
  failingSince: '2026-12-01T11:00:00.000Z',
  createdAt: '2026-11-30T10:00:00.000Z',
  updatedAt: '2026-12-04T10:00:00.000Z',
};
/** As webhook-store.ts writes it, with the delivery slots its deliverers took since. */
const webhookItem = (): Item => ({
  ...webhookKey(webhookId),
  type: 'webhook',
  ...webhook,
  requestHash: 'hash-webhook',
  GSI1PK: 'FACTORY#factory-1#WEBHOOKS',
  GSI1SK: `${webhook.createdAt}#${webhookId}`,
  slots: { 'lease-1': 1_800_000_000_000 },
  slotsVersion: 7,
});

const deliveryId = 'whd_0000000000000000000000d1';
const delivery: Delivery = {
  deliveryId,
  webhookId,
  factoryId: 'factory-1',
  eventId: `batch.released:${batchId}`,
  eventType: 'batch.released',
  sequence: 41,
  status: 'RETRYING',
  attempts: [
    { at: '2026-12-02T10:00:06.000Z', statusCode: 503, durationMs: 120 },
    { at: '2026-12-02T10:00:37.000Z', error: 'timeout after 10000 ms', durationMs: 10000 },
  ],
  attemptCount: 5,
  tries: 2,
  payload: '{"id":"batch.released:bat_0000000000000000000000b1","type":"batch.released","sequence":41}',
  nextAttemptAt: '2026-12-02T10:01:40.000Z',
  createdAt: '2026-12-02T10:00:05.000Z',
};
const deliveryItem = (): Item => ({
  ...deliveryKey(deliveryId),
  type: 'webhook-delivery',
  ...delivery,
  GSI1PK: `WEBHOOK#${webhookId}#DELIVERIES`,
  GSI1SK: `${delivery.createdAt}#${deliveryId}`,
  expiresAt: 1_767_261_605,
});

// ---------------------------------------------------------------- round trips

describe('What a store writes parses back to the domain object it wrote', () => {
  it('A pre-order with shipments, a delay, two gate takes and templated timeline entries', () => {
    const p = shippedPreorder();
    const item = throughDynamo(preorderToItem(p, 'hash-preorder'));

    const parsed = parseStoredPreorder(withoutKeys(item), String(item.PK));

    expect(parsed).toStrictEqual({ ...p, requestHash: 'hash-preorder' });
  });

  it('A pre-order still waiting (on the waiting index) parses back the same', () => {
    const p = newPreorder({ preorderId, campaign, buyerId: 'buyer-1', sku: 'SHIRT-S', unitPrice: 12900, quantity: 1, shippingAddress: address, gateTakes: [{ shard: 0, units: 1 }], now: created });
    const item = throughDynamo(preorderToItem(p, 'h'));
    expect(item.GSI3PK).toBeDefined();

    const parsed = parseStoredPreorder(withoutKeys(item), String(item.PK));

    expect(parsed).toStrictEqual({ ...p, requestHash: 'h' });
  });

  it('A campaign with a cap, a per-buyer limit, late compensation and its cut lease', () => {
    const closed: Campaign = { ...campaign, status: 'CLOSED', closedAt: '2026-12-02T10:00:00.000Z', minimumMetAt: '2026-12-01T12:00:00.000Z', variantsMet: ['SHIRT-M'], variantsMissed: ['SHIRT-S'], switchBy: '2026-12-02T22:00:00.000Z' };
    // The lease as startCut and endCut leave it on the campaign item.
    const item = throughDynamo({ ...campaignToItem(closed, 'hash-campaign'), cutting: batchId, cuts: 2 });

    const parsed = parseStoredCampaign(withoutKeys(item), String(item.PK));

    expect(parsed).toStrictEqual({ ...closed, requestHash: 'hash-campaign', cutting: batchId, cuts: 2 });
  });

  it('A batch being cut, with its planned pre-orders', () => {
    const item = throughDynamo({ ...batchKey(batchId), type: 'batch', ...cuttingBatch() });

    const parsed = parseStoredBatch(withoutKeys(item), String(item.PK));

    expect(parsed).toStrictEqual(cuttingBatch());
  });

  it('A released batch in production, its pre-orders from its MEMBERS item', () => {
    const item = throughDynamo(releasedHeader());
    const members = throughDynamo(membersItem);

    const parsed = parseStoredBatch(withoutKeys(item), String(item.PK), members);

    expect(parsed).toStrictEqual(releasedBatch());
    expect(parsed.preorderIds).toEqual([preorderId, 'po_00000000000000000000000b']);
    expect(parsed.planned).toEqual([]);
  });

  it('A webhook, less its delivery slots', () => {
    const item = throughDynamo(webhookItem());

    const parsed = parseStoredWebhook(webhookRest(item), String(item.PK));

    expect(parsed).toStrictEqual({ ...webhook, requestHash: 'hash-webhook' });
  });

  it('A delivery with its attempts, less its expiry', () => {
    const item = throughDynamo(deliveryItem());

    const parsed = parseStoredDelivery(deliveryRest(item), String(item.PK));

    expect(parsed).toStrictEqual(delivery);
  });
});

// ---------------------------------------------------------------- older items

describe('Items written by older versions parse, with the defaults the stores give them', () => {
  it('A pre-order from before locales, templates, order refs and the notices item gets the currency’s locale (zh-CN for CNY) and keeps what it was told', () => {
    const p = newPreorder({ preorderId, campaign, buyerId: 'buyer-1', sku: 'SHIRT-M', unitPrice: 12900, quantity: 1, shippingAddress: address, gateTakes: [{ shard: 2, units: 1 }], now: created });
    const { locale: _locale, ...current } = preorderToItem({ ...p, status: 'BATCHED', batchId }, 'h');
    const timeline: Preorder['timeline'] = [
      { at: '2026-12-01T10:00:00.000Z', status: 'ACCEPTED', note: 'Pre-order accepted' },
      { at: '2026-12-02T10:00:00.000Z', status: 'BATCHED', note: 'In production batch bat_01OLD at factory-9' },
    ];
    // What it was told, recorded on the pre-order before the notices item.
    const notifications: NonNullable<Preorder['notifications']> = [
      { notificationId: `${preorderId}:1`, at: '2026-12-01T10:00:00.000Z', step: 'ACCEPTED', message: 'Pre-order accepted', sentAt: '2026-12-01T10:00:02.000Z' },
      {
        notificationId: `${preorderId}:2`,
        at: '2026-12-02T10:00:00.000Z',
        step: 'BATCHED',
        template: 'preorder.batched',
        params: { confirmBy: '2026-12-03' },
        locale: 'zh-CN',
        message: '已进入生产批次',
        sentAt: '2026-12-02T10:00:03.000Z',
      },
    ];
    const notifyLease = { leaseId: 'lease-old', expiresAt: 1_764_583_200_000 };
    const old = throughDynamo({
      ...current,
      // Indexed for its buyer on its own item, before order refs.
      GSI1PK: 'BUYER#buyer-1',
      GSI1SK: `${p.createdAt}#${preorderId}`,
      timeline,
      notifications,
      notifiedCount: 2,
      notifyLease,
    });
    expect('locale' in old).toBe(false);

    const parsed = parseStoredPreorder(withoutKeys(old), String(old.PK));

    expect(parsed.locale).toBe('zh-CN');
    expect(parsed).toStrictEqual({
      ...p,
      status: 'BATCHED',
      batchId,
      locale: 'zh-CN',
      timeline,
      notifications,
      notifiedCount: 2,
      notifyLease,
      requestHash: 'h',
    });
  });

  it('A pre-order without shipments or delay keeps those fields absent, not defaulted', () => {
    const p = newPreorder({ preorderId, campaign, buyerId: 'buyer-1', sku: 'SHIRT-M', unitPrice: 12900, quantity: 1, shippingAddress: address, gateTakes: [{ shard: 2, units: 1 }], now: created });
    const item = throughDynamo(preorderToItem(p, 'h'));

    const parsed = parseStoredPreorder(withoutKeys(item), String(item.PK));

    expect(parsed).toStrictEqual({ ...p, requestHash: 'h' });
    for (const absent of ['shipments', 'shippedQuantity', 'deliveredQuantity', 'delayedTo', 'firstPromisedShipBy', 'notifications', 'batchId'] as const) {
      expect(absent in parsed, absent).toBe(false);
    }
  });

  it('Attributes written only for write conditions are dropped; the domain fields are not', () => {
    const p = shippedPreorder();
    const item = throughDynamo({
      ...preorderToItem(p, 'h'),
      leftBatch: 'bat_0000000000000000000000b0',
      shipmentIds: ['shp_0000000000000000000000s1'],
      deliveredShipmentIds: ['shp_0000000000000000000000s1'],
    });

    const parsed = parseStoredPreorder(withoutKeys(item), String(item.PK));

    expect(parsed).toStrictEqual({ ...p, requestHash: 'h' });
    for (const dropped of ['leftBatch', 'shipmentIds', 'deliveredShipmentIds']) expect(dropped in parsed, dropped).toBe(false);
  });

  it('A timeline entry whose template is no longer known is read without one, the pre-order stays readable, and the entry is told as its step’s generic update', () => {
    const p = shippedPreorder();
    const item = throughDynamo(preorderToItem(p, 'h'));
    const timeline = [...(item.timeline as Item[])];
    // The delay's entry, under a template renamed since it was written.
    expect(timeline[3]).toMatchObject({ step: 'delayed', template: 'preorder.delayed' });
    timeline[3] = { ...timeline[3], template: 'preorder.renamed_long_ago' };

    const parsed = parseStoredPreorder({ ...withoutKeys(item), timeline }, String(item.PK));

    expect(parsed.timeline[3]!.template).toBeUndefined();
    const { template: _template, ...untemplated } = p.timeline[3]!;
    expect(parsed).toEqual({ ...p, requestHash: 'h', timeline: [...p.timeline.slice(0, 3), untemplated, ...p.timeline.slice(4)] });
    expect(noticeOfEntry(parsed.timeline[3]!, parsed.locale)).toStrictEqual({
      template: 'preorder.updated',
      params: { step: 'delayed' },
      locale: 'en',
      message: 'Your order is delayed.',
    });
  });

  it('A campaign from before maxDelayDays and switchWindowHours gets their defaults (defaultMaxDelayDays, defaultSwitchWindowHours)', () => {
    const { maxDelayDays: _d, switchWindowHours: _w, ...current } = campaignToItem(campaign, 'h');
    const old = throughDynamo(current);
    // The scene's own terms differ from the defaults, so a default is told from a kept value.
    expect([campaign.maxDelayDays, campaign.switchWindowHours]).not.toEqual([defaultMaxDelayDays, defaultSwitchWindowHours]);

    const parsed = parseStoredCampaign(withoutKeys(old), String(old.PK));

    expect(parsed.maxDelayDays).toBe(defaultMaxDelayDays);
    expect(parsed.switchWindowHours).toBe(defaultSwitchWindowHours);
    expect(parsed).toStrictEqual({ ...campaign, requestHash: 'h', maxDelayDays: defaultMaxDelayDays, switchWindowHours: defaultSwitchWindowHours });
  });

  it('A campaign moved to its backup factory keeps the factories it had, so a whole-item Put of it as read keeps them too', () => {
    const moved: Campaign = { ...campaign, factoryId: 'factory-2' };
    const item = throughDynamo({ ...campaignToItem(moved, 'h'), previousFactoryIds: ['factory-1'] });

    const parsed = parseStoredCampaign(withoutKeys(item), String(item.PK));

    expect(parsed).toStrictEqual({ ...moved, requestHash: 'h', previousFactoryIds: ['factory-1'] });
    const { requestHash, ...read } = parsed;
    expect(campaignToItem(read, requestHash).previousFactoryIds).toEqual(['factory-1']);
  });

  it('A batch released before the MEMBERS item, with lines from before `shipped` was kept and no planned list', () => {
    const { lines: _lines, ...header } = releasedHeader();
    const old = throughDynamo({
      ...header,
      preorderIds: [preorderId, 'po_00000000000000000000000b'],
      lines: [{ sku: 'SHIRT-M', quantity: 3 }, { sku: 'SHIRT-S', quantity: 1, produced: 1 }],
    });

    const parsed = parseStoredBatch(withoutKeys(old), String(old.PK));

    expect(parsed.planned).toEqual([]);
    expect(parsed.preorderIds).toEqual([preorderId, 'po_00000000000000000000000b']);
    expect(parsed.lines).toEqual([{ sku: 'SHIRT-M', quantity: 3, shipped: 0 }, { sku: 'SHIRT-S', quantity: 1, produced: 1, shipped: 0 }]);
    expect(parsed).toStrictEqual({
      ...releasedBatch(),
      lines: [
        { sku: 'SHIRT-M', quantity: 3, shipped: 0 },
        { sku: 'SHIRT-S', quantity: 1, produced: 1, shipped: 0 },
      ],
    });
  });

  it('A batch header with no lines or members at all gets empty lists', () => {
    const { lines: _lines, preorderIds: _ids, planned: _planned, ...bare } = { ...batchKey(batchId), type: 'batch', ...cuttingBatch() };
    const old = throughDynamo(bare);
    const members = throughDynamo({ ...membersItem, preorderIds: undefined });

    const parsed = parseStoredBatch(withoutKeys(old), String(old.PK), members);

    expect(parsed).toStrictEqual({ ...cuttingBatch(), lines: [], preorderIds: [], planned: [] });
  });

  it('A batch changed since its release parses without `updatedAt`, which the Batch type does not have', () => {
    const item = throughDynamo({ ...releasedHeader(), updatedAt: '2026-12-19T08:00:00.000Z' });
    const members = throughDynamo(membersItem);

    const parsed = parseStoredBatch(withoutKeys(item), String(item.PK), members);

    expect('updatedAt' in parsed).toBe(false);
    expect(parsed).toStrictEqual(releasedBatch());
  });

  it('A delivery from before attempts were counted: no attempts, 0 attempts counted, 0 tries, and its sequence stored as digits read as its number', () => {
    const { attempts: _a, attemptCount: _c, tries: _t, ...current } = deliveryItem();
    const old = throughDynamo({ ...current, status: 'PENDING', sequence: '7' });

    const parsed = parseStoredDelivery(deliveryRest(old), String(old.PK));

    expect(parsed).toStrictEqual({ ...delivery, status: 'PENDING', sequence: 7, attempts: [], attemptCount: 0, tries: 0 });
  });

  it('A delivery from before `tries` was kept counts every attempt as this series’ (a counter stored as digits read as its number)', () => {
    const { tries: _t, ...current } = deliveryItem();
    const old = throughDynamo({ ...current, attemptCount: '5' });

    const parsed = parseStoredDelivery(deliveryRest(old), String(old.PK));

    expect(parsed).toStrictEqual({ ...delivery, attemptCount: 5, tries: 5 });
  });
});

// ---------------------------------------------------------------- refused

describe('A malformed item is refused, naming its kind, its key and the field, never a value', () => {
  it('A pre-order whose quantity is not a number and whose address lost its street', () => {
    const item = throughDynamo(preorderToItem(shippedPreorder(), 'h'));
    const { line1: _line1, ...street } = address;
    const key = String(item.PK);

    const error = refusal(() => parseStoredPreorder({ ...withoutKeys(item), quantity: 'three units', shippingAddress: { ...street, city: 7 } }, key));

    expect(error.kind).toBe('preorder');
    expect(error.key).toBe(key);
    expect(error.issues.map((i) => i.path)).toEqual(['quantity', 'shippingAddress.line1', 'shippingAddress.city']);
    expect(error.message).toBe(
      `stored preorder ${key} is not valid: quantity: expected number, got string; shippingAddress.line1: missing (expected string); shippingAddress.city: expected string, got number`,
    );
    for (const value of ['three units', address.name, address.phone, address.line2!, address.postalCode, 'Shanghai']) expect(error.message).not.toContain(value);
  });

  it('A pre-order whose timeline entry has a status no pre-order has', () => {
    const item = throughDynamo(preorderToItem(shippedPreorder(), 'h'));
    const timeline = [...(item.timeline as unknown[])];
    timeline[2] = { at: '2026-12-03T09:00:00.000Z', status: 'LOST_AT_SEA' };

    const error = refusal(() => parseStoredPreorder({ ...withoutKeys(item), timeline }, String(item.PK)));

    expect(error.issues).toEqual([{ path: 'timeline.2.status', message: expect.stringMatching(/^expected one of ACCEPTED, BATCHED/) }]);
    expect(error.message).not.toContain('LOST_AT_SEA');
    expect(error.message).not.toContain(address.line1);
  });

  it('A campaign with an unknown status and no gate count', () => {
    const { gateShards: _g, ...item } = throughDynamo(campaignToItem(campaign, 'h'));

    const error = refusal(() => parseStoredCampaign({ ...withoutKeys(item), status: 'PAUSED' }, String(item.PK)));

    expect(error.message).toMatch(new RegExp(`^stored campaign CAMPAIGN#${campaignId} is not valid: `));
    expect(error.issues.map((i) => i.path).sort()).toEqual(['gateShards', 'status']);
    expect(error.message).not.toContain('PAUSED');
    expect(error.message).not.toContain(campaign.title);
  });

  it('A gate whose remaining units are text and whose ordered counter is not a map of numbers', () => {
    const item = throughDynamo({ PK: `GATE#${campaignId}`, SK: 'SHARD#3', type: 'gate', shard: 3, open: true, remaining: '40', ordered: { v0: 'many' } });

    const error = refusal(() => parseStoredGate(item, String(item.PK)));

    expect(error.message).toMatch(new RegExp(`^stored gate GATE#${campaignId} is not valid: `));
    expect(error.issues.map((i) => i.path).sort()).toEqual(['ordered.v0', 'remaining']);
    expect(error.message).not.toContain('many');
  });

  it('A batch whose line has no quantity, and a MEMBERS item whose list is not one', () => {
    const header = throughDynamo(releasedHeader());
    const lines = [{ sku: 'SHIRT-M', shipped: 2 }];

    const badLine = refusal(() => parseStoredBatch({ ...withoutKeys(header), lines }, String(header.PK)));
    const badMembers = refusal(() => parseStoredBatch(withoutKeys(header), String(header.PK), { ...membersItem, preorderIds: preorderId }));

    expect(badLine.message).toBe(`stored batch BATCH#${batchId} is not valid: lines.0.quantity: missing (expected number)`);
    expect(badMembers.kind).toBe('batch members');
    expect(badMembers.message).toBe(`stored batch members BATCH#${batchId} MEMBERS is not valid: preorderIds: expected array, got string`);
    expect(badMembers.message).not.toContain(preorderId);
  });

  it('A cut\'s plan reads back as planned, a line a pre-order; a line short of a field or with a quantity that is not a number is refused, naming the item', () => {
    const planned = [
      { preorderId, sku: 'SHIRT-M', quantity: 3, createdAt: '2026-12-02T10:00:00.000Z', gateShard: 17, locale: 'zh-CN' as const },
      { preorderId: 'po_00000000000000000000000b', sku: 'v2.b_x', quantity: 1, createdAt: '2026-12-02T10:00:01.000Z', gateShard: 0 },
    ];
    const item = throughDynamo({ PK: `BATCHPLAN#${batchId}`, SK: 'PLAN', type: 'batch-plan', planned: planned.map(planLine), expiresAt: 1 });

    expect(parseStoredBatchPlan(item, `BATCHPLAN#${batchId} PLAN`)).toEqual(planned);
    const short = refusal(() => parseStoredBatchPlan({ ...item, planned: [`${preorderId} SHIRT-M 3`] }, `BATCHPLAN#${batchId} PLAN`));
    const notANumber = refusal(() => parseStoredBatchPlan({ ...item, planned: [`${preorderId} SHIRT-M three 2026-12-02T10:00:00.000Z 1`] }, `BATCHPLAN#${batchId} PLAN`));
    expect(short.kind).toBe('batch plan');
    expect(short.message).toBe(`stored batch plan BATCHPLAN#${batchId} PLAN is not valid: planned.0: expected "<preorderId> <sku> <quantity> <createdAt> <gateShard>[ <locale>]", got 3 fields`);
    expect(notANumber.message).toContain('got a quantity or gate shard that is not a whole number');
    expect(notANumber.message).not.toContain(preorderId);
  });

  it('A webhook whose events are a string and whose secret is missing', () => {
    const { secret: _s, ...item } = throughDynamo(webhookItem());

    const error = refusal(() => parseStoredWebhook({ ...webhookRest(item), events: 'batch.released' }, String(item.PK)));

    expect(error.message).toBe(`stored webhook WEBHOOK#${webhookId} is not valid: events: expected array, got string; secret: missing (expected string)`);
    for (const value of [webhook.url, 'batch.released', webhook.previousSecret!, webhook.revealSecret!]) expect(error.message).not.toContain(value);
  });

  it('A delivery whose sequence is not a number (once read as NaN) and whose attempt has no duration', () => {
    const item = throughDynamo(deliveryItem());

    const error = refusal(() =>
      parseStoredDelivery({ ...deliveryRest(item), sequence: 'forty-one', attempts: [{ at: '2026-12-02T10:00:06.000Z', statusCode: 503 }] }, String(item.PK)),
    );

    expect(error.issues.map((i) => i.path)).toEqual(['sequence', 'attempts.0.durationMs']);
    expect(error.message).toContain(`stored delivery WHDELIVERY#${deliveryId} is not valid: sequence: expected number, got string`);
    for (const value of ['forty-one', '503', delivery.payload]) expect(error.message).not.toContain(value);
  });

  it('Names the first three fields at fault and counts the rest', () => {
    const error = refusal(() => parseStoredDelivery({}, 'WHDELIVERY#whd_x'));

    expect(error.issues.length).toBeGreaterThan(3);
    expect(error.message).toMatch(/^stored delivery WHDELIVERY#whd_x is not valid: deliveryId: missing \(expected string\); [^;]+; [^;]+ \(and \d+ more\)$/);
  });
});
