import { allow, createApi, caller, lambdaHandler } from '../http/app.ts';
import * as routes from '#contracts/routes/campaigns.ts';
import { readDemand } from '#adapters/campaign-store.ts';
import { campaignView, campaignSummary, demandView, isOwner } from './views.ts';
import { campaignOutlook } from './forecasting.ts';
import { campaignWithDemand, changeCampaign, closeEarly, createCampaign, findCampaign, findOwnCampaign, listOwnCampaigns } from './use-cases.ts';
import { campaignBatches, campaignPreorders, preordersCsv } from './insight.ts';
import { csvHeaders, wantsCsv } from '../http/csv.ts';
import { demandHistory } from './forecasting.ts';
import { campaignTrust } from './trust.ts';
import { attributionCsv, campaignAttribution } from './attribution.ts';

export const app = createApi()
  .openapi({ ...routes.createCampaign, middleware: [allow('anchor')] }, async (c) => {
    const anchor = caller(c);
    const { campaign, demand } = await createCampaign(anchor, c.req.valid('json'), c.req.valid('header')['idempotency-key']);
    return c.json(campaignView(campaign, demand, true), 201);
  })
  .openapi({ ...routes.listCampaigns, middleware: [allow('anchor')] }, async (c) => {
    const anchor = caller(c);
    const { limit, cursor } = c.req.valid('query');
    const page = await listOwnCampaigns(anchor, limit, cursor);
    return c.json({ items: page.items.map((x) => campaignSummary(x, true)), ...(page.nextCursor && { nextCursor: page.nextCursor }) }, 200);
  })
  .openapi({ ...routes.getCampaign, middleware: [allow('anchor', 'buyer', 'factory', 'liveroom', 'operator')] }, async (c) => {
    const principal = caller(c);
    const { campaign, demand } = await campaignWithDemand(c.req.valid('param').campaignId);
    return c.json(campaignView(campaign, demand, isOwner(campaign, principal)), 200);
  })
  .openapi({ ...routes.updateCampaign, middleware: [allow('anchor', 'operator')] }, async (c) => {
    const { campaign, demand } = await changeCampaign(caller(c), c.req.valid('param').campaignId, c.req.valid('json'));
    return c.json(campaignView(campaign, demand, true), 200);
  })
  .openapi({ ...routes.campaignBatches, middleware: [allow('anchor', 'operator')] }, async (c) => {
    const campaign = await findOwnCampaign(caller(c), c.req.valid('param').campaignId);
    return c.json(await campaignBatches(campaign), 200);
  })
  .openapi({ ...routes.campaignPreorders, middleware: [allow('anchor', 'operator')] }, async (c) => {
    const campaign = await findOwnCampaign(caller(c), c.req.valid('param').campaignId);
    const query = c.req.valid('query');
    const page = await campaignPreorders(campaign, query);
    if (!wantsCsv(c.req.header('accept'))) return c.json(page, 200);
    const next = page.nextCursor && {
      ...(query.status && { status: query.status }),
      ...(query.buyerId && { buyerId: query.buyerId }),
      limit: String(query.limit),
      cursor: page.nextCursor,
    };
    return c.body(preordersCsv(page.items), 200, csvHeaders(`/v1/campaigns/${campaign.campaignId}/preorders`, next || undefined));
  })
  .openapi({ ...routes.campaignAttribution, middleware: [allow('anchor', 'operator')] }, async (c) => {
    const campaign = await findOwnCampaign(caller(c), c.req.valid('param').campaignId);
    const attribution = await campaignAttribution(campaign);
    if (!wantsCsv(c.req.header('accept'))) return c.json(attribution, 200);
    return c.body(attributionCsv(attribution), 200, csvHeaders(`/v1/campaigns/${campaign.campaignId}/attribution`));
  })
  .openapi({ ...routes.campaignDemandHistory, middleware: [allow('anchor', 'operator')] }, async (c) => {
    const campaign = await findOwnCampaign(caller(c), c.req.valid('param').campaignId);
    return c.json(await demandHistory(campaign, c.req.valid('query')), 200);
  })
  .openapi({ ...routes.closeCampaign, middleware: [allow('anchor', 'operator')] }, async (c) => {
    const anchor = caller(c);
    const { campaign, demand } = await closeEarly(anchor, c.req.valid('param').campaignId);
    return c.json(campaignView(campaign, demand, true), 200);
  })
  .openapi({ ...routes.campaignDemand, middleware: [allow('anchor', 'operator')] }, async (c) => {
    const principal = caller(c);
    const campaign = await findOwnCampaign(principal, c.req.valid('param').campaignId);
    const demand = await readDemand(campaign);
    return c.json(demandView(campaign, demand, await campaignOutlook(campaign, demand)), 200);
  })
  // Public, like the campaign itself: buyers weigh it before they pre-order.
  .openapi({ ...routes.campaignTrust, middleware: [allow('anchor', 'buyer', 'factory', 'liveroom', 'operator')] }, async (c) =>
    c.json(await campaignTrust(await findCampaign(c.req.valid('param').campaignId)), 200),
  );

export const handler = lambdaHandler(app);
