// Batch normalisation (torch.nn.BatchNorm2d semantics, NHWC): per-channel statistics over all
// rows and positions, optionally per contiguous group of rows (real rows then fake rows, each
// normalised by itself), with a fused activation forward and a fused activation gradient
// backward. Deterministic: partial statistics per chunk of rows, merged in a fixed order.
//
// Dispatches: training forward 3 (chunk statistics, merge + running statistics, normalise),
// inference forward 1 (normalise with the running statistics), backward 3 (chunk sums, merge +
// dgamma/dbeta, dx). shaders/batchnorm.wgsl explains the arithmetic.

import source from '../../shaders/batchnorm.wgsl?raw';
import scalarSource from '../../shaders/batchnorm_f32.wgsl?raw';
import vec4Source from '../../shaders/batchnorm_vec4.wgsl?raw';
import { uniforms, type Dispatch, type GpuContext, type KernelSpec } from '../gpu/context.ts';
import { ShapeError } from '../gpu/errors.ts';
import { defineShader, type ShaderSource } from '../gpu/shader.ts';
import type { TensorPool } from '../tensor/pool.ts';
import { createTensor, formatShape, type Shape, type Tensor } from '../tensor/tensor.ts';
import { activationShader } from './activations.ts';
import { ACTIVATIONS, activationCode, DEFAULT_LEAK, expect2d, expectDistinct, expectDType, expectFinite, expectSeparateBuffers, type Activation } from './common.ts';

// The kernels, composed after a prelude that sets how many consecutive channels a lane takes
// (WGSL declarations may come in any order): one, or four where C is divisible by 4.
const body = defineShader('batchnorm.wgsl', source);
const SHADERS: Record<1 | 4, ShaderSource> = {
  1: defineShader('batchnorm_f32.wgsl', scalarSource, [activationShader, body]),
  4: defineShader('batchnorm_vec4.wgsl', vec4Source, [activationShader, body]),
};

type Entry = 'stats_partial' | 'stats_finalize' | 'normalize' | 'grad_partial' | 'grad_finalize' | 'grad_input';
const BINDINGS: Record<Entry, KernelSpec['bindings']> = {
  stats_partial: ['read', 'write', 'uniform'],
  stats_finalize: ['read', 'read', 'write', 'write', 'write', 'uniform'],
  normalize: ['read', 'read', 'read', 'read', 'read', 'write', 'uniform'],
  grad_partial: ['read', 'read', 'read', 'write', 'uniform'],
  grad_finalize: ['read', 'write', 'write', 'write', 'uniform'],
  grad_input: ['read', 'read', 'read', 'read', 'read', 'read', 'write', 'uniform'],
};

function kernel(plan: BatchNormPlan, entry: Entry): KernelSpec {
  // The per-channel passes read f32 whatever the prelude; the scalar module serves them all.
  const width = entry === 'stats_finalize' || entry === 'grad_finalize' ? 1 : plan.width;
  return { shader: SHADERS[width], entry, bindings: BINDINGS[entry] };
}

/** The shader's FINAL_WG: invocations per workgroup of the per-channel passes. */
const FINAL_WG = 64;
/** The shader's flags. */
const FLAG_INFERENCE = 1;
const FLAG_ACCUMULATE = 2;

/** torch.nn.BatchNorm2d's defaults. */
export const BATCHNORM_EPS = 1e-5;
export const BATCHNORM_MOMENTUM = 0.1;

/** Counts are f32 in the shader: exact up to 2^24 values per group and channel. */
const MAX_VALUES_PER_GROUP = 2 ** 24;
/** Chunks per group at most: the merge pass's sequential work per channel. */
const MAX_CHUNKS = 256;

/** How a [groups * m, C] matrix is cut into workgroups: channel tiles by chunks of rows. */
export interface BatchNormPlan {
  /** m: matrix rows per group (batch rows per group times positions). */
  rowsPerGroup: number;
  /** Consecutive channels a lane takes (4 where C is divisible by 4, else 1). */
  width: 1 | 4;
  /** Lanes across channels per workgroup (a power of two up to 64) and lanes per channel. */
  tileCols: number;
  rowLanes: number;
  colTiles: number;
  /** Rows each lane walks in order within a chunk (at most). */
  rowsPerLane: number;
  chunkRows: number;
  /** Chunks per group; the merge pass combines them in a pairwise tree. */
  chunks: number;
}

/**
 * The plan for a group of m rows and C channels (lanes take 4 channels where C % 4 == 0).
 * CPU adapters (lavapipe runs a workgroup's lanes as SIMD and pays for every barrier) get one
 * lane per channel column where there are at least 8 columns, so a chunk is summed with no
 * barrier at all, and 8 lanes per workgroup (one SIMD chunk) split across rows otherwise;
 * GPUs get 256 lanes, split across rows when C is small, and smaller chunks so that small-C
 * layers still spread over many workgroups. Chunks per group stay at most 256 (the merge pass
 * walks them one by one per channel). Exported so checks can derive the rounding bound from
 * the actual summation depth.
 */
export function planBatchNorm(rowsPerGroup: number, channels: number, cpu: boolean): BatchNormPlan {
  const width = channels % 4 === 0 ? 4 : 1;
  const laneCols = channels / width;
  let tileCols = 1;
  while (tileCols < laneCols && tileCols < 64) tileCols *= 2;
  const lanes = cpu ? Math.max(tileCols, 8) : 256;
  const rowLanes = lanes / tileCols;
  const minRowsPerLane = cpu ? 16 : 8;
  const rowsPerLane = Math.max(minRowsPerLane, Math.ceil(rowsPerGroup / (rowLanes * MAX_CHUNKS)));
  const chunkRows = rowLanes * rowsPerLane;
  return {
    rowsPerGroup,
    width,
    tileCols,
    rowLanes,
    colTiles: Math.ceil(laneCols / tileCols),
    rowsPerLane,
    chunkRows,
    chunks: Math.ceil(rowsPerGroup / chunkRows),
  };
}

/** The saved statistics' shape: rows (shift, mean of x - shift, 1 / sqrt(var + eps)) per group and channel. */
export function batchNormSavedShape(groups: number, channels: number): Shape {
  return [3, groups, channels];
}

interface Common {
  /** C: channels, the fastest-varying index of a row (NHWC); P = row length / C positions. */
  channels: number;
  /** Contiguous equal blocks of rows, each normalised by its own statistics (default 1). */
  groups?: number;
  label?: string;
  /** Where the scratch tensors come from (default: created here, once, at record time). */
  pool?: TensorPool;
  /** Force the CPU or the GPU workgroup layout (checks run both anywhere); default: the adapter's. */
  layout?: 'cpu' | 'gpu';
}

export interface BatchNormForwardOptions extends Common {
  /** Batch statistics, saved for backward, and the running update (true); the running statistics (false). */
  training: boolean;
  /** running = (1 - momentum) running + momentum * batch statistic (default 0.1). */
  momentum?: number;
  /** Added to the variance (default 1e-5). */
  eps?: number;
  /** Fused after gamma * xhat + beta (default identity). */
  activation?: Activation;
  /** Leaky ReLU slope (default DEFAULT_LEAK). */
  leak?: number;
}

export interface BatchNormBackwardOptions extends Common {
  /** dx *= act'(output), output = the saved forward output of x's producer, shaped like x. */
  gradOf?: { output: Tensor; activation: Activation; leak?: number };
  /** dgamma += ..., dbeta += ... (instead of =). */
  accumulate?: boolean;
}

/** What validation found: the sizes every dispatch needs. */
interface Validated {
  op: string;
  channels: number;
  groups: number;
  plan: BatchNormPlan;
  label: string;
}

function expectVector(op: string, name: string, t: Tensor, n: number): void {
  expectDType(op, t, 'f32');
  if (t.size !== n || t.rank > 2 || (t.rank === 2 && t.rows !== 1)) {
    throw new ShapeError(`${op}: ${name} ${t} must have shape [${n}] or [1, ${n}] (one value per channel)`);
  }
}

function expectActivation(op: string, name: string, act: Activation): number {
  if (!ACTIVATIONS.includes(act)) throw new ShapeError(`${op}: unknown ${name} '${act}' (expected one of ${ACTIVATIONS.join(', ')})`);
  return activationCode(act);
}

/** Checks x [rows, P * C], channels and groups; returns the plan. */
function validate(ctx: GpuContext, op: string, x: Tensor, opts: Common): Validated {
  expectDType(op, x, 'f32');
  expect2d(op, x);
  const channels = opts.channels;
  if (!Number.isInteger(channels) || channels < 1 || x.cols % channels !== 0) {
    throw new ShapeError(`${op}: channels ${channels} must be a positive integer dividing the row length ${x.cols} of ${x} (rows are [positions, channels], channels fastest)`);
  }
  const groups = opts.groups ?? 1;
  if (!Number.isInteger(groups) || groups < 1 || x.rows % groups !== 0) {
    throw new ShapeError(`${op}: groups ${groups} must be a positive integer dividing the ${x.rows} rows of ${x} (each group is a contiguous block of equal size)`);
  }
  const rowsPerGroup = (x.rows / groups) * (x.cols / channels);
  if (rowsPerGroup > MAX_VALUES_PER_GROUP) {
    throw new ShapeError(`${op}: ${rowsPerGroup} values per group and channel in ${x} exceed ${MAX_VALUES_PER_GROUP} (counts are f32); use more groups or smaller batches`);
  }
  const layout = opts.layout ?? (ctx.adapter.isCpu ? 'cpu' : 'gpu');
  if (layout !== 'cpu' && layout !== 'gpu') throw new ShapeError(`${op}: layout must be 'cpu' or 'gpu', got '${layout}'`);
  const plan = planBatchNorm(rowsPerGroup, channels, layout === 'cpu');
  const max = ctx.limits.maxComputeWorkgroupsPerDimension;
  if (plan.colTiles > max || groups * plan.chunks > max) {
    throw new ShapeError(`${op}: ${x} needs ${plan.colTiles} x ${groups * plan.chunks} workgroups, above this adapter's ${max} per dimension`);
  }
  return { op, channels, groups, plan, label: opts.label ?? 'batchnorm' };
}

function scratch(ctx: GpuContext, pool: TensorPool | undefined, shape: Shape, label: string): Tensor {
  return pool ? pool.acquire(shape, 'f32', label) : createTensor(ctx, shape, 'f32', label);
}

interface ParamValues {
  leak?: number;
  gradLeak?: number;
  eps?: number;
  momentum?: number;
  flags?: number;
}

/** The shader's Params, in declaration order. */
function params(l: Validated, v: ParamValues): Uint8Array {
  return uniforms([
    ['u32', l.plan.rowsPerGroup],
    ['u32', l.channels],
    ['u32', l.groups],
    ['u32', l.plan.chunkRows],
    ['u32', l.plan.chunks],
    ['f32', v.leak ?? 0],
    ['f32', v.gradLeak ?? 0],
    ['f32', v.eps ?? 0],
    ['f32', v.momentum ?? 0],
    ['u32', v.flags ?? 0],
  ]);
}

/** The launch of the chunked passes: channel tiles by (group, chunk); `extra` adds ACT or GRAD_ACT. */
function chunked(l: Validated, extra: Record<string, number> = {}): { constants: Record<string, number>; workgroups: [number, number, number] } {
  return { constants: { TILE_COLS: l.plan.tileCols, ROW_LANES: l.plan.rowLanes, ...extra }, workgroups: [l.plan.colTiles, l.groups * l.plan.chunks, 1] };
}

const perChannel = (l: Validated): [number, number, number] => [Math.ceil(l.channels / FINAL_WG), 1, 1];

/**
 * y = act(gamma * (x - mean) / sqrt(var + eps) + beta) per channel, x [rows, P * C] (NHWC rows:
 * element (row, p, c) at row * P * C + p * C + c), y shaped like x. gamma, beta, running.mean
 * and running.var hold C values. Training: statistics of each group's rows and positions
 * (biased variance), saved [3, groups, C] for backward (batchNormSavedShape), and running =
 * (1 - momentum) running + momentum * (mean over groups of the batch mean / unbiased variance;
 * one value per group counts as variance 0). Inference: the running statistics, nothing
 * written but y (saved is neither read nor written). Returns 3 dispatches (training) or 1.
 */
export function batchNormForward(
  ctx: GpuContext,
  x: Tensor,
  gamma: Tensor,
  beta: Tensor,
  y: Tensor,
  saved: Tensor,
  running: { mean: Tensor; var: Tensor },
  opts: BatchNormForwardOptions,
): Dispatch[] {
  const op = `batchNormForward(${x}, ${gamma}, ${beta} -> ${y}, ${saved}; channels ${opts.channels}, groups ${opts.groups ?? 1})`;
  const l = validate(ctx, op, x, opts);
  const C = l.channels;
  expectVector(op, 'gamma', gamma, C);
  expectVector(op, 'beta', beta, C);
  expectVector(op, 'running.mean', running.mean, C);
  expectVector(op, 'running.var', running.var, C);
  expectDType(op, y, 'f32');
  if (y.rank !== 2 || y.rows !== x.rows || y.cols !== x.cols) throw new ShapeError(`${op}: y ${y} must have the shape of x, ${formatShape(x.shape)}`);
  expectDType(op, saved, 'f32');
  const savedShape = batchNormSavedShape(l.groups, C);
  if (saved.rank !== 3 || saved.shape.some((d, i) => d !== savedShape[i])) {
    throw new ShapeError(`${op}: saved ${saved} must have shape ${formatShape(savedShape)} (shift, mean, inverse std per group and channel)`);
  }
  if (typeof opts.training !== 'boolean') throw new ShapeError(`${op}: training must be true or false`);
  const eps = opts.eps ?? BATCHNORM_EPS;
  expectFinite(op, 'eps', eps);
  if (!(Math.fround(eps) > 0)) throw new ShapeError(`${op}: eps must be positive (and not round to 0 in f32), got ${eps}`);
  const momentum = opts.momentum ?? BATCHNORM_MOMENTUM;
  expectFinite(op, 'momentum', momentum);
  if (momentum < 0 || momentum > 1) throw new ShapeError(`${op}: momentum must be in [0, 1], got ${momentum}`);
  const leak = opts.leak ?? DEFAULT_LEAK;
  expectFinite(op, 'leak', leak);
  const act = expectActivation(op, 'activation', opts.activation ?? 'identity');

  const norm = chunked(l, { ACT: act });
  if (!opts.training) {
    expectSeparateBuffers(op, [y], [x, running.mean, running.var, gamma, beta]);
    return [
      ctx.dispatch(kernel(l.plan, 'normalize'), {
        label: `${l.label}: normalise (running statistics)`,
        ...norm,
        resources: [x.binding(), running.mean.binding(), running.var.binding(), gamma.binding(), beta.binding(), y.binding(), params(l, { leak, eps, flags: FLAG_INFERENCE })],
      }),
    ];
  }
  expectSeparateBuffers(op, [saved, running.mean, running.var], [x]);
  expectDistinct(op, saved, running.mean, running.var);
  expectSeparateBuffers(op, [y], [x, saved, gamma, beta]);

  const partials = scratch(ctx, opts.pool, [l.groups * l.plan.chunks, 2, C], `${l.label}: chunk statistics`);
  return [
    ctx.dispatch(kernel(l.plan, 'stats_partial'), {
      label: `${l.label}: chunk statistics`,
      ...chunked(l),
      resources: [x.binding(), partials.binding(), params(l, {})],
    }),
    ctx.dispatch(kernel(l.plan, 'stats_finalize'), {
      label: `${l.label}: statistics`,
      resources: [x.binding(), partials.binding(), saved.binding(), running.mean.binding(), running.var.binding(), params(l, { eps, momentum })],
      workgroups: perChannel(l),
    }),
    ctx.dispatch(kernel(l.plan, 'normalize'), {
      label: `${l.label}: normalise`,
      ...norm,
      resources: [x.binding(), saved.binding(), saved.binding(), gamma.binding(), beta.binding(), y.binding(), params(l, { leak, eps })],
    }),
  ];
}

/**
 * The training-mode backward of batchNormForward. dy [rows, P * C] is the gradient with
 * respect to gamma * xhat + beta (the fused activation's derivative already applied); x is the
 * forward's input and saved its statistics (xhat is recomputed from them, so no normalised
 * copy of x need be kept). Writes dx = gamma * invstd / n * (n dy - sum dy - xhat sum dy xhat)
 * per group (times act'(gradOf.output) when given), and dgamma = sum dy xhat, dbeta = sum dy
 * over all groups (added with `accumulate`); dgamma and dbeta hold C values and may be views
 * of a flat gradient buffer. Returns 3 dispatches.
 */
export function batchNormBackward(
  ctx: GpuContext,
  dy: Tensor,
  x: Tensor,
  gamma: Tensor,
  saved: Tensor,
  dx: Tensor,
  dgamma: Tensor,
  dbeta: Tensor,
  opts: BatchNormBackwardOptions,
): Dispatch[] {
  const op = `batchNormBackward(${dy}, ${x}, ${gamma}, ${saved} -> ${dx}, ${dgamma}, ${dbeta}; channels ${opts.channels}, groups ${opts.groups ?? 1})`;
  const l = validate(ctx, op, x, opts);
  const C = l.channels;
  for (const [name, t] of [['dy', dy], ['dx', dx]] as const) {
    expectDType(op, t, 'f32');
    if (t.rank !== 2 || t.rows !== x.rows || t.cols !== x.cols) throw new ShapeError(`${op}: ${name} ${t} must have the shape of x, ${formatShape(x.shape)}`);
  }
  expectVector(op, 'gamma', gamma, C);
  expectVector(op, 'dgamma', dgamma, C);
  expectVector(op, 'dbeta', dbeta, C);
  expectDType(op, saved, 'f32');
  const savedShape = batchNormSavedShape(l.groups, C);
  if (saved.rank !== 3 || saved.shape.some((d, i) => d !== savedShape[i])) {
    throw new ShapeError(`${op}: saved ${saved} must have shape ${formatShape(savedShape)}, as batchNormForward wrote it with groups ${l.groups}`);
  }
  const grad = opts.gradOf;
  let gradAct = 0;
  let gradLeak = 0;
  if (grad) {
    const out = grad.output;
    expectDType(op, out, 'f32');
    if (out.rank !== 2 || out.rows !== x.rows || out.cols !== x.cols) throw new ShapeError(`${op}: gradOf.output ${out} must have the shape of x, ${formatShape(x.shape)}`);
    gradAct = expectActivation(op, 'gradOf.activation', grad.activation);
    gradLeak = grad.leak ?? DEFAULT_LEAK;
    expectFinite(op, 'gradOf.leak', gradLeak);
  }
  expectDistinct(op, dgamma, dbeta);
  expectSeparateBuffers(op, [dx], [dy, x, saved, gamma, ...(grad ? [grad.output] : [])]);

  const partials = scratch(ctx, opts.pool, [l.groups * l.plan.chunks, 2, C], `${l.label}: chunk gradient sums`);
  const sums = scratch(ctx, opts.pool, [l.groups, 2, C], `${l.label}: gradient sums`);
  return [
    ctx.dispatch(kernel(l.plan, 'grad_partial'), {
      label: `${l.label}: chunk gradient sums`,
      ...chunked(l),
      resources: [x.binding(), dy.binding(), saved.binding(), partials.binding(), params(l, {})],
    }),
    ctx.dispatch(kernel(l.plan, 'grad_finalize'), {
      label: `${l.label}: dgamma, dbeta`,
      resources: [partials.binding(), sums.binding(), dgamma.binding(), dbeta.binding(), params(l, { flags: opts.accumulate ? FLAG_ACCUMULATE : 0 })],
      workgroups: perChannel(l),
    }),
    ctx.dispatch(kernel(l.plan, 'grad_input'), {
      label: `${l.label}: dx`,
      // Identity stands for no gradOf (its derivative is 1): the producer's output is then never
      // read, and x stands in (read-only twice is allowed).
      ...chunked(l, { GRAD_ACT: gradAct }),
      resources: [x.binding(), dy.binding(), saved.binding(), gamma.binding(), sums.binding(), (grad?.output ?? x).binding(), dx.binding(), params(l, { gradLeak })],
    }),
  ];
}
