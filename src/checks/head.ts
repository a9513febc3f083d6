// D's one-unit head (shaders/head.wgsl) against its float64 twin (src/reference/head.ts), and its
// update path against the path it replaces.
//
// Tolerances. D's output y_r is an f32 dot product of H terms, off by at most about
// sqrt(H) eps sum_j |h_rj w_j| (as matmul.ts argues, with C0 = 2); every loss gradient here has
// a derivative in y of magnitude at most 1 (sigmoid's 1/4 times BCE's 1; (p - t) p (1 - p)'s
// under 1 on [0, 1]; hinge and Wasserstein are piecewise constant), so delta_r carries scale
// times that, plus a few roundings of its own (8 eps |delta_r|). dh, dW and db are products and
// sums of delta: their allowances are those errors carried through (|w_j act'| for dh, sum_r
// |h_rj| for dW) plus the sums' own sqrt(R) eps. The metric sums carry every row's y error once
// (the loss and D's value move by at most |dy| per row) plus the pairwise sum's R eps of their
// terms. A missing or doubled row, a wrong column or an old delta is off by whole terms.
//
// With the optimizer's rule applied in place of storing the gradients, the kernel must give
// the bits of the gradients stored then the optimizer's own kernel run (tolerance 0): the rule
// is one WGSL function on the same gradient bits.

import type { GpuContext } from '../gpu/context.ts';
import type { Activation } from '../kernels/common.ts';
import { oneUnitHead } from '../kernels/head.ts';
import type { LossKernel } from '../kernels/losses.ts';
import { activateGradFromOutput } from '../reference/activations.ts';
import { refOneUnitHead } from '../reference/head.ts';
import { download, Tensor, tensorFrom } from '../tensor/tensor.ts';
import type { Step } from '../gpu/context.ts';
import { combine, compare, EPS32, hostRandom, randomF32, type Check, type Tolerance } from './check.ts';
import { rules, type Kind } from './matmul-update.ts';

const C0 = 2;
const LEAK = 0.2;

interface HeadCase {
  rows: number;
  hidden: number;
  update: 'D' | 'G';
  loss: LossKernel;
  /** The head's activation as the pass applies it, and the layer below's. */
  activation: Activation;
  below: Activation;
  bias: boolean;
  scored?: number;
  realTarget?: number;
  scale?: number;
}

const CASES: HeadCase[] = [
  { rows: 200, hidden: 100, update: 'D', loss: 'mse', activation: 'sigmoid', below: 'sigmoid', bias: true, realTarget: 0.9 }, // the seed experiment's D
  { rows: 128, hidden: 256, update: 'D', loss: 'bce', activation: 'identity', below: 'leaky_relu', bias: true, realTarget: 0.9 }, // mnist's
  { rows: 300, hidden: 33, update: 'D', loss: 'hinge', activation: 'identity', below: 'relu', bias: false }, // more rows than lanes
  { rows: 96, hidden: 20, update: 'D', loss: 'wasserstein', activation: 'identity', below: 'tanh', bias: true, scored: 64 }, // unscored rows
  { rows: 7, hidden: 5, update: 'D', loss: 'bce', activation: 'identity', below: 'identity', bias: true },
  { rows: 100, hidden: 100, update: 'G', loss: 'mse', activation: 'sigmoid', below: 'sigmoid', bias: true },
  { rows: 64, hidden: 256, update: 'G', loss: 'bce', activation: 'identity', below: 'leaky_relu', bias: true, scale: -1 / 64 }, // the minimax G loss
  { rows: 1024, hidden: 8, update: 'G', loss: 'wasserstein', activation: 'identity', below: 'leaky_relu', bias: false }, // the most rows
];

/** Elements per 256 bytes, where a network's layout starts each parameter. */
const ALIGN = 64;

/** h as the layer below's activation leaves it. */
function belowOutput(n: number, act: Activation, seed: number): Float32Array {
  const x = randomF32(n, seed, -2, 2);
  const next = hostRandom(seed + 1);
  return x.map((v) => {
    switch (act) {
      case 'sigmoid': return 1 / (1 + Math.exp(-v));
      case 'relu': return next() < 0.3 ? 0 : Math.abs(v);
      case 'leaky_relu': return v > 0 ? v : LEAK * v;
      case 'tanh': return Math.tanh(v);
      default: return v;
    }
  });
}

interface Setup {
  h: Float32Array;
  w: Float32Array;
  b: number | undefined;
  labels: Float32Array;
  /** Layout: the weights at ALIGN, the bias at biasAt, padding elsewhere (0). */
  flat: Float32Array;
  biasAt: number;
}

function setup(c: HeadCase): Setup {
  const h = belowOutput(c.rows * c.hidden, c.below, 31 + c.hidden);
  const w = randomF32(c.hidden, 37 + c.rows, -0.3, 0.3);
  const b = c.bias ? 0.05 : undefined;
  const next = hostRandom(c.rows + 3);
  const labels = Float32Array.from({ length: c.rows }, () => (next() < 0.5 ? 1 : 0));
  const biasAt = ALIGN + Math.ceil(c.hidden / ALIGN) * ALIGN;
  const flat = new Float32Array(biasAt + ALIGN);
  flat.set(w, ALIGN);
  if (b !== undefined) flat[biasAt] = b;
  return { h, w, b, labels, flat, biasAt };
}

const view = (flat: Tensor, at: number, shape: number[], label: string) => new Tensor(flat.buffer, shape, 'f32', label, flat.byteOffset + at * 4);

function caseName(c: HeadCase): string {
  return `${c.update} ${c.loss} ${c.rows}x${c.hidden} ${c.activation} over ${c.below}${c.bias ? '' : ' no bias'}${c.scored ? ` scored ${c.scored}` : ''}${c.realTarget ? ` target ${c.realTarget}` : ''}${c.scale && c.scale < 0 ? ' minimax' : ''}`;
}

function headCheck(c: HeadCase): Check {
  return {
    kernel: 'oneUnitHead',
    case: caseName(c),
    async run(ctx: GpuContext) {
      const s = setup(c);
      const scale = c.scale ?? 1 / c.rows;
      const realTarget = c.realTarget ?? 1;
      const scored = c.scored ?? c.rows;
      const start = Float32Array.from({ length: 8 }, (_, i) => i * 0.25);
      const th = tensorFrom(ctx, s.h, [c.rows, c.hidden], 'h');
      const params = tensorFrom(ctx, s.flat, [s.flat.length], 'params');
      const grads = tensorFrom(ctx, new Float32Array(s.flat.length).fill(NaN), [s.flat.length], 'grads');
      const labels = tensorFrom(ctx, s.labels, [c.rows], 'labels');
      const metrics = tensorFrom(ctx, start, [8], 'metrics');
      const dh = tensorFrom(ctx, new Float32Array(c.rows * c.hidden).fill(NaN), [c.rows, c.hidden], 'dh');
      const weight = view(params, ALIGN, [c.hidden, 1], 'W');
      const bias = c.bias ? view(params, s.biasAt, [1], 'b') : undefined;
      ctx.run([oneUnitHead(ctx, th, params, weight, bias, labels, metrics, dh, { update: c.update, loss: c.loss, scale, realTarget, scoredRows: scored, activation: c.activation, below: c.below, leak: LEAK, grads: c.update === 'D' ? grads : undefined })]);
      const want = refOneUnitHead({ h: s.h, rows: c.rows, hidden: c.hidden, w: s.w, bias: s.b, labels: s.labels, update: c.update, loss: c.loss, scale, realTarget, scored, activation: c.activation, below: c.below, leak: LEAK, metrics: start });
      const [H, R] = [c.hidden, c.rows];
      // Allowances (see the top of the file).
      const yErr = Float64Array.from({ length: R }, (_, r) => {
        let m = Math.abs(s.b ?? 0);
        for (let j = 0; j < H; j++) m += Math.abs(s.h[r * H + j] * s.w[j]);
        return C0 * Math.sqrt(H) * EPS32 * m;
      });
      const dErr = Float64Array.from(want.delta, (d, r) => Math.abs(scale) * yErr[r] + 8 * EPS32 * Math.abs(d));
      const tol = (why: string): Tolerance => ({ abs: 0, rel: 1, why });
      const dhScale = Float64Array.from(want.dh, (v, i) => {
        const [r, j] = [Math.floor(i / H), i % H];
        return Math.abs(s.w[j] * activateGradFromOutput(s.h[i], c.below, LEAK)) * dErr[r] + 4 * EPS32 * Math.abs(v);
      });
      const results = [compare(await download(ctx, dh), want.dh, tol('delta_r carried through |w_j act\'| + 4 eps'), dhScale)];
      const mScale = new Float64Array(8);
      let yErrSum = 0;
      for (let r = 0; r < scored; r++) yErrSum += yErr[r];
      for (let i = 0; i < 8; i++) mScale[i] = yErrSum * (i === 0 || i === 6 ? Math.abs(scale) : 1) + 2 * scored * EPS32 * (Math.abs(want.metrics[i]) + 1) + 4 * EPS32 * Math.abs(want.metrics[i]);
      results.push(compare(await download(ctx, metrics), want.metrics, tol("every row's y error once, and the pairwise sums' R eps"), mScale));
      if (c.update === 'D') {
        const got = await download(ctx, grads);
        const dWScale = Float64Array.from(want.dW, (_, j) => {
          let [carried, terms] = [0, 0];
          for (let r = 0; r < R; r++) {
            carried += Math.abs(s.h[r * H + j]) * dErr[r];
            terms += Math.abs(s.h[r * H + j] * want.delta[r]);
          }
          return carried + C0 * Math.sqrt(R) * EPS32 * terms;
        });
        results.push(compare(got.subarray(ALIGN, ALIGN + H), want.dW, tol('delta carried through sum_r |h_rj|, and the sum over rows'), dWScale));
        if (c.bias) {
          const dbScale = dErr.reduce((a, v) => a + v, 0) + C0 * Math.sqrt(R) * EPS32 * want.delta.reduce((a, v) => a + Math.abs(v), 0);
          results.push(compare([got[s.biasAt]], [want.db], tol('delta carried, and the sum over rows'), [dbScale]));
        }
      }
      for (const t of [th, params, grads, labels, metrics, dh]) t.buffer.destroy();
      return combine(results);
    },
  };
}

const APPLY_CASES: { c: HeadCase; kind: Kind }[] = [
  { c: CASES[0], kind: 'sgd' },
  { c: CASES[1], kind: 'adam' },
  { c: CASES[2], kind: 'rmsprop' },
];

function applyCheck(c: HeadCase, kind: Kind): Check {
  return {
    kernel: `oneUnitHead + ${kind} update`,
    case: caseName(c),
    async run(ctx: GpuContext) {
      const s = setup(c);
      const opts = { update: 'D' as const, loss: c.loss, scale: 1 / c.rows, realTarget: c.realTarget, activation: c.activation, below: c.below, leak: LEAK };
      const th = tensorFrom(ctx, s.h, [c.rows, c.hidden], 'h');
      const labels = tensorFrom(ctx, s.labels, [c.rows], 'labels');
      const step = tensorFrom(ctx, new Uint32Array([4, 0, 0, 0]), [4], 'step');
      const inLayout = (i: number) => (i >= ALIGN && i < ALIGN + c.hidden) || (c.bias && i === s.biasAt);
      const path = (name: string) => {
        const params = tensorFrom(ctx, s.flat, [s.flat.length], `${name} params`);
        const grads = tensorFrom(ctx, new Float32Array(s.flat.length), [s.flat.length], `${name} grads`);
        const state = [0, 1].map((k) => tensorFrom(ctx, randomF32(s.flat.length, 41 + k, kind === 'sgd' && k === 0 ? -0.05 : 0, 0.05).map((v, i) => (inLayout(i) ? v : 0)), [s.flat.length], `${name} state ${k}`));
        const metrics = tensorFrom(ctx, new Float32Array(8), [8], `${name} metrics`);
        const dh = tensorFrom(ctx, new Float32Array(c.rows * c.hidden), [c.rows, c.hidden], `${name} dh`);
        const weight = view(params, ALIGN, [c.hidden, 1], 'W');
        const bias = c.bias ? view(params, s.biasAt, [1], 'b') : undefined;
        return { params, grads, state, metrics, dh, weight, bias, ...rules(ctx, kind, params, grads, state, step, s.biasAt) };
      };
      const fused = path('fused');
      const apart = path('apart');
      const steps: Step[] = [
        oneUnitHead(ctx, th, fused.params, fused.weight, fused.bias, labels, fused.metrics, fused.dh, { ...opts, rule: fused.rule }),
        oneUnitHead(ctx, th, apart.params, apart.weight, apart.bias, labels, apart.metrics, apart.dh, { ...opts, grads: apart.grads }),
        apart.dispatch,
      ];
      // Twice, so the second run reads the weights and state the first one wrote.
      ctx.run([...steps, ...steps]);
      const exact: Tolerance = { abs: 0, rel: 0, why: "the same rule on the same gradient bits as storing them, then the optimizer's own kernel" };
      const pairs: [Tensor, Tensor][] = [[fused.params, apart.params], [fused.metrics, apart.metrics], [fused.dh, apart.dh], [fused.state[0], apart.state[0]], [fused.state[1], apart.state[1]]];
      const results = [];
      for (const [a, b] of pairs) results.push(compare(await download(ctx, a), await download(ctx, b), exact));
      const moved = await download(ctx, fused.params);
      for (const t of [th, labels, step, ...[fused, apart].flatMap((p) => [p.params, p.grads, ...p.state, p.metrics, p.dh])]) t.buffer.destroy();
      const result = combine(results);
      if (moved.some((v, i) => inLayout(i) && v === s.flat[i])) return { ...result, pass: false, detail: 'a weight or the bias did not move' };
      return result;
    },
  };
}

export const headChecks: Check[] = [...CASES.map(headCheck), ...APPLY_CASES.map(({ c, kind }) => applyCheck(c, kind))];
