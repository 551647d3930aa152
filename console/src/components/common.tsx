import type { ComponentChildren } from 'preact';
import type { PreorderStatus } from '../api.ts';
import { ApiError, withoutIds } from '../lib/problems.ts';
import { useI18n } from '../ui/i18n.tsx';

type Tone = 'neutral' | 'good' | 'warn' | 'bad' | 'live';

const campaignTone = { SCHEDULED: 'neutral', OPEN: 'live', CLOSED: 'good', FAILED: 'bad' } as const satisfies Record<string, Tone>;

/** The campaign's state in words and colour; the raw status stays in data-status for tests, never as text. */
export const CampaignStatusBadge = (p: { status: keyof typeof campaignTone; testid?: string }) => {
  const { t } = useI18n();
  return (
    <span class={`badge badge-${campaignTone[p.status]}`} data-status={p.status} data-testid={p.testid}>
      {t.campaignStatus[p.status]}
    </span>
  );
};

const batchTone: Record<string, Tone> = {
  RELEASED: 'warn',
  ACCEPTED: 'neutral',
  REJECTED: 'bad',
  IN_PRODUCTION: 'live',
  PARTIALLY_SHIPPED: 'live',
  COMPLETED: 'good',
  WITHDRAWN: 'bad',
};

export const BatchStatusBadge = (p: { status: keyof ReturnType<typeof useI18n>['t']['batchStatus'] }) => {
  const { t } = useI18n();
  return (
    <span class={`badge badge-${batchTone[p.status] ?? 'neutral'}`} data-status={p.status} data-testid="batch-status">
      {t.batchStatus[p.status]}
    </span>
  );
};

const preorderTone: Record<PreorderStatus, Tone> = {
  ACCEPTED: 'neutral',
  BATCHED: 'neutral',
  IN_PRODUCTION: 'live',
  SHIPPED: 'live',
  DELIVERED: 'good',
  CANCELLED: 'bad',
  REFUNDED: 'bad',
};

export const PreorderStatusBadge = (p: { status: PreorderStatus }) => {
  const { t } = useI18n();
  return (
    <span class={`badge badge-${preorderTone[p.status]}`} data-status={p.status} data-testid="preorder-status">
      {t.preorderStatus[p.status]}
    </span>
  );
};

/** What went wrong, in the anchor's language where the console knows better than the API's English. */
export const useProblemText = () => {
  const { t } = useI18n();
  return (err: unknown): string => {
    if (err instanceof ApiError) {
      if (err.status === 0) return t.app.offline;
      if (err.status === 404) return t.app.notYours;
      return withoutIds(err.problem.detail || err.problem.title) || t.app.somethingWrong;
    }
    return t.app.somethingWrong;
  };
};

export const ErrorNotice = (p: { error: unknown; onRetry?: () => void; testid?: string }) => {
  const { t } = useI18n();
  const text = useProblemText();
  return (
    <div class="notice notice-error" role="alert" data-testid={p.testid}>
      <p>{text(p.error)}</p>
      {p.onRetry && (
        <button type="button" class="button" onClick={p.onRetry}>
          {t.app.retry}
        </button>
      )}
    </div>
  );
};

export const Loading = () => {
  const { t } = useI18n();
  return (
    <p class="loading" role="status">
      {t.app.loading}
    </p>
  );
};

export const Section = (p: { id: string; title: string; children: ComponentChildren; actions?: ComponentChildren }) => (
  <section class="card" aria-labelledby={`${p.id}-title`}>
    <div class="card-head">
      <h2 id={`${p.id}-title`}>{p.title}</h2>
      {p.actions}
    </div>
    {p.children}
  </section>
);

/** A bar with its figures in text beside it (the text, not the colour, carries the number). */
export const ProgressBar = (p: { label: string; value: number; max: number; text: string; testid: string }) => {
  const pct = p.max <= 0 ? 0 : Math.min(100, Math.max(0, (p.value / p.max) * 100));
  return (
    <div class="progress">
      <div class="progress-label">
        <span>{p.label}</span>
        <span class="num" data-testid={`${p.testid}-text`}>
          {p.text}
        </span>
      </div>
      <div
        class="progress-track"
        role="progressbar"
        aria-label={p.label}
        aria-valuemin={0}
        aria-valuemax={p.max}
        aria-valuenow={p.value}
        aria-valuetext={p.text}
        data-testid={p.testid}
        data-value={p.value}
        data-max={p.max}
      >
        <div class="progress-fill" style={{ width: `${pct}%` }} />
      </div>
    </div>
  );
};
