// The Gaussian Parzen-window log-likelihood of Goodfellow et al. 2014 (Table 1; the protocol of
// Breuleux et al.): fit an isotropic Gaussian window of width sigma on generated samples s_j,
//   log p(x) = log (1/N) sum_j N(x; s_j, sigma^2 I)
//            = logsumexp_j(-|x - s_j|^2 / (2 sigma^2)) - log N - d log(sigma sqrt(2 pi)),
// choose sigma on validation images and report the mean over test images with its standard
// error. On the GPU: |x - s|^2 = |x|^2 + |s|^2 - 2 x.s, the dot products one matmul (transB)
// per chunk of points, the norms rowSumSquares, the log-sum-exp rowLogSumExp, which forms the
// distances itself. Points are processed in chunks so the [chunk, N] product respects the
// adapter's storage binding limit (128 MiB on lavapipe; 10,000 x 10,000 f32 is 400 MB).

import type { Mnist, MnistSplit } from '../data/mnist.ts';
import { MNIST_PIXELS } from '../data/mnist.ts';
import type { GpuContext, Step } from '../gpu/context.ts';
import { ShapeError } from '../gpu/errors.ts';
import { matmul } from '../kernels/matmul.ts';
import { rowLogSumExp, rowSumSquares } from '../kernels/rowreduce.ts';
import { TensorPool } from '../tensor/pool.ts';
import { download, upload, type Tensor } from '../tensor/tensor.ts';

/** The paper code's sigma grid: 10 values log-spaced in [0.1, 1] (numpy.logspace(-1, 0, 10)). */
export const PARZEN_SIGMAS: readonly number[] = Array.from({ length: 10 }, (_, i) => 10 ** (-1 + i / 9));

/** The protocol's sizes: 10,000 generated samples, validation images = training rows 50,000..50,999. */
export const PARZEN_SAMPLES = 10_000;
export const PARZEN_VALIDATION = { start: 50_000, count: 1_000 } as const;

/** Points per chunk by default: a [1000, 10000] f32 product is 40 MB. */
const DEFAULT_CHUNK_ROWS = 1000;

export interface ParzenOptions {
  /** Points per chunk (capped by the adapter's binding limit); default 1000. */
  chunkRows?: number;
}

/** The -log N - d log(sigma sqrt(2 pi)) normaliser of a Parzen window of N samples in d dimensions. */
export function parzenLogNormalizer(samples: number, dim: number, sigma: number): number {
  return -Math.log(samples) - dim * Math.log(sigma * Math.sqrt(2 * Math.PI));
}

function expectRows(what: string, data: ArrayLike<number>, dim: number): number {
  const rows = data.length / dim;
  if (!Number.isInteger(dim) || dim < 1 || !Number.isInteger(rows) || rows < 1) {
    throw new ShapeError(`parzen: ${what} holds ${data.length} values, not a positive number of rows of ${dim}`);
  }
  return rows;
}

function expectSigmas(sigmas: readonly number[]): void {
  if (!sigmas.length || sigmas.some((s) => !(s > 0) || !Number.isFinite(s))) {
    throw new ShapeError(`parzen: sigmas must be positive numbers, got [${sigmas.join(', ')}]`);
  }
}

/** The points per chunk: the request, capped so the [chunk, samples] product and the chunk fit one binding. */
export function parzenChunkRows(ctx: GpuContext, samples: number, dim: number, requested = DEFAULT_CHUNK_ROWS): number {
  const limit = Math.min(ctx.limits.maxStorageBufferBindingSize, ctx.limits.maxBufferSize);
  const rows = Math.min(requested, Math.floor(limit / (samples * 4)), Math.floor(limit / (dim * 4)));
  if (rows < 1) throw new ShapeError(`parzen: one row of ${samples} distances (${samples * 4} bytes) exceeds this adapter's binding limit of ${limit} bytes`);
  return rows;
}

/**
 * log p(x_i) under the Parzen window of `samples` ([N, dim], row-major) for every point
 * ([P, dim]) and every sigma: result[k][i] for sigmas[k]. Computed on the GPU; the
 * normaliser is added in float64.
 */
export async function parzenLogDensities(
  ctx: GpuContext,
  samples: Float32Array,
  points: Float32Array,
  dim: number,
  sigmas: readonly number[],
  opts: ParzenOptions = {},
): Promise<Float64Array[]> {
  const n = expectRows('samples', samples, dim);
  const p = expectRows('points', points, dim);
  expectSigmas(sigmas);
  const chunk = parzenChunkRows(ctx, n, dim, Math.min(opts.chunkRows ?? DEFAULT_CHUNK_ROWS, p));
  const pool = new TensorPool(ctx);
  const reads: Promise<void>[] = [];
  try {
    const s = pool.from(samples, [n, dim], 'parzen.samples');
    const sNorms = pool.acquire([n], 'f32', 'parzen.sampleNorms');
    ctx.run([rowSumSquares(ctx, s, sNorms)]);

    interface Program { x: Tensor; outs: Tensor[]; steps: Step[] }
    const programs = new Map<number, Program>();
    const programFor = (rows: number): Program => {
      let prog = programs.get(rows);
      if (!prog) {
        const x = pool.acquire([rows, dim], 'f32', 'parzen.points');
        const dots = pool.acquire([rows, n], 'f32', 'parzen.dots');
        const xNorms = pool.acquire([rows], 'f32', 'parzen.pointNorms');
        const outs = sigmas.map((_, k) => pool.acquire([rows], 'f32', `parzen.lse${k}`));
        const distances = { rowNorms: xNorms, colNorms: sNorms };
        const steps: Step[] = [
          matmul(ctx, x, s, dots, { transB: true, label: `parzen dots [${rows}x${dim}x${n}]` }),
          rowSumSquares(ctx, x, xNorms),
          ...sigmas.map((sigma, k) => rowLogSumExp(ctx, dots, outs[k], { scale: -1 / (2 * sigma * sigma), distances })),
        ];
        prog = { x, outs, steps };
        programs.set(rows, prog);
      }
      return prog;
    };

    const result = sigmas.map(() => new Float64Array(p));
    for (let start = 0; start < p; start += chunk) {
      const rows = Math.min(chunk, p - start);
      const prog = programFor(rows);
      upload(ctx, prog.x, points.subarray(start * dim, (start + rows) * dim));
      ctx.run(prog.steps);
      // Each read is submitted now, before the next chunk's upload and run can overwrite it.
      sigmas.forEach((sigma, k) => {
        const normalizer = parzenLogNormalizer(n, dim, sigma);
        reads.push(
          download(ctx, prog.outs[k]).then((lse) => {
            for (let i = 0; i < rows; i++) result[k][start + i] = lse[i] + normalizer;
          }),
        );
      });
    }
    await Promise.all(reads);
    return result;
  } finally {
    await Promise.allSettled(reads);
    pool.destroy();
  }
}

/** Float64 twin of parzenLogDensities, computing |x - s|^2 directly (slow: for tests on subsets). */
export function parzenLogDensitiesF64(samples: ArrayLike<number>, points: ArrayLike<number>, dim: number, sigmas: readonly number[]): Float64Array[] {
  const n = expectRows('samples', samples, dim);
  const p = expectRows('points', points, dim);
  expectSigmas(sigmas);
  const sq = new Float64Array(n);
  return sigmas.map((sigma) => {
    const out = new Float64Array(p);
    for (let i = 0; i < p; i++) {
      let max = -Infinity;
      for (let j = 0; j < n; j++) {
        let d = 0;
        for (let c = 0; c < dim; c++) d += (points[i * dim + c] - samples[j * dim + c]) ** 2;
        sq[j] = -d / (2 * sigma * sigma);
        max = Math.max(max, sq[j]);
      }
      let sum = 0;
      for (let j = 0; j < n; j++) sum += Math.exp(sq[j] - max);
      out[i] = max + Math.log(sum) + parzenLogNormalizer(n, dim, sigma);
    }
    return out;
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
