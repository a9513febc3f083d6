// Matrix products with a fused epilogue: C = op(A) op(B), then bias, activation or activation
// gradient, or accumulation into C; optionally the bias gradient db = column sums of op(B) in
// the same dispatch. Two strategies: `register` for CPU adapters (no workgroup memory;
// shaders/matmul_subgroups.wgsl where the device has subgroups, else the plain kernel in
// shaders/matmul.wgsl) and `tiled` (workgroup memory, shaders/matmul.wgsl) for GPUs. autotune.ts
// picks one per adapter and shape class.
//
// Pipelines: the epilogue's parts are parameters, so one pipeline per kernel and operand layout
// serves every layer (a matmul pipeline costs about a CPU-second to compile on lavapipe).

import enableSubgroups from '../../shaders/lib/enable_subgroups.wgsl?raw';
import libSource from '../../shaders/lib/matmul.wgsl?raw';
import source from '../../shaders/matmul.wgsl?raw';
import subgroupSource from '../../shaders/matmul_subgroups.wgsl?raw';
import { uniforms, type Dispatch, type GpuContext, type KernelSpec } from '../gpu/context.ts';
import { ShapeError } from '../gpu/errors.ts';
import { defineShader } from '../gpu/shader.ts';
import { createTensor, formatShape, type Tensor } from '../tensor/tensor.ts';
import { activationShader } from './activations.ts';
import { matmulStrategyFor } from './autotune.ts';
import { activationCode, DEFAULT_LEAK, type Activation } from './common.ts';

export type MatmulStrategy = 'register' | 'tiled';

export const MATMUL_STRATEGIES: readonly MatmulStrategy[] = ['register', 'tiled'];

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
  label?: string;
}

/** The sizes of a product C[M, N] = op(A)[M, K] op(B)[K, N] and the operands' storage layout. */
export interface MatmulShape {
  m: number;
  n: number;
  k: number;
  transA?: boolean;
  transB?: boolean;
}

const lib = defineShader('lib/matmul.wgsl', libSource);
const plainShader = defineShader('matmul.wgsl', source, [activationShader, lib]);
const subgroupShader = defineShader('matmul_subgroups.wgsl', subgroupSource, [defineShader('lib/enable_subgroups.wgsl', enableSubgroups), activationShader, lib]);
const BINDINGS = ['read', 'read', 'write', 'read', 'read', 'uniform', 'write'] as const;
const REGISTER: KernelSpec = { shader: plainShader, entry: 'register_tiled', bindings: BINDINGS };
const REGISTER_SUBGROUPS: KernelSpec = { shader: subgroupShader, entry: 'register_subgroups', bindings: BINDINGS };
const TILED: KernelSpec = { shader: plainShader, entry: 'workgroup_tiled', bindings: BINDINGS };
/** C per workgroup of the tiled kernel (BM x BN in the shader). */
const TILED_BLOCK = 64;

/** lib/matmul.wgsl's epilogue flags. */
const FLAG_BIAS = 1;
const FLAG_ACCUMULATE = 2;
const FLAG_GRAD = 4;
const FLAG_BIAS_GRAD = 8;

/** A 16-byte buffer bound where a kernel's writable bias-gradient binding is unused. */
const spareOutputs = new WeakMap<GpuContext, Tensor>();
function spareOutput(ctx: GpuContext): Tensor {
  let t = spareOutputs.get(ctx);
  if (!t) {
    t = createTensor(ctx, [4], 'f32', 'matmul:unused bias gradient');
    spareOutputs.set(ctx, t);
  }
  return t;
}

/** Whether the register strategy can use subgroup shuffles here: the k block it shuffles (4 or 8), or 0. */
function subgroupBlock(ctx: GpuContext): number {
  const min = ctx.adapter.subgroupMinSize ?? 0;
  if (!ctx.features.has('subgroups') || min < 4) return 0;
  return min >= 8 ? 8 : 4;
}

/** The subgroup kernel's lanes run along M, 4 rows each, 32 or more per workgroup. */
const SUBGROUP_MIN_ROWS = 9;

/**
 * The register kernel, its override constants and its grid for a product. The subgroup kernel
 * puts its lanes along M, so a product of a few rows (the weight gradient of a layer on 1- or
 * 2-D input) leaves most of them idle: the plain kernel, lanes along N, is 1.4x (8 rows) to 3x
 * (2 rows) faster there on lavapipe. Columns per lane shrink for narrow products (N <= 12) so
 * lanes are not spent on columns that do not exist, and the shuffled k block for short ones
 * (K <= 4: a layer on 1- or 2-D noise) so they load less padding (1.3x on lavapipe).
 */
function registerLaunch(ctx: GpuContext, m: number, n: number, k: number, subgroups: boolean | undefined): { spec: KernelSpec; constants: Record<string, number>; workgroups: [number, number, number] } {
  const useSubgroups = subgroups ?? m >= SUBGROUP_MIN_ROWS;
  const tn4 = Math.min(4, Math.ceil(n / 4));
  const kb = useSubgroups ? Math.min(subgroupBlock(ctx), k <= 4 ? 4 : 8) : 0;
  if (kb) {
    // Tiles of 20 columns where they waste fewer than 16 do (N = 100: 100 against 112 columns;
    // 1.07-1.2x on lavapipe), else of 16.
    const tn4 = n > 16 && Math.ceil(n / 20) * 20 < Math.ceil(n / 16) * 16 ? 5 : Math.min(4, Math.ceil(n / 4));
    // A workgroup covers whole subgroups, so every shuffle's lanes exist.
    const wg = Math.max(8, ctx.adapter.subgroupMaxSize ?? 0);
    return { spec: REGISTER_SUBGROUPS, constants: { TN4: tn4, KB: kb, WG: wg }, workgroups: [Math.ceil(m / (4 * wg)), Math.ceil(n / (4 * tn4)), 1] };
  }
  // One SIMD chunk (8 lanes) per workgroup on a CPU keeps partial workgroups cheap.
  const wg = ctx.adapter.isCpu ? 8 : 64;
  return { spec: REGISTER, constants: { TM: 4, TN4: tn4, WG: wg }, workgroups: [Math.ceil(n / (4 * tn4 * wg)), Math.ceil(m / 4), 1] };
}

/** C[M,N] = op(A) op(B) (+ bias, activation / gradOf, accumulate). Validates every shape; returns a recorded Dispatch. */
export function matmul(ctx: GpuContext, a: Tensor, b: Tensor, c: Tensor, opts: MatmulOptions = {}): Dispatch {
  const transA = opts.transA ?? false;
  const transB = opts.transB ?? false;
  const form = `${transA ? 'Aᵀ' : 'A'}·${transB ? 'Bᵀ' : 'B'}`;
  const all = [a, b, c, opts.bias, opts.gradOf?.output, opts.biasGrad].filter((t): t is Tensor => t !== undefined);
  const op = `matmul ${form}(${all.map(String).join(', ')})`;

  for (const t of all) {
    if (t.dtype !== 'f32') throw new ShapeError(`${op}: ${t} must be f32`);
  }
  for (const t of [a, b, c]) {
    if (t.rank !== 2) throw new ShapeError(`${op}: ${t} must be 2-D`);
  }
  const [M, K] = transA ? [a.shape[1], a.shape[0]] : [a.shape[0], a.shape[1]];
  const [kb, N] = transB ? [b.shape[1], b.shape[0]] : [b.shape[0], b.shape[1]];
  if (kb !== K) throw new ShapeError(`${op}: inner dimensions differ: op(A) is [${M}, ${K}], op(B) is [${kb}, ${N}]`);
  if (c.shape[0] !== M || c.shape[1] !== N) throw new ShapeError(`${op}: C must have shape ${formatShape([M, N])}`);
  const bias = opts.bias;
  if (bias && !(bias.size === N && (bias.rank === 1 || (bias.rank === 2 && bias.shape[0] === 1)))) {
    throw new ShapeError(`${op}: bias must have shape [${N}]`);
  }
  const grad = opts.gradOf;
  if (grad) {
    const y = grad.output;
    if (y.rank !== 2 || y.shape[0] !== M || y.shape[1] !== N) throw new ShapeError(`${op}: gradOf.output must have shape ${formatShape([M, N])}`);
    if (opts.accumulate) throw new ShapeError(`${op}: gradOf cannot be combined with accumulate`);
    if (opts.bias || (opts.activation && opts.activation !== 'identity')) {
      throw new ShapeError(`${op}: gradOf cannot be combined with a bias or an activation`);
    }
  }
  for (const t of [a, b, opts.bias, grad?.output]) {
    if (t && t.overlaps(c)) throw new ShapeError(`${op}: C overlaps ${t}; use a separate output tensor`);
  }
  const biasGrad = opts.biasGrad;
  if (biasGrad) {
    if (!(biasGrad.size === N && (biasGrad.rank === 1 || (biasGrad.rank === 2 && biasGrad.shape[0] === 1)))) {
      throw new ShapeError(`${op}: biasGrad must have shape [${N}]`);
    }
    for (const t of [a, b, c, opts.bias, grad?.output]) {
      if (t && t.overlaps(biasGrad)) throw new ShapeError(`${op}: biasGrad overlaps ${t}; use a separate output tensor`);
    }
  }
  const leak = opts.leak ?? DEFAULT_LEAK;
  const gradLeak = grad?.leak ?? DEFAULT_LEAK;
  if (!Number.isFinite(leak) || !Number.isFinite(gradLeak)) throw new ShapeError(`${op}: leak must be a finite number`);
  const act = activationCode(opts.activation ?? 'identity');
  const gradAct = grad ? activationCode(grad.activation) : 0;
  const strategy = opts.strategy ?? matmulStrategyFor(ctx, { m: M, n: N, k: K, transA, transB });
  if (strategy !== 'register' && strategy !== 'tiled') throw new ShapeError(`${op}: unknown strategy '${strategy}'`);

  // Only the constants a kernel reads vary, so products that differ elsewhere (M % 4 in A·B, the
  // epilogue) share one pipeline.
  const constants: Record<string, number> = {
    TRANS_A: Number(transA),
    TRANS_B: Number(transB),
    VEC_N: Number(N % 4 === 0),
  };
  const flags = (opts.bias ? FLAG_BIAS : 0) | (opts.accumulate ? FLAG_ACCUMULATE : 0) | (grad ? FLAG_GRAD : 0) | (biasGrad ? FLAG_BIAS_GRAD : 0);
  let spec = TILED;
  let workgroups: [number, number, number] = [Math.ceil(N / TILED_BLOCK), Math.ceil(M / TILED_BLOCK), 1];
  if (strategy === 'register') {
    // Whole vec4 rows matter where a register kernel reads along M (A stored [K, M]) or K.
    Object.assign(constants, { VEC_M: Number(transA && M % 4 === 0), VEC_K: Number((!transA || transB) && K % 4 === 0) });
    const launch = registerLaunch(ctx, M, N, K, opts.subgroups);
    spec = launch.spec;
    workgroups = launch.workgroups;
    Object.assign(constants, launch.constants);
  }
  const max = ctx.limits.maxComputeWorkgroupsPerDimension;
  if (workgroups[0] > max || workgroups[1] > max) {
    throw new ShapeError(`${op}: [${M}, ${N}] needs ${workgroups[0]} x ${workgroups[1]} workgroups, above this adapter's ${max} per dimension`);
  }
  // Unused optional inputs bind A in their place (read-only twice is allowed; never read); an
  // unused bias gradient binds a spare buffer (a writable binding may not alias another).
  const spare = a.binding();
  return ctx.dispatch(spec, {
    label: opts.label ?? `matmul ${form} [${M}x${K}x${N}] ${strategy}`,
    constants,
    resources: [
      a.binding(),
      b.binding(),
      c.binding(),
      opts.bias?.binding() ?? spare,
      grad?.output.binding() ?? spare,
      uniforms([['u32', M], ['u32', N], ['u32', K], ['u32', act], ['f32', leak], ['u32', gradAct], ['f32', gradLeak], ['u32', flags]]),
      (biasGrad ?? spareOutput(ctx)).binding(),
    ],
    workgroups,
  });
}
