import * as z from './zod.ts';
import { ListQuery } from './common.ts';
import { PaymentRef, PreorderId, RefundId, RefundView } from './preorders.ts';
import { CampaignId } from './campaigns.ts';
import { Timestamp } from './common.ts';

/**
 * The live platform's payment service (the `platform` principal, issue 16):
 * c2m decides what a buyer is owed back, the platform pays it and says so here.
 */

export const RefundParams = z.object({ refundId: RefundId.openapi({ param: { name: 'refundId', in: 'path' } }) });

export const ConfirmRefundBody = z
  .object({
    amount: z.number().int().min(1).openapi({
      description: "Minor units the platform paid back. When given it must be the refund's amount: another is refused (409) and nothing is recorded",
    }),
  })
  .partial()
  .strict()
  .openapi('ConfirmRefund');
export type ConfirmRefundBody = z.infer<typeof ConfirmRefundBody>;

export const ConfirmedRefund = RefundView.extend({ preorderId: PreorderId }).openapi('ConfirmedRefund');

export const OwedRefundsQuery = ListQuery.extend({
  status: z.literal('REQUESTED').openapi({ description: 'Refunds decided and not confirmed yet (the only list there is)' }),
});

export const OwedRefund = RefundView.omit({ status: true, confirmedAt: true })
  .extend({
    preorderId: PreorderId,
    campaignId: z.string(),
    paymentRef: z.string().optional().openapi({ description: 'The payment to refund, when the pre-order was placed with one' }),
  })
  .openapi('OwedRefund');

export const OwedRefundList = z
  .object({
    items: z.array(OwedRefund),
    nextCursor: z.string().optional().openapi({ description: 'Absent on the last page; a page may hold fewer than limit and still have one' }),
  })
  .openapi('OwedRefundList');

export const PayBalanceBody = z
  .object({
    preorderId: PreorderId,
    paymentRef: PaymentRef.openapi({ description: "The deposit's reference, as the pre-order was placed with: the balance is paid on the same order" }),
    amount: z.number().int().min(1).openapi({ description: 'Minor units paid: exactly the pre-order\'s balanceDue' }),
  })
  .strict()
  .openapi('PayBalance');
export type PayBalanceBody = z.infer<typeof PayBalanceBody>;

export const BalancePaid = z
  .object({
    preorderId: PreorderId,
    paymentRef: z.string(),
    amount: z.number().int().openapi({ description: 'The balance recorded paid, minor units' }),
    paidAmount: z.number().int().openapi({ description: 'What the buyer has paid for the pre-order now: deposit and balance' }),
    balancePaidAt: Timestamp,
  })
  .openapi('BalancePaid');

export const BalancesDueQuery = ListQuery.extend({
  campaignId: CampaignId.openapi({ description: 'The deposit campaign whose balances are due' }),
});

export const BalanceDue = z
  .object({
    preorderId: PreorderId,
    campaignId: z.string(),
    paymentRef: z.string().openapi({ description: "The deposit's payment: the balance is paid on the same order" }),
    quantity: z.number().int(),
    depositAmount: z.number().int().openapi({ description: 'Paid when ordered, minor units' }),
    balanceDue: z.number().int().openapi({ description: 'Minor units to collect: POST /v1/payments/balances with exactly this amount' }),
    balanceDueBy: Timestamp.openapi({ description: 'After it the pre-order is cancelled and its deposit kept: a payment then is refused' }),
    currency: z.string(),
  })
  .openapi('BalanceDue');

export const BalanceDueList = z
  .object({
    items: z.array(BalanceDue),
    nextCursor: z.string().optional().openapi({ description: 'Absent on the last page; a page may hold fewer than limit and still have one' }),
  })
  .openapi('BalanceDueList');
