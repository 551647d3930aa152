import type { HttpTally, Reply } from './support/api-client.ts';
import type { RetryHabit } from './crowd.ts';
import type { Batch, Campaign, Demand, LateCompensation, ManifestEntry, Preorder, SignalType, Trust } from './views.ts';

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
