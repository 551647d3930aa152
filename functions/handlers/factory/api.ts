import { allow, createApi, caller, lambdaHandler } from '../http/app.ts';
import * as routes from '#contracts/routes.ts';
import { listCampaignsForFactory, readDemand } from '#adapters/campaign-store.ts';
import { variantOutlook } from '../campaigns/forecasting.ts';

/**
 * Factory API. Forecasts let a factory book material and capacity before the
 * batches come: its open and scheduled campaigns, each variant's net ordered
 * units and expected final quantity. A factory only ever sees its own campaigns.
 */
export const app = createApi().openapi({ ...routes.factoryForecasts, middleware: [allow('factory')] }, async (c) => {
  const factory = caller(c);
  const now = new Date();
  const active = (await listCampaignsForFactory(factory.id)).filter((x) => x.status === 'OPEN' || x.status === 'SCHEDULED');
  const items = await Promise.all(
    active.map(async (campaign) => {
      const outlook = await variantOutlook(campaign, await readDemand(campaign), now);
      return {
        campaignId: campaign.campaignId,
        title: campaign.title,
        status: campaign.status,
        closesAt: campaign.closesAt,
        variants: outlook.map((o) => ({
          sku: o.sku,
          ordered: o.ordered,
          forecastFinal: o.forecast.final,
          forecastLow: o.forecast.low,
          forecastHigh: o.forecast.high,
          method: o.forecast.method,
        })),
      };
    }),
  );
  return c.json({ items }, 200);
});

export const handler = lambdaHandler(app);
