import { readDemandHistory, readDemandSeries } from '#adapters/demand-history.ts';
import { readSignalMinutes, readSignals } from '#adapters/signal-store.ts';
import { readDemand } from '#adapters/campaign-store.ts';
import { InvalidInputError } from '#domain/errors.ts';
import type { Campaign, Demand } from '#domain/campaign.ts';
import { forecastFinal, type SignalCounts, type SignalMinute } from '#domain/forecast.ts';

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

const hourMs = 3600_000;
/** The history kept (demand-history.ts) and so the widest window asked for. */
const maxWindowMs = 72 * hourMs;
const defaultWindowMs = 3 * hourMs;

const countsOf = (s: SignalCounts | undefined): SignalCounts => ({
  view: s?.view ?? 0,
  like: s?.like ?? 0,
  cart: s?.cart ?? 0,
  want: s?.want ?? 0,
  share: s?.share ?? 0,
});

/**
 * The series behind the anchor's chart, per variant: net ordered units at each
 * minute the clock recorded (with the forecast made then) and at each minute a
 * signal came (units carried from the minute before), then the live figures
 * now when the window reaches the present. Default window: the last three
 * hours, not before the campaign opened; at most 72 hours.
 */
export const demandHistory = async (campaign: Campaign, query: { from?: string | undefined; to?: string | undefined }, now = new Date()) => {
  // Nothing is recorded after the close, nor before the opening.
  const last = Math.min(now.getTime(), campaign.closedAt ? Date.parse(campaign.closedAt) : Infinity);
  const end = new Date(Math.min(query.to ? Date.parse(query.to) : last, last));
  const start = query.from ? new Date(query.from) : new Date(Math.max(Date.parse(campaign.opensAt), end.getTime() - defaultWindowMs));
  if (end.getTime() - start.getTime() > maxWindowMs) {
    throw new InvalidInputError('The window is too wide', [{ path: 'from', message: 'at most 72 hours between from and to', code: 'window_too_wide', params: { hours: 72 } }]);
  }
  // A window before the opening, or one that starts after its end (a scheduled campaign), holds nothing.
  const empty = start.getTime() > end.getTime();
  const live = !empty && campaign.status === 'OPEN' && end.getTime() >= now.getTime() - 60_000;
  const [snapshots, signals, demand] = await Promise.all([
    empty ? [] : readDemandSeries(campaign, start, end),
    empty ? { bySku: {} as Record<string, SignalMinute[]>, campaign: [] as SignalMinute[] } : readSignalMinutes(campaign, start, end),
    live ? readDemand(campaign) : undefined,
  ]);
  const outlook = demand ? await campaignOutlook(campaign, demand, now) : undefined;
  const variants = campaign.variants.map((v) => {
    const bySignalMinute = new Map((signals.bySku[v.sku] ?? []).map((m) => [new Date(m.at).toISOString(), m]));
    const bySnapshot = new Map(snapshots.map((s) => [s.at, s.bySku[v.sku]]));
    const minutes = [...new Set([...bySnapshot.keys(), ...bySignalMinute.keys()])].sort();
    let ordered = 0;
    const points = minutes.map((at) => {
      const snap = bySnapshot.get(at);
      if (snap) ordered = snap.ordered;
      return {
        at,
        ordered,
        ...(snap?.forecast && { forecastFinal: snap.forecast.final, forecastLow: snap.forecast.low, forecastHigh: snap.forecast.high }),
        signals: countsOf(bySignalMinute.get(at)),
      };
    });
    const d = demand?.variants.find((x) => x.sku === v.sku);
    const o = outlook?.variants.find((x) => x.sku === v.sku);
    if (d && o) {
      points.push({
        at: now.toISOString(),
        ordered: d.ordered - d.cancelled,
        forecastFinal: o.forecast.final,
        forecastLow: o.forecast.low,
        forecastHigh: o.forecast.high,
        // This minute's signals are on its own row already.
        signals: countsOf(undefined),
      });
    }
    const last = [...points].reverse().find((p) => p.forecastFinal !== undefined);
    return {
      sku: v.sku,
      points,
      forecastFinal: last?.forecastFinal ?? ordered,
      forecastLow: last?.forecastLow ?? ordered,
      forecastHigh: last?.forecastHigh ?? ordered,
    };
  });
  return {
    campaignId: campaign.campaignId,
    from: start.toISOString(),
    to: (empty ? start : end).toISOString(),
    stepSeconds: 60 as const,
    ...(campaign.maxTotalQuantity !== undefined && { maxTotalQuantity: campaign.maxTotalQuantity }),
    closesAt: campaign.closedAt ?? campaign.closesAt,
    variants,
    signalsWithoutSku: signals.campaign.map((m) => ({ at: new Date(m.at).toISOString(), signals: countsOf(m) })),
  };
};
