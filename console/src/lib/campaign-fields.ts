/**
 * The create form's fields, named by the API path of their value (`variants.0.unitPrice`,
 * `priceTiers.1.minUnits`), in screen order: where an error from the API lands and where focus
 * goes first. Pure.
 */
export const variantFields = ['sku', 'name', 'unitPrice', 'minQuantity'] as const;
/** A price tier's inputs (阶梯价), for a variant's tiers and for the campaign's. */
export const tierFields = ['minUnits', 'unitPrice'] as const;
/** The deposit terms' inputs (定金/尾款), shown only while the mode is deposit. */
export const depositFields = ['deposit', 'balanceWindowHours', 'depositDiscount'] as const;

/** What the form shows now: the rows and inputs that exist are the paths an error can land on. */
export interface CampaignFormShape {
  /** Tier rows per variant; its length is the number of variants. */
  readonly variantTiers: readonly number[];
  /** Tier rows of the whole campaign (全场阶梯价). */
  readonly campaignTiers?: number;
  /** Whether the deposit terms' inputs show (payment mode deposit). */
  readonly deposit?: boolean;
}

const tierRows = (group: string, rows: number): string[] => [
  ...Array.from({ length: rows }, (_, j) => tierFields.map((f) => `${group}.${j}.${f}`)).flat(),
  group,
];

export const campaignFieldOrder = (shape: CampaignFormShape): string[] => [
  'title',
  'factoryId',
  'backupFactoryId',
  'currency',
  ...shape.variantTiers.flatMap((tiers, i) => [...variantFields.map((f) => `variants.${i}.${f}`), ...tierRows(`variants.${i}.priceTiers`, tiers), `variants.${i}`]),
  'variants',
  ...tierRows('priceTiers', shape.campaignTiers ?? 0),
  'payment.mode',
  ...(shape.deposit ? depositFields.map((f) => `payment.${f}`) : []),
  'payment',
  'opensAt',
  'closesAt',
  'minTotalQuantity',
  'lotSize',
  'maxTotalQuantity',
  'maxPerBuyer',
  'maxWaitHours',
  'promisedShipDays',
  'maxDelayDays',
  'lateCompensation.percent',
  'lateCompensation.minAmount',
  'lateCompensation.maxAmount',
  'lateCompensation',
  'switchWindowHours',
  'liveRoomIds',
  'commission.anchorPercent',
  'commission.affiliatePercent',
  'commission',
];

/**
 * A group's error (the whole variant list, one variant, a list of tiers or one tier, the
 * payment terms, the compensation or commission object) focuses the group's first input.
 */
export const focusTarget = (path: string): string => {
  if (path === 'variants') return 'variants.0.sku';
  if (/^variants\.\d+$/.test(path)) return `${path}.sku`;
  if (/^(?:variants\.\d+\.)?priceTiers$/.test(path)) return `${path}.0.minUnits`;
  if (/^(?:variants\.\d+\.)?priceTiers\.\d+$/.test(path)) return `${path}.minUnits`;
  if (path === 'payment') return 'payment.mode';
  if (path === 'lateCompensation') return 'lateCompensation.percent';
  if (path === 'commission') return 'commission.anchorPercent';
  return path;
};
