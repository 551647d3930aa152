import type { Random } from './random.ts';
import type { ShippingAddress } from './support/fixtures.ts';

/**
 * Who is in the live room and what each of them will do when the anchor says
 * "3, 2, 1, buy!". Drawn up front from the seed, so the same seed brings the
 * same crowd whatever the timing: sizes skew to M and L, most buy one, a few
 * double-tap or resend after a timeout, some cancel within seconds, a few come
 * back for a second size, and some of those who find it sold out tap again.
 * A few want the limited colour (too few for its dye lot: at close they choose
 * between switching to a size and a refund), and a few try to buy more than
 * the campaign's per-buyer limit.
 */
export interface Variant {
  readonly sku: string;
  readonly name: string;
  readonly unitPrice: number;
  /** Share of the room that wants this size. */
  readonly weight: number;
  /** The limited colour: made only if enough want it (its own minimum, which this room does not reach). */
  readonly limited?: true;
}

export const variants: readonly Variant[] = [
  { sku: 'TEE-S', name: 'Small', unitPrice: 9900, weight: 20 },
  { sku: 'TEE-M', name: 'Medium', unitPrice: 9900, weight: 35 },
  { sku: 'TEE-L', name: 'Large', unitPrice: 9900, weight: 30 },
  { sku: 'TEE-XL', name: 'Extra large', unitPrice: 10900, weight: 15 },
  { sku: 'TEE-SAKURA', name: 'Sakura pink, one size (limited dye lot)', unitPrice: 12900, weight: 2, limited: true },
];

/** The limited colour's sku. */
export const limitedSku = variants.find((v) => v.limited)!.sku;
/** The sizes, which have no minimum of their own: where a buyer of the limited colour may switch. */
export const sizes = variants.filter((v) => !v.limited);

/** How a buyer's phone behaves: sends once; resends after an answer that never arrived; or sends twice at once (a double tap). */
export type RetryHabit = 'none' | 'resend' | 'double-tap';

export interface BuyerPlan {
  readonly index: number;
  readonly sku: string;
  readonly quantity: number;
  readonly retry: RetryHabit;
  /** Cancels this long after the 202, if set. */
  readonly cancelAfterMs?: number;
  /** Comes back for one more in another size, with a new Idempotency-Key. */
  readonly secondSku?: string;
  /** Taps again this long after a sold-out answer, if set. */
  readonly retryAfterSoldOutMs?: number;
  /** Comes back for this many more of the same, past the per-buyer limit (a new Idempotency-Key), if set. */
  readonly greedyQuantity?: number;
  /** Told the limited colour will not be made: switches to this size, or (absent) waits for the refund. */
  readonly switchTo?: string;
  readonly address: ShippingAddress;
}

/** Mean units per buyer implied by the plan's odds (quantities and second orders), for sizing the campaign. */
export const expectedUnitsPerBuyer = (0.75 * 1 + 0.2 * 2 + 0.05 * 3) * 1 + 0.04 * 1;

const names = ['Li Wei', 'Wang Fang', 'Zhang Min', 'Liu Yang', 'Chen Jing', 'Yang Lei', 'Zhao Li', 'Huang Tao', 'Zhou Xin', 'Wu Hui', 'Xu Ming', 'Sun Yan'];
const cities = [
  { city: 'Shanghai', region: 'Shanghai', postalCode: '200120' },
  { city: 'Hangzhou', region: 'Zhejiang', postalCode: '310002' },
  { city: 'Guangzhou', region: 'Guangdong', postalCode: '510030' },
  { city: 'Chengdu', region: 'Sichuan', postalCode: '610041' },
  { city: 'Wuhan', region: 'Hubei', postalCode: '430014' },
  { city: 'Xiamen', region: 'Fujian', postalCode: '361001' },
];
const streets = ['Century Avenue', 'Nanjing Road', 'Wensan Road', 'Tianhe Road', 'Chunxi Road', 'Jiefang Avenue', 'Siming South Road'];

const addressFor = (rng: Random): ShippingAddress => {
  const where = rng.pick(cities);
  return {
    name: rng.pick(names),
    phone: `+86 13${rng.int(0, 9)} ${String(rng.int(0, 9999)).padStart(4, '0')} ${String(rng.int(0, 9999)).padStart(4, '0')}`,
    line1: `${rng.int(1, 999)} ${rng.pick(streets)}`,
    ...where,
    country: 'CN',
  };
};

export const planCrowd = (rng: Random, buyers: number): BuyerPlan[] => {
  const crowd = Array.from({ length: buyers }, (_, index): BuyerPlan => {
    const sku = rng.weighted(variants.map((v) => [v.sku, v.weight] as const));
    const quantity = rng.weighted([
      [1, 75],
      [2, 20],
      [3, 5],
    ] as const);
    const retry = rng.weighted<RetryHabit>([
      ['none', 90],
      ['resend', 8],
      ['double-tap', 2],
    ]);
    const cancelAfterMs = rng.chance(0.05) ? rng.int(20, 1500) : undefined;
    const secondSku = rng.chance(0.04) ? rng.pick(variants.filter((v) => v.sku !== sku)).sku : undefined;
    const retryAfterSoldOutMs = rng.chance(0.3) ? rng.int(200, 1500) : undefined;
    const greedyQuantity = cancelAfterMs === undefined && rng.chance(0.01) ? 3 : undefined;
    return {
      index,
      sku,
      quantity,
      retry,
      ...(cancelAfterMs !== undefined && { cancelAfterMs }),
      ...(secondSku !== undefined && { secondSku }),
      ...(retryAfterSoldOutMs !== undefined && { retryAfterSoldOutMs }),
      ...(greedyQuantity !== undefined && { greedyQuantity }),
      address: addressFor(rng),
    };
  });
  // However small the room, the story needs a few of each: buyers of the limited colour who stay
  // (drawn from the first half, who order before the cap is reached) and buyers past the limit.
  const early = crowd.slice(0, Math.max(1, Math.ceil(buyers / 2))).filter((p) => p.cancelAfterMs === undefined);
  const wantLimited = Math.min(3, early.length);
  for (const p of rng.shuffle(early.filter((x) => x.sku !== limitedSku && x.secondSku !== limitedSku)).slice(0, Math.max(0, wantLimited - early.filter((x) => x.sku === limitedSku).length))) {
    crowd[p.index] = { ...p, sku: limitedSku };
  }
  const wantGreedy = Math.min(2, early.length);
  const greedyNow = crowd.filter((p) => p.greedyQuantity !== undefined).length;
  for (const p of rng.shuffle(early.filter((x) => crowd[x.index]!.greedyQuantity === undefined)).slice(0, Math.max(0, wantGreedy - greedyNow))) {
    crowd[p.index] = { ...crowd[p.index]!, greedyQuantity: 3 };
  }
  // The limited colour's buyers (first choice or second) decide now, so the seed decides: about three
  // in five switch to a size, the others take the refund; with two or more, some of each.
  const limitedBuyers = crowd.filter((p) => p.sku === limitedSku || p.secondSku === limitedSku);
  const choices: (string | undefined)[] = limitedBuyers.map(() => (rng.chance(0.6) ? rng.weighted(sizes.map((v) => [v.sku, v.weight] as const)) : undefined));
  const switching = choices.filter((c) => c !== undefined).length;
  if (limitedBuyers.length >= 2 && switching === choices.length) choices[choices.length - 1] = undefined;
  if (limitedBuyers.length >= 2 && switching === 0) choices[0] = sizes[1]!.sku;
  limitedBuyers.forEach((p, i) => {
    const switchTo = choices[i];
    if (switchTo !== undefined) crowd[p.index] = { ...p, switchTo };
  });
  return crowd;
};
