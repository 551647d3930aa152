import { useMemo, useState } from 'preact/hooks';
import type { Campaign, Demand, DemandHistory, VariantDemand } from '../api.ts';
import { chartColumns } from '../lib/chart-data.ts';
import { useI18n } from '../ui/i18n.tsx';
import type { Polled } from '../ui/poll.ts';
import { ErrorNotice, Loading, ProgressBar, Section } from './common.tsx';
import { DemandChart } from './demand-chart.tsx';

export interface Live {
  readonly demand: Demand;
  /** Absent while the history route does not answer: the figures still show. */
  readonly history?: DemandHistory;
}

const net = (v: { ordered: number; cancelled: number }) => v.ordered - v.cancelled;

/** One figure: its label, and the number as text (data-value carries it raw for tests). */
const Figure = (p: { label: string; value: string; raw?: number | string; testid: string; hint?: string; big?: boolean }) => (
  <div class={`figure${p.big ? ' figure-big' : ''}`}>
    <dt>{p.label}</dt>
    <dd class="num" data-testid={p.testid} data-value={p.raw ?? ''} title={p.hint}>
      {p.value}
    </dd>
  </div>
);

const VariantCard = (p: { campaign: Campaign; v: VariantDemand }) => {
  const { t, count, money } = useI18n();
  const variant = p.campaign.variants.find((x) => x.sku === p.v.sku);
  const ordered = net(p.v);
  const next = p.v.nextTier;
  return (
    <li class="variant-card" data-testid="variant-card" data-sku={p.v.sku}>
      <h3>
        {variant?.name ?? p.v.sku} <span class="sku">{p.v.sku}</span>
      </h3>
      <dl class="figures">
        <Figure label={t.demand.ordered} value={count(ordered)} raw={ordered} testid={`variant-ordered-${p.v.sku}`} hint={t.demand.orderedHint} big />
        <Figure
          label={t.demand.forecast}
          value={`${count(p.v.forecastFinal)} (${t.demand.forecastRange(count(p.v.forecastLow), count(p.v.forecastHigh))})`}
          raw={p.v.forecastFinal}
          testid={`variant-forecast-${p.v.sku}`}
        />
        <Figure label={t.demand.waiting} value={count(p.v.waiting)} raw={p.v.waiting} testid={`variant-waiting-${p.v.sku}`} />
        <Figure label={t.demand.batched} value={count(p.v.batched)} raw={p.v.batched} testid={`variant-batched-${p.v.sku}`} />
        <Figure label={t.demand.cancelled} value={count(p.v.cancelled)} raw={p.v.cancelled} testid={`variant-cancelled-${p.v.sku}`} />
        {p.v.awaitingBalance !== undefined && (
          <Figure
            label={t.demand.awaitingBalance}
            value={count(p.v.awaitingBalance)}
            raw={p.v.awaitingBalance}
            testid={`variant-awaiting-balance-${p.v.sku}`}
            hint={t.demand.awaitingBalanceHint}
          />
        )}
        {p.v.unitPriceNow !== undefined && (
          <Figure
            label={t.demand.priceNow}
            value={money(p.v.unitPriceNow, p.campaign.currency)}
            raw={p.v.unitPriceNow}
            testid={`variant-price-${p.v.sku}`}
            hint={t.demand.priceNowHint}
          />
        )}
      </dl>
      {next !== undefined && (
        <p class="tier-next" data-testid={`variant-next-tier-${p.v.sku}`} data-value={next.unitsToUnlock}>
          {t.demand.toUnlock(count(next.unitsToUnlock), money(next.unitPrice, p.campaign.currency))}
        </p>
      )}
      {variant?.minQuantity !== undefined && (
        <ProgressBar
          label={t.demand.minimumOf(count(variant.minQuantity))}
          value={Math.min(ordered, variant.minQuantity)}
          max={variant.minQuantity}
          text={`${count(ordered)} / ${count(variant.minQuantity)}`}
          testid={`variant-minimum-${p.v.sku}`}
        />
      )}
    </li>
  );
};

/** A deposit campaign's terms, and once its balances were called, until when they may be paid. */
const DepositTerms = (p: { campaign: Campaign }) => {
  const { t, money, dateTime } = useI18n();
  const terms = p.campaign.payment;
  if (terms?.mode !== 'deposit' || terms.deposit === undefined) return null;
  const discount = terms.depositDiscount !== undefined ? money(terms.depositDiscount, p.campaign.currency) : undefined;
  return (
    <p class="deposit-terms" data-testid="deposit-terms">
      {t.demand.depositTerms(money(terms.deposit, p.campaign.currency), terms.balanceWindowHours ?? 0, discount)}
      {p.campaign.balanceDueBy !== undefined && <span data-testid="balance-due-by"> {t.demand.balanceDueBy(dateTime(p.campaign.balanceDueBy))}</span>}
    </p>
  );
};

/** A campaign priced by tiers of its own (全场阶梯价): each tier, whether the units of every variant reached it, and what unlocks the next. */
const CampaignTiers = (p: { campaign: Campaign; demand: Demand }) => {
  const { t, count, money } = useI18n();
  const tiers = p.campaign.priceTiers;
  if (!tiers?.length) return null;
  const sold = net(p.demand.totals);
  const next = p.demand.nextTier;
  return (
    <div class="campaign-tiers" data-testid="campaign-tiers">
      <p>{t.demand.campaignTiers}</p>
      <ul>
        {tiers.map((tier) => (
          <li key={tier.minUnits} data-testid="campaign-tier" data-reached={sold >= tier.minUnits ? 'true' : 'false'}>
            {t.demand.campaignTier(count(tier.minUnits), money(tier.unitPrice, p.campaign.currency))}
            {sold >= tier.minUnits && <strong> ✓ {t.demand.tierReached}</strong>}
          </li>
        ))}
      </ul>
      {next !== undefined && (
        <p class="tier-next" data-testid="campaign-next-tier" data-value={next.unitsToUnlock}>
          {t.demand.toUnlockAny(count(next.unitsToUnlock), money(next.unitPrice, p.campaign.currency))}
        </p>
      )}
    </div>
  );
};

export const SignalsPanel = (p: { demand: Demand }) => {
  const { t, count } = useI18n();
  const s = p.demand.totals.signals;
  const types = ['view', 'like', 'cart', 'want', 'share'] as const;
  return (
    <Section id="signals" title={t.signals.title}>
      <div class="table-scroll">
        <table class="signals" data-testid="signals">
          <thead>
            <tr>
              <th scope="col">
                <span class="visually-hidden">{t.signals.title}</span>
              </th>
              <th scope="col">{t.signals.total}</th>
              <th scope="col">{t.signals.last15m}</th>
            </tr>
          </thead>
          <tbody>
            {types.map((type) => (
              <tr key={type}>
                <th scope="row">{t.signalType[type]}</th>
                <td class="num" data-testid={`signal-${type}`} data-value={s[type]}>
                  {count(s[type])}
                </td>
                <td class="num" data-testid={`signal-${type}-15m`} data-value={s.last15m[type]}>
                  {count(s.last15m[type])}
                </td>
              </tr>
            ))}
          </tbody>
        </table>
      </div>
    </Section>
  );
};

/** The figures the anchor watches during the live: ordered against the cap, per variant, and the chart. */
export const LiveDemand = (p: { campaign: Campaign; live: Polled<Live> }) => {
  const { t, count, locale } = useI18n();
  const [scope, setScope] = useState('*');
  const data = p.live.data;
  const variants = data?.history?.variants;
  const from = data?.history?.from;
  // The window starts at the history's `from`; the sale's opening only matters when it falls inside.
  const opensAt = from !== undefined && Date.parse(p.campaign.opensAt) >= Date.parse(from) ? p.campaign.opensAt : undefined;
  const cap = p.campaign.maxTotalQuantity;
  const columns = useMemo(() => chartColumns(variants ?? [], scope, opensAt, cap), [variants, scope, opensAt, cap]);
  const updated = p.live.updatedAt
    ? new Intl.DateTimeFormat(locale, { hour: '2-digit', minute: '2-digit', second: '2-digit' }).format(p.live.updatedAt)
    : undefined;

  if (!data) {
    return (
      <Section id="demand" title={t.demand.title}>
        {p.live.error ? <ErrorNotice error={p.live.error} onRetry={p.live.refresh} /> : <Loading />}
      </Section>
    );
  }
  const totals = data.demand.totals;
  const ordered = net(totals);
  const remaining = data.demand.remaining;
  const scopeName = scope === '*' ? t.demand.total : (p.campaign.variants.find((v) => v.sku === scope)?.name ?? scope);

  return (
    <Section
      id="demand"
      title={t.demand.title}
      actions={
        <p class="updated" data-testid="live-updated">
          {p.live.paused ? t.demand.paused : p.live.error && updated ? t.demand.stale(updated) : updated ? t.demand.updated(updated) : ''}
        </p>
      }
    >
      <dl class="figures figures-top">
        <Figure label={t.demand.ordered} value={count(ordered)} raw={ordered} testid="total-ordered" hint={t.demand.orderedHint} big />
        <Figure label={t.demand.cap} value={cap === undefined ? t.demand.noCap : count(cap)} raw={cap ?? ''} testid="cap" big />
        {remaining !== undefined && <Figure label={t.demand.remaining} value={count(remaining)} raw={remaining} testid="remaining" />}
        <Figure label={t.demand.forecast} value={count(totals.forecastFinal)} raw={totals.forecastFinal} testid="total-forecast" />
      </dl>
      <DepositTerms campaign={p.campaign} />
      <CampaignTiers campaign={p.campaign} demand={data.demand} />
      {cap !== undefined && (
        <ProgressBar label={t.demand.cap} value={Math.min(ordered, cap)} max={cap} text={t.list.orderedOfCap(count(ordered), count(cap))} testid="cap-progress" />
      )}

      {data.demand.variants.length > 1 && (
        <div class="field field-inline">
          <label for="chart-scope">{t.demand.chartScope}</label>
          <select id="chart-scope" data-testid="chart-scope" value={scope} onChange={(e) => setScope(e.currentTarget.value)}>
            <option value="*">{t.demand.total}</option>
            {p.campaign.variants.map((v) => (
              <option key={v.sku} value={v.sku}>
                {v.name}
              </option>
            ))}
          </select>
        </div>
      )}
      <DemandChart columns={columns} cap={cap} label={t.demand.chartLabel(scopeName)} />

      <ul class="variant-grid">
        {data.demand.variants.map((v) => (
          <VariantCard key={v.sku} campaign={p.campaign} v={v} />
        ))}
      </ul>
    </Section>
  );
};
