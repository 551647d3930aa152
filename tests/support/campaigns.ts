import { newCampaign, type Campaign, type CampaignDraft } from '../../functions/domain/campaign.ts';
import { newId } from '../../functions/shared/ids.ts';

/**
 * A campaign as the anchor API would build it, for integration tests that write it
 * with the store themselves: open now, closing in an hour, the draft's terms overridable.
 */
export const testCampaign = (overrides: Partial<CampaignDraft> = {}): Campaign =>
  newCampaign({
    campaignId: newId('cmp'),
    anchorId: 'anchor-1',
    now: new Date(),
    draft: {
      title: 't',
      factoryId: 'f',
      currency: 'CNY',
      variants: [
        { sku: 'A', name: 'a', unitPrice: 100 },
        { sku: 'B', name: 'b', unitPrice: 200 },
      ],
      closesAt: new Date(Date.now() + 3600_000).toISOString(),
      minTotalQuantity: 0,
      lotSize: 10,
      promisedShipDays: 7,
      ...overrides,
    },
  });
