// The matmul kernel bodies apart from the operands they read: their composition with an operand
// library (shaders/lib/matmul.wgsl states the contract), which body runs for a strategy and a
// product's shape with which override constants and launch grid, and the fused epilogue's checks
// and parameters. Two users: matmul.ts (stored matrices, lib/matmul_dense.wgsl) and conv.ts
// (convolutions as implicit GEMMs, conv.wgsl).
//
// Pipelines: the epilogue's parts are parameters, so one pipeline per kernel and operand layout
// serves every layer (a matmul pipeline costs about a CPU-second to compile on lavapipe).

import enableSubgroups from '../../shaders/lib/enable_subgroups.wgsl?raw';
import f16ElementsSource from '../../shaders/lib/elements_f16.wgsl?raw';
import f32ElementsSource from '../../shaders/lib/elements_f32.wgsl?raw';
import epilogueSource from '../../shaders/lib/epilogue.wgsl?raw';
import updateEpilogueSource from '../../shaders/lib/epilogue_update.wgsl?raw';
import coreSource from '../../shaders/lib/matmul.wgsl?raw';
import registerSource from '../../shaders/matmul.wgsl?raw';
import subgroupSource from '../../shaders/matmul_subgroups.wgsl?raw';
import { uniforms, type BindingKind, type GpuContext, type KernelSpec, type Resource } from '../gpu/context.ts';
import { ShapeError } from '../gpu/errors.ts';
import { defineShader, type ShaderSource } from '../gpu/shader.ts';
import { formatShape, type Tensor } from '../tensor/tensor.ts';
import { activationShader } from './activations.ts';
import { activationCode, DEFAULT_LEAK, elementOffset, spareOutput, type Activation } from './common.ts';
import { ELEMENT_UPDATE_CODES, updateElement, type ElementUpdate } from './optim.ts';

export type MatmulStrategy = 'register' | 'tiled';

export const MATMUL_STRATEGIES: readonly MatmulStrategy[] = ['register', 'tiled'];

const core = defineShader('lib/matmul.wgsl', coreSource);
const plainEpilogue = defineShader('lib/epilogue.wgsl', epilogueSource);
const updateEpilogue = defineShader('lib/epilogue_update.wgsl', updateEpilogueSource, [updateElement]);

/** How an operand library's stored elements read as f32 (lib/matmul.wgsl's element contract). */
export const F32_ELEMENTS = defineShader('lib/elements_f32.wgsl', f32ElementsSource);
/** Binary16 elements, two to a word, widened exactly: half the bytes of f32 operands. */
export const F16_ELEMENTS = defineShader('lib/elements_f16.wgsl', f16ElementsSource);
const subgroupsDirective = defineShader('lib/enable_subgroups.wgsl', enableSubgroups);
const registerBody = defineShader('matmul.wgsl', registerSource);
const subgroupBody = defineShader('matmul_subgroups.wgsl', subgroupSource);

/** The bindings every body declares with the plain epilogue (lib/epilogue.wgsl): a, b, c, bias, saved, params, bias_grad. */
export const GEMM_BINDINGS: readonly BindingKind[] = ['read', 'read', 'write', 'read', 'read', 'uniform', 'write'];

/**
 * With the update epilogue (lib/epilogue_update.wgsl): a, b, c, w, state1, params, bias_grad,
 * state2, step, optim. Eight storage buffers, the least every WebGPU device offers.
 */
export const GEMM_UPDATE_BINDINGS: readonly BindingKind[] = ['read', 'read', 'write', 'write', 'write', 'uniform', 'write', 'write', 'read', 'uniform'];

/** The bodies over one operand library. */
export interface GemmKernels {
  register: KernelSpec;
  registerSubgroups: KernelSpec;
  registerNarrow: KernelSpec;
  tiled: KernelSpec;
}

/**
 * The bodies reading their operands through `operands`, whose own bindings (if any) follow
 * GEMM_BINDINGS. Each module is named after its parts (`matmul.wgsl + conv.wgsl`), so every
 * operand library gets its own modules and compiler messages still name the file and line.
 * `updates`: the bodies with the epilogue that applies an optimizer's rule to each gradient
 * element it stores (GEMM_UPDATE_BINDINGS; not with an operand library's own bindings, which
 * would take the same binding numbers).
 */
export function gemmKernels(operands: ShaderSource, operandBindings: readonly BindingKind[] = [], updates = false): GemmKernels {
  if (updates && operandBindings.length) throw new ShapeError(`gemmKernels: the update epilogue's bindings follow the body's; ${operands.name} binds its own there`);
  const bindings = updates ? GEMM_UPDATE_BINDINGS : [...GEMM_BINDINGS, ...operandBindings];
  const [epilogue, suffix] = updates ? [updateEpilogue, ' + lib/epilogue_update.wgsl'] : [plainEpilogue, ''];
  const plain = defineShader(`matmul.wgsl + ${operands.name}${suffix}`, '', [activationShader, core, epilogue, operands, registerBody]);
  const shuffled = defineShader(`matmul_subgroups.wgsl + ${operands.name}${suffix}`, '', [subgroupsDirective, activationShader, core, epilogue, operands, subgroupBody]);
  return {
    register: { shader: plain, entry: 'register_tiled', bindings },
    registerSubgroups: { shader: shuffled, entry: 'register_subgroups', bindings },
    registerNarrow: { shader: plain, entry: 'register_narrow', bindings },
    tiled: { shader: plain, entry: 'workgroup_tiled', bindings },
  };
}

/**
 * A shape of the tiled strategy's kernel (`workgroup_tiled`: 64 x 64 blocks, 4 x 4 per
 * invocation, 16-deep slabs). `double`: each invocation loads its share of the next slab before
 * the current one's multiply-adds and stages it in a second buffer (one barrier a slab, not two).
 * Both sum every output's k in one chain in order: the same bits.
 */
export interface TiledShape {
  double: boolean;
}

/** The plain shape: the bits every other shape's products are compared with. */
export const DEFAULT_TILED_SHAPE: TiledShape = { double: false };

/**
 * The shapes the benchmark times. A wide kernel (128 x 128 blocks, 8 x 8 per invocation, 8-deep
 * slabs, single or double buffered) was measured against these on an H200 and lost everywhere
 * (4096^3 22.7 TFLOP/s against 24.0 double-buffered; 1024^3 11.1 against 22.9; the GAN's
 * products 1.4-3.3x slower than the plain shape, having fewer workgroups), so it is not kept.
 */
export const TILED_SHAPES: readonly TiledShape[] = [DEFAULT_TILED_SHAPE, { double: true }];

/** `64/4x4/k16 double`: the block of C, each invocation's tile, the slab depth. */
export function tiledShapeName(t: TiledShape): string {
  return `64/4x4/k16${t.double ? ' double' : ''}`;
}

/** The workgroup memory a tiled shape takes, in bytes: two operands' slabs of 16 rows of 17 vec4s, twice when double-buffered. */
export function tiledWorkgroupBytes(t: TiledShape): number {
  return 2 * (t.double ? 2 : 1) * 16 * 17 * 16;
}

/** Why a tiled shape cannot run on this device, or null when it can. */
export function tiledShapeProblem(ctx: GpuContext, t: TiledShape): string | null {
  const bytes = tiledWorkgroupBytes(t);
  if (bytes > ctx.limits.maxComputeWorkgroupStorageSize) return `it takes ${bytes} bytes of workgroup memory, above this adapter's ${ctx.limits.maxComputeWorkgroupStorageSize}`;
  return null;
}

/**
 * The tiled shape unless told otherwise: double-buffered where it fits the adapter's workgroup
 * memory (17 KiB: above the 16 KiB every adapter offers). On an H200, with the same bits in all
 * 39 products measured: 4096^3 24.0 TFLOP/s against 20.2 (1.19x), 2048^3 1.13x, 1024^3 1.02x,
 * the GAN's products 0.99-1.09x, median 1.05x (bench/results/matmul-NVIDIA-…-2026-12-04T14-47-27-867Z.json).
 */
export function defaultTiledShape(ctx: GpuContext): TiledShape {
  const double: TiledShape = { double: true };
  return tiledShapeProblem(ctx, double) ? DEFAULT_TILED_SHAPE : double;
}

function tiledConstants(t: TiledShape): Record<string, number> {
  return t.double ? { PREFETCH: 1, TILED_SLABS: 2 } : {};
}

/** C per workgroup of the tiled kernel (BM x BN in the shader). */
const TILED_BLOCK = 64;

/** Whether the register strategy can use subgroup shuffles here: the k block it shuffles (4 or 8), or 0. */
function subgroupBlock(ctx: GpuContext): number {
  const min = ctx.adapter.subgroupMinSize ?? 0;
  if (!ctx.features.has('subgroups') || min < 4) return 0;
  return min >= 8 ? 8 : 4;
}

/** The subgroup kernel's lanes run along M, 4 rows each, 32 or more per workgroup. */
const SUBGROUP_MIN_ROWS = 9;

/**
 * The narrow kernel holds every column of C in each lane: 1 or 2 (from 3 on lavapipe it was no
 * faster than the subgroup kernel, at 4 slower, and each column count is a pipeline).
 */
export const NARROW_MAX_COLUMNS = 2;

/** Rows per lane of the narrow kernel. */
const NARROW_ROWS = 8;

/** The k block the subgroup kernel shuffles for a product of m rows over k (0: the plain register kernel runs). */
function shuffledBlock(ctx: GpuContext, m: number, k: number, subgroups: boolean | undefined): number {
  const useSubgroups = subgroups ?? m >= SUBGROUP_MIN_ROWS;
  return useSubgroups ? Math.min(subgroupBlock(ctx), k <= 4 ? 4 : 8) : 0;
}

/**
 * How the register strategy orders a product's sums: each output adds k in blocks of this many
 * values, each block one chain in order of k (the subgroup kernel's shuffled block, or the plain
 * kernel's 4 x 4 pieces). A kernel that sums in the same blocks gives the same bits
 * (shaders/conv_direct.wgsl).
 */
export function registerSumBlock(ctx: GpuContext, m: number, k: number, subgroups?: boolean): number {
  return shuffledBlock(ctx, m, k, subgroups) || 4;
}

/** A kernel body of its own over an operand library, with the plain epilogue and the core's bindings and helpers (GEMM_BINDINGS, then the library's). */
export function gemmBodyShader(body: ShaderSource, operands: ShaderSource): ShaderSource {
  return defineShader(`${body.name} + ${operands.name}`, '', [activationShader, core, plainEpilogue, operands, body]);
}

/** Which register kernel, and how many parts, where the caller decides (options of matmul() and the convolutions). */
export interface GemmChoice {
  /** The subgroup kernel (true, where the device has them) or the plain one (false). */
  subgroups?: boolean;
  /** The narrow kernel (N <= 2) or not (the default: see gemmLaunch). */
  narrow?: boolean;
  /** Independent products, one per z of the grid (lib/matmul.wgsl's parts). */
  parts?: number;
  /** The tiled strategy's shape (default: defaultTiledShape). */
  tiled?: TiledShape;
}

export interface GemmLaunch {
  spec: KernelSpec;
  /** The body's own override constants (the operand library adds its own). */
  constants: Record<string, number>;
  workgroups: [number, number, number];
}

/**
 * The body, its override constants and its grid for a product C[M, N] over K under `strategy`,
 * or for `parts` products of at most M x K (lib/matmul.wgsl's parts, one per z of the grid); a
 * ShapeError naming `op` where the grid exceeds the adapter's limit.
 *
 * Register strategy: the subgroup kernel puts its lanes along M, so a product of a few rows (the
 * weight gradient of a layer on 1- or 2-D input) leaves most of them idle: the plain kernel,
 * lanes along N, is 1.4x (8 rows) to 3x (2 rows) faster there on lavapipe. Columns per lane
 * shrink for narrow products (N <= 12) so lanes are not spent on columns that do not exist, and
 * the shuffled k block for short ones (K <= 4: a layer on 1- or 2-D noise) so they load less
 * padding (1.3x on lavapipe). `narrow` asks for the narrow kernel, lanes along M with every
 * column of a 1- or 2-column product: against the subgroup kernel's 4-column vectors on
 * lavapipe, 1.1-1.6x for dense products of 1 or 2 columns and 1.2-1.5x for the weight gradient of
 * the DCGAN's last layer (its 1-channel forward and input gradient were no faster; convolutions
 * of one column now take conv.ts's direct kernel, which keeps the register kernel's sums). It is
 * taken only when asked: its summation order differs from the other kernels', so making it a
 * default moves every preset's trajectory on the adapters that take it (D's one-unit layer), and
 * the presets' documented figures were measured without it. `subgroups` forces the subgroup
 * kernel (where the device has them) or the plain one.
 */
export function gemmLaunch(ctx: GpuContext, kernels: GemmKernels, op: string, m: number, n: number, k: number, strategy: MatmulStrategy, choice: GemmChoice = {}): GemmLaunch {
  const { subgroups, parts = 1 } = choice;
  const narrow = strategy === 'register' && choice.narrow === true;
  if (narrow && n > NARROW_MAX_COLUMNS) throw new ShapeError(`${op}: the narrow kernel takes at most ${NARROW_MAX_COLUMNS} columns, C is [${m}, ${n}]: leave narrow unset or false`);
  let launch: GemmLaunch;
  if (narrow) {
    const wg = ctx.adapter.isCpu ? 8 : 64;
    launch = { spec: kernels.registerNarrow, constants: { TM: NARROW_ROWS, NC: n, WG: wg }, workgroups: [Math.ceil(m / (NARROW_ROWS * wg)), 1, parts] };
  } else if (strategy === 'tiled') {
    const shape = choice.tiled ?? defaultTiledShape(ctx);
    const problem = tiledShapeProblem(ctx, shape);
    if (problem) throw new ShapeError(`${op}: the tiled shape ${tiledShapeName(shape)} cannot run here: ${problem}`);
    launch = { spec: kernels.tiled, constants: tiledConstants(shape), workgroups: [Math.ceil(n / TILED_BLOCK), Math.ceil(m / TILED_BLOCK), parts] };
  } else {
    const kb = shuffledBlock(ctx, m, k, subgroups);
    if (kb) {
      // Tiles of 16 columns, even where 20 would waste fewer (N = 100: 112 columns against 100):
      // a fifth column group spills the lane's accumulators, 1.4-2.5x slower on lavapipe.
      const tn4 = Math.min(4, Math.ceil(n / 4));
      // A workgroup covers whole subgroups, so every shuffle's lanes exist.
      const wg = Math.max(8, ctx.adapter.subgroupMaxSize ?? 0);
      launch = { spec: kernels.registerSubgroups, constants: { TN4: tn4, KB: kb, WG: wg }, workgroups: [Math.ceil(m / (4 * wg)), Math.ceil(n / (4 * tn4)), parts] };
    } else {
      const tn4 = Math.min(4, Math.ceil(n / 4));
      // One SIMD chunk (8 lanes) per workgroup on a CPU keeps partial workgroups cheap.
      const wg = ctx.adapter.isCpu ? 8 : 64;
      launch = { spec: kernels.register, constants: { TM: 4, TN4: tn4, WG: wg }, workgroups: [Math.ceil(n / (4 * tn4 * wg)), Math.ceil(m / 4), parts] };
    }
  }
  const max = ctx.limits.maxComputeWorkgroupsPerDimension;
  const [x, y, z] = launch.workgroups;
  if (x > max || y > max || z > max) {
    const grid = parts > 1 ? `${x} x ${y} x ${z}` : `${x} x ${y}`;
    throw new ShapeError(`${op}: [${m}, ${n}]${parts > 1 ? ` in ${parts} parts` : ''} needs ${grid} workgroups, above this adapter's ${max} per dimension`);
  }
  return launch;
}

/** The fused epilogue's options, as matmul() and the convolutions take them. */
export interface GemmEpilogue {
  /** [N], added to every row. */
  bias?: Tensor;
  /** After the bias (and after accumulation). */
  activation?: Activation;
  /** Leaky ReLU slope, default DEFAULT_LEAK. */
  leak?: number;
  /** Multiply the product elementwise by act'(y), y = `gradOf.output` [M, N], the saved forward output. */
  gradOf?: { output: Tensor; activation: Activation; leak?: number };
  /** C += product (and db += column sums with `biasGrad`). */
  accumulate?: boolean;
  /** [N]: also write the column sums of op(B). */
  biasGrad?: Tensor;
}

/** lib/matmul.wgsl's epilogue flags. */
const FLAG_BIAS = 1;
const FLAG_ACCUMULATE = 2;
const FLAG_GRAD = 4;
const FLAG_BIAS_GRAD = 8;

function isVectorOf(t: Tensor, n: number): boolean {
  return t.size === n && (t.rank === 1 || (t.rank === 2 && t.shape[0] === 1));
}

/**
 * Checks the epilogue of a product C[M, N] written to `c` from `inputs` (ShapeErrors naming
 * `op`) and packs the parameters uniform (lib/matmul.wgsl's Params). Dtypes are the caller's.
 */
export function gemmParams(op: string, m: number, n: number, k: number, c: Tensor, inputs: readonly Tensor[], e: GemmEpilogue): Uint8Array {
  const bias = e.bias;
  if (bias && !isVectorOf(bias, n)) throw new ShapeError(`${op}: bias must have shape [${n}]`);
  const grad = e.gradOf;
  if (grad) {
    const y = grad.output;
    if (y.rank !== c.rank || y.shape.some((d, i) => d !== c.shape[i])) throw new ShapeError(`${op}: gradOf.output must have shape ${formatShape(c.shape)}`);
    if (e.accumulate) throw new ShapeError(`${op}: gradOf cannot be combined with accumulate`);
    if (bias || (e.activation && e.activation !== 'identity')) {
      throw new ShapeError(`${op}: gradOf cannot be combined with a bias or an activation`);
    }
  }
  for (const t of [...inputs, bias, grad?.output]) {
    if (t && t.overlaps(c)) throw new ShapeError(`${op}: output ${c} overlaps ${t}; use a separate output tensor`);
  }
  const biasGrad = e.biasGrad;
  if (biasGrad) {
    if (!isVectorOf(biasGrad, n)) throw new ShapeError(`${op}: biasGrad must have shape [${n}]`);
    for (const t of [...inputs, c, bias, grad?.output]) {
      if (t && t.overlaps(biasGrad)) throw new ShapeError(`${op}: biasGrad overlaps ${t}; use a separate output tensor`);
    }
  }
  const leak = e.leak ?? DEFAULT_LEAK;
  const gradLeak = grad?.leak ?? DEFAULT_LEAK;
  if (!Number.isFinite(leak) || !Number.isFinite(gradLeak)) throw new ShapeError(`${op}: leak must be a finite number`);
  const act = activationCode(e.activation ?? 'identity');
  const gradAct = grad ? activationCode(grad.activation) : 0;
  const flags = (bias ? FLAG_BIAS : 0) | (e.accumulate ? FLAG_ACCUMULATE : 0) | (grad ? FLAG_GRAD : 0) | (biasGrad ? FLAG_BIAS_GRAD : 0);
  return uniforms([['u32', m], ['u32', n], ['u32', k], ['u32', act], ['f32', leak], ['u32', gradAct], ['f32', gradLeak], ['u32', flags]]);
}


/**
 * GEMM_BINDINGS' resources in order. Unused optional inputs bind A in their place (read-only
 * twice is allowed; never read); an unused bias gradient binds a spare buffer (a writable
 * binding may not alias another).
 */
export function gemmResources(ctx: GpuContext, a: Tensor, b: Tensor, c: Tensor, params: Uint8Array, e: GemmEpilogue): Resource[] {
  const spare = a.binding();
  return [
    a.binding(),
    b.binding(),
    c.binding(),
    e.bias?.binding() ?? spare,
    e.gradOf?.output.binding() ?? spare,
    params,
    (e.biasGrad ?? spareOutput(ctx)).binding(),
  ];
}

/**
 * An optimizer's update in a weight gradient's epilogue: `rule` (kernels/optim.ts) applied to
 * the weights `weight`, a view of rule.params with C's shape, and to `bias`, a view with the bias
 * gradient's, as each gradient element is stored.
 */
export interface GemmUpdate {
  rule: ElementUpdate;
  weight: Tensor;
  bias?: Tensor;
}

/**
 * The update epilogue's constants: OPTIMIZER, and STAGED_ROWS for the subgroup kernel, whose
 * lanes run along M, on a weight gradient of at least STAGED_MIN_ELEMENTS (lib/epilogue_update.wgsl
 * stages its tile in workgroup memory and updates it with lanes along N). On lavapipe, the fused
 * weight gradient staged against in place: 784 x 512, 11.9 against 18-19 ms; 784 x 240, 3.6 both;
 * 784 x 100, 1.74 against 1.56 ms (a small layout stays in cache, and the barrier costs).
 */
export function updateConstants(ctx: GpuContext, u: GemmUpdate, kernels: GemmKernels, launch: GemmLaunch, m: number, n: number): Record<string, number> {
  const rows = launch.spec === kernels.registerSubgroups && m * n >= STAGED_MIN_ELEMENTS ? 4 * launch.constants.WG : 0;
  const fits = rows * STAGED_COLUMNS * 4 <= ctx.limits.maxComputeWorkgroupStorageSize;
  return { OPTIMIZER: ELEMENT_UPDATE_CODES[u.rule.kind], STAGED_ROWS: fits ? rows : 0 };
}

/** The smallest weight gradient (elements) whose update the subgroup kernel stages. */
export const STAGED_MIN_ELEMENTS = 2 ** 17;

/** lib/epilogue_update.wgsl's STAGED_COLUMNS: the widest tile of the subgroup kernel (TN4 = 4). */
const STAGED_COLUMNS = 16;

/**
 * Checks an update epilogue against the product C (`c`) and the epilogue's other options, and
 * returns GEMM_UPDATE_BINDINGS' resources in order.
 */
export function gemmUpdateResources(ctx: GpuContext, op: string, a: Tensor, b: Tensor, c: Tensor, params: Uint8Array, e: GemmEpilogue, u: GemmUpdate): Resource[] {
  if (e.bias || e.gradOf || e.accumulate || (e.activation && e.activation !== 'identity')) {
    throw new ShapeError(`${op}: an update in the epilogue takes a plain weight gradient (no bias, activation, gradOf or accumulate)`);
  }
  if (u.weight.size !== c.size || u.weight.shape.some((d, i) => d !== c.shape[i])) throw new ShapeError(`${op}: the weights ${u.weight} must have C's shape ${formatShape(c.shape)}`);
  if (!u.bias !== !e.biasGrad) throw new ShapeError(`${op}: an update's bias and the bias gradient go together`);
  if (u.bias && e.biasGrad && u.bias.size !== e.biasGrad.size) throw new ShapeError(`${op}: the bias ${u.bias} must have the bias gradient's ${e.biasGrad.size} elements`);
  const { rule } = u;
  const weightAt = elementOffset(op, u.weight, rule.params, 'weights', "the optimizer's parameters");
  const biasAt = u.bias ? elementOffset(op, u.bias, rule.params, 'bias', "the optimizer's parameters") : 0;
  for (const t of [a, b, c, e.biasGrad]) {
    for (const s of [rule.params, ...rule.state]) {
      if (t && t.overlaps(s)) throw new ShapeError(`${op}: ${t} overlaps the optimizer's ${s}`);
    }
  }
  return [
    a.binding(),
    b.binding(),
    c.binding(),
    rule.params.binding(),
    rule.state[0].binding(),
    params,
    (e.biasGrad ?? spareOutput(ctx)).binding(),
    (rule.state[1] ?? spareOutput(ctx, 1)).binding(),
    (rule.step ?? a).binding(),
    rule.uniform(weightAt, biasAt),
  ];
}
