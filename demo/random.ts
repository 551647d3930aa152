/**
 * A small seeded generator (mulberry32), so `--seed` replays the same crowd:
 * the same buyers, sizes, quantities, retries, cancels and factory choices.
 * Timing still varies run to run (that is the point of a burst); what each
 * actor decides to do does not.
 */
export interface Random {
  /** Uniform in [0, 1). */
  next(): number;
  /** True with probability p. */
  chance(p: number): boolean;
  /** Integer in [min, max]. */
  int(min: number, max: number): number;
  /** One of the values, by weight. */
  weighted<T>(choices: readonly (readonly [T, number])[]): T;
  pick<T>(xs: readonly T[]): T;
  /** Fisher-Yates, returns a new array. */
  shuffle<T>(xs: readonly T[]): T[];
}

export const seededRandom = (seed: number): Random => {
  let state = seed >>> 0;
  const next = () => {
    state = (state + 0x6d2b79f5) >>> 0;
    let t = state;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
  const int = (min: number, max: number) => min + Math.floor(next() * (max - min + 1));
  return {
    next,
    chance: (p) => next() < p,
    int,
    weighted: (choices) => {
      const total = choices.reduce((n, [, w]) => n + w, 0);
      let r = next() * total;
      for (const [value, w] of choices) {
        r -= w;
        if (r < 0) return value;
      }
      return choices[choices.length - 1]![0];
    },
    pick: (xs) => xs[Math.floor(next() * xs.length)]!,
    shuffle: (xs) => {
      const out = [...xs];
      for (let i = out.length - 1; i > 0; i--) {
        const j = Math.floor(next() * (i + 1));
        [out[i], out[j]] = [out[j]!, out[i]!];
      }
      return out;
    },
  };
};
