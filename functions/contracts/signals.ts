import * as z from './zod.ts';
import { Id, Timestamp } from './common.ts';

// Not imported from campaigns.ts, which imports this module for SignalSummary.
const CampaignId = Id('cmp', 'campaignId');

export const signalTypes = ['view', 'like', 'cart', 'want', 'share'] as const;
export const SignalType = z.enum(signalTypes);
export type SignalType = z.infer<typeof SignalType>;

export const Signal = z
  .object({
    campaignId: CampaignId,
    sku: z.string().regex(/^[A-Za-z0-9._-]{1,64}$/, 'sku is 1-64 letters, digits or . _ -').optional(),
    type: SignalType,
    count: z.number().int().min(1).max(1_000_000),
    at: Timestamp,
  })
  .strict()
  .openapi('Signal');
export type Signal = z.infer<typeof Signal>;

export const PostSignalsBody = z
  .object({ signals: z.array(Signal).min(1).max(500) })
  .strict()
  .openapi('PostSignals');
export type PostSignalsBody = z.infer<typeof PostSignalsBody>;

export const RejectedSignal = z
  .object({
    index: z.number().int().openapi({ description: "The signal's position in the request's `signals`, from 0" }),
    reason: z.string(),
  })
  .openapi('RejectedSignal');

export const SignalsAccepted = z
  .object({
    accepted: z.number().int().openapi({ description: 'Signals queued to be counted' }),
    rejected: z.array(RejectedSignal).openapi({
      description: "Signals not counted, each with why: a campaign with `liveRoomIds` counts only its own rooms' signals",
    }),
  })
  .openapi('SignalsAccepted');
export type SignalsAccepted = z.infer<typeof SignalsAccepted>;

export const SignalCounts = z
  .object({ view: z.number().int(), like: z.number().int(), cart: z.number().int(), want: z.number().int(), share: z.number().int() })
  .openapi('SignalCounts');
export type SignalCounts = z.infer<typeof SignalCounts>;

/** Totals since the campaign began, plus the last 15 minutes. */
export const SignalSummary = SignalCounts.extend({ last15m: SignalCounts }).openapi('SignalSummary');

export const VariantForecast = z
  .object({
    sku: z.string(),
    ordered: z.number().int().openapi({ description: 'Net units ordered so far (ordered - cancelled)' }),
    forecastFinal: z.number().int(),
    forecastLow: z.number().int(),
    forecastHigh: z.number().int(),
    method: z.string(),
  })
  .openapi('VariantForecast');

export const CampaignForecast = z
  .object({
    campaignId: CampaignId,
    title: z.string(),
    status: z.string(),
    closesAt: Timestamp,
    variants: z.array(VariantForecast),
  })
  .openapi('CampaignForecast');

