// Row reductions: squared row norms, and a row-wise log-sum-exp, optionally of squared
// distances formed from a matrix of dot products and the two sides' squared norms (the
// Gaussian Parzen window's log-density: a matmul with transB, these norms, then this).
// Deterministic: each row is reduced in a fixed order.

import source from '../../shaders/rowreduce.wgsl?raw';
import { uniforms, type Dispatch, type GpuContext, type KernelSpec } from '../gpu/context.ts';
import { ShapeError } from '../gpu/errors.ts';
import { defineShader } from '../gpu/shader.ts';
import type { Tensor } from '../tensor/tensor.ts';
import { expect2d, expectDistinct, expectDType, expectFinite, grid1d } from './common.ts';

const shader = defineShader('rowreduce.wgsl', source);

const SUM_SQUARES: KernelSpec = { shader, entry: 'row_sum_squares', bindings: ['read', 'write', 'uniform'] };
const LOGSUMEXP: KernelSpec = { shader, entry: 'row_logsumexp', bindings: ['read', 'read', 'read', 'write', 'uniform'] };

/** Lanes per workgroup (the shader's WG); lanes per row divide it. */
const WG = 64;

/**
 * Lanes that share a row. On CPU adapters one invocation per row is fastest: measured on
 * lavapipe (2 shared cores), a [1000, 10000] log-sum-exp of distances took 75-90 ms with 1 lane
 * per row (67-83 ms with 2), 96-114 ms with 8 and 117-141 ms with 64; squared norms of
 * [10000, 784] 20 ms with 1 and 110-117 ms with 64 (workgroup barriers are costly there, and
 * rows are plenty). On GPUs up to 64 lanes share a row so reads coalesce (chosen by
 * reasoning, not measured).
 */
export function rowLanesFor(ctx: GpuContext, cols: number): number {
  if (ctx.adapter.isCpu) return 1;
  let lanes = 1;
  while (lanes < WG && lanes * 2 <= cols) lanes *= 2;
  return lanes;
}

function expectRowOutput(op: string, x: Tensor, out: Tensor): void {
  expectDType(op, out, 'f32');
  if (out.size !== x.rows || out.rank > 2 || (out.rank === 2 && out.cols !== 1)) {
    throw new ShapeError(`${op}: ${out} must have shape [${x.rows}] or [${x.rows}, 1] (one value per row of ${x})`);
  }
}

function expectLanes(op: string, lanes: number): void {
  if (!Number.isInteger(lanes) || lanes < 1 || lanes > WG || (lanes & (lanes - 1)) !== 0) {
    throw new ShapeError(`${op}: rowLanes must be a power of two in [1, ${WG}], got ${lanes}`);
  }
}

export interface RowReduceOptions {
  /** Lanes sharing a row (a power of two up to 64); default: the adapter's choice. Checks force each. */
  rowLanes?: number;
}

/** out[i] = sum_j x[i, j]^2 for x [rows, cols] f32; out holds one value per row. */
export function rowSumSquares(ctx: GpuContext, x: Tensor, out: Tensor, opts: RowReduceOptions = {}): Dispatch {
  const op = `rowSumSquares(${x} -> ${out})`;
  expectDType(op, x, 'f32');
  expect2d(op, x);
  expectRowOutput(op, x, out);
  expectDistinct(op, x, out);
  const lanes = opts.rowLanes ?? rowLanesFor(ctx, x.cols);
  expectLanes(op, lanes);
  return ctx.dispatch(SUM_SQUARES, {
    label: op,
    constants: { WG, ROW_LANES: lanes },
    resources: [x.binding(), out.binding(), uniforms([['u32', x.rows], ['u32', x.cols], ['f32', 1]])],
    workgroups: grid1d(ctx, x.rows * lanes, WG),
  });
}

export interface RowLogSumExpOptions extends RowReduceOptions {
  /** Multiplies every value before the exp (e.g. -1 / (2 sigma^2) for a Gaussian kernel). Default 1. */
  scale?: number;
  /**
   * Read x [R, C] as dot products x_i . s_j and reduce the squared distances
   * max(rowNorms[i] + colNorms[j] - 2 x[i, j], 0) instead; rowNorms [R] and colNorms [C] are
   * the squared norms (rowSumSquares) of the two sides.
   */
  distances?: { rowNorms: Tensor; colNorms: Tensor };
}

/**
 * out[i] = log sum_j exp(scale * v[i, j]) over the columns of x [rows, cols], v = x or the
 * squared distances of `distances`. Stable for any finite scale * v (a running maximum is
 * factored out). Values must be finite as f32.
 */
export function rowLogSumExp(ctx: GpuContext, x: Tensor, out: Tensor, opts: RowLogSumExpOptions = {}): Dispatch {
  const dist = opts.distances;
  const op = `rowLogSumExp(${x}${dist ? `, ${dist.rowNorms}, ${dist.colNorms}` : ''} -> ${out})`;
  expectDType(op, x, 'f32');
  expect2d(op, x);
  expectRowOutput(op, x, out);
  const scale = opts.scale ?? 1;
  expectFinite(op, 'scale', scale);
  if (!Number.isFinite(Math.fround(scale))) throw new ShapeError(`${op}: scale ${scale} overflows f32`);
  if (dist) {
    expectDType(op, dist.rowNorms, 'f32');
    expectDType(op, dist.colNorms, 'f32');
    if (dist.rowNorms.size !== x.rows || dist.rowNorms.rank > 2) throw new ShapeError(`${op}: rowNorms ${dist.rowNorms} must hold ${x.rows} values (one per row of ${x})`);
    if (dist.colNorms.size !== x.cols || dist.colNorms.rank > 2) throw new ShapeError(`${op}: colNorms ${dist.colNorms} must hold ${x.cols} values (one per column of ${x})`);
    expectDistinct(op, dist.rowNorms, out);
    expectDistinct(op, dist.colNorms, out);
  }
  expectDistinct(op, x, out);
  const lanes = opts.rowLanes ?? rowLanesFor(ctx, x.cols);
  expectLanes(op, lanes);
  // Without distances the norm slots are never read; x is bound there (read-only twice is allowed).
  const spare = x.binding();
  return ctx.dispatch(LOGSUMEXP, {
    label: op,
    constants: { WG, ROW_LANES: lanes, FROM_DOTS: dist ? 1 : 0 },
    resources: [x.binding(), dist?.rowNorms.binding() ?? spare, dist?.colNorms.binding() ?? spare, out.binding(), uniforms([['u32', x.rows], ['u32', x.cols], ['f32', scale]])],
    workgroups: grid1d(ctx, x.rows * lanes, WG),
  });
}
