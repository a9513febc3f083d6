// The Gaussian Parzen-window log-likelihood of Goodfellow et al. 2014 (Table 1; the protocol of
// Breuleux et al.): fit an isotropic Gaussian window of width sigma on generated samples s_j,
//   log p(x) = log (1/N) sum_j N(x; s_j, sigma^2 I)
//            = logsumexp_j(-|x - s_j|^2 / (2 sigma^2)) - log N - d log(sigma sqrt(2 pi)),
// choose sigma on validation images and report the mean over test images with its standard
// error. The log-sum-exp is gaussian-sums.ts's, on the GPU (a matmul of dot products, the
// norms, a row log-sum-exp over the distances they form), in chunks of points that respect
// the adapter's storage binding limit.

import type { Mnist, MnistSplit } from '../data/mnist.ts';
import { MNIST_PIXELS } from '../data/mnist.ts';
import type { GpuContext } from '../gpu/context.ts';
import { ShapeError } from '../gpu/errors.ts';
import { DEFAULT_CHUNK_ROWS, expectRows, gaussianLogSums, gaussianLogSumsF64, kernelChunkRows, type KernelSumOptions } from './gaussian-sums.ts';

/** The paper code's sigma grid: 10 values log-spaced in [0.1, 1] (numpy.logspace(-1, 0, 10)). */
export const PARZEN_SIGMAS: readonly number[] = Array.from({ length: 10 }, (_, i) => 10 ** (-1 + i / 9));

/** The protocol's sizes: 10,000 generated samples, validation images = training rows 50,000..50,999. */
export const PARZEN_SAMPLES = 10_000;
export const PARZEN_VALIDATION = { start: 50_000, count: 1_000 } as const;

export type ParzenOptions = KernelSumOptions;

/** The -log N - d log(sigma sqrt(2 pi)) normaliser of a Parzen window of N samples in d dimensions. */
export function parzenLogNormalizer(samples: number, dim: number, sigma: number): number {
  return -Math.log(samples) - dim * Math.log(sigma * Math.sqrt(2 * Math.PI));
}

/** The points per chunk: the request, capped so the [chunk, samples] product and the chunk fit one binding. */
export function parzenChunkRows(ctx: GpuContext, samples: number, dim: number, requested = DEFAULT_CHUNK_ROWS): number {
  return kernelChunkRows(ctx, samples, dim, requested, 'parzen');
}

/**
 * log p(x_i) under the Parzen window of `samples` ([N, dim], row-major) for every point
 * ([P, dim]) and every sigma: result[k][i] for sigmas[k]. The kernel sums are computed on the
 * GPU (gaussian-sums.ts); the normaliser is added in float64.
 */
export async function parzenLogDensities(
  ctx: GpuContext,
  samples: Float32Array,
  points: Float32Array,
  dim: number,
  sigmas: readonly number[],
  opts: ParzenOptions = {},
): Promise<Float64Array[]> {
  const sums = await gaussianLogSums(ctx, samples, points, dim, sigmas, { ...opts, op: 'parzen' });
  const n = samples.length / dim;
  return sums.map((lse, k) => {
    const normalizer = parzenLogNormalizer(n, dim, sigmas[k]);
    return lse.map((v) => v + normalizer);
  });
}

/** Float64 twin of parzenLogDensities, computing |x - s|^2 directly (slow: for tests on subsets). */
export function parzenLogDensitiesF64(samples: ArrayLike<number>, points: ArrayLike<number>, dim: number, sigmas: readonly number[]): Float64Array[] {
  const n = expectRows('parzen', 'samples', samples, dim);
  return gaussianLogSumsF64(samples, points, dim, sigmas, 'parzen').map((lse, k) => {
    const normalizer = parzenLogNormalizer(n, dim, sigmas[k]);
    return lse.map((v) => v + normalizer);
  });
}

/** Mean and standard error (population std / sqrt(n), as the paper's code: numpy std). */
export function meanAndStandardError(values: ArrayLike<number>): { mean: number; stderr: number } {
  const n = values.length;
  let sum = 0;
  for (let i = 0; i < n; i++) sum += values[i];
  const mean = sum / n;
  let sq = 0;
  for (let i = 0; i < n; i++) sq += (values[i] - mean) ** 2;
  return { mean, stderr: Math.sqrt(sq / n) / Math.sqrt(n) };
}

export interface ParzenResult {
  /** The sigma chosen on the validation points. */
  sigma: number;
  /** Mean log-likelihood of the test points (nats) and its standard error. */
  mean: number;
  stderr: number;
  testPoints: number;
  validationPoints: number;
  samples: number;
  /** Mean validation log-likelihood of each sigma tried. */
  validation: { sigma: number; mean: number }[];
}

/** The whole protocol: sigma by mean validation log-likelihood, then the test mean and standard error. */
export async function parzenEvaluate(
  ctx: GpuContext,
  samples: Float32Array,
  validation: Float32Array,
  test: Float32Array,
  dim: number,
  opts: ParzenOptions & { sigmas?: readonly number[] } = {},
): Promise<ParzenResult> {
  const sigmas = opts.sigmas ?? PARZEN_SIGMAS;
  const perSigma = await parzenLogDensities(ctx, samples, validation, dim, sigmas, opts);
  const scored = sigmas.map((sigma, k) => ({ sigma, mean: meanAndStandardError(perSigma[k]).mean }));
  // Ties (and NaN) resolve to the first sigma, as numpy's argmax does.
  const best = scored.reduce((a, b) => (b.mean > a.mean ? b : a));
  const [ll] = await parzenLogDensities(ctx, samples, test, dim, [best.sigma], opts);
  const { mean, stderr } = meanAndStandardError(ll);
  return {
    sigma: best.sigma,
    mean,
    stderr,
    testPoints: ll.length,
    validationPoints: validation.length / dim,
    samples: samples.length / dim,
    validation: scored,
  };
}

/** Rows [start, start + count) of an MNIST split as f32 pixels in [0, 1] (uint8 / 255). */
export function mnistPixels(split: MnistSplit, start = 0, count = split.count - start): Float32Array {
  if (!Number.isInteger(start) || !Number.isInteger(count) || start < 0 || count < 1 || start + count > split.count) {
    throw new ShapeError(`mnistPixels: rows ${start}..${start + count} are outside the split's ${split.count}`);
  }
  return Float32Array.from(split.images.subarray(start * MNIST_PIXELS, (start + count) * MNIST_PIXELS), (v) => v / 255);
}

/**
 * The protocol's validation images (training rows 50,000..50,999) and test images (all 10,000)
 * of MNIST, or of Fashion-MNIST, whose split has the same sizes (and 100 of each class there).
 */
export function mnistParzenSets(mnist: Mnist): { validation: Float32Array; test: Float32Array } {
  return {
    validation: mnistPixels(mnist.train, PARZEN_VALIDATION.start, PARZEN_VALIDATION.count),
    test: mnistPixels(mnist.test),
  };
}
