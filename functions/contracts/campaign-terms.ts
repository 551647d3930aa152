import * as z from './zod.ts';
import { Timestamp } from './common.ts';
import { Commission, LateCompensation } from './campaigns.ts';
import { lowestPriceOf } from '#domain/pricing.ts';

/**
 * A campaign's terms as an anchor writes them: the create and change bodies, and the rules
 * between their fields. A module of its own so that only the function that takes them
 * (campaigns-api) bundles them; every other function reads campaigns, never writes their
 * terms (decision 32).
 */
const PartnerId = z.string().regex(/^[A-Za-z0-9_.:-]{1,64}$/, 'ids are 1-64 letters, digits or _ . : -');
const Sku = z.string().regex(/^[A-Za-z0-9._-]{1,64}$/, 'sku is 1-64 letters, digits or . _ -');
const Count = z.number().int().min(0).max(10_000_000);

const PriceTiersInput = z
  .array(
    z
      .object({
        minUnits: z.number().int().min(1).max(10_000_000).openapi({ description: 'Net sold units that unlock this price' }),
        unitPrice: z.number().int().min(1).max(100_000_000).openapi({ description: 'Minor units' }),
      })
      .strict(),
  )
  .min(1)
  .max(10);

/** Tiers go up in units and down in price, each below the one before and the first below the list price. */
const checkTiers = (
  tiers: readonly { minUnits: number; unitPrice: number }[] | undefined,
  listPrice: number,
  path: (string | number)[],
  ctx: z.RefinementCtx,
  listedAs = "the variant's unitPrice",
) => {
  let before = { minUnits: 0, unitPrice: listPrice };
  (tiers ?? []).forEach((t, i) => {
    if (t.minUnits <= before.minUnits) {
      ctx.addIssue({ code: 'custom', path: [...path, i, 'minUnits'], message: 'tiers go up: each minUnits above the one before', params: { code: 'tiers_not_ascending' } });
    }
    if (t.unitPrice >= before.unitPrice) {
      ctx.addIssue({
        code: 'custom',
        path: [...path, i, 'unitPrice'],
        message: i === 0 ? `a tier's unitPrice is below ${listedAs}` : "each tier's unitPrice is below the one before",
        params: { code: 'tier_price_not_lower' },
      });
    }
    before = t;
  });
};

export const VariantInput = z
  .object({
    sku: Sku,
    name: z.string().trim().min(1).max(200),
    unitPrice: z.number().int().min(1).max(100_000_000).openapi({ description: 'Minor units', example: 12900 }),
    minQuantity: z
      .number()
      .int()
      .min(1)
      .max(10_000_000)
      .optional()
      .openapi({ description: "The variant's own minimum: below it at close, its buyers may switch to a variant that made its own, or are refunded" }),
    priceTiers: PriceTiersInput.optional().openapi({
      description:
        "阶梯价: minUnits ascending, each unitPrice below the one before and below the variant's. Buyers pay unitPrice; at close the tier the variant's net sold units reached is the price, and who paid more is refunded the difference",
      example: [
        { minUnits: 100, unitPrice: 11900 },
        { minUnits: 500, unitPrice: 9900 },
      ],
    }),
  })
  .strict()
  .superRefine((v, ctx) => checkTiers(v.priceTiers, v.unitPrice, ['priceTiers'], ctx));

/** How buyers pay (定金/尾款, domain/payment.ts): the rules between its fields and the prices are checked with the terms. */
export const PaymentTermsInput = z
  .object({
    mode: z.enum(['full', 'deposit']).openapi({ description: 'full: paid when ordered (the default). deposit: a deposit when ordered, the balance once the sale closed' }),
    deposit: z.number().int().min(1).max(100_000_000).optional().openapi({ description: 'Minor units a unit, paid when ordered; required in a deposit campaign', example: 2000 }),
    balanceWindowHours: z
      .number()
      .min(1)
      .max(24 * 30)
      .optional()
      .openapi({
        description: 'Hours (at least one: buyers need time to pay) after the balances are called to pay them; required in a deposit campaign. Unpaid then: cancelled, the deposit forfeited',
        example: 48,
      }),
    depositDiscount: z
      .number()
      .int()
      .min(1)
      .max(100_000_000)
      .optional()
      .openapi({ description: '付定金立减: minor units a unit taken off the balance of who paid a deposit', example: 1000 }),
  })
  .strict()
  .superRefine((t, ctx) => {
    if (t.mode === 'deposit') {
      if (t.deposit === undefined) ctx.addIssue({ code: 'custom', path: ['deposit'], message: 'a deposit campaign names its deposit a unit', params: { code: 'deposit_required' } });
      if (t.balanceWindowHours === undefined) {
        ctx.addIssue({ code: 'custom', path: ['balanceWindowHours'], message: 'a deposit campaign names how long buyers have to pay the balance', params: { code: 'balance_window_required' } });
      }
    } else {
      for (const field of ['deposit', 'balanceWindowHours', 'depositDiscount'] as const) {
        if (t[field] !== undefined) ctx.addIssue({ code: 'custom', path: [field], message: `${field} only in a deposit campaign (mode deposit)`, params: { code: 'not_a_deposit_campaign' } });
      }
    }
  })
  .openapi('PaymentTerms');

/** A campaign's terms as an anchor writes them; the create body checks them together, a change checks them merged with the stored ones. */
const CampaignTerms = z
  .object({
    title: z.string().trim().min(1).max(200),
    factoryId: PartnerId,
    backupFactoryId: PartnerId.optional(),
    currency: z.string().regex(/^[A-Z]{3}$/, 'currency is an ISO 4217 code such as CNY'),
    // At most 24 variants keeps every gate item under 1 KB (2 WCU a transactional write).
    variants: z.array(VariantInput).min(1).max(24),
    priceTiers: PriceTiersInput.optional().openapi({
      description:
        "全场阶梯价: tiers for the whole campaign, reached by the net sold units of every variant together and pricing every variant. The variants share one unitPrice and list no tiers of their own; minUnits ascending, each unitPrice below the one before and below the variants'",
      example: [
        { minUnits: 1000, unitPrice: 8900 },
        { minUnits: 5000, unitPrice: 7900 },
      ],
    }),
    opensAt: Timestamp.optional().openapi({ description: 'Absent: open now' }),
    closesAt: Timestamp,
    minTotalQuantity: Count,
    lotSize: z.number().int().min(1).max(1_000_000),
    maxWaitHours: z.number().positive().max(24 * 90).optional(),
    maxTotalQuantity: z.number().int().min(1).max(10_000_000).optional(),
    promisedShipDays: z.number().int().min(1).max(365),
    maxPerBuyer: z.number().int().min(1).max(100_000).optional().openapi({ description: 'Units one buyer may hold in this campaign (限购); cancelled or refunded units free room' }),
    maxDelayDays: z
      .number()
      .int()
      .min(1)
      .max(365)
      .optional()
      .openapi({ description: 'Default 14: units not shipped by the original promise plus this many days are refunded by themselves' }),
    lateCompensation: LateCompensation.optional(),
    commission: Commission.optional().openapi({ description: 'Commission on net GMV (after refunds), per source: GET /v1/campaigns/{campaignId}/attribution' }),
    liveRoomIds: z
      .array(PartnerId)
      .min(1)
      .max(50)
      .optional()
      .openapi({ description: "The live rooms whose signals count for this campaign; absent: any room's" }),
    switchWindowHours: z
      .number()
      .positive()
      .max(24 * 14)
      .optional()
      .openapi({ description: 'Default 24: how long buyers of a variant below its minimum may switch to another variant' }),
    payment: PaymentTermsInput.optional().openapi({ description: 'Absent: buyers pay in full when they order' }),
  })
  .strict();

/** The rules between terms, for a create and for a change of a campaign not yet open (merged with what is stored). */
const checkTerms = (b: z.infer<typeof CampaignTerms>, ctx: z.RefinementCtx) => {
  const skus = new Set<string>();
  b.variants.forEach((v, i) => {
    if (skus.has(v.sku)) ctx.addIssue({ code: 'custom', path: ['variants', i, 'sku'], message: `sku ${v.sku} appears twice`, params: { code: 'duplicate_sku' } });
    skus.add(v.sku);
  });
  if (b.backupFactoryId !== undefined && b.backupFactoryId === b.factoryId) {
    ctx.addIssue({ code: 'custom', path: ['backupFactoryId'], message: 'backupFactoryId must differ from factoryId', params: { code: 'same_backup_factory' } });
  }
  const opens = b.opensAt ? Date.parse(b.opensAt) : Date.now();
  if (Date.parse(b.closesAt) <= Math.max(opens, Date.now())) {
    ctx.addIssue({ code: 'custom', path: ['closesAt'], message: 'closesAt must be in the future and after opensAt', params: { code: 'closes_before_opening' } });
  }
  if (b.maxTotalQuantity !== undefined && b.maxTotalQuantity < b.minTotalQuantity) {
    ctx.addIssue({ code: 'custom', path: ['maxTotalQuantity'], message: 'maxTotalQuantity must be at least minTotalQuantity', params: { code: 'cap_below_minimum' } });
  }
  b.variants.forEach((v, i) => {
    if (v.minQuantity !== undefined && b.maxTotalQuantity !== undefined && v.minQuantity > b.maxTotalQuantity) {
      ctx.addIssue({ code: 'custom', path: ['variants', i, 'minQuantity'], message: 'minQuantity cannot be above maxTotalQuantity', params: { code: 'variant_minimum_above_cap' } });
    }
  });
  if (b.maxPerBuyer !== undefined && b.maxTotalQuantity !== undefined && b.maxPerBuyer > b.maxTotalQuantity) {
    ctx.addIssue({ code: 'custom', path: ['maxPerBuyer'], message: 'maxPerBuyer cannot be above maxTotalQuantity', params: { code: 'limit_above_cap' } });
  }
  if (b.priceTiers !== undefined) {
    // One price for every variant, so one tier price can replace it; and one set of tiers, so a price is never two tiers'.
    const prices = new Set(b.variants.map((v) => v.unitPrice));
    if (prices.size > 1) {
      ctx.addIssue({
        code: 'custom',
        path: ['priceTiers'],
        message: 'tiers for the whole campaign need every variant at one unitPrice; give the variants their own priceTiers instead',
        params: { code: 'tiers_need_one_price' },
      });
    } else {
      checkTiers(b.priceTiers, b.variants[0]?.unitPrice ?? 0, ['priceTiers'], ctx, "the variants' unitPrice");
    }
    b.variants.forEach((v, i) => {
      if (v.priceTiers !== undefined) {
        ctx.addIssue({ code: 'custom', path: ['variants', i, 'priceTiers'], message: 'a campaign with priceTiers of its own lists none per variant', params: { code: 'tiers_twice' } });
      }
    });
  }
  if (b.payment?.mode === 'deposit' && b.payment.deposit !== undefined) {
    // The balance must be something on every unit, at the lowest price any tier can reach: else there is nothing left to pay.
    const { deposit, depositDiscount = 0 } = b.payment;
    const lowest = b.variants.map((v) => ({ sku: v.sku, price: lowestPriceOf(v, b.priceTiers) })).sort((x, y) => x.price - y.price)[0];
    if (lowest && deposit >= lowest.price) {
      ctx.addIssue({ code: 'custom', path: ['payment', 'deposit'], message: `the deposit must be below every unit price (${lowest.sku} can cost ${lowest.price})`, params: { code: 'deposit_above_price' } });
    } else if (lowest && deposit + depositDiscount >= lowest.price) {
      ctx.addIssue({
        code: 'custom',
        path: ['payment', 'depositDiscount'],
        message: `deposit and depositDiscount together must stay below every unit price (${lowest.sku} can cost ${lowest.price})`,
        params: { code: 'discount_above_price' },
      });
    }
  }
  if (b.liveRoomIds !== undefined && new Set(b.liveRoomIds).size !== b.liveRoomIds.length) {
    ctx.addIssue({ code: 'custom', path: ['liveRoomIds'], message: 'each live room at most once', params: { code: 'duplicate_room' } });
  }
};

export const CreateCampaignBody = CampaignTerms.superRefine(checkTerms).openapi('CreateCampaign');
export type CreateCampaignBody = z.infer<typeof CreateCampaignBody>;

/** `null`: take the term away (before opening; a default comes back where the term has one). */
const removable = <T extends z.ZodType>(t: T) => t.nullable().optional().openapi({ description: 'null removes it (before the campaign opens)' });

export const UpdateCampaignBody = CampaignTerms.partial()
  .extend({
    backupFactoryId: removable(PartnerId),
    maxWaitHours: removable(CampaignTerms.shape.maxWaitHours.unwrap()),
    maxTotalQuantity: removable(CampaignTerms.shape.maxTotalQuantity.unwrap()),
    maxPerBuyer: removable(CampaignTerms.shape.maxPerBuyer.unwrap()),
    maxDelayDays: removable(CampaignTerms.shape.maxDelayDays.unwrap()),
    lateCompensation: removable(LateCompensation),
    commission: removable(Commission),
    liveRoomIds: removable(CampaignTerms.shape.liveRoomIds.unwrap()),
    switchWindowHours: removable(CampaignTerms.shape.switchWindowHours.unwrap()),
    payment: removable(PaymentTermsInput),
    priceTiers: removable(PriceTiersInput),
  })
  .strict()
  .refine((b) => Object.keys(b).length > 0, { message: 'name at least one field to change' })
  .openapi('UpdateCampaign', {
    description:
      'Before the campaign opens: any field of the create body (checked together with the stored ones), and null for an optional one to remove it. While OPEN: only maxTotalQuantity raised, closesAt later and liveRoomIds added (the stored rooms kept); any other change is 409 naming the field. A field sent with its stored value is no change.',
  });
export type UpdateCampaignBody = z.infer<typeof UpdateCampaignBody>;
