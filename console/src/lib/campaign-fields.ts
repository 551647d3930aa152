/**
 * The create form's fields, named by the API path of their value (`variants.0.unitPrice`), in
 * screen order: where an error from the API lands and where focus goes first. Pure.
 */
export const variantFields = ['sku', 'name', 'unitPrice', 'minQuantity'] as const;

export const campaignFieldOrder = (variantCount: number): string[] => [
  'title',
  'factoryId',
  'backupFactoryId',
  'currency',
  ...Array.from({ length: variantCount }, (_, i) => [...variantFields.map((f) => `variants.${i}.${f}`), `variants.${i}`]).flat(),
  'variants',
  'opensAt',
  'closesAt',
  'minTotalQuantity',
  'lotSize',
  'maxWaitHours',
  'maxTotalQuantity',
  'maxPerBuyer',
  'promisedShipDays',
  'maxDelayDays',
  'lateCompensation.percent',
  'lateCompensation.minAmount',
  'lateCompensation.maxAmount',
  'lateCompensation',
  'liveRoomIds',
  'switchWindowHours',
];

/** A group's error (the whole variant list, one variant, the compensation object) focuses the group's first input. */
export const focusTarget = (path: string): string => {
  if (path === 'variants') return 'variants.0.sku';
  if (/^variants\.\d+$/.test(path)) return `${path}.sku`;
  if (path === 'lateCompensation') return 'lateCompensation.percent';
  return path;
};
