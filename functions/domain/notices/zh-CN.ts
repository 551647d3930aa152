import type { NoticeTexts } from '../notices.ts';

/** Simplified Chinese texts of every buyer notice (one function per template; see ../notices.ts for the rules they keep). */
const steps: Readonly<Record<string, string>> = {
  ACCEPTED: '已受理',
  BATCHED: '已进入生产批次',
  IN_PRODUCTION: '生产中',
  SHIPPED: '已发货',
  DELIVERED: '已送达',
  CANCELLED: '已取消',
  REFUNDED: '已退款',
  delayed: '已延期',
  'partly-shipped': '部分发货',
  'partly-refunded': '部分退款',
  'partly-delivered': '部分送达',
  'address-changed': '收货地址已更新',
  'tracking-changed': '已改为单独包裹寄送',
  'refund-confirmed': '已退款',
  'price-dropped': '已降价',
  'balance-due': '待付尾款',
  'balance-paid': '已付清',
};

export const zhCN: NoticeTexts = {
  'preorder.accepted': (p, f) =>
    `您的预订已受理：${p.quantity}件，共${f.money(p)}。活动订单量达标后即开始生产，承诺${f.date(p.promisedShipBy)}前发货。`,
  'preorder.cancelled': () => '您已取消预订。',
  'preorder.refunded': (p, f) => `预订在生产前已取消，已为您申请全额退款${f.money(p)}。`,
  'preorder.cancelled_after_delay': (p, f) => `订单延期至${f.date(p.delayedTo)}后，您取消了预订。`,
  'preorder.refunded_after_delay': (p, f) => `按延期通知中的承诺，已为您申请全额退款${f.money(p)}。`,
  'preorder.refunded_campaign_failed': (p, f) =>
    `活动结束时未达到最低${p.minTotalQuantity}件的成团数量，不会生产；已为您申请全额退款${f.money(p)}。`,
  'preorder.batched': (p, f) => `您的订单已进入生产批次，工厂将于${f.date(p.confirmBy)}前确认发货日期。`,
  'preorder.back_in_line': () => '该生产批次最终未能成行，您的订单已重新排队，排队位置不变。',
  'preorder.moved_to_backup_factory': () => '工厂无法承接您的订单，订单正在等待另一家工厂生产，排队位置不变。',
  'preorder.refunded_factory_declined': (p, f) => `工厂无法承接您的订单，且没有其他工厂可以生产；已为您申请全额退款${f.money(p)}。`,
  'preorder.in_production': (p, f) => `您的订单已开始生产，工厂承诺${f.date(p.shipBy)}前发货。`,
  'preorder.delayed_at_acceptance': (p, f) =>
    `订单延期：工厂最早${f.date(p.shipBy)}发货，晚于承诺您的${f.date(p.promisedShipBy)}。发货前您可随时取消并获得全额退款。`,
  'preorder.delayed': (p, f) =>
    `订单延期：您的订单未能按承诺在${f.date(p.promisedShipBy)}前发货，新的发货日期为${f.date(p.shipBy)}。发货前您可随时取消并获得全额退款。`,
  'preorder.shipped': (p, f) => `已发货：本次${p.quantity}件，运单号${f.code(p.trackingNumber)}。您订单的全部${p.shipped}件均已发出。`,
  'preorder.partly_shipped': (p, f) =>
    `已发出${p.quantity}件，运单号${f.code(p.trackingNumber)}；共${p.ordered}件中已发出${p.shipped}件，其余随后发出。`,
  'preorder.tracking_changed': (p, f) => `您在途的${p.quantity}件商品已改为单独包裹寄送，运单号${f.code(p.trackingNumber)}。`,
  'preorder.delivered': (p, f) => `已送达：${p.quantity}件（运单号${f.code(p.trackingNumber)}），您的订单已全部完成。`,
  'preorder.partly_delivered': (p, f) => `已送达${p.quantity}件（运单号${f.code(p.trackingNumber)}）；应到${p.expected}件中已到${p.delivered}件。`,
  'preorder.refunded_closed_short': (p, f) => `工厂实际产量少于订单量，您的商品不会生产；已为您申请全额退款${f.money(p)}。`,
  'preorder.partly_refunded_campaign_failed': (p, f) =>
    `活动未达到最低成团数量，将不再生产：您订购的${p.ordered}件中有${p.units}件不会发出，已为您申请退款${f.money(p)}；已收到的${p.kept}件归您所有。`,
  'preorder.partly_refunded_closed_short': (p, f) =>
    `工厂实际产量少于订单量：您订购的${p.ordered}件中有${p.units}件不会生产，已为您申请退款${f.money(p)}；其余${p.kept}件照常属于您。`,
  'preorder.shipped_all_made': (p) => `已发货：您订单中已生产的全部${p.quantity}件均已发出。`,
  'preorder.delivered_all_made': (p) => `已送达：您订单中已生产的全部${p.quantity}件均已送达。`,
  'preorder.compensated': (p, f) => `您的订单晚于最初承诺的${f.date(p.promisedShipBy)}发货，您将获得${f.money(p)}的延迟补偿。`,
  'preorder.refunded_at_ceiling': (p, f) =>
    `您订单中有${p.units}件在最晚承诺日期${f.date(p.latestShipBy)}前仍未发货，已为这部分申请退款${f.money(p)}。`,
  'preorder.variant_missed_minimum': (p, f) =>
    `${f.code(p.sku)}的订单量未达到起订数量，无法生产。${f.date(p.switchBy)}前您可将预订改为其他款式，排队位置不变；否则将全额退款。`,
  'preorder.refunded_variant_missed': (p, f) => `${f.code(p.sku)}未达到开产数量，您也未改选其他款式；已为您申请全额退款${f.money(p)}。`,
  'preorder.switched': (p, f) => `您的预订已改为${f.code(p.sku)}，排队位置不变。`,
  'preorder.address_changed': () => '您的收货地址已更新。',
  'preorder.refund_confirmed': (p, f) => `退款${f.money(p)}已退还给您。`,
  'preorder.price_dropped': (p, f) =>
    `参团人数达到阶梯，价格降至每件${f.money({ amount: p.unitPrice, currency: p.currency })}；已为您申请退款${f.money(p)}（您${p.units}件的差价）。`,
  'preorder.accepted_deposit': (p, f) =>
    `您的预订已受理：${p.quantity}件，已付定金${f.money(p)}。活动于${f.date(p.closesAt)}结束后将通知您应付尾款。取消预订或未付尾款，定金不退；活动或所选款式未成团则全额退还。`,
  'preorder.balance_due': (p, f) =>
    `活动已结束，您的成交价为每件${f.money({ amount: p.unitPrice, currency: p.currency })}。请在${f.dateTime(p.dueBy)}前支付尾款${f.money(p)}；逾期未付，订单将取消，定金不退。`,
  'preorder.balance_paid': (p, f) => `尾款${f.money(p)}已付清，您的订单已排队等待生产。`,
  'preorder.forfeited': (p, f) => `尾款未在${f.dateTime(p.dueBy)}前支付，预订已取消，定金${f.money(p)}不予退还。`,
  'preorder.cancelled_forfeit': (p, f) => `您在支付尾款前取消了预订，定金${f.money(p)}不予退还。`,
  'preorder.updated': (p) => `您的订单${steps[p.step] ?? '有更新'}。`,
};
