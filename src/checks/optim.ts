// Checks of the optimizers over several consecutive steps against float64 runs with the same
// gradients, and of the GPU step counter that Adam reads (incremented on the GPU each step).

import type { GpuContext } from '../gpu/context.ts';
import { adam, advanceCounters, incrementCounter, rmsprop, sgdMomentum, weightAverage } from '../kernels/optim.ts';
import * as ref from '../reference/optim.ts';
import { createTensor, download, downloadU32, tensorFrom, upload } from '../tensor/tensor.ts';
import { combine, compare, EPS32, randomF32, type Check, type Tolerance } from './check.ts';

const SIZES = [1, 257, 78_400];
const STEPS = 5;

function gradients(n: number, seed: number, amplitude: number): Float32Array[] {
  return Array.from({ length: STEPS }, (_, s) => {
    const g = randomF32(n, seed + 1000 * s, -amplitude, amplitude);
    g[0] = s === 1 ? 0 : g[0];
    return g;
  });
}

// Each step rounds v four times (l2 w, g + l2 w, the two products and their sum) and w once;
// an error in v reaches w at that step and, through momentum <= 1, at every later one. The
// reference sums |terms| of every value, so 5 u times (w magnitude + STEPS * v magnitude)
// bounds the drift of the f32 run from the float64 one.
const SGD_TOL: Tolerance = { abs: 0, rel: 5 * EPS32, why: '5 roundings per step, of |w| + steps * |v terms| summed over the steps' };

// With L2, one case per size decays only the first half, as a network's weights before its
// biases: at l2 = 1e-4 the penalty moves w by 1e-4 a step, far above the tolerance, so a wrong
// boundary fails.
const sgdChecks: Check[] = SIZES.flatMap((n) =>
  [0, 0.5].flatMap((momentum) =>
    [0, 1e-4].flatMap((l2) => (l2 ? [undefined, Math.floor(n / 2)] : [undefined]).map((decayEnd): Check => ({
      kernel: 'sgdMomentum',
      case: `n=${n} lr=2 momentum=${momentum} l2=${l2}${l2 ? ' clip=0.3' : ''}${decayEnd === undefined ? '' : ` decayEnd=${decayEnd}`}, ${STEPS} steps`,
      async run(ctx) {
        // With L2 the weights are also clipped to [-0.3, 0.3], which binds on many of them.
        const opts = { lr: 2, momentum, l2, clip: l2 ? 0.3 : undefined, decayEnd };
        const w0 = randomF32(n, 71 + n, -0.5, 0.5);
        const grads = gradients(n, 73 + n, 0.05);
        const w = tensorFrom(ctx, w0, [n], 'w');
        const g = createTensor(ctx, [n], 'f32', 'g');
        const v = tensorFrom(ctx, new Float32Array(n), [n], 'v');
        const update = sgdMomentum(ctx, w, g, v, opts);
        for (const gs of grads) {
          upload(ctx, g, gs);
          ctx.run([update]);
        }
        const want = ref.sgdMomentum(w0, new Float64Array(n), grads, opts);
        const result = combine([
          compare(await download(ctx, w), want.w, SGD_TOL, want.wMagnitude.map((m, i) => m + STEPS * want.vMagnitude[i])),
          compare(await download(ctx, v), want.v, SGD_TOL, want.vMagnitude.map((m) => STEPS * m)),
        ]);
        for (const t of [w, g, v]) t.buffer.destroy();
        return result;
      },
    }))),
  ),
);

interface AdamCase {
  name: string;
  opts: ref.AdamOptions;
  /** The step count before the first step (the GPU counter's starting value). */
  t0: number;
  /** Half-width of the initial weights: small weights keep the updates' own bits in view. */
  wRange: number;
}

const ADAM_CASES: AdamCase[] = [
  { name: 'DCGAN lr=2e-4 b1=0.5 b2=0.999, t=1..5', opts: { lr: 2e-4, beta1: 0.5, beta2: 0.999, eps: 1e-8 }, t0: 0, wRange: 0.5 },
  { name: 'lr=1e-3 b1=0.9 b2=0.999 wd=1e-4, t=1..5, small w', opts: { lr: 1e-3, beta1: 0.9, beta2: 0.999, eps: 1e-8, weightDecay: 1e-4 }, t0: 0, wRange: 1e-3 },
  { name: 'lr=1e-3 b1=0.9 b2=0.999, t=999996..1e6, small w', opts: { lr: 1e-3, beta1: 0.9, beta2: 0.999, eps: 1e-8 }, t0: 999_995, wRange: 1e-3 },
  { name: 'lr=1e-3 b1=0 b2=0.99 eps=1e-3, t=1..5, small w', opts: { lr: 1e-3, beta1: 0, beta2: 0.99, eps: 1e-3 }, t0: 0, wRange: 1e-3 },
  { name: 'lr=1e-2 b1=0.5 b2=0.9 clip=0.01, t=1..5, w in [-0.02, 0.02]', opts: { lr: 1e-2, beta1: 0.5, beta2: 0.9, eps: 1e-8, clip: 0.01 }, t0: 0, wRange: 0.02 },
  // The decay's share at t = 1..5: 1, 1, 3/4, 1/2, 1/4; then one that reaches 0 within the
  // steps (t = 4, 5 leave w alone), and one in the millions, where t is still exact in f32.
  { name: 'lr=2e-4 b1=0.5 b2=0.999 decay from t=2 to 0 at t=6, t=1..5', opts: { lr: 2e-4, beta1: 0.5, beta2: 0.999, eps: 1e-8, lrDecay: { start: 2, end: 6 } }, t0: 0, wRange: 0.5 },
  { name: 'lr=1e-3 b1=0.9 b2=0.999 decay from t=1 to 0 at t=4, t=1..5, small w', opts: { lr: 1e-3, beta1: 0.9, beta2: 0.999, eps: 1e-8, lrDecay: { start: 1, end: 4 } }, t0: 0, wRange: 1e-3 },
  { name: 'lr=1e-3 b1=0.9 b2=0.999 decay from t=999997 to 0 at t=1000003, t=999996..1e6, small w', opts: { lr: 1e-3, beta1: 0.9, beta2: 0.999, eps: 1e-8, lrDecay: { start: 999_997, end: 1_000_003 } }, t0: 999_995, wRange: 1e-3 },
];

// Per step the update lr * (m / c1) / (sqrt(v / c2) + eps) carries the roundings of m (3), v
// (3, halved by sqrt), 1 - beta^t (the expm1 polynomial, ~3), sqrt and three divisions (2.5
// ulp each allowed by WGSL), and under a decay lr's share (one more division and a product,
// 3.5): under 24 u of the update's |terms|, and w - update one more u of
// |w|. m and v errors carry forward damped by beta. 32 u of the reference's sums of
// |w| + |update terms| over the steps leaves a margin; m and v themselves need 4 u.
const ADAM_W_TOL: Tolerance = { abs: 0, rel: 32 * EPS32, why: '~24 u per update (moments, bias correction, sqrt, 3 divisions) + 1 u of |w|, summed over steps' };
const ADAM_MOMENT_TOL: Tolerance = { abs: 0, rel: 4 * EPS32 * STEPS, why: '3 roundings per moment update, carried through the steps' };

// Two ways to count steps, both read at index 1 of a 3-counter clock (exercising stepIndex):
// 'increment' bumps the counter before each update; 'ticked' records the updates as one
// program's 1st..5th (stepAdd) and advances the counter by 5 after them, as the trainer does.
const adamChecks: Check[] = SIZES.flatMap((n) =>
  ADAM_CASES.flatMap((c) => (['increment', 'ticked'] as const).map((counting): Check => ({
    kernel: 'adam',
    case: `n=${n} ${c.name}${counting === 'ticked' ? ', t from one tick after the steps' : ''}`,
    async run(ctx: GpuContext) {
      const w0 = randomF32(n, 79 + n, -c.wRange, c.wRange);
      const grads = gradients(n, 83 + n, 1);
      const w = tensorFrom(ctx, w0, [n], 'w');
      const g = createTensor(ctx, [n], 'f32', 'g');
      const m = tensorFrom(ctx, new Float32Array(n), [n], 'm');
      const v = tensorFrom(ctx, new Float32Array(n), [n], 'v');
      const clock = tensorFrom(ctx, Uint32Array.of(7, c.t0, 9), [3], 'clock');
      const steps = grads.map((_, j) =>
        counting === 'increment'
          ? [incrementCounter(ctx, clock, 1), adam(ctx, w, g, m, v, clock, { ...c.opts, stepIndex: 1 })]
          : [adam(ctx, w, g, m, v, clock, { ...c.opts, stepIndex: 1, stepAdd: j + 1 })],
      );
      grads.forEach((gs, j) => {
        upload(ctx, g, gs);
        ctx.run(steps[j]);
      });
      if (counting === 'ticked') ctx.run([advanceCounters(ctx, clock, [{ index: 1, by: STEPS }])]);
      const want = ref.adam(w0, new Float64Array(n), new Float64Array(n), c.t0, grads, c.opts);
      const vScale = want.v.map(Math.abs);
      const result = combine([
        compare(await download(ctx, w), want.w, ADAM_W_TOL, want.wMagnitude),
        compare(await download(ctx, m), want.m, ADAM_MOMENT_TOL, want.mMagnitude),
        compare(await download(ctx, v), want.v, ADAM_MOMENT_TOL, vScale),
        compare(await downloadU32(ctx, clock), [7, c.t0 + STEPS, 9], { abs: 0, rel: 0, why: 'the counter counts the steps exactly' }),
      ]);
      for (const t of [w, g, m, v, clock]) t.buffer.destroy();
      return result;
    },
  }))),
);

// Per step: g^2, two products and a sum for the mean square (4 roundings), sqrt (its error
// halved) + eps, lr g and the division (2.5 ulp in WGSL): under 12 u of the update's |terms|,
// and 1 u of |w|; errors in the mean square carry forward damped by alpha. 16 u of the
// reference's sums leaves a margin, as for Adam.
const RMSPROP_TOL: Tolerance = { abs: 0, rel: 16 * EPS32, why: '~12 u per update (mean square, sqrt, eps, product, division) + 1 u of |w|, summed over steps' };

const RMSPROP_CASES: { name: string; opts: ref.RmspropOptions; wRange: number }[] = [
  { name: 'WGAN lr=5e-5 alpha=0.99 eps=1e-8 clip=0.01', opts: { lr: 5e-5, alpha: 0.99, eps: 1e-8, clip: 0.01 }, wRange: 0.01 },
  { name: 'lr=1e-3 alpha=0.9 eps=1e-6 wd=1e-2, small w', opts: { lr: 1e-3, alpha: 0.9, eps: 1e-6, weightDecay: 1e-2 }, wRange: 1e-3 },
];

const rmspropChecks: Check[] = SIZES.flatMap((n) =>
  RMSPROP_CASES.map((c): Check => ({
    kernel: 'rmsprop',
    case: `n=${n} ${c.name}, ${STEPS} steps`,
    async run(ctx: GpuContext) {
      const w0 = randomF32(n, 89 + n, -c.wRange, c.wRange);
      const grads = gradients(n, 97 + n, 1);
      const w = tensorFrom(ctx, w0, [n], 'w');
      const g = createTensor(ctx, [n], 'f32', 'g');
      const s = tensorFrom(ctx, new Float32Array(n), [n], 'mean square');
      const update = rmsprop(ctx, w, g, s, c.opts);
      for (const gs of grads) {
        upload(ctx, g, gs);
        ctx.run([update]);
      }
      const want = ref.rmsprop(w0, new Float64Array(n), grads, c.opts);
      const result = combine([
        compare(await download(ctx, w), want.w, RMSPROP_TOL, want.wMagnitude),
        compare(await download(ctx, s), want.s, ADAM_MOMENT_TOL, want.s.map(Math.abs)),
      ]);
      for (const t of [w, g, s]) t.buffer.destroy();
      return result;
    },
  })),
);

// Per update: two products and their sum (3 roundings of the update's |terms|); an earlier
// error carries forward damped by decay < 1. 4 u of the terms summed over the updates bounds it.
const AVERAGE_TOL: Tolerance = { abs: 0, rel: 4 * EPS32, why: '3 roundings per update (two products, the sum) of its |terms|, carried forward damped by decay' };

// decay 0 copies the weights (exactly); 0.5 and 0.999 (a generator's usual average) weigh the
// old average and the new weights unequally, so swapping them fails.
const averageChecks: Check[] = SIZES.flatMap((n) =>
  [0, 0.5, 0.999].map((decay): Check => ({
    kernel: 'weightAverage',
    case: `n=${n} decay=${decay}, ${STEPS} updates`,
    async run(ctx: GpuContext) {
      const a0 = randomF32(n, 101 + n, -1, 1);
      const weights = gradients(n, 103 + n, 2);
      const a = tensorFrom(ctx, a0, [n], 'average');
      const w = createTensor(ctx, [n], 'f32', 'w');
      const update = weightAverage(ctx, a, w, { decay });
      for (const ws of weights) {
        upload(ctx, w, ws);
        ctx.run([update]);
      }
      const want = ref.weightAverage(a0, weights, decay);
      const result = compare(await download(ctx, a), want.a, AVERAGE_TOL, want.magnitude);
      for (const t of [a, w]) t.buffer.destroy();
      return result;
    },
  })),
);

export const optimChecks: Check[] = [...sgdChecks, ...adamChecks, ...rmspropChecks, ...averageChecks];
