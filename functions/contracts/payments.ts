import * as z from './zod.ts';
import { PreorderId, RefundId, RefundView } from './preorders.ts';

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
