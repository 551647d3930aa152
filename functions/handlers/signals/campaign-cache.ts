import { getCampaign } from '#adapters/campaign-store.ts';
import type { Campaign } from '#domain/campaign.ts';

/**
 * Signals name their campaign and sku; checking them (API) and mapping a sku to
 * its counter slot (aggregator) needs the campaign's variants, which are fixed
 * once it exists. A live room streams many calls a second on one campaign, so
 * each process keeps a copy for a few seconds instead of reading the item on
 * every call.
 */
const ttlMs = 5_000;
const cache = new Map<string, { at: number; campaign: Promise<Campaign | undefined> }>();

/**
 * The campaign, or undefined when it does not exist. A miss is read again
 * strongly consistent: a campaign created a moment ago is not refused.
 */
export const cachedCampaign = (campaignId: string): Promise<Campaign | undefined> => {
  const hit = cache.get(campaignId);
  if (hit && Date.now() - hit.at < ttlMs) return hit.campaign;
  const campaign = getCampaign(campaignId)
    .then((found) => found ?? getCampaign(campaignId, true))
    .catch((err: unknown) => {
      cache.delete(campaignId);
      throw err;
    });
  cache.set(campaignId, { at: Date.now(), campaign });
  if (cache.size > 1_000) cache.delete(cache.keys().next().value as string);
  return campaign;
};
