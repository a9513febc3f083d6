// The Wasserstein-1 distance of a 1-D sample to a normal (src/eval/normal.ts), against what it
// must be for samples placed on a normal's quantiles, and against a brute-force integral.

import { describe, expect, test } from 'vitest';
import { normalCdf, wasserstein1ToNormal } from '../src/eval/normal.ts';

/** n samples at the midpoint quantiles of N(mean, std^2), by bisection on the CDF. */
function quantileSamples(n: number, mean: number, std: number): Float64Array {
  return Float64Array.from({ length: n }, (_, i) => {
    const p = (i + 0.5) / n;
    let [lo, hi] = [-12, 12];
    for (let k = 0; k < 80; k++) {
      const m = 0.5 * (lo + hi);
      if (normalCdf(m) < p) lo = m;
      else hi = m;
    }
    return mean + std * 0.5 * (lo + hi);
  });
}

describe('wasserstein1ToNormal', () => {
  test('samples on the target quantiles are near 0; a shift of d gives d; a width off by d gives d*sqrt(2/pi)', () => {
    // 4,000 quantile points stand for the normal to within about std/n * log(n) (the tails).
    expect(wasserstein1ToNormal(quantileSamples(4000, 4, 0.5), 4, 0.5)).toBeLessThan(1e-3);
    expect(wasserstein1ToNormal(quantileSamples(4000, 4.1, 0.5), 4, 0.5)).toBeCloseTo(0.1, 3);
    expect(wasserstein1ToNormal(quantileSamples(4000, 4, 0.6), 4, 0.5)).toBeCloseTo(0.1 * Math.sqrt(2 / Math.PI), 3);
  });

  test('equals a brute-force integral of |F_n - Phi| (a million-point midpoint sum)', () => {
    let s = 7;
    const rand = () => ((s = (s * 1103515245 + 12345) % 2147483648) / 2147483648);
    const x = Float64Array.from({ length: 40 }, () => 3 + 2 * rand());
    const sorted = Float64Array.from(x).sort();
    const [lo, hi, steps] = [-4, 12, 1_000_000];
    const dx = (hi - lo) / steps;
    let brute = 0;
    for (let k = 0, j = 0; k < steps; k++) {
      const t = lo + (k + 0.5) * dx;
      while (j < sorted.length && sorted[j] <= t) j++;
      brute += Math.abs(j / sorted.length - normalCdf((t - 4) / 0.5)) * dx;
    }
    // The midpoint sum errs by under dx per step of F_n (40 steps of 1.6e-5).
    expect(Math.abs(wasserstein1ToNormal(x, 4, 0.5) - brute)).toBeLessThan(1e-3);
    expect(wasserstein1ToNormal(x, 4, 0.5)).toBeGreaterThan(0.1);
  });

  test('bad input: a non-finite sample is infinitely far; no samples or a bad target throw', () => {
    expect(wasserstein1ToNormal([4, Number.NaN], 4, 0.5)).toBe(Infinity);
    expect(() => wasserstein1ToNormal([], 4, 0.5)).toThrow(/no samples/);
    expect(() => wasserstein1ToNormal([4], 4, 0)).toThrow(/std > 0/);
  });
});
