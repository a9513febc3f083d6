// Minibatch assembly on the GPU: rows of a dataset (bytes or f32) picked by an index tensor,
// scaled and optionally min-max normalised per row; per-row min-max in place; and 1-D value
// gathers for labels. The indices are a tensor, or a slice of a random permutation that the
// gather draws itself (randomPermutation's numbers, without a dispatch of their own), so
// nothing leaves the GPU.

import source from '../../shaders/gather.wgsl?raw';
import { uniforms, type Dispatch, type GpuContext, type KernelSpec } from '../gpu/context.ts';
import { ShapeError } from '../gpu/errors.ts';
import { defineShader } from '../gpu/shader.ts';
import type { TensorBlocks } from '../tensor/blocks.ts';
import { Tensor } from '../tensor/tensor.ts';
import { expect2d, expectDistinct, expectDType, expectFinite, grid1d, spareOutput } from './common.ts';
import { normalShader, permutationShader, permutationSlice, resolveRandomOptions, type PermutationDraw } from './random.ts';

const shader = defineShader('gather.wgsl', source, [permutationShader, normalShader]);

// src, indices, dst, params, clock, drawn indices; the row gathers add the noise they draw.
const GATHER = ['read', 'read', 'write', 'uniform', 'read', 'write'] as const;
const ROWS = [...GATHER, 'write'] as const;
const ROWS_BY_ELEMENT: KernelSpec = { shader, entry: 'rows_by_element', bindings: ROWS };
const ROWS_BY_THREAD: KernelSpec = { shader, entry: 'rows_by_thread', bindings: ROWS };
const ROWS_BY_WORKGROUP: KernelSpec = { shader, entry: 'rows_by_workgroup', bindings: ROWS };
const MINMAX_BY_THREAD: KernelSpec = { shader, entry: 'minmax_by_thread', bindings: ['write', 'uniform'] };
const MINMAX_BY_WORKGROUP: KernelSpec = { shader, entry: 'minmax_by_workgroup', bindings: ['write', 'uniform'] };
const VALUES: KernelSpec = { shader, entry: 'gather_values', bindings: GATHER };

/**
 * Indices a gather draws itself: indices[p] = pi(p) for the random permutation `permutation`
 * (randomPermutation's, bit for bit), written to `into` when given (for inspection, or for
 * another op on the same rows).
 */
export interface DrawnIndices {
  permutation: PermutationDraw;
  into?: Tensor;
}

/** A gather's indices: a tensor, or drawn in the gather. */
export type RowIndices = Tensor | DrawnIndices;

/**
 * How a row op spreads over invocations: one per element (no min-max), one per row, or one
 * workgroup per row. All give identical results; chooseStrategy picks one per adapter.
 */
export type RowStrategy = 'element' | 'thread' | 'workgroup';

export interface GatherRowsOptions {
  /** Position in `indices` of the index for dst row 0 (default 0). */
  indexOffset?: number;
  /** Multiplies every value before min-max (default 1; 1/255 maps bytes to [0, 1]). */
  scale?: number;
  /** Added after the scale when there is no min-max (default 0; scale 2/255 and offset -1 map bytes to [-1, 1]). */
  offset?: number;
  /** Per-row min-max to [0, 1] after scaling (mapminmax; a constant row is left as it is). */
  minmax?: boolean;
  /** Normal noise drawn in the same dispatch by workgroups of its own. */
  noise?: NoiseRide;
}

/** Parts of noise a gather draws as it gathers, to spare the draws a dispatch each. */
export interface NoiseRide {
  /** The parts: one tensor, or blocks of equal tensors (part p is block p). */
  into: Tensor | TensorBlocks;
  /**
   * Part p is what randomNormal(part, { seed, stream: streams[p], offset, clock, mean, std })
   * draws, bit for bit. The key is the gather's: with drawn indices, the same seed and clock.
   */
  streams: readonly number[];
  seed: number;
  clock?: Tensor;
  offset?: number;
  mean?: number;
  std?: number;
}

/** The most noise parts one gather draws (gather.wgsl's noise_streams). */
export const MAX_NOISE_PARTS = 8;

/** Lanes of the workgroup that shares one row ('workgroup', 'element'). */
const ROW_WG = 64;
/**
 * Rows per workgroup for 'thread': small, so a 100-row minibatch still spreads over several
 * CPU cores (8, 16 and 64 measured the same on 2 lavapipe cores).
 */
const THREAD_WG = 16;

/**
 * dst[i, :] = transform(src[indices[indexOffset + i], :]) for i < n = dst rows.
 * src: u8 (compact pixels, e.g. MNIST uploaded once as bytes) or f32, shape [R, D]; dst f32 [n, D].
 * transform: x * scale + offset, or x * scale then per-row min-max to [0, 1] (MATLAB mapminmax semantics:
 * y = (x - min) / (max - min); a constant row is left unchanged).
 * An index >= R gives a row of zeros (the kernel never reads past the source).
 */
export function gatherRows(ctx: GpuContext, src: Tensor, indices: RowIndices, dst: Tensor | TensorBlocks, opts: GatherRowsOptions = {}): Dispatch {
  return gatherRowsWith(ctx, src, indices, dst, opts, chooseStrategy(ctx, !!opts.minmax));
}

/** gatherRows with an explicit strategy (for the checks and benchmarks; results are identical). */
export function gatherRowsWith(
  ctx: GpuContext,
  src: Tensor,
  indices: RowIndices,
  dst: Tensor | TensorBlocks,
  opts: GatherRowsOptions,
  strategy: RowStrategy,
): Dispatch {
  const op = 'gatherRows';
  const indexOffset = opts.indexOffset ?? 0;
  const scale = opts.scale ?? 1;
  const offset = opts.offset ?? 0;
  const minmax = opts.minmax ?? false;
  const out = destination(dst);
  if (src.dtype !== 'u8' && src.dtype !== 'f32') throw new ShapeError(`${op}: ${src} must be u8 or f32`);
  expect2d(op, src);
  expectDType(op, out.tensor, 'f32');
  if (out.shape.length !== 2) throw new ShapeError(`${op}: ${dst} must be 2-D`);
  if (out.shape[1] !== src.cols) throw new ShapeError(`${op}: ${dst} must have as many columns as ${src}`);
  const idx = indexBindings(ctx, op, indices, indexOffset, out.rows, src.rows, [src, out.tensor]);
  expectFinite(op, 'scale', scale);
  expectFinite(op, 'offset', offset);
  expectDistinct(op, src, out.tensor);
  if (minmax && strategy === 'element') throw new ShapeError(`${op}: min-max needs a per-row strategy, not 'element'`);
  const n = out.rows;
  const d = out.shape[1];
  const spec = strategy === 'element' ? ROWS_BY_ELEMENT : strategy === 'thread' ? ROWS_BY_THREAD : ROWS_BY_WORKGROUP;
  const wg = strategy === 'thread' ? THREAD_WG : ROW_WG;
  const invocations = strategy === 'element' ? n * d : strategy === 'thread' ? n : n * ROW_WG;
  const gatherGroups = Math.max(1, Math.ceil(invocations / wg));
  const noise = opts.noise && noiseRide(ctx, op, opts.noise, idx, gatherGroups, wg, [src, out.tensor, idx.into]);
  return ctx.dispatch(spec, {
    label: `${op}(${src.dtype}[${src.rows}, ${d}] -> [${n}, ${d}]${out.into}${minmax ? ', minmax' : ''}${idx.label}${noise?.label ?? ''})`,
    constants: { WG: wg, SRC_U8: src.dtype === 'u8' ? 1 : 0, MINMAX: minmax ? 1 : 0, WORD_ROWS: d % 4 === 0 ? 1 : 0, NOISE: noise ? 1 : 0, ...idx.constants },
    resources: [
      src.binding(),
      idx.indices.binding(),
      out.tensor.binding(),
      gatherParams(n, d, src.rows, indexOffset, scale, offset, out.blocks, idx.draw, noise?.words),
      (noise?.clock ?? idx.clock).binding(),
      idx.into.binding(),
      (noise?.into ?? spareOutput(ctx, 1)).binding(),
    ],
    workgroups: grid1d(ctx, (gatherGroups + (noise?.groups ?? 0)) * wg, wg),
  });
}

/** What gather.wgsl needs of a NoiseRide, checked against the gather's own key and bindings. */
function noiseRide(ctx: GpuContext, op: string, ride: NoiseRide, idx: IndexBindings, gatherGroups: number, wg: number, others: Tensor[]) {
  const parts = destination(ride.into);
  expectDType(op, parts.tensor, 'f32');
  for (const t of others) expectDistinct(op, parts.tensor, t);
  const count = parts.rows / parts.blocks.rows;
  const n = parts.blocks.rows * (parts.shape.slice(1).reduce((a, b) => a * b, 1));
  if (ride.streams.length !== count || count > MAX_NOISE_PARTS) {
    throw new ShapeError(`${op}: the noise has ${count} parts and ${ride.streams.length} streams; one stream per part, at most ${MAX_NOISE_PARTS}`);
  }
  const mean = ride.mean ?? 0;
  const std = ride.std ?? 1;
  expectFinite(op, 'noise mean', mean);
  expectFinite(op, 'noise std', std);
  if (std < 0) throw new ShapeError(`${op}: the noise's std must be >= 0, got ${std}`);
  const streams = ride.streams.map((stream) => resolveRandomOptions(ctx, op, parts.tensor, { ...ride, stream }));
  const { seed, offset, clock } = streams[0];
  if (idx.draw && (idx.draw.seed !== seed || idx.clock !== clock)) throw new ShapeError(`${op}: the noise must share the drawn indices' seed and clock`);
  const blocks = Math.ceil(n / 4);
  const words: NoiseWords = { from: gatherGroups, n, blocks, stride: parts.blocks.stride, parts: count, seed, offset, mean, std, streams: streams.map((s) => s.stream) };
  return { words, clock, into: parts.tensor, groups: Math.ceil((count * blocks) / wg), label: `, noise streams ${words.streams.join(', ')}` };
}

/** In place per-row min-max to [0, 1] with mapminmax semantics (the seed experiment's noise bank). */
export function rowMinMax(ctx: GpuContext, x: Tensor): Dispatch {
  return rowMinMaxWith(ctx, x, chooseStrategy(ctx, true) === 'workgroup' ? 'workgroup' : 'thread');
}

export function rowMinMaxWith(ctx: GpuContext, x: Tensor, strategy: Exclude<RowStrategy, 'element'>): Dispatch {
  const op = 'rowMinMax';
  expectDType(op, x, 'f32');
  if (x.rank > 2) throw new ShapeError(`${op}: ${x} must be 1-D or 2-D`);
  const [n, d] = [x.rows, x.cols];
  return ctx.dispatch(strategy === 'thread' ? MINMAX_BY_THREAD : MINMAX_BY_WORKGROUP, {
    label: `${op}([${n}, ${d}])`,
    constants: { WG: strategy === 'thread' ? THREAD_WG : ROW_WG },
    resources: [x.binding(), gatherParams(n, d, n, 0, 1)],
    workgroups: grid1d(ctx, strategy === 'thread' ? n : n * ROW_WG, strategy === 'thread' ? THREAD_WG : ROW_WG),
  });
}

/**
 * dst[i] = src[indices[indexOffset + i]] for 1-D f32/u32/u8 sources into f32 or u32 dst (labels
 * for a minibatch). Conversions: integers to f32 by value; f32 to u32 truncates toward zero
 * (negatives give 0). An index >= src.size gives 0.
 */
export function gatherValues(ctx: GpuContext, src: Tensor, indices: RowIndices, dst: Tensor | TensorBlocks, opts: { indexOffset?: number } = {}): Dispatch {
  const op = 'gatherValues';
  const indexOffset = opts.indexOffset ?? 0;
  const out = destination(dst);
  if (src.rank !== 1) throw new ShapeError(`${op}: ${src} must be 1-D`);
  if (src.dtype === 'f16') throw new ShapeError(`${op}: ${src} must be f32, u32 or u8`);
  if (out.shape.length !== 1) throw new ShapeError(`${op}: ${dst} must be 1-D`);
  if (out.tensor.dtype !== 'f32' && out.tensor.dtype !== 'u32') throw new ShapeError(`${op}: ${dst} must be f32 or u32`);
  const idx = indexBindings(ctx, op, indices, indexOffset, out.rows, src.size, [src, out.tensor]);
  expectDistinct(op, src, out.tensor);
  return ctx.dispatch(VALUES, {
    label: `${op}(${src.dtype}[${src.size}] -> ${out.tensor.dtype}[${out.rows}]${out.into}${idx.label})`,
    constants: { WG: ROW_WG, SRC_KIND: { f32: 0, u32: 1, u8: 2 }[src.dtype as 'f32' | 'u32' | 'u8'], DST_F32: out.tensor.dtype === 'f32' ? 1 : 0, ...idx.constants },
    resources: [src.binding(), idx.indices.binding(), out.tensor.binding(), gatherParams(out.rows, 1, src.size, indexOffset, 1, 0, out.blocks, idx.draw), idx.clock.binding(), idx.into.binding()],
    workgroups: grid1d(ctx, out.rows, ROW_WG),
  });
}

/**
 * The strategy a row op uses. On CPU adapters one invocation per row wins: measured on
 * lavapipe for 100 x 784 bytes, 'thread' takes ~170 us (~250 us with min-max) against ~290 us
 * (~1500 us) for 'workgroup', whose barrier is costly there, and ~1200 us for 'element'.
 * On GPUs a 100-row minibatch would occupy 100 lanes, each looping over 784 columns, so the
 * wide strategies are used there (chosen by reasoning, not yet measured).
 */
export function chooseStrategy(ctx: GpuContext, minmax: boolean): RowStrategy {
  if (ctx.adapter.isCpu) return 'thread';
  return minmax ? 'workgroup' : 'element';
}

function expectIndexRange(op: string, indices: Tensor, indexOffset: number, n: number): void {
  if (!Number.isInteger(indexOffset) || indexOffset < 0 || indexOffset + n > indices.size) {
    throw new ShapeError(`${op}: indices ${indexOffset}..${indexOffset + n} run past ${indices} (${indices.size} indices)`);
  }
}

/** The permutation a drawing gather keys its indices by (gather.wgsl's Params). */
interface DrawWords {
  seed: number;
  stream: number;
  offset: number;
  domain: number;
  bits: number;
}

interface IndexBindings {
  indices: Tensor;
  clock: Tensor;
  into: Tensor;
  constants: Record<string, number>;
  label: string;
  draw?: DrawWords;
}

/** The noise a gather draws (gather.wgsl's Params, noise_*). */
interface NoiseWords {
  from: number;
  n: number;
  blocks: number;
  stride: number;
  parts: number;
  seed: number;
  offset: number;
  mean: number;
  std: number;
  streams: number[];
}

/**
 * What a gather binds for its indices (bindings 1, 4 and 5) and the override constants that say
 * where they come from: a tensor read, or a permutation drawn with the clock and written to
 * `into` (a spare output when not kept). Unused bindings take buffers already bound read-only.
 * `others` are the tensors the gather reads or writes, which `into` may not overlap.
 */
function indexBindings(
  ctx: GpuContext,
  op: string,
  indices: RowIndices,
  indexOffset: number,
  n: number,
  sourceRows: number,
  others: Tensor[],
): IndexBindings {
  if (indices instanceof Tensor) {
    expectDType(op, indices, 'u32');
    expectIndexRange(op, indices, indexOffset, n);
    for (const t of others) expectDistinct(op, indices, t);
    return { indices, clock: indices, into: spareOutput(ctx), constants: { DRAWN: 0, WRITE_DRAWN: 0 }, label: '' };
  }
  const { into, permutation } = indices;
  const { domain, bits } = permutationSlice(op, `the indices`, indexOffset, n, permutation);
  if (domain > sourceRows) throw new ShapeError(`${op}: a permutation of ${domain} rows draws rows past the source's ${sourceRows}`);
  if (into) {
    expectDType(op, into, 'u32');
    expectIndexRange(op, into, indexOffset, n);
    for (const t of others) expectDistinct(op, into, t);
  }
  const { seed, stream, offset, clock } = resolveRandomOptions(ctx, op, into ?? others[others.length - 1], permutation);
  if (into) expectDistinct(op, into, clock);
  return {
    indices: clock,
    clock,
    into: into ?? spareOutput(ctx),
    constants: { DRAWN: 1, WRITE_DRAWN: into ? 1 : 0 },
    label: `, permutation stream ${stream}`,
    draw: { seed, stream, offset, domain, bits },
  };
}

/** `blocks`: destination rows come in blocks of `rows`, `stride` elements apart (default: one block). */
function gatherParams(n: number, d: number, rows: number, indexOffset: number, scale: number, offset = 0, blocks = { rows: n, stride: n * d }, draw?: DrawWords, noise?: NoiseWords): Uint8Array {
  const seed = draw?.seed ?? noise?.seed ?? 0;
  const streams = Array.from({ length: MAX_NOISE_PARTS }, (_, p) => ['u32', noise?.streams[p] ?? 0] as ['u32', number]);
  return uniforms([
    ['u32', n],
    ['u32', d],
    ['u32', rows],
    ['u32', indexOffset],
    ['f32', scale],
    ['f32', offset],
    ['u32', blocks.rows],
    ['u32', blocks.stride],
    ['u32', seed % 2 ** 32],
    ['u32', Math.floor(seed / 2 ** 32)],
    ['u32', draw?.stream ?? 0],
    ['u32', draw?.offset ?? 0],
    ['u32', draw?.domain ?? 0],
    ['u32', draw?.bits ?? 0],
    ['u32', noise?.from ?? 0],
    ['u32', noise?.n ?? 0],
    ['u32', noise?.blocks ?? 0],
    ['u32', noise?.stride ?? 0],
    ['u32', noise?.parts ?? 0],
    ['u32', noise?.offset ?? 0],
    ['f32', noise?.mean ?? 0],
    ['f32', noise?.std ?? 0],
    // noise_streams starts on 16 bytes (WGSL's alignment of vec4u).
    ['u32', 0],
    ['u32', 0],
    ...streams,
  ]);
}

/**
 * A destination as the kernels see it: a tensor, or blocks of equal tensors filled as if they
 * were one (rows of block j follow the last row of block j - 1).
 */
function destination(dst: Tensor | TensorBlocks): { tensor: Tensor; shape: readonly number[]; rows: number; blocks: { rows: number; stride: number }; into: string } {
  if (dst instanceof Tensor) {
    const rows = dst.rank === 1 ? dst.size : dst.rows;
    return { tensor: dst, shape: dst.shape, rows, blocks: { rows, stride: dst.size }, into: '' };
  }
  const blockRows = dst.shape[0];
  const rows = dst.count * blockRows;
  return { tensor: dst.flat, shape: [rows, ...dst.shape.slice(1)], rows, blocks: { rows: blockRows, stride: dst.stride }, into: ` in ${dst.count} blocks` };
}
