import { readDemandHistory } from '#adapters/demand-history.ts';
import { readSignals } from '#adapters/signal-store.ts';
import type { Campaign, Demand } from '#domain/campaign.ts';
import { forecastFinal, type SignalCounts } from '#domain/forecast.ts';

const zero: SignalCounts = { view: 0, like: 0, cart: 0, want: 0, share: 0 };

/**
 * Per variant: the signals (total and last 15 minutes) and the forecast of the
 * final net ordered quantity at closesAt (method in docs/forecast.md), from the
 * demand now, the clock's minute snapshots and the live room's signals. Also
 * the campaign's signals that named no sku (a view of the room, a like of the
 * stream): shown in the totals, not spread over variants by guesswork.
 */
export const campaignOutlook = async (campaign: Campaign, demand: Demand, now = new Date()) => {
  const [history, signals] = await Promise.all([readDemandHistory(campaign, now), readSignals(campaign, now)]);
  const variants = demand.variants.map((d) => {
    const s = signals.bySku[d.sku];
    const orderedNow = d.ordered - d.cancelled;
    const forecast = forecastFinal({
      now,
      opensAt: campaign.opensAt,
      closesAt: campaign.closedAt ?? campaign.closesAt,
      orderedNow,
      history: history.map((h) => ({ at: h.at, ordered: h.bySku[d.sku] ?? 0 })),
      signals: { recent: s?.recent ?? [], totals: s?.totals ?? zero },
      ...(demand.remaining !== undefined && { capRemaining: demand.remaining }),
    });
    return {
      sku: d.sku,
      ordered: orderedNow,
      signals: { ...(s?.totals ?? zero), last15m: s?.last15m ?? zero },
      forecast,
    };
  });
  return {
    variants,
    withoutSku: { ...signals.campaign.totals, last15m: signals.campaign.last15m },
  };
};

export type CampaignOutlook = Awaited<ReturnType<typeof campaignOutlook>>;

/** The per-variant part of {@link campaignOutlook}, for readers that show variants only. */
export const variantOutlook = async (campaign: Campaign, demand: Demand, now = new Date()) =>
  (await campaignOutlook(campaign, demand, now)).variants;
