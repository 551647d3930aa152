import type { ComponentChildren, TargetedEvent } from 'preact';
import { useRef, useState } from 'preact/hooks';
import { newIdempotencyKey, type Api, type NewCampaign } from '../api.ts';
import { fromLocalInput, minorDigits, parseMoney } from '../lib/format.ts';
import { campaignFieldOrder, focusTarget, tierFields, variantFields } from '../lib/campaign-fields.ts';
import { ApiError, issueText, placeErrors, withoutIds, type FieldIssue } from '../lib/problems.ts';
import { useI18n } from '../ui/i18n.tsx';
import { base, navigate } from '../ui/router.tsx';
import { useProblemText } from './common.tsx';

/** Every input is named by the API path of its value, so an error's `path` finds its field. */
type Scalar =
  | 'title'
  | 'factoryId'
  | 'backupFactoryId'
  | 'currency'
  | 'opensAt'
  | 'closesAt'
  | 'minTotalQuantity'
  | 'lotSize'
  | 'maxWaitHours'
  | 'maxTotalQuantity'
  | 'maxPerBuyer'
  | 'promisedShipDays'
  | 'maxDelayDays'
  | 'lateCompensation.percent'
  | 'lateCompensation.minAmount'
  | 'lateCompensation.maxAmount'
  | 'liveRoomIds'
  | 'switchWindowHours'
  | 'payment.mode'
  | 'payment.deposit'
  | 'payment.balanceWindowHours'
  | 'payment.depositDiscount'
  | 'commission.anchorPercent'
  | 'commission.affiliatePercent';

type VariantField = (typeof variantFields)[number];
type TierField = (typeof tierFields)[number];

/** One price tier (阶梯价) as typed: from how many units sold, the price a unit. */
interface TierDraft {
  readonly key: number;
  minUnits: string;
  unitPrice: string;
}

interface VariantDraft {
  readonly key: number;
  sku: string;
  name: string;
  unitPrice: string;
  minQuantity: string;
  priceTiers: TierDraft[];
}

type Errors = Readonly<Record<string, readonly string[]>>;

// The deposit terms are required only in a deposit sale, and their inputs show only then.
const required = new Set<string>(['title', 'factoryId', 'currency', 'closesAt', 'minTotalQuantity', 'lotSize', 'promisedShipDays', 'payment.mode', 'payment.deposit', 'payment.balanceWindowHours']);
const requiredInVariant = new Set<string>(['sku', 'name', 'unitPrice']);
/** A tier's cell: `priceTiers.0.unitPrice`, `variants.1.priceTiers.0.minUnits`; both are required in a row that exists. */
const tierCell = /^(?:variants\.(\d+)\.)?priceTiers\.(\d+)\.(minUnits|unitPrice)$/;
const currencies = ['CNY', 'HKD', 'TWD', 'USD', 'EUR', 'GBP', 'JPY', 'KRW', 'SGD', 'MYR', 'THB'];

const fieldId = (path: string) => `field-${path.replace(/\./g, '-')}`;
const errorId = (path: string) => `error-${path.replace(/\./g, '-')}`;
const hintId = (path: string) => `hint-${path.replace(/\./g, '-')}`;

const FieldError = (p: { path: string; messages: readonly string[] | undefined }) =>
  p.messages && p.messages.length > 0 ? (
    <p class="field-error" id={errorId(p.path)} data-testid={`error-${p.path}`}>
      {p.messages.join(' ')}
    </p>
  ) : null;

interface FieldProps {
  readonly path: string;
  readonly label: string;
  readonly hint?: string;
  readonly required?: boolean;
  readonly errors: readonly string[] | undefined;
  readonly children: (a: FieldAttrs) => ComponentChildren;
}

/** What ties an input to its label, hint and error. */
interface FieldAttrs {
  readonly id: string;
  readonly name: string;
  readonly 'aria-invalid'?: 'true';
  readonly 'aria-required'?: 'true';
  readonly 'aria-describedby'?: string;
  readonly 'data-testid': string;
}

interface InputKind {
  readonly inputMode?: 'numeric' | 'decimal';
  readonly maxLength?: number;
  readonly autoComplete?: string;
  readonly autoCapitalize?: 'off' | 'characters';
  readonly spellcheck?: boolean;
}

/** A label, the input, its hint and its error, tied together with for/id and aria-describedby. */
const Field = (p: FieldProps) => {
  const { t } = useI18n();
  const invalid = p.errors !== undefined && p.errors.length > 0;
  const describedBy = [p.hint && hintId(p.path), invalid && errorId(p.path)].filter(Boolean).join(' ');
  return (
    <div class={`field${invalid ? ' field-invalid' : ''}`}>
      <label for={fieldId(p.path)}>
        {p.label}
        {p.required ? (
          <span class="req" aria-hidden="true">
            {' '}
            *
          </span>
        ) : (
          <span class="opt"> ({t.form.optional})</span>
        )}
      </label>
      {p.children({
        id: fieldId(p.path),
        name: p.path,
        ...(invalid && { 'aria-invalid': 'true' as const }),
        ...(p.required && { 'aria-required': 'true' as const }),
        ...(describedBy && { 'aria-describedby': describedBy }),
        'data-testid': `field-${p.path}`,
      })}
      {p.hint && (
        <p class="hint" id={hintId(p.path)}>
          {p.hint}
        </p>
      )}
      <FieldError path={p.path} messages={p.errors} />
    </div>
  );
};

type Values = Record<Scalar, string>;

const emptyValues: Values = {
  title: '',
  factoryId: '',
  backupFactoryId: '',
  currency: 'CNY',
  opensAt: '',
  closesAt: '',
  minTotalQuantity: '',
  lotSize: '',
  maxWaitHours: '',
  maxTotalQuantity: '',
  maxPerBuyer: '',
  promisedShipDays: '',
  maxDelayDays: '',
  'lateCompensation.percent': '',
  'lateCompensation.minAmount': '',
  'lateCompensation.maxAmount': '',
  liveRoomIds: '',
  switchWindowHours: '',
  'payment.mode': 'full',
  'payment.deposit': '',
  'payment.balanceWindowHours': '',
  'payment.depositDiscount': '',
  'commission.anchorPercent': '',
  'commission.affiliatePercent': '',
};

/**
 * The create body from what was typed. Only what cannot be sent at all (text where a number or
 * an amount goes) is refused here; everything else, empty required fields included, goes to the
 * API, which judges and names each bad field.
 */
const toBody = (v: Values, variants: readonly VariantDraft[], campaignTiers: readonly TierDraft[], t: ReturnType<typeof useI18n>['t']) => {
  const local: FieldIssue[] = [];
  const body: Record<string, unknown> = {};
  const text = (k: Scalar) => v[k].trim();
  const num = (path: string, raw: string): number | undefined => {
    const s = raw.trim();
    if (s === '') return undefined;
    const n = Number(s);
    if (!Number.isFinite(n)) local.push({ path, message: t.form.notNumber });
    return Number.isFinite(n) ? n : undefined;
  };
  const money = (path: string, raw: string): number | undefined => {
    if (raw.trim() === '') return undefined;
    const m = parseMoney(raw, v.currency);
    if (m === undefined) local.push({ path, message: t.form.notAmount });
    return m;
  };
  const date = (path: string, raw: string): string | undefined => {
    if (raw === '') return undefined;
    const iso = fromLocalInput(raw);
    if (!iso) local.push({ path, message: t.form.notDate });
    return iso;
  };
  const put = (k: string, value: unknown) => {
    if (value !== undefined && value !== '') body[k] = value;
  };
  // Every row the anchor added is sent, an empty one too: the API names what it lacks.
  const tiers = (group: string, rows: readonly TierDraft[]) =>
    rows.map((r, j) => {
      const minUnits = num(`${group}.${j}.minUnits`, r.minUnits);
      const unitPrice = money(`${group}.${j}.unitPrice`, r.unitPrice);
      return { ...(minUnits !== undefined && { minUnits }), ...(unitPrice !== undefined && { unitPrice }) };
    });

  put('title', text('title'));
  put('factoryId', text('factoryId'));
  put('backupFactoryId', text('backupFactoryId'));
  put('currency', text('currency'));
  body.variants = variants.map((d, i) => {
    const out: Record<string, unknown> = {};
    if (d.sku.trim()) out.sku = d.sku.trim();
    if (d.name.trim()) out.name = d.name.trim();
    const price = money(`variants.${i}.unitPrice`, d.unitPrice);
    if (price !== undefined) out.unitPrice = price;
    const min = num(`variants.${i}.minQuantity`, d.minQuantity);
    if (min !== undefined) out.minQuantity = min;
    if (d.priceTiers.length > 0) out.priceTiers = tiers(`variants.${i}.priceTiers`, d.priceTiers);
    return out;
  });
  if (campaignTiers.length > 0) body.priceTiers = tiers('priceTiers', campaignTiers);
  // A full-payment sale sends no payment terms at all: deposit terms typed before switching back are kept on screen, not sent.
  if (v['payment.mode'] === 'deposit') {
    body.payment = {
      mode: 'deposit',
      deposit: money('payment.deposit', v['payment.deposit']),
      balanceWindowHours: num('payment.balanceWindowHours', v['payment.balanceWindowHours']),
      depositDiscount: money('payment.depositDiscount', v['payment.depositDiscount']),
    };
  }
  put('opensAt', date('opensAt', v.opensAt));
  put('closesAt', date('closesAt', v.closesAt));
  for (const k of ['minTotalQuantity', 'lotSize', 'maxWaitHours', 'maxTotalQuantity', 'maxPerBuyer', 'promisedShipDays', 'maxDelayDays', 'switchWindowHours'] as const) {
    put(k, num(k, v[k]));
  }
  const percent = num('lateCompensation.percent', v['lateCompensation.percent']);
  const minAmount = money('lateCompensation.minAmount', v['lateCompensation.minAmount']);
  const maxAmount = money('lateCompensation.maxAmount', v['lateCompensation.maxAmount']);
  if (percent !== undefined || minAmount !== undefined || maxAmount !== undefined) {
    body.lateCompensation = { percent, minAmount, maxAmount };
  }
  const rooms = v.liveRoomIds
    .split(/[\s,，、]+/)
    .map((s) => s.trim())
    .filter(Boolean);
  if (rooms.length > 0) body.liveRoomIds = rooms;
  const anchorPercent = num('commission.anchorPercent', v['commission.anchorPercent']);
  const affiliatePercent = num('commission.affiliatePercent', v['commission.affiliatePercent']);
  if (anchorPercent !== undefined || affiliatePercent !== undefined) body.commission = { anchorPercent, affiliatePercent };
  return { body: body as unknown as NewCampaign, local };
};

let nextKey = 1;
const newVariant = (): VariantDraft => ({ key: nextKey++, sku: '', name: '', unitPrice: '', minQuantity: '', priceTiers: [] });
const newTier = (): TierDraft => ({ key: nextKey++, minUnits: '', unitPrice: '' });

/**
 * A list of price tiers, a row each with add and remove: a variant's own (`variants.0.priceTiers`)
 * or the whole campaign's (`priceTiers`). The list's own error (tiers the API refuses as a whole)
 * shows above the rows; each cell's beside it.
 */
const TierRows = (p: {
  path: string;
  /** A card of its own (the campaign's tiers), or a part of a variant's fieldset. */
  card?: boolean;
  legend: string;
  hint: string;
  rows: readonly TierDraft[];
  errors: Errors;
  update: (f: (rows: readonly TierDraft[]) => TierDraft[]) => void;
  /** Rows below the removed one change paths: their errors no longer name them. */
  onRemove: () => void;
}) => {
  const { t } = useI18n();
  const invalid = (p.errors[p.path]?.length ?? 0) > 0;
  const setCell = (j: number, f: TierField) => (e: TargetedEvent<HTMLInputElement>) => {
    const value = e.currentTarget.value;
    p.update((rows) => rows.map((r, k) => (k === j ? { ...r, [f]: value } : r)));
  };
  return (
    <fieldset class={p.card ? 'card' : 'tiers'} data-testid={`tiers-${p.path}`} aria-describedby={[hintId(p.path), invalid && errorId(p.path)].filter(Boolean).join(' ')}>
      <legend>
        {p.legend} <span class="opt">({t.form.optional})</span>
      </legend>
      <p class="hint" id={hintId(p.path)}>
        {p.hint}
      </p>
      <FieldError path={p.path} messages={p.errors[p.path]} />
      {p.rows.map((r, j) => (
        <fieldset class="tier-row" key={r.key} data-testid="tier-row">
          <legend>{t.form.tierN(j + 1)}</legend>
          <div class="grid-2">
            <Field path={`${p.path}.${j}.minUnits`} label={t.form.fields.tierMinUnits} required errors={p.errors[`${p.path}.${j}.minUnits`]}>
              {(a) => <input type="text" {...a} inputMode="numeric" autoComplete="off" value={r.minUnits} onInput={setCell(j, 'minUnits')} />}
            </Field>
            <Field path={`${p.path}.${j}.unitPrice`} label={t.form.fields.tierUnitPrice} required errors={p.errors[`${p.path}.${j}.unitPrice`]}>
              {(a) => <input type="text" {...a} inputMode="decimal" autoComplete="off" value={r.unitPrice} onInput={setCell(j, 'unitPrice')} />}
            </Field>
          </div>
          <button
            type="button"
            class="button button-quiet"
            data-testid={`remove-tier-${p.path}.${j}`}
            onClick={() => {
              p.update((rows) => rows.filter((_, k) => k !== j));
              p.onRemove();
            }}
          >
            {t.form.removeTier(j + 1)}
          </button>
        </fieldset>
      ))}
      <button type="button" class="button" data-testid={`add-tier-${p.path}`} onClick={() => p.update((rows) => [...rows, newTier()])}>
        {t.form.addTier}
      </button>
    </fieldset>
  );
};

export const CreateCampaignForm = (p: { api: Api }) => {
  const { t } = useI18n();
  const problemText = useProblemText();
  const [values, setValues] = useState<Values>(emptyValues);
  const [variants, setVariants] = useState<VariantDraft[]>(() => [newVariant()]);
  const [campaignTiers, setCampaignTiers] = useState<TierDraft[]>([]);
  const [errors, setErrors] = useState<Errors>({});
  const [general, setGeneral] = useState<readonly string[]>([]);
  const [submitting, setSubmitting] = useState(false);
  const formRef = useRef<HTMLFormElement>(null);
  const summaryRef = useRef<HTMLDivElement>(null);
  // One key per body: a resubmission of the same body (an answer lost on mobile data) is the same
  // request and creates one campaign; a changed body is a new request with a new key.
  const attempt = useRef<{ key: string; body: string } | undefined>(undefined);

  const set = (k: Scalar) => (e: TargetedEvent<HTMLInputElement | HTMLSelectElement | HTMLTextAreaElement>) =>
    setValues((v) => ({ ...v, [k]: e.currentTarget.value }));
  const setVariant = (i: number, f: VariantField) => (e: TargetedEvent<HTMLInputElement>) => {
    const value = e.currentTarget.value;
    setVariants((vs) => vs.map((d, j) => (j === i ? { ...d, [f]: value } : d)));
  };
  const setVariantTiers = (i: number) => (f: (rows: readonly TierDraft[]) => TierDraft[]) =>
    setVariants((vs) => vs.map((d, j) => (j === i ? { ...d, priceTiers: f(d.priceTiers) } : d)));
  const deposit = values['payment.mode'] === 'deposit';

  /** What is typed in the input at `path`; undefined for a path that names no input. */
  const typed = (path: string): string | undefined => {
    const tier = tierCell.exec(path);
    if (tier) {
      const rows = tier[1] === undefined ? campaignTiers : variants[Number(tier[1])]?.priceTiers;
      return rows?.[Number(tier[2])]?.[tier[3] as TierField];
    }
    const m = /^variants\.(\d+)\.(\w+)$/.exec(path);
    if (m) return (variantFields as readonly string[]).includes(m[2] ?? '') ? variants[Number(m[1])]?.[m[2] as VariantField] : undefined;
    return path in values ? values[path as Scalar] : undefined;
  };
  const isEmpty = (path: string): boolean => typed(path)?.trim() === '';
  const isRequired = (path: string): boolean => {
    if (tierCell.test(path)) return true;
    const m = /^variants\.\d+\.(\w+)$/.exec(path);
    return m ? requiredInVariant.has(m[1] ?? '') : required.has(path);
  };

  const show = (issues: readonly FieldIssue[], extraGeneral: readonly string[] = []) => {
    const shape = { variantTiers: variants.map((d) => d.priceTiers.length), campaignTiers: campaignTiers.length, deposit };
    const placed = placeErrors(issues, campaignFieldOrder(shape));
    // The API is the judge; for a required field left empty, its words are replaced by plainer ones in the anchor's language.
    const byField = Object.fromEntries(
      Object.entries(placed.byField).map(([path, msgs]) => [path, isRequired(path) && isEmpty(path) ? [t.form.requiredMessage] : msgs]),
    );
    setErrors(byField);
    setGeneral([...extraGeneral, ...placed.general]);
    requestAnimationFrame(() => {
      // A group with no input to focus (a list of tiers with no row left): the summary says what is wrong.
      const target = (placed.first !== undefined && document.getElementById(fieldId(focusTarget(placed.first)))) || summaryRef.current;
      target?.focus();
    });
  };

  const submit = async (e: Event) => {
    e.preventDefault();
    if (submitting) return;
    const { body, local } = toBody(values, variants, campaignTiers, t);
    if (local.length > 0) {
      show(local);
      return;
    }
    const json = JSON.stringify(body);
    if (attempt.current?.body !== json) attempt.current = { key: newIdempotencyKey(), body: json };
    setSubmitting(true);
    try {
      const created = await p.api.createCampaign(body, attempt.current.key);
      navigate(`${base}campaigns/${encodeURIComponent(created.campaignId)}`);
    } catch (err) {
      if (err instanceof ApiError && err.problem.errors.length > 0) show(err.problem.errors.map((e) => ({ ...e, message: issueText(e, t.issues) })));
      else show([], [problemText(err)]);
    } finally {
      setSubmitting(false);
    }
  };

  const errorCount = Object.keys(errors).length;
  const scalar = (k: Scalar, label: string, o: { hint?: string; input?: InputKind; dateTime?: boolean } = {}) => (
    <Field path={k} label={label} hint={o.hint} required={required.has(k)} errors={errors[k]}>
      {(a) =>
        o.dateTime ? (
          <input type="datetime-local" {...a} value={values[k]} onInput={set(k)} />
        ) : (
          <input type="text" {...a} {...o.input} value={values[k]} onInput={set(k)} />
        )
      }
    </Field>
  );
  const whole: InputKind = { inputMode: 'numeric', autoComplete: 'off' };
  const decimal: InputKind = { inputMode: 'decimal', autoComplete: 'off' };
  const amountHint = minorDigits(values.currency) > 0 ? t.form.hints.unitPrice : undefined;

  return (
    <div class="page">
      <h1 id="page-title" tabIndex={-1}>
        {t.form.title}
      </h1>
      <p class="lead">{t.form.intro}</p>
      <form ref={formRef} onSubmit={submit} noValidate data-testid="create-form" aria-describedby={general.length || errorCount ? 'form-summary' : undefined}>
        <div ref={summaryRef} tabIndex={-1} id="form-summary" class={general.length || errorCount ? 'notice notice-error' : 'visually-hidden'} role="alert" data-testid="form-errors">
          {(general.length > 0 || errorCount > 0) && (
            <>
              <p>
                <strong>{t.form.notSaved}</strong> {errorCount > 0 && t.form.fixBelow(errorCount)}
              </p>
              {general.length > 0 && (
                <ul>
                  {general.filter(Boolean).map((m, i) => (
                    <li key={i}>{m}</li>
                  ))}
                </ul>
              )}
            </>
          )}
        </div>

        <fieldset class="card">
          <legend>{t.form.product}</legend>
          {scalar('title', t.form.fields.title, { input: { maxLength: 200 } })}
          {scalar('factoryId', t.form.fields.factoryId, { hint: t.form.hints.factoryId, input: { autoCapitalize: 'off', spellcheck: false } })}
          {scalar('backupFactoryId', t.form.fields.backupFactoryId, { hint: t.form.hints.backupFactoryId, input: { autoCapitalize: 'off', spellcheck: false } })}
          <Field path="currency" label={t.form.fields.currency} required errors={errors.currency}>
            {(a) => (
              <select {...a} value={values.currency} onChange={set('currency')}>
                {currencies.map((c) => (
                  <option key={c} value={c}>
                    {c}
                  </option>
                ))}
              </select>
            )}
          </Field>
        </fieldset>

        <fieldset class="card" aria-describedby={errors.variants ? errorId('variants') : undefined}>
          <legend>{t.form.variants}</legend>
          <FieldError path="variants" messages={errors.variants} />
          {variants.map((d, i) => (
            <fieldset class="variant" key={d.key} data-testid="variant-fieldset">
              <legend>{t.form.variantN(i + 1)}</legend>
              <FieldError path={`variants.${i}`} messages={errors[`variants.${i}`]} />
              <div class="grid-2">
                <Field path={`variants.${i}.sku`} label={t.form.fields.sku} required errors={errors[`variants.${i}.sku`]}>
                  {(a) => <input {...a} type="text" autoCapitalize="characters" spellcheck={false} value={d.sku} onInput={setVariant(i, 'sku')} />}
                </Field>
                <Field path={`variants.${i}.name`} label={t.form.fields.name} required errors={errors[`variants.${i}.name`]}>
                  {(a) => <input {...a} type="text" value={d.name} onInput={setVariant(i, 'name')} />}
                </Field>
                <Field path={`variants.${i}.unitPrice`} label={t.form.fields.unitPrice} hint={amountHint} required errors={errors[`variants.${i}.unitPrice`]}>
                  {(a) => <input type="text" {...a} {...decimal} value={d.unitPrice} onInput={setVariant(i, 'unitPrice')} />}
                </Field>
                <Field path={`variants.${i}.minQuantity`} label={t.form.fields.minQuantity} errors={errors[`variants.${i}.minQuantity`]}>
                  {(a) => <input type="text" {...a} {...whole} value={d.minQuantity} onInput={setVariant(i, 'minQuantity')} />}
                </Field>
              </div>
              <TierRows
                path={`variants.${i}.priceTiers`}
                legend={t.form.variantTiers}
                hint={t.form.hints.variantTiers}
                rows={d.priceTiers}
                errors={errors}
                update={setVariantTiers(i)}
                onRemove={() => setErrors({})}
              />
              {variants.length > 1 && (
                <button
                  type="button"
                  class="button button-quiet"
                  data-testid="remove-variant"
                  onClick={() => {
                    setVariants((vs) => vs.filter((_, j) => j !== i));
                    setErrors({});
                  }}
                >
                  {t.form.removeVariant(i + 1)}
                </button>
              )}
            </fieldset>
          ))}
          <button type="button" class="button" data-testid="add-variant" onClick={() => setVariants((vs) => [...vs, newVariant()])}>
            {t.form.addVariant}
          </button>
        </fieldset>

        <TierRows
          card
          path="priceTiers"
          legend={t.form.campaignTiers}
          hint={t.form.hints.campaignTiers}
          rows={campaignTiers}
          errors={errors}
          update={(f) => setCampaignTiers((rows) => f(rows))}
          onRemove={() => setErrors({})}
        />

        <fieldset class="card" aria-describedby={errors.payment ? errorId('payment') : undefined}>
          <legend>{t.form.payment}</legend>
          <FieldError path="payment" messages={errors.payment} />
          <Field path="payment.mode" label={t.form.fields.paymentMode} hint={t.form.hints.paymentMode} required errors={errors['payment.mode']}>
            {(a) => (
              <select
                {...a}
                value={values['payment.mode']}
                onChange={(e) => {
                  set('payment.mode')(e);
                  // The deposit inputs come or go: what was said of them no longer applies.
                  setErrors((es) => Object.fromEntries(Object.entries(es).filter(([path]) => path !== 'payment' && !path.startsWith('payment.'))));
                }}
              >
                <option value="full">{t.form.paymentModes.full}</option>
                <option value="deposit">{t.form.paymentModes.deposit}</option>
              </select>
            )}
          </Field>
          {deposit && (
            <div class="grid-3">
              {scalar('payment.deposit', t.form.fields.deposit, { hint: t.form.hints.deposit, input: decimal })}
              {scalar('payment.balanceWindowHours', t.form.fields.balanceWindowHours, { hint: t.form.hints.balanceWindowHours, input: decimal })}
              {scalar('payment.depositDiscount', t.form.fields.depositDiscount, { hint: t.form.hints.depositDiscount, input: decimal })}
            </div>
          )}
        </fieldset>

        <fieldset class="card">
          <legend>{t.form.schedule}</legend>
          <div class="grid-2">
            {scalar('opensAt', t.form.fields.opensAt, { hint: t.form.hints.opensAt, dateTime: true })}
            {scalar('closesAt', t.form.fields.closesAt, { dateTime: true })}
          </div>
        </fieldset>

        <fieldset class="card">
          <legend>{t.form.quantities}</legend>
          <div class="grid-2">
            {scalar('minTotalQuantity', t.form.fields.minTotalQuantity, { hint: t.form.hints.minTotalQuantity, input: whole })}
            {scalar('lotSize', t.form.fields.lotSize, { input: whole })}
            {scalar('maxTotalQuantity', t.form.fields.maxTotalQuantity, { hint: t.form.hints.maxTotalQuantity, input: whole })}
            {scalar('maxPerBuyer', t.form.fields.maxPerBuyer, { input: whole })}
            {scalar('maxWaitHours', t.form.fields.maxWaitHours, { input: decimal })}
          </div>
        </fieldset>

        <fieldset class="card" aria-describedby={errors.lateCompensation ? errorId('lateCompensation') : undefined}>
          <legend>{t.form.promises}</legend>
          <div class="grid-2">
            {scalar('promisedShipDays', t.form.fields.promisedShipDays, { input: whole })}
            {scalar('maxDelayDays', t.form.fields.maxDelayDays, { hint: t.form.hints.maxDelayDays, input: whole })}
          </div>
          <p class="hint">{t.form.hints.lateCompensation}</p>
          <FieldError path="lateCompensation" messages={errors.lateCompensation} />
          <div class="grid-3">
            {scalar('lateCompensation.percent', t.form.fields.compensationPercent, { input: decimal })}
            {scalar('lateCompensation.minAmount', t.form.fields.compensationMin, { input: decimal })}
            {scalar('lateCompensation.maxAmount', t.form.fields.compensationMax, { input: decimal })}
          </div>
          {scalar('switchWindowHours', t.form.fields.switchWindowHours, { hint: t.form.hints.switchWindowHours, input: decimal })}
        </fieldset>

        <fieldset class="card">
          <legend>{t.form.liveRooms}</legend>
          <Field path="liveRoomIds" label={t.form.fields.liveRoomIds} hint={t.form.hints.liveRoomIds} errors={errors.liveRoomIds}>
            {(a) => (
              <textarea
                {...a}
                rows={3}
                autoCapitalize="off"
                spellcheck={false}
                value={values.liveRoomIds}
                onInput={set('liveRoomIds')}
              />
            )}
          </Field>
        </fieldset>

        <fieldset class="card" aria-describedby={[hintId('commission'), errors.commission && errorId('commission')].filter(Boolean).join(' ')}>
          <legend>{t.form.commission}</legend>
          <p class="hint" id={hintId('commission')}>
            {t.form.hints.commission}
          </p>
          <FieldError path="commission" messages={errors.commission} />
          <div class="grid-2">
            {scalar('commission.anchorPercent', t.form.fields.anchorPercent, { input: decimal })}
            {scalar('commission.affiliatePercent', t.form.fields.affiliatePercent, { input: decimal })}
          </div>
        </fieldset>

        <div class="form-actions">
          <button type="submit" class="button button-primary" disabled={submitting} aria-busy={submitting} data-testid="create-submit">
            {submitting ? t.form.submitting : t.form.submit}
          </button>
        </div>
      </form>
    </div>
  );
};
