import type { Answer, HttpTally } from './http.ts';
import type { RetryHabit } from './crowd.ts';
import type { Batch, Campaign, Demand, ManifestEntry, Preorder, SignalType, Trust } from './views.ts';

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
  readonly settings: { readonly cap: number; readonly lotSize: number; readonly minTotalQuantity: number; readonly promisedShipDays: number };
  readonly placements: Placement[];
  readonly cancels: Cancel[];
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
export const expectAnswer = (run: Pick<FlashSaleRun, 'unexpected'>, what: string, answer: Answer<unknown>, ...statuses: number[]): boolean => {
  if (statuses.includes(answer.status)) return true;
  run.unexpected.push(`${what} → ${answer.status} ${JSON.stringify(answer.body).slice(0, 300)}`);
  return false;
};
