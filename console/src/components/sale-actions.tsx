import type { ComponentChildren } from 'preact';
import { useLayoutEffect, useRef, useState } from 'preact/hooks';
import type { Api, Campaign } from '../api.ts';
import { fromLocalInput, toLocalInput } from '../lib/format.ts';
import { ApiError, issueText } from '../lib/problems.ts';
import { useI18n } from '../ui/i18n.tsx';
import { Section, useProblemText } from './common.tsx';

type Action = 'close' | 'raise' | 'extend';
type Messages = ReturnType<typeof useI18n>['t'];

/** What an action did, worded when shown: a switch of language rewords it. */
type Done = (t: Messages, f: { count: (n: number) => string; dateTime: (iso: string) => string }) => string;

/**
 * A modal confirmation: a real <dialog> (focus kept inside, Escape cancels, the page behind
 * inert), focus on its first field or its confirm button, and back on the button that opened it.
 */
const ConfirmDialog = (p: {
  title: string;
  confirmLabel: string;
  danger?: boolean;
  busy: boolean;
  error: string | undefined;
  onConfirm: () => void;
  onClose: () => void;
  children: ComponentChildren;
}) => {
  const { t } = useI18n();
  const ref = useRef<HTMLDialogElement>(null);
  useLayoutEffect(() => {
    const d = ref.current;
    if (!d) return;
    const opener = document.activeElement as HTMLElement | null;
    d.showModal();
    const first = d.querySelector<HTMLElement>('input, [data-autofocus]');
    first?.focus();
    return () => {
      if (d.open) d.close();
      // After a close the button that opened the dialog is gone: focus the result instead of the page's body.
      if (opener?.isConnected) opener.focus();
      else setTimeout(() => document.querySelector<HTMLElement>('[data-testid="action-result"]')?.focus());
    };
  }, []);
  return (
    <dialog
      ref={ref}
      class="dialog"
      aria-labelledby="dialog-title"
      data-testid="confirm-dialog"
      onCancel={(e) => {
        e.preventDefault();
        if (!p.busy) p.onClose();
      }}
    >
      <form
        method="dialog"
        onSubmit={(e) => {
          e.preventDefault();
          p.onConfirm();
        }}
      >
        <h2 id="dialog-title">{p.title}</h2>
        {p.children}
        {p.error && (
          <p class="field-error" role="alert" id="action-error" data-testid="action-error">
            {p.error}
          </p>
        )}
        <div class="dialog-actions">
          <button type="button" class="button" onClick={p.onClose} disabled={p.busy} data-testid="cancel-action">
            {t.actions.cancel}
          </button>
          <button
            type="submit"
            class={`button ${p.danger ? 'button-danger' : 'button-primary'}`}
            disabled={p.busy}
            aria-busy={p.busy}
            data-autofocus
            data-testid="confirm-action"
          >
            {p.busy ? t.actions.working : p.confirmLabel}
          </button>
        </div>
      </form>
    </dialog>
  );
};

/** Close early, raise the cap, extend the close: what an OPEN (or not yet open) campaign allows. */
export const SaleActions = (p: { api: Api; campaign: Campaign; taken: number; onChanged: (c: Campaign) => void }) => {
  const { t, count, dateTime } = useI18n();
  const problemText = useProblemText();
  const [open, setOpen] = useState<Action | undefined>();
  const [busy, setBusy] = useState(false);
  const [error, setError] = useState<string | undefined>();
  const [cap, setCap] = useState('');
  const [closesAt, setClosesAt] = useState('');
  const [result, setResult] = useState<Done | undefined>();
  const c = p.campaign;

  const start = (a: Action) => {
    setError(undefined);
    setResult(undefined);
    if (a === 'raise') setCap(c.maxTotalQuantity !== undefined ? String(c.maxTotalQuantity) : '');
    if (a === 'extend') setClosesAt(toLocalInput(c.closesAt));
    setOpen(a);
  };

  const run = async (call: () => Promise<Campaign>, done: (c: Campaign) => Done) => {
    setBusy(true);
    setError(undefined);
    try {
      const changed = await call();
      setOpen(undefined);
      setResult(() => done(changed));
      p.onChanged(changed);
    } catch (err) {
      setError(err instanceof ApiError && err.problem.errors.length > 0 ? err.problem.errors.map((e) => issueText(e, t.issues)).join(' ') : problemText(err));
    } finally {
      setBusy(false);
    }
  };

  const confirm = () => {
    if (open === 'close') return void run(() => p.api.closeCampaign(c.campaignId), () => (t) => t.actions.closed);
    if (open === 'raise') {
      const n = Number(cap.trim());
      if (!Number.isInteger(n)) return setError(t.form.notWhole);
      if (c.maxTotalQuantity !== undefined && n <= c.maxTotalQuantity) return setError(t.actions.capMustRise(count(c.maxTotalQuantity)));
      return void run(
        () => p.api.updateCampaign(c.campaignId, { maxTotalQuantity: n }),
        (changed) => (t, f) => t.actions.raised(f.count(changed.maxTotalQuantity ?? n)),
      );
    }
    if (open === 'extend') {
      const iso = fromLocalInput(closesAt);
      if (!iso) return setError(t.form.notDate);
      if (Date.parse(iso) <= Date.parse(c.closesAt)) return setError(t.actions.closeMustBeLater);
      return void run(
        () => p.api.updateCampaign(c.campaignId, { closesAt: iso }),
        (changed) => (t, f) => t.actions.extended(f.dateTime(changed.closesAt)),
      );
    }
  };

  const canChange = c.status === 'OPEN' || c.status === 'SCHEDULED';
  if (!canChange && !result) return null;
  const dialogProps = { busy, error, onConfirm: confirm, onClose: () => setOpen(undefined) };

  return (
    <Section id="actions" title={t.actions.title}>
      {result && (
        <p class="notice notice-ok" role="status" tabIndex={-1} data-testid="action-result">
          {result(t, { count, dateTime })}
        </p>
      )}
      {canChange && (
        <div class="action-buttons">
          {c.maxTotalQuantity !== undefined && (
            <button type="button" class="button" onClick={() => start('raise')} data-testid="raise-cap">
              {t.actions.raiseCap}
            </button>
          )}
          <button type="button" class="button" onClick={() => start('extend')} data-testid="extend-close">
            {t.actions.extend}
          </button>
          {c.status === 'OPEN' && (
            <button type="button" class="button button-danger" onClick={() => start('close')} data-testid="close-sale">
              {t.actions.close}
            </button>
          )}
        </div>
      )}

      {open === 'close' && (
        <ConfirmDialog {...dialogProps} title={t.actions.closeTitle} confirmLabel={t.actions.closeConfirm} danger>
          <p>{t.actions.closeBody(count(c.minTotalQuantity ?? 0))}</p>
        </ConfirmDialog>
      )}
      {open === 'raise' && (
        <ConfirmDialog {...dialogProps} title={t.actions.raiseTitle} confirmLabel={t.actions.raiseConfirm}>
          <p id="cap-now">{t.actions.capNow(count(c.maxTotalQuantity ?? 0), count(p.taken))}</p>
          <div class="field">
            <label for="new-cap">{t.actions.newCap}</label>
            <input
              id="new-cap"
              type="text"
              inputMode="numeric"
              autoComplete="off"
              value={cap}
              onInput={(e) => setCap(e.currentTarget.value)}
              aria-describedby={error ? 'cap-now action-error' : 'cap-now'}
              aria-invalid={error ? 'true' : undefined}
              data-testid="new-cap"
            />
          </div>
        </ConfirmDialog>
      )}
      {open === 'extend' && (
        <ConfirmDialog {...dialogProps} title={t.actions.extendTitle} confirmLabel={t.actions.extendConfirm}>
          <p id="close-now">{t.actions.closeNow(dateTime(c.closesAt))}</p>
          <div class="field">
            <label for="new-close">{t.actions.newClose}</label>
            <input
              id="new-close"
              type="datetime-local"
              value={closesAt}
              onInput={(e) => setClosesAt(e.currentTarget.value)}
              aria-describedby={error ? 'close-now action-error' : 'close-now'}
              aria-invalid={error ? 'true' : undefined}
              data-testid="new-close"
            />
          </div>
        </ConfirmDialog>
      )}
    </Section>
  );
};
