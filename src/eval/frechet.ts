// The Fréchet distance between two Gaussians fitted to feature sets (the FID's formula, on this
// project's own classifier features instead of Inception's):
//   d^2 = |mu1 - mu2|^2 + tr(S1 + S2 - 2 (S1 S2)^(1/2)).
// All in float64 on the host. tr (S1 S2)^(1/2) is computed symmetrically: S1 S2 is similar to
// M = S1^(1/2) S2 S1^(1/2) (symmetric, positive semi-definite), so the trace is the sum of the
// square roots of M's eigenvalues. Both eigen-decompositions are cyclic Jacobi: slow in theory
// (O(n^3) per sweep) but simple, accurate to rounding for symmetric matrices, and a 256 x 256
// matrix takes about a second.

import { ShapeError } from '../gpu/errors.ts';

/** Mean and covariance of a feature set (the unbiased n - 1 covariance, as numpy.cov). */
export interface GaussianStats {
  dim: number;
  count: number;
  mean: Float64Array;
  /** [dim, dim] row-major. */
  cov: Float64Array;
}

/** Mean and covariance of `count` feature rows of width `dim` (row-major), in float64. */
export function featureStats(features: ArrayLike<number>, dim: number): GaussianStats {
  const count = features.length / dim;
  if (!Number.isInteger(dim) || dim < 1 || !Number.isInteger(count) || count < 2) {
    throw new ShapeError(`featureStats: ${features.length} values are not at least 2 rows of ${dim}`);
  }
  const mean = new Float64Array(dim);
  for (let i = 0; i < count; i++) for (let a = 0; a < dim; a++) mean[a] += features[i * dim + a];
  for (let a = 0; a < dim; a++) mean[a] /= count;
  const cov = new Float64Array(dim * dim);
  const centered = new Float64Array(dim);
  for (let i = 0; i < count; i++) {
    for (let a = 0; a < dim; a++) centered[a] = features[i * dim + a] - mean[a];
    for (let a = 0; a < dim; a++) {
      const ca = centered[a];
      if (ca === 0) continue;
      const row = a * dim;
      for (let b = a; b < dim; b++) cov[row + b] += ca * centered[b];
    }
  }
  for (let a = 0; a < dim; a++) {
    for (let b = a; b < dim; b++) {
      const v = cov[a * dim + b] / (count - 1);
      cov[a * dim + b] = v;
      cov[b * dim + a] = v;
    }
  }
  return { dim, count, mean, cov };
}

/**
 * Eigenvalues and eigenvectors of a symmetric [n, n] matrix (row-major; only its symmetry is
 * assumed, not checked) by cyclic Jacobi rotations: a = V diag(values) V^T, with eigenvector k
 * in column k of `vectors`. Sweeps until the off-diagonal mass (sum of squares) is below
 * 1e-24 of the total: off-diagonal elements of 1e-12 relative, a few orders above the noise
 * floor the rotations' own rounding leaves (about n u^2 of the total), so the loop ends.
 */
export function symmetricEigen(matrix: ArrayLike<number>, n: number): { values: Float64Array; vectors: Float64Array } {
  if (matrix.length !== n * n) throw new ShapeError(`symmetricEigen: ${matrix.length} values for a ${n} x ${n} matrix`);
  const a = Float64Array.from(matrix);
  const v = new Float64Array(n * n);
  for (let i = 0; i < n; i++) v[i * n + i] = 1;
  let total = 0;
  for (let i = 0; i < n * n; i++) total += a[i] * a[i];
  for (let sweep = 0; sweep < 100; sweep++) {
    let off = 0;
    for (let p = 0; p < n; p++) for (let q = p + 1; q < n; q++) off += a[p * n + q] * a[p * n + q];
    if (off <= 1e-24 * total) break;
    for (let p = 0; p < n; p++) {
      for (let q = p + 1; q < n; q++) {
        const apq = a[p * n + q];
        if (apq === 0) continue;
        // The rotation that zeroes a[p][q]: t = tan(angle), the smaller root of t^2 + 2 theta t - 1 = 0.
        const theta = (a[q * n + q] - a[p * n + p]) / (2 * apq);
        const t = Math.sign(theta || 1) / (Math.abs(theta) + Math.sqrt(theta * theta + 1));
        const c = 1 / Math.sqrt(t * t + 1);
        const s = t * c;
        for (let k = 0; k < n; k++) {
          const akp = a[k * n + p];
          const akq = a[k * n + q];
          a[k * n + p] = c * akp - s * akq;
          a[k * n + q] = s * akp + c * akq;
        }
        for (let k = 0; k < n; k++) {
          const apk = a[p * n + k];
          const aqk = a[q * n + k];
          a[p * n + k] = c * apk - s * aqk;
          a[q * n + k] = s * apk + c * aqk;
        }
        for (let k = 0; k < n; k++) {
          const vkp = v[k * n + p];
          const vkq = v[k * n + q];
          v[k * n + p] = c * vkp - s * vkq;
          v[k * n + q] = s * vkp + c * vkq;
        }
      }
    }
  }
  const values = Float64Array.from({ length: n }, (_, i) => a[i * n + i]);
  return { values, vectors: v };
}

/**
 * The principal square root of a symmetric positive semi-definite [n, n] matrix: V
 * diag(sqrt(max(lambda, 0))) V^T. Eigenvalues below zero can only be rounding and are clamped.
 */
export function sqrtPsd(matrix: ArrayLike<number>, n: number): Float64Array {
  const { values, vectors } = symmetricEigen(matrix, n);
  const roots = values.map((l) => Math.sqrt(Math.max(l, 0)));
  const out = new Float64Array(n * n);
  for (let i = 0; i < n; i++) {
    for (let j = i; j < n; j++) {
      let sum = 0;
      for (let k = 0; k < n; k++) sum += vectors[i * n + k] * roots[k] * vectors[j * n + k];
      out[i * n + j] = sum;
      out[j * n + i] = sum;
    }
  }
  return out;
}

/** c = a b for [n, n] row-major matrices. */
export function multiply(a: ArrayLike<number>, b: ArrayLike<number>, n: number): Float64Array {
  const c = new Float64Array(n * n);
  for (let i = 0; i < n; i++) {
    for (let k = 0; k < n; k++) {
      const aik = a[i * n + k];
      if (aik === 0) continue;
      for (let j = 0; j < n; j++) c[i * n + j] += aik * b[k * n + j];
    }
  }
  return c;
}

/** tr (S1 S2)^(1/2) for symmetric positive semi-definite S1, S2, as the sum of sqrt(eig(S1^(1/2) S2 S1^(1/2))). */
export function traceSqrtProduct(s1: ArrayLike<number>, s2: ArrayLike<number>, n: number): number {
  const r = sqrtPsd(s1, n);
  const m = multiply(multiply(r, s2, n), r, n);
  // Symmetrise away the products' rounding before the symmetric eigen-solver.
  for (let i = 0; i < n; i++) {
    for (let j = i + 1; j < n; j++) {
      const avg = (m[i * n + j] + m[j * n + i]) / 2;
      m[i * n + j] = avg;
      m[j * n + i] = avg;
    }
  }
  return symmetricEigen(m, n).values.reduce((sum, l) => sum + Math.sqrt(Math.max(l, 0)), 0);
}

/** The squared Fréchet distance between two Gaussians (what the FID reports). */
export function frechetDistance(a: GaussianStats, b: GaussianStats): number {
  if (a.dim !== b.dim) throw new ShapeError(`frechetDistance: feature sizes differ (${a.dim} vs ${b.dim})`);
  const n = a.dim;
  let meanTerm = 0;
  for (let i = 0; i < n; i++) meanTerm += (a.mean[i] - b.mean[i]) ** 2;
  let trace = 0;
  for (let i = 0; i < n; i++) trace += a.cov[i * n + i] + b.cov[i * n + i];
  return meanTerm + trace - 2 * traceSqrtProduct(a.cov, b.cov, n);
}
