import {
  closeCampaign as closeCampaignRecord,
  createCampaign as createCampaignRecord,
  getCampaign,
  listCampaignsForAnchor,
  openCampaign,
  readDemand,
} from '#adapters/campaign-store.ts';
import { eventOf, publish } from '#adapters/event-bus.ts';
import { scheduleTransition } from '#adapters/schedules.ts';
import { dueToClose, dueToOpen, isFinal, newCampaign, type Campaign } from '#domain/campaign.ts';
import {
  CampaignNotFoundError,
  CampaignStateError,
  IdempotencyKeyReusedError,
  InvalidInputError,
} from '#domain/errors.ts';
import type { CreateCampaignBody } from '#contracts/campaigns.ts';
import { newId, requestHash } from '#shared/ids.ts';
import { logger, metricNames, metrics } from '#shared/observability.ts';
import type { Principal } from '#shared/tokens.ts';
import { MetricUnit } from '@aws-lambda-powertools/metrics';
import { isOwner } from './views.ts';

/** Creates the campaign, its gates and its open/close schedules. A replay with the same key returns the campaign. */
export const createCampaign = async (anchor: Principal, body: CreateCampaignBody, idempotencyKey: string | undefined) => {
  const now = new Date();
  const campaignId = newId('cmp', idempotencyKey && `campaign|${anchor.id}|${idempotencyKey}`);
  const hash = requestHash({ route: 'POST /v1/campaigns', body });
  const campaign = newCampaign({ campaignId, anchorId: anchor.id, draft: body, now });
  const result = await createCampaignRecord(campaign, hash);
  if (!result.created && result.existing.requestHash !== hash) throw new IdempotencyKeyReusedError();
  const stored = result.created ? campaign : result.existing;
  // Also on a replay: the first attempt may have stopped between the write and the schedules.
  if (stored.status === 'SCHEDULED') await scheduleTransition('open', stored.campaignId, stored.opensAt);
  if (!isFinal(stored.status)) await scheduleTransition('close', stored.campaignId, stored.closesAt);
  if (result.created) {
    metrics.addMetric(metricNames.campaignsCreated, MetricUnit.Count, 1);
    logger.info('campaign created', { campaignId, status: campaign.status });
    if (campaign.status === 'OPEN') {
      await publish([eventOf('campaign.opened', { campaignId, occurredAt: campaign.createdAt, status: 'OPEN' }, campaignId)]);
    }
  }
  return { campaign: stored, demand: await readDemand(stored) };
};

export const findCampaign = async (campaignId: string) => {
  const campaign = await getCampaign(campaignId);
  if (!campaign) throw new CampaignNotFoundError(campaignId);
  return campaign;
};

/** Owner-only reads and changes: anyone else is told the campaign does not exist. */
export const findOwnCampaign = async (principal: Principal, campaignId: string) => {
  const campaign = await findCampaign(campaignId);
  if (!isOwner(campaign, principal)) throw new CampaignNotFoundError(campaignId);
  return campaign;
};

export const campaignWithDemand = async (campaignId: string) => {
  const campaign = await findCampaign(campaignId);
  return { campaign, demand: await readDemand(campaign) };
};

export const listOwnCampaigns = async (anchor: Principal, limit: number, cursor: string | undefined) => {
  const page = await listCampaignsForAnchor(anchor.id, limit, cursor);
  if (page === 'invalid-cursor') throw new InvalidInputError('The cursor is not one this API gave out', [{ path: 'cursor', message: 'invalid cursor' }]);
  return page;
};

/** Applies whatever transition is due at `now` and announces the ones this call made. */
export const advanceCampaign = async (campaign: Campaign, now: Date, force?: 'close'): Promise<Campaign> => {
  let current = campaign;
  if (dueToOpen(current, now) && force !== 'close') {
    const opened = await openCampaign(current, now);
    current = opened.campaign;
    if (opened.transitioned) {
      await publish([eventOf('campaign.opened', { campaignId: current.campaignId, occurredAt: now.toISOString(), status: 'OPEN' }, current.campaignId)]);
    }
  }
  if (force === 'close' || dueToClose(current, now)) {
    const closed = await closeCampaignRecord(current, now);
    current = closed.campaign;
    if (closed.transitioned) {
      const type = current.status === 'FAILED' ? 'campaign.failed' : 'campaign.closed';
      logger.info(type, { campaignId: current.campaignId, netOrdered: closed.demand.totals.ordered - closed.demand.totals.cancelled });
      await publish([eventOf(type, { campaignId: current.campaignId, occurredAt: now.toISOString(), status: current.status }, current.campaignId)]);
    }
  }
  return current;
};

export const closeEarly = async (anchor: Principal, campaignId: string) => {
  const campaign = await findOwnCampaign(anchor, campaignId);
  if (isFinal(campaign.status)) throw new CampaignStateError(`Campaign ${campaignId} is already ${campaign.status}`);
  const closed = await advanceCampaign(campaign, new Date(), 'close');
  return { campaign: closed, demand: await readDemand(closed, true) };
};
