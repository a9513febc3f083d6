// Convolution throughput: GFLOP/s of the engine's conv ops (src/kernels/conv.ts) on every
// convolution layer of the dcgan preset at its batch size (D1, D2: strided convs; G1, G3:
// transposed convs; G2: a 3x3 stride-1 conv), each in its three passes (forward, input
// gradient, weight gradient), beside the tfjs op doing the same work on the same adapter:
//
//   layer            forward               input gradient        weight gradient
//   conv2d           tf.conv2d             tf.conv2dTranspose    Conv2DBackpropFilter
//   conv-transpose   tf.conv2dTranspose    tf.conv2d             Conv2DBackpropFilter
//
// which are the kernels tf.grad runs for conv2d's and conv2dTranspose's gradients (tfjs-core's
// Conv2D and Conv2DBackpropInput gradients); the filter gradient kernel has no public op, so
// it is run by name. Both sides get the same operand values (tfjs's conv-transpose filter is
// ours with its last two axes swapped), and each row checks that they give the same result.
//
// GFLOP/s count useful multiply-adds only (the float64 twin's convMacs): pairs of an input and
// an output pixel that a kernel tap joins, times the channels in and out, 2 FLOP each. The
// implicit GEMM also multiplies by the zeros of the padding and, where it gathers through the
// transposed direction (a conv-transpose's forward and weight gradient, a conv's input
// gradient), by those of the taps that land between pixels (3/4 of them at stride 2); the table
// shows the useful share.
//
// Timing as the matmul rows: our kernels on the device (timestamp queries where the adapter has
// them), then ours and tfjs's side by side, wall clock in alternating rounds (side-by-side.ts).

import * as tf from '@tensorflow/tfjs';
import type { Dispatch, GpuContext } from '../src/gpu/context.ts';
import {
  conv2d,
  conv2dInputGrad,
  conv2dWeightGrad,
  convGemmShape,
  convRunsDirect,
  convStrategyFor,
  convTranspose2d,
  convTranspose2dInputGrad,
  convTranspose2dWeightGrad,
  resolveConvGeometry,
  type Conv2dGeometry,
  type ConvGemmShape,
  type ConvRole,
  type ResolvedConvGeometry,
} from '../src/kernels/conv.ts';
import { MATMUL_STRATEGIES, type MatmulStrategy } from '../src/kernels/matmul.ts';
import { convMacs } from '../src/reference/conv.ts';
import { createTensor, download, upload, type Tensor } from '../src/tensor/tensor.ts';
import { fmt, loadAverage, matchesFilter, progress, ratio, say, Table } from './common.ts';
import { convLayersOf, type BenchSubset, type ConvLayer } from './configs.ts';
import { hasCpuClock } from './platform.ts';
import { hostData, timeDispatch, versusTfjs, type WallComparison } from './side-by-side.ts';
import { GpuTimer, gflops } from './timing.ts';

export const CONV_ROLES: readonly ConvRole[] = ['forward', 'inputGrad', 'weightGrad'];

const ROLE_NAMES: Record<ConvRole, string> = { forward: 'forward', inputGrad: 'input grad', weightGrad: 'weight grad' };

/** tfjs's op for each pass of each kind of layer (the kernels its gradients run). */
const TFJS_OPS: Record<'conv' | 'transposed', Record<ConvRole, string>> = {
  conv: { forward: 'tf.conv2d', inputGrad: 'tf.conv2dTranspose', weightGrad: 'Conv2DBackpropFilter' },
  transposed: { forward: 'tf.conv2dTranspose', inputGrad: 'tf.conv2d', weightGrad: 'Conv2DBackpropFilter' },
};

export interface ConvRow {
  /** `D1 forward`, `G2 weight grad`. */
  label: string;
  layer: ConvLayer;
  role: ConvRole;
}

/** The rows: each distinct convolution layer of the subset's configs, D's first, in its three passes. */
export function convRows(subset: BenchSubset): ConvRow[] {
  const seen = new Set<string>();
  const rows: ConvRow[] = [];
  for (const config of subset.convLayersOf) {
    for (const layer of convLayersOf(config)) {
      const key = JSON.stringify(layer.geometry);
      if (seen.has(key)) continue;
      seen.add(key);
      for (const role of CONV_ROLES) rows.push({ label: `${layer.name} ${ROLE_NAMES[role]}`, layer, role });
    }
  }
  return rows;
}

/** Whether `row` passes the row filter: its label, `conv`, its config's name, or its tfjs op. */
export function convRowMatches(row: ConvRow, filter: string | undefined): boolean {
  return matchesFilter(`conv ${row.label} ${row.layer.config} ${tfjsOpOf(row)}`, filter);
}

function tfjsOpOf(row: ConvRow): string {
  return TFJS_OPS[row.layer.geometry.transposed ? 'transposed' : 'conv'][row.role];
}

/** `conv 28x28x1 -> 14x14x32 k4 s2 p1`. */
export function describeLayer(g: ResolvedConvGeometry): string {
  return `${g.transposed ? 'conv-transpose' : 'conv'} ${g.inH}x${g.inW}x${g.inC} -> ${g.outH}x${g.outW}x${g.outC} k${g.kernel} s${g.stride} p${g.padding}${g.outputPadding ? ` op${g.outputPadding}` : ''}`;
}

/**
 * Useful floating-point operations of any pass of a layer: 2 per multiply-add of the float64
 * twin's links (an input pixel and an output pixel that a tap joins, both inside their maps)
 * and channel pairs. All three passes of a layer do the same ones.
 */
export function usefulConvFlops(geometry: Conv2dGeometry): number {
  return 2 * convMacs(resolveConvGeometry(geometry));
}

export interface ConvResult {
  label: string;
  layer: string;
  config: string;
  role: ConvRole;
  geometry: ResolvedConvGeometry;
  /** The implicit GEMM the engine runs (M x K x N, operand forms). */
  gemm: ConvGemmShape;
  /** Useful floating-point operations (what GFLOP/s count), and the GEMM's 2 M N K. */
  flops: number;
  gemmFlops: number;
  /** Device-time GFLOP/s per strategy timed (all in full runs, the engine's choice in quick ones): median and fastest batch. */
  gflops: Record<string, number>;
  bestGflops: Record<string, number>;
  engineUses: MatmulStrategy;
  /** The engine's strategy runs this pass on the direct kernel for one output column (shaders/conv_direct.wgsl). */
  direct: boolean;
  tfjsOp: string;
  /** The engine's choice against tfjs's op, wall clock (side-by-side.ts). */
  wall?: WallComparison;
  /** Largest |ours - tfjs| over the largest |tfjs| of the result: both sides did the same work. */
  relativeDifference?: number;
}

export interface ConvBenchOptions {
  subset: BenchSubset;
  filter?: string;
  /** Compare with tfjs (its WebGPU backend must be active). */
  tfjs: boolean;
}

/** Above this, the two sides did not compute the same thing: the row says so. */
const AGREEMENT = 1e-4;

/** A GFLOP/s cell: two decimals, or two significant digits below 1 (the N = 1 products run at hundredths). */
function rate(value: number | undefined): string {
  return value !== undefined && Number.isFinite(value) && value > 0 && value < 1 ? value.toPrecision(2) : fmt(value);
}

/** Runs the conv rows, printing a table row as each finishes. */
export async function benchConv(ctx: GpuContext, options: ConvBenchOptions): Promise<ConvResult[]> {
  const rows = convRows(options.subset).filter((r) => convRowMatches(r, options.filter));
  if (!rows.length) return [];
  const quick = options.subset.quick;
  const cpu = hasCpuClock();
  const timer = new GpuTimer(ctx);
  const strategies: readonly MatmulStrategy[] = quick ? [] : MATMUL_STRATEGIES;
  say(
    `\nConvolutions: the dcgan preset's layers at batch ${rows[0].layer.geometry.batch}, GFLOP/s of useful multiply-adds (not the padding, nor the taps ` +
      `between pixels that a strided transposed gather meets: conv-transpose forward and weight grad, conv input grad; 'useful' is their share of the implicit GEMM); ours on the device ` +
      `(${timer.method === 'timestamp' ? 'GPU timestamps' : 'wall clock over one submit'}, median batch${quick ? ', the engine\'s strategy only' : ', per strategy'})` +
      (options.tfjs ? `; ours vs tfjs's op: wall clock, median of alternating rounds; diff: largest |ours - tfjs| / largest |tfjs|` : '') +
      (options.tfjs && cpu ? '; per CPU-s: GFLOP per CPU-second of the whole process (adapter threads included)' : '') +
      `; load average ${loadAverage()}\n`,
  );
  const header = ['layer pass', 'shape', 'GEMM (MxKxN)', 'useful', 'useful GFLOP', ...strategies, 'engine uses', 'ours (device)'];
  if (options.tfjs) header.push('ours (wall)', 'tfjs op', 'tfjs (wall)', 'ours / tfjs', 'diff');
  if (options.tfjs && cpu) header.push('per CPU-s: ours', 'tfjs', 'ours / tfjs');
  const table = new Table('conv', header);
  const results: ConvResult[] = [];
  try {
    for (const row of rows) {
      progress(`conv ${row.label}`);
      const result = await benchRow(ctx, timer, row, strategies, options);
      const { gemm, wall } = result;
      const cells = [
        row.label,
        describeLayer(result.geometry),
        `${gemm.parts > 1 ? `${gemm.parts} classes of ` : ''}${gemm.transA ? 'Aᵀ' : 'A'}·${gemm.transB ? 'Bᵀ' : 'B'} ${gemm.m}x${gemm.k}x${gemm.n}`,
        `${Math.round((100 * result.flops) / result.gemmFlops)}%`,
        fmt(result.flops / 1e9, 3),
        ...strategies.map((s) => rate(result.gflops[s])),
        `${result.engineUses}${result.direct ? ' (direct)' : ''}`,
        rate(result.gflops[result.engineUses]),
      ];
      if (options.tfjs) {
        const diff = result.relativeDifference;
        cells.push(rate(wall?.ours), result.tfjsOp, rate(wall?.tfjs), ratio(wall?.ours, wall?.tfjs), diff === undefined ? '-' : `${diff.toExponential(1)}${diff > AGREEMENT ? ' DIFFERENT' : ''}`);
      }
      if (options.tfjs && cpu) cells.push(rate(wall?.oursPerCpuSecond), rate(wall?.tfjsPerCpuSecond), ratio(wall?.oursPerCpuSecond, wall?.tfjsPerCpuSecond));
      table.row(cells);
      results.push(result);
    }
  } finally {
    timer.destroy();
  }
  return results;
}

/** The tensors of one pass: op(a, b) -> c, in the engine's shapes. */
interface Operands {
  a: Tensor;
  b: Tensor;
  c: Tensor;
}

function operands(ctx: GpuContext, g: ResolvedConvGeometry, role: ConvRole): Operands {
  const input = [g.batch, g.inH * g.inW * g.inC];
  const output = [g.batch, g.outH * g.outW * g.outC];
  const weight = [g.kernel, g.kernel, g.inC, g.outC];
  const [a, b, c] = role === 'forward' ? [input, weight, output] : role === 'inputGrad' ? [output, weight, input] : [input, output, weight];
  const t = { a: createTensor(ctx, a, 'f32', 'a'), b: createTensor(ctx, b, 'f32', 'b'), c: createTensor(ctx, c, 'f32', 'c') };
  upload(ctx, t.a, hostData(t.a.size));
  upload(ctx, t.b, hostData(t.b.size));
  return t;
}

function ourPass(ctx: GpuContext, g: ResolvedConvGeometry, role: ConvRole, t: Operands, strategy: MatmulStrategy): Dispatch {
  const opts = { geometry: g, strategy };
  if (g.transposed) {
    if (role === 'forward') return convTranspose2d(ctx, t.a, t.b, t.c, opts);
    if (role === 'inputGrad') return convTranspose2dInputGrad(ctx, t.a, t.b, t.c, opts);
    return convTranspose2dWeightGrad(ctx, t.a, t.b, t.c, opts);
  }
  if (role === 'forward') return conv2d(ctx, t.a, t.b, t.c, opts);
  if (role === 'inputGrad') return conv2dInputGrad(ctx, t.a, t.b, t.c, opts);
  return conv2dWeightGrad(ctx, t.a, t.b, t.c, opts);
}

/**
 * tfjs's op for the pass on the same values as ours (`a`, `b` as our operands hold them), and
 * how to read its result in our layout.
 */
function tfjsPass(g: ResolvedConvGeometry, role: ConvRole, a: tf.Tensor, b: tf.Tensor): { op: () => tf.Tensor; inOurLayout: (t: tf.Tensor) => tf.Tensor } {
  const input: [number, number, number, number] = [g.batch, g.inH, g.inW, g.inC];
  const output: [number, number, number, number] = [g.batch, g.outH, g.outW, g.outC];
  const { stride, padding: pad, kernel: k } = g;
  const same = (t: tf.Tensor) => t;
  // tfjs's conv-transpose filter is [k, k, out, in]: ours [k, k, in, out] with the last axes swapped.
  const swapLast = (t: tf.Tensor) => tf.transpose(t, [0, 1, 3, 2]);
  const filterGrad = (x: tf.Tensor, dy: tf.Tensor, filterShape: [number, number, number, number]) =>
    tf.engine().runKernel('Conv2DBackpropFilter', { x, dy }, { strides: stride, pad, dataFormat: 'NHWC', filterShape }) as tf.Tensor;
  if (!g.transposed) {
    if (role === 'forward') {
      const [x, w] = [a.reshape(input) as tf.Tensor4D, b as tf.Tensor4D];
      return { op: () => tf.conv2d(x, w, stride, pad), inOurLayout: same };
    }
    if (role === 'inputGrad') {
      const [dy, w] = [a.reshape(output) as tf.Tensor4D, b as tf.Tensor4D];
      return { op: () => tf.conv2dTranspose(dy, w, input, stride, pad), inOurLayout: same };
    }
    const [x, dy] = [a.reshape(input), b.reshape(output)];
    return { op: () => filterGrad(x, dy, [k, k, g.inC, g.outC]), inOurLayout: same };
  }
  if (role === 'forward') {
    const [x, w] = [a.reshape(input) as tf.Tensor4D, swapLast(b) as tf.Tensor4D];
    return { op: () => tf.conv2dTranspose(x, w, output, stride, pad), inOurLayout: same };
  }
  if (role === 'inputGrad') {
    const [dy, w] = [a.reshape(output) as tf.Tensor4D, swapLast(b) as tf.Tensor4D];
    return { op: () => tf.conv2d(dy, w, stride, pad), inOurLayout: same };
  }
  // The filter gradient of tfjs's conv-transpose is that of a conv from its output to its input.
  const [x, dy] = [a.reshape(input), b.reshape(output)];
  return { op: () => filterGrad(dy, x, [k, k, g.outC, g.inC]), inOurLayout: swapLast };
}

async function benchRow(ctx: GpuContext, timer: GpuTimer, row: ConvRow, strategies: readonly MatmulStrategy[], options: ConvBenchOptions): Promise<ConvResult> {
  const quick = options.subset.quick;
  const g = resolveConvGeometry(row.layer.geometry);
  const gemm = convGemmShape(g, row.role);
  const flops = usefulConvFlops(g);
  const engineUses = convStrategyFor(ctx, gemm);
  const t = operands(ctx, g, row.role);
  const gf: Record<string, number> = {};
  const best: Record<string, number> = {};
  const msPer: Record<string, number> = {};
  try {
    for (const strategy of strategies.length ? strategies : [engineUses]) {
      const timing = await timeDispatch(timer, ourPass(ctx, g, row.role, t, strategy), quick);
      gf[strategy] = gflops(flops, timing.medianMs);
      best[strategy] = gflops(flops, timing.minMs);
      msPer[strategy] = timing.medianMs;
    }
    const result: ConvResult = {
      label: row.label,
      layer: row.layer.name,
      config: row.layer.config,
      role: row.role,
      geometry: g,
      gemm,
      flops,
      // A transposed gather runs one product per sub-pixel class (m and k are the largest one's).
      gemmFlops: 2 * gemm.m * gemm.n * gemm.k * gemm.parts,
      gflops: gf,
      bestGflops: best,
      engineUses,
      direct: convRunsDirect(ctx, g, row.role, { strategy: engineUses }),
      tfjsOp: tfjsOpOf(row),
    };
    if (options.tfjs) {
      const ours = ourPass(ctx, g, row.role, t, engineUses);
      const a = tf.tensor(hostData(t.a.size), [...t.a.shape]);
      const b = tf.tensor(hostData(t.b.size), [...t.b.shape]);
      const theirs = tfjsPass(g, row.role, a, b);
      try {
        result.wall = await versusTfjs(ctx, ours, theirs.op, flops, msPer[engineUses], quick);
        result.relativeDifference = await difference(ctx, ours, t.c, theirs);
      } finally {
        a.dispose();
        b.dispose();
      }
    }
    return result;
  } finally {
    await ctx.flush();
    for (const x of [t.a, t.b, t.c]) x.buffer.destroy();
  }
}

/** Largest |ours - tfjs| over the largest |tfjs|, from one more call of each. */
async function difference(ctx: GpuContext, ours: Dispatch, c: Tensor, theirs: ReturnType<typeof tfjsPass>): Promise<number> {
  ctx.run([ours]);
  const mine = await download(ctx, c);
  const reference = tf.tidy(() => theirs.inOurLayout(theirs.op()).reshape([-1]));
  const values = (await reference.data()) as Float32Array;
  reference.dispose();
  let diff = 0;
  let scale = 0;
  for (let i = 0; i < values.length; i++) {
    diff = Math.max(diff, Math.abs(mine[i] - values[i]));
    scale = Math.max(scale, Math.abs(values[i]));
  }
  return mine.length === values.length ? diff / (scale || 1) : Infinity;
}
