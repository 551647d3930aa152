import { useEffect, useState } from 'preact/hooks';
import type { Api, CampaignSummary } from '../api.ts';
import { useI18n } from '../ui/i18n.tsx';
import { base, Link } from '../ui/router.tsx';
import { CampaignStatusBadge, ErrorNotice, Loading } from './common.tsx';

/** Net units ordered per campaign: the list has no demand, so each row asks its campaign (four at a time). */
const useOrdered = (api: Api, items: readonly CampaignSummary[]) => {
  const [ordered, setOrdered] = useState<Record<string, number>>({});
  useEffect(() => {
    const controller = new AbortController();
    const queue = items.map((c) => c.campaignId).filter((id) => ordered[id] === undefined);
    const worker = async () => {
      for (let id = queue.shift(); id !== undefined; id = queue.shift()) {
        try {
          const c = await api.getCampaign(id, controller.signal);
          const net = c.demand.reduce((n, v) => n + v.ordered - v.cancelled, 0);
          setOrdered((o) => ({ ...o, [id]: net }));
        } catch {
          if (controller.signal.aborted) return;
        }
      }
    };
    void Promise.all([worker(), worker(), worker(), worker()]);
    return () => controller.abort();
    // Rows already counted are not asked again when more pages arrive.
  }, [api, items]);
  return ordered;
};

export const CampaignRow = (p: { campaign: CampaignSummary; ordered: number | undefined }) => {
  const { t, count, dateTime } = useI18n();
  const c = p.campaign;
  const cap = c.maxTotalQuantity !== undefined ? count(c.maxTotalQuantity) : t.list.noCap;
  const when =
    c.status === 'SCHEDULED'
      ? [t.list.opens, c.opensAt]
      : c.status === 'OPEN'
        ? [t.list.closes, c.closesAt]
        : [t.list.closed, c.closedAt ?? c.closesAt];
  return (
    <li class="row-card" data-testid="campaign-row" data-campaign-id={c.campaignId}>
      <div class="row-main">
        <Link href={`${base}campaigns/${encodeURIComponent(c.campaignId)}`} class="row-title" data-testid="campaign-row-title">
          {c.title}
        </Link>
        <CampaignStatusBadge status={c.status} testid="campaign-row-status" />
      </div>
      <dl class="row-facts">
        <div>
          <dt>{when[0]}</dt>
          <dd>
            <time dateTime={when[1]}>{dateTime(when[1] ?? c.closesAt)}</time>
          </dd>
        </div>
        <div>
          <dt>{t.list.ordered}</dt>
          <dd class="num" data-testid="campaign-row-ordered" data-value={p.ordered ?? ''}>
            {t.list.orderedOfCap(p.ordered === undefined ? '…' : count(p.ordered), cap)}
          </dd>
        </div>
      </dl>
    </li>
  );
};

export const CampaignList = (p: { api: Api }) => {
  const { t } = useI18n();
  const [items, setItems] = useState<CampaignSummary[] | undefined>();
  const [cursor, setCursor] = useState<string | undefined>();
  const [error, setError] = useState<unknown>();
  const [loading, setLoading] = useState(false);
  const ordered = useOrdered(p.api, items ?? []);

  const load = async (after?: string) => {
    setLoading(true);
    setError(undefined);
    try {
      const page = await p.api.listCampaigns(after);
      setItems((prev) => (after ? [...(prev ?? []), ...page.items] : page.items));
      setCursor(page.nextCursor);
    } catch (err) {
      setError(err);
    } finally {
      setLoading(false);
    }
  };
  useEffect(() => {
    void load();
  }, [p.api]);

  return (
    <div class="page">
      <div class="page-head">
        <h1 id="page-title" tabIndex={-1}>
          {t.list.title}
        </h1>
        <Link href={`${base}campaigns/new`} class="button button-primary" data-testid="create-campaign">
          {t.nav.newCampaign}
        </Link>
      </div>
      {error !== undefined && <ErrorNotice error={error} onRetry={() => void load()} />}
      {items === undefined && error === undefined && <Loading />}
      {items?.length === 0 && <p class="empty">{t.list.empty}</p>}
      {items && items.length > 0 && (
        <ul class="row-list" data-testid="campaign-list">
          {items.map((c) => (
            <CampaignRow key={c.campaignId} campaign={c} ordered={ordered[c.campaignId]} />
          ))}
        </ul>
      )}
      {cursor && (
        <button type="button" class="button" disabled={loading} onClick={() => void load(cursor)} data-testid="campaign-list-more">
          {t.list.more}
        </button>
      )}
    </div>
  );
};
