// The six convolution ops against their float64 twins (src/reference/conv.ts, written from the
// definitions, not as im2col products), with every matmul kernel they run on: the register
// strategy with subgroup shuffles (where the adapter has them), the plain register kernel and
// the workgroup-tiled one. Geometries: a single pixel and channel; odd maps (5x7, 13x13) that
// are multiples of no tile; stride 1, 2 and 3 (a kernel smaller than the stride leaves pixels no
// tap reaches); padding 0-2; kernels 1-5; 1-4 and 16 channels (with and without whole vec4s);
// batches of 1-3 (a gather must not cross samples); conv-transpose output padding; and the DCGAN
// MNIST layers (D: 28x28x1 -> 14x14x64 -> 7x7x128, G: 7x7x128 -> 14x14x64 -> 28x28x1, kernel 4,
// stride 2, padding 1) at batch 1, and at batch 64 as slow cases. Each op runs with one of its
// epilogues, in turn by case: forward ops with a bias and each activation, input gradients with
// gradOf each activation (or none), weight gradients plain, with biasGrad, or accumulating both.
// The DCGAN cases also replay the dispatch and demand the same bits. Ops of one output column
// also run on the direct kernel (shaders/conv_direct.wgsl) in both register orders, held to the
// twins and to the register kernel's exact bits, which it promises.
//
// Tolerance: as matmul's (src/checks/matmul.ts). Every output is an f32 sum of the GEMM's K
// terms (K = kernel^2 channels, or the pixels for weight gradients; the zeros of padding and of
// the transposed gather add no rounding), so C0 sqrt(K) eps sum |terms| with C0 = 2, and the
// epilogue's own allowance; a wrong, missing or doubled term exceeds it by orders of magnitude.

import type { GpuContext } from '../gpu/context.ts';
import { ACTIVATIONS, type Activation } from '../kernels/common.ts';
import {
  conv2d,
  conv2dInputGrad,
  conv2dWeightGrad,
  convTranspose2d,
  convTranspose2dInputGrad,
  convTranspose2dWeightGrad,
  resolveConvGeometry,
  type Conv2dGeometry,
  type ConvOptions,
  type ResolvedConvGeometry,
} from '../kernels/conv.ts';
import { convForwardReference, convInputGradReference, convWeightGradReference, type ConvReference } from '../reference/conv.ts';
import { download, tensorFrom, upload, type Tensor } from '../tensor/tensor.ts';
import { combine, compare, EPS32, randomF32, type Check, type CheckResult, type Tolerance } from './check.ts';
import { savedOutput } from './matmul.ts';
import { sameBits } from './reduce.ts';

const C0 = 2;

type KernelOptions = Pick<ConvOptions, 'strategy' | 'subgroups' | 'narrow' | 'direct'>;

interface Kernel {
  name: string;
  options: KernelOptions;
  /** Also run these options and demand the same bits (a kernel that promises another's sums). */
  sameBitsAs?: KernelOptions;
}

// The GEMM kernels, also on the products of one column that the direct kernel takes by default.
const KERNELS: readonly Kernel[] = [
  { name: 'register', options: { strategy: 'register', subgroups: true, direct: false } },
  { name: 'register plain', options: { strategy: 'register', subgroups: false, direct: false } },
  { name: 'tiled', options: { strategy: 'tiled' } },
];

/** The register strategy's kernel for 1 or 2 output columns, on the cases that name it. */
const NARROW: Kernel = { name: 'register narrow', options: { strategy: 'register', narrow: true } };

/**
 * The direct kernel for products of one column (shaders/conv_direct.wgsl), on the cases that name
 * it, in both of the register kernels' summation orders, each demanding that kernel's bits.
 */
const DIRECT: readonly Kernel[] = [
  { name: 'direct', options: { strategy: 'register', subgroups: true, direct: true }, sameBitsAs: { strategy: 'register', subgroups: true, direct: false } },
  { name: 'direct plain', options: { strategy: 'register', subgroups: false, direct: true }, sameBitsAs: { strategy: 'register', subgroups: false, direct: false } },
];

type Op = 'forward' | 'inputGrad' | 'weightGrad';

interface Case {
  geometry: Conv2dGeometry;
  slow?: boolean;
  /** Replay the dispatch and compare bits. */
  replay?: boolean;
  /**
   * Ops of 1 or 2 output columns also run on the narrow kernel. Each (op, column count, whole-vec4
   * channels) is a pipeline, so a few cases cover every op, gather and channel layout, the
   * sub-pixel classes with no pixel or no tap, and the DCGAN layers of one channel.
   */
  narrow?: readonly Op[];
  /** Ops of one output column that also run on the direct kernel (channels in multiples of 8, or of 4 for weight gradients). */
  direct?: readonly Op[];
}

const conv = (batch: number, inH: number, inW: number, inC: number, outC: number, kernel: number, stride: number, padding: number): Conv2dGeometry =>
  ({ batch, inH, inW, inC, outC, kernel, stride, padding, transposed: false });
const convT = (batch: number, inH: number, inW: number, inC: number, outC: number, kernel: number, stride: number, padding: number, outputPadding = 0): Conv2dGeometry =>
  ({ batch, inH, inW, inC, outC, kernel, stride, padding, transposed: true, outputPadding });

// Channel counts come from few classes (1-3, 4, 16 and more) because each class of N and of the
// gathered channels is its own pipeline, about 2 CPU-seconds to compile on lavapipe; matmul's
// checks cover the kernels' other column counts.
// The transposed gather's sub-pixel classes (conv2dInputGrad, convTranspose2d and its weight
// gradient at stride > 1): grids that are and are not multiples of the stride, padding that shifts
// which class comes first, output padding, kernels smaller than the stride (classes with no tap),
// and grids smaller than the stride (classes with no pixel: 2x2 at stride 3, and 1x1 outputs
// whose classes hold taps but no pixel, so their rows of dW are zeros, or unchanged when
// accumulating). Weight gradients with the bias gradient sum dY apart from the classes.
const CONV_CASES: readonly Case[] = [
  { geometry: conv(1, 1, 1, 1, 1, 1, 1, 0) },
  { geometry: conv(1, 5, 7, 3, 2, 3, 1, 1), narrow: ['forward', 'weightGrad'] },
  { geometry: conv(2, 5, 7, 1, 3, 3, 2, 0), narrow: ['inputGrad'] },
  { geometry: conv(1, 13, 13, 3, 16, 5, 2, 2) },
  { geometry: conv(1, 13, 13, 1, 4, 4, 1, 2) },
  { geometry: conv(3, 6, 5, 4, 16, 3, 1, 2) },
  { geometry: conv(2, 10, 12, 4, 4, 4, 2, 1) },
  { geometry: conv(2, 13, 9, 3, 2, 5, 2, 1) },
  { geometry: conv(1, 8, 11, 2, 3, 2, 3, 0), narrow: ['inputGrad'] },
  { geometry: conv(1, 2, 2, 2, 4, 2, 3, 0), narrow: ['inputGrad'] },
  { geometry: conv(2, 6, 5, 8, 1, 3, 1, 1), direct: ['forward', 'weightGrad'] },
  { geometry: conv(1, 9, 7, 4, 1, 3, 2, 0), direct: ['weightGrad'] },
  { geometry: conv(1, 28, 28, 1, 64, 4, 2, 1), replay: true, narrow: ['inputGrad'], direct: ['inputGrad'] },
  { geometry: conv(1, 14, 14, 64, 128, 4, 2, 1), replay: true },
  { geometry: conv(64, 28, 28, 1, 64, 4, 2, 1), slow: true, narrow: ['inputGrad'], direct: ['inputGrad'] },
  { geometry: conv(64, 14, 14, 64, 128, 4, 2, 1), slow: true },
];

const TRANSPOSED_CASES: readonly Case[] = [
  { geometry: convT(1, 1, 1, 1, 1, 1, 1, 0) },
  { geometry: convT(1, 5, 7, 3, 2, 3, 1, 1) },
  { geometry: convT(2, 5, 7, 1, 3, 3, 2, 0, 1), narrow: ['inputGrad'] },
  { geometry: convT(1, 7, 7, 3, 16, 5, 2, 2) },
  { geometry: convT(1, 13, 13, 1, 4, 4, 1, 2) },
  { geometry: convT(3, 6, 5, 4, 16, 3, 1, 2) },
  { geometry: convT(2, 5, 6, 4, 4, 4, 2, 1) },
  { geometry: convT(2, 6, 4, 3, 2, 5, 2, 1, 1) },
  { geometry: convT(1, 4, 5, 2, 3, 2, 3, 0, 2) },
  { geometry: convT(2, 1, 1, 3, 2, 3, 3, 1), narrow: ['forward', 'weightGrad'] },
  { geometry: convT(1, 1, 1, 4, 2, 3, 3, 1), narrow: ['forward', 'weightGrad'] },
  { geometry: convT(1, 7, 7, 128, 64, 4, 2, 1), replay: true },
  { geometry: convT(2, 2, 3, 8, 1, 2, 3, 1, 2), direct: ['forward', 'weightGrad'] },
  { geometry: convT(1, 14, 14, 64, 1, 4, 2, 1), replay: true, narrow: ['forward', 'weightGrad'], direct: ['forward', 'weightGrad'] },
  { geometry: convT(64, 7, 7, 128, 64, 4, 2, 1), slow: true },
  { geometry: convT(64, 14, 14, 64, 1, 4, 2, 1), slow: true, narrow: ['forward', 'weightGrad'], direct: ['forward', 'weightGrad'] },
];

function caseName(g: ResolvedConvGeometry): string {
  const op = g.transposed && g.outputPadding ? ` op${g.outputPadding}` : '';
  return `b${g.batch} ${g.inH}x${g.inW}x${g.inC} -> ${g.outH}x${g.outW}x${g.outC} k${g.kernel} s${g.stride} p${g.padding}${op}`;
}

/** The product's tolerance (rel multiplies the per-element scale built by `scaleOf`). */
const TOLERANCE: Tolerance = {
  abs: 0,
  rel: EPS32,
  why: `${C0} sqrt(K) eps sum |terms| (+ |bias| or |C0|), + 8 ulp of an epilogue's result, + 4 ulp of the sum for act'(y)`,
};

/** Transcendental epilogues add a few ulp relative and 1e-6 absolute (as in the activation checks). */
function toleranceFor(activation: Activation | undefined): Tolerance {
  return activation === 'sigmoid' || activation === 'tanh' ? { ...TOLERANCE, abs: 1e-6, why: `${TOLERANCE.why}, + 1e-6 abs for exp/tanh` } : TOLERANCE;
}

/** C0 sqrt(K) eps (|terms| + extra) + the epilogue's own rounding, per element, in units of eps. */
function scaleOf(ref: ConvReference, k: number, extra: (i: number) => number, own: (i: number) => number): Float64Array {
  const sqrtK = Math.sqrt(k);
  return ref.scale.map((s, i) => C0 * sqrtK * (s + extra(i)) + own(i));
}

/** The forward ops' activation (after a bias) for the case at `index`. */
const forwardActivation = (index: number): Activation => ACTIVATIONS[index % ACTIVATIONS.length];
/** The input gradients' gradOf activation; identity stands for no gradOf at all. */
const gradOfActivation = (index: number): Activation => ACTIVATIONS[(index + 2) % ACTIVATIONS.length];
/** The weight gradients' epilogue: plain, with the bias gradient, or accumulating both. */
const weightGradMode = (index: number): 0 | 1 | 2 => (index % 3) as 0 | 1 | 2;

function epilogueName(op: Op, index: number): string {
  if (op === 'forward') return `bias + ${forwardActivation(index)}`;
  if (op === 'inputGrad') return gradOfActivation(index) === 'identity' ? 'plain' : `gradOf ${gradOfActivation(index)}`;
  return ['plain', 'biasGrad', 'biasGrad + accumulate'][weightGradMode(index)];
}

const OPS: Record<Op, { name: readonly [string, string] }> = {
  forward: { name: ['conv2d', 'convTranspose2d'] },
  inputGrad: { name: ['conv2dInputGrad', 'convTranspose2dInputGrad'] },
  weightGrad: { name: ['conv2dWeightGrad', 'convTranspose2dWeightGrad'] },
};

interface Run {
  ctx: GpuContext;
  g: ResolvedConvGeometry;
  kernel: Kernel;
  /** The case's position: picks its epilogue and seeds its data. */
  index: number;
  replay: boolean;
}

/**
 * Records the op with the kernel's options and runs it, downloads `outputs`; with replay, or a
 * kernel that promises another's bits, restores `resets` and runs the dispatch again, or the
 * other kernel, for bit-equality.
 */
async function execute(r: Run, record: (options: KernelOptions) => ReturnType<typeof conv2d>, outputs: Tensor[], resets: [Tensor, Float32Array][]): Promise<{ got: Float32Array[]; again: CheckResult[] }> {
  const dispatch = record(r.kernel.options);
  r.ctx.run([dispatch]);
  const got: Float32Array[] = [];
  for (const t of outputs) got.push(await download(r.ctx, t));
  const again: CheckResult[] = [];
  const rerun = async (d: ReturnType<typeof conv2d>, what: string) => {
    for (const [t, data] of resets) upload(r.ctx, t, data);
    r.ctx.run([d]);
    for (let i = 0; i < outputs.length; i++) again.push(sameBits(got[i], await download(r.ctx, outputs[i]), `${outputs[i].label} ${what}`));
  };
  if (r.replay) await rerun(dispatch, 'replayed');
  if (r.kernel.sameBitsAs) await rerun(record(r.kernel.sameBitsAs), 'on the GEMM kernel');
  return { got, again };
}

// Host inputs and float64 results per op and case, shared by every kernel (a batch-64 reference
// takes seconds).
const hostCache = new Map<string, unknown>();

function cached<T>(op: Op, g: ResolvedConvGeometry, make: () => T): T {
  // A conv and a conv-transpose can share their sizes (stride 1), not their data.
  const key = `${op} ${g.transposed ? 'transposed' : 'conv'} ${caseName(g)}`;
  if (!hostCache.has(key)) hostCache.set(key, make());
  return hostCache.get(key) as T;
}

function forwardData(g: ResolvedConvGeometry, index: number) {
  return cached('forward', g, () => {
    const seed = 1000 * index + 17;
    const x = randomF32(g.batch * g.inH * g.inW * g.inC, seed);
    const w = randomF32(g.kernel * g.kernel * g.inC * g.outC, seed + 1);
    const bias = randomF32(g.outC, seed + 2, -0.5, 0.5);
    const activation = forwardActivation(index);
    const ref = convForwardReference(x, w, g, { bias, activation });
    const scale = scaleOf(ref, g.kernel * g.kernel * g.inC, (i) => Math.abs(bias[i % g.outC]), (i) => 8 * Math.abs(ref.out[i]));
    return { x, w, bias, activation, want: ref.out, scale };
  });
}

async function forwardCheck(r: Run): Promise<CheckResult> {
  const { ctx, g } = r;
  const d = forwardData(g, r.index);
  const yInit = new Float32Array(g.batch * g.outH * g.outW * g.outC).fill(NaN);
  const x = tensorFrom(ctx, d.x, [g.batch, g.inH * g.inW * g.inC], 'x');
  const w = tensorFrom(ctx, d.w, [g.kernel, g.kernel, g.inC, g.outC], 'w');
  const bias = tensorFrom(ctx, d.bias, [g.outC], 'bias');
  const y = tensorFrom(ctx, yInit, [g.batch, g.outH * g.outW * g.outC], 'y');
  try {
    const op = g.transposed ? convTranspose2d : conv2d;
    const { got, again } = await execute(r, (o) => op(ctx, x, w, y, { geometry: g, bias, activation: d.activation, ...o }), [y], [[y, yInit]]);
    return combine([compare(got[0], d.want, toleranceFor(d.activation), d.scale), ...again]);
  } finally {
    for (const t of [x, w, bias, y]) t.buffer.destroy();
  }
}

function inputGradData(g: ResolvedConvGeometry, index: number) {
  return cached('inputGrad', g, () => {
    const seed = 1000 * index + 29;
    const dy = randomF32(g.batch * g.outH * g.outW * g.outC, seed);
    const w = randomF32(g.kernel * g.kernel * g.inC * g.outC, seed + 1);
    const activation = gradOfActivation(index);
    const saved = activation === 'identity' ? null : savedOutput(g.batch * g.inH * g.inW * g.inC, activation, seed + 2);
    const ref = convInputGradReference(dy, w, g, { gradOf: saved ? { output: saved, activation } : undefined });
    const scale = scaleOf(ref, g.kernel * g.kernel * g.outC, () => 0, (i) => (saved ? 4 * Math.abs(ref.product[i]) : 0));
    return { dy, w, saved, activation, want: ref.out, scale };
  });
}

async function inputGradCheck(r: Run): Promise<CheckResult> {
  const { ctx, g } = r;
  const d = inputGradData(g, r.index);
  const dxInit = new Float32Array(g.batch * g.inH * g.inW * g.inC).fill(NaN);
  const dy = tensorFrom(ctx, d.dy, [g.batch, g.outH * g.outW * g.outC], 'dy');
  const w = tensorFrom(ctx, d.w, [g.kernel, g.kernel, g.inC, g.outC], 'w');
  const dx = tensorFrom(ctx, dxInit, [g.batch, g.inH * g.inW * g.inC], 'dx');
  const saved = d.saved ? tensorFrom(ctx, d.saved, [g.batch, g.inH * g.inW * g.inC], 'saved') : null;
  try {
    const op = g.transposed ? convTranspose2dInputGrad : conv2dInputGrad;
    const gradOf = saved ? { output: saved, activation: d.activation } : undefined;
    const { got, again } = await execute(r, (o) => op(ctx, dy, w, dx, { geometry: g, gradOf, ...o }), [dx], [[dx, dxInit]]);
    return combine([compare(got[0], d.want, TOLERANCE, d.scale), ...again]);
  } finally {
    for (const t of [dy, w, dx, saved]) t?.buffer.destroy();
  }
}

function weightGradData(g: ResolvedConvGeometry, index: number) {
  return cached('weightGrad', g, () => {
    const seed = 1000 * index + 43;
    const x = randomF32(g.batch * g.inH * g.inW * g.inC, seed);
    const dy = randomF32(g.batch * g.outH * g.outW * g.outC, seed + 1);
    const wSize = g.kernel * g.kernel * g.inC * g.outC;
    const mode = weightGradMode(index);
    const accumulate = mode === 2;
    const dwInit = accumulate ? randomF32(wSize, seed + 2, -2, 2) : new Float32Array(wSize).fill(NaN);
    const dbInit = accumulate ? randomF32(g.outC, seed + 3, -2, 2) : new Float32Array(g.outC).fill(NaN);
    const ref = convWeightGradReference(x, dy, g, accumulate ? { accumulate: dwInit, accumulateBiasGrad: dbInit } : {});
    const pixels = g.batch * g.outH * g.outW;
    const own = (v: number) => (accumulate ? 8 * Math.abs(v) : 0);
    const scale = scaleOf(ref, pixels, (i) => (accumulate ? Math.abs(dwInit[i]) : 0), (i) => own(ref.out[i]));
    // The bias gradient: a sum of `pixels` values of dy, as matmul's column sums.
    const dbScale = ref.biasGradScale.map((s, j) => C0 * Math.sqrt(pixels) * (s + (accumulate ? Math.abs(dbInit[j]) : 0)) + own(ref.biasGrad[j]));
    return { x, dy, mode, accumulate, dwInit, dbInit, want: ref.out, scale, wantDb: ref.biasGrad, dbScale };
  });
}

async function weightGradCheck(r: Run): Promise<CheckResult> {
  const { ctx, g } = r;
  const d = weightGradData(g, r.index);
  const x = tensorFrom(ctx, d.x, [g.batch, g.inH * g.inW * g.inC], 'x');
  const dy = tensorFrom(ctx, d.dy, [g.batch, g.outH * g.outW * g.outC], 'dy');
  const dw = tensorFrom(ctx, d.dwInit, [g.kernel, g.kernel, g.inC, g.outC], 'dw');
  const db = d.mode ? tensorFrom(ctx, d.dbInit, [g.outC], 'db') : null;
  try {
    const op = g.transposed ? convTranspose2dWeightGrad : conv2dWeightGrad;
    const { got, again } = await execute(
      r,
      (o) => op(ctx, x, dy, dw, { geometry: g, biasGrad: db ?? undefined, accumulate: d.accumulate, ...o }),
      db ? [dw, db] : [dw],
      [[dw, d.dwInit], ...(db ? [[db, d.dbInit] as [Tensor, Float32Array]] : [])],
    );
    const results = [compare(got[0], d.want, TOLERANCE, d.scale)];
    if (db) results.push(compare(got[1], d.wantDb, TOLERANCE, d.dbScale));
    return combine([...results, ...again]);
  } finally {
    for (const t of [x, dy, dw, db]) t?.buffer.destroy();
  }
}

const RUNNERS: Record<Op, (r: Run) => Promise<CheckResult>> = { forward: forwardCheck, inputGrad: inputGradCheck, weightGrad: weightGradCheck };

function checksOf(cases: readonly Case[]): Check[] {
  return (['forward', 'inputGrad', 'weightGrad'] as const).flatMap((op) =>
    [...KERNELS, NARROW, ...DIRECT].flatMap((kernel) =>
      cases.flatMap((c, index) => {
        if (kernel === NARROW && !c.narrow?.includes(op)) return [];
        if (DIRECT.includes(kernel) && !c.direct?.includes(op)) return [];
        const g = resolveConvGeometry(c.geometry);
        return [{
          kernel: `${OPS[op].name[g.transposed ? 1 : 0]} ${kernel.name}`,
          case: `${caseName(g)} ${epilogueName(op, index)}`,
          slow: c.slow ?? false,
          run: (ctx: GpuContext) => RUNNERS[op]({ ctx, g, kernel, index, replay: c.replay ?? false }),
        }];
      }),
    ),
  );
}

export const convChecks: Check[] = [...checksOf(CONV_CASES), ...checksOf(TRANSPOSED_CASES)];
