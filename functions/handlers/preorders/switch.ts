import { getCampaign } from '#adapters/campaign-store.ts';
import { switchVariant } from '#adapters/preorder-store.ts';
import { findVariant } from '#domain/campaign.ts';
import { InvalidInputError, PreorderNotSwitchableError } from '#domain/errors.ts';
import { noticeEntry } from '#domain/notices.ts';
import { localeOf, type Preorder } from '#domain/preorder.ts';
import { log } from '#shared/observability.ts';
import type { Principal } from '#shared/principal.ts';
import { flushNotifications } from '../notifications/flush.ts';
import { findOwnPreorder } from './use-cases.ts';

/**
 * A buyer of a variant that missed its own minimum moves the pre-order to one
 * that made its own, until the campaign's `switchBy`, keeping its place in line
 * and its price. Everything else is a 409 that says why; an sku the campaign
 * does not sell is a 400 naming `sku`.
 */
export const switchOwnPreorder = async (buyer: Principal, preorderId: string, sku: string): Promise<Preorder> => {
  const p = await findOwnPreorder(buyer, preorderId, true);
  const campaign = await getCampaign(p.campaignId, true);
  if (!campaign) throw new PreorderNotSwitchableError(preorderId, 'its campaign is gone');
  if (!findVariant(campaign, sku)) {
    throw new InvalidInputError(`This campaign has no sku ${sku}`, [
      { path: 'sku', message: `unknown sku; this campaign sells ${campaign.variants.map((v) => v.sku).join(', ')}` },
    ]);
  }
  const missed = campaign.variantsMissed ?? [];
  const now = new Date();
  if (p.status !== 'ACCEPTED' || campaign.status !== 'CLOSED' || !missed.includes(p.sku)) {
    throw new PreorderNotSwitchableError(preorderId, 'only a waiting pre-order of a variant that missed its own minimum may switch');
  }
  if (!campaign.switchBy || campaign.switchWindowClosedAt || now.getTime() >= Date.parse(campaign.switchBy)) {
    throw new PreorderNotSwitchableError(preorderId, `the switch window ended${campaign.switchBy ? ` at ${campaign.switchBy}` : ''}`);
  }
  if (sku === p.sku || missed.includes(sku)) {
    throw new PreorderNotSwitchableError(preorderId, `${sku} did not make its own minimum; switch to one that did`);
  }
  const entry = noticeEntry({ at: now.toISOString(), status: 'ACCEPTED', step: 'switched' }, 'preorder.switched', { sku }, localeOf(p));
  if (!(await switchVariant(p, campaign, sku, entry, now))) {
    const current = await findOwnPreorder(buyer, preorderId, true);
    throw new PreorderNotSwitchableError(preorderId, `it is ${current.status} on ${current.sku} now`);
  }
  log().info('pre-order switched to a variant that made its minimum', { preorderId, campaignId: p.campaignId, from: p.sku, to: sku });
  await flushNotifications([preorderId]);
  return findOwnPreorder(buyer, preorderId, true);
};
