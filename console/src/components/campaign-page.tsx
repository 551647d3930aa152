import { useCallback, useEffect, useRef, useState } from 'preact/hooks';
import type { Api, Campaign } from '../api.ts';
import { useI18n } from '../ui/i18n.tsx';
import { usePoll } from '../ui/poll.ts';
import { base, Link } from '../ui/router.tsx';
import { Batches, TrustFigures } from './batches.tsx';
import { BuyersPreorders } from './buyers-preorders.tsx';
import { SalesBySource } from './attribution.tsx';
import { CampaignStatusBadge, ErrorNotice, Loading } from './common.tsx';
import { LiveDemand, SignalsPanel, type Live } from './live-demand.tsx';
import { SaleActions } from './sale-actions.tsx';

/** Every few seconds during a live; slower for what changes slowly, and once the sale is over. */
const every = { live: 3_000, liveWhenClosed: 30_000, campaign: 10_000, batches: 10_000, trust: 30_000 };

/** Title, state and the dates and terms that matter during the sale. */
const CampaignHeader = (p: { campaign: Campaign }) => {
  const { t, count, dateTime } = useI18n();
  const c = p.campaign;
  return (
    <header class="campaign-head">
      <Link href={base} class="back">
        ← {t.campaign.back}
      </Link>
      <div class="title-row">
        <h1 id="page-title" tabIndex={-1} data-testid="campaign-title">
          {c.title}
        </h1>
        <CampaignStatusBadge status={c.status} testid="campaign-status" />
      </div>
      <dl class="facts">
        <div>
          <dt>{c.status === 'SCHEDULED' ? t.campaign.opens : t.campaign.opened}</dt>
          <dd>
            <time dateTime={c.opensAt}>{dateTime(c.opensAt)}</time>
          </dd>
        </div>
        <div>
          <dt>{c.closedAt ? t.campaign.closedAt : t.campaign.closes}</dt>
          <dd data-testid="campaign-closes-at" data-value={c.closedAt ?? c.closesAt}>
            <time dateTime={c.closedAt ?? c.closesAt}>{dateTime(c.closedAt ?? c.closesAt)}</time>
          </dd>
        </div>
      </dl>
      <ul class="terms">
        {c.minTotalQuantity !== undefined && (
          <li>
            {t.campaign.minimum(count(c.minTotalQuantity))} · {c.minimumMetAt ? t.campaign.minimumMet : t.campaign.minimumNotYet}
          </li>
        )}
        <li>{t.campaign.shipWithin(c.promisedShipDays)}</li>
        {c.maxPerBuyer !== undefined && <li>{t.campaign.perBuyer(count(c.maxPerBuyer))}</li>}
        {c.variantsMissed && c.variantsMissed.length > 0 && (
          <li>
            {t.campaign.variantsMissed(c.variantsMissed.map((sku) => c.variants.find((v) => v.sku === sku)?.name ?? sku).join(', '))}
            {c.switchBy && ` · ${t.campaign.switchBy(dateTime(c.switchBy))}`}
          </li>
        )}
      </ul>
    </header>
  );
};

/**
 * Tells screen-reader users how the sale moves without reading every refresh: the ordered
 * total when it changed, at most every 30 s, in a polite live region.
 */
const useAnnouncer = (text: string | undefined) => {
  const [spoken, setSpoken] = useState('');
  const last = useRef({ at: 0, text: '' });
  useEffect(() => {
    if (!text || text === last.current.text) return;
    const wait = Math.max(0, last.current.at + 30_000 - Date.now());
    const timer = setTimeout(() => {
      last.current = { at: Date.now(), text };
      setSpoken(text);
    }, wait);
    return () => clearTimeout(timer);
  }, [text]);
  return spoken;
};

export const CampaignPage = (p: { api: Api; campaignId: string }) => {
  const { t, count } = useI18n();
  const { api, campaignId } = p;

  const campaign = usePoll((signal) => api.getCampaign(campaignId, signal), every.campaign, campaignId);
  const selling = campaign.data === undefined || campaign.data.status === 'OPEN' || campaign.data.status === 'SCHEDULED';
  const live = usePoll<Live>(
    async (signal) => {
      // The figures must not wait on, or fail with, the chart's history.
      const [demand, history] = await Promise.all([api.demand(campaignId, signal), api.demandHistory(campaignId, signal).catch(() => undefined)]);
      return history ? { demand, history } : { demand };
    },
    selling ? every.live : every.liveWhenClosed,
    campaignId,
  );
  const batches = usePoll((signal) => api.batches(campaignId, signal), every.batches, campaignId);
  const trust = usePoll((signal) => api.trust(campaignId, signal), every.trust, campaignId);

  const c = campaign.data;
  const ordered = live.data ? live.data.demand.totals.ordered - live.data.demand.totals.cancelled : undefined;
  const spoken = useAnnouncer(
    ordered === undefined ? undefined : t.demand.announce(count(ordered), c?.maxTotalQuantity !== undefined ? count(c.maxTotalQuantity) : ''),
  );

  const totals = live.data?.demand.totals;
  const preordersVersion = [
    c?.status,
    totals?.ordered,
    totals?.cancelled,
    totals?.batched,
    batches.data?.items.map((b) => `${b.status}:${b.shipped}:${b.refunds.preorders}`).join(','),
  ].join('|');

  const onChanged = useCallback(
    (changed: Campaign) => {
      campaign.set(changed);
      live.refresh();
    },
    [campaign.set, live.refresh],
  );

  if (!c) {
    return (
      <div class="page">
        {campaign.error ? <ErrorNotice error={campaign.error} onRetry={campaign.refresh} testid="campaign-error" /> : <Loading />}
      </div>
    );
  }

  return (
    <div class="page">
      <CampaignHeader campaign={c} />
      <div class="visually-hidden" aria-live="polite" aria-atomic="true" data-testid="live-announcer">
        {spoken}
      </div>
      <div class="columns">
        <div class="col-main">
          <LiveDemand campaign={c} live={live} />
          <SaleActions api={api} campaign={c} taken={ordered ?? 0} onChanged={onChanged} />
          {live.data && <SignalsPanel demand={live.data.demand} />}
        </div>
        <div class="col-side">
          <Batches batches={batches} campaign={c} />
          <TrustFigures trust={trust} />
        </div>
      </div>
      <BuyersPreorders api={api} campaign={c} version={preordersVersion} />
      <SalesBySource api={api} campaign={c} />
    </div>
  );
};
