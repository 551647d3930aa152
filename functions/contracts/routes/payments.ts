import { createRoute } from '../route.ts';
import { problemResponses } from '../common.ts';
import { BalanceDueList, BalancePaid, BalancesDueQuery, ConfirmedRefund, ConfirmRefundBody, OwedRefundList, OwedRefundsQuery, PayBalanceBody, RefundParams } from '../payments.ts';
import { json, bearer } from './common.ts';

export const listOwedRefunds = createRoute({
  operationId: 'listOwedRefunds',
  method: 'get',
  path: '/v1/payments/refunds',
  tags: ['platform'],
  summary: 'The refunds c2m decided and the platform has not confirmed, oldest first: what to pay back, whatever became of refund.requested',
  security: bearer,
  request: { query: OwedRefundsQuery },
  responses: { 200: json(OwedRefundList, 'Refunds owed'), ...problemResponses(400, 401, 403, 429) },
});
export const confirmRefund = createRoute({
  operationId: 'confirmRefund',
  method: 'post',
  path: '/v1/payments/refunds/{refundId}/confirm',
  tags: ['platform'],
  summary:
    'The platform paid a refund back (refund.requested announced it): recorded once. Again → 200 with the same confirmation; for another amount → 409, never a second refund',
  security: bearer,
  request: { params: RefundParams, body: { required: false, content: { 'application/json': { schema: ConfirmRefundBody } } } },
  responses: { 200: json(ConfirmedRefund, 'Confirmed'), ...problemResponses(400, 401, 403, 404, 409, 413, 415, 429) },
});
export const payBalance = createRoute({
  operationId: 'payBalance',
  method: 'post',
  path: '/v1/payments/balances',
  tags: ['platform'],
  summary:
    "The buyer paid a deposit pre-order's balance (preorder.balance_due announced it): recorded once, and the pre-order joins the line for production. Again with the same amount → 200; unknown pre-order → 404; another payment's reference, another amount, not due or past balanceDueBy → 409 naming the field, nothing recorded",
  security: bearer,
  request: { body: { required: true, content: { 'application/json': { schema: PayBalanceBody } } } },
  responses: { 200: json(BalancePaid, 'Recorded'), ...problemResponses(400, 401, 403, 404, 409, 413, 415, 429) },
});
export const listBalancesDue = createRoute({
  operationId: 'listBalancesDue',
  method: 'get',
  path: '/v1/payments/balances',
  tags: ['platform'],
  summary:
    "A deposit campaign's balances called and not paid, oldest order first: what to collect by balanceDueBy, whatever became of preorder.balance_due. Before the balances are called, after their deadline, or for a campaign paid in full, the list is empty",
  security: bearer,
  request: { query: BalancesDueQuery },
  responses: { 200: json(BalanceDueList, 'Balances due'), ...problemResponses(400, 401, 403, 404, 429) },
});
