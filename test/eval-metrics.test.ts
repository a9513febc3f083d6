// The host-side evaluation maths, against known answers: the eigen-solver and matrix square
// root, the Fréchet distance (zero for identical sets, the closed form for Gaussians), the
// class histogram scores, and the PacGAN/VEEGAN mode counts on synthetic samples.

import { describe, expect, test } from 'vitest';
import { hostRandom } from '../src/checks/check.ts';
import { GRID25, RING8 } from '../src/data/toy.ts';
import { classesCovered, classHistogram, klFromUniform } from '../src/eval/classifier-score.ts';
import { featureStats, frechetDistance, sqrtPsd, symmetricEigen, traceSqrtProduct, type GaussianStats } from '../src/eval/frechet.ts';
import { mixtureModes } from '../src/eval/modes.ts';

/** Standard normal draws (Box-Muller) from a seeded uniform source. */
function normals(n: number, seed: number): Float64Array {
  const next = hostRandom(seed);
  const out = new Float64Array(n);
  for (let i = 0; i < n; i += 2) {
    const r = Math.sqrt(-2 * Math.log(1 - next()));
    const t = 2 * Math.PI * next();
    out[i] = r * Math.cos(t);
    if (i + 1 < n) out[i + 1] = r * Math.sin(t);
  }
  return out;
}

/** A random orthogonal [n, n] matrix: the eigenvectors of a random symmetric matrix. */
function randomOrthogonal(n: number, seed: number): Float64Array {
  const g = normals(n * n, seed);
  const sym = Float64Array.from({ length: n * n }, (_, k) => g[k] + g[(k % n) * n + Math.floor(k / n)]);
  return symmetricEigen(sym, n).vectors;
}

/** Q diag(d) Q^T. */
function fromEigen(q: Float64Array, d: readonly number[], n: number): Float64Array {
  const out = new Float64Array(n * n);
  for (let i = 0; i < n; i++) for (let j = 0; j < n; j++) for (let k = 0; k < n; k++) out[i * n + j] += q[i * n + k] * d[k] * q[j * n + k];
  return out;
}

function maxAbsDiff(a: ArrayLike<number>, b: ArrayLike<number>): number {
  let m = 0;
  for (let i = 0; i < a.length; i++) m = Math.max(m, Math.abs(a[i] - b[i]));
  return m;
}

describe('symmetric eigen-decomposition and square root', () => {
  test('a 2x2 with known eigenvalues (1 and 3) and eigenvectors (1, -1)/sqrt2, (1, 1)/sqrt2', () => {
    const { values, vectors } = symmetricEigen([2, 1, 1, 2], 2);
    const order = [...values].map((v, k) => [v, k] as const).sort((a, b) => a[0] - b[0]);
    expect(order[0][0]).toBeCloseTo(1, 14);
    expect(order[1][0]).toBeCloseTo(3, 14);
    const k3 = order[1][1];
    expect(Math.abs(vectors[0 * 2 + k3])).toBeCloseTo(Math.SQRT1_2, 14);
    expect(vectors[0 * 2 + k3] * vectors[1 * 2 + k3]).toBeGreaterThan(0);
  });

  test('reconstructs a random 40x40 symmetric matrix and its spectrum', () => {
    const n = 40;
    const q = randomOrthogonal(n, 3);
    const d = Array.from({ length: n }, (_, i) => (i % 7) - 3 + i / 10);
    const a = fromEigen(q, d, n);
    const { values, vectors } = symmetricEigen(a, n);
    expect(maxAbsDiff(fromEigen(vectors, [...values], n), a)).toBeLessThan(1e-12);
    expect(maxAbsDiff([...values].sort((x, y) => x - y), [...d].sort((x, y) => x - y))).toBeLessThan(1e-12);
  });

  test('sqrtPsd(B^2) = B for a positive definite B, and the square root of a singular matrix', () => {
    const n = 30;
    const q = randomOrthogonal(n, 5);
    const roots = Array.from({ length: n }, (_, i) => 0.1 + i);
    const b = fromEigen(q, roots, n);
    const a = fromEigen(q, roots.map((r) => r * r), n);
    expect(maxAbsDiff(sqrtPsd(a, n), b)).toBeLessThan(1e-10);
    const singular = fromEigen(q, roots.map((r, i) => (i < 10 ? 0 : r * r)), n);
    const s = sqrtPsd(singular, n);
    // Eigenvalues that come out slightly negative are clamped, so the root squares back to the matrix.
    const squared = new Float64Array(n * n);
    for (let i = 0; i < n; i++) for (let j = 0; j < n; j++) for (let k = 0; k < n; k++) squared[i * n + j] += s[i * n + k] * s[k * n + j];
    expect(maxAbsDiff(squared, singular)).toBeLessThan(1e-9);
  });

  test('tr (S1 S2)^(1/2) for commuting matrices is sum sqrt(a_i b_i)', () => {
    const n = 25;
    const q = randomOrthogonal(n, 7);
    const a = Array.from({ length: n }, (_, i) => 0.5 + i);
    const b = Array.from({ length: n }, (_, i) => 3 + Math.sin(i));
    const want = a.reduce((sum, ai, i) => sum + Math.sqrt(ai * b[i]), 0);
    expect(traceSqrtProduct(fromEigen(q, a, n), fromEigen(q, b, n), n)).toBeCloseTo(want, 9);
  });
});

describe('Fréchet distance', () => {
  const stats = (mean: number[], cov: Float64Array): GaussianStats => ({ dim: mean.length, count: 0, mean: Float64Array.from(mean), cov });

  test('identical feature sets are at distance ~0 (256 features, the classifier\'s width)', () => {
    const d = 256;
    const n = 600;
    // Correlated features: a random mixing of independent normals, so the covariance is full.
    const z = normals(n * d, 11);
    const next = hostRandom(13);
    const mix = Float64Array.from({ length: d * d }, () => next() - 0.5);
    const features = new Float64Array(n * d);
    for (let i = 0; i < n; i++) for (let k = 0; k < d; k++) {
      const zk = z[i * d + k];
      for (let j = 0; j < d; j++) features[i * d + j] += zk * mix[k * d + j];
    }
    const s = featureStats(features, d);
    const trace = s.cov.reduce((t, _, k) => (k % (d + 1) === 0 ? t + s.cov[k] : t), 0);
    // Relative to tr S (~ the distance's scale), the eigen-solver's rounding is far below 1e-9.
    expect(Math.abs(frechetDistance(s, s)) / trace).toBeLessThan(1e-9);
  });

  test('shifted and scaled Gaussians match the closed form |dmu|^2 + sum (sqrt a_i - sqrt b_i)^2', () => {
    const n = 20;
    const q = randomOrthogonal(n, 17);
    const a = Array.from({ length: n }, (_, i) => 0.2 + i / 2);
    const b = a.map((v, i) => v * (1 + (i % 3)));
    const shift = Array.from({ length: n }, (_, i) => (i % 2 ? 0.5 : -0.25));
    const want = shift.reduce((s, v) => s + v * v, 0) + a.reduce((s, ai, i) => s + (Math.sqrt(ai) - Math.sqrt(b[i])) ** 2, 0);
    const got = frechetDistance(stats(new Array(n).fill(1), fromEigen(q, a, n)), stats(shift.map((v) => 1 + v), fromEigen(q, b, n)));
    expect(got).toBeCloseTo(want, 9);
    // Same covariance, shifted mean: exactly the squared shift.
    const s1 = stats(new Array(n).fill(0), fromEigen(q, a, n));
    expect(frechetDistance(s1, stats(shift, s1.cov))).toBeCloseTo(shift.reduce((s, v) => s + v * v, 0), 9);
  });

  test('from samples: N(0, I) vs N(delta, 4 I) in 8 dimensions approaches |delta|^2 + 8 (2 - 1)^2', () => {
    const d = 8;
    const n = 200_000;
    const z1 = normals(n * d, 19);
    const z2 = normals(n * d, 23);
    const delta = 0.5;
    const shifted = z2.map((v) => 2 * v + delta);
    const got = frechetDistance(featureStats(z1, d), featureStats(shifted, d));
    const want = d * delta * delta + d;
    // Sampling error of the moments at n = 200,000: a few 1e-2 on a distance of 10.
    expect(Math.abs(got - want)).toBeLessThan(0.1);
  });

  test('mismatched widths are refused', () => {
    const s = stats([0, 0], new Float64Array(4));
    expect(() => frechetDistance(s, stats([0], new Float64Array(1)))).toThrow(/feature sizes differ/);
  });
});

describe('class histogram scores', () => {
  test('a uniform histogram: 10 classes covered, KL 0; one class: 1 covered, KL log 10', () => {
    const uniform = classHistogram(Uint8Array.from({ length: 1000 }, (_, i) => i % 10));
    expect(uniform).toEqual(new Array(10).fill(100));
    expect(classesCovered(uniform)).toBe(10);
    expect(klFromUniform(uniform)).toBeCloseTo(0, 15);
    const collapsed = classHistogram(new Uint8Array(1000).fill(7));
    expect(classesCovered(collapsed)).toBe(1);
    expect(klFromUniform(collapsed)).toBeCloseTo(Math.log(10), 14);
  });

  test('the 5% threshold: 50 of 1000 counts, 49 does not', () => {
    const counts = [451, 50, 49, 450, 0, 0, 0, 0, 0, 0];
    expect(classesCovered(counts)).toBe(3);
    // Two equal halves: KL = log 10 - log 2.
    expect(klFromUniform([5, 5, 0, 0, 0, 0, 0, 0, 0, 0])).toBeCloseTo(Math.log(5), 14);
  });
});

describe('mode coverage on the 2-D mixtures (PacGAN / VEEGAN definition)', () => {
  /** `perMode` points around each listed mode, within `spread` std of it. */
  function around(centers: readonly (readonly [number, number])[], modes: number[], perMode: number, radius: number, seed: number): Float32Array {
    const next = hostRandom(seed);
    const out: number[] = [];
    for (const m of modes) {
      for (let i = 0; i < perMode; i++) {
        const r = radius * Math.sqrt(next());
        const t = 2 * Math.PI * next();
        out.push(centers[m][0] + r * Math.cos(t), centers[m][1] + r * Math.sin(t));
      }
    }
    return Float32Array.from(out);
  }

  test('every mode hit: 8/8 and 25/25, all high quality, reverse KL 0', () => {
    const ring = mixtureModes(around(RING8.centers, [0, 1, 2, 3, 4, 5, 6, 7], 100, 2.9 * RING8.std, 1), RING8);
    expect(ring).toMatchObject({ modesCaptured: 8, modes: 8, highQualityShare: 1, samples: 800 });
    expect(ring.reverseKl).toBeCloseTo(0, 14);
    const grid = mixtureModes(around(GRID25.centers, [...Array(25).keys()], 100, 2.9 * GRID25.std, 2), GRID25);
    expect(grid).toMatchObject({ modesCaptured: 25, modes: 25, highQualityShare: 1 });
    expect(grid.countsPerMode).toEqual(new Array(25).fill(100));
  });

  test('half the modes: 4/8 captured, reverse KL log 2', () => {
    const r = mixtureModes(around(RING8.centers, [0, 2, 4, 6], 250, 2 * RING8.std, 3), RING8);
    expect(r.modesCaptured).toBe(4);
    expect(r.countsPerMode).toEqual([250, 0, 250, 0, 250, 0, 250, 0]);
    expect(r.reverseKl).toBeCloseTo(Math.log(2), 14);
  });

  test('off-mode points are not high quality and capture nothing; one good sample captures a mode', () => {
    // Between modes (3.1 to 10 std out) on the ring and on the grid.
    const ringOff = around(RING8.centers, [0, 1, 2, 3, 4, 5, 6, 7], 50, 0, 4).map((v) => v * 1.05);
    const r = mixtureModes(ringOff, RING8);
    expect(r).toMatchObject({ modesCaptured: 0, highQualityShare: 0, reverseKl: null });
    const gridOff = Float32Array.from([1, 1, -3, 3, 0.2, 0, 4, 4.16]);
    expect(mixtureModes(gridOff, GRID25)).toMatchObject({ modesCaptured: 0, highQualityShare: 0 });
    // Three off-mode points and one within 3 std of (4, 4): one mode captured, a quarter high quality.
    const mixed = Float32Array.from([1, 1, -3, 3, 0.2, 0, 4, 4.14]);
    expect(mixtureModes(mixed, GRID25)).toMatchObject({ modesCaptured: 1, highQualityShare: 0.25 });
  });

  test('a mode with a single high-quality sample counts as captured (data/toy.ts would ask for 1%)', () => {
    const points = around(RING8.centers, [0], 2499, RING8.std, 5);
    const one = around(RING8.centers, [3], 1, RING8.std, 6);
    const r = mixtureModes(Float32Array.from([...points, ...one]), RING8);
    expect(r.samples).toBe(2500);
    expect(r.modesCaptured).toBe(2);
  });

  test('NaN samples are never high quality', () => {
    expect(mixtureModes(Float32Array.from([NaN, NaN, 1, 0]), RING8)).toMatchObject({ modesCaptured: 1, highQualityShare: 0.5 });
  });
});
