import type { Batch, BatchList, Campaign, Trust } from '../api.ts';
import { useI18n } from '../ui/i18n.tsx';
import type { Polled } from '../ui/poll.ts';
import { BatchStatusBadge, ErrorNotice, Loading, ProgressBar, Section } from './common.tsx';

/** One batch as the anchor knows it: "Batch 2, released …", never its id. */
const BatchCard = (p: { batch: Batch; ordinal: number; currency: string; campaign: Campaign }) => {
  const { t, count, money, dateTime, day } = useI18n();
  const b = p.batch;
  const of = (n: number) => t.batches.ofQuantity(count(n), count(b.units));
  const nameOf = (sku: string) => p.campaign.variants.find((v) => v.sku === sku)?.name ?? sku;
  return (
    <li class="batch-card" data-testid="batch-card" data-ordinal={p.ordinal} data-status={b.status}>
      <div class="batch-head">
        <h3>
          {t.batches.batchN(p.ordinal)} <span class="muted">{t.batches.released(dateTime(b.releasedAt))}</span>
        </h3>
        <BatchStatusBadge status={b.status} />
      </div>
      <p class="muted">
        {t.batches.units(count(b.units), count(b.preorderCount))} · {t.batches.cutFor(t.batches.reason[b.reason] ?? b.reason)}
      </p>
      <dl class="facts">
        <div>
          <dt>{t.batches.factory}</dt>
          <dd data-testid="batch-factory">{b.factoryId}</dd>
        </div>
        {b.status === 'RELEASED' && (
          <div>
            <dt>{t.batches.acceptBy}</dt>
            <dd data-testid="batch-accept-by">{dateTime(b.acceptBy)}</dd>
          </div>
        )}
        {b.acceptedAt && (
          <div>
            <dt>{t.batches.acceptedAt}</dt>
            <dd>{dateTime(b.acceptedAt)}</dd>
          </div>
        )}
        {b.committedShipDate && (
          <div>
            <dt>{t.batches.committedShipDate}</dt>
            <dd data-testid="batch-committed-ship-date">{day(b.committedShipDate)}</dd>
          </div>
        )}
        {b.promisedShipBy && (
          <div>
            <dt>{t.batches.promisedShipBy}</dt>
            <dd data-testid="batch-promised-ship-by">{day(b.promisedShipBy)}</dd>
          </div>
        )}
      </dl>
      {b.rejectedAt && (
        <p class="notice notice-warn">
          {t.batches.rejected(b.rejectedReason ?? '')} {b.next === 'backup-factory' ? t.batches.nextBackup : b.next === 'refund' ? t.batches.nextRefund : ''}
        </p>
      )}
      {b.closedShortReason && (
        // c2m's own reason at the buyers' ceiling is said in the anchor's language; a factory's is its own words.
        <p class="notice notice-warn">{b.withdrawnAt && b.status === 'COMPLETED' ? t.batches.closedAtCeiling : t.batches.closedShort(b.closedShortReason)}</p>
      )}
      {b.withdrawnAt && <p class="notice notice-warn">{t.batches.withdrawn}</p>}

      <div class="progress-group">
        <ProgressBar label={t.batches.produced} value={b.produced} max={b.units} text={of(b.produced)} testid="batch-produced" />
        <ProgressBar label={t.batches.qcPassed} value={b.qcPassed} max={b.units} text={of(b.qcPassed)} testid="batch-qc-passed" />
        <ProgressBar label={t.batches.shipped} value={b.shipped} max={b.units} text={of(b.shipped)} testid="batch-shipped" />
        {b.qcFailed > 0 && (
          <p class="muted" data-testid="batch-qc-failed" data-value={b.qcFailed}>
            {t.batches.qcFailed(count(b.qcFailed))}
            {b.defects.length > 0 && <span data-testid="batch-defects">{` · ${b.defects.map((d) => `${t.batches.defect[d.code]} ${count(d.count)}`).join(', ')}`}</span>}
          </p>
        )}
      </div>

      {b.lines.length > 1 && (
        <details class="lines">
          <summary>{t.batches.perSku}</summary>
          <div class="table-scroll">
            <table>
              <thead>
                <tr>
                  <th scope="col">
                    <span class="visually-hidden">SKU</span>
                  </th>
                  <th scope="col">{t.batches.produced}</th>
                  <th scope="col">{t.batches.qcPassed}</th>
                  <th scope="col">{t.batches.shipped}</th>
                </tr>
              </thead>
              <tbody>
                {b.lines.map((l) => (
                  <tr key={l.sku}>
                    <th scope="row">{nameOf(l.sku)}</th>
                    <td class="num">{t.batches.ofQuantity(count(l.produced), count(l.quantity))}</td>
                    <td class="num">{t.batches.ofQuantity(count(l.qcPassed), count(l.quantity))}</td>
                    <td class="num">{t.batches.ofQuantity(count(l.shipped), count(l.quantity))}</td>
                  </tr>
                ))}
              </tbody>
            </table>
          </div>
        </details>
      )}

      <ul class="batch-notes">
        <li data-testid="batch-delays" data-value={b.delays.preorders}>
          {t.batches.delays(count(b.delays.preorders))}
          {b.delays.latestPromisedShipBy && ` · ${t.batches.latestPromise(day(b.delays.latestPromisedShipBy))}`}
        </li>
        <li data-testid="batch-refunds" data-value={b.refunds.amount}>
          {t.batches.refunds(count(b.refunds.preorders), count(b.refunds.units), money(b.refunds.amount, p.currency))}
        </li>
        <li data-testid="batch-compensation" data-value={b.compensation.amount}>
          {t.batches.compensation(count(b.compensation.preorders), money(b.compensation.amount, p.currency))}
        </li>
      </ul>
    </li>
  );
};

export const Batches = (p: { batches: Polled<BatchList>; campaign: Campaign }) => {
  const { t } = useI18n();
  const data = p.batches.data;
  return (
    <Section id="batches" title={t.batches.title}>
      {p.batches.error && !data && <ErrorNotice error={p.batches.error} onRetry={p.batches.refresh} />}
      {!data && !p.batches.error && <Loading />}
      {data && data.items.length === 0 && <p class="empty">{t.batches.empty}</p>}
      {data && data.items.length > 0 && (
        <ol class="batch-list" data-testid="batch-list">
          {data.items.map((b, i) => (
            <BatchCard key={b.batchId} batch={b} ordinal={i + 1} currency={data.currency} campaign={p.campaign} />
          ))}
        </ol>
      )}
    </Section>
  );
};

export const TrustFigures = (p: { trust: Polled<Trust> }) => {
  const { t, count, rate, money } = useI18n();
  const d = p.trust.data;
  const r = (v: number | undefined) => (v === undefined ? t.trust.notYet : rate(v));
  const compensated = d?.compensation.amounts.map((a) => money(a.amount, a.currency)).join(' + ');
  return (
    <Section id="trust" title={t.trust.title}>
      {p.trust.error && !d && <ErrorNotice error={p.trust.error} onRetry={p.trust.refresh} />}
      {!d && !p.trust.error && <Loading />}
      {d && (
        <dl class="figures">
          <div class="figure">
            <dt>{t.trust.onTime}</dt>
            <dd class="num" data-testid="trust-on-time" data-value={d.onTimeShipRate ?? ''}>
              {r(d.onTimeShipRate)}
            </dd>
          </div>
          <div class="figure">
            <dt>{t.trust.qcPass}</dt>
            <dd class="num" data-testid="trust-qc-pass" data-value={d.qcPassRate ?? ''}>
              {r(d.qcPassRate)}
            </dd>
          </div>
          <div class="figure">
            <dt>{t.trust.refundRate}</dt>
            <dd class="num" data-testid="trust-refund-rate" data-value={d.refundRate ?? ''}>
              {r(d.refundRate)}
            </dd>
          </div>
          <div class="figure">
            <dt>{t.trust.medianDays}</dt>
            <dd class="num" data-testid="trust-median-days" data-value={d.medianDaysToDelivery ?? ''}>
              {d.medianDaysToDelivery === undefined ? t.trust.notYet : t.trust.days(count(d.medianDaysToDelivery))}
            </dd>
          </div>
          <div class="figure">
            <dt>{t.trust.shipped}</dt>
            <dd class="num" data-testid="trust-shipped" data-value={d.preordersShipped}>
              {count(d.preordersShipped)}
            </dd>
          </div>
          <div class="figure">
            <dt>{t.trust.delivered}</dt>
            <dd class="num" data-testid="trust-delivered" data-value={d.preordersDelivered}>
              {count(d.preordersDelivered)}
            </dd>
          </div>
          <div class="figure">
            <dt>{t.trust.refundedAtCeiling}</dt>
            <dd class="num" data-testid="trust-refunded-at-ceiling" data-value={d.unitsRefundedAtCeiling}>
              {count(d.unitsRefundedAtCeiling)}
            </dd>
          </div>
          <div class="figure">
            <dt>{t.trust.refundPaid}</dt>
            <dd class="num" data-testid="trust-refund-paid" data-value={d.refundConfirmation?.p50Seconds ?? ''}>
              {d.refundConfirmation ? t.trust.within(d.refundConfirmation.p50Seconds) : t.trust.notYet}
            </dd>
          </div>
          <div class="figure">
            <dt>{t.trust.compensated}</dt>
            <dd class="num" data-testid="trust-compensated" data-value={d.compensation.count}>
              {count(d.compensation.count)}
              {compensated ? ` · ${compensated}` : ''}
            </dd>
          </div>
        </dl>
      )}
    </Section>
  );
};
