import * as z from './zod.ts';
import { CampaignId, Commission, Money, Units } from './campaigns.ts';

/**
 * `GET /v1/campaigns/{campaignId}/attribution` (decision 38): a module of its own so that
 * only the function serving it bundles its schemas (decision 32).
 */
const AttributedSource = z
  .object({ liveRoomId: z.string(), sessionId: z.string().optional(), affiliateId: z.string().optional() })
  .openapi('AttributedSource', { description: 'Where pre-orders came from, as they named it' });

const AttributionFigures = {
  preorders: Units,
  units: Units.openapi({ description: 'Units ordered' }),
  refundedUnits: Units.openapi({ description: 'Units refunded (cancelled, never made, past the ceiling)' }),
  netUnits: Units,
  gmv: Money.openapi({ description: 'What buyers paid, minor units' }),
  refunded: Money.openapi({ description: 'What c2m decided to pay back to them' }),
  netGmv: Money.openapi({ description: 'gmv − refunded: what commission is on' }),
  anchorCommission: Money.openapi({ description: 'commission.anchorPercent of netGmv, half up' }),
  affiliateCommission: Money.openapi({ description: "commission.affiliatePercent of netGmv for rows with an affiliate, half up; 0 otherwise" }),
};

export const AttributionView = z
  .object({
    campaignId: CampaignId,
    currency: z.string(),
    commission: Commission.optional().openapi({ description: 'As the campaign set it; absent: no commission (the amounts are 0)' }),
    items: z
      .array(z.object({ source: AttributedSource.optional().openapi({ description: 'Absent: pre-orders that named no source' }), ...AttributionFigures }))
      .openapi({ description: 'One row per source (room, session, affiliate), biggest net GMV first' }),
    totals: z.object(AttributionFigures).openapi({ description: "The rows' sums" }),
  })
  .openapi('Attribution', { description: 'Units, GMV and commission per source, net of refunds' });

