import { randomUUID } from 'node:crypto';
import { claimSignalRequest, enqueueSignals, getSignalRequest, releaseSignalRequest, type SignalRequest } from '#adapters/signal-store.ts';
import type { PostSignalsBody, SignalsAccepted } from '#contracts/signals.ts';
import type { SignalsMessage } from '#contracts/messages.ts';
import { countsSignalsFrom, findVariant, type Campaign } from '#domain/campaign.ts';
import { IdempotencyKeyReusedError, InvalidInputError, ServiceUnavailableError, type FieldIssue } from '#domain/errors.ts';
import { newId, requestHash } from '#shared/ids.ts';
import { log } from '#shared/observability.ts';
import type { Principal } from '#shared/principal.ts';
import { cachedCampaign } from './campaign-cache.ts';

/** How far from now a signal's `at` may be: late deliveries from a room, and clock skew. */
export const maxSignalAgeMs = 24 * 3600_000;
export const maxSignalLeadMs = 5 * 60_000;

/**
 * The signals could not be handed to the queue, so they were not accepted. Not
 * a DomainError: it is our outage, not the caller's mistake; the API answers 503.
 */
export class SignalsNotQueuedError extends ServiceUnavailableError {
  constructor(cause: unknown) {
    super('The signals could not be queued; nothing was accepted, try again', 1, { cause });
  }
}

/**
 * Checks what the schema cannot: the time window, that each campaign exists, that each sku is one of its variants.
 * Returns the campaigns, for the room check.
 */
const checkSignals = async (signals: PostSignalsBody['signals'], now: Date): Promise<Map<string, Campaign | undefined>> => {
  const campaigns = new Map(
    await Promise.all([...new Set(signals.map((s) => s.campaignId))].map(async (id) => [id, await cachedCampaign(id)] as const)),
  );
  const errors: FieldIssue[] = [];
  signals.forEach((s, i) => {
    const at = Date.parse(s.at);
    if (at < now.getTime() - maxSignalAgeMs) errors.push({ path: `signals.${i}.at`, message: 'more than 24 hours in the past' });
    else if (at > now.getTime() + maxSignalLeadMs) errors.push({ path: `signals.${i}.at`, message: 'more than 5 minutes in the future' });
    const campaign = campaigns.get(s.campaignId);
    if (!campaign) errors.push({ path: `signals.${i}.campaignId`, message: 'no such campaign' });
    else if (s.sku !== undefined && !findVariant(campaign, s.sku)) {
      errors.push({ path: `signals.${i}.sku`, message: `unknown sku; this campaign sells ${campaign.variants.map((v) => v.sku).join(', ')}` });
    }
  });
  if (errors.length > 0) throw new InvalidInputError(`${new Set(errors.map((e) => e.path.split('.')[1])).size} of the signals are invalid`, errors);
  return campaigns;
};

export const notOneOfTheRooms = 'this live room is not one of the campaign\'s rooms';

/** Valid signals for a campaign that names its live rooms count only from those rooms; the others are answered, not counted. */
const roomCheck = (signals: PostSignalsBody['signals'], campaigns: Map<string, Campaign | undefined>, liveRoomId: string): SignalsAccepted['rejected'] =>
  signals.flatMap((s, index) => {
    const campaign = campaigns.get(s.campaignId);
    return campaign && !countsSignalsFrom(campaign, liveRoomId) ? [{ index, reason: notOneOfTheRooms }] : [];
  });

/** The signals of the request that count: all but the rejected ones, in order. */
const counted = (signals: PostSignalsBody['signals'], rejected: readonly { readonly index: number }[]) => {
  const out = new Set(rejected.map((r) => r.index));
  return signals.filter((_, i) => !out.has(i));
};

const send = async (message: SignalsMessage): Promise<void> => {
  // A call whose every signal was rejected queues nothing.
  if (message.signals.length === 0) return;
  try {
    await enqueueSignals(message);
  } catch (err) {
    log().error('signals not queued', { messageId: message.messageId, error: err as Error });
    throw new SignalsNotQueuedError(err);
  }
};

/**
 * Takes a live room's signals: validated, then queued as one message for the
 * aggregator, which counts them per campaign × variant × minute. Accepted means
 * queued: if the queue cannot be reached nothing is accepted (503) and the key,
 * if any, is released so the retry goes through.
 *
 * A signal for a campaign that names its live rooms (`liveRoomIds`) counts only
 * from one of them: from any other room it is not queued, and the answer lists
 * it under `rejected` by its index. A call with every signal rejected is still
 * 202, with nothing queued.
 *
 * With an Idempotency-Key the message id is derived from (live room, key) and
 * recorded before sending; the aggregator counts a message id once, so a retry
 * is queued again harmlessly. That also heals a first attempt that died between
 * recording and sending.
 */
export const acceptSignals = async (
  liveroom: Principal,
  body: PostSignalsBody,
  idempotencyKey: string | undefined,
): Promise<SignalsAccepted> => {
  const now = new Date();
  if (!idempotencyKey) {
    const rejected = roomCheck(body.signals, await checkSignals(body.signals, now), liveroom.id);
    const signals = counted(body.signals, rejected);
    await send({ messageId: randomUUID(), liveroomId: liveroom.id, signals });
    return { accepted: signals.length, rejected };
  }

  const messageId = newId('sig', `signals|${liveroom.id}|${idempotencyKey}`);
  const hash = requestHash({ path: '/v1/signals', body });
  // The first call's decision stands: a replay queues and answers what it did, whatever the campaign says now.
  const replay = async (existing: SignalRequest) => {
    if (existing.requestHash !== hash) throw new IdempotencyKeyReusedError();
    await send({ messageId, liveroomId: liveroom.id, signals: counted(body.signals, existing.rejected) });
    return { accepted: existing.accepted, rejected: [...existing.rejected] };
  };

  let campaigns;
  try {
    campaigns = await checkSignals(body.signals, now);
  } catch (err) {
    // A retry of an accepted call is answered as the first one was, even once its signals have aged.
    const existing = err instanceof InvalidInputError ? await getSignalRequest(messageId, now) : undefined;
    if (existing) return replay(existing);
    throw err;
  }

  const rejected = roomCheck(body.signals, campaigns, liveroom.id);
  const signals = counted(body.signals, rejected);
  const request: SignalRequest = { messageId, requestHash: hash, accepted: signals.length, rejected };
  const claim = await claimSignalRequest(request, now);
  if (!claim.claimed) return replay(claim.existing);
  try {
    await send({ messageId, liveroomId: liveroom.id, signals });
  } catch (err) {
    // If this fails too, the key stays recorded; a retry is then a replay, which queues again.
    await releaseSignalRequest(request).catch((e: unknown) => log().warn('idempotency key not released', { error: e as Error }));
    throw err;
  }
  return { accepted: signals.length, rejected };
};
