// Checks of the loss gradients and loss sums against float64, on batch-sized vectors and on
// extreme logits (0, +-88 and +-89 around f32's exp overflow, +-1e4) with hard and soft labels.

import type { GpuContext } from '../gpu/context.ts';
import { bceWithLogitsGrad, bceWithLogitsLoss, lossGradient, lossValueSum, mseLoss, mseSigmoidGrad, type LossKernel } from '../kernels/losses.ts';
import * as ref from '../reference/losses.ts';
import { createTensor, download, tensorFrom, upload } from '../tensor/tensor.ts';
import { combine, compare, EPS32, hostRandom, randomF32, type Check, type CheckResult, type Tolerance } from './check.ts';
import { sameBits } from './reduce.ts';

const SIZES = [1, 3, 100, 257, 1000, 78_400];
const SLOTS = 8;
const SLOT = 2;

/** Labels: hard 0/1, with every fifth a soft target, as f32. */
function labelsFor(n: number, seed: number): Float32Array {
  const next = hostRandom(seed);
  return Float32Array.from({ length: n }, (_, i) => (i % 5 === 4 ? next() : next() < 0.5 ? 0 : 1));
}

// sigmoid(x) = e/(1+e) or 1/(1+e), e = exp(-|x|): WGSL allows exp 3 + 2|x| ulp and division
// 2.5 ulp, so for |x| <= 20 sigmoid is within ~48 ulp of its smaller tail min(s, 1-s) <= 1/2,
// i.e. 2^-19 absolute; then s - y and the scale round once each.
const BCE_GRAD_TOL: Tolerance = { abs: 2 ** -19, rel: 3 * EPS32, why: 'sigmoid to 2^-19 abs (exp 3+2|x| ulp, |x| <= 20), then 2 roundings; abs scales with |scale|' };

/**
 * Rounding bound of a loss sum: each lane adds ceil(n/256) terms, 8 lane levels follow, then the
 * scale and the accumulate; each BCE term is (max(x,0) - x y) + log1p(e^-|x|) with 3 roundings
 * of its parts, and log (used where e^-|x| >= 1/16) is only promised to 2^-21 absolute on [0.5, 2].
 */
function lossSumTolerance(n: number, logAbs: boolean): Tolerance {
  const depth = Math.ceil(n / 256) + 8 + 2 + 3;
  return {
    abs: logAbs ? n * 2 ** -20 : 0,
    rel: depth * EPS32,
    why: `summation depth ${depth} (ceil(n/256) lane terms, 8 levels, scale, accumulate, 3 per term) times u, of sum |parts|${logAbs ? '; plus n * 2^-20 for log\'s absolute error and exp\'s' : ''}`,
  };
}

async function runBce(ctx: GpuContext, xs: Float32Array, ys: Float32Array, scale: number, accumulate: boolean): Promise<CheckResult> {
  const n = xs.length;
  const initial = randomF32(SLOTS, 31 + n);
  const x = tensorFrom(ctx, xs, [n, 1], 'logits');
  const y = tensorFrom(ctx, ys, [n], 'labels');
  const grad = createTensor(ctx, [n, 1], 'f32', 'grad');
  const out = createTensor(ctx, [SLOTS], 'f32', 'metrics');
  const steps = [bceWithLogitsGrad(ctx, x, y, grad, { scale }), bceWithLogitsLoss(ctx, x, y, out, { slot: SLOT, scale, accumulate })];
  upload(ctx, out, initial);
  ctx.run(steps);
  const [gradGot, lossGot] = [await download(ctx, grad), await download(ctx, out)];
  upload(ctx, out, initial);
  ctx.run(steps);
  const lossAgain = await download(ctx, out);

  const lossWant = Float64Array.from(initial);
  lossWant[SLOT] = (accumulate ? initial[SLOT] : 0) + ref.bceWithLogitsLoss(xs, ys, scale);
  let parts = 0;
  for (let i = 0; i < n; i++) parts += Math.max(xs[i], 0) + Math.abs(xs[i] * ys[i]) + Math.log1p(Math.exp(-Math.abs(xs[i])));
  const lossScale = new Float64Array(SLOTS);
  lossScale[SLOT] = Math.abs(scale) * parts + (accumulate ? Math.abs(initial[SLOT]) : 0);
  const sumTol = lossSumTolerance(n, true);
  const result = combine([
    compare(gradGot, ref.bceWithLogitsGrad(xs, ys, scale), { ...BCE_GRAD_TOL, abs: BCE_GRAD_TOL.abs * Math.abs(scale) }),
    compare(lossGot, lossWant, { ...sumTol, abs: sumTol.abs * Math.abs(scale) }, lossScale),
    sameBits(lossGot, lossAgain, 'bceWithLogitsLoss'),
  ]);
  for (const t of [x, y, grad, out]) t.buffer.destroy();
  return result;
}

const bceChecks: Check[] = SIZES.flatMap((n) => [
  {
    kernel: 'bceWithLogits',
    case: `n=${n} scale=1/n`,
    run: (ctx: GpuContext) => runBce(ctx, randomF32(n, 37 + n, -20, 20), labelsFor(n, 41 + n), 1 / n, false),
  },
  {
    kernel: 'bceWithLogits',
    case: `n=${n} scale=-1/n accumulate`,
    run: (ctx: GpuContext) => runBce(ctx, randomF32(n, 43 + n, -20, 20), labelsFor(n, 47 + n), -1 / n, true),
  },
]);

const EXTREME_LOGITS = [1e4, -1e4, 0, 88, -88, 89, -89, 1, -1, 20, -20, 1e-3, -1e-3, 3, -3];
const EXTREME_LABELS = [0, 1, 0.25];

/** Every extreme logit with every label, one loss slot each, so each term is checked alone. */
const bceExtremeCheck: Check = {
  kernel: 'bceWithLogits',
  case: 'extreme logits, one slot per (x, y)',
  async run(ctx) {
    const pairs = EXTREME_LOGITS.flatMap((x) => EXTREME_LABELS.map((y) => [x, y] as const));
    const xs = Float32Array.from(pairs, ([x]) => x);
    const ys = Float32Array.from(pairs, ([, y]) => y);
    const scale = 1 / 3;
    const n = pairs.length;
    const x = tensorFrom(ctx, xs, [n], 'logits');
    const y = tensorFrom(ctx, ys, [n], 'labels');
    const grad = createTensor(ctx, [n], 'f32', 'grad');
    const out = createTensor(ctx, [n], 'f32', 'losses');
    const singles = pairs.map(([xi, yi], i) => [tensorFrom(ctx, Float32Array.of(xi), [1], `x${i}`), tensorFrom(ctx, Float32Array.of(yi), [1], `y${i}`)] as const);
    ctx.run([
      bceWithLogitsGrad(ctx, x, y, grad, { scale }),
      ...singles.map(([xi, yi], slot) => bceWithLogitsLoss(ctx, xi, yi, out, { slot, scale })),
    ]);
    const [gradGot, lossGot] = [await download(ctx, grad), await download(ctx, out)];

    const sumTol = lossSumTolerance(1, true);
    const lossScale = Float64Array.from(pairs, ([xi, yi]) => scale * (Math.max(xi, 0) + Math.abs(xi * yi) + Math.log1p(Math.exp(-Math.abs(xi)))));
    // At |x| = 1e4, e^-|x| is 0 in f32 and sigmoid is exactly 0 or 1: the gradient is exactly
    // f32(scale) * (sigmoid - y) and must come out bit for bit.
    const saturated = pairs.flatMap(([xi, yi], i) => (Math.abs(xi) === 1e4 ? [[i, Math.fround(scale) * Math.fround((xi > 0 ? 1 : 0) - yi)] as const] : []));
    const result = combine([
      compare(gradGot, ref.bceWithLogitsGrad(xs, ys, scale), { ...BCE_GRAD_TOL, abs: BCE_GRAD_TOL.abs * scale }),
      compare(lossGot, Float64Array.from(pairs, ([xi, yi]) => scale * ref.bceWithLogits(xi, yi)), { ...sumTol, abs: sumTol.abs * scale }, lossScale),
      compare(
        saturated.map(([i]) => gradGot[i]),
        saturated.map(([, want]) => Math.fround(want)),
        { abs: 0, rel: 0, why: 'saturated sigmoid: the gradient is exactly f32(scale) * (0 or 1 - y)' },
      ),
    ]);
    for (const t of [x, y, grad, out, ...singles.flat()]) t.buffer.destroy();
    return result;
  },
};

// (a - y) * (a (1 - a)) * scale: five roundings (with f32(scale)), no cancellation beyond a - y.
const MSE_GRAD_TOL: Tolerance = { abs: 0, rel: 6 * EPS32, why: 'a - y, 1 - a, two products, scale and its f32 rounding: 6 roundings' };

const mseChecks: Check[] = SIZES.flatMap((n) => [
  {
    kernel: 'mseSigmoid',
    case: `n=${n} floats`,
    async run(ctx: GpuContext) {
      // Sigmoid outputs, including the saturated 0 and 1 and 1/2.
      const as = Float32Array.from(randomF32(n, 53 + n, -20, 20), (v) => ref.sigmoid(v));
      as[0] = n > 1 ? 1 : 0.5;
      if (n > 2) as[1] = 0;
      const ys = labelsFor(n, 59 + n);
      const scale = 1 / n;
      const initial = randomF32(SLOTS, 61 + n);
      const a = tensorFrom(ctx, as, [n, 1], 'a');
      const y = tensorFrom(ctx, ys, [n, 1], 'labels');
      const grad = createTensor(ctx, [n, 1], 'f32', 'grad');
      const out = tensorFrom(ctx, initial, [SLOTS], 'metrics');
      ctx.run([mseSigmoidGrad(ctx, a, y, grad, { scale }), mseLoss(ctx, a, y, out, { slot: SLOT, scale, accumulate: true })]);
      const [gradGot, lossGot] = [await download(ctx, grad), await download(ctx, out)];
      const lossWant = Float64Array.from(initial);
      lossWant[SLOT] += ref.mseLoss(as, ys, scale);
      const lossScale = new Float64Array(SLOTS);
      lossScale[SLOT] = Math.abs(initial[SLOT]) + ref.mseLoss(as, ys, scale);
      const result = combine([
        compare(gradGot, ref.mseSigmoidGrad(as, ys, scale), MSE_GRAD_TOL),
        compare(lossGot, lossWant, lossSumTolerance(n, false), lossScale),
      ]);
      for (const t of [a, y, grad, out]) t.buffer.destroy();
      return result;
    },
  },
  {
    kernel: 'mseSigmoid',
    case: `n=${n} eighths (exact sum)`,
    async run(ctx: GpuContext) {
      // a = k/8 and y in {0, 1}: every term (y - a)^2 / 2 is a multiple of 2^-7 below 1/2, and
      // every partial sum of up to 2^17 of them is exact in f32, so the loss must be exact:
      // a skipped or repeated element cannot hide in a rounding allowance.
      const next = hostRandom(67 + n);
      const as = Float32Array.from({ length: n }, () => Math.floor(next() * 9) / 8);
      const ys = Float32Array.from({ length: n }, () => (next() < 0.5 ? 0 : 1));
      const a = tensorFrom(ctx, as, [n], 'a');
      const y = tensorFrom(ctx, ys, [n], 'labels');
      const out = tensorFrom(ctx, new Float32Array(SLOTS).fill(-7), [SLOTS], 'metrics');
      ctx.run([mseLoss(ctx, a, y, out, { slot: SLOT, scale: 1 })]);
      const want = new Float64Array(SLOTS).fill(-7);
      want[SLOT] = ref.mseLoss(as, ys, 1);
      const result = compare(await download(ctx, out), want, { abs: 0, rel: 0, why: 'eighths: every partial sum is exact in f32' });
      for (const t of [a, y, out]) t.buffer.destroy();
      return result;
    },
  },
]);

/**
 * Hinge and Wasserstein terms on raw scores with hard labels. Every gradient is f32(scale) times
 * -1, 0 or +1 (s p < 1 compares an exact product), so it must come out bit for bit; each loss
 * term rounds once (1 - s p) or not at all (-s p), and the sums round as the BCE sums do.
 * Scores include the hinge's kink at exactly +-1.
 */
function scoreChecks(loss: LossKernel): Check[] {
  return SIZES.map((n) => ({
    kernel: loss,
    case: `n=${n} scale=1/n accumulate`,
    async run(ctx: GpuContext) {
      const next = hostRandom(71 + n);
      const ps = randomF32(n, 73 + n, -3, 3);
      [1, -1, 0].forEach((v, i) => i < n && (ps[i] = v));
      const ys = Float32Array.from({ length: n }, () => (next() < 0.5 ? 0 : 1));
      const scale = 1 / n;
      const initial = randomF32(SLOTS, 79 + n);
      const p = tensorFrom(ctx, ps, [n, 1], 'scores');
      const y = tensorFrom(ctx, ys, [n, 1], 'labels');
      const grad = createTensor(ctx, [n, 1], 'f32', 'grad');
      const out = tensorFrom(ctx, initial, [SLOTS], 'metrics');
      ctx.run([lossGradient(ctx, loss, p, y, grad, { scale }), lossValueSum(ctx, loss, p, y, out, { slot: SLOT, scale, accumulate: true })]);
      const [gradGot, lossGot] = [await download(ctx, grad), await download(ctx, out)];
      const lossWant = Float64Array.from(initial);
      let parts = 0;
      for (let i = 0; i < n; i++) {
        lossWant[SLOT] += scale * ref.lossValue(loss, ps[i], ys[i]);
        parts += Math.abs(ref.lossValue(loss, ps[i], ys[i])) + 1;
      }
      const lossScale = new Float64Array(SLOTS);
      lossScale[SLOT] = Math.abs(initial[SLOT]) + scale * parts;
      const result = combine([
        compare(gradGot, Float64Array.from(ps, (pi, i) => Math.fround(scale) * ref.lossGradient(loss, pi, ys[i])), { abs: 0, rel: 0, why: 'f32(scale) times -1, 0 or 1: exact' }),
        compare(lossGot, lossWant, lossSumTolerance(n, false), lossScale),
      ]);
      for (const t of [p, y, grad, out]) t.buffer.destroy();
      return result;
    },
  }));
}

export const lossChecks: Check[] = [...bceChecks, bceExtremeCheck, ...mseChecks, ...scoreChecks('hinge'), ...scoreChecks('wasserstein')];
