import { allow, createApi, caller, lambdaHandler } from '../http/app.ts';
import * as routes from '#contracts/routes/preorders.ts';
import * as payments from '#contracts/routes/payments.ts';
import { confirmRefund, listOwedRefunds } from '../payments/refunds.ts';
import { listBalancesDue, payBalance } from '../payments/balances.ts';
import { acceptedView, preorderView } from './views.ts';
import { switchOwnPreorder } from './switch.ts';
import { cancelOwnPreorder, findOwnPreorder, listOwnPreorders, placePreorder } from './use-cases.ts';
import { changeOwnShippingAddress } from './address.ts';

export const app = createApi()
  .openapi({ ...routes.placePreorder, middleware: [allow('buyer')] }, async (c) => {
    const buyer = caller(c);
    const { preorder } = await placePreorder(
      buyer,
      c.req.valid('param').campaignId,
      c.req.valid('json'),
      c.req.valid('header')['idempotency-key'],
    );
    return c.json(acceptedView(preorder), 202);
  })
  .openapi({ ...routes.listPreorders, middleware: [allow('buyer')] }, async (c) => {
    const buyer = caller(c);
    const { limit, cursor } = c.req.valid('query');
    const page = await listOwnPreorders(buyer, limit, cursor);
    return c.json({ items: page.items.map(preorderView), ...(page.nextCursor && { nextCursor: page.nextCursor }) }, 200);
  })
  .openapi({ ...routes.getPreorder, middleware: [allow('buyer', 'operator')] }, async (c) => {
    const principal = caller(c);
    return c.json(preorderView(await findOwnPreorder(principal, c.req.valid('param').preorderId)), 200);
  })
  .openapi({ ...routes.cancelPreorder, middleware: [allow('buyer')] }, async (c) => {
    const buyer = caller(c);
    return c.json(preorderView(await cancelOwnPreorder(buyer, c.req.valid('param').preorderId)), 200);
  })
  .openapi({ ...routes.changeShippingAddress, middleware: [allow('buyer')] }, async (c) => {
    const buyer = caller(c);
    return c.json(preorderView(await changeOwnShippingAddress(buyer, c.req.valid('param').preorderId, c.req.valid('json'))), 200);
  })
  .openapi({ ...routes.switchVariant, middleware: [allow('buyer')] }, async (c) => {
    const buyer = caller(c);
    return c.json(preorderView(await switchOwnPreorder(buyer, c.req.valid('param').preorderId, c.req.valid('json').sku)), 200);
  })
  .openapi({ ...payments.listOwedRefunds, middleware: [allow('platform')] }, async (c) => {
    const { limit, cursor } = c.req.valid('query');
    return c.json(await listOwedRefunds(limit, cursor), 200);
  })
  .openapi({ ...payments.confirmRefund, middleware: [allow('platform')] }, async (c) => {
    const platform = caller(c);
    return c.json(await confirmRefund(platform, c.req.valid('param').refundId, c.req.valid('json').amount), 200);
  })
  .openapi({ ...payments.payBalance, middleware: [allow('platform')] }, async (c) => {
    return c.json(await payBalance(caller(c), c.req.valid('json')), 200);
  })
  .openapi({ ...payments.listBalancesDue, middleware: [allow('platform')] }, async (c) => {
    const { campaignId, limit, cursor } = c.req.valid('query');
    return c.json(await listBalancesDue(campaignId, limit, cursor), 200);
  });

export const handler = lambdaHandler(app);
