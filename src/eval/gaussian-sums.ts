// Row sums of a Gaussian kernel on the GPU, in the log domain:
//   out_k[i] = log sum_j exp(-|x_i - c_j|^2 / (2 sigma_k^2))
// for points x_i against centres c_j, one result per point and sigma. Both the Parzen window
// (centres = generated samples) and the kernel MMD (centres = either set) are these sums.
// |x - c|^2 = |x|^2 + |c|^2 - 2 x.c: the dot products are one matmul (transB) per chunk of
// points, the norms rowSumSquares, the log-sum-exp rowLogSumExp (which forms the distances
// itself, clamped at 0). Points go in chunks so the [chunk, centres] product respects the
// adapter's storage binding limit (128 MiB on lavapipe; 10,000 x 10,000 f32 is 400 MB).
// Deterministic: every dispatch reduces in a fixed order, and results are assembled in place.

import type { GpuContext, Step } from '../gpu/context.ts';
import { ShapeError } from '../gpu/errors.ts';
import { matmul } from '../kernels/matmul.ts';
import { rowLogSumExp, rowSumSquares } from '../kernels/rowreduce.ts';
import { TensorPool } from '../tensor/pool.ts';
import { download, upload, type Tensor } from '../tensor/tensor.ts';

/** Points per chunk by default: a [1000, 10000] f32 product is 40 MB. */
export const DEFAULT_CHUNK_ROWS = 1000;

export interface KernelSumOptions {
  /** Points per chunk (capped by the adapter's binding limit); default 1000. */
  chunkRows?: number;
}

/** Rows of `dim` values in `data`, or a ShapeError naming `op` and `what`. */
export function expectRows(op: string, what: string, data: ArrayLike<number>, dim: number): number {
  const rows = data.length / dim;
  if (!Number.isInteger(dim) || dim < 1 || !Number.isInteger(rows) || rows < 1) {
    throw new ShapeError(`${op}: ${what} holds ${data.length} values, not a positive number of rows of ${dim}`);
  }
  return rows;
}

export function expectSigmas(op: string, sigmas: readonly number[]): void {
  if (!sigmas.length || sigmas.some((s) => !(s > 0) || !Number.isFinite(s))) {
    throw new ShapeError(`${op}: sigmas must be positive numbers, got [${sigmas.join(', ')}]`);
  }
}

/** The points per chunk: the request, capped so the [chunk, centres] product and the chunk fit one binding. */
export function kernelChunkRows(ctx: GpuContext, centres: number, dim: number, requested = DEFAULT_CHUNK_ROWS, op = 'gaussian sums'): number {
  const limit = Math.min(ctx.limits.maxStorageBufferBindingSize, ctx.limits.maxBufferSize);
  const rows = Math.min(requested, Math.floor(limit / (centres * 4)), Math.floor(limit / (dim * 4)));
  if (rows < 1) throw new ShapeError(`${op}: one row of ${centres} distances (${centres * 4} bytes) exceeds this adapter's binding limit of ${limit} bytes`);
  return rows;
}

/**
 * log sum_j exp(-|x_i - c_j|^2 / (2 sigma^2)) for every point x_i ([P, dim] row-major) against
 * the centres c_j ([N, dim]) and every sigma: result[k][i] for sigmas[k], computed in f32 on the
 * GPU and returned as float64. `op` names the caller in errors.
 */
export async function gaussianLogSums(
  ctx: GpuContext,
  centres: Float32Array,
  points: Float32Array,
  dim: number,
  sigmas: readonly number[],
  opts: KernelSumOptions & { op?: string } = {},
): Promise<Float64Array[]> {
  const op = opts.op ?? 'gaussianLogSums';
  const n = expectRows(op, 'samples', centres, dim);
  const p = expectRows(op, 'points', points, dim);
  expectSigmas(op, sigmas);
  const chunk = kernelChunkRows(ctx, n, dim, Math.min(opts.chunkRows ?? DEFAULT_CHUNK_ROWS, p), op);
  const pool = new TensorPool(ctx);
  const reads: Promise<void>[] = [];
  try {
    const c = pool.from(centres, [n, dim], `${op}.centres`);
    const cNorms = pool.acquire([n], 'f32', `${op}.centreNorms`);
    ctx.run([rowSumSquares(ctx, c, cNorms)]);

    interface Program { x: Tensor; outs: Tensor[]; steps: Step[] }
    const programs = new Map<number, Program>();
    const programFor = (rows: number): Program => {
      let prog = programs.get(rows);
      if (!prog) {
        const x = pool.acquire([rows, dim], 'f32', `${op}.points`);
        const dots = pool.acquire([rows, n], 'f32', `${op}.dots`);
        const xNorms = pool.acquire([rows], 'f32', `${op}.pointNorms`);
        const outs = sigmas.map((_, k) => pool.acquire([rows], 'f32', `${op}.lse${k}`));
        const distances = { rowNorms: xNorms, colNorms: cNorms };
        const steps: Step[] = [
          matmul(ctx, x, c, dots, { transB: true, label: `${op} dots [${rows}x${dim}x${n}]` }),
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
      sigmas.forEach((_, k) => {
        reads.push(
          download(ctx, prog.outs[k]).then((lse) => {
            result[k].set(lse, start);
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

/** Float64 twin of gaussianLogSums, forming |x - c|^2 directly (slow: for tests on small sets). */
export function gaussianLogSumsF64(centres: ArrayLike<number>, points: ArrayLike<number>, dim: number, sigmas: readonly number[], op = 'gaussianLogSumsF64'): Float64Array[] {
  const n = expectRows(op, 'samples', centres, dim);
  const p = expectRows(op, 'points', points, dim);
  expectSigmas(op, sigmas);
  const scaled = new Float64Array(n);
  return sigmas.map((sigma) => {
    const out = new Float64Array(p);
    for (let i = 0; i < p; i++) {
      let max = -Infinity;
      for (let j = 0; j < n; j++) {
        let d = 0;
        for (let c = 0; c < dim; c++) d += (points[i * dim + c] - centres[j * dim + c]) ** 2;
        scaled[j] = -d / (2 * sigma * sigma);
        max = Math.max(max, scaled[j]);
      }
      let sum = 0;
      for (let j = 0; j < n; j++) sum += Math.exp(scaled[j] - max);
      out[i] = max + Math.log(sum);
    }
    return out;
  });
}
