import { EventBridgeClient, PutEventsCommand } from '@aws-sdk/client-eventbridge';
import { stillHeld } from '#domain/pricing.ts';
import { eventSource } from '#runtime-names';
import { busName } from '#shared/config.ts';
import { eventDetails, type DomainEvent, type EventDetailOf, type EventType } from '#contracts/messages.ts';

export type { DomainEvent };

const client = new EventBridgeClient({});

/** An event of type `T`: one member of DomainEvent. */
export type EventOf<T extends EventType> = Extract<DomainEvent, { type: T }>;

/** What a producer gives for an event of type `T`: its detail without the eventId, which eventOf adds. */
export type DetailInput<T extends EventType> = Omit<EventDetailOf<T>, 'eventId'>;

/** `D`, provided it has no field that the detail of `T` does not: a spread cannot slip a foreign one in. */
type OnlyFieldsOf<T extends EventType, D> = D & Record<Exclude<keyof D, keyof DetailInput<T>>, never>;

/**
 * Publishes events, 10 per PutEvents call (the API's limit). Entries the bus
 * refuses are retried; what still fails is thrown so the caller's queue redelivers.
 */
export const publish = async (events: readonly DomainEvent[]): Promise<void> => {
  for (let i = 0; i < events.length; i += 10) {
    let chunk = events.slice(i, i + 10);
    for (let attempt = 0; chunk.length > 0; attempt++) {
      const out = await client.send(
        new PutEventsCommand({
          Entries: chunk.map((e) => ({
            EventBusName: busName(),
            Source: eventSource,
            DetailType: e.type,
            Detail: JSON.stringify(e.detail),
            Time: new Date(e.detail.occurredAt),
          })),
        }),
      );
      if (!out.FailedEntryCount) break;
      chunk = chunk.filter((_, j) => out.Entries?.[j]?.ErrorCode);
      if (attempt >= 3) throw new Error(`EventBridge refused ${chunk.length} entries: ${out.Entries?.find((e) => e.ErrorCode)?.ErrorMessage}`);
      await new Promise((r) => setTimeout(r, 50 * 2 ** attempt));
    }
  }
};

/**
 * An event of `type` with the stable id `<type>:<factId>`. The detail must be
 * exactly its type's (a field forgotten or foreign fails type-checking), and
 * is parsed with its type's schema, so what is stored and published is what
 * every consumer will accept.
 */
export const eventOf = <T extends EventType, const D extends DetailInput<T>>(type: T, detail: OnlyFieldsOf<T, D>, factId: string): EventOf<T> => {
  // Parsed by T's own schema; TypeScript sees eventDetails[type] as any type's, hence the assertion.
  return { type, detail: eventDetails[type].parse({ eventId: `${type}:${factId}`, ...detail }) } as EventOf<T>;
};

/** Why c2m refunded a whole pre-order, as `preorder.refunded` says it. */
export type FullRefundReason = 'campaign-failed' | 'batch-rejected' | 'variant-below-minimum';

type PreorderFacts = { readonly campaignId: string; readonly preorderId: string; readonly sku: string; readonly quantity: number };

/** A deposit pre-order cancelled with its deposit kept (domain/payment.ts): no refund follows. */
export const forfeitEvent = (p: PreorderFacts, now: Date, kept: number, reason: 'buyer' | 'balance-unpaid'): DomainEvent =>
  eventOf(
    'preorder.cancelled',
    { campaignId: p.campaignId, preorderId: p.preorderId, occurredAt: now.toISOString(), sku: p.sku, quantity: p.quantity, status: 'CANCELLED', forfeitedAmount: kept, reason },
    p.preorderId,
  );

/** `preorder.refunded` for a pre-order refunded in full (one fact per pre-order: its id is the event's). */
export const refundedInFull = (
  p: PreorderFacts & { readonly amount: number; readonly paidAmount?: number; readonly refundedAmount: number },
  reason: FullRefundReason,
  now: Date,
  batchId?: string,
): DomainEvent =>
  eventOf(
    'preorder.refunded',
    {
      campaignId: p.campaignId,
      preorderId: p.preorderId,
      ...(batchId !== undefined && { batchId }),
      occurredAt: now.toISOString(),
      status: 'REFUNDED',
      sku: p.sku,
      quantity: p.quantity,
      // What is still held: after a price drop, less than the amount paid.
      refundedAmount: stillHeld(p),
      reason,
    },
    p.preorderId,
  );
