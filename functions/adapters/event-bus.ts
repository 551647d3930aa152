import { EventBridgeClient, PutEventsCommand } from '@aws-sdk/client-eventbridge';
import { eventSource } from '#topology';
import { busName } from '#shared/config.ts';
import { tracer } from '#shared/observability.ts';
import type { EventDetail, EventType } from '#contracts/messages.ts';

const client = tracer.captureAWSv3Client(new EventBridgeClient({}));

export interface DomainEvent {
  readonly type: EventType;
  readonly detail: EventDetail;
}

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

export const eventOf = (type: EventType, detail: Omit<EventDetail, 'eventId'>, factId: string): DomainEvent => ({
  type,
  detail: { eventId: `${type}:${factId}`, ...detail },
});

/** Why c2m refunded a whole pre-order, as `preorder.refunded` says it. */
export type FullRefundReason = 'campaign-failed' | 'batch-rejected' | 'variant-below-minimum';

/** `preorder.refunded` for a pre-order refunded in full (one fact per pre-order: its id is the event's). */
export const refundedInFull = (
  p: { readonly campaignId: string; readonly preorderId: string; readonly sku: string; readonly quantity: number; readonly amount: number },
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
      refundedAmount: p.amount,
      reason,
    },
    p.preorderId,
  );
