import type { DepositRun, FlashSaleRun } from './record.ts';
import { printedNotificationLines } from './console.ts';
import { compensationFor, finalStatuses, limitTitle, money, refundedUnits, signalTypes, tierPriceReached, type Preorder } from './views.ts';

/**
 * The properties of design.md ("measured, not hoped"), checked after the sale
 * from what the actors were told and what the API shows: the demo trusts no
 * internal state. Each check says what it compared, so a ✗ points somewhere.
 */
export interface Check {
  readonly name: string;
  /** True when it held, and for a skipped check (not run is not failed). */
  readonly ok: boolean;
  readonly detail: string;
  /** Set when the check was not run, saying why (the run did not play what it checks). */
  readonly skipped?: string;
}

const fmt = (n: number) => n.toLocaleString('en-US');
const sum = <T>(xs: readonly T[], f: (x: T) => number) => xs.reduce((n, x) => n + f(x), 0);
/** At most a few examples in a detail line. */
const some = (xs: readonly string[]) => (xs.length > 3 ? `${xs.slice(0, 3).join('; ')}; … ${xs.length - 3} more` : xs.join('; '));

/**
 * `printed`: the buyer notification lines the local channel printed during the
 * sale, when this process captured them (the demo's own in-process runtime);
 * undefined when the runtime prints elsewhere.
 */
export const checkFlashSale = (run: FlashSaleRun, printed: number | undefined = printedNotificationLines()): Check[] => {
  const checks: Check[] = [];
  const check = (name: string, problems: readonly string[], ok: string) =>
    checks.push({ name, ok: problems.length === 0, detail: problems.length === 0 ? ok : some(problems) });
  const skip = (name: string, why: string) => checks.push({ name, ok: true, detail: `skipped: ${why}`, skipped: why });

  // What the buyers were told, from their own answers.
  const accepted = run.placements.filter((p) => p.answers.some((a) => a.status === 202));
  const idsOf = (p: (typeof accepted)[number]) => new Set(p.answers.flatMap((a) => (a.status === 202 && a.preorderId ? [a.preorderId] : [])));
  // A switch moves a pre-order's demand to the size it switched to (a 200 is the buyer's own answer).
  const switchedTo = new Map(run.switches.flatMap((x) => (x.status === 200 && x.to ? [[x.preorderId, x.to] as const] : [])));
  const acceptedSku = new Map<string, string>();
  for (const p of accepted) for (const id of idsOf(p)) acceptedSku.set(id, p.sku);
  const quantityOf = new Map<string, { sku: string; quantity: number }>();
  for (const p of accepted) for (const id of idsOf(p)) quantityOf.set(id, { sku: switchedTo.get(id) ?? p.sku, quantity: p.quantity });

  check(
    'accepted pre-orders = distinct Idempotency-Keys answered 202',
    [
      ...accepted.filter((p) => idsOf(p).size !== 1).map((p) => `${p.buyerId} ${p.key} was answered with ${idsOf(p).size} pre-order ids`),
      ...(quantityOf.size !== accepted.length ? [`${quantityOf.size} pre-orders for ${accepted.length} keys`] : []),
    ],
    `${fmt(quantityOf.size)} pre-orders, ${fmt(accepted.length)} keys`,
  );

  // A resend after a 202 must be answered as the first time; concurrent taps only must not make two.
  const resent = run.placements.filter((p) => p.answers.length > 1);
  const replayProblems = resent.flatMap((p) => {
    const first = p.answers.findIndex((a) => a.status === 202);
    if (first < 0) return [];
    const later = p.retry === 'double-tap' ? p.answers.slice(2) : p.answers.slice(first + 1);
    const id = p.answers[first]!.preorderId;
    return later.some((a) => a.status !== 202 || a.preorderId !== id) ? [`${p.buyerId} ${p.key}: ${p.answers.map((a) => a.status).join(', ')}`] : [];
  });
  check('retried orders answered as the first time, never ordered twice', replayProblems, `${fmt(sum(resent, (p) => p.answers.length - 1))} retries over ${fmt(resent.length)} keys`);

  const cancelledBeforeBatching = new Set(run.cancels.filter((c) => c.when === 'before-batching' && c.status === 200).map((c) => c.preorderId));
  const acceptedUnits = sum([...quantityOf.values()], (q) => q.quantity);
  const keptUnits = acceptedUnits - sum([...cancelledBeforeBatching], (id) => quantityOf.get(id)?.quantity ?? 0);
  check(
    'no oversell: units kept at close ≤ the cap',
    keptUnits > run.settings.cap ? [`${fmt(keptUnits)} units kept, cap ${fmt(run.settings.cap)}`] : [],
    `${fmt(keptUnits)} of ${fmt(run.settings.cap)}`,
  );

  const final = run.final;
  if (!final) {
    checks.push({ name: 'the sale ran to the end', ok: false, detail: 'nothing was read back' });
    return checks;
  }
  const skus = final.demand.variants.map((v) => v.sku);
  const bySku = (sku: string) => final.preorders.filter((p) => p.sku === sku);

  check(
    'demand counts each pre-order once (per variant)',
    final.demand.variants.flatMap((v) => {
      const mine = sum([...quantityOf.values()].filter((q) => q.sku === v.sku), (q) => q.quantity);
      return v.ordered === mine ? [] : [`${v.sku}: demand ordered ${v.ordered}, buyers were accepted for ${mine}`];
    }),
    `${fmt(final.demand.totals.ordered)} units ordered`,
  );

  // Demand's batched and waiting against the pre-orders themselves, read back one by one (demand derives
  // waiting as ordered − cancelled − batched, so checking that sum would check nothing).
  const unitsKept = (p: Preorder) => p.quantity - refundedUnits(p);
  check(
    "demand's batched and waiting = the pre-orders' own units, in a batch or not (per variant)",
    final.demand.variants.flatMap((v) => {
      const batched = sum(bySku(v.sku).filter((p) => p.batchId), unitsKept);
      const waiting = sum(bySku(v.sku).filter((p) => !p.batchId), unitsKept);
      return v.batched === batched && v.waiting === waiting
        ? []
        : [`${v.sku}: demand batched ${v.batched}, waiting ${v.waiting}; pre-orders say ${batched} in batches, ${waiting} in none`];
    }),
    skus
      .map((sku) => {
        const v = final.demand.variants.find((x) => x.sku === sku)!;
        return `${sku} ${v.batched} batched, ${v.waiting} waiting`;
      })
      .join(' · '),
  );

  check(
    "demand's cancelled = units refunded to buyers (per variant)",
    final.demand.variants.flatMap((v) => {
      const refunded = sum(bySku(v.sku), refundedUnits);
      return v.cancelled === refunded ? [] : [`${v.sku}: demand cancelled ${v.cancelled}, pre-orders refunded ${refunded}`];
    }),
    `${fmt(final.demand.totals.cancelled)} units`,
  );

  // Manifests as the factory read them when it accepted: each pre-order in one batch at most, and the one it names.
  const inBatch = new Map<string, string[]>();
  for (const [batchId, entries] of run.manifests) for (const e of entries) inBatch.set(e.preorderId, [...(inBatch.get(e.preorderId) ?? []), batchId]);
  // The limited colour's buyers who did not switch are refunded at the window's end, never batched.
  const leftUnswitched = new Set(run.switches.filter((x) => x.status !== 200).map((x) => x.preorderId));
  check(
    'each pre-order in exactly one batch (none if cancelled before batching or its variant was not made)',
    final.preorders.flatMap((p) => {
      const batches = inBatch.get(p.preorderId) ?? [];
      if (cancelledBeforeBatching.has(p.preorderId)) return batches.length === 0 && !p.batchId ? [] : [`${p.preorderId} cancelled before batching but in ${batches.join(', ') || p.batchId}`];
      if (leftUnswitched.has(p.preorderId)) return batches.length === 0 && !p.batchId ? [] : [`${p.preorderId} of ${run.settings.limitedSku}, not switched, is in ${batches.join(', ') || p.batchId}`];
      if (batches.length !== 1) return [`${p.preorderId} in ${batches.length} manifests`];
      return p.batchId === batches[0] ? [] : [`${p.preorderId} says batch ${p.batchId}, manifest ${batches[0]}`];
    }),
    `${fmt(inBatch.size)} pre-orders over ${run.manifests.size} batches`,
  );

  check(
    'units conserved per variant: ordered = delivered + in transit + refunded + unshipped (0)',
    skus.flatMap((sku) => {
      const mine = bySku(sku);
      const ordered = sum(mine, (p) => p.quantity);
      const delivered = sum(mine, (p) => p.deliveredQuantity);
      const inTransit = sum(mine, (p) => p.shippedQuantity - p.deliveredQuantity);
      const refunded = sum(mine, refundedUnits);
      const unshipped = ordered - delivered - inTransit - refunded;
      return unshipped === 0 ? [] : [`${sku}: ${ordered} = ${delivered} + ${inTransit} + ${refunded} + ${unshipped} unshipped`];
    }),
    skus.map((sku) => {
      const mine = bySku(sku);
      return `${sku} ${sum(mine, (p) => p.quantity)}=${sum(mine, (p) => p.deliveredQuantity)}+${sum(mine, (p) => p.shippedQuantity - p.deliveredQuantity)}+${sum(mine, refundedUnits)}`;
    }).join(' · '),
  );

  check(
    'no pre-order shipped beyond its quantity',
    final.preorders.flatMap((p) =>
      p.shippedQuantity + refundedUnits(p) > p.quantity || p.deliveredQuantity > p.shippedQuantity
        ? [`${p.preorderId}: ordered ${p.quantity}, shipped ${p.shippedQuantity}, delivered ${p.deliveredQuantity}, refunded ${refundedUnits(p)}`]
        : [],
    ),
    `${fmt(final.preorders.length)} pre-orders`,
  );

  const lotUnits = sum(run.shipments, (s) => s.units);
  const batchShipped = sum(final.batches, (b) => b.shipped);
  const buyerShipped = sum(final.preorders, (p) => p.shippedQuantity);
  const buyerDelivered = sum(final.preorders, (p) => p.deliveredQuantity);
  const deliveredLots = sum(run.shipments.filter((s) => s.delivered), (s) => s.units);
  check(
    'every shipped unit reached a buyer: lots = batches = pre-orders',
    [
      ...(lotUnits === batchShipped && batchShipped === buyerShipped ? [] : [`lots ${lotUnits}, batches ${batchShipped}, pre-orders ${buyerShipped} shipped`]),
      ...(deliveredLots === buyerDelivered ? [] : [`${deliveredLots} units in delivered lots, ${buyerDelivered} delivered to pre-orders`]),
    ],
    `${fmt(lotUnits)} units in ${run.shipments.length} lots`,
  );

  const unfinished = final.preorders.filter((p) => !finalStatuses.has(p.status));
  check(
    'every pre-order DELIVERED or REFUNDED',
    [
      ...unfinished.map((p) => `${p.preorderId} is ${p.status}`),
      ...(final.preorders.length === quantityOf.size ? [] : [`read back ${final.preorders.length} of ${quantityOf.size} pre-orders`]),
    ],
    countBy(final.preorders, (p) => p.status),
  );

  // The record alone cannot show a step the channel sent twice. Every recorded step was printed before it was
  // recorded, so with each step recorded once, printed = recorded means each was printed exactly once. The channel
  // printed the deposit sale's buyers' notices too: they are counted with the flash sale's.
  const told = [...final.preorders, ...(run.deposit?.final?.preorders ?? [])];
  const recorded = sum(told, (p) => p.notifications.length);
  check(
    printed === undefined
      ? 'every buyer heard each step exactly once (notifications = timeline)'
      : 'every buyer heard each step exactly once (printed = notifications = timeline)',
    [
      ...(printed === undefined || printed === recorded ? [] : [`the local channel printed ${fmt(printed)} notifications, ${fmt(recorded)} recorded`]),
      ...told.flatMap((p) => notificationProblem(p)),
    ],
    printed === undefined ? `${fmt(recorded)} notifications` : `${fmt(recorded)} notifications, each printed once`,
  );

  check(
    'signals counted once (per variant × type)',
    final.demand.variants.flatMap((v) =>
      signalTypes.flatMap((t) => {
        const posted = run.signals.posted[v.sku]?.[t] ?? 0;
        return v.signals[t] === posted ? [] : [`${v.sku} ${t}: posted ${posted}, counted ${v.signals[t]}`];
      }),
    ),
    `${fmt(sum(Object.values(run.signals.posted), (r) => sum(signalTypes, (t) => r[t])))} signal counts`,
  );

  // The promises a pre-sale makes (README): a variant below its own minimum, the purchase limit, late compensation.
  const { limitedSku, limitedMinQuantity, maxPerBuyer, lateCompensation } = run.settings;
  const byId = new Map(final.preorders.map((p) => [p.preorderId, p]));
  const template = (p: Preorder, t: string) => p.notifications.filter((n) => n.template === t).length;
  if (limitedSku === undefined || limitedMinQuantity === undefined) {
    const why = 'no variant below its own minimum was offered: its buyers are refunded when the switch window ends, hours after the close, and this run cannot move the clock';
    skip('a variant below its own minimum never reaches the factory', why);
    skip('every buyer of a variant below its minimum told once, then switched (and delivered) or refunded in full', why);
  } else {
    const limitedOrdered = sum([...quantityOf].filter(([id]) => acceptedSku.get(id) === limitedSku && !cancelledBeforeBatching.has(id)), ([, q]) => q.quantity);
    const limitedInBatches = [
      ...final.batches.flatMap((b) => b.lines.filter((l) => l.sku === limitedSku && l.quantity > 0).map((l) => `batch ${b.batchId} has ${l.quantity} ${limitedSku}`)),
      ...[...run.manifests].flatMap(([batchId, entries]) => entries.filter((e) => e.sku === limitedSku).map((e) => `manifest of ${batchId} lists ${e.preorderId} as ${limitedSku}`)),
    ];
    check(
      `a variant below its own minimum never reaches the factory (${limitedSku}, minimum ${fmt(limitedMinQuantity)})`,
      [
        ...(limitedOrdered >= limitedMinQuantity ? [`${limitedSku} was ordered ${fmt(limitedOrdered)} times: it made its minimum, the demo's story did not happen`] : []),
        ...limitedInBatches,
      ],
      `${fmt(limitedOrdered)} of ${fmt(limitedMinQuantity)} ordered · in none of ${final.batches.length} batches or their manifests`,
    );

    check(
      `every buyer of ${limitedSku} told once, then switched (and delivered) or refunded in full`,
      run.switches.flatMap((x) => {
        const p = byId.get(x.preorderId);
        if (!p) return [`${x.preorderId} was not read back`];
        const told = template(p, 'preorder.variant_missed_minimum');
        if (!x.told || told !== 1) return [`${p.preorderId}: told ${told} times`];
        if (x.status === 200) {
          if (p.sku !== x.to || p.switchedFrom !== limitedSku) return [`${p.preorderId} switched to ${x.to} but is ${p.sku} (from ${p.switchedFrom ?? 'nothing'})`];
          if (p.status !== 'DELIVERED' && !(p.status === 'REFUNDED' && p.refundedAmount === p.amount)) return [`${p.preorderId} switched to ${p.sku} and is ${p.status}`];
          return template(p, 'preorder.switched') === 1 ? [] : [`${p.preorderId}: ${template(p, 'preorder.switched')} switch notices`];
        }
        if (p.status !== 'REFUNDED' || p.refundedAmount !== p.amount) return [`${p.preorderId} did not switch and is ${p.status}, ${money(p.refundedAmount, p.currency)} of ${money(p.amount, p.currency)} refunded`];
        return template(p, 'preorder.refunded_variant_missed') === 1 ? [] : [`${p.preorderId}: refunded without the notice saying why`];
      }),
      run.switches.length === 0
        ? 'none of its buyers stayed to the close'
        : `${run.switches.filter((x) => x.told).length} told · ${run.switches.filter((x) => x.status === 200).length} switched · ${run.switches.filter((x) => x.status !== 200).length} refunded`,
    );
  }

  // Every unit a buyer still holds (ordered less refunded): never past the limit. And a refusal is only ever past it:
  // what the buyer was accepted for elsewhere plus what they asked for exceeds it.
  const buyerOf = new Map<string, string>();
  for (const p of accepted) for (const id of idsOf(p)) buyerOf.set(id, p.buyerId);
  const held = new Map<string, number>();
  for (const p of final.preorders) {
    const buyer = buyerOf.get(p.preorderId);
    if (buyer) held.set(buyer, (held.get(buyer) ?? 0) + p.quantity - refundedUnits(p));
  }
  const refusedAtLimit = run.placements.filter((p) => p.answers.some((a) => a.title === limitTitle) && !p.answers.some((a) => a.status === 202));
  check(
    `no buyer holds more than ${maxPerBuyer} units; refused only past the limit`,
    [
      ...[...held].filter(([, units]) => units > maxPerBuyer).map(([buyer, units]) => `${buyer} holds ${units} units`),
      ...refusedAtLimit.flatMap((r) => {
        const before = sum(accepted.filter((p) => p.buyerId === r.buyerId), (p) => p.quantity);
        return before + r.quantity > maxPerBuyer ? [] : [`${r.buyerId} ${r.key} refused at the limit with ${before} units accepted and ${r.quantity} asked`];
      }),
      ...run.placements.flatMap((p) => p.answers.filter((a) => a.title === limitTitle && a.status !== 409).map((a) => `${p.buyerId} ${p.key}: "${limitTitle}" with status ${a.status}`)),
    ],
    `${fmt(held.size)} buyers, at most ${Math.max(0, ...held.values())} units each · ${fmt(refusedAtLimit.length)} orders refused past ${maxPerBuyer}`,
  );

  // A pre-order that got units after the date first promised is owed compensation, once; every other pre-order nothing.
  const late = (p: Preorder) => p.shipments.some((s) => s.shippedAt > p.originalPromisedShipBy);
  const compensated = final.preorders.filter((p) => p.compensatedAmount > 0);
  const owed = sum(compensated, (p) => p.compensatedAmount);
  const trust = final.trust.compensation;
  const trustAmount = trust.amounts.find((a) => a.currency === final.campaign.currency)?.amount ?? 0;
  const { percent, minAmount, maxAmount } = lateCompensation;
  check(
    `late pre-orders compensated once: ${percent} % of the order within ${money(minAmount)}–${money(maxAmount)}`,
    [
      ...final.preorders.flatMap((p) => {
        const expected = late(p) ? compensationFor(lateCompensation, p.amount) : 0;
        const notices = template(p, 'preorder.compensated');
        if (p.compensatedAmount !== expected) return [`${p.preorderId} (${money(p.amount, p.currency)}${late(p) ? ', shipped late' : ''}) owed ${money(p.compensatedAmount, p.currency)}, expected ${money(expected, p.currency)}`];
        return notices === (expected > 0 ? 1 : 0) ? [] : [`${p.preorderId}: ${notices} compensation notices for ${money(p.compensatedAmount, p.currency)}`];
      }),
      ...(trust.count === compensated.length && trustAmount === owed ? [] : [`trust figures say ${trust.count} compensated, ${money(trustAmount)}; the pre-orders ${compensated.length}, ${money(owed)}`]),
      ...(run.lateLot.shipped && compensated.length === 0 ? ['a lot shipped late and nobody was compensated'] : []),
    ],
    run.lateLot.shipped
      ? `${fmt(compensated.length)} pre-orders shipped late, ${money(owed)} owed · the rest on time, owed nothing`
      : `no lot shipped late (${run.lateLot.skipped ?? 'none'}) · nobody owed anything`,
  );

  // Money, per pre-order: its refunds add up to what was refunded, none past what was paid, and what the buyer keeps
  // paying is what the units they keep cost. Every refund decided was paid back by the platform, confirmed once (a
  // confirmation sent again is answered the same), and told to the buyer once.
  const moneyCheck = 'every refund paid back once and told; for each buyer, paid − refunded = what the units kept cost';
  if (run.payments.skipped) skip(moneyCheck, run.payments.skipped);
  else {
    const refunds = final.preorders.flatMap((p) => p.refunds);
    const paidIn = sum(final.preorders, (p) => p.paidAmount);
    const paidBack = sum(final.preorders, (p) => p.refundedAmount);
    const confirmedInTrust = final.trust.refundConfirmation?.count ?? 0;
    check(
      moneyCheck,
      [
        ...final.preorders.flatMap((p) => {
          const at = `${p.preorderId} (paid ${money(p.paidAmount, p.currency)}, refunded ${money(p.refundedAmount, p.currency)})`;
          const listed = sum(p.refunds, (r) => r.amount);
          return [
            ...(listed === p.refundedAmount ? [] : [`${at}: its refunds add up to ${money(listed, p.currency)}`]),
            ...(p.refundedAmount <= p.paidAmount ? [] : [`${at}: refunded more than paid`]),
            ...(p.paidAmount - p.refundedAmount === (p.quantity - refundedUnits(p)) * p.finalUnitPrice ? [] : [`${at}: keeps ${p.quantity - refundedUnits(p)} units at ${money(p.finalUnitPrice, p.currency)}`]),
            ...p.refunds.filter((r) => r.status !== 'CONFIRMED').map((r) => `${at}: ${r.refundId} (${r.reason}) still ${r.status}`),
            ...(template(p, 'preorder.refund_confirmed') === p.refunds.length ? [] : [`${at}: told of ${template(p, 'preorder.refund_confirmed')} refunds paid, for ${p.refunds.length}`]),
          ];
        }),
        ...(run.payments.confirmed === refunds.length ? [] : [`the platform confirmed ${run.payments.confirmed} refunds, the pre-orders list ${refunds.length}`]),
        ...(confirmedInTrust === refunds.length ? [] : [`trust figures count ${confirmedInTrust} refunds confirmed, for ${refunds.length}`]),
        ...run.payments.repeatAnswers.filter((s) => s !== 200).map((s) => `a confirmation sent again was answered ${s}`),
      ],
      `${money(paidIn)} paid in · ${money(paidBack)} paid back in ${fmt(refunds.length)} refunds, each confirmed once (${fmt(run.payments.repeated)} confirmations sent twice, answered the same) · ${money(paidIn - paidBack)} kept`,
    );
  }

  if (run.deposit) checks.push(...checkDepositSale(run.deposit));
  else if (run.depositSkipped) for (const name of Object.values(depositChecks)) skip(name, run.depositSkipped);

  check('the API answered as the contract says (no 5xx, nothing lost, nothing unexpected)', [...run.http.failures, ...run.unexpected], `${fmt(run.http.requests)} requests`);
  check('the pipeline settled (no wait gave up)', run.stalls, 'every wait ended');
  return checks;
};

const notificationProblem = (p: Preorder): string[] => {
  const ids = new Set(p.notifications.map((n) => n.notificationId));
  if (p.notifications.length !== p.timeline.length) return [`${p.preorderId}: ${p.notifications.length} notifications, ${p.timeline.length} timeline entries`];
  if (ids.size !== p.notifications.length) return [`${p.preorderId}: a notification id repeats`];
  const i = p.notifications.findIndex((n, k) => n.message !== p.timeline[k]!.note);
  return i < 0 ? [] : [`${p.preorderId}: notification ${i} says "${p.notifications[i]!.message}", timeline "${p.timeline[i]!.note}"`];
};

export const countBy = <T>(xs: readonly T[], key: (x: T) => string): string => {
  const m = new Map<string, number>();
  for (const x of xs) m.set(key(x), (m.get(key(x)) ?? 0) + 1);
  return [...m].sort(([a], [b]) => a.localeCompare(b)).map(([k, n]) => `${k} ${fmt(n)}`).join(' · ');
};

/**
 * The deposit sale's checks (定金/尾款, decision 40), from what the demo recorded (who it meant to pay, what the
 * platform was answered, the demand read when the balances were called) against the pre-orders, batches and demand
 * read back at the end. The tier each variant reached is worked out here from the terms the anchor sent and the
 * units sold at close, never read back from the API.
 */
export const depositChecks = {
  ended: 'deposit sale: whoever paid the balance DELIVERED (or refunded, with a reason); the unpaid and the one who cancelled CANCELLED, deposit kept, nothing refunded',
  money: 'deposit sale: money per buyer, paid − refunded = delivered units × final price + deposit kept',
  unpaidNotMade: 'deposit sale: nothing of an unpaid pre-order reached a factory',
  balances: 'deposit sale: each balance asked = (tier price reached − discount) × units − deposit',
} as const;

export const checkDepositSale = (dep: DepositRun): Check[] => {
  const checks: Check[] = [];
  const check = (name: string, problems: readonly string[], ok: string) =>
    checks.push({ name, ok: problems.length === 0, detail: problems.length === 0 ? ok : some(problems) });
  const final = dep.final;
  if (!final) return [{ name: 'the deposit sale ran to the end', ok: false, detail: 'nothing was read back' }];
  const { settings } = dep;
  const currency = final.campaign.currency;
  const m = (amount: number) => money(amount, currency);
  const byId = new Map(final.preorders.map((p) => [p.preorderId, p]));
  const template = (p: Preorder, t: string) => p.notifications.filter((n) => n.template === t).length;
  const depositOf = (quantity: number) => settings.deposit * quantity;
  const paidBalance = (b: DepositRun['buyers'][number]) => b.payStatus === 200;
  /** Each buyer with the pre-order read back, or the problem of not having one. */
  const seen = dep.buyers.map((b) => {
    const p = b.preorderId ? byId.get(b.preorderId) : undefined;
    return { b, p, at: `buyer ${b.index} (${b.preorderId ?? 'not placed'}, ${b.sku} × ${b.quantity})` };
  });
  const missing = seen.filter((x) => !x.p).map((x) => `${x.at}: ${x.b.preorderId ? 'not read back' : 'was never accepted'}`);
  const read = seen.filter((x): x is typeof x & { p: Preorder } => x.p !== undefined);
  const forfeitProblems = (p: Preorder, at: string, notice: string) => [
    ...(p.status === 'CANCELLED' ? [] : [`${at} is ${p.status}, not CANCELLED`]),
    ...(p.depositAmount === depositOf(p.quantity) ? [] : [`${at}: deposit ${p.depositAmount ?? 'none'}, the terms say ${m(depositOf(p.quantity))}`]),
    ...(p.forfeitedAmount === p.depositAmount ? [] : [`${at}: ${m(p.forfeitedAmount ?? 0)} kept of a ${m(p.depositAmount ?? 0)} deposit`]),
    ...(p.refundedAmount === 0 && p.refunds.length === 0 ? [] : [`${at}: ${m(p.refundedAmount)} refunded in ${p.refunds.length} refunds`]),
    ...(p.balancePaidAt === undefined ? [] : [`${at}: its balance shows paid at ${p.balancePaidAt}`]),
    ...(template(p, notice) === 1 ? [] : [`${at}: told ${template(p, notice)} times (${notice})`]),
  ];

  // (a) How each buyer's pre-order ended, against what the buyer and the platform did.
  const paid = read.filter((x) => x.b.plan === 'pay');
  const left = read.filter((x) => x.b.plan === 'leave');
  const cancelled = read.filter((x) => x.b.plan === 'cancel');
  check(
    depositChecks.ended,
    [
      ...missing,
      ...paid.flatMap(({ b, p, at }) => [
        ...(paidBalance(b) ? [] : [`${at}: the platform's balance report was answered ${b.payStatus ?? '(never sent)'}`]),
        ...(p.balancePaidAt !== undefined ? [] : [`${at}: paid, but no balancePaidAt`]),
        ...(p.forfeitedAmount === undefined ? [] : [`${at}: paid, and ${m(p.forfeitedAmount)} forfeited`]),
        ...(p.status === 'DELIVERED' && p.deliveredQuantity > 0
          ? []
          : p.status === 'REFUNDED' && p.refunds.length > 0
            ? []
            : [`${at} paid its balance and is ${p.status}, ${p.deliveredQuantity} delivered, ${p.refunds.length} refunds`]),
        ...p.refunds.filter((r) => !r.reason).map((r) => `${at}: refund ${r.refundId} gives no reason`),
        ...(template(p, 'preorder.balance_paid') === 1 ? [] : [`${at}: told its balance paid ${template(p, 'preorder.balance_paid')} times`]),
      ]),
      ...left.flatMap(({ p, at }) => forfeitProblems(p, at, 'preorder.forfeited')),
      ...cancelled.flatMap(({ b, p, at }) => [
        ...(b.cancelStatus === 200 ? [] : [`${at}: its cancel was answered ${b.cancelStatus ?? '(never sent)'}`]),
        ...forfeitProblems(p, at, 'preorder.cancelled_forfeit'),
      ]),
      ...(dep.lateAttempt?.status === 409 && dep.lateAttempt.code === 'balance_window_closed'
        ? []
        : [`a balance reported after the deadline was answered ${dep.lateAttempt?.status ?? '(never sent)'} ${dep.lateAttempt?.code ?? ''}, not 409 balance_window_closed`]),
    ],
    `${paid.length} paid the balance: ${countBy(paid, (x) => x.p.status)} · ${left.length} left it unpaid: cancelled at the deadline, ${m(sum(left, (x) => x.p.forfeitedAmount ?? 0))} kept · ` +
      `${cancelled.length} cancelled before the close, ${m(sum(cancelled, (x) => x.p.forfeitedAmount ?? 0))} kept · a balance after the deadline refused ${dep.lateAttempt?.status}` +
      (dep.lateAttempt?.code ? ` (${dep.lateAttempt.code})` : ''),
  );

  // (b) Money per buyer: what the platform took (the deposit on the 202, the balance it reported) is what the pre-order
  // says was paid; what was paid less what came back is what the delivered units cost at the final price, plus the
  // deposit kept.
  const unitsKept = (p: Preorder) => (p.status === 'REFUNDED' || p.status === 'CANCELLED' ? 0 : p.deliveredQuantity);
  const paidIn = sum(read, (x) => x.p.paidAmount);
  const paidBack = sum(read, (x) => x.p.refundedAmount);
  const goods = sum(read, (x) => unitsKept(x.p) * x.p.finalUnitPrice);
  const forfeited = sum(read, (x) => x.p.forfeitedAmount ?? 0);
  const refunds = read.flatMap((x) => x.p.refunds);
  check(
    depositChecks.money,
    [
      ...read.flatMap(({ b, p, at }) => {
        const platformTook = (b.depositPaid ?? 0) + (paidBalance(b) ? (b.balancePaid ?? 0) : 0);
        const listed = sum(p.refunds, (r) => r.amount);
        return [
          ...(b.depositPaid === depositOf(b.quantity) ? [] : [`${at}: the 202 says ${m(b.depositPaid ?? 0)} paid, the terms ${m(depositOf(b.quantity))}`]),
          ...(p.paidAmount === platformTook ? [] : [`${at}: paidAmount ${m(p.paidAmount)}, the platform took ${m(platformTook)}`]),
          ...(!paidBalance(b) || b.paidAmountAnswered === p.paidAmount ? [] : [`${at}: the balance's answer said ${m(b.paidAmountAnswered ?? 0)} paid, the pre-order ${m(p.paidAmount)}`]),
          ...(p.paidAmount - p.refundedAmount === unitsKept(p) * p.finalUnitPrice + (p.forfeitedAmount ?? 0)
            ? []
            : [`${at}: ${m(p.paidAmount)} − ${m(p.refundedAmount)} ≠ ${unitsKept(p)} × ${m(p.finalUnitPrice)} + ${m(p.forfeitedAmount ?? 0)} kept`]),
          ...(listed === p.refundedAmount ? [] : [`${at}: its refunds add up to ${m(listed)}, refundedAmount ${m(p.refundedAmount)}`]),
          ...p.refunds.filter((r) => r.status !== 'CONFIRMED').map((r) => `${at}: refund ${r.refundId} (${r.reason}) still ${r.status}`),
        ];
      }),
      ...(paidIn - paidBack === goods + forfeited ? [] : [`in all: ${m(paidIn)} − ${m(paidBack)} ≠ ${m(goods)} + ${m(forfeited)}`]),
      ...(dep.payments.confirmed === refunds.length ? [] : [`the platform confirmed ${dep.payments.confirmed} refunds, the pre-orders list ${refunds.length}`]),
    ],
    `${m(paidIn)} paid in (${m(sum(read, (x) => x.p.depositAmount ?? 0))} deposits + ${m(sum(read, (x) => x.p.paidAmount - (x.p.depositAmount ?? 0)))} balances) − ` +
      `${m(paidBack)} refunded = ${m(goods)} for ${sum(read, (x) => unitsKept(x.p))} units delivered + ${m(forfeited)} in deposits kept`,
  );

  // (c) Only what was paid for was made: by the demo's own record of the balances the platform paid.
  const unpaid = read.filter((x) => !paidBalance(x.b));
  const inManifest = new Map<string, string>();
  for (const [batchId, entries] of dep.manifests) for (const e of entries) inManifest.set(e.preorderId, batchId);
  const paidUnits = sum(dep.buyers.filter(paidBalance), (b) => b.quantity);
  const batchUnits = sum(final.batches, (b) => b.units);
  check(
    depositChecks.unpaidNotMade,
    [
      ...unpaid.flatMap(({ p, at }) => [
        ...(p.batchId === undefined ? [] : [`${at} is unpaid and in batch ${p.batchId}`]),
        ...(inManifest.has(p.preorderId) ? [`${at} is unpaid and in the manifest of ${inManifest.get(p.preorderId)}`] : []),
      ]),
      ...(batchUnits === paidUnits ? [] : [`the campaign's batches hold ${batchUnits} units, the platform paid the balance of ${paidUnits}`]),
      ...(final.demand.totals.batched === paidUnits ? [] : [`demand says ${final.demand.totals.batched} units batched, ${paidUnits} were paid for`]),
      ...((final.demand.totals.awaitingBalance ?? 0) === 0 ? [] : [`demand still counts ${final.demand.totals.awaitingBalance} units awaiting their balance`]),
    ],
    `${paidUnits} paid units in ${final.batches.length} batches · none of the ${unpaid.length} unpaid pre-orders (${sum(unpaid, (x) => x.p.quantity)} units) in a batch or a manifest`,
  );

  // (d) Each balance asked: the tier the variant's units sold at close reached, less the discount, on every unit, less
  // the deposit; the sold units also against the demo's own count of who ordered and who cancelled.
  const atClose = dep.demandAtClose;
  const priced = settings.variants.map((v) => {
    const d = atClose?.variants.find((x) => x.sku === v.sku);
    const sold = d ? d.ordered - d.cancelled : 0;
    const ordered = sum(dep.buyers.filter((b) => b.sku === v.sku && b.preorderId && b.cancelStatus !== 200), (b) => b.quantity);
    const price = tierPriceReached(v, sold);
    return { v, sold, ordered, price, unit: price - settings.depositDiscount };
  });
  const unitOf = new Map(priced.map((x) => [x.v.sku, x.unit]));
  const asked = read.filter((x) => x.b.plan !== 'cancel');
  check(
    depositChecks.balances,
    [
      ...(atClose ? [] : ['demand was not read when the balances were called']),
      ...priced.filter((x) => x.sold !== x.ordered).map((x) => `${x.v.sku}: demand at close says ${x.sold} sold, the buyers kept ${x.ordered}`),
      ...(priced.some((x) => x.price < x.v.unitPrice) ? [] : ['no variant reached a tier: the demo\'s story did not happen']),
      ...asked.flatMap(({ p, at }) => {
        const unit = unitOf.get(p.sku) ?? Number.NaN;
        const expected = unit * p.quantity - depositOf(p.quantity);
        const notice = p.notifications.find((n) => n.template === 'preorder.balance_due');
        return [
          ...(p.balanceDue === expected ? [] : [`${at}: asked ${p.balanceDue === undefined ? 'nothing' : m(p.balanceDue)}, expected ${m(expected)}`]),
          ...(p.finalUnitPrice === unit ? [] : [`${at}: final price ${m(p.finalUnitPrice)} a unit, expected ${m(unit)}`]),
          ...(p.balanceDueBy !== undefined && p.balanceDueBy === final.campaign.balanceDueBy ? [] : [`${at}: due by ${p.balanceDueBy}, the campaign says ${final.campaign.balanceDueBy}`]),
          ...(notice?.message.includes(m(expected)) ? [] : [`${at}: the balance notice does not name ${m(expected)}: "${notice?.message ?? '(none)'}"`]),
        ];
      }),
      ...cancelled.filter((x) => x.p.balanceDue !== undefined).map((x) => `${x.at}: cancelled before the close and still asked ${m(x.p.balanceDue!)}`),
    ],
    `${priced
      .map((x) => `${x.v.sku} ${x.sold} sold → ${x.price < x.v.unitPrice ? 'tier' : 'list'} ${m(x.price)} − ${m(settings.depositDiscount)} = ${m(x.unit)} a unit`)
      .join(' · ')} · ${asked.length} balances asked, each as computed and told`,
  );
  return checks;
};
