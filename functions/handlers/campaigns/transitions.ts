import { closeCampaign as closeCampaignRecord, openCampaign } from '#adapters/campaign-store.ts';
import { eventOf } from '#adapters/event-bus.ts';
import { publishCommitted } from '#adapters/outbox.ts';
import { dueToClose, dueToOpen, type Campaign } from '#domain/campaign.ts';
import { log } from '#shared/observability.ts';

/**
 * A campaign's own transitions (open, close), applied when due. A module of
 * its own: the pre-order path (which opens a campaign on its first pre-order)
 * and the clock apply them, and neither takes a campaign's terms, so neither
 * bundles the contracts that check them (campaign-terms.ts, decision 32).
 */
export const announceOpened = (c: Campaign, now: Date) =>
  eventOf('campaign.opened', { campaignId: c.campaignId, occurredAt: now.toISOString(), status: 'OPEN' }, c.campaignId);

/** Applies whatever transition is due at `now`; the transitions this call made are announced through the outbox. */
export const advanceCampaign = async (campaign: Campaign, now: Date, force?: 'close'): Promise<Campaign> => {
  let current = campaign;
  if (dueToOpen(current, now) && force !== 'close') {
    const opened = await openCampaign(current, now, (c) => announceOpened(c, now));
    current = opened.campaign;
    await publishCommitted(opened.events);
  }
  if (force === 'close' || dueToClose(current, now)) {
    const closed = await closeCampaignRecord(current, now, (c, demand) => {
      const ended = { campaignId: c.campaignId, occurredAt: now.toISOString(), quantity: demand.totals.ordered - demand.totals.cancelled };
      return c.status === 'FAILED'
        ? eventOf('campaign.failed', { ...ended, status: 'FAILED' }, c.campaignId)
        : eventOf('campaign.closed', { ...ended, status: 'CLOSED' }, c.campaignId);
    });
    current = closed.campaign;
    if (closed.transitioned) log().info(`campaign ${current.status}`, { campaignId: current.campaignId });
    await publishCommitted(closed.events);
  }
  return current;
};

