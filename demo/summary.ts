import type { Check } from './checks.ts';
import { countBy } from './checks.ts';
import type { DepositRun, FlashSaleRun } from './record.ts';
import { limitTitle, money, refundedUnits, tierPriceReached } from './views.ts';

/**
 * The table the demo ends with: what the sale did, in the terms an anchor or a
 * factory would ask about, then each check with ✓ or ✗. Plain text, two
 * columns, no colour: it reads the same in a terminal and in a CI log.
 */
const fmt = (n: number) => n.toLocaleString('en-US');
const pct = (r: number | undefined) => (r === undefined ? 'n/a' : `${(r * 100).toFixed(1)}%`);
const secs = (ms: number) => `${(ms / 1000).toFixed(1)} s`;
const days = (ms: number) => `${(ms / 86_400_000).toFixed(1)} days`;
const hours = (h: number) => (h >= 1 ? `${h} h` : `${Math.round(h * 60)} min`);
const sum = <T>(xs: readonly T[], f: (x: T) => number) => xs.reduce((n, x) => n + f(x), 0);

export interface SummaryExtras {
  /** Lines the in-process runtime's notification channel printed (and the demo kept off the screen). */
  readonly printedNotifications?: number;
  readonly runtime?: string;
}

export const renderSummary = (run: FlashSaleRun, checks: readonly Check[], extras: SummaryExtras = {}): string => {
  const rows: [string, string][] = [];
  const row = (k: string, v: string) => rows.push([k, v]);
  const capProblem = 'urn:c2m:problem:campaign-cap-reached';

  const accepted = run.placements.filter((p) => p.answers.some((a) => a.status === 202));
  const ids = new Map<string, number>();
  for (const p of accepted) for (const a of p.answers) if (a.status === 202 && a.preorderId) ids.set(a.preorderId, p.quantity);
  const soldOut = run.placements.filter((p) => p.answers.some((a) => a.problem === capProblem));
  const soldOutThenIn = soldOut.filter((p) => p.answers.some((a) => a.status === 202));
  // A phone's own retry (a resend after a lost answer, a double tap) is its first two answers; a sold-out buyer's tap again comes after.
  const habitual = run.placements.filter((p) => p.retry !== 'none' && p.answers.length >= 2);
  const sameAnswer = habitual.filter((p) => p.answers[0]!.status === p.answers[1]!.status && p.answers[0]!.preorderId === p.answers[1]!.preorderId);
  const tappedAgain = run.placements.filter((p) => p.answers.length > (p.retry === 'none' ? 1 : 2));
  const cancels = (when: string, status: number) => run.cancels.filter((c) => c.when === when && c.status === status).length;
  const final = run.final;
  const ps = final?.preorders ?? [];

  row('runtime', extras.runtime ?? '');
  row('campaign', `${run.campaignId} · cap ${fmt(run.settings.cap)} · lot ${fmt(run.settings.lotSize)} · min ${fmt(run.settings.minTotalQuantity)} · seed ${run.seed}`);
  const st = run.settings;
  const lc = st.lateCompensation;
  row(
    'promises',
    `${st.maxPerBuyer} per buyer · ` +
      (st.limitedSku !== undefined && st.limitedMinQuantity !== undefined
        ? `${st.limitedSku} made only from ${fmt(st.limitedMinQuantity)} (switch window ${hours(st.switchWindowHours)}) · `
        : '') +
      `ships in ${st.promisedShipDays} days, refunded ${st.maxDelayDays} days later · late: ${lc.percent} % within ${money(lc.minAmount)}–${money(lc.maxAmount)}`,
  );
  row('buyers', `${fmt(run.buyers)} in the burst · ${fmt(run.placements.length)} orders placed (Idempotency-Keys)`);
  row('orders accepted', `${fmt(ids.size)} pre-orders · ${fmt(sum([...ids.values()], (q) => q))} units`);
  row(
    'refused (cap)',
    `${fmt(soldOut.length - soldOutThenIn.length)} orders sold out` +
      (run.soldOutAfterMs !== undefined ? ` · first sold-out ${secs(run.soldOutAfterMs)} into the burst` : '') +
      (tappedAgain.length ? ` · ${fmt(tappedAgain.length)} tapped again, ${fmt(soldOutThenIn.length)} got in${soldOutThenIn.length ? ' (cancelled units came back)' : ''}` : ''),
  );
  const limited = run.placements.filter((p) => p.answers.some((a) => a.title === limitTitle) && !p.answers.some((a) => a.status === 202));
  row(
    'refused (limit)',
    `${fmt(limited.length)} orders past ${st.maxPerBuyer} per buyer (409 "${limitTitle}") from ${fmt(new Set(limited.map((p) => p.buyerId)).size)} buyers`,
  );
  row(
    'retries',
    `${fmt(habitual.filter((p) => p.retry === 'resend').length)} resent after a lost answer · ${fmt(habitual.filter((p) => p.retry === 'double-tap').length)} double taps · ` +
      `${fmt(sameAnswer.length)}/${fmt(habitual.length)} answered idempotently (same answer, same pre-order)`,
  );
  row('throttled', `${fmt(run.http.throttled)} answers 429/503 waited out (Retry-After) · ${fmt(run.http.resent)} resent after no answer`);
  row(
    'cancels',
    `${fmt(cancels('before-batching', 200))} before batching · ${fmt(cancels('before-batching', 409))} too late (already batched) · ${fmt(cancels('after-delay', 200))} after the delay notice`,
  );
  row('signals accepted', `${fmt(run.signals.accepted)} in ${fmt(run.signals.posts)} posts (${fmt(run.signals.reposts)} re-sent, counted once)`);
  if (final) {
    row('batches', `${final.batches.length}: ${countBy(final.batches, (b) => b.status)} · cut by ${countBy(final.batches, (b) => b.reason)}`);
    const ordered = sum(ps, (p) => p.quantity);
    row('units ordered', fmt(ordered));
    row('units shipped', `${fmt(sum(ps, (p) => p.shippedQuantity))} in ${run.shipments.length} lots (${run.factory.lotsResentSame}/${run.factory.lotsResent} re-sent lot answered with the same shipment)`);
    row('units delivered', fmt(sum(ps, (p) => p.deliveredQuantity)));
    const refunded = sum(ps, refundedUnits);
    const byId = new Map(ps.map((p) => [p.preorderId, p]));
    const unswitched = run.switches.filter((x) => x.status !== 200).map((x) => byId.get(x.preorderId)).filter((p) => p !== undefined);
    row(
      'units refunded',
      `${fmt(refunded)} (${fmt(run.factory.shortUnits)} from the batch closed short · ${fmt(sum(unswitched, refundedUnits))} of ${st.limitedSku} not switched)`,
    );
    row('production', `${fmt(sum(final.batches, (b) => b.qcPassed))} passed QC · ${fmt(run.factory.qcFailed)} failed and remade · ${fmt(run.factory.progressReports)} progress reports`);
    row(
      'notifications',
      `${fmt(sum(ps, (p) => p.notifications.length))} sent to buyers` +
        (extras.printedNotifications !== undefined ? ` · ${fmt(extras.printedNotifications)} lines printed by the local channel` : ''),
    );
    row('pre-orders', countBy(ps, (p) => p.status));

    // The variant below its own minimum: who was told, who switched where, who was refunded.
    const limitedDemand = final.demand.variants.find((v) => v.sku === st.limitedSku);
    const switched = run.switches.filter((x) => x.status === 200);
    const where = countBy(switched, (x) => x.to ?? '?');
    row(
      'below its minimum',
      st.limitedSku === undefined || st.limitedMinQuantity === undefined
        ? 'no variant with a minimum of its own offered'
        : run.switches.length === 0
          ? `${st.limitedSku}: no buyer of it stayed to the close`
          : `${st.limitedSku} ${fmt(sum(run.switches, (x) => byId.get(x.preorderId)?.quantity ?? 0))} of ${fmt(st.limitedMinQuantity)} units, not made · ` +
              `${fmt(run.switches.filter((x) => x.told).length)} buyers told · ${fmt(switched.length)} switched${switched.length ? ` (${where})` : ''} · ` +
              `${fmt(unswitched.filter((p) => p.status === 'REFUNDED').length)} refunded at the window's end, ${money(sum(unswitched, (p) => p.refundedAmount))}` +
              (limitedDemand ? ` · ${limitedDemand.batched} of it batched` : '') +
              (switched.length === 0 ? '' : run.switchBatchIds.length > 0 ? ` · switchers in ${run.switchBatchIds.length === 1 ? 'a batch' : `${run.switchBatchIds.length} batches`} of their own` : ` · switchers rode in the close's last batch`),
    );
    const clock = run.clock.movable
      ? run.clock.moves.length === 0
        ? 'in-process runtime, not moved'
        : `moved forward ${run.clock.moves.map((m) => `+${days(m.byMs)} ${m.why}`).join(', then ')}; the sweep fired after each`
      : `not moved (external runtime: its clock cannot be moved; the switch window was ${hours(st.switchWindowHours)} of real time, waited out)`;
    row('clock', clock);
    row(
      'late lot',
      run.lateLot.shipped
        ? `${run.lateLot.batchId} (the delayed batch) shipped in ${run.lateLot.lots} lots ${days(run.lateLot.afterPromiseMs ?? 0)} after the original promise`
        : `skipped (${run.lateLot.skipped ?? 'not reached'})`,
    );
    const compensated = ps.filter((p) => p.compensatedAmount > 0);
    row(
      'compensation',
      `${fmt(compensated.length)} pre-orders compensated · ${money(sum(compensated, (p) => p.compensatedAmount), final.campaign.currency)} owed (the platform pays)` +
        (compensated.length ? ` · from ${money(Math.min(...compensated.map((p) => p.compensatedAmount)))} to ${money(Math.max(...compensated.map((p) => p.compensatedAmount)))}` : ''),
    );
    // Money in and out: what the buyers paid, what c2m decided to pay back, and what the platform confirmed it paid.
    const refunds = ps.flatMap((p) => p.refunds);
    const paidIn = sum(ps, (p) => p.paidAmount);
    const paidBack = sum(ps, (p) => p.refundedAmount);
    row(
      'money',
      `${money(paidIn, final.campaign.currency)} paid in by ${fmt(new Set(ps.map((p) => p.preorderId)).size)} pre-orders · ${money(paidBack, final.campaign.currency)} paid back in ${fmt(refunds.length)} refunds ` +
        `(${countBy(refunds, (r) => r.reason)}) · ${money(paidIn - paidBack, final.campaign.currency)} kept`,
    );
    row(
      'refunds paid',
      run.payments.skipped
        ? `skipped (${run.payments.skipped})`
        : `${fmt(refunds.filter((r) => r.status === 'CONFIRMED').length)} of ${fmt(refunds.length)} confirmed by the platform · ${fmt(run.payments.repeated)} confirmations sent twice, answered the same`,
    );
    const t = final.trust;
    row(
      'trust',
      `on time ${pct(t.onTimeShipRate)} · QC pass ${pct(t.qcPassRate)} · refunds ${pct(t.refundRate)} · median ${t.medianDaysToDelivery ?? 'n/a'} days to delivery`,
    );
    row(
      'trust (promises)',
      `compensated ${fmt(t.compensation.count)}, ${t.compensation.amounts.map((a) => money(a.amount, a.currency)).join(' + ') || money(0, final.campaign.currency)} · ` +
        `${fmt(t.unitsRefundedAtCeiling)} units refunded at the ceiling · ` +
        (t.refundLatency
          ? `refund decision → event p50 ≤ ${t.refundLatency.p50Seconds} s, p95 ≤ ${t.refundLatency.p95Seconds} s (${fmt(t.refundLatency.count)} refunds)`
          : 'no refund latency measured') +
        (t.refundConfirmation ? ` · refund decision → paid p50 ≤ ${t.refundConfirmation.p50Seconds} s, p95 ≤ ${t.refundConfirmation.p95Seconds} s` : ''),
    );
  }
  const dep = run.deposit;
  if (dep?.final) row('deposit sale', depositLine(dep));
  else if (run.depositSkipped) row('deposit sale', `skipped (${run.depositSkipped})`);
  row(
    'wall time',
    `${run.phases.map((p) => `${p.name} ${secs(p.ms)}${p.beside ? ' (beside)' : ''}`).join(' · ')} · total ${secs(sum(run.phases.filter((p) => !p.beside), (p) => p.ms))}`,
  );

  return [...renderTable('Flash sale summary', rows), ...(dep?.final ? renderDepositMoney(dep) : []), ...renderChecks(checks)].join('\n');
};

/** The deposit sale in one line: its terms, the tier reached, who paid, who walked away, what was made. */
const depositLine = (dep: DepositRun): string => {
  const { settings: st, final } = dep;
  const ps = final!.preorders;
  const byId = new Map(ps.map((p) => [p.preorderId, p]));
  const tiers = st.variants.map((v) => {
    const d = dep.demandAtClose?.variants.find((x) => x.sku === v.sku);
    const sold = d ? d.ordered - d.cancelled : 0;
    const price = tierPriceReached(v, sold);
    return `${v.sku} ${sold} sold at ${money(price)}${price < v.unitPrice ? ` (tier; list ${money(v.unitPrice)})` : ''}`;
  });
  const of = (plan: string) => dep.buyers.filter((b) => b.plan === plan);
  const units = (bs: readonly DepositRun['buyers'][number][]) => sum(bs, (b) => b.quantity);
  const kept = (bs: readonly DepositRun['buyers'][number][]) => money(sum(bs, (b) => byId.get(b.preorderId ?? '')?.forfeitedAmount ?? 0));
  return (
    `${dep.buyers.length} buyers · deposit ${money(st.deposit)} a unit, ${money(st.depositDiscount)} off the balance · ${tiers.join(' · ')} · ` +
    `${of('pay').length} paid the balance (${units(of('pay'))} units, in ${final!.batches.length} ${final!.batches.length === 1 ? 'batch' : 'batches'}) · ` +
    `${of('leave').length} left it unpaid (${kept(of('leave'))} kept at the deadline) · ${of('cancel').length} cancelled before the close (${kept(of('cancel'))} kept)`
  );
};

/**
 * Money in and out of the deposit sale, per buyer: the deposit and the balance the buyer paid, what came back, the
 * deposit kept, and what the order finally cost; then the sale's totals, which must balance (paid in − refunded =
 * the delivered units at their final price + the deposits kept). Buyers are named by number, not by id.
 */
const renderDepositMoney = (dep: DepositRun): string[] => {
  const ps = new Map(dep.final!.preorders.map((p) => [p.preorderId, p]));
  const currency = dep.final!.campaign.currency;
  const m = (n: number) => money(n, currency);
  const header = ['buyer', 'order', 'ended', 'deposit paid', 'balance paid', 'refunded', 'kept (forfeited)', 'final cost'];
  const lines: string[][] = [];
  const totals = { deposit: 0, balance: 0, refunded: 0, kept: 0, cost: 0, goods: 0 };
  for (const b of dep.buyers) {
    const p = ps.get(b.preorderId ?? '');
    if (!p) {
      lines.push([`buyer ${b.index}`, `${b.sku} × ${b.quantity}`, 'not read back', '', '', '', '', '']);
      continue;
    }
    const deposit = p.depositAmount ?? 0;
    const balance = p.paidAmount - deposit;
    const kept = p.forfeitedAmount ?? 0;
    const cost = p.paidAmount - p.refundedAmount;
    totals.deposit += deposit;
    totals.balance += balance;
    totals.refunded += p.refundedAmount;
    totals.kept += kept;
    totals.cost += cost;
    totals.goods += p.status === 'REFUNDED' || p.status === 'CANCELLED' ? 0 : p.deliveredQuantity * p.finalUnitPrice;
    const ended = b.plan === 'cancel' && p.status === 'CANCELLED' ? 'CANCELLED (by the buyer)' : p.status === 'CANCELLED' ? 'CANCELLED (unpaid)' : p.status;
    lines.push([`buyer ${b.index}`, `${b.sku} × ${b.quantity}`, ended, m(deposit), m(balance), m(p.refundedAmount), m(kept), m(cost)]);
  }
  lines.push(['all', `${fmt(sum(dep.buyers, (b) => b.quantity))} units`, '', m(totals.deposit), m(totals.balance), m(totals.refunded), m(totals.kept), m(totals.cost)]);
  const widths = header.map((h, i) => Math.max(h.length, ...lines.map((l) => l[i]!.length)));
  // Text left, money right, as a ledger reads.
  const cell = (text: string, i: number) => (i < 3 ? text.padEnd(widths[i]!) : text.padStart(widths[i]!));
  const render = (l: readonly string[]) => `  ${l.map(cell).join('  ').trimEnd()}`;
  const paidIn = totals.deposit + totals.balance;
  const holds = paidIn - totals.refunded === totals.goods + totals.kept;
  return [
    '',
    'Money in and out, deposit campaign',
    '─'.repeat(60),
    render(header),
    ...lines.slice(0, -1).map(render),
    `  ${'─'.repeat(widths.reduce((n, x) => n + x + 2, -2))}`,
    render(lines[lines.length - 1]!),
    '',
    `  conservation: ${m(paidIn)} paid in − ${m(totals.refunded)} refunded = ${m(totals.goods)} for the units delivered + ${m(totals.kept)} in deposits kept ${holds ? '✓' : '✗ (does not add up)'}`,
  ];
};

/** A titled table of two columns; rows with no value are left out. */
export const renderTable = (title: string, rows: readonly (readonly [string, string])[]): string[] => {
  const width = Math.max(...rows.map(([k]) => k.length)) + 2;
  const out = ['', title, '─'.repeat(60)];
  for (const [k, v] of rows) if (v) out.push(`  ${k.padEnd(width)}${v}`);
  return out;
};

/**
 * Each check with ✓ or ✗ (– when it was skipped) and its detail, then the verdict. A skipped
 * check is not a failure; the verdict counts it apart so nobody reads it as passed.
 */
export const renderChecks = (checks: readonly Check[]): string[] => {
  const out = ['', 'Checks', '─'.repeat(60)];
  for (const c of checks) out.push(`  ${c.skipped !== undefined ? '–' : c.ok ? '✓' : '✗'} ${c.name}`, `      ${c.detail}`);
  const failed = checks.filter((c) => !c.ok).length;
  const skipped = checks.filter((c) => c.skipped !== undefined).length;
  const ran = checks.length - skipped;
  const aside = skipped > 0 ? ` (${skipped} skipped)` : '';
  out.push('', failed === 0 ? `All ${ran} checks passed${aside}.` : `${failed} of ${ran} checks FAILED${aside}.`, '');
  return out;
};
