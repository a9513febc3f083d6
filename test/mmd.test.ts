// The kernel MMD on the GPU against its float64 twin on small sets (points and image-sized
// rows), with an error bound derived from how the GPU computes it; the median heuristic's
// subsample and fallbacks; the estimators' algebra; determinism; and the refusals.

import { afterAll, beforeAll, describe, expect, test } from 'vitest';
import { EPS32, hostRandom } from '../src/checks/check.ts';
import { gaussianLogSums, gaussianLogSumsF64 } from '../src/eval/gaussian-sums.ts';
import { gaussianMmd, gaussianMmdF64, medianHeuristicSigma, medianHeuristicSigmaF64, mmdFromSums, pooledSubsample } from '../src/eval/mmd.ts';
import type { GpuContext } from '../src/gpu/context.ts';
import { ShapeError } from '../src/gpu/errors.ts';
import { openTestContext } from './gpu.ts';

let ctx: GpuContext;
beforeAll(async () => {
  ctx = await openTestContext();
});
afterAll(async () => {
  await ctx?.destroy();
});

/** n rows of dim values: uniform in [lo, hi), or normal around `shift` when `normal`. */
function rows(n: number, dim: number, seed: number, { lo = 0, hi = 1, normal = false, shift = 0 } = {}): Float32Array {
  const next = hostRandom(seed);
  return Float32Array.from({ length: n * dim }, () => {
    if (!normal) return lo + (hi - lo) * next();
    const u = next() || 1e-12;
    return shift + Math.sqrt(-2 * Math.log(u)) * Math.cos(2 * Math.PI * next());
  });
}

const row = (a: Float32Array, dim: number, i: number) => a.subarray(i * dim, (i + 1) * dim);

/**
 * The first-order bound on the error of the GPU's squared distance |a - b|^2 = |a|^2 + |b|^2
 * - 2 a.b: three sums of `dim` products, each off by at most dim u times its absolute terms,
 * and 3 more roundings forming the distance.
 */
function distanceBound(a: Float32Array, b: Float32Array): number {
  let aa = 0;
  let bb = 0;
  let ab = 0;
  for (let k = 0; k < a.length; k++) {
    aa += a[k] * a[k];
    bb += b[k] * b[k];
    ab += Math.abs(a[k] * b[k]);
  }
  return (a.length + 3) * EPS32 * (aa + bb + 2 * ab);
}

/**
 * The bound on |MMD^2_gpu - MMD^2_f64| at a given sigma: a row's log-sum is 1-Lipschitz in its
 * values, so it errs by at most the worst distance error over 2 sigma^2, plus the reduction's
 * own u (7 N + 5 ln N + |lse|) (rowreduce's check); exp turns that into the same relative error
 * of the row's sum; each of the three means is a sum of such rows, so the estimate errs by at
 * most delta times the sum of the three means' magnitudes.
 */
function mmdBound(x: Float32Array, y: Float32Array, dim: number, sigma: number, means: { samples: number; real: number; cross: number }): number {
  const [n, m] = [x.length / dim, y.length / dim];
  let worst = 0;
  for (const [a, na] of [[x, n], [y, m]] as const) {
    for (const [b, nb] of [[x, n], [y, m]] as const) {
      for (let i = 0; i < na; i++) for (let j = 0; j < nb; j++) worst = Math.max(worst, distanceBound(row(a, dim, i), row(b, dim, j)));
    }
  }
  const big = Math.max(n, m);
  const delta = worst / (2 * sigma * sigma) + EPS32 * (7 * big + 5 * Math.log(big) + Math.log(big)) + 2 ** -21;
  // The means with their diagonals (the sums the GPU forms) are at most 1 each.
  return 1.01 * delta * (Math.abs(means.samples) + Math.abs(means.real) + 2 * Math.abs(means.cross) + 2 / Math.min(n, m));
}

/** The median-heuristic bound: the median moves by at most the largest change of any distance. */
function medianBound(points: Float32Array, dim: number): number {
  const k = points.length / dim;
  let worst = 0;
  for (let i = 0; i < k; i++) {
    for (let j = i + 1; j < k; j++) {
      const [a, b] = [row(points, dim, i), row(points, dim, j)];
      let d2 = 0;
      for (let c = 0; c < dim; c++) d2 += (a[c] - b[c]) ** 2;
      const e = distanceBound(a, b);
      // sqrt moves by e / (2 d) away from 0, by at most sqrt(e) near it.
      worst = Math.max(worst, d2 > e ? e / (2 * Math.sqrt(d2 - e)) : Math.sqrt(e));
    }
  }
  return worst;
}

describe('Gaussian-kernel MMD', () => {
  test.each([
    ['2-D points, odd sizes, a shifted set', 2, 70, 43, { normal: true }, { normal: true, shift: 0.7 }],
    ['5-D points, the same distribution', 5, 31, 57, { normal: true }, { normal: true }],
    ['16x16x3 images in [0, 1], 1 against 2 row chunks', 768, 37, 25, {}, { lo: 0.1, hi: 0.9 }],
  ] as const)('%s: GPU matches float64 within the derived bound', async (_, dim, n, m, xs, ys) => {
    const x = rows(n, dim, 11 + dim, xs);
    const y = rows(m, dim, 29 + dim, ys);
    // Chunks of 16 rows: the sums run over full chunks and a partial one.
    const gpu = await gaussianMmd(ctx, x, y, dim, { chunkRows: 16 });
    const pooled = pooledSubsample(x, y, dim);
    expect(pooled.length / dim).toBe(n + m);
    const sigma = medianHeuristicSigmaF64(pooled, dim);
    expect(sigma.from).toBe('median heuristic');
    expect(Math.abs(gpu.sigma - sigma.sigma), `sigma gpu ${gpu.sigma}, f64 ${sigma.sigma}`).toBeLessThanOrEqual(medianBound(pooled, dim));
    // The estimates at the GPU's own sigma, so only the kernel sums are compared.
    const ref = gaussianMmdF64(x, y, dim, gpu.sigma);
    const bound = mmdBound(x, y, dim, gpu.sigma, ref.kernelMeans);
    console.log(`${dim}-D ${n} vs ${m}: sigma ${gpu.sigma.toFixed(4)}, MMD^2 gpu ${gpu.mmd2.toExponential(6)} f64 ${ref.mmd2.toExponential(6)} (|diff| ${Math.abs(gpu.mmd2 - ref.mmd2).toExponential(2)}, bound ${bound.toExponential(2)})`);
    expect(Math.abs(gpu.mmd2 - ref.mmd2)).toBeLessThanOrEqual(bound);
    expect(Math.abs(gpu.mmd2Biased - ref.mmd2Biased)).toBeLessThanOrEqual(bound);
    for (const key of ['samples', 'real', 'cross'] as const) expect(Math.abs(gpu.kernelMeans[key] - ref.kernelMeans[key])).toBeLessThanOrEqual(bound);
    expect(gpu).toMatchObject({ estimator: 'unbiased', kernel: 'gaussian', samples: n, realRows: m, medianPoints: n + m, sigmaFrom: 'median heuristic' });
    expect(gpu.mmd).toBe(Math.sqrt(Math.max(gpu.mmd2, 0)));
  });

  test('a shifted set scores far above a matching one; the same inputs give the same bits', async () => {
    const dim = 2;
    const real = rows(300, dim, 1, { normal: true });
    const same = await gaussianMmd(ctx, rows(400, dim, 2, { normal: true }), real, dim);
    const shifted = await gaussianMmd(ctx, rows(400, dim, 2, { normal: true, shift: 1 }), real, dim);
    expect(Math.abs(same.mmd2)).toBeLessThan(0.01);
    expect(shifted.mmd2).toBeGreaterThan(0.1);
    expect(same.mmd2Biased).toBeGreaterThan(same.mmd2); // the diagonals' 1s count in the biased one
    const again = await gaussianMmd(ctx, rows(400, dim, 2, { normal: true, shift: 1 }), real, dim);
    expect(again).toStrictEqual(shifted);
  });

  test('the median heuristic: at most medianPoints evenly spaced pooled rows; fallbacks when distances vanish', async () => {
    const x = Float32Array.from({ length: 30 }, (_, i) => i); // rows 0..29 of one value
    const y = Float32Array.from({ length: 10 }, (_, i) => 100 + i);
    // 40 pooled rows, 8 kept: 4 from each set, at evenly spaced indices of each.
    expect([...pooledSubsample(x, y, 1, 8)]).toEqual([0, 7, 15, 22, 100, 102, 105, 107]);
    // A set too small for its half comes whole; the other fills the rest.
    expect([...pooledSubsample(x, y.subarray(0, 2), 1, 8)]).toEqual([0, 5, 10, 15, 20, 25, 100, 101]);
    expect(pooledSubsample(x, y, 1, 1000).length).toBe(40);
    const r = await gaussianMmd(ctx, x, y, 1, { medianPoints: 8 });
    expect(r.medianPoints).toBe(8);
    expect(r.sigma).toBe(medianHeuristicSigmaF64(pooledSubsample(x, y, 1, 8), 1).sigma);
    // Mostly one repeated point: the median distance is 0, the mean is used.
    const repeated = Float32Array.from([0, 0, 0, 0, 0, 3]);
    expect(medianHeuristicSigmaF64(repeated, 1)).toEqual({ sigma: 1, from: 'mean distance (median 0)' });
    expect(await medianHeuristicSigma(ctx, repeated, 1)).toEqual({ sigma: 1, from: 'mean distance (median 0)' });
    // Every point equal: any width; MMD is 0.
    const flat = new Float32Array(8).fill(0.5);
    const collapsed = await gaussianMmd(ctx, flat, flat, 2);
    expect(collapsed).toMatchObject({ sigma: 1, sigmaFrom: 'unit (all points equal)' });
    expect(collapsed.mmd).toBeLessThan(1e-4); // sqrt of a rounding-sized MMD^2
    expect(Math.abs(collapsed.mmd2)).toBeLessThan(1e-6);
  });

  test('the estimators from the sums: the unbiased one leaves the diagonals out', () => {
    // Two samples and two real rows, all kernel values between distinct points 0.5, across 0.25.
    const e = mmdFromSums({ xx: 2 + 2 * 0.5, yy: 2 + 2 * 0.5, xy: 4 * 0.25 }, 2, 2);
    expect(e.kernelMeans).toEqual({ samples: 0.5, real: 0.5, cross: 0.25 });
    expect(e.mmd2).toBe(0.5);
    expect(e.mmd2Biased).toBe(3 / 4 + 3 / 4 - 0.5);
    expect(e.mmd).toBe(Math.sqrt(0.5));
    expect(mmdFromSums({ xx: 2, yy: 2, xy: 4 }, 2, 2)).toMatchObject({ mmd2: -2, mmd: 0 });
  });

  test('the shared kernel sums match float64 (the Parzen window and the MMD use them)', async () => {
    const c = rows(50, 3, 5, { normal: true });
    const p = rows(21, 3, 6, { normal: true });
    const gpu = await gaussianLogSums(ctx, c, p, 3, [0.3, 2], { chunkRows: 8 });
    const ref = gaussianLogSumsF64(c, p, 3, [0.3, 2]);
    for (let k = 0; k < 2; k++) for (let i = 0; i < 21; i++) expect(Math.abs(gpu[k][i] - ref[k][i])).toBeLessThan(1e-4 * (1 + Math.abs(ref[k][i])));
  });

  test('refusals name the op and the sizes', async () => {
    const two = new Float32Array(4);
    await expect(gaussianMmd(ctx, new Float32Array(2), two, 2)).rejects.toThrow(/mmd: the unbiased estimate needs at least 2 rows on each side, got 1 samples and 2 real rows/);
    await expect(gaussianMmd(ctx, new Float32Array(5), two, 2)).rejects.toThrow(/mmd: samples holds 5 values, not a positive number of rows of 2/);
    await expect(gaussianMmd(ctx, two, two, 2, { sigma: 0 })).rejects.toThrow(/sigma must be a positive number, got 0/);
    await expect(gaussianMmd(ctx, two, two, 2, { medianPoints: 1 })).rejects.toThrow(ShapeError);
  });
});
