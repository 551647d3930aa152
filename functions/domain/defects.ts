/** QC defect reasons: pure, no I/O. */

/** Why units failed QC, from a published list (api.md); counts are cumulative like the rest. */
export const defectCodes = ['stitching', 'colour', 'size', 'material', 'print', 'damage', 'other'] as const;
export type DefectCode = (typeof defectCodes)[number];
export type Defects = Readonly<Partial<Record<DefectCode, number>>>;

/** Defects as a list in the published order, zero counts left out. */
export const defectList = (d: Defects | undefined): { code: DefectCode; count: number }[] =>
  defectCodes.flatMap((code) => ((d?.[code] ?? 0) > 0 ? [{ code, count: d![code]! }] : []));

/** The sum of several defect tallies (a batch's lines, a factory's batches). */
export const addDefects = (all: readonly (Defects | undefined)[]): Defects => {
  const out: Partial<Record<DefectCode, number>> = {};
  for (const d of all) for (const code of defectCodes) if (d?.[code]) out[code] = (out[code] ?? 0) + d[code]!;
  return out;
};

export const defectTotal = (d: Defects | undefined) => defectCodes.reduce((n, code) => n + (d?.[code] ?? 0), 0);
