// Matmul against the float64 reference: the three forms backprop uses (A·B, A·Bᵀ, Aᵀ·B) with every
// kernel on every shape, then each fused epilogue with every kernel, then the fused bias gradient
// (column sums of op(B)). Kernels: both strategies, and the register strategy's kernel without
// subgroups (what adapters without them run).
//
// Tolerance. An f32 dot product of length K carries a rounding error of at most about
// K eps |a||b| (eps = 2^-24, |a||b| = sum_k |a_ik||b_kj|, the per-element scale); rounding errors
// of different terms mostly cancel, so about sqrt(K) eps |a||b| is what one sees, and the
// strategies differ from each other only in summation order and in where the compiler contracts
// multiply-adds. The checks allow C0 sqrt(K) eps |a||b| with C0 = 2, enough for either order
// (observed errors are far below it, since the partial sums of random-signed terms are much
// smaller than |a||b|), yet a single wrong, missing or doubled term (about |a||b| / K) exceeds it
// by orders of magnitude for every K here.

import type { GpuContext } from '../gpu/context.ts';
import { ACTIVATIONS, DEFAULT_LEAK, type Activation } from '../kernels/common.ts';
import { matmul, tiledShapeName, type MatmulOptions } from '../kernels/matmul.ts';
import { activate } from '../reference/activations.ts';
import { matmulReference, type MatmulReference } from '../reference/matmul.ts';
import { halfBits, toHalf } from '../tensor/half.ts';
import { download, tensorFrom, type Tensor } from '../tensor/tensor.ts';
import { combine, compare, EPS32, randomF32, type Check, type Tolerance } from './check.ts';

const C0 = 2;

/** The kernels to check: both strategies, and the register strategy's kernel without subgroups. */
interface Kernel {
  name: string;
  options: MatmulOptions;
}

const KERNELS: readonly Kernel[] = [
  { name: 'register', options: { strategy: 'register', subgroups: true } },
  { name: 'register plain', options: { strategy: 'register', subgroups: false } },
  { name: 'tiled', options: { strategy: 'tiled' } },
];

/**
 * The tiled kernel's plain shape (gemm.ts's TiledShape; the double-buffered one is what `tiled`
 * runs where it fits), on a subset of the sizes: odd sizes, K not a whole slab, every form.
 */
const TILED_VARIANTS: readonly Kernel[] = [{ double: false }].map((tiled) => ({ name: `tiled ${tiledShapeName(tiled)}`, options: { strategy: 'tiled', tiled } }));

const TILED_VARIANT_SIZES: readonly Size[] = [[1, 1, 1], [5, 3, 7], [33, 65, 17], [127, 129, 65], [64, 100, 30], [100, 784, 100], [260, 300, 132]];

/** The register strategy's kernel for products of 1 or 2 columns, on those alone. */
const NARROW: Kernel = { name: 'register narrow', options: { strategy: 'register', narrow: true } };

interface Form {
  name: string;
  transA: boolean;
  transB: boolean;
}

const FORMS: readonly Form[] = [
  { name: 'A·B', transA: false, transB: false },
  { name: 'A·Bᵀ', transA: false, transB: true },
  { name: 'Aᵀ·B', transA: true, transB: false },
];

/** M x K x N. */
type Size = readonly [number, number, number];

const SIZES: readonly { size: Size; slow?: boolean }[] = [
  { size: [1, 1, 1] },
  { size: [1, 64, 33] }, // one row
  { size: [37, 1, 29] }, // K = 1
  { size: [5, 3, 7] },
  { size: [33, 65, 17] }, // just past tile multiples
  { size: [127, 129, 65] }, // odd everywhere
  { size: [64, 64, 64] }, // whole tiles, vec4 everywhere
  { size: [60, 66, 36] }, // M, N whole vec4s, K not
  { size: [64, 100, 30] }, // M, K whole vec4s, N not
  { size: [128, 512, 1] }, // N = 1: a 1-unit layer, its weight gradient (K = the batch)
  { size: [512, 128, 2] }, // N = 2
  { size: [2, 512, 128] }, // M = 2: the weight gradient of a layer on 2-D input
  { size: [512, 2, 128] }, // K = 2: a layer on 2-D noise (a 4-deep k block)
  { size: [32, 512, 32] }, // few outputs, long K
  { size: [100, 100, 784] }, // the GAN's shapes
  { size: [100, 784, 100] },
  { size: [1000, 784, 100] },
  { size: [128, 784, 1024] },
  { size: [1024, 1024, 1024], slow: true },
];

// The narrow kernel's shapes: N = 1 and 2 (its column count is a pipeline constant), rows that fill
// no whole workgroup of lanes (8 rows each) or a single row, K = 1 and K past a block of 4, and
// the GAN's one-unit layers (D's last layer at batch 128 on 7x7x64 features, its weight gradient).
const NARROW_SIZES: readonly Size[] = [
  [1, 1, 1],
  [37, 1, 2],
  [5, 3, 2],
  [67, 129, 1],
  [130, 66, 2],
  [512, 128, 2],
  [128, 3136, 1],
  [3136, 128, 1],
];

const PRODUCT_TOL: Tolerance = {
  abs: 0,
  rel: C0 * EPS32,
  why: `f32 dot product of length K: ${C0} sqrt(K) eps sum_k |a_ik||b_kj| (typical rounding growth, either summation order)`,
};

/** Logical op(A) [M, K] and op(B) [K, N] for a size, and their stored layouts per form. */
interface Inputs {
  a: Float32Array;
  b: Float32Array;
  ref: MatmulReference;
}

// The logical operands and the reference depend only on the size: every form and strategy
// shares them (the 1024^3 reference takes seconds; it is computed once).
const inputCache = new Map<string, Inputs>();

function inputs(m: number, k: number, n: number): Inputs {
  const key = `${m}x${k}x${n}`;
  let hit = inputCache.get(key);
  if (!hit) {
    const a = randomF32(m * k, 101 + m * 7 + k);
    const b = randomF32(k * n, 202 + k * 5 + n);
    hit = { a, b, ref: matmulReference(a, b, m, n, k) };
    inputCache.set(key, hit);
  }
  return hit;
}

/**
 * The operands of the f16-input product: op(A) and op(B) rounded to binary16, with every fifth
 * element 0 and every eleventh a subnormal half, so that many stored words pair a value with a
 * zero or a subnormal (an f32 denormal bit pattern, which a load that flushed would lose). The
 * reference multiplies those halves exactly; a product of two halves is exact in f32, so the
 * f32 accumulation is the only rounding and PRODUCT_TOL holds as for f32 operands.
 */
function halfInputs(m: number, k: number, n: number): Inputs {
  const key = `f16 ${m}x${k}x${n}`;
  let hit = inputCache.get(key);
  if (!hit) {
    const round = (x: Float32Array) => Float32Array.from(x, (v, i) => (i % 5 === 1 ? 0 : i % 11 === 3 ? Math.sign(v) * 3 * 2 ** -24 : toHalf(v)));
    const { a, b } = inputs(m, k, n);
    const [ah, bh] = [round(a), round(b)];
    hit = { a: ah, b: bh, ref: matmulReference(ah, bh, m, n, k) };
    inputCache.set(key, hit);
  }
  return hit;
}

/** `x` [rows, cols] stored as [cols, rows]. */
function transposed(x: Float32Array, rows: number, cols: number): Float32Array {
  const out = new Float32Array(x.length);
  for (let i = 0; i < rows; i++) for (let j = 0; j < cols; j++) out[j * rows + i] = x[i * cols + j];
  return out;
}

/** The operands in their stored layouts, as f32 or (values that are halves already) as f16. */
function upload(ctx: GpuContext, form: Form, m: number, k: number, n: number, a: Float32Array, b: Float32Array, operands: Operands = 'f32'): [Tensor, Tensor] {
  const store = (x: Float32Array, shape: [number, number], name: string) => tensorFrom(ctx, operands === 'f16' ? Uint16Array.from(x, halfBits) : x, shape, name);
  return [
    form.transA ? store(transposed(a, m, k), [k, m], 'a') : store(a, [m, k], 'a'),
    form.transB ? store(transposed(b, k, n), [n, k], 'b') : store(b, [k, n], 'b'),
  ];
}

type Operands = 'f32' | 'f16';

function productCheck(form: Form, size: Size, kernel: Kernel, slow: boolean, operands: Operands = 'f32'): Check {
  const [m, k, n] = size;
  return {
    kernel: `matmul ${form.name} ${kernel.name}${operands === 'f16' ? ' f16' : ''}`,
    case: `${m}x${k}x${n}`,
    slow,
    async run(ctx: GpuContext) {
      const { a, b, ref } = operands === 'f16' ? halfInputs(m, k, n) : inputs(m, k, n);
      const [ta, tb] = upload(ctx, form, m, k, n, a, b, operands);
      // C starts as NaN: an element the kernel fails to write cannot pass.
      const tc = tensorFrom(ctx, new Float32Array(m * n).fill(NaN), [m, n], 'c');
      ctx.run([matmul(ctx, ta, tb, tc, { ...kernel.options, transA: form.transA, transB: form.transB })]);
      const got = await download(ctx, tc);
      for (const t of [ta, tb, tc]) t.buffer.destroy();
      const sqrtK = Math.sqrt(k);
      return compare(got, ref.c, PRODUCT_TOL, ref.scale.map((s) => sqrtK * s));
    },
  };
}

// ---- epilogues ----

/** A plausible saved forward output y = act(x) for gradOf, rounded to f32 like the GPU's. */
export function savedOutput(count: number, act: Activation, seed: number): Float32Array {
  const x = randomF32(count, seed, -4, 4);
  // Exact zeros exercise relu's and leaky relu's branch at 0.
  for (let i = 0; i < count; i += 7) x[i] = 0;
  return Float32Array.from(x, (v) => activate(v, act, DEFAULT_LEAK));
}

type Epilogue =
  | { kind: 'bias'; activation: Activation }
  | { kind: 'grad'; activation: Activation }
  | { kind: 'accumulate'; bias: boolean; activation: Activation };

function epilogueName(e: Epilogue): string {
  if (e.kind === 'bias') return `bias + ${e.activation}`;
  if (e.kind === 'grad') return `gradOf ${e.activation}`;
  return `accumulate${e.bias ? ' + bias' : ''} + ${e.activation}`;
}

/**
 * The epilogue's tolerance: the product's allowance carried through the epilogue plus its own
 * rounding. Bias and C add their magnitudes to the scale; the activations (and the gradient
 * factors act'(y), from the f32 y the GPU also sees) have slopes of at most 1, so the input's
 * error passes through unamplified; transcendental activations add a few ulp relative and 1e-6
 * absolute (as in the activation checks); act'(y) is computed in f32 with at most 2 roundings.
 */
function epilogueTolerance(e: Epilogue): Tolerance {
  const transcendental = e.activation === 'sigmoid' || e.activation === 'tanh';
  return {
    abs: transcendental ? 1e-6 : 0,
    rel: EPS32,
    why: `${C0} sqrt(K) eps (|a||b| + |bias| + |C0|) through a slope <= 1, + 8 ulp of the result` +
      (e.kind === 'grad' ? ' + 4 ulp of the product for act\'(y)' : '') + (transcendental ? ' + 1e-6 abs for exp/tanh' : ''),
  };
}

function epilogueCheck(form: Form, size: Size, kernel: Kernel, e: Epilogue): Check {
  const [m, k, n] = size;
  return {
    kernel: `matmul epilogue ${kernel.name}`,
    case: `${form.name} ${m}x${k}x${n} ${epilogueName(e)}`,
    async run(ctx: GpuContext) {
      const { a, b } = inputs(m, k, n);
      const [ta, tb] = upload(ctx, form, m, k, n, a, b);
      const seed = 31 + m + n;
      const biasData = randomF32(n, seed, -0.5, 0.5);
      const c0 = e.kind === 'accumulate' ? randomF32(m * n, seed + 1, -2, 2) : new Float32Array(m * n).fill(NaN);
      const y = e.kind === 'grad' ? savedOutput(m * n, e.activation, seed + 2) : null;
      const tc = tensorFrom(ctx, c0, [m, n], 'c');
      const created = [ta, tb, tc];
      const opts: MatmulOptions = { ...kernel.options, transA: form.transA, transB: form.transB };
      const useBias = e.kind === 'bias' || (e.kind === 'accumulate' && e.bias);
      if (useBias) created.push((opts.bias = tensorFrom(ctx, biasData, [n], 'bias')));
      if (e.kind === 'grad') {
        const ty = tensorFrom(ctx, y!, [m, n], 'y');
        created.push(ty);
        opts.gradOf = { output: ty, activation: e.activation };
      } else {
        opts.activation = e.activation;
      }
      if (e.kind === 'accumulate') opts.accumulate = true;
      ctx.run([matmul(ctx, ta, tb, tc, opts)]);
      const got = await download(ctx, tc);
      for (const t of created) t.buffer.destroy();

      const ref = matmulReference(a, b, m, n, k, {
        bias: useBias ? biasData : undefined,
        accumulate: e.kind === 'accumulate' ? c0 : undefined,
        ...(e.kind === 'grad' ? { gradOf: { output: y!, activation: e.activation } } : { activation: e.activation }),
      });
      const sqrtK = Math.sqrt(k);
      const scale = ref.scale.map((s, i) => {
        const extra = (useBias ? Math.abs(biasData[i % n]) : 0) + (e.kind === 'accumulate' ? Math.abs(c0[i]) : 0);
        const own = 8 * Math.abs(ref.c[i]) + (e.kind === 'grad' ? 4 * Math.abs(ref.product[i]) : 0);
        return C0 * sqrtK * (s + extra) + own;
      });
      return compare(got, ref.c, epilogueTolerance(e), scale);
    },
  };
}

const EPILOGUE_SIZES: readonly Size[] = [
  [33, 65, 17], // no whole vec4s: the scalar epilogue
  [20, 36, 44], // whole vec4s: the vec4 epilogue
];

const NARROW_EPILOGUE_SIZES: readonly Size[] = [
  [67, 129, 1],
  [130, 66, 2],
];

const EPILOGUES: readonly { form: Form; e: Epilogue }[] = [
  // Forward layers: x W + b, then the activation.
  ...ACTIVATIONS.map((activation) => ({ form: FORMS[0], e: { kind: 'bias', activation } as Epilogue })),
  // Input gradients dY Wᵀ times the previous layer's act'(y).
  ...ACTIVATIONS.map((activation) => ({ form: FORMS[1], e: { kind: 'grad', activation } as Epilogue })),
  // Weight gradients Xᵀ dY summed into C, and an accumulated forward layer.
  { form: FORMS[2], e: { kind: 'accumulate', bias: false, activation: 'identity' } },
  { form: FORMS[0], e: { kind: 'accumulate', bias: true, activation: 'tanh' } },
];

// ---- the fused bias gradient ----

/**
 * C = op(A) op(B) and db = column sums of op(B) in one dispatch (+ db's previous contents with
 * accumulate). db is a sum of K f32 values: the product's reasoning with |a| = 1 gives
 * C0 sqrt(K) eps sum_k |b_kj| (plus |db0| with accumulate); C keeps the product's tolerance.
 */
function biasGradCheck(form: Form, size: Size, kernel: Kernel, accumulate: boolean): Check {
  const [m, k, n] = size;
  return {
    kernel: `matmul biasGrad ${kernel.name}`,
    case: `${form.name} ${m}x${k}x${n}${accumulate ? ' accumulate' : ''}`,
    async run(ctx: GpuContext) {
      const { a, b } = inputs(m, k, n);
      const [ta, tb] = upload(ctx, form, m, k, n, a, b);
      const c0 = accumulate ? randomF32(m * n, 7 + n, -2, 2) : new Float32Array(m * n).fill(NaN);
      const db0 = accumulate ? randomF32(n, 11 + n, -2, 2) : new Float32Array(n).fill(NaN);
      const tc = tensorFrom(ctx, c0, [m, n], 'c');
      const tdb = tensorFrom(ctx, db0, [n], 'db');
      ctx.run([matmul(ctx, ta, tb, tc, { ...kernel.options, transA: form.transA, transB: form.transB, biasGrad: tdb, accumulate })]);
      const [got, gotDb] = [await download(ctx, tc), await download(ctx, tdb)];
      for (const t of [ta, tb, tc, tdb]) t.buffer.destroy();
      const ref = matmulReference(a, b, m, n, k, accumulate ? { accumulate: c0, accumulateBiasGrad: db0 } : {});
      const sqrtK = Math.sqrt(k);
      const tolerance: Tolerance = {
        abs: 0,
        rel: C0 * EPS32,
        why: `C: ${C0} sqrt(K) eps sum_k |a_ik||b_kj|; db: ${C0} sqrt(K) eps sum_k |b_kj|` + (accumulate ? ' (+ |C0|, |db0|, 8 ulp of the result)' : ''),
      };
      const own = (x: number) => (accumulate ? 8 * Math.abs(x) : 0);
      return combine([
        compare(got, ref.c, tolerance, ref.scale.map((sc, i) => sqrtK * (sc + (accumulate ? Math.abs(c0[i]) : 0)) + own(ref.c[i]) / C0)),
        compare(gotDb, ref.biasGrad, tolerance, ref.biasGradScale.map((sc, j) => sqrtK * (sc + (accumulate ? Math.abs(db0[j]) : 0)) + own(ref.biasGrad[j]) / C0)),
      ]);
    },
  };
}

const BIAS_GRAD_CASES: readonly { form: Form; size: Size; accumulate?: boolean }[] = [
  // Weight gradients Xᵀ delta: awkward sizes, the seed experiment's, 1- and 2-unit sides.
  ...([[1, 1, 1], [33, 65, 17], [20, 36, 44], [784, 100, 100], [100, 100, 784], [128, 512, 1], [2, 512, 128]] as Size[]).map((size) => ({ form: FORMS[2], size })),
  { form: FORMS[2], size: [33, 65, 17], accumulate: true },
  { form: FORMS[2], size: [128, 512, 1], accumulate: true },
  // The column sums are of op(B) in every form.
  { form: FORMS[0], size: [33, 65, 17] },
  { form: FORMS[1], size: [33, 65, 17] },
];

const NARROW_BIAS_GRAD_CASES: readonly { form: Form; size: Size; accumulate?: boolean }[] = [
  { form: FORMS[2], size: [3136, 128, 1] },
  { form: FORMS[2], size: [67, 129, 1], accumulate: true },
  { form: FORMS[2], size: [130, 66, 2] },
  { form: FORMS[0], size: [37, 1, 2] },
];

// f16 operands: the element library is the only difference from f32 ones, and each pipeline
// costs CPU-seconds to compile on lavapipe, so few cases: per form (each reads along another
// axis) the register kernel (the engine's on CPU adapters) and the tiled one on odd sizes
// (element reads) and whole vec4 rows (paired-word reads), the narrow kernel at N = 1, and the
// GAN's 100x784x100.
const F16_CASES: readonly { size: Size; kernels: readonly Kernel[]; forms: readonly Form[] }[] = [
  { size: [5, 3, 7], kernels: [KERNELS[0], KERNELS[2]], forms: FORMS },
  { size: [64, 64, 64], kernels: [KERNELS[0], KERNELS[2]], forms: FORMS },
  { size: [67, 129, 1], kernels: [NARROW], forms: FORMS },
  { size: [100, 784, 100], kernels: [KERNELS[0]], forms: [FORMS[0]] },
];

export const matmulChecks: Check[] = [
  ...FORMS.flatMap((form) =>
    KERNELS.flatMap((kernel) => SIZES.map(({ size, slow }) => productCheck(form, size, kernel, slow ?? false))),
  ),
  ...KERNELS.flatMap((kernel) => EPILOGUE_SIZES.flatMap((size) => EPILOGUES.map(({ form, e }) => epilogueCheck(form, size, kernel, e)))),
  ...KERNELS.flatMap((kernel) => BIAS_GRAD_CASES.map(({ form, size, accumulate }) => biasGradCheck(form, size, kernel, accumulate ?? false))),
  ...FORMS.flatMap((form) => NARROW_SIZES.map((size) => productCheck(form, size, NARROW, false))),
  ...NARROW_EPILOGUE_SIZES.flatMap((size) => EPILOGUES.map(({ form, e }) => epilogueCheck(form, size, NARROW, e))),
  ...NARROW_BIAS_GRAD_CASES.map(({ form, size, accumulate }) => biasGradCheck(form, size, NARROW, accumulate ?? false)),
  ...FORMS.flatMap((form) => TILED_VARIANTS.flatMap((kernel) => TILED_VARIANT_SIZES.map((size) => productCheck(form, size, kernel, false)))),
  ...TILED_VARIANTS.flatMap((kernel) => EPILOGUE_SIZES.map((size) => epilogueCheck(FORMS[1], size, kernel, { kind: 'grad', activation: 'leaky_relu' }))),
  ...TILED_VARIANTS.flatMap((kernel) => BIAS_GRAD_CASES.map(({ form, size, accumulate }) => biasGradCheck(form, size, kernel, accumulate ?? false))),
  ...F16_CASES.flatMap(({ size, kernels, forms }) => forms.flatMap((form) => kernels.map((kernel) => productCheck(form, size, kernel, false, 'f16')))),
];
