// Matrix products with a fused epilogue: C = op(A) op(B), then bias, activation or activation
// gradient, or accumulation into C; optionally the bias gradient db = column sums of op(B) in
// the same dispatch. Two strategies: `register` for CPU adapters (no workgroup memory;
// shaders/matmul_subgroups.wgsl where the device has subgroups, else the plain kernel in
// shaders/matmul.wgsl) and `tiled` (workgroup memory, shaders/matmul.wgsl) for GPUs. autotune.ts
// picks one per adapter and shape class. The kernels read stored matrices through
// shaders/lib/matmul_dense.wgsl; gemm.ts launches them (and conv.ts, over other operands).

import denseSource from '../../shaders/lib/matmul_dense.wgsl?raw';
import type { Dispatch, GpuContext } from '../gpu/context.ts';
import { ShapeError } from '../gpu/errors.ts';
import { defineShader } from '../gpu/shader.ts';
import { formatShape, type Tensor } from '../tensor/tensor.ts';
import { matmulStrategyFor } from './strategy.ts';
import type { Activation } from './common.ts';
import { F16_ELEMENTS, F32_ELEMENTS, gemmKernels, gemmLaunch, gemmParams, gemmResources, gemmUpdateResources, updateConstants, type GemmUpdate, type MatmulStrategy, type TiledShape } from './gemm.ts';

export { DEFAULT_TILED_SHAPE, MATMUL_STRATEGIES, TILED_SHAPES, tiledShapeName, tiledShapeProblem, type MatmulStrategy, type TiledShape } from './gemm.ts';

export interface MatmulOptions {
  /** A is stored [K, M] and used transposed. */
  transA?: boolean;
  /** B is stored [N, K] and used transposed. */
  transB?: boolean;
  /** [N], added to every row (fused epilogue). */
  bias?: Tensor;
  /** Fused epilogue after the bias (and after accumulation). */
  activation?: Activation;
  /** Leaky ReLU slope, default DEFAULT_LEAK. */
  leak?: number;
  /** Fused activation backward: multiply the product elementwise by act'(y), y = `gradOf.output` [M, N], the saved forward output. */
  gradOf?: { output: Tensor; activation: Activation; leak?: number };
  /** C += product (instead of C = product); with an epilogue, C = act(C + product + bias). Also applies to `biasGrad`. */
  accumulate?: boolean;
  /**
   * [N]: also write the column sums of op(B), db[n] = sum_k op(B)[k, n] (added with
   * `accumulate`). With the Aᵀ·B form dW = Xᵀ delta, this is the bias gradient of the same
   * layer, in the same dispatch.
   */
  biasGrad?: Tensor;
  /** Force a strategy (benchmarks, tests); default: the one chosen for this adapter. */
  strategy?: MatmulStrategy;
  /**
   * Register strategy: the kernel with subgroup shuffles (true, where the device has them) or
   * the plain one (false). Default: subgroups, except for products of at most 8 rows.
   */
  subgroups?: boolean;
  /**
   * Register strategy: the narrow kernel, lanes along M with every column (N <= 2), when true.
   * Not a default (gemmLaunch says why).
   */
  narrow?: boolean;
  /** Tiled strategy: the kernel's shape (gemm.ts's TiledShape); default gemm.ts's defaultTiledShape. */
  tiled?: TiledShape;
  /**
   * A weight gradient that also updates the weights: each element of C (and of `biasGrad`) is
   * stored, then the optimizer's rule is applied to its weight (and bias) in the same
   * invocation. C = dW is still written. Record anything that reads the old weights (the
   * layer's input gradient) before this product.
   */
  update?: GemmUpdate;
  label?: string;
}

export type { MatmulShape } from './strategy.ts';

const DENSE = defineShader('lib/matmul_dense.wgsl', denseSource, [F32_ELEMENTS]);
const KERNELS = gemmKernels(DENSE);
/** The same bodies whose epilogue applies an optimizer's update (matmul's `update`). */
const UPDATE_KERNELS = gemmKernels(DENSE, [], true);
/** The same bodies over operands stored as binary16 (an option: training stays f32). */
const F16_KERNELS = gemmKernels(defineShader('lib/matmul_dense.wgsl (f16 operands)', denseSource, [F16_ELEMENTS]));

/**
 * C[M,N] = op(A) op(B) (+ bias, activation / gradOf, accumulate). Validates every shape; returns
 * a recorded Dispatch. A and B are both f32, or both f16 (kernels/half.ts makes them): f16
 * operands are widened exactly and their products accumulate in f32, at half the bytes read.
 */
export function matmul(ctx: GpuContext, a: Tensor, b: Tensor, c: Tensor, opts: MatmulOptions = {}): Dispatch {
  const transA = opts.transA ?? false;
  const transB = opts.transB ?? false;
  const form = `${transA ? 'Aᵀ' : 'A'}·${transB ? 'Bᵀ' : 'B'}`;
  const all = [a, b, c, opts.bias, opts.gradOf?.output, opts.biasGrad].filter((t): t is Tensor => t !== undefined);
  const op = `matmul ${form}(${all.map(String).join(', ')})`;

  const operands = a.dtype;
  if ((operands !== 'f32' && operands !== 'f16') || b.dtype !== operands) throw new ShapeError(`${op}: A and B must both be f32 or both f16, got ${a.dtype} and ${b.dtype}`);
  for (const t of all.filter((x) => x !== a && x !== b)) {
    if (t.dtype !== 'f32') throw new ShapeError(`${op}: ${t} must be f32`);
  }
  for (const t of [a, b, c]) {
    if (t.rank !== 2) throw new ShapeError(`${op}: ${t} must be 2-D`);
  }
  const [M, K] = transA ? [a.shape[1], a.shape[0]] : [a.shape[0], a.shape[1]];
  const [kb, N] = transB ? [b.shape[1], b.shape[0]] : [b.shape[0], b.shape[1]];
  if (kb !== K) throw new ShapeError(`${op}: inner dimensions differ: op(A) is [${M}, ${K}], op(B) is [${kb}, ${N}]`);
  if (c.shape[0] !== M || c.shape[1] !== N) throw new ShapeError(`${op}: C must have shape ${formatShape([M, N])}`);
  const strategy = opts.strategy ?? matmulStrategyFor(ctx, { m: M, n: N, k: K, transA, transB });
  if (strategy !== 'register' && strategy !== 'tiled') throw new ShapeError(`${op}: unknown strategy '${strategy}'`);
  const params = gemmParams(op, M, N, K, c, [a, b], opts);
  if (opts.update && operands !== 'f32') throw new ShapeError(`${op}: an update in the epilogue takes f32 operands`);
  const kernels = opts.update ? UPDATE_KERNELS : operands === 'f16' ? F16_KERNELS : KERNELS;
  const launch = gemmLaunch(ctx, kernels, op, M, N, K, strategy, { subgroups: opts.subgroups, narrow: opts.narrow, tiled: opts.tiled });
  // Only the constants a kernel reads vary, so products that differ elsewhere (M % 4 in A·B, the
  // epilogue) share one pipeline. Whole vec4 rows matter where a register kernel reads along M
  // (A stored [K, M]) or K.
  const constants: Record<string, number> = {
    TRANS_A: Number(transA),
    TRANS_B: Number(transB),
    VEC_N: Number(N % 4 === 0),
    ...(strategy === 'register' ? { VEC_M: Number(transA && M % 4 === 0), VEC_K: Number((!transA || transB) && K % 4 === 0) } : {}),
    ...launch.constants,
    ...(opts.update ? updateConstants(ctx, opts.update, kernels, launch, M, N) : {}),
  };
  return ctx.dispatch(launch.spec, {
    label: opts.label ?? `matmul ${form} [${M}x${K}x${N}]${operands === 'f16' ? ' f16' : ''} ${strategy}`,
    constants,
    resources: opts.update ? gemmUpdateResources(ctx, op, a, b, c, params, opts, opts.update) : gemmResources(ctx, a, b, c, params, opts),
    workgroups: launch.workgroups,
  });
}
