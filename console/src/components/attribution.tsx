import { useState } from 'preact/hooks';
import type { Api, Attribution, Campaign } from '../api.ts';
import { csvFileName } from '../lib/csv.ts';
import { useI18n } from '../ui/i18n.tsx';
import { download } from '../lib/download.ts';
import { ErrorNotice, Loading, Section, useProblemText } from './common.tsx';

type Row = Attribution['items'][number];

/**
 * Sales by source: what each live room, session and affiliate sold, net of refunds, and the
 * commission owed on it. The server reads every pre-order of the campaign to answer, so this
 * is asked for when the anchor opens it (and again on request), never polled.
 */
export const SalesBySource = (p: { api: Api; campaign: Campaign }) => {
  const { t, count, money } = useI18n();
  const problemText = useProblemText();
  const [data, setData] = useState<Attribution | undefined>();
  const [error, setError] = useState<unknown>();
  const [loading, setLoading] = useState(false);
  const [exportResult, setExportResult] = useState<{ file: string } | { error: unknown } | undefined>();
  const id = p.campaign.campaignId;
  const currency = p.campaign.currency;

  const load = async () => {
    setLoading(true);
    setError(undefined);
    try {
      setData(await p.api.attribution(id));
    } catch (err) {
      setError(err);
    } finally {
      setLoading(false);
    }
  };
  const exportCsv = async () => {
    setExportResult(undefined);
    try {
      const file = csvFileName(`${p.campaign.title}-${t.sources.fileSuffix}`, new Date().toISOString().slice(0, 10));
      download(await p.api.attributionCsv(id), file);
      setExportResult({ file });
    } catch (err) {
      setExportResult({ error: err });
    }
  };

  const source = (r: Row) =>
    r.source ? [r.source.liveRoomId, r.source.sessionId, r.source.affiliateId && t.sources.affiliate(r.source.affiliateId)].filter(Boolean).join(' · ') : t.sources.direct;

  return (
    <Section
      id="sources"
      title={t.sources.title}
      actions={
        <span class="actions">
          <button type="button" class="button" onClick={() => void load()} disabled={loading} aria-busy={loading} data-testid="sources-load">
            {data ? t.sources.refresh : t.sources.show}
          </button>
          {data && (
            <button type="button" class="button" onClick={() => void exportCsv()} data-testid="sources-export">
              {t.preorders.export}
            </button>
          )}
        </span>
      }
    >
      <p class="muted">
        {p.campaign.commission
          ? t.sources.commission(String(p.campaign.commission.anchorPercent), String(p.campaign.commission.affiliatePercent))
          : t.sources.noCommission}
      </p>
      {exportResult && (
        <p class={'file' in exportResult ? 'muted' : 'field-error'} role="status" data-testid="sources-export-result">
          {'file' in exportResult ? t.preorders.exported(exportResult.file) : problemText(exportResult.error)}
        </p>
      )}
      {error !== undefined && <ErrorNotice error={error} onRetry={() => void load()} />}
      {loading && !data && <Loading />}
      {data && data.items.length === 0 && <p class="muted">{t.sources.empty}</p>}
      {data && data.items.length > 0 && (
        <div class="table-scroll">
          <table class="sources" data-testid="sources-table">
            <thead>
              <tr>
                <th scope="col">{t.sources.source}</th>
                <th scope="col" class="num">{t.sources.units}</th>
                <th scope="col" class="num">{t.sources.netGmv}</th>
                <th scope="col" class="num">{t.sources.refunded}</th>
                <th scope="col" class="num">{t.sources.anchorCommission}</th>
                <th scope="col" class="num">{t.sources.affiliateCommission}</th>
              </tr>
            </thead>
            <tbody>
              {data.items.map((r) => (
                <tr key={source(r)} data-testid="sources-row">
                  <th scope="row">{source(r)}</th>
                  <td class="num">{count(r.netUnits)}</td>
                  <td class="num" data-testid="sources-net-gmv" data-value={r.netGmv}>
                    {money(r.netGmv, currency)}
                  </td>
                  <td class="num">{money(r.refunded, currency)}</td>
                  <td class="num">{money(r.anchorCommission, currency)}</td>
                  <td class="num">{money(r.affiliateCommission, currency)}</td>
                </tr>
              ))}
            </tbody>
            <tfoot>
              <tr data-testid="sources-total">
                <th scope="row">{t.sources.total}</th>
                <td class="num">{count(data.totals.netUnits)}</td>
                <td class="num" data-value={data.totals.netGmv}>
                  {money(data.totals.netGmv, currency)}
                </td>
                <td class="num">{money(data.totals.refunded, currency)}</td>
                <td class="num">{money(data.totals.anchorCommission, currency)}</td>
                <td class="num">{money(data.totals.affiliateCommission, currency)}</td>
              </tr>
            </tfoot>
          </table>
        </div>
      )}
    </Section>
  );
};
