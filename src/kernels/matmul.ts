// Matrix products with a fused epilogue: C = op(A) op(B), then bias, activation or activation
// gradient, or accumulation into C. Two strategies (shaders/matmul.wgsl): `register` for CPU
// adapters, `tiled` (workgroup memory) for GPUs; autotune.ts picks one per adapter and shape class.

import source from '../../shaders/matmul.wgsl?raw';
import { uniforms, type Dispatch, type GpuContext, type KernelSpec } from '../gpu/context.ts';
import { ShapeError } from '../gpu/errors.ts';
import { defineShader } from '../gpu/shader.ts';
import { formatShape, type Tensor } from '../tensor/tensor.ts';
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
  /** C += product (instead of C = product); with an epilogue, C = act(C + product + bias). */
  accumulate?: boolean;
  /** Force a strategy (benchmarks, tests); default: the one chosen for this adapter. */
  strategy?: MatmulStrategy;
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

/** Register-kernel tile: TM rows by 4 TN4 columns per invocation, WG invocations along N. */
export interface RegisterTile {
  tm: number;
  tn4: number;
  wg: number;
}

const shader = defineShader('matmul.wgsl', source, [activationShader]);
const BINDINGS = ['read', 'read', 'write', 'read', 'read', 'uniform'] as const;
const REGISTER: KernelSpec = { shader, entry: 'register_tiled', bindings: BINDINGS };
const TILED: KernelSpec = { shader, entry: 'workgroup_tiled', bindings: BINDINGS };
/** C per workgroup of the tiled kernel (BM x BN in the shader). */
const TILED_BLOCK = 64;

/**
 * The register tile for a shape on this adapter. On a CPU adapter one SIMD chunk of 8 lanes per
 * workgroup keeps partial workgroups cheap for narrow products; GPUs want wider workgroups.
 */
export function registerTile(ctx: GpuContext, shape: MatmulShape): RegisterTile {
  void shape;
  return { tm: 8, tn4: 2, wg: ctx.adapter.isCpu ? 8 : 64 };
}

/** C[M,N] = op(A) op(B) (+ bias, activation / gradOf, accumulate). Validates every shape; returns a recorded Dispatch. */
export function matmul(ctx: GpuContext, a: Tensor, b: Tensor, c: Tensor, opts: MatmulOptions = {}): Dispatch {
  const transA = opts.transA ?? false;
  const transB = opts.transB ?? false;
  const form = `${transA ? 'Aᵀ' : 'A'}·${transB ? 'Bᵀ' : 'B'}`;
  const all = [a, b, c, opts.bias, opts.gradOf?.output].filter((t): t is Tensor => t !== undefined);
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
  const leak = opts.leak ?? DEFAULT_LEAK;
  const gradLeak = grad?.leak ?? DEFAULT_LEAK;
  if (!Number.isFinite(leak) || !Number.isFinite(gradLeak)) throw new ShapeError(`${op}: leak must be a finite number`);
  const act = activationCode(opts.activation ?? 'identity');
  const gradAct = grad ? activationCode(grad.activation) : 0;
  const strategy = opts.strategy ?? matmulStrategyFor(ctx, { m: M, n: N, k: K, transA, transB });
  if (strategy !== 'register' && strategy !== 'tiled') throw new ShapeError(`${op}: unknown strategy '${strategy}'`);
  for (const [name, v] of [['M', M], ['N', N], ['K', K]] as const) {
    if (v > 0xffffffff / 4) throw new ShapeError(`${op}: ${name} = ${v} is too large`);
  }

  const constants: Record<string, number> = {
    TRANS_A: Number(transA),
    TRANS_B: Number(transB),
    VEC_M: Number(M % 4 === 0),
    VEC_N: Number(N % 4 === 0),
    VEC_K: Number(K % 4 === 0),
    HAS_BIAS: Number(Boolean(opts.bias)),
    ACT: act,
    LEAK: leak,
    ACCUMULATE: Number(Boolean(opts.accumulate)),
    HAS_GRAD: Number(Boolean(grad)),
    GRAD_ACT: gradAct,
    GRAD_LEAK: gradLeak,
  };
  let workgroups: [number, number, number];
  if (strategy === 'register') {
    const tile = registerTile(ctx, { m: M, n: N, k: K, transA, transB });
    Object.assign(constants, { TM: tile.tm, TN4: tile.tn4, WG: tile.wg });
    workgroups = [Math.ceil(N / (4 * tile.tn4 * tile.wg)), Math.ceil(M / tile.tm), 1];
  } else {
    workgroups = [Math.ceil(N / TILED_BLOCK), Math.ceil(M / TILED_BLOCK), 1];
  }
  const max = ctx.limits.maxComputeWorkgroupsPerDimension;
  if (workgroups[0] > max || workgroups[1] > max) {
    throw new ShapeError(`${op}: [${M}, ${N}] needs ${workgroups[0]} x ${workgroups[1]} workgroups, above this adapter's ${max} per dimension`);
  }
  // Unused optional operands bind A in their place (read-only twice is allowed; never read).
  const spare = a.binding();
  return ctx.dispatch(strategy === 'register' ? REGISTER : TILED, {
    label: opts.label ?? `matmul ${form} [${M}x${K}x${N}] ${strategy}`,
    constants,
    resources: [a.binding(), b.binding(), c.binding(), opts.bias?.binding() ?? spare, grad?.output.binding() ?? spare, uniforms([['u32', M], ['u32', N], ['u32', K]])],
    workgroups,
  });
}
