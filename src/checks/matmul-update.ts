// The weight gradient with the optimizer's update in its epilogue (matmul's `update`, shaders/
// lib/epilogue_update.wgsl) against the path it replaces: the same product with the plain
// epilogue, then the optimizer's own kernel over the whole flat layout. Both of those are
// checked against float64 elsewhere (matmul.ts, optim.ts); the fused kernel must give their
// bits exactly, in the gradients, the parameters and every state buffer, after two steps (so
// state written by the first is read by the second). Tolerance 0: the rule is one WGSL
// function (lib/optimizer.wgsl) applied to the same gradient bits, so any difference is a
// defect: an element updated twice or not at all, a wrong offset in the layout, the L2 penalty
// past its boundary, Adam's step count. The layout has padding before the weights and between
// the weights and the bias, as a network's has, and that padding must stay untouched.

import type { GpuContext } from '../gpu/context.ts';
import { matmul, type MatmulOptions } from '../kernels/matmul.ts';
import { adam, adamElementUpdate, rmsprop, rmspropElementUpdate, sgdElementUpdate, sgdMomentum, type ElementUpdate } from '../kernels/optim.ts';
import { download, downloadU32, tensorFrom, Tensor } from '../tensor/tensor.ts';
import type { Step } from '../gpu/context.ts';
import { combine, compare, randomF32, type Check, type Tolerance } from './check.ts';

const EXACT: Tolerance = { abs: 0, rel: 0, why: "the same rule on the same gradient bits as the product then the optimizer's own kernel" };

export type Kind = ElementUpdate['kind'];

interface Kernel {
  name: string;
  options: MatmulOptions;
}

const REGISTER: Kernel = { name: 'register', options: { strategy: 'register', subgroups: true } };
const PLAIN: Kernel = { name: 'register plain', options: { strategy: 'register', subgroups: false } };
const TILED: Kernel = { name: 'tiled', options: { strategy: 'tiled' } };
const NARROW: Kernel = { name: 'register narrow', options: { strategy: 'register', narrow: true } };

/** fanIn x batch x units (C = dW is fanIn x units, the product's K is the batch). */
type Size = readonly [number, number, number];

const CASES: readonly { size: Size; kernel: Kernel; kind: Kind; bias: boolean }[] = [
  { size: [100, 100, 1], kernel: NARROW, kind: 'sgd', bias: true }, // the seed D's one-unit layer
  { size: [100, 100, 1], kernel: REGISTER, kind: 'adam', bias: true },
  { size: [37, 7, 29], kernel: REGISTER, kind: 'sgd', bias: true }, // no dimension a multiple of 4
  { size: [37, 7, 29], kernel: PLAIN, kind: 'adam', bias: true },
  { size: [37, 7, 29], kernel: TILED, kind: 'rmsprop', bias: true },
  { size: [64, 16, 100], kernel: REGISTER, kind: 'rmsprop', bias: true }, // whole vec4 rows of C
  // The subgroup kernel's staged tiles (32 rows x 16 columns on lavapipe; weight gradients of at
  // least STAGED_MIN_ELEMENTS): a last tile of 14 rows and 11 columns, rows not whole vec4s;
  // then whole tiles only.
  { size: [398, 5, 331], kernel: REGISTER, kind: 'adam', bias: true },
  { size: [512, 4, 256], kernel: REGISTER, kind: 'sgd', bias: false },
  { size: [64, 16, 100], kernel: TILED, kind: 'adam', bias: false },
  { size: [3, 5, 2], kernel: PLAIN, kind: 'sgd', bias: false },
  { size: [3, 5, 2], kernel: NARROW, kind: 'rmsprop', bias: true },
];

/** Elements per 256 bytes: where a network's layout starts each parameter. */
const ALIGN = 64;
const alignUp = (n: number) => Math.ceil(n / ALIGN) * ALIGN;

/**
 * The rule of `kind` over the flat buffers, and the same update as the optimizer's own dispatch
 * (with weight decay and clipping that bind, and Adam past its first steps and halfway
 * through a learning-rate decay).
 */
export function rules(ctx: GpuContext, kind: Kind, w: Tensor, g: Tensor, state: Tensor[], step: Tensor, decayEnd: number): { rule: ElementUpdate; dispatch: Step } {
  switch (kind) {
    case 'sgd': {
      const o = { lr: 2, momentum: 0.5, l2: 1e-2, clip: 0.3, decayEnd };
      return { rule: sgdElementUpdate(w, state[0], o), dispatch: sgdMomentum(ctx, w, g, state[0], o) };
    }
    case 'adam': {
      // t = 6 + 2 = 8, halfway through the decay: the rule reads lr's share as the kernel does.
      const o = { lr: 2e-2, beta1: 0.5, beta2: 0.999, eps: 1e-8, weightDecay: 1e-2, clip: 0.45, stepAdd: 2, lrDecay: { start: 4, end: 12 } };
      return { rule: adamElementUpdate(w, state[0], state[1], step, o), dispatch: adam(ctx, w, g, state[0], state[1], step, o) };
    }
    case 'rmsprop': {
      const o = { lr: 1e-2, alpha: 0.9, eps: 1e-8, weightDecay: 1e-2, clip: 0.45 };
      return { rule: rmspropElementUpdate(w, state[0], o), dispatch: rmsprop(ctx, w, g, state[0], o) };
    }
  }
}

function updateCheck(size: Size, kernel: Kernel, kind: Kind, bias: boolean): Check {
  const [m, k, n] = size;
  return {
    kernel: `matmul Aᵀ·B + ${kind} update, ${kernel.name}`,
    case: `${m}x${k}x${n}${bias ? ' with bias' : ''}`,
    async run(ctx) {
      // The layout: padding, the weights [m, n], padding, the bias [n].
      const weightAt = ALIGN;
      const biasAt = alignUp(weightAt + m * n);
      const total = alignUp(biasAt + (bias ? n : 0)) + ALIGN;
      const x = tensorFrom(ctx, randomF32(k * m, 11 + m), [k, m], 'x');
      const delta = tensorFrom(ctx, randomF32(k * n, 13 + n, -0.1, 0.1), [k, n], 'delta');
      // Parameters and state are 0 in the padding, as a network's are (the optimizer's own
      // kernel keeps them 0 there; the fused one must not touch them).
      const inLayout = (i: number) => (i >= weightAt && i < weightAt + m * n) || (bias && i >= biasAt && i < biasAt + n);
      const drawn = (seed: number, lo: number, hi: number) => randomF32(total, seed, lo, hi).map((v, i) => (inLayout(i) ? v : 0));
      const w0 = drawn(17 + m * n, -0.5, 0.5);
      const s0 = [drawn(19, kind === 'sgd' ? -0.1 : 0, 0.1), drawn(23, 0, 0.01)];
      const states = kind === 'adam' ? 2 : 1;
      const step = tensorFrom(ctx, new Uint32Array([6, 0, 0, 0]), [4], 'step');
      const view = (flat: Tensor, at: number, shape: number[], name: string) => new Tensor(flat.buffer, shape, 'f32', name, flat.byteOffset + at * 4);
      const path = (name: string) => {
        const w = tensorFrom(ctx, w0, [total], `${name} params`);
        const g = tensorFrom(ctx, new Float32Array(total), [total], `${name} grads`);
        const state = s0.slice(0, states).map((s, i) => tensorFrom(ctx, s, [total], `${name} state ${i}`));
        const gw = view(g, weightAt, [m, n], `${name} dW`);
        const gb = bias ? view(g, biasAt, [n], `${name} db`) : undefined;
        return { w, g, state, gw, gb, ...rules(ctx, kind, w, g, state, step, biasAt) };
      };
      const fused = path('fused');
      const apart = path('apart');
      const product = { ...kernel.options, transA: true };
      const fusedStep = matmul(ctx, x, delta, fused.gw, { ...product, biasGrad: fused.gb, update: { rule: fused.rule, weight: view(fused.w, weightAt, [m, n], 'W'), bias: bias ? view(fused.w, biasAt, [n], 'b') : undefined } });
      const apartSteps = [matmul(ctx, x, delta, apart.gw, { ...product, biasGrad: apart.gb }), apart.dispatch];
      for (let s = 0; s < 2; s++) ctx.run([fusedStep, ...apartSteps]);
      const results = [];
      for (const [a, b] of [[fused.w, apart.w], [fused.g, apart.g], ...fused.state.map((t, i) => [t, apart.state[i]])]) {
        results.push(compare(await download(ctx, a), await download(ctx, b), EXACT));
      }
      // The update must have happened: the weights and biases moved from where they started. Not
      // quite every one: over 10^5 elements a few take Adam steps below half an ulp of the weight
      // (first moments near 0) and stay put, so at most 0.1% may; a tile left out would be 3%.
      const moved = await download(ctx, fused.w);
      let still = 0;
      for (let i = 0; i < total; i++) if (inLayout(i) && moved[i] === w0[i]) still++;
      const unmoved = still > 0.001 * (m * n + (bias ? n : 0));
      const counter = await downloadU32(ctx, step);
      for (const t of [x, delta, step, fused.w, fused.g, apart.w, apart.g, ...fused.state, ...apart.state]) t.buffer.destroy();
      const result = combine(results);
      if (unmoved) return { ...result, pass: false, detail: `${still} weights or biases did not move` };
      if (counter[0] !== 6) return { ...result, pass: false, detail: `the step counter changed to ${counter[0]}` };
      return result;
    },
  };
}

export const matmulUpdateChecks: Check[] = CASES.map((c) => updateCheck(c.size, c.kernel, c.kind, c.bias));
