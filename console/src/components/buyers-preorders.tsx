import { useEffect, useRef, useState } from 'preact/hooks';
import type { Api, Campaign, Preorder, PreorderStatus } from '../api.ts';
import { csvFileName } from '../lib/csv.ts';
import { download } from '../lib/download.ts';
import { useI18n } from '../ui/i18n.tsx';
import { ErrorNotice, Loading, PreorderStatusBadge, Section, useProblemText } from './common.tsx';

/** How long after the sale's figures move its new orders take to join the list (c2m's stream intake, decision 28). */
const listLagMs = 1_500;

const statuses: readonly PreorderStatus[] = ['ACCEPTED', 'BATCHED', 'IN_PRODUCTION', 'SHIPPED', 'DELIVERED', 'CANCELLED', 'REFUNDED'];

/** A pre-order by who bought what, how many, for how much, when, and when it ships: never by its id. */
const PreorderRow = (p: { preorder: Preorder; campaign: Campaign }) => {
  const { t, count, money, dateTime, day } = useI18n();
  const o = p.preorder;
  const name = p.campaign.variants.find((v) => v.sku === o.sku)?.name ?? o.sku;
  const moved = o.promisedShipBy !== o.originalPromisedShipBy;
  return (
    <li class="row-card preorder" data-testid="preorder-row" data-status={o.status} data-buyer={o.buyerId}>
      <div class="row-main">
        <span class="buyer" data-testid="preorder-buyer">
          {o.buyerId}
        </span>
        <PreorderStatusBadge status={o.status} />
      </div>
      <p class="preorder-what">
        <span>{name}</span> <span class="num">{t.preorders.quantity(count(o.quantity))}</span> ·{' '}
        <span class="num" data-testid="preorder-amount" data-value={o.amount}>
          {money(o.amount, o.currency)}
        </span>
      </p>
      <dl class="row-facts">
        <div>
          <dt>{t.preorders.orderedAt}</dt>
          <dd>
            <time dateTime={o.createdAt}>{dateTime(o.createdAt)}</time>
          </dd>
        </div>
        <div>
          <dt>{t.preorders.shipBy}</dt>
          <dd data-testid="preorder-ship-by">
            <time dateTime={o.promisedShipBy}>{day(o.promisedShipBy)}</time>
            {moved && <span class="muted"> ({t.preorders.firstPromised(day(o.originalPromisedShipBy))})</span>}
          </dd>
        </div>
      </dl>
      {(o.shippedQuantity > 0 || o.deliveredQuantity > 0 || o.refundedAmount > 0 || o.compensatedAmount > 0) && (
        <p class="muted">
          {[
            o.shippedQuantity > 0 && t.preorders.shippedOf(count(o.shippedQuantity), count(o.quantity)),
            o.deliveredQuantity > 0 && t.preorders.delivered(count(o.deliveredQuantity)),
            o.refundedAmount > 0 && t.preorders.refunded(money(o.refundedAmount, o.currency)),
            o.compensatedAmount > 0 && t.preorders.compensated(money(o.compensatedAmount, o.currency)),
          ]
            .filter(Boolean)
            .join(' · ')}
        </p>
      )}
    </li>
  );
};


/** The campaign's buyers: filter by state, look one buyer up ("when does mine ship?"), page on, export as CSV. */
export const BuyersPreorders = (p: { api: Api; campaign: Campaign; version: string }) => {
  const { t } = useI18n();
  const problemText = useProblemText();
  const [status, setStatus] = useState<PreorderStatus | ''>('');
  const [buyerInput, setBuyerInput] = useState('');
  const [buyerId, setBuyerId] = useState('');
  const [items, setItems] = useState<Preorder[] | undefined>();
  const [cursor, setCursor] = useState<string | undefined>();
  const [loading, setLoading] = useState(false);
  const [error, setError] = useState<unknown>();
  const [exporting, setExporting] = useState<number | undefined>();
  const [exportResult, setExportResult] = useState<{ file: string } | { error: unknown } | undefined>();
  const generation = useRef(0);
  const pages = useRef(0);
  const id = p.campaign.campaignId;

  const load = async (after?: string) => {
    const mine = ++generation.current;
    setLoading(true);
    setError(undefined);
    try {
      const page = await p.api.preorders(id, { ...(status && { status }), ...(buyerId && { buyerId }), ...(after && { cursor: after }) });
      if (mine !== generation.current) return;
      setItems((prev) => (after ? [...(prev ?? []), ...page.items] : page.items));
      setCursor(page.nextCursor);
      pages.current = after ? pages.current + 1 : 1;
    } catch (err) {
      if (mine === generation.current) setError(err);
    } finally {
      if (mine === generation.current) setLoading(false);
    }
  };
  // The figures move the moment an order is taken; the order joins this list a moment later, when
  // c2m has read it off its change stream (about a second). So the first page is read again once
  // that second has passed, or the newest orders would wait for the sale's next move to show.
  const followUp = useRef<ReturnType<typeof setTimeout> | undefined>(undefined);
  const loadAndFollow = () => {
    void load();
    clearTimeout(followUp.current);
    followUp.current = setTimeout(() => {
      if (pages.current <= 1) void load();
    }, listLagMs);
  };
  useEffect(() => {
    loadAndFollow();
  }, [id, status, buyerId]);
  // The sale moved (orders, cancels, batches, shipments): the first page follows, unless the
  // anchor paged on, whose place in the list a reload would lose.
  // A change seen while a load runs is taken up when that load ends (the effect runs again on `loading`).
  const seenVersion = useRef(p.version);
  useEffect(() => {
    if (seenVersion.current === p.version || loading || pages.current > 1) return;
    seenVersion.current = p.version;
    loadAndFollow();
  }, [p.version, loading]);
  useEffect(() => () => clearTimeout(followUp.current), []);

  const exportCsv = async () => {
    setExporting(0);
    setExportResult(undefined);
    try {
      const csv = await p.api.preordersCsv(id, { ...(status && { status }), ...(buyerId && { buyerId }) }, setExporting);
      const file = csvFileName(p.campaign.title, new Date().toISOString().slice(0, 10));
      download(csv, file);
      setExportResult({ file });
    } catch (err) {
      setExportResult({ error: err });
    } finally {
      setExporting(undefined);
    }
  };

  return (
    <Section
      id="preorders"
      title={t.preorders.title}
      actions={
        <button type="button" class="button" onClick={() => void exportCsv()} disabled={exporting !== undefined} aria-busy={exporting !== undefined} data-testid="csv-export">
          {exporting !== undefined ? t.preorders.exporting(exporting + 1) : t.preorders.export}
        </button>
      }
    >
      {exportResult && (
        <p class={'file' in exportResult ? 'muted' : 'field-error'} role="status" data-testid="csv-export-result">
          {'file' in exportResult ? t.preorders.exported(exportResult.file) : problemText(exportResult.error)}
        </p>
      )}
      <div class="filters">
        <div class="field">
          <label for="preorder-status">{t.preorders.status}</label>
          <select id="preorder-status" data-testid="preorder-status-filter" value={status} onChange={(e) => setStatus(e.currentTarget.value as PreorderStatus | '')}>
            <option value="">{t.preorders.all}</option>
            {statuses.map((s) => (
              <option key={s} value={s}>
                {t.preorderStatus[s]}
              </option>
            ))}
          </select>
        </div>
        <form
          class="field lookup"
          role="search"
          onSubmit={(e) => {
            e.preventDefault();
            setBuyerId(buyerInput.trim());
          }}
        >
          <label for="preorder-buyer">{t.preorders.buyer}</label>
          <div class="input-row">
            <input
              id="preorder-buyer"
              type="search"
              autoCapitalize="off"
              autoComplete="off"
              spellcheck={false}
              value={buyerInput}
              onInput={(e) => setBuyerInput(e.currentTarget.value)}
              aria-describedby="preorder-buyer-hint"
              data-testid="preorder-buyer-input"
            />
            <button type="submit" class="button" data-testid="preorder-buyer-find">
              {t.preorders.find}
            </button>
          </div>
          <p class="hint" id="preorder-buyer-hint">
            {t.preorders.findHint}
          </p>
          {buyerId && (
            <button
              type="button"
              class="button button-quiet"
              data-testid="preorder-buyer-clear"
              onClick={() => {
                setBuyerInput('');
                setBuyerId('');
              }}
            >
              {t.preorders.clear}
            </button>
          )}
        </form>
      </div>

      {error !== undefined && <ErrorNotice error={error} onRetry={() => void load()} />}
      {items === undefined && error === undefined && <Loading />}
      {items?.length === 0 && <p class="empty">{t.preorders.empty}</p>}
      {items && items.length > 0 && (
        <ul class="row-list" data-testid="preorder-list" aria-busy={loading}>
          {items.map((o) => (
            <PreorderRow key={o.preorderId} preorder={o} campaign={p.campaign} />
          ))}
        </ul>
      )}
      {cursor && (
        <button type="button" class="button" disabled={loading} onClick={() => void load(cursor)} data-testid="preorder-more">
          {t.preorders.more}
        </button>
      )}
    </Section>
  );
};
