import { tableName } from '#shared/config.ts';
import type { Campaign } from '#domain/campaign.ts';
import type { TransactItem } from './batch-store.ts';

/**
 * The purchase-limit entity (限购): the units one buyer holds in one campaign.
 *
 * Key: PK=CAMPAIGN#<campaignId>#BUYER#<buyerId>  SK=LIMIT   units
 *
 * Only campaigns with `maxPerBuyer` have these items. A pre-order takes its
 * units here in the same transaction that writes it, on condition that the
 * buyer stays within the limit, so concurrent orders from one buyer (each with
 * its own Idempotency-Key) cannot pass it together; every refund gives its
 * units back in the transaction that refunds them. The item is the buyer's own,
 * so it is hot only if one buyer is: one more small write on the request path,
 * and none for campaigns without a limit.
 */
export const limitKey = (campaignId: string, buyerId: string) => ({ PK: `CAMPAIGN#${campaignId}#BUYER#${buyerId}`, SK: 'LIMIT' });

type Limited = Pick<Campaign, 'campaignId' | 'maxPerBuyer'>;

/** Takes `units` for the buyer, failing the transaction past the limit; nothing for a campaign without one. */
export const takeUnitsPart = (campaign: Limited, buyerId: string, units: number): TransactItem[] =>
  campaign.maxPerBuyer === undefined
    ? []
    : [
        {
          Update: {
            TableName: tableName(),
            Key: limitKey(campaign.campaignId, buyerId),
            UpdateExpression: 'SET #type = :type ADD units :q',
            // A buyer's first order is held to the limit too (room is negative when it alone is over it).
            ConditionExpression: '(attribute_not_exists(units) AND :zero <= :room) OR units <= :room',
            ExpressionAttributeNames: { '#type': 'type' },
            ExpressionAttributeValues: { ':type': 'buyer-limit', ':q': units, ':room': campaign.maxPerBuyer - units, ':zero': 0 },
            ReturnValuesOnConditionCheckFailure: 'ALL_OLD',
          },
        },
      ];

/** Gives refunded units back, so the buyer may order them again; nothing for a campaign without a limit. */
export const freeUnitsPart = (campaign: Limited, buyerId: string, units: number): TransactItem[] =>
  campaign.maxPerBuyer === undefined || units <= 0
    ? []
    : [
        {
          Update: {
            TableName: tableName(),
            Key: limitKey(campaign.campaignId, buyerId),
            UpdateExpression: 'ADD units :minus',
            ExpressionAttributeValues: { ':minus': -units },
          },
        },
      ];
