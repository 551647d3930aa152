import type { Check } from './checks.ts';
import { countBy } from './checks.ts';
import type { FlashSaleRun } from './record.ts';
import { refundedUnits } from './views.ts';

/**
 * The table the demo ends with: what the sale did, in the terms an anchor or a
 * factory would ask about, then each check with ✓ or ✗. Plain text, two
 * columns, no colour: it reads the same in a terminal and in a CI log.
 */
const fmt = (n: number) => n.toLocaleString('en-US');
const pct = (r: number | undefined) => (r === undefined ? 'n/a' : `${(r * 100).toFixed(1)}%`);
const secs = (ms: number) => `${(ms / 1000).toFixed(1)} s`;
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
  row('buyers', `${fmt(run.buyers)} in the burst · ${fmt(run.placements.length)} orders placed (Idempotency-Keys)`);
  row('orders accepted', `${fmt(ids.size)} pre-orders · ${fmt(sum([...ids.values()], (q) => q))} units`);
  row(
    'refused (cap)',
    `${fmt(soldOut.length - soldOutThenIn.length)} orders sold out` +
      (run.soldOutAfterMs !== undefined ? ` · first sold-out ${secs(run.soldOutAfterMs)} into the burst` : '') +
      (tappedAgain.length ? ` · ${fmt(tappedAgain.length)} tapped again, ${fmt(soldOutThenIn.length)} got in${soldOutThenIn.length ? ' (cancelled units came back)' : ''}` : ''),
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
    row('units refunded', `${fmt(refunded)} (${fmt(run.factory.shortUnits)} from the batch closed short)`);
    row('production', `${fmt(sum(final.batches, (b) => b.qcPassed))} passed QC · ${fmt(run.factory.qcFailed)} failed and remade · ${fmt(run.factory.progressReports)} progress reports`);
    row(
      'notifications',
      `${fmt(sum(ps, (p) => p.notifications.length))} sent to buyers` +
        (extras.printedNotifications !== undefined ? ` · ${fmt(extras.printedNotifications)} lines printed by the local channel` : ''),
    );
    row('pre-orders', countBy(ps, (p) => p.status));
    const t = final.trust;
    row(
      'trust',
      `on time ${pct(t.onTimeShipRate)} · QC pass ${pct(t.qcPassRate)} · refunds ${pct(t.refundRate)} · median ${t.medianDaysToDelivery ?? 'n/a'} days to delivery`,
    );
  }
  row('wall time', `${run.phases.map((p) => `${p.name} ${secs(p.ms)}`).join(' · ')} · total ${secs(sum(run.phases, (p) => p.ms))}`);

  const width = Math.max(...rows.map(([k]) => k.length)) + 2;
  const out = ['', 'Flash sale summary', '─'.repeat(60)];
  for (const [k, v] of rows) if (v) out.push(`  ${k.padEnd(width)}${v}`);
  out.push('', 'Checks', '─'.repeat(60));
  for (const c of checks) out.push(`  ${c.ok ? '✓' : '✗'} ${c.name}`, `      ${c.detail}`);
  const failed = checks.filter((c) => !c.ok).length;
  out.push('', failed === 0 ? `All ${checks.length} checks passed.` : `${failed} of ${checks.length} checks FAILED.`, '');
  return out.join('\n');
};
