// The numeric checks of the kernels against their float64 references. Each check is one
// kernel on one case; vitest and `npm run check` run the same list.

import type { GpuContext } from '../gpu/context.ts';

export interface Tolerance {
  /** Passes where |got - want| <= abs + rel * scale_i (scale defaults to |want|). */
  abs: number;
  rel: number;
  /** Why these numbers, printed with the result. */
  why: string;
}

export interface CheckResult {
  maxAbsError: number;
  maxRelError: number;
  /** Index of the worst element relative to its allowance, for diagnosing failures. */
  worst: number;
  pass: boolean;
  tolerance: Tolerance;
  detail?: string;
}

export interface Check {
  kernel: string;
  case: string;
  /** A check the quick set (vitest in CI, `npm run check -- --quick`) may skip. */
  slow?: boolean;
  run(ctx: GpuContext): Promise<CheckResult>;
}

/**
 * Compares GPU output to a float64 reference elementwise. `scale` (per element) replaces
 * |want| as the magnitude the relative tolerance multiplies, e.g. sum_k |a_ik||b_kj| for matmul.
 */
export function compare(
  got: ArrayLike<number>,
  want: ArrayLike<number>,
  tolerance: Tolerance,
  scale?: ArrayLike<number>,
): CheckResult {
  if (got.length !== want.length) {
    return { maxAbsError: Infinity, maxRelError: Infinity, worst: -1, pass: false, tolerance, detail: `length ${got.length} != ${want.length}` };
  }
  let maxAbs = 0;
  let maxRel = 0;
  let worst = -1;
  let worstRatio = -1;
  for (let i = 0; i < got.length; i++) {
    const g = got[i];
    const w = want[i];
    const err = g === w ? 0 : Math.abs(g - w); // equal infinities are no error
    const allowed = tolerance.abs + tolerance.rel * (scale ? scale[i] : Math.abs(w));
    // NaN compares false, so a NaN anywhere fails the check.
    const ratio = err <= allowed ? (allowed > 0 ? err / allowed : 0) : err / allowed || Infinity;
    maxAbs = Math.max(maxAbs, Number.isNaN(err) ? Infinity : err);
    maxRel = Math.max(maxRel, Number.isNaN(err) ? Infinity : err / Math.max(Math.abs(w), 1e-30));
    if (!(ratio <= worstRatio)) {
      worstRatio = Number.isNaN(ratio) ? Infinity : ratio;
      worst = i;
    }
  }
  const pass = worstRatio <= 1;
  const detail = pass ? undefined : `worst element ${worst}: got ${got[worst]}, want ${want[worst]}`;
  return { maxAbsError: maxAbs, maxRelError: maxRel, worst, pass, tolerance, detail };
}

/** Combines several comparisons of one check into one result (all must pass). */
export function combine(results: CheckResult[]): CheckResult {
  const failed = results.find((r) => !r.pass);
  return {
    maxAbsError: Math.max(...results.map((r) => r.maxAbsError)),
    maxRelError: Math.max(...results.map((r) => r.maxRelError)),
    worst: failed?.worst ?? -1,
    pass: !failed,
    tolerance: results[0].tolerance,
    detail: failed?.detail,
  };
}

/** Float32 unit roundoff. */
export const EPS32 = 2 ** -24;

/** A small seeded generator for test inputs (mulberry32): checks are reproducible. */
export function hostRandom(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

/** `n` values uniform in [lo, hi), rounded to f32 so the reference sees exactly the GPU's inputs. */
export function randomF32(n: number, seed: number, lo = -1, hi = 1): Float32Array {
  const next = hostRandom(seed);
  return Float32Array.from({ length: n }, () => lo + (hi - lo) * next());
}
