/**
 * Named domain errors. The HTTP edge maps each to one problem+json status in
 * exactly one place (functions/handlers/http/problems.ts).
 */

import { maxAddressChanges } from './preorder.ts';

export abstract class DomainError extends Error {
  abstract readonly kind: 'invalid' | 'unauthenticated' | 'not-found' | 'conflict' | 'forbidden' | 'overloaded' | 'unavailable';
  /** A problem title more telling than the status's own ("Purchase limit reached" rather than "Conflict"). */
  readonly title?: string;
  constructor(message: string) {
    super(message);
    this.name = new.target.name;
  }
}

export interface FieldIssue {
  readonly path: string;
  /** In English; clients show it as is, or their own words for `code`. */
  readonly message: string;
  /** A stable name of what is wrong (zod's issue codes, or c2m's own such as `close_only_later`), for clients that translate. */
  readonly code?: string;
  /** The values the message names (a minimum, a maximum, a date), for the client's own words. */
  readonly params?: Readonly<Record<string, string | number>>;
}

export class InvalidInputError extends DomainError {
  readonly kind = 'invalid';
  constructor(
    message: string,
    readonly errors: readonly FieldIssue[],
  ) {
    super(message);
  }
}

export class NotFoundError extends DomainError {
  readonly kind = 'not-found';
}

export class CampaignNotFoundError extends NotFoundError {
  constructor(campaignId: string) {
    super(`Campaign ${campaignId} does not exist`);
  }
}

export class PreorderNotFoundError extends NotFoundError {
  constructor(preorderId: string) {
    super(`Pre-order ${preorderId} does not exist`);
  }
}

export class CampaignNotOpenError extends DomainError {
  readonly kind = 'conflict';
  constructor(
    campaignId: string,
    readonly status: string,
  ) {
    super(`Campaign ${campaignId} is not open for pre-orders (status ${status})`);
  }
}

export class CampaignCapReachedError extends DomainError {
  readonly kind = 'conflict';
  constructor(
    campaignId: string,
    readonly remaining: number,
  ) {
    super(`Campaign ${campaignId} has ${remaining} units left, fewer than requested`);
  }
}

/** A switch of variant that the pre-order's state, its campaign or the target does not allow. */
export class PreorderNotSwitchableError extends DomainError {
  readonly kind = 'conflict';
  constructor(preorderId: string, why: string) {
    super(`Pre-order ${preorderId} cannot switch variant: ${why}`);
  }
}

/** 限购: the pre-order would take the buyer past the campaign's `maxPerBuyer` units. */
export class PurchaseLimitReachedError extends DomainError {
  readonly kind = 'conflict';
  override readonly title = 'Purchase limit reached';
  constructor(
    readonly maxPerBuyer: number,
    readonly held: number,
  ) {
    super(`This campaign sells at most ${maxPerBuyer} units per buyer; you hold ${held}, so at most ${Math.max(0, maxPerBuyer - held)} more`);
  }
}

export class CampaignStateError extends DomainError {
  readonly kind = 'conflict';
}

/** A change the campaign's state does not allow (it would break a promise made to its buyers); `errors` names each field. */
export class CampaignChangeRefusedError extends DomainError {
  readonly kind = 'conflict';
  override readonly title = 'Change not allowed';
  constructor(
    message: string,
    readonly errors: readonly FieldIssue[],
  ) {
    super(message);
  }
}

export class PreorderNotCancellableError extends DomainError {
  readonly kind = 'conflict';
  constructor(
    preorderId: string,
    readonly status: string,
  ) {
    super(`Pre-order ${preorderId} cannot be cancelled in status ${status}`);
  }
}

export class IdempotencyKeyReusedError extends DomainError {
  readonly kind = 'conflict';
  constructor() {
    super('This Idempotency-Key was already used with a different request');
  }
}

export class WrongRoleError extends DomainError {
  readonly kind = 'forbidden';
  constructor(role: string, allowed: readonly string[]) {
    super(`Role ${role} may not call this route (allowed: ${allowed.join(', ')})`);
  }
}

export class UnauthenticatedError extends DomainError {
  readonly kind = 'unauthenticated';
  constructor() {
    super('A valid bearer token is required');
  }
}

/** Storage stayed contended or throttled through every retry: the client should come back shortly. */
export class OverloadedError extends DomainError {
  readonly kind = 'overloaded';
  constructor(readonly retryAfterSeconds = 1) {
    super('Too many requests on this campaign right now; retry after the number of seconds in Retry-After');
  }
}

/** A dependency we need is out of reach: nothing was accepted, the client should retry shortly. */
export class ServiceUnavailableError extends DomainError {
  readonly kind = 'unavailable';
  constructor(
    message: string,
    readonly retryAfterSeconds = 1,
    options?: { cause: unknown },
  ) {
    super(message);
    if (options) this.cause = options.cause;
  }
}

export class BatchNotFoundError extends NotFoundError {
  constructor(batchId: string) {
    super(`Batch ${batchId} does not exist`);
  }
}

export class ShipmentNotFoundError extends NotFoundError {
  constructor(shipmentId: string) {
    super(`Shipment ${shipmentId} does not exist`);
  }
}

/** A unit of the pre-order has shipped, it is over (refunded, cancelled), or it was changed as often as it may be: its address no longer changes. */
export class AddressNotChangeableError extends DomainError {
  readonly kind = 'conflict';
  constructor(
    preorderId: string,
    readonly status: string,
    why: 'shipped' | 'over' | 'too-often',
  ) {
    super(
      why === 'shipped'
        ? `Pre-order ${preorderId} has units on their way (status ${status}): its shipping address can no longer change`
        : why === 'over'
          ? `Pre-order ${preorderId} is ${status}: nothing of it will ship, so its shipping address can no longer change`
          : `Pre-order ${preorderId} has had its shipping address changed ${maxAddressChanges} times, the most it may be`,
    );
  }
}

/** A lot that would split one buyer's order into more lots than their pre-order can record (fulfillment.ts maxLotsPerPreorder); `errors` names each item and what it must carry. */
export class LotSplitsOrderTooOftenError extends DomainError {
  readonly kind = 'conflict';
  override readonly title = 'Lot would split an order too often';
  constructor(readonly errors: readonly FieldIssue[]) {
    super(`This lot would bring a buyer's order in more lots than it may arrive in: ${errors.map((e) => e.message).join('; ')}`);
  }
}

export class FactoryNotFoundError extends NotFoundError {
  constructor(factoryId: string) {
    super(`Factory ${factoryId} is not registered`);
  }
}

export class FactoryAlreadyRegisteredError extends DomainError {
  readonly kind = 'conflict';
  override readonly title = 'Factory already registered';
  constructor(factoryId: string) {
    super(`Factory ${factoryId} is registered and active; revoke it first to issue new credentials`);
  }
}

export class RefundNotFoundError extends NotFoundError {
  constructor(refundId: string) {
    super(`Refund ${refundId} does not exist`);
  }
}

/**
 * The platform confirms a refund for another amount than c2m asked for (the
 * first time, or again after a confirmation of the right one): nothing is
 * recorded, and the refund stays as it was.
 */
export class RefundAmountMismatchError extends DomainError {
  readonly kind = 'conflict';
  override readonly title = 'Refund amount does not match';
  readonly errors: readonly FieldIssue[];
  constructor(refundId: string, requested: number, confirmed: number, alreadyConfirmed: boolean) {
    super(
      alreadyConfirmed
        ? `Refund ${refundId} was confirmed for ${requested} already; a confirmation for ${confirmed} is refused`
        : `Refund ${refundId} is for ${requested}, not ${confirmed}: nothing was recorded`,
    );
    this.errors = [{ path: 'amount', code: 'refund_amount_mismatch', message: `amount must be ${requested}, the refund's amount in minor units`, params: { amount: requested } }];
  }
}

/**
 * A balance the platform reports paid that c2m cannot record (domain/payment.ts):
 * not a deposit pre-order, not due yet or any more, another payment's reference,
 * another amount than is due, or paid already for another amount. Nothing is
 * recorded; `errors` names the field.
 */
export class BalanceNotPayableError extends DomainError {
  readonly kind = 'conflict';
  override readonly title = 'Balance not payable';
  readonly errors: readonly FieldIssue[];
  constructor(message: string, issue: FieldIssue) {
    super(message);
    this.errors = [issue];
  }
}
