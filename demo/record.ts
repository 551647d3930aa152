import type { HttpTally, Reply } from './support/api-client.ts';
import type { RetryHabit } from './crowd.ts';
import type { Batch, Campaign, Demand, LateCompensation, ManifestEntry, PriceTier, Preorder, SignalType, Trust } from './views.ts';

/**
 * What the flash sale did and what the API said, kept by the actors as they
 * go and read back at the end. The checks (checks.ts) and the summary
 * (summary.ts) are computed from this alone: everything in it came over HTTP.
 */
export interface Answered {
  readonly status: number;
  readonly preorderId?: string;
  /** The problem's `type`, for refusals (e.g. urn:c2m:problem:campaign-cap-reached). */
  readonly problem?: string;
  /** The problem's `title` (e.g. "Purchase limit reached"). */
  readonly title?: string;
}

/** One Idempotency-Key of one buyer and every answer it got. */
export interface Placement {
  readonly buyerId: string;
  readonly key: string;
  readonly sku: string;
  readonly quantity: number;
  readonly retry: RetryHabit;
  readonly answers: Answered[];
}

/** A buyer of the variant that missed its minimum, told so at close, and what they did about it. */
export interface SwitchRecord {
  readonly preorderId: string;
  readonly buyerId: string;
  /** Told: the pre-order showed `switchBy` and the notice. */
  told: boolean;
  /** The size the buyer switched to (200), if they chose to. */
  readonly to?: string;
  /** The switch's answer, if they asked. */
  status?: number;
  problem?: string;
}

/** The clock the demo moved (its own in-process runtime), or why it could not. */
export interface ClockRecord {
  /** False against a runtime in another process: its clock cannot be moved. */
  readonly movable: boolean;
  readonly moves: { readonly why: string; readonly byMs: number }[];
}

/** What the live platform's payment service did with the refunds c2m decided. */
export interface PaymentsRecord {
  /** Refunds it confirmed paid (200 the first time). */
  confirmed: number;
  /** Confirmations it sent again, as a payment service retrying would, and what they were answered. */
  repeated: number;
  repeatAnswers: number[];
  /** Said in the summary when no platform played (a deployed stage has no platform token here). */
  skipped?: string;
}

/** The lot shipped after the original promise, or why there was none. */
export interface LateLotRecord {
  shipped: boolean;
  /** Said in the summary when it did not happen. */
  skipped?: string;
  batchId?: string;
  lots: number;
  /** How long after the original promise its lots shipped. */
  afterPromiseMs?: number;
}

export interface Cancel {
  readonly preorderId: string;
  /** Right after ordering (allowed until batched), or after a delay notice (allowed until shipped). */
  readonly when: 'before-batching' | 'after-delay';
  readonly status: number;
  readonly problem?: string;
}

export interface ShipmentRecord {
  readonly shipmentId: string;
  readonly batchId: string;
  readonly units: number;
  delivered: boolean;
}

export interface FactoryRecord {
  lots: number;
  /** Lots sent twice with the same Idempotency-Key (the factory's client timed out) and answered with the same shipment. */
  lotsResent: number;
  lotsResentSame: number;
  progressReports: number;
  qcFailed: number;
  delayedBatchId?: string;
  shortBatchId?: string;
  /** Units the short batch never made (refunded to its buyers). */
  shortUnits: number;
}

export interface SignalRecord {
  posts: number;
  /** Posts sent again with the same Idempotency-Key. */
  reposts: number;
  /** Signal entries accepted (the `accepted` of each first 202). */
  accepted: number;
  /** Counts posted per sku and type, each accepted post once. */
  readonly posted: Record<string, Record<SignalType, number>>;
}

export interface Phase {
  readonly name: string;
  readonly ms: number;
  /** Ran beside other phases (the deposit sale's orders, beside the flash sale's close): not added to the total. */
  readonly beside?: boolean;
}

/**
 * What the factory simulation (factory-sim.ts) writes as it works one sale's batches: the
 * manifests it read, the lots it shipped, its own figures; refusals and stalls go with the run's.
 */
export type FactoryLedger = Pick<FlashSaleRun, 'manifests' | 'shipments' | 'factory' | 'cancels' | 'unexpected' | 'stalls'>;

/** One buyer of the deposit sale (定金/尾款), what they meant to do and what they were answered. */
export interface DepositBuyer {
  /** 1-based: how the summary names the buyer (ids stay out of what a person reads). */
  readonly index: number;
  readonly buyerId: string;
  readonly sku: string;
  readonly quantity: number;
  /** The platform's reference of the deposit paid; the balance is paid on the same one. */
  readonly paymentRef: string;
  /** Pays the balance, leaves it unpaid past the deadline, or cancels before the sale closes. */
  readonly plan: 'pay' | 'leave' | 'cancel';
  /** From the 202. */
  preorderId?: string;
  /** The 202's paidAmount: the deposit the platform took. */
  depositPaid?: number;
  /** The buyer's cancel, answered. */
  cancelStatus?: number;
  /** The balance the platform reported paid, and the answer (200, with paidAmount). */
  balancePaid?: number;
  payStatus?: number;
  paidAmountAnswered?: number;
}

export interface DepositSettings {
  readonly deposit: number;
  readonly depositDiscount: number;
  readonly balanceWindowHours: number;
  readonly minTotalQuantity: number;
  readonly lotSize: number;
  readonly promisedShipDays: number;
  /** The variants as the anchor listed them: the demo works out the tier each reached from these. */
  readonly variants: readonly { readonly sku: string; readonly name: string; readonly unitPrice: number; readonly priceTiers?: readonly PriceTier[] }[];
}

/**
 * The small deposit sale (定金/尾款, issue 16) the demo plays beside the flash sale: buyers pay a
 * deposit when they order, the sale closes at a tier price, the platform records the balances of
 * those who pay, the rest are cancelled at the deadline with their deposit kept, and the factory
 * makes only what was paid for. Its factory work is kept apart from the flash sale's, so the flash
 * sale's checks keep counting the flash sale's batches and lots alone.
 */
export interface DepositRun {
  campaignId: string;
  readonly settings: DepositSettings;
  readonly buyers: DepositBuyer[];
  /** Demand read once the balances were called: the units sold at close (ordered − cancelled) decide the tier. */
  demandAtClose?: Demand;
  balanceDueBy?: string;
  /** Balance reports sent again (answered the same?), and one sent after the deadline (its status). */
  readonly repeats: { sent: number; same: number };
  lateAttempt?: { status: number; path?: string; code?: string };
  readonly cancels: FlashSaleRun['cancels'];
  readonly manifests: FlashSaleRun['manifests'];
  readonly shipments: FlashSaleRun['shipments'];
  readonly factory: FactoryRecord;
  /** Refunds of the deposit sale the platform confirmed (a paid buyer's short batch, say; usually none). */
  readonly payments: PaymentsRecord;
  /** Why it was not played to the end, if it was not. */
  skipped?: string;
  final?: {
    campaign: Campaign;
    demand: Demand;
    batches: Batch[];
    preorders: Preorder[];
  };
}

export interface FlashSaleRun {
  readonly seed: number;
  readonly buyers: number;
  campaignId: string;
  readonly factoryId: string;
  readonly settings: {
    readonly cap: number;
    readonly lotSize: number;
    readonly minTotalQuantity: number;
    readonly promisedShipDays: number;
    readonly maxPerBuyer: number;
    readonly maxDelayDays: number;
    readonly lateCompensation: LateCompensation;
    readonly switchWindowHours: number;
    /**
     * The limited colour and the minimum of its own the room will not reach. Absent when the sale
     * offered no such variant (the smoke run: its buyers are refunded only when the switch window
     * ends, hours later, and a deployment's clock cannot be moved): its checks are then skipped.
     */
    readonly limitedSku?: string;
    readonly limitedMinQuantity?: number;
  };
  readonly placements: Placement[];
  readonly cancels: Cancel[];
  /** The limited colour's buyers after close: told, switched or left to be refunded. */
  readonly switches: SwitchRecord[];
  /** Batches cut after the factory's first pass (the switchers': cut during the window or at its end). */
  readonly switchBatchIds: string[];
  readonly clock: ClockRecord;
  readonly lateLot: LateLotRecord;
  readonly payments: PaymentsRecord;
  readonly signals: SignalRecord;
  readonly manifests: Map<string, ManifestEntry[]>;
  readonly shipments: ShipmentRecord[];
  readonly factory: FactoryRecord;
  /** Milliseconds from the first order to the first sold-out answer, if the cap was reached. */
  soldOutAfterMs?: number;
  readonly http: HttpTally;
  /** Answers no client should ever get from a working pipeline, with what was asked. */
  readonly unexpected: string[];
  readonly phases: Phase[];
  /** Set if a wait gave up because nothing moved for too long. */
  readonly stalls: string[];
  /** The deposit sale played beside the flash sale (`npm run demo`; not the smoke run). */
  deposit?: DepositRun;
  /** Why `npm run demo` did not play the deposit sale (a runtime whose clock it cannot move): its checks are then skipped. */
  depositSkipped?: string;
  /** Read back at the end. */
  final?: {
    campaign: Campaign;
    demand: Demand;
    batches: Batch[];
    preorders: Preorder[];
    trust: Trust;
  };
}

/** True when the answer is one of `statuses`; anything else is written down as unexpected, with what was asked. */
export const expectAnswer = (run: Pick<FlashSaleRun, 'unexpected'>, what: string, answer: Reply<unknown>, ...statuses: number[]): boolean => {
  if (statuses.includes(answer.status)) return true;
  run.unexpected.push(`${what} → ${answer.status} ${JSON.stringify(answer.body).slice(0, 300)}`);
  return false;
};
