// The kernel maximum mean discrepancy (Gretton et al. 2012) between generated samples X (n rows)
// and real rows Y (m rows), with the Gaussian kernel k(x, y) = exp(-|x - y|^2 / (2 sigma^2)):
//   MMD^2 = E k(x, x') + E k(y, y') - 2 E k(x, y).
// The reported estimate is the unbiased one (Gretton et al., Lemma 6: the U-statistic, which
// leaves out the i = j terms of the within-set sums):
//   MMD^2_u = (Kxx - n) / (n (n - 1)) + (Kyy - m) / (m (m - 1)) - 2 Kxy / (n m),
// K.. the full kernel sums (k(x, x) = 1, so removing the diagonal subtracts n). It can come out
// slightly negative when the two distributions agree; its square root is reported as
// sqrt(max(MMD^2_u, 0)). The biased (V-statistic) estimate, the full sums over n^2, m^2 and nm,
// is reported beside it; it is never negative.
//
// The width is the median heuristic: sigma = the median Euclidean distance between distinct
// points of the pooled set X u Y, on a deterministic subsample of at most 1,000 pooled rows
// (half from each set, at evenly spaced indices). Both sets are first centred on the real
// rows' mean: distances do not change, and the f32 norms |x|^2 that |x - y|^2 = |x|^2 + |y|^2
// - 2 x.y cancels shrink (images in [0, 1] sit far from the origin). The kernel sums are gaussian-sums.ts's row log-sums on the GPU
// (matmul dots, row norms, row log-sum-exp); each row's sum is exponentiated and the rows are
// added in order in float64, so the estimate is the same bits run to run.

import type { GpuContext } from '../gpu/context.ts';
import { ShapeError } from '../gpu/errors.ts';
import { matmul } from '../kernels/matmul.ts';
import { rowSumSquares } from '../kernels/rowreduce.ts';
import { TensorPool } from '../tensor/pool.ts';
import { download } from '../tensor/tensor.ts';
import { expectRows, gaussianLogSums, gaussianLogSumsF64, type KernelSumOptions } from './gaussian-sums.ts';

/** Pooled rows the median heuristic looks at, at most. */
export const MEDIAN_POINTS = 1000;

export interface MmdOptions extends KernelSumOptions {
  /** The kernel width; default: the median heuristic on the pooled sets. */
  sigma?: number;
  /** Pooled rows for the median heuristic (default 1,000). */
  medianPoints?: number;
}

/** The three kernel sums' means and the two estimates they give. */
export interface MmdEstimates {
  /** Unbiased MMD^2 (U-statistic); may be slightly negative. */
  mmd2: number;
  /** sqrt(max(mmd2, 0)). */
  mmd: number;
  /** Biased MMD^2 (V-statistic, diagonals included); >= 0 up to rounding. */
  mmd2Biased: number;
  /** Mean kernel values: within samples and within real rows (diagonals left out), and across. */
  kernelMeans: { samples: number; real: number; cross: number };
}

export interface MmdResult extends MmdEstimates {
  estimator: 'unbiased';
  kernel: 'gaussian';
  sigma: number;
  /** How sigma was chosen. */
  sigmaFrom: 'median heuristic' | 'given' | 'mean distance (median 0)' | 'unit (all points equal)';
  /** Pooled rows the median was taken over (0 when sigma was given). */
  medianPoints: number;
  samples: number;
  realRows: number;
}

const OP = 'mmd';

/**
 * The estimates from the full kernel sums (diagonals included) of n samples and m real rows.
 * Float64 throughout; shared by the GPU path and its float64 twin.
 */
export function mmdFromSums(sums: { xx: number; yy: number; xy: number }, n: number, m: number): MmdEstimates {
  if (!(n >= 2 && m >= 2)) throw new ShapeError(`${OP}: the unbiased estimate needs at least 2 rows on each side, got ${n} samples and ${m} real rows`);
  const samples = (sums.xx - n) / (n * (n - 1));
  const real = (sums.yy - m) / (m * (m - 1));
  const cross = sums.xy / (n * m);
  const mmd2 = samples + real - 2 * cross;
  return { mmd2, mmd: Math.sqrt(Math.max(mmd2, 0)), mmd2Biased: sums.xx / (n * n) + sums.yy / (m * m) - 2 * cross, kernelMeans: { samples, real, cross } };
}

/** `k` of [count, dim] rows at evenly spaced indices floor(i count / k). */
function evenRows(values: Float32Array, count: number, dim: number, k: number, out: Float32Array, at: number): void {
  for (let i = 0; i < k; i++) {
    const r = Math.floor((i * count) / k);
    out.set(values.subarray(r * dim, (r + 1) * dim), (at + i) * dim);
  }
}

/**
 * At most `maxPoints` rows of the pooled set [x; y], half from each set where both have enough
 * (the smaller set whole otherwise), each part at evenly spaced indices: the median sees
 * within-set and cross distances alike however unequal the sets, and the same rows every time.
 */
export function pooledSubsample(x: Float32Array, y: Float32Array, dim: number, maxPoints = MEDIAN_POINTS): Float32Array {
  const n = expectRows(OP, 'samples', x, dim);
  const m = expectRows(OP, 'real rows', y, dim);
  if (!Number.isInteger(maxPoints) || maxPoints < 2) throw new ShapeError(`${OP}: the median heuristic needs at least 2 points, got medianPoints ${maxPoints}`);
  const total = Math.min(n + m, maxPoints);
  const fromX = Math.max(Math.min(n, Math.ceil(total / 2)), total - m);
  const fromY = total - fromX;
  const out = new Float32Array(total * dim);
  evenRows(x, n, dim, fromX, out, 0);
  evenRows(y, m, dim, fromY, out, fromX);
  return out;
}

/** The median of values (sorted in place); the mean of the middle two for an even count. */
function medianInPlace(values: Float64Array): number {
  values.sort();
  const h = values.length >> 1;
  return values.length % 2 ? values[h] : (values[h - 1] + values[h]) / 2;
}

/** The median of pairwise distances, and what sigma falls back to when that is 0. */
function widthFromDistances(distances: Float64Array): { sigma: number; from: MmdResult['sigmaFrom'] } {
  let sum = 0;
  for (const d of distances) sum += d;
  const median = medianInPlace(distances);
  if (median > 0) return { sigma: median, from: 'median heuristic' };
  // More than half the pairs coincide (a collapsed generator on repeated rows): the mean
  // distance still sees the rest; with every point equal any width gives MMD 0.
  const mean = sum / distances.length;
  return mean > 0 ? { sigma: mean, from: 'mean distance (median 0)' } : { sigma: 1, from: 'unit (all points equal)' };
}

/**
 * The median heuristic's width for the rows of `points` ([k, dim]): the dot products are one
 * matmul on the GPU, the distances sqrt(max(|a|^2 + |b|^2 - 2 a.b, 0)) are formed in float64
 * from them and the rows' squared norms, over the pairs i < j.
 */
export async function medianHeuristicSigma(ctx: GpuContext, points: Float32Array, dim: number): Promise<{ sigma: number; from: MmdResult['sigmaFrom'] }> {
  const k = expectRows(OP, 'points', points, dim);
  if (k < 2) throw new ShapeError(`${OP}: the median heuristic needs at least 2 points, got 1`);
  const limit = Math.min(ctx.limits.maxStorageBufferBindingSize, ctx.limits.maxBufferSize);
  if (k * k * 4 > limit || k * dim * 4 > limit) {
    throw new ShapeError(`${OP}: ${k} points of ${dim} values for the median heuristic exceed this adapter's binding limit of ${limit} bytes; pass fewer medianPoints`);
  }
  const pool = new TensorPool(ctx);
  try {
    const a = pool.from(points, [k, dim], 'mmd.medianPoints');
    const dots = pool.acquire([k, k], 'f32', 'mmd.medianDots');
    const norms = pool.acquire([k], 'f32', 'mmd.medianNorms');
    ctx.run([matmul(ctx, a, a, dots, { transB: true, label: `mmd median dots [${k}x${dim}x${k}]` }), rowSumSquares(ctx, a, norms)]);
    const [d, nn] = await Promise.all([download(ctx, dots), download(ctx, norms)]);
    const distances = new Float64Array((k * (k - 1)) / 2);
    let p = 0;
    for (let i = 0; i < k; i++) {
      for (let j = i + 1; j < k; j++) distances[p++] = Math.sqrt(Math.max(nn[i] + nn[j] - 2 * d[i * k + j], 0));
    }
    return widthFromDistances(distances);
  } finally {
    pool.destroy();
  }
}

/** Float64 twin of medianHeuristicSigma. */
export function medianHeuristicSigmaF64(points: ArrayLike<number>, dim: number): { sigma: number; from: MmdResult['sigmaFrom'] } {
  const k = expectRows(OP, 'points', points, dim);
  if (k < 2) throw new ShapeError(`${OP}: the median heuristic needs at least 2 points, got 1`);
  const distances = new Float64Array((k * (k - 1)) / 2);
  let p = 0;
  for (let i = 0; i < k; i++) {
    for (let j = i + 1; j < k; j++) {
      let s = 0;
      for (let c = 0; c < dim; c++) s += (points[i * dim + c] - points[j * dim + c]) ** 2;
      distances[p++] = Math.sqrt(s);
    }
  }
  return widthFromDistances(distances);
}

/** Each column's mean over the rows, in float64, rows in order. */
function columnMeans(values: Float32Array, rows: number, dim: number): Float64Array {
  const mean = new Float64Array(dim);
  for (let r = 0; r < rows; r++) for (let c = 0; c < dim; c++) mean[c] += values[r * dim + c];
  return mean.map((v) => v / rows);
}

/** The rows minus `mean` (rounded to f32 once). */
function centred(values: Float32Array, mean: Float64Array): Float32Array {
  const dim = mean.length;
  return values.map((v, i) => v - mean[i % dim]);
}

/** The sum over rows of exp(row log-sum), in row order. */
function sumOfExps(lse: Float64Array): number {
  let s = 0;
  for (const v of lse) s += Math.exp(v);
  return s;
}

function checkSets(x: Float32Array, y: Float32Array, dim: number): { n: number; m: number } {
  const n = expectRows(OP, 'samples', x, dim);
  const m = expectRows(OP, 'real rows', y, dim);
  if (n < 2 || m < 2) throw new ShapeError(`${OP}: the unbiased estimate needs at least 2 rows on each side, got ${n} samples and ${m} real rows`);
  return { n, m };
}

/** The Gaussian-kernel MMD between samples x ([n, dim]) and real rows y ([m, dim]), on the GPU. */
export async function gaussianMmd(ctx: GpuContext, samples: Float32Array, real: Float32Array, dim: number, opts: MmdOptions = {}): Promise<MmdResult> {
  const { n, m } = checkSets(samples, real, dim);
  const mean = columnMeans(real, m, dim);
  const x = centred(samples, mean);
  const y = centred(real, mean);
  let sigma = opts.sigma;
  let from: MmdResult['sigmaFrom'] = 'given';
  let medianPoints = 0;
  if (sigma === undefined) {
    const subsample = pooledSubsample(x, y, dim, opts.medianPoints ?? MEDIAN_POINTS);
    medianPoints = subsample.length / dim;
    ({ sigma, from } = await medianHeuristicSigma(ctx, subsample, dim));
  } else if (!(sigma > 0 && Number.isFinite(sigma))) {
    throw new ShapeError(`${OP}: sigma must be a positive number, got ${sigma}`);
  }
  const sums = { op: OP, chunkRows: opts.chunkRows };
  const [xx] = await gaussianLogSums(ctx, x, x, dim, [sigma], sums);
  const [yy] = await gaussianLogSums(ctx, y, y, dim, [sigma], sums);
  const [xy] = await gaussianLogSums(ctx, y, x, dim, [sigma], sums);
  const estimates = mmdFromSums({ xx: sumOfExps(xx), yy: sumOfExps(yy), xy: sumOfExps(xy) }, n, m);
  return { estimator: 'unbiased', kernel: 'gaussian', ...estimates, sigma, sigmaFrom: from, medianPoints, samples: n, realRows: m };
}

/** Float64 twin of gaussianMmd's estimates at a given sigma (slow: for tests on small sets). */
export function gaussianMmdF64(x: Float32Array, y: Float32Array, dim: number, sigma: number): MmdEstimates {
  const { n, m } = checkSets(x, y, dim);
  const sum = (centres: Float32Array, points: Float32Array) => sumOfExps(gaussianLogSumsF64(centres, points, dim, [sigma], OP)[0]);
  return mmdFromSums({ xx: sum(x, x), yy: sum(y, y), xy: sum(y, x) }, n, m);
}
