import type { NoticeTexts } from '../notices.ts';

/** English texts of every buyer notice (one function per template; see ../notices.ts for the rules they keep). */
const units = (n: number) => (n === 1 ? '1 unit' : `${n} units`);
/** "is" or "are", after a count. */
const be = (n: number) => (n === 1 ? 'is' : 'are');

const steps: Readonly<Record<string, string>> = {
  ACCEPTED: 'accepted',
  BATCHED: 'in a production batch',
  IN_PRODUCTION: 'in production',
  SHIPPED: 'shipped',
  DELIVERED: 'delivered',
  CANCELLED: 'cancelled',
  REFUNDED: 'refunded',
  delayed: 'delayed',
  'partly-shipped': 'partly shipped',
  'partly-refunded': 'partly refunded',
  'partly-delivered': 'partly delivered',
  'address-changed': 'going to a new shipping address',
  'tracking-changed': 'in a parcel of its own',
  'refund-confirmed': 'refunded',
  'price-dropped': 'cheaper: its price dropped',
  'balance-due': 'waiting for its balance',
  'balance-paid': 'paid in full',
};

export const en: NoticeTexts = {
  'preorder.accepted': (p, f) =>
    `Your pre-order of ${units(p.quantity)} (${f.money(p)}) is accepted. It goes into production once the campaign has enough orders, and is promised to ship by ${f.date(p.promisedShipBy)}.`,
  'preorder.cancelled': () => 'You cancelled your pre-order.',
  'preorder.refunded': (p, f) => `Your pre-order was cancelled before production; a full refund of ${f.money(p)} is on its way to you.`,
  'preorder.cancelled_after_delay': (p, f) => `You cancelled your pre-order after it was delayed to ${f.date(p.delayedTo)}.`,
  'preorder.refunded_after_delay': (p, f) => `As promised with the delay notice, a full refund of ${f.money(p)} is on its way to you.`,
  'preorder.refunded_campaign_failed': (p, f) =>
    `The campaign closed below its minimum of ${units(p.minTotalQuantity)} and will not be produced; a full refund of ${f.money(p)} is on its way to you.`,
  'preorder.batched': (p, f) => `Your order is in a production batch; the factory confirms its ship date by ${f.date(p.confirmBy)}.`,
  'preorder.back_in_line': () => 'Your order is back in line: that production batch was not made after all. Your place is kept.',
  'preorder.moved_to_backup_factory': () =>
    'The factory could not take your order. It is now waiting for another factory, keeping its place in line.',
  'preorder.refunded_factory_declined': (p, f) =>
    `The factory could not take your order and no other factory can make it; a full refund of ${f.money(p)} is on its way to you.`,
  'preorder.in_production': (p, f) => `Your order is in production; the factory commits to ship by ${f.date(p.shipBy)}.`,
  'preorder.delayed_at_acceptance': (p, f) =>
    `Delayed: the factory can ship by ${f.date(p.shipBy)}, later than the ${f.date(p.promisedShipBy)} you were promised. You may cancel for a full refund until your order ships.`,
  'preorder.delayed': (p, f) =>
    `Delayed: your order did not ship by ${f.date(p.promisedShipBy)} as promised; the new date is ${f.date(p.shipBy)}. You may cancel for a full refund until it ships.`,
  'preorder.shipped': (p, f) =>
    `Shipped: ${units(p.quantity)}, tracking number ${f.code(p.trackingNumber)}. Your whole order (${units(p.shipped)}) is on its way.`,
  'preorder.partly_shipped': (p, f) =>
    `${units(p.quantity)} shipped, tracking number ${f.code(p.trackingNumber)}. So far ${p.shipped} of your ${units(p.ordered)} have shipped; the rest follow.`,
  'preorder.tracking_changed': (p, f) =>
    `Your ${units(p.quantity)} on the way now ${p.quantity === 1 ? 'travels' : 'travel'} in a parcel of your own: tracking number ${f.code(p.trackingNumber)}.`,
  'preorder.delivered': (p, f) => `Delivered: ${units(p.quantity)} (tracking number ${f.code(p.trackingNumber)}); your order is complete.`,
  'preorder.partly_delivered': (p, f) =>
    `${units(p.quantity)} delivered (tracking number ${f.code(p.trackingNumber)}). So far ${p.delivered} of ${units(p.expected)} have arrived.`,
  'preorder.refunded_closed_short': (p, f) => `The factory made fewer than were ordered and your units will not be made; a full refund of ${f.money(p)} is on its way to you.`,
  'preorder.partly_refunded_campaign_failed': (p, f) =>
    `The campaign closed below its minimum and will not be made: ${p.units} of your ${units(p.ordered)} will not come and a refund of ${f.money(p)} is on its way to you; the other ${p.kept} ${be(p.kept)} yours.`,
  'preorder.partly_refunded_closed_short': (p, f) =>
    `The factory made fewer than were ordered: ${p.units} of your ${units(p.ordered)} will not be made and a refund of ${f.money(p)} is on its way to you; the other ${p.kept} ${be(p.kept)} yours.`,
  'preorder.shipped_all_made': (p) =>
    p.quantity === 1 ? 'Shipped: the 1 unit of your order that was made is on its way.' : `Shipped: all ${p.quantity} units of your order that were made are on their way.`,
  'preorder.delivered_all_made': (p) =>
    p.quantity === 1 ? 'Delivered: the 1 unit of your order that was made has arrived.' : `Delivered: all ${p.quantity} units of your order that were made have arrived.`,
  'preorder.compensated': (p, f) =>
    `Your order shipped after ${f.date(p.promisedShipBy)}, the date first promised; you are owed ${f.money(p)} in compensation.`,
  'preorder.refunded_at_ceiling': (p, f) =>
    `${units(p.units)} of your order had not shipped by ${f.date(p.latestShipBy)}, the latest date promised; a refund of ${f.money(p)} for what did not ship is on its way to you.`,
  'preorder.variant_missed_minimum': (p, f) =>
    `Too few orders were placed for ${f.code(p.sku)} to make it. Until ${f.date(p.switchBy)} you may switch your pre-order to another option, keeping your place in line; otherwise it is refunded in full.`,
  'preorder.refunded_variant_missed': (p, f) =>
    `Not enough buyers chose ${f.code(p.sku)} to make it, and you did not switch to another option; a full refund of ${f.money(p)} is on its way to you.`,
  'preorder.switched': (p, f) => `Your pre-order is now for ${f.code(p.sku)}, in the same place in line.`,
  'preorder.address_changed': () => 'Your shipping address is updated.',
  'preorder.refund_confirmed': (p, f) => `Your refund of ${f.money(p)} has been paid back to you.`,
  'preorder.price_dropped': (p, f) =>
    `Enough buyers joined to drop the price to ${f.money({ amount: p.unitPrice, currency: p.currency })} a unit; a refund of ${f.money(p)} for the difference on your ${units(p.units)} is on its way to you.`,
  'preorder.accepted_deposit': (p, f) =>
    `Your pre-order of ${units(p.quantity)} is accepted with a deposit of ${f.money(p)}. After the sale ends on ${f.date(p.closesAt)} you will be told the balance to pay. The deposit is kept if you cancel or leave the balance unpaid; it is refunded in full if the sale, or your item, does not go ahead.`,
  'preorder.balance_due': (p, f) =>
    `The sale has closed at ${f.money({ amount: p.unitPrice, currency: p.currency })} a unit for you. Please pay the balance of ${f.money(p)} by ${f.dateTime(p.dueBy)}; unpaid by then, the order is cancelled and the deposit is not refunded.`,
  'preorder.balance_paid': (p, f) => `Your balance of ${f.money(p)} is paid: your order is in line for production.`,
  'preorder.forfeited': (p, f) =>
    `The balance was not paid by ${f.dateTime(p.dueBy)}, so your pre-order is cancelled and the deposit of ${f.money(p)} is not refunded.`,
  'preorder.cancelled_forfeit': (p, f) => `You cancelled your pre-order before paying the balance; the deposit of ${f.money(p)} is not refunded.`,
  'preorder.updated': (p) => `Your order is ${steps[p.step] ?? 'updated'}.`,
};
