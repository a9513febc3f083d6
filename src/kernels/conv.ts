// 2-D convolution and transposed convolution, forward and both gradients, as implicit GEMMs:
// the matmul kernels (gemm.ts) reading their operands through shaders/conv.wgsl, which gathers
// the im2col matrix straight from the feature map. Same strategies, epilogues and determinism
// as matmul.
//
// Layout:
//   activations  NHWC, stored as 2-D tensors [batch, H*W*C]: one sample per row, channels fastest;
//   weights      [KH, KW, Cin, Cout] for conv and conv-transpose alike (reshaped
//                [KH*KW*Cin, Cout] they are the B operand of the forward product);
//   bias         [Cout].
// Square kernels (KH = KW = `kernel`), the same stride and padding along both axes.
//   conv:           out = (in + 2 padding - kernel) / stride + 1, which must be an integer;
//   conv-transpose: out = (in - 1) stride - 2 padding + kernel + outputPadding,
//                   0 <= outputPadding < stride (it picks among the sizes a strided conv maps
//                   onto the same input size).
//
// The products, over pixels p = (n, h, w) and im2col columns (kh, kw, c) (shaders/conv.wgsl
// defines the two gathers: `fwd` reads X[n, h s - pad + kh, w s - pad + kw, c], `tr` reads
// X[n, (h + pad - kh) / s, (w + pad - kw) / s, c] where both divisions are exact):
//   conv2d                     Y[p, co]  = sum fwd(X)[p, (kh,kw,ci)] W[kh,kw,ci,co]    p over Y
//   conv2dInputGrad            dX[p, ci] = sum tr(dY)[p, (kh,kw,co)] W[kh,kw,ci,co]    p over X
//   conv2dWeightGrad           dW[(kh,kw,ci), co] = sum_p fwd(X)[p, (kh,kw,ci)] dY[p, co]
//   convTranspose2d            Y[p, co]  = sum tr(X)[p, (kh,kw,ci)] W[kh,kw,ci,co]     p over Y
//   convTranspose2dInputGrad   dX[p, ci] = sum fwd(dY)[p, (kh,kw,co)] W[kh,kw,ci,co]   p over X
//   convTranspose2dWeightGrad  dW[(kh,kw,ci), co] = sum_p tr(X)[p, (kh,kw,ci)] dY[p, co]
// The input gradients read W with its last two axes swapped; the weight gradients are the Aᵀ·B
// form with A the implicit im2col, and fuse the bias gradient (column sums of dY) as matmul's
// `biasGrad` does. src/reference/conv.ts computes all six from their definitions instead.
//
// The three ops on the transposed gather (conv2dInputGrad, convTranspose2d,
// convTranspose2dWeightGrad) run as stride^2 sub-pixel classes in one launch (the grid's z), each
// a product over only the taps that reach its pixels: 1 / stride^2 of the multiply-adds the
// whole im2col would spend, the rest being zeros (shaders/conv.wgsl). The weight gradient's bias
// gradient then sums dY apart from the classes' products, in one fixed order.
//
// Products of one output column (a layer to one channel, the input gradient of a layer on one
// channel, their weight gradients) run under the register strategy on a kernel of their own,
// shaders/conv_direct.wgsl: each lane owns its outputs whole and walks the taps or the pixels
// without the gather's divisions or a tile's padding columns. It adds the same terms in the same
// blocks and order as the register kernel it stands in for, so its results are that kernel's
// bits (src/checks/conv.ts demands it); `direct: false` runs the GEMM kernels instead.

import source from '../../shaders/conv.wgsl?raw';
import directSource from '../../shaders/conv_direct.wgsl?raw';
import { uniforms, type Dispatch, type GpuContext, type KernelSpec } from '../gpu/context.ts';
import { ShapeError } from '../gpu/errors.ts';
import { defineShader } from '../gpu/shader.ts';
import { formatShape, type Shape, type Tensor } from '../tensor/tensor.ts';
import { matmulStrategyFor } from './strategy.ts';
import type { Activation } from './common.ts';
import {
  F32_ELEMENTS,
  GEMM_BINDINGS,
  gemmBodyShader,
  gemmKernels,
  gemmLaunch,
  gemmParams,
  gemmResources,
  registerSumBlock,
  type GemmEpilogue,
  type MatmulStrategy,
} from './gemm.ts';

const OPERANDS = defineShader('conv.wgsl', source, [F32_ELEMENTS]);
/** conv.wgsl's own binding after GEMM_BINDINGS: the geometry. */
const OPERAND_BINDINGS = ['uniform'] as const;
const KERNELS = gemmKernels(OPERANDS, OPERAND_BINDINGS);
const DIRECT = gemmBodyShader(defineShader('conv_direct.wgsl', directSource), OPERANDS);
const DIRECT_BINDINGS = [...GEMM_BINDINGS, ...OPERAND_BINDINGS];

/** A convolution layer's sizes. `in*` are the op's input map, `out*` follow from the rest. */
export interface Conv2dGeometry {
  batch: number;
  inH: number;
  inW: number;
  inC: number;
  outC: number;
  kernel: number;
  stride: number;
  padding: number;
  /** Conv-transpose (the input gradient of a conv, as a layer) rather than conv. */
  transposed: boolean;
  /** Conv-transpose only: extra rows and columns at the far edge, 0 <= outputPadding < stride (default 0). */
  outputPadding?: number;
}

export interface ResolvedConvGeometry extends Conv2dGeometry {
  outputPadding: number;
  outH: number;
  outW: number;
}

/** `conv 28x28x1 -> 64 channels, kernel 4, stride 2, padding 1, batch 1`: for messages. */
export function describeConvGeometry(g: Conv2dGeometry): string {
  const kind = g.transposed ? 'conv-transpose' : 'conv';
  const op = g.transposed && g.outputPadding ? `, outputPadding ${g.outputPadding}` : '';
  return `${kind} ${g.inH}x${g.inW}x${g.inC} -> ${g.outC} channels, kernel ${g.kernel}, stride ${g.stride}, padding ${g.padding}${op}, batch ${g.batch}`;
}

/**
 * The output size along one axis of `input` pixels; a ShapeError naming the sizes where the
 * geometry gives none (kernel larger than the padded input, a conv whose windows do not tile the
 * padded input, a non-positive size).
 */
export function convOutputSize(input: number, g: Pick<Conv2dGeometry, 'kernel' | 'stride' | 'padding' | 'transposed' | 'outputPadding'>): number {
  const { kernel: k, stride: s, padding: p } = g;
  if (g.transposed) {
    const out = (input - 1) * s - 2 * p + k + (g.outputPadding ?? 0);
    if (out < 1) {
      throw new ShapeError(`conv-transpose output size (${input} - 1) * ${s} - 2 * ${p} + ${k} + ${g.outputPadding ?? 0} = ${out} is not positive; use less padding or a larger kernel`);
    }
    return out;
  }
  const padded = input + 2 * p;
  if (k > padded) throw new ShapeError(`conv kernel ${k} is larger than the padded input ${input} + 2 * ${p} = ${padded}; use a smaller kernel or more padding`);
  if ((padded - k) % s !== 0) {
    // The nearest inputs the windows tile: (input + 2p - k) a multiple of s.
    const below = Math.floor((padded - k) / s) * s + k - 2 * p;
    const fits = [below, below + s].filter((n) => n >= 1).join(' or ');
    throw new ShapeError(
      `conv output size (${input} + 2 * ${p} - ${k}) / ${s} + 1 is not an integer: stride ${s} does not tile the padded input; ` +
        `use an input of ${fits}, or another padding or kernel`,
    );
  }
  return (padded - k) / s + 1;
}

/** Validates a geometry (ShapeErrors naming it) and adds the output size. */
export function resolveConvGeometry(g: Conv2dGeometry): ResolvedConvGeometry {
  const what = describeConvGeometry(g);
  for (const key of ['batch', 'inH', 'inW', 'inC', 'outC', 'kernel', 'stride'] as const) {
    if (!Number.isInteger(g[key]) || g[key] < 1) throw new ShapeError(`${what}: ${key} must be a positive integer, got ${g[key]}`);
  }
  if (!Number.isInteger(g.padding) || g.padding < 0) throw new ShapeError(`${what}: padding must be an integer >= 0, got ${g.padding}`);
  if (g.padding >= g.kernel) throw new ShapeError(`${what}: padding ${g.padding} must be less than the kernel ${g.kernel} (a window would see only padding)`);
  const outputPadding = g.outputPadding ?? 0;
  if (!g.transposed && outputPadding !== 0) throw new ShapeError(`${what}: outputPadding applies only to conv-transpose, got ${outputPadding}`);
  if (!Number.isInteger(outputPadding) || outputPadding < 0 || outputPadding >= g.stride) {
    throw new ShapeError(`${what}: outputPadding must be an integer with 0 <= outputPadding < stride ${g.stride}, got ${outputPadding}`);
  }
  let outH: number;
  let outW: number;
  try {
    outH = convOutputSize(g.inH, g);
    outW = convOutputSize(g.inW, g);
  } catch (e) {
    if (e instanceof ShapeError) throw new ShapeError(`${what}: ${e.message}`);
    throw e;
  }
  return { ...g, outputPadding, outH, outW };
}

export interface ConvOptions {
  geometry: Conv2dGeometry;
  /** Force a strategy (benchmarks, tests); default: convStrategyFor. */
  strategy?: MatmulStrategy;
  /** Register strategy: the kernel with subgroup shuffles or the plain one (as matmul's option). */
  subgroups?: boolean;
  /** Register strategy: the narrow kernel (at most 2 columns) when true (gemmLaunch says why it is not a default). */
  narrow?: boolean;
  /**
   * Register strategy, products of one output column: the direct kernel (shaders/conv_direct.wgsl,
   * the default where it applies: see directApplies) or, when false, the GEMM kernels. It gives
   * their bits; true where it does not apply is a ShapeError.
   */
  direct?: boolean;
  label?: string;
}

export interface ConvForwardOptions extends ConvOptions {
  /** [outC], added to every output pixel. */
  bias?: Tensor;
  /** Fused after the bias. */
  activation?: Activation;
  /** Leaky ReLU slope, default DEFAULT_LEAK. */
  leak?: number;
}

export interface ConvInputGradOptions extends ConvOptions {
  /** Multiply by act'(y), y = `gradOf.output` (the producer's saved output, dX's shape). */
  gradOf?: { output: Tensor; activation: Activation; leak?: number };
}

export interface ConvWeightGradOptions extends ConvOptions {
  /** [outC]: also write the bias gradient, the sum of dY over pixels. */
  biasGrad?: Tensor;
  /** dW += (and biasGrad +=) instead of =. */
  accumulate?: boolean;
}

/**
 * The sizes of one op's implicit GEMM, as matmul's autotune classifies products. An op on the
 * transposed gather runs `parts` products (its sub-pixel classes, one launch) of at most m x k;
 * the others run one.
 */
export interface ConvGemmShape {
  m: number;
  n: number;
  k: number;
  transA: boolean;
  transB: boolean;
  parts: number;
}

/**
 * The strategy a conv op uses unless told: matmul's choice for the same product. The layers
 * that call these ops will pass `strategy` themselves; this is the one place the default lives.
 */
export function convStrategyFor(ctx: GpuContext, shape: ConvGemmShape): MatmulStrategy {
  return matmulStrategyFor(ctx, shape);
}

/** One op's product: which map is gathered over which grid, and the operands' roles. */
interface ConvGemm {
  op: string;
  /** The gathered map (op(A)'s source): height, width, channels. */
  src: readonly [number, number, number];
  /** The pixel grid per sample. */
  grid: readonly [number, number];
  /** The transposed gather. */
  tr: boolean;
  /** Weight gradients: op(A) is the im2col transposed. */
  transA: boolean;
  /** Input gradients: op(B) is the weights with their last two axes swapped. */
  transB: boolean;
  /** Columns of C. */
  n: number;
}

const mapShape = (batch: number, h: number, w: number, c: number): Shape => [batch, h * w * c];

function expectTensor(op: string, t: Tensor, shape: Shape, what: string): void {
  if (t.dtype !== 'f32') throw new ShapeError(`${op}: ${t} must be f32`);
  if (t.rank !== shape.length || t.shape.some((d, i) => d !== shape[i])) {
    throw new ShapeError(`${op}: ${t} must have shape ${formatShape(shape)} (${what})`);
  }
}

/** A part of an op's product: its pixels and im2col columns. */
interface ConvPart {
  pixels: number;
  columns: number;
}

/**
 * The sub-pixel classes of a transposed gather over `grid` (shaders/conv.wgsl's part_of): class
 * z = ph stride + pw holds the grid rows g with (g + padding) mod stride = ph (and the same along
 * w) and the taps ph + stride t (and pw + stride t), and no other pixel meets a tap.
 */
export function subpixelClasses(g: Pick<ResolvedConvGeometry, 'batch' | 'kernel' | 'stride' | 'padding'>, grid: readonly [number, number], channels: number): ConvPart[] {
  const s = g.stride;
  const along = (size: number, phase: number) => {
    const first = (phase + s - (g.padding % s)) % s;
    return { cells: first < size ? Math.ceil((size - first) / s) : 0, taps: phase < g.kernel ? Math.ceil((g.kernel - phase) / s) : 0 };
  };
  const classes: ConvPart[] = [];
  for (let ph = 0; ph < s; ph++) {
    for (let pw = 0; pw < s; pw++) {
      const [h, w] = [along(grid[0], ph), along(grid[1], pw)];
      classes.push({ pixels: g.batch * h.cells * w.cells, columns: h.taps * w.taps * channels });
    }
  }
  return classes;
}

/**
 * The GEMM of a plan: pixels of its grid, columns of its im2col, in the roles the plan gives
 * them; for the transposed gather, the largest of its classes' products.
 */
function gemmShapeOf(g: ResolvedConvGeometry, plan: ConvGemm): ConvGemmShape & ConvPart {
  const pixels = g.batch * plan.grid[0] * plan.grid[1];
  const columns = g.kernel * g.kernel * plan.src[2];
  const parts = plan.tr ? subpixelClasses(g, plan.grid, plan.src[2]) : [{ pixels, columns }];
  const largest = (key: keyof ConvPart) => Math.max(...parts.map((p) => p[key]));
  const [m, k] = plan.transA ? [largest('columns'), largest('pixels')] : [largest('pixels'), largest('columns')];
  return { m, n: plan.n, k, transA: plan.transA, transB: plan.transB, parts: parts.length, pixels, columns };
}

/** Records op(A)·op(B) into c for one op, after the caller checked a, b and c. */
function record(ctx: GpuContext, g: ResolvedConvGeometry, plan: ConvGemm, a: Tensor, b: Tensor, c: Tensor, e: GemmEpilogue, opts: ConvOptions): Dispatch {
  const [srcH, srcW, srcC] = plan.src;
  const [gridH, gridW] = plan.grid;
  const { m, n, k, pixels, columns, parts, ...layout } = gemmShapeOf(g, plan);
  for (const t of [e.bias, e.gradOf?.output, e.biasGrad]) {
    if (t && t.dtype !== 'f32') throw new ShapeError(`${plan.op}: ${t} must be f32`);
  }
  const shape = { m, n, k, parts, ...layout };
  const strategy = opts.strategy ?? convStrategyFor(ctx, shape);
  if (strategy !== 'register' && strategy !== 'tiled') throw new ShapeError(`${plan.op}: unknown strategy '${strategy}'`);
  // Params' M and K are the largest part's (the classes' own come from the geometry).
  const params = gemmParams(plan.op, m, n, k, c, [a, b], e);
  const geometry = uniforms([
    ['u32', srcH], ['u32', srcW], ['u32', srcC], ['u32', g.kernel],
    ['u32', gridH], ['u32', gridW], ['u32', g.stride], ['u32', g.padding],
    ['u32', pixels], ['u32', columns], ['u32', g.batch],
  ]);
  const resources = [...gemmResources(ctx, a, b, c, params, e), geometry];
  const label = opts.label ?? `${plan.op.split('(')[0]} [${m}x${k}x${n}] ${strategy}`;
  const direct = directLaunch(ctx, g, plan, shape, strategy, opts);
  if (direct) return ctx.dispatch(direct.spec, { label: `${label} direct`, constants: direct.constants, resources, workgroups: direct.workgroups });
  const launch = gemmLaunch(ctx, KERNELS, plan.op, m, n, k, strategy, { subgroups: opts.subgroups, narrow: opts.narrow, parts });
  const constants: Record<string, number> = {
    TRANS_A: Number(plan.transA),
    TRANS_B: Number(plan.transB),
    GATHER_TR: Number(plan.tr),
    VEC_N: Number(n % 4 === 0),
    // Only the register kernels load four columns at once.
    ...(strategy === 'register' ? { VEC_C: Number(srcC % 4 === 0) } : {}),
    ...launch.constants,
  };
  return ctx.dispatch(launch.spec, { label, constants, resources, workgroups: launch.workgroups });
}

/** The options that choose between the direct kernel and the GEMM ones. */
type DirectChoice = Pick<ConvOptions, 'subgroups' | 'narrow' | 'direct'>;

/**
 * Whether the direct kernel computes a product: the register strategy (not the narrow kernel),
 * one output column, and channels that fill its loads: whole chains of the register kernel's
 * sum block (forward ops and input gradients) or whole vec4s (weight gradients).
 */
function directApplies(plan: ConvGemm, shape: ConvGemmShape, strategy: MatmulStrategy, opts: DirectChoice, block: number): boolean {
  return strategy === 'register' && !opts.narrow && shape.n === 1 && plan.src[2] % (plan.transA ? 4 : block) === 0;
}

/** direct_tiles (shaders/conv_direct.wgsl): class pixels per lane, and room for taps per axis of a class and KB-channel blocks. */
const TILE = [2, 2] as const;
const TILE_TAPS = 2;
const TILE_BLOCKS = 8;

/** Whether direct_tiles takes a transposed-gather product: its partial sums fit. */
function tilesApply(g: ResolvedConvGeometry, plan: ConvGemm, block: number): boolean {
  return plan.tr && !plan.transA && Math.ceil(g.kernel / g.stride) <= TILE_TAPS && plan.src[2] / block <= TILE_BLOCKS;
}

/** Lanes of direct_tiles: tiles of the largest class along each axis, per sample. */
function tileLanes(g: ResolvedConvGeometry, plan: ConvGemm, tile: readonly [number, number]): number {
  const s = g.stride;
  const cells = (size: number) => Math.max(...Array.from({ length: s }, (_, phase) => {
    const first = (phase + s - (g.padding % s)) % s;
    return first < size ? Math.ceil((size - first) / s) : 0;
  }));
  return g.batch * Math.ceil(cells(plan.grid[0]) / tile[0]) * Math.ceil(cells(plan.grid[1]) / tile[1]);
}

/** The direct kernel's launch for a product it applies to and is not told off (opts.direct), else null. */
function directLaunch(ctx: GpuContext, g: ResolvedConvGeometry, plan: ConvGemm, shape: ConvGemmShape, strategy: MatmulStrategy, opts: DirectChoice): { spec: KernelSpec; constants: Record<string, number>; workgroups: [number, number, number] } | null {
  const block = registerSumBlock(ctx, shape.m, shape.k, opts.subgroups);
  const wg = ctx.adapter.isCpu ? 8 : 64;
  const tiled = tilesApply(g, plan, block);
  const lanes = tiled ? tileLanes(g, plan, TILE) : Math.ceil(shape.m / (plan.transA ? 4 : 1));
  const groups = Math.ceil(lanes / wg);
  const fits = directApplies(plan, shape, strategy, opts, block);
  const max = ctx.limits.maxComputeWorkgroupsPerDimension;
  if (opts.direct && !fits) {
    throw new ShapeError(
      `${plan.op}: the direct kernel takes the register strategy's products of one output column from channels in multiples of ${plan.transA ? 4 : block} ` +
        `(here ${shape.m}x${shape.k}x${shape.n} from ${plan.src[2]} channel${plan.src[2] === 1 ? '' : 's'}, strategy ${strategy}${opts.narrow ? ', narrow' : ''}): leave direct unset`,
    );
  }
  // Past the grid limit the GEMM kernels, whose grids are smaller, may still fit.
  if (opts.direct && groups > max) throw new ShapeError(`${plan.op}: the direct kernel needs ${groups} workgroups, above this adapter's ${max} per dimension: leave direct unset`);
  if (!fits || groups > max || opts.direct === false) return null;
  return {
    spec: { shader: DIRECT, entry: plan.transA ? 'direct_weights' : tiled ? 'direct_tiles' : 'direct_rows', bindings: DIRECT_BINDINGS },
    constants: { TRANS_A: Number(plan.transA), GATHER_TR: Number(plan.tr), VEC_N: 0, KB: block, WG: wg },
    workgroups: [groups, 1, shape.parts],
  };
}

/** Which of a layer's three ops: forward, input gradient, weight gradient. */
export type ConvRole = 'forward' | 'inputGrad' | 'weightGrad';

/** The geometry, resolved and checked against the op's kind. */
function geometryFor(name: string, opts: ConvOptions, transposed: boolean): ResolvedConvGeometry {
  const g = resolveConvGeometry(opts.geometry);
  if (g.transposed !== transposed) {
    const other = transposed ? name.replace('convTranspose2d', 'conv2d') : name.replace('conv2d', 'convTranspose2d');
    throw new ShapeError(`${name}: the geometry (${describeConvGeometry(g)}) is ${g.transposed ? '' : 'not '}transposed; call ${other} or set transposed: ${transposed}`);
  }
  return g;
}

/**
 * The product of one op: the forward-direction gather on the layer's input map, the other on
 * its output gradient (a conv's forward is a conv-transpose's input gradient, and back).
 */
function planFor(op: string, g: ResolvedConvGeometry, role: ConvRole): ConvGemm {
  const input = [g.inH, g.inW, g.inC] as const;
  const output = [g.outH, g.outW, g.outC] as const;
  if (role === 'inputGrad') {
    return { op, src: output, grid: [g.inH, g.inW], tr: !g.transposed, transA: false, transB: true, n: g.inC };
  }
  return { op, src: input, grid: [g.outH, g.outW], tr: g.transposed, transA: role === 'weightGrad', transB: false, n: g.outC };
}

/** Whether one op of a layer runs on the direct kernel under these options (benchmarks say which kernel they timed). */
export function convRunsDirect(ctx: GpuContext, geometry: Conv2dGeometry, role: ConvRole, opts: Omit<ConvOptions, 'geometry'> = {}): boolean {
  const g = resolveConvGeometry(geometry);
  const plan = planFor(role, g, role);
  const shape = gemmShapeOf(g, plan);
  return directLaunch(ctx, g, plan, shape, opts.strategy ?? convStrategyFor(ctx, shape), opts) !== null;
}

/** The product one op of a layer runs (to pick or tune its strategy, e.g. with convStrategyFor). */
export function convGemmShape(geometry: Conv2dGeometry, role: ConvRole): ConvGemmShape {
  const g = resolveConvGeometry(geometry);
  const { m, n, k, transA, transB, parts } = gemmShapeOf(g, planFor(role, g, role));
  return { m, n, k, transA, transB, parts };
}

function forward(ctx: GpuContext, name: string, transposed: boolean, x: Tensor, w: Tensor, y: Tensor, opts: ConvForwardOptions): Dispatch {
  const g = geometryFor(name, opts, transposed);
  const op = `${name}(${[x, w, y].join(', ')}; ${describeConvGeometry(g)})`;
  expectTensor(op, x, mapShape(g.batch, g.inH, g.inW, g.inC), `batch x ${g.inH}*${g.inW}*${g.inC}`);
  expectTensor(op, w, [g.kernel, g.kernel, g.inC, g.outC], 'KH, KW, Cin, Cout');
  expectTensor(op, y, mapShape(g.batch, g.outH, g.outW, g.outC), `batch x ${g.outH}*${g.outW}*${g.outC}`);
  return record(ctx, g, planFor(op, g, 'forward'), x, w, y, { bias: opts.bias, activation: opts.activation, leak: opts.leak }, opts);
}

function inputGrad(ctx: GpuContext, name: string, transposed: boolean, dy: Tensor, w: Tensor, dx: Tensor, opts: ConvInputGradOptions): Dispatch {
  const g = geometryFor(name, opts, transposed);
  const op = `${name}(${[dy, w, dx].join(', ')}; ${describeConvGeometry(g)})`;
  expectTensor(op, dy, mapShape(g.batch, g.outH, g.outW, g.outC), `batch x ${g.outH}*${g.outW}*${g.outC}`);
  expectTensor(op, w, [g.kernel, g.kernel, g.inC, g.outC], 'KH, KW, Cin, Cout');
  expectTensor(op, dx, mapShape(g.batch, g.inH, g.inW, g.inC), `batch x ${g.inH}*${g.inW}*${g.inC}`);
  return record(ctx, g, planFor(op, g, 'inputGrad'), dy, w, dx, { gradOf: opts.gradOf }, opts);
}

function weightGrad(ctx: GpuContext, name: string, transposed: boolean, x: Tensor, dy: Tensor, dw: Tensor, opts: ConvWeightGradOptions): Dispatch {
  const g = geometryFor(name, opts, transposed);
  const op = `${name}(${[x, dy, dw].join(', ')}; ${describeConvGeometry(g)})`;
  expectTensor(op, x, mapShape(g.batch, g.inH, g.inW, g.inC), `batch x ${g.inH}*${g.inW}*${g.inC}`);
  expectTensor(op, dy, mapShape(g.batch, g.outH, g.outW, g.outC), `batch x ${g.outH}*${g.outW}*${g.outC}`);
  expectTensor(op, dw, [g.kernel, g.kernel, g.inC, g.outC], 'KH, KW, Cin, Cout');
  return record(ctx, g, planFor(op, g, 'weightGrad'), x, dy, dw, { biasGrad: opts.biasGrad, accumulate: opts.accumulate }, opts);
}

/** y = act(conv(x, w) + bias): x [batch, inH*inW*inC], w [k, k, inC, outC], y [batch, outH*outW*outC]. */
export function conv2d(ctx: GpuContext, x: Tensor, w: Tensor, y: Tensor, opts: ConvForwardOptions): Dispatch {
  return forward(ctx, 'conv2d', false, x, w, y, opts);
}

/** dx = dL/dx of conv2d given dy = dL/dy (times act'(gradOf.output)): dy [batch, outH*outW*outC], dx [batch, inH*inW*inC]. */
export function conv2dInputGrad(ctx: GpuContext, dy: Tensor, w: Tensor, dx: Tensor, opts: ConvInputGradOptions): Dispatch {
  return inputGrad(ctx, 'conv2dInputGrad', false, dy, w, dx, opts);
}

/** dw = dL/dw of conv2d (and the bias gradient, the sum of dy over pixels): dw [k, k, inC, outC]. */
export function conv2dWeightGrad(ctx: GpuContext, x: Tensor, dy: Tensor, dw: Tensor, opts: ConvWeightGradOptions): Dispatch {
  return weightGrad(ctx, 'conv2dWeightGrad', false, x, dy, dw, opts);
}

/** y = act(convTranspose(x, w) + bias): x [batch, inH*inW*inC], w [k, k, inC, outC], y [batch, outH*outW*outC]. */
export function convTranspose2d(ctx: GpuContext, x: Tensor, w: Tensor, y: Tensor, opts: ConvForwardOptions): Dispatch {
  return forward(ctx, 'convTranspose2d', true, x, w, y, opts);
}

/** dx = dL/dx of convTranspose2d given dy (times act'(gradOf.output)). */
export function convTranspose2dInputGrad(ctx: GpuContext, dy: Tensor, w: Tensor, dx: Tensor, opts: ConvInputGradOptions): Dispatch {
  return inputGrad(ctx, 'convTranspose2dInputGrad', true, dy, w, dx, opts);
}

/** dw = dL/dw of convTranspose2d (and the bias gradient). */
export function convTranspose2dWeightGrad(ctx: GpuContext, x: Tensor, dy: Tensor, dw: Tensor, opts: ConvWeightGradOptions): Dispatch {
  return weightGrad(ctx, 'convTranspose2dWeightGrad', true, x, dy, dw, opts);
}
