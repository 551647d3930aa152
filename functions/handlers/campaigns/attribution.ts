import { forEachPreorderOfCampaign } from '#adapters/preorder-store.ts';
import { attributionOf, type AttributionRow, type AttributionTotals } from '#domain/attribution.ts';
import type { Campaign } from '#domain/campaign.ts';
import { csvCell, csvDocument, decimalAmount } from '../http/csv.ts';

/**
 * `GET /v1/campaigns/{campaignId}/attribution`: what each source sold, net of
 * refunds, and the commission owed on it (domain/attribution.ts), read from the
 * campaign's pre-orders as they are now.
 */
/** What one request may spend reading pre-orders: under campaigns-api's 15 s timeout, with room to answer. */
const readBudgetMs = 10_000;

export const campaignAttribution = async (c: Campaign) => {
  const tally = attributionOf(c.commission);
  await forEachPreorderOfCampaign(c, (page) => tally.add(page), Date.now() + readBudgetMs);
  const { items, totals } = tally.result();
  return { campaignId: c.campaignId, currency: c.currency, ...(c.commission && { commission: c.commission }), items, totals };
};

const columns = [
  'row',
  'liveRoomId',
  'sessionId',
  'affiliateId',
  'preorders',
  'units',
  'refundedUnits',
  'netUnits',
  'currency',
  'gmv',
  'refunded',
  'netGmv',
  'anchorCommission',
  'affiliateCommission',
] as const;
const money = ['gmv', 'refunded', 'netGmv', 'anchorCommission', 'affiliateCommission'] as const;

/**
 * The same as CSV: a row per source (`row` = source), then the total (`row` =
 * total: a room may be called anything, so the total is not told by its name),
 * amounts as decimals in the campaign's currency; pre-orders that named no
 * source are the source row whose source cells are empty.
 */
export const attributionCsv = (a: Awaited<ReturnType<typeof campaignAttribution>>): string => {
  const row = (r: AttributionRow | AttributionTotals, kind: 'source' | 'total', source: Record<'liveRoomId' | 'sessionId' | 'affiliateId', string | undefined>) =>
    columns
      .map((k) => {
        if (k === 'row') return kind;
        if (k === 'liveRoomId' || k === 'sessionId' || k === 'affiliateId') return csvCell(source[k]);
        if (k === 'currency') return csvCell(a.currency);
        return (money as readonly string[]).includes(k) ? decimalAmount(r[k], a.currency) : csvCell(r[k]);
      })
      .join(',');
  return csvDocument(columns, [
    ...a.items.map((r) => row(r, 'source', { liveRoomId: r.source?.liveRoomId, sessionId: r.source?.sessionId, affiliateId: r.source?.affiliateId })),
    row(a.totals, 'total', { liveRoomId: undefined, sessionId: undefined, affiliateId: undefined }),
  ]);
};
