import { getCampaign } from '#adapters/campaign-store.ts';
import { advanceCampaign } from '../campaigns/transitions.ts';
import type { Campaign } from '#domain/campaign.ts';

/**
 * Pre-orders read their campaign's terms on every request; during a burst that
 * would be thousands of reads a second on one item. The terms are fixed once the
 * campaign exists, and whether it is open is decided by its gates inside the
 * write, so a copy a couple of seconds old is safe.
 */
const ttlMs = 2_000;
const cache = new Map<string, { at: number; campaign: Promise<Campaign | undefined> }>();
const opening = new Map<string, Promise<Campaign>>();

export const cachedCampaign = (campaignId: string): Promise<Campaign | undefined> => {
  const hit = cache.get(campaignId);
  if (hit && Date.now() - hit.at < ttlMs) return hit.campaign;
  const campaign = getCampaign(campaignId).catch((err: unknown) => {
    cache.delete(campaignId);
    throw err;
  });
  cache.set(campaignId, { at: Date.now(), campaign });
  if (cache.size > 1_000) cache.delete(cache.keys().next().value as string);
  return campaign;
};

/**
 * A campaign whose `opensAt` has passed opens on the first pre-order even if the
 * clock has not fired yet; concurrent requests in this process share one attempt.
 */
export const openNow = (campaign: Campaign, now: Date): Promise<Campaign> => {
  let pending = opening.get(campaign.campaignId);
  if (!pending) {
    pending = advanceCampaign(campaign, now)
      .then((opened) => {
        cache.set(campaign.campaignId, { at: Date.now(), campaign: Promise.resolve(opened) });
        return opened;
      })
      .finally(() => opening.delete(campaign.campaignId));
    opening.set(campaign.campaignId, pending);
  }
  return pending;
};
