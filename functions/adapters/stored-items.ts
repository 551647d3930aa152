import * as z from 'zod';
import { CampaignStatus, CampaignView } from '#contracts/campaigns.ts';
import { PreorderStatus, PreorderView } from '#contracts/preorders.ts';
import { defaultMaxDelayDays, defaultSwitchWindowHours, type Campaign, type LateCompensation, type Variant } from '#domain/campaign.ts';
import { defectCodes } from '#domain/defects.ts';
import { noticeTemplates } from '#domain/notices.ts';
import {
  localeOf,
  locales,
  type GateTake,
  type NotificationLease,
  type Preorder,
  type PreorderShipment,
  type SentNotification,
  type ShippingAddress,
  type TimelineEntry,
} from '#domain/preorder.ts';
import type { ProductionLine } from '#domain/production.ts';
import type { Delivery, DeliveryAttempt, DeliveryStatus, DisabledReason, SealedSecret, Webhook, WebhookStatus } from '#domain/webhooks.ts';
import type { Batch, BatchStatus, PlannedPreorder } from './batch-store.ts';

/**
 * What the stores read from DynamoDB, parsed at the boundary instead of cast:
 * one schema per entity, of the item as its store's `fromItem` has it once the
 * key and index attributes (PK, SK, type, GSI…) are taken off, and a parse
 * function whose result is the domain type.
 *
 * What is checked: every property of the domain type (tsc holds each schema to
 * its type, both ways, below), its type, and the enums the domain switches on.
 * What is not: the API's input rules (lengths, patterns, id formats). They were
 * checked when the value was written, and a rule tightened since must not make
 * the items written before it unreadable. Values c2m produces itself are
 * checked as the contracts describe them where the schema is reused from there
 * (a timeline entry's `at` is an ISO timestamp).
 *
 * Items written by older versions parse: what they may lack is optional here,
 * or given the default its store's `fromItem` gives it (each said where).
 * Attributes the domain type does not name are dropped, except those the
 * stores read (a campaign's cut lease, the request hash of an idempotent
 * create). Numbers come back from the DocumentClient as numbers; strings are
 * read as numbers only where `fromItem` did so (`Number(…)`, a delivery's counters).
 */

// ---------------------------------------------------------------- the error

export type StoredItemKind = 'preorder' | 'campaign' | 'gate' | 'batch' | 'batch members' | 'batch plan' | 'webhook' | 'delivery';

/** Where a stored item does not fit its schema, and how: never its value (items hold addresses and secrets). */
export interface StoredItemIssue {
  readonly path: string;
  readonly message: string;
}

/** A stored item that is not what its store writes: names the kind, the key and the first fields at fault, never a value. */
export class StoredItemInvalidError extends Error {
  override readonly name = 'StoredItemInvalidError';
  constructor(
    readonly kind: StoredItemKind,
    readonly key: string,
    readonly issues: readonly StoredItemIssue[],
  ) {
    const shown = issues.slice(0, maxIssuesShown).map((i) => `${i.path || '(the item)'}: ${i.message}`);
    const more = issues.length > maxIssuesShown ? ` (and ${issues.length - maxIssuesShown} more)` : '';
    super(`stored ${kind} ${key} is not valid: ${shown.join('; ')}${more}`);
  }
}

const maxIssuesShown = 3;

/** What kind of value is at `path` in the item, by name only ("string", "nothing"), never the value itself. */
const kindAt = (input: unknown, path: readonly PropertyKey[]): string => {
  let value = input;
  for (const key of path) value = value !== null && typeof value === 'object' ? Reflect.get(value, key) : undefined;
  if (value === undefined) return 'nothing';
  if (value === null) return 'null';
  if (Array.isArray(value)) return 'array';
  if (value instanceof Set) return 'set';
  return typeof value;
};

/** zod's issue in words of our own: from the schema's side only (expected types, allowed values, bounds), so no stored value can leak. */
const describe = (issue: z.core.$ZodIssue, input: unknown): StoredItemIssue => {
  const path = issue.path.map(String).join('.');
  const message = ((): string => {
    switch (issue.code) {
      case 'invalid_type': {
        const got = kindAt(input, issue.path);
        return got === 'nothing' ? `missing (expected ${issue.expected})` : `expected ${issue.expected}, got ${got}`;
      }
      case 'invalid_value': {
        const allowed = issue.values.length <= 8 ? `one of ${issue.values.map(String).join(', ')}` : `one of ${issue.values.length} allowed values`;
        return kindAt(input, issue.path) === 'nothing' ? `missing (expected ${allowed})` : `expected ${allowed}`;
      }
      case 'too_small':
        return `below its minimum (${String(issue.minimum)})`;
      case 'too_big':
        return `above its maximum (${String(issue.maximum)})`;
      case 'invalid_format':
        return `not a valid ${issue.format}`;
      case 'invalid_key':
        return 'not an allowed key';
      case 'invalid_union':
        return 'fits none of the allowed shapes';
      case 'unrecognized_keys':
        return `unexpected fields ${issue.keys.join(', ')}`;
      case 'custom':
        return issue.message;
      default:
        return issue.code.replaceAll('_', ' ');
    }
  })();
  return { path, message };
};

const parseStored = <S extends z.ZodType>(kind: StoredItemKind, schema: S, rest: Record<string, unknown>, key: string): z.output<S> => {
  const parsed = schema.safeParse(rest);
  if (!parsed.success) throw new StoredItemInvalidError(kind, key, parsed.error.issues.map((issue) => describe(issue, rest)));
  return parsed.data;
};

// ---------------------------------------------------------------- type checks

/** Compiles only for `true`: the checks below fail tsc, naming the fields, when a schema and its domain type drift apart. */
type Holds<T extends true> = T;
/** `true` when the schema's output and the domain type name the same properties; else the ones each lacks. */
type SameKeys<Output, Domain> = [Exclude<keyof Domain, keyof Output>, Exclude<keyof Output, keyof Domain>] extends [never, never]
  ? true
  : { readonly missingFromSchema: Exclude<keyof Domain, keyof Output>; readonly notInDomain: Exclude<keyof Output, keyof Domain> };

// ---------------------------------------------------------------- shared pieces

const id = z.string().min(1);
/** A timestamp or a day as c2m stores it (ISO 8601), checked as a string only. */
const time = z.string();
/**
 * A number the store read with `Number(…)`: a number, or a string of one
 * (anything else, NaN before, is refused).
 */
const storedNumber = z.preprocess((v) => (typeof v === 'string' && /^\s*-?\d+(\.\d+)?\s*$/.test(v) ? Number(v) : v), z.number());

// ---------------------------------------------------------------- pre-order

/**
 * The address as stored: its fields and their types. Not the contract's
 * ShippingAddress, whose input rules (phone pattern, lengths, trimming, no other
 * field) the buyer's value met under the rules of its day.
 */
const StoredAddress = z.object({
  name: z.string(),
  phone: z.string(),
  line1: z.string(),
  line2: z.string().optional(),
  city: z.string(),
  region: z.string(),
  postalCode: z.string(),
  country: z.string(),
}) satisfies z.ZodType<ShippingAddress>;

/** A timeline entry as the buyer's view has it, less what older (only `note`) and newer (no `note`) entries lack. */
const StoredTimelineEntry = PreorderView.shape.timeline.element
  .partial({ note: true, template: true, params: true })
  // A template this code does not know (renamed or removed since) is read as none: the entry is then told as
  // its step's generic update (noticeOfEntry), as it was before, rather than the whole pre-order being unreadable.
  .extend({
    template: z.enum(noticeTemplates).optional().catch(undefined),
    toldBy: z.object({ batchId: id, page: z.number().int().nonnegative() }).optional(),
  }) satisfies z.ZodType<TimelineEntry>;

const StoredShipment = PreorderView.shape.shipments.element satisfies z.ZodType<PreorderShipment>;

const StoredGateTake = z.object({ shard: z.number(), units: z.number() }) satisfies z.ZodType<GateTake>;

/** A notification recorded on the pre-order item itself (pre-orders older than their notices item); older ones have no template. */
const StoredNotification = z.object({
  notificationId: z.string(),
  at: time,
  step: z.string(),
  // As on timeline entries: a template this code no longer knows reads as none rather than making the pre-order unreadable.
  template: z.enum(noticeTemplates).optional().catch(undefined),
  params: z.record(z.string(), z.union([z.string(), z.number()])).optional(),
  locale: z.enum(locales).optional(),
  message: z.string(),
  sentAt: time,
}) satisfies z.ZodType<SentNotification>;

const StoredLease = z.object({ leaseId: z.string(), expiresAt: z.number() }) satisfies z.ZodType<NotificationLease>;

const StoredPreorderFields = z.object({
  preorderId: id,
  campaignId: id,
  buyerId: id,
  sku: z.string(),
  quantity: z.number(),
  unitPrice: z.number(),
  currency: z.string(),
  amount: z.number(),
  shippingAddress: StoredAddress,
  /** Absent on pre-orders stored before they had one: see the transform. */
  locale: z.enum(locales).optional(),
  paymentRef: z.string().optional(),
  source: z.object({ liveRoomId: z.string(), sessionId: z.string().optional(), affiliateId: z.string().optional() }).optional(),
  status: PreorderStatus,
  batchId: id.optional(),
  promisedShipBy: time,
  refundedAmount: z.number(),
  timeline: z.array(StoredTimelineEntry),
  gateTakes: z.array(StoredGateTake),
  createdAt: time,
  updatedAt: time,
  shipments: z.array(StoredShipment).optional(),
  shippedQuantity: z.number().optional(),
  deliveredQuantity: z.number().optional(),
  refundedUnits: z.number().optional(),
  firstPromisedShipBy: time.optional(),
  delayedTo: time.optional(),
  /** Only on pre-orders older than their notices item (notice-store.ts); toItem never writes these three. */
  notifications: z.array(StoredNotification).optional(),
  notifiedCount: z.number().optional(),
  notifyLease: StoredLease.optional(),
  compensatedAmount: z.number().optional(),
  switchBy: time.optional(),
  switchedFrom: z.string().optional(),
  acceptedOnIntake: z.boolean().optional(),
  /** What the platform confirmed paid back (domain/refunds.ts); `confirmedRefundIds`, the set its writes are guarded by, is not read. */
  refundConfirmations: z.array(z.object({ refundId: z.string(), confirmedAt: time })).optional(),
  finalUnitPrice: z.number().optional(),
  paidAmount: z.number().optional(),
  depositAmount: z.number().optional(),
  depositDiscount: z.number().optional(),
  balanceDue: z.number().optional(),
  balanceDueBy: time.optional(),
  balancePaidAt: time.optional(),
  forfeitedAmount: z.number().optional(),
  /** The hash of the create request, for its idempotent replay (not part of the domain type). */
  requestHash: z.string(),
});

export type StoredPreorderRecord = Preorder & { requestHash: string };

/**
 * The pre-order item. Default applied here: `locale`, absent on pre-orders
 * stored before they had one, is `localeOf(p)` (the currency's default), which
 * every reader of such a pre-order used already; fromItem left it absent.
 * Dropped: `leftBatch`, `shipmentIds`, `deliveredShipmentIds` (only ever read by
 * write conditions, never off the item).
 */
export const StoredPreorder = StoredPreorderFields.transform((p) => ({ ...p, locale: localeOf(p) })) satisfies z.ZodType<StoredPreorderRecord>;

export const parseStoredPreorder = (rest: Record<string, unknown>, key: string): StoredPreorderRecord =>
  parseStored('preorder', StoredPreorder, rest, key);

/** The pre-order item as read, its table and index keys set aside. */
export const parseStoredPreorderItem = (item: Record<string, unknown>): StoredPreorderRecord => {
  const { PK, SK: _sk, type: _type, GSI1PK: _g1, GSI1SK: _g1s, GSI2PK: _g2, GSI2SK: _g2s, GSI3PK: _g3, GSI3SK: _g3s, ...rest } = item;
  return parseStoredPreorder(rest, String(PK));
};

// ---------------------------------------------------------------- campaign

const StoredVariant = CampaignView.shape.variants.element satisfies z.ZodType<Variant>;

/** Not the contract's LateCompensation: its input rules (bounds, no other field, max ≥ min) were the write's business. */
const StoredLateCompensation = z.object({ percent: z.number(), minAmount: z.number(), maxAmount: z.number() }) satisfies z.ZodType<LateCompensation>;

export type StoredCampaignRecord = Campaign & { requestHash: string; cutting?: string; cuts?: number; previousFactoryIds?: string[] };

/**
 * The campaign item. Defaults applied here, as fromItem does: `maxDelayDays`
 * and `switchWindowHours`, absent on campaigns stored before those terms.
 * Kept beyond the domain type: `requestHash`, and the cut lease `cutting` /
 * `cuts` (batch-store.ts; cutting.ts reads them), and `previousFactoryIds`
 * (written by switchFactory).
 */
export const StoredCampaign = z.object({
  campaignId: id,
  anchorId: id,
  title: z.string(),
  factoryId: id,
  backupFactoryId: id.optional(),
  currency: z.string(),
  variants: z.array(StoredVariant),
  priceTiers: z.array(z.object({ minUnits: z.number(), unitPrice: z.number() })).optional(),
  opensAt: time,
  closesAt: time,
  firstClosesAt: time.optional(),
  minTotalQuantity: z.number(),
  lotSize: z.number(),
  maxWaitHours: z.number().optional(),
  maxTotalQuantity: z.number().optional(),
  promisedShipDays: z.number(),
  maxPerBuyer: z.number().optional(),
  maxDelayDays: z.number().default(defaultMaxDelayDays),
  lateCompensation: StoredLateCompensation.optional(),
  commission: z.object({ anchorPercent: z.number(), affiliatePercent: z.number() }).optional(),
  liveRoomIds: z.array(z.string()).optional(),
  switchWindowHours: z.number().default(defaultSwitchWindowHours),
  payment: z
    .object({ mode: z.enum(['full', 'deposit']), deposit: z.number().optional(), balanceWindowHours: z.number().optional(), depositDiscount: z.number().optional() })
    .optional(),
  balancesCalledAt: time.optional(),
  balanceDueBy: time.optional(),
  balancesSettledAt: time.optional(),
  minimumMetAt: time.optional(),
  variantsMet: z.array(z.string()).optional(),
  variantsMissed: z.array(z.string()).optional(),
  switchBy: time.optional(),
  switchWindowClosedAt: time.optional(),
  finalPrices: z.record(z.string(), z.number()).optional(),
  repricedAt: time.optional(),
  status: CampaignStatus,
  createdAt: time,
  updatedAt: time,
  closedAt: time.optional(),
  gateShards: z.number(),
  requestHash: z.string(),
  /** The batch being cut while the campaign's cut lease is held. */
  cutting: id.optional(),
  /** Cuts finished (absent before the first). */
  cuts: z.number().optional(),
  /** The factories a switch moved the campaign from (switchFactory); kept so a whole-item Put of a read campaign keeps them. */
  previousFactoryIds: z.array(z.string()).optional(),
}) satisfies z.ZodType<StoredCampaignRecord>;

export const parseStoredCampaign = (rest: Record<string, unknown>, key: string): StoredCampaignRecord =>
  parseStored('campaign', StoredCampaign, rest, key);

// ---------------------------------------------------------------- gate

/** A gate's counters: variant slot (`v<position>`) → units; a slot never written reads as 0 (readGates). */
const gateCounters = z.record(z.string(), z.number()).optional();

/**
 * A campaign's gate shard (campaign-store.ts gateItem), as its counters are read:
 * `open`, the units still `remaining` under the cap (capped campaigns only), and
 * the per-variant `ordered`, `cancelled`, `batched` units. Other attributes
 * (`sealed`, the key) are the writers' business and not read here.
 */
export const StoredGate = z.object({
  shard: z.number().int().nonnegative(),
  open: z.boolean().optional(),
  remaining: z.number().optional(),
  ordered: gateCounters,
  cancelled: gateCounters,
  batched: gateCounters,
  /** Deposit campaigns' gates: units whose balance is not paid (domain/payment.ts). */
  unpaid: gateCounters.optional(),
});
export type StoredGateRecord = z.output<typeof StoredGate>;

export const parseStoredGate = (item: Record<string, unknown>, key: string): StoredGateRecord => parseStored('gate', StoredGate, item, key);

// ---------------------------------------------------------------- batch

const batchStatuses = ['CUTTING', 'VOID', 'RELEASED', 'ACCEPTED', 'REJECTED', 'IN_PRODUCTION', 'PARTIALLY_SHIPPED', 'COMPLETED', 'WITHDRAWN'] as const satisfies readonly BatchStatus[];
// …and every status is listed: a status added to the type and not here fails tsc.
type _AllBatchStatuses = Holds<[Exclude<BatchStatus, (typeof batchStatuses)[number]>] extends [never] ? true : false>;

const StoredDefects = z.partialRecord(z.enum(defectCodes), z.number());

/** A line of a released batch; `shipped` is 0 on lines stored before it was kept (as fromItem). */
const StoredLine = z.object({
  sku: z.string(),
  quantity: z.number(),
  shipped: z.number().default(0),
  produced: z.number().optional(),
  qcPassed: z.number().optional(),
  qcFailed: z.number().optional(),
  defects: StoredDefects.optional(),
}) satisfies z.ZodType<ProductionLine>;

const StoredPlanned = z.object({
  preorderId: id,
  sku: z.string(),
  quantity: z.number(),
  createdAt: time,
  gateShard: z.number(),
  /** Absent on batches planned before notices had one. */
  locale: z.enum(locales).optional(),
}) satisfies z.ZodType<PlannedPreorder>;

/**
 * The batch header. Defaults applied here, as fromItem does: `planned` (removed
 * at release), `preorderIds` and `lines` are empty lists when absent, and a
 * line's `shipped` 0. The members come from the batch's MEMBERS item when
 * there is one (parseStoredBatch). Dropped: `updatedAt` (written by every
 * change of a released batch, read by nothing).
 */
export const StoredBatch = z.object({
  batchId: id,
  campaignId: id,
  factoryId: id,
  status: z.enum(batchStatuses),
  reason: z.string(),
  planned: z.array(StoredPlanned).default(() => []),
  /** On the header while cutting (empty), and on batches released before the MEMBERS item. */
  preorderIds: z.array(z.string()).default(() => []),
  createdAt: time,
  releasedAt: time.optional(),
  version: z.number().optional(),
  next: z.enum(['backup-factory', 'refund']).optional(),
  nextFactoryId: id.optional(),
  unwoundAt: time.optional(),
  preorderCount: z.number().optional(),
  promiseDue: time.optional(),
  ceilingAt: time.optional(),
  countsAtRelease: z.boolean().optional(),
  countsInRelease: z.boolean().optional(),
  planApart: z.boolean().optional(),
  gateUnits: z.record(z.string(), z.record(z.string(), z.number())).optional(),
  /** Kept on `COUNTED#<shard>` items beside the batch, not on its header (getBatch adds it); a number set if it ever were. */
  gatesCounted: z.set(z.number()).optional(),
  // What the factory works with (ProductionState).
  produced: z.number(),
  qcPassed: z.number(),
  qcFailed: z.number(),
  defects: StoredDefects.optional(),
  lines: z.array(StoredLine).default(() => []),
  units: z.number(),
  shipped: z.number(),
  progressBy: z.enum(['sku', 'total']).optional(),
  acceptBy: time.optional(),
  overdueAt: time.optional(),
  escalateAt: time.optional(),
  acceptedAt: time.optional(),
  committedShipDate: z.string().optional(),
  rejectedAt: time.optional(),
  rejectedReason: z.string().optional(),
  completedAt: time.optional(),
  closedShortReason: z.string().optional(),
  withdrawnAt: time.optional(),
}) satisfies z.ZodType<Batch>;

/**
 * A cut's plan (`BATCHPLAN#<id> / PLAN`, written by batch-store.ts startCut): one line a
 * planned pre-order, `<preorderId> <sku> <quantity> <createdAt> <gateShard>[ <locale>]`
 * (no field holds a space: ids, skus of letters, digits and . _ -, ISO times).
 * A line is about half a map's size, and the plan is written once.
 */
export const StoredBatchPlan = z.object({
  planned: z.array(
    z.string().transform((line, ctx): PlannedPreorder => {
      const [preorderId, sku, quantity, createdAt, gateShard, locale, ...rest] = line.split(' ');
      const parsed = StoredPlanned.safeParse({
        preorderId,
        sku,
        quantity: Number(quantity),
        createdAt,
        gateShard: Number(gateShard),
        ...(locale !== undefined && { locale }),
      });
      if (!parsed.success || rest.length > 0 || !Number.isInteger(parsed.data?.quantity) || !Number.isInteger(parsed.data?.gateShard)) {
        const fields = line.split(' ').length;
        const why = fields < 5 || fields > 6 ? `${fields} fields` : 'a quantity or gate shard that is not a whole number, or an unknown locale';
        ctx.addIssue({ code: 'custom', message: `expected "<preorderId> <sku> <quantity> <createdAt> <gateShard>[ <locale>]", got ${why}` });
        return z.NEVER;
      }
      return parsed.data;
    }),
  ),
});

/** A plan's line (StoredBatchPlan). */
export const planLine = (p: PlannedPreorder): string => [p.preorderId, p.sku, p.quantity, p.createdAt, p.gateShard, ...(p.locale ? [p.locale] : [])].join(' ');

/** The plan of a cut as stored (its keys are ignored), parsed: a line that is not one fails here, naming the item. */
export const parseStoredBatchPlan = (item: Record<string, unknown>, key: string): PlannedPreorder[] => {
  const { PK: _pk, SK: _sk, type: _type, expiresAt: _exp, ...rest } = item;
  return parseStored('batch plan', StoredBatchPlan, rest, key).planned;
};

/** The batch's MEMBERS item (`BATCH#<id> / MEMBERS`): its pre-orders, oldest first. */
export const StoredBatchMembers = z.object({ preorderIds: z.array(z.string()).optional() });

/**
 * The batch from its header (`rest`, keyed `key`) and, when read with it, its
 * MEMBERS item as read (whole: its keys are ignored): the members item's
 * `preorderIds`, else the header's, else none, as fromItem.
 */
export const parseStoredBatch = (rest: Record<string, unknown>, key: string, members?: Record<string, unknown>): Batch => {
  const batch = parseStored('batch', StoredBatch, rest, key);
  const listed = members && parseStored('batch members', StoredBatchMembers, members, `${key} MEMBERS`).preorderIds;
  return listed ? { ...batch, preorderIds: listed } : batch;
};

// ---------------------------------------------------------------- webhook

/**
 * A secret as the webhook item stores it: a string, sealed (adapters/secret-box.ts)
 * or, stored before sealing, plain `whsec_…` (isPlainSecret); opening it is secret-box's business.
 */
const storedSecret = z.string().transform((s) => s as SealedSecret);

export type StoredWebhookRecord = Webhook & { requestHash: string };

/** The webhook item, less its delivery slots (`slots`, `slotsVersion`: takeSlot reads those itself). No defaults. */
export const StoredWebhook = z.object({
  webhookId: id,
  factoryId: id,
  url: z.string(),
  events: z.array(z.string()),
  secret: storedSecret,
  previousSecret: storedSecret.optional(),
  previousSecretExpiresAt: time.optional(),
  revealSecret: storedSecret.optional(),
  secretRotatedAt: time.optional(),
  status: z.enum(['ACTIVE', 'DISABLED'] as const satisfies readonly WebhookStatus[]),
  disabledReason: z.enum(['BY_FACTORY', 'FAILING'] as const satisfies readonly DisabledReason[]).optional(),
  disabledAt: time.optional(),
  failingSince: time.optional(),
  createdAt: time,
  updatedAt: time.optional(),
  requestHash: z.string(),
}) satisfies z.ZodType<StoredWebhookRecord>;

export const parseStoredWebhook = (rest: Record<string, unknown>, key: string): StoredWebhookRecord =>
  parseStored('webhook', StoredWebhook, rest, key);

// ---------------------------------------------------------------- delivery

const StoredAttempt = z.object({
  at: time,
  statusCode: z.number().optional(),
  error: z.string().optional(),
  durationMs: z.number(),
}) satisfies z.ZodType<DeliveryAttempt>;

const StoredDeliveryFields = z.object({
  deliveryId: id,
  webhookId: id,
  factoryId: id,
  eventId: id,
  eventType: z.string(),
  sequence: storedNumber,
  status: z.enum(['PENDING', 'DELIVERED', 'RETRYING', 'FAILED'] as const satisfies readonly DeliveryStatus[]),
  attempts: z.array(StoredAttempt).default(() => []),
  attemptCount: storedNumber.optional(),
  tries: storedNumber.optional(),
  payload: z.string(),
  nextAttemptAt: time.optional(),
  createdAt: time,
  deliveredAt: time.optional(),
});

/**
 * The delivery item, less its TTL (`expiresAt`). Defaults applied here, as
 * fromItem does: no `attempts` is none, no `attemptCount` is 0, and no `tries`
 * (deliveries made before it was kept) is `attemptCount`. `sequence`,
 * `attemptCount` and `tries` are read with Number(…), as fromItem did: a string
 * of digits is its number.
 */
export const StoredDelivery = StoredDeliveryFields.transform(({ attemptCount = 0, tries, ...d }) => ({
  ...d,
  attemptCount,
  tries: tries ?? attemptCount,
})) satisfies z.ZodType<Delivery>;

export const parseStoredDelivery = (rest: Record<string, unknown>, key: string): Delivery => parseStored('delivery', StoredDelivery, rest, key);

// ---------------------------------------------------------------- every domain field has its schema

// `satisfies` above holds each schema's output to its domain type; these hold
// every property of the domain type to the schema (none silently stripped).
type _Preorder = Holds<SameKeys<z.output<typeof StoredPreorder>, StoredPreorderRecord>>;
type _Address = Holds<SameKeys<z.output<typeof StoredAddress>, ShippingAddress>>;
type _TimelineEntry = Holds<SameKeys<z.output<typeof StoredTimelineEntry>, TimelineEntry>>;
type _Shipment = Holds<SameKeys<z.output<typeof StoredShipment>, PreorderShipment>>;
type _GateTake = Holds<SameKeys<z.output<typeof StoredGateTake>, GateTake>>;
type _Notification = Holds<SameKeys<z.output<typeof StoredNotification>, SentNotification>>;
type _Lease = Holds<SameKeys<z.output<typeof StoredLease>, NotificationLease>>;
type _Campaign = Holds<SameKeys<z.output<typeof StoredCampaign>, StoredCampaignRecord>>;
type _Variant = Holds<SameKeys<z.output<typeof StoredVariant>, Variant>>;
type _LateCompensation = Holds<SameKeys<z.output<typeof StoredLateCompensation>, LateCompensation>>;
type _Batch = Holds<SameKeys<z.output<typeof StoredBatch>, Batch>>;
type _Line = Holds<SameKeys<z.output<typeof StoredLine>, ProductionLine>>;
type _Planned = Holds<SameKeys<z.output<typeof StoredPlanned>, PlannedPreorder>>;
type _Webhook = Holds<SameKeys<z.output<typeof StoredWebhook>, StoredWebhookRecord>>;
type _Delivery = Holds<SameKeys<z.output<typeof StoredDelivery>, Delivery>>;
type _Attempt = Holds<SameKeys<z.output<typeof StoredAttempt>, DeliveryAttempt>>;
