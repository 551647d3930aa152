import {
  changeOpenCampaign,
  createCampaign as createCampaignRecord,
  getCampaign,
  listCampaignsForAnchor,
  readDemand,
  replaceScheduledCampaign,
} from '#adapters/campaign-store.ts';
import { activeFactoryCheck, getFactory } from '#adapters/factory-store.ts';
import { publishCommitted } from '#adapters/outbox.ts';
import { rescheduleTransition, scheduleTransition } from '#adapters/schedules.ts';
import { asCreated, isFinal, mergedTerms, newCampaign, planCampaignChange, sumDemand, type Campaign } from '#domain/campaign.ts';
import {
  CampaignChangeRefusedError,
  CampaignNotFoundError,
  CampaignStateError,
  IdempotencyKeyReusedError,
  InvalidInputError,
} from '#domain/errors.ts';
import { CreateCampaignBody, type UpdateCampaignBody } from '#contracts/campaign-terms.ts';
import { zodIssues } from '../http/problems.ts';
import { newId, requestHash } from '#shared/ids.ts';
import { log, metricNames, metrics } from '#shared/observability.ts';
import type { Principal } from '#shared/principal.ts';
import { MetricUnit } from '@aws-lambda-powertools/metrics';
import { isOwner } from './views.ts';
import { advanceCampaign, announceOpened } from './transitions.ts';

/** Creates the campaign, its gates and its open/close schedules. A replay with the same key returns the first response. */
export const createCampaign = async (anchor: Principal, body: CreateCampaignBody, idempotencyKey: string | undefined) => {
  const now = new Date();
  const campaignId = newId('cmp', idempotencyKey && `campaign|${anchor.id}|${idempotencyKey}`);
  const hash = requestHash({ route: 'POST /v1/campaigns', body });
  const campaign = newCampaign({ campaignId, anchorId: anchor.id, draft: body, now });
  const opened = campaign.status === 'OPEN' ? [announceOpened(campaign, now)] : [];
  const partners = namedFactories(body);
  const result = await createCampaignRecord(campaign, hash, opened, partners.map(([, id]) => activeFactoryCheck(id)));
  if ('failedConditions' in result) throw await unboundFactories(partners, result.failedConditions);
  if (!result.created && result.existing.requestHash !== hash) throw new IdempotencyKeyReusedError();
  const stored = result.created ? campaign : result.existing;
  // Also on a replay: the first attempt may have stopped between the write and the schedules.
  if (stored.status === 'SCHEDULED') await scheduleTransition('open', stored.campaignId, stored.opensAt);
  if (!isFinal(stored.status)) await scheduleTransition('close', stored.campaignId, stored.closesAt);
  if (result.created) {
    metrics.addMetric(metricNames.campaignsCreated, MetricUnit.Count, 1);
    log().info('campaign created', { campaignId, status: campaign.status });
    await publishCommitted(opened);
  }
  // The first response again: the campaign as created, with nothing ordered yet.
  const created = asCreated(stored);
  const nothingYet = sumDemand(created, []);
  const demand = created.maxTotalQuantity === undefined ? nothingYet : { ...nothingYet, remaining: created.maxTotalQuantity };
  return { campaign: created, demand };
};

/**
 * A campaign names only factories an operator registered and has not revoked:
 * buyer addresses go to whoever acts as that id. Held by a condition on each
 * factory inside the create's transaction, so nothing is written otherwise and
 * a revocation racing the create cannot slip between a check and the write.
 */
const namedFactories = (body: Pick<CreateCampaignBody, 'factoryId' | 'backupFactoryId'>) => [
  ['factoryId', body.factoryId] as const,
  ...(body.backupFactoryId !== undefined ? [['backupFactoryId', body.backupFactoryId] as const] : []),
];

const unboundFactories = async (named: ReturnType<typeof namedFactories>, failed: readonly number[]) => {
  const errors = await Promise.all(
    failed.map(async (i) => {
      const [path, id] = named[i]!;
      const factory = await getFactory(id, true);
      return factory
        ? { path, message: `factory ${id} is revoked`, code: 'factory_revoked', params: { factoryId: id } }
        : { path, message: `factory ${id} is not registered`, code: 'factory_not_registered', params: { factoryId: id } };
    }),
  );
  return new InvalidInputError('A campaign may name only registered, active factories', errors);
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

export const closeEarly = async (anchor: Principal, campaignId: string) => {
  const campaign = await findOwnCampaign(anchor, campaignId);
  if (isFinal(campaign.status)) throw new CampaignStateError(`Campaign ${campaignId} is already ${campaign.status}`);
  const closed = await advanceCampaign(campaign, new Date(), 'close');
  return { campaign: closed, demand: await readDemand(closed, true) };
};

/** A change that lost a race: 409 naming each field sent, so the console shows it beside them. */
const changedMeanwhile = (campaignId: string, change: UpdateCampaignBody, why: string) =>
  new CampaignChangeRefusedError(
    `Campaign ${campaignId} changed meanwhile (${why}); read it again`,
    Object.keys(change).map((path) => ({ path, message: 'the campaign changed meanwhile; read it again and retry', code: 'changed_meanwhile' })),
  );

/**
 * A change of terms (PATCH). Before opening, anything: the merged terms are
 * checked like a create (400 naming the field), the campaign and its gates are
 * rewritten, and its schedules follow its times. While OPEN, only what keeps
 * every promise made so far (planCampaignChange); anything else is 409 naming
 * the field. Read strongly, written conditionally on what was read.
 */
export const changeCampaign = async (principal: Principal, campaignId: string, change: UpdateCampaignBody) => {
  const now = new Date();
  const before = await getCampaign(campaignId, true);
  if (!before || !isOwner(before, principal)) throw new CampaignNotFoundError(campaignId);
  const planned = planCampaignChange(before, change, now);
  if ('refused' in planned) {
    throw new CampaignChangeRefusedError(`A ${before.status} campaign cannot take this change`, planned.refused);
  }
  const plan = planned.change;
  if (plan.kind === 'none') return { campaign: before, demand: await readDemand(before, true) };
  if (plan.kind === 'scheduled') {
    const merged = CreateCampaignBody.safeParse(mergedTerms(before, change));
    if (!merged.success) throw new InvalidInputError('The campaign with this change would be invalid', zodIssues(merged.error));
    const partners = namedFactories(plan.next);
    const result = await replaceScheduledCampaign(before, plan.next, partners.map(([, id]) => activeFactoryCheck(id)));
    if (!result.changed && result.failedConditions.length > 0) throw await unboundFactories(partners, result.failedConditions);
    if (!result.changed) throw changedMeanwhile(campaignId, change, 'opened, or changed by another request');
    if (plan.next.opensAt !== before.opensAt) await rescheduleTransition('open', campaignId, plan.next.opensAt);
    if (plan.next.closesAt !== before.closesAt) await rescheduleTransition('close', campaignId, plan.next.closesAt);
    log().info('campaign changed before opening', { campaignId, fields: Object.keys(change) });
    return { campaign: plan.next, demand: await readDemand(plan.next, true) };
  }
  if (!(await changeOpenCampaign(before, plan.next, plan.capRaisedBy))) {
    throw changedMeanwhile(campaignId, change, 'closing, or changed by another request');
  }
  if (plan.closesAtMoved) await rescheduleTransition('close', campaignId, plan.next.closesAt);
  log().info('open campaign changed', { campaignId, fields: Object.keys(change), capRaisedBy: plan.capRaisedBy });
  return { campaign: plan.next, demand: await readDemand(plan.next, true) };
};
