// Checks of minibatch standard deviation (kernels/mbstd.ts) against float64: the forward's copied
// channels and appended value, and the backward's input gradient with every gradOf activation,
// on one row, groups of 1 to 4 rows, feature counts above and below the workgroup's 64 lanes,
// one channel and the DCGAN D's 7x7x64 at batch 128. Every run is repeated and must give the
// same bits.
//
// Tolerances are first-order rounding bounds of the kernel's order of operations (u = 2^-24):
// per feature, the group's mean (G additions and a division) and the squared deviations' sum,
// whose error the square root halves; then a lane's ceil(F / 64) features in order and six
// pairwise levels across the 64 lanes. The backward adds the appended channel's gradients the
// same way and each dx takes a few more roundings, scaled by the terms' own magnitudes.

import type { GpuContext } from '../gpu/context.ts';
import { DEFAULT_LEAK, type Activation } from '../kernels/common.ts';
import { minibatchStddev, minibatchStddevBackward, MBSTD_EPS } from '../kernels/mbstd.ts';
import { activate, activateGradFromOutput } from '../reference/activations.ts';
import * as ref from '../reference/mbstd.ts';
import { createTensor, download, tensorFrom } from '../tensor/tensor.ts';
import { combine, compare, EPS32, randomF32, type Check, type CheckResult } from './check.ts';
import { sameBits } from './reduce.ts';

const u = EPS32;
/** The shader's lanes per workgroup: the depth of its pairwise tree is log2 of it. */
const WG = 64;

interface Case {
  rows: number;
  positions: number;
  channels: number;
  group: number;
  activation: Activation;
  gradOf: Activation;
  why?: string;
}

const CASES: readonly Case[] = [
  { rows: 1, positions: 1, channels: 1, group: 1, activation: 'identity', gradOf: 'identity', why: 'one row: every deviation 0, s = sqrt(eps), dx = dy' },
  { rows: 4, positions: 1, channels: 3, group: 4, activation: 'identity', gradOf: 'sigmoid' },
  { rows: 3, positions: 1, channels: 130, group: 3, activation: 'leaky_relu', gradOf: 'relu', why: '130 features: lanes of 2 and 3' },
  { rows: 8, positions: 5, channels: 7, group: 2, activation: 'tanh', gradOf: 'tanh', why: 'four groups of 2' },
  { rows: 12, positions: 196, channels: 1, group: 4, activation: 'identity', gradOf: 'leaky_relu', why: '14x14x1' },
  { rows: 6, positions: 49, channels: 64, group: 3, activation: 'sigmoid', gradOf: 'identity' },
  { rows: 128, positions: 49, channels: 64, group: 4, activation: 'identity', gradOf: 'leaky_relu', why: "dcgan D's 7x7x64, real and fake rows" },
];

function caseName(c: Case): string {
  return `[${c.rows}, ${c.positions}x${c.channels}] group ${c.group} ${c.activation}, gradOf ${c.gradOf}${c.why ? ` (${c.why})` : ''}`;
}

const transcendental = (act: Activation) => act === 'sigmoid' || act === 'tanh';

/**
 * What an activation's own rounding adds to a value y (in units of u): the transcendental ones
 * 8 ulp relative, with the activation checks' 1e-6 absolute floor (tanh near 0 cancels in
 * 1 - exp(-2|x|)); leaky ReLU a product by f32(0.2), itself 1.5e-8 off.
 */
function activationRounding(act: Activation, y: number): number {
  return transcendental(act) ? 128 * Math.abs(y) : act === 'leaky_relu' ? 2 * Math.abs(y) : 0;
}

/** The slope bound of an activation. */
function slope(act: Activation): number {
  return act === 'sigmoid' ? 0.25 : 1;
}

interface Bounds {
  /** Per group: the bound on s's error, in units of u. */
  s: Float64Array;
  /** Per group and feature: the bound on sd's relative error and on the mean's absolute error, in units of u. */
  sdRel: Float64Array;
  meanAbs: Float64Array;
}

function bounds(xs: Float32Array, l: ref.MbstdLayout): Bounds {
  const F = xs.length / l.rows;
  const G = l.group;
  const groups = l.rows / G;
  const { mean, sd } = ref.mbstdFeatureStats(xs, l);
  const s = new Float64Array(groups);
  const sdRel = new Float64Array(groups * F);
  const meanAbs = new Float64Array(groups * F);
  const lane = Math.ceil(F / WG) + Math.log2(WG) + 1;
  for (let g = 0; g < groups; g++) {
    let err = 0;
    let total = 0;
    for (let f = 0; f < F; f++) {
      const k = g * F + f;
      let a = 0;
      let dev = 0;
      for (let i = 0; i < G; i++) {
        const v = xs[(g * G + i) * F + f];
        a = Math.max(a, Math.abs(v));
        dev += Math.abs(v - mean[k]);
      }
      meanAbs[k] = (G + 1) * a;
      // m2 = sum d²: (G + 3) u of itself, and 2 |d| per deviation's error (mean's + its own);
      // / G, + eps: 2 u more; sqrt halves the relative error and adds its own 4 u.
      const variance = sd[k] ** 2;
      const m2Err = (G + 5) * variance + (2 * meanAbs[k] * dev) / G;
      sdRel[k] = m2Err / (2 * variance) + 4;
      err += sdRel[k] * sd[k];
      total += sd[k];
    }
    s[g] = (err + lane * total) / F;
  }
  return { s, sdRel, meanAbs };
}

async function forwardCheck(ctx: GpuContext, c: Case, seed: number): Promise<CheckResult> {
  const F = c.positions * c.channels;
  const xs = Float32Array.from(randomF32(c.rows * F, seed, -1, 1), (v) => 0.3 + 1.5 * v);
  const x = tensorFrom(ctx, xs, [c.rows, F], 'x');
  const y = createTensor(ctx, [c.rows, c.positions * (c.channels + 1)], 'f32', 'y');
  const step = minibatchStddev(ctx, x, y, { channels: c.channels, group: c.group, activation: c.activation });
  ctx.run([step]);
  const got = await download(ctx, y);
  ctx.run([step]);
  const again = await download(ctx, y);
  x.buffer.destroy();
  y.buffer.destroy();

  const l = { rows: c.rows, channels: c.channels, group: c.group, eps: MBSTD_EPS };
  const want = ref.mbstdForward(xs, l, c.activation, DEFAULT_LEAK);
  const b = bounds(xs, l);
  const scale = new Float64Array(want.length);
  const C1 = c.channels + 1;
  for (let i = 0; i < want.length; i++) {
    const row = Math.floor(i / (c.positions * C1));
    // A copied channel is the input through the activation; the appended one carries s's error.
    const input = i % C1 === c.channels ? b.s[Math.floor(row / c.group)] : 0;
    scale[i] = slope(c.activation) * input + activationRounding(c.activation, want[i]);
  }
  return combine([
    compare(got, want, { abs: transcendental(c.activation) ? 1e-6 : 0, rel: u, why: `copies exact up to the activation; s: mean and squared deviations over ${c.group} rows, sqrt, ceil(F/64) + 6 levels of sums` }, scale),
    sameBits(got, again, 'y'),
  ]);
}

async function backwardCheck(ctx: GpuContext, c: Case, seed: number): Promise<CheckResult> {
  const F = c.positions * c.channels;
  const C1 = c.channels + 1;
  const xs = Float32Array.from(randomF32(c.rows * F, seed, -1, 1), (v) => -0.2 + 1.2 * v);
  const dys = randomF32(c.rows * c.positions * C1, seed + 1, -1, 1);
  // The producer's output, in its activation's range (gradOf reads it).
  const outs = Float32Array.from(randomF32(c.rows * F, seed + 2, -2, 2), (v) => activate(v, c.gradOf, DEFAULT_LEAK));
  const x = tensorFrom(ctx, xs, [c.rows, F], 'x');
  const dy = tensorFrom(ctx, dys, [c.rows, c.positions * C1], 'dy');
  const out = tensorFrom(ctx, outs, [c.rows, F], 'producer output');
  const dx = createTensor(ctx, [c.rows, F], 'f32', 'dx');
  const gradOf = c.gradOf === 'identity' ? undefined : { output: out, activation: c.gradOf };
  const step = minibatchStddevBackward(ctx, dy, x, dx, { channels: c.channels, group: c.group, gradOf });
  ctx.run([step]);
  const got = await download(ctx, dx);
  ctx.run([step]);
  const again = await download(ctx, dx);
  for (const t of [x, dy, out, dx]) t.buffer.destroy();

  const l = { rows: c.rows, channels: c.channels, group: c.group, eps: MBSTD_EPS };
  const pre = ref.mbstdBackward(xs, dys, l);
  const { mean, sd } = ref.mbstdFeatureStats(xs, l);
  const b = bounds(xs, l);
  const G = c.group;
  const want = new Float64Array(pre.length);
  const scale = new Float64Array(pre.length);
  for (let g = 0; g < c.rows / G; g++) {
    // S: a lane's ceil(G P / 64) gradients in order, then six pairwise levels.
    let [sum, sAbs] = [0, 0];
    for (let i = 0; i < G; i++) {
      for (let p = 0; p < c.positions; p++) {
        const v = dys[((g * G + i) * c.positions + p) * C1 + c.channels];
        sum += v;
        sAbs += Math.abs(v);
      }
    }
    const sErr = (Math.ceil((G * c.positions) / WG) + Math.log2(WG)) * sAbs;
    for (let i = 0; i < G; i++) {
      const r = g * G + i;
      for (let p = 0; p < c.positions; p++) {
        for (let ch = 0; ch < c.channels; ch++) {
          const f = p * c.channels + ch;
          const [k, at] = [g * F + f, r * F + f];
          const d = xs[at] - mean[k];
          const own = pre[at] - dys[(r * c.positions + p) * C1 + ch];
          const deriv = activateGradFromOutput(outs[at], c.gradOf, DEFAULT_LEAK);
          want[at] = pre[at] * deriv;
          // S/F, / (G sd), (x - mean), the product and the sum: the appended term's roundings
          // (its parts' errors: S's sum, sd's relative error, the mean's), then the derivative.
          const perDeviation = Math.abs(sum) / (F * G * sd[k]);
          const termErr = (Math.abs(d) / (G * sd[k] * F)) * sErr + Math.abs(own) * (b.sdRel[k] + 8) + perDeviation * b.meanAbs[k];
          scale[at] = (Math.abs(pre[at]) + termErr) * Math.abs(deriv) + (c.gradOf === 'identity' ? 0 : 4 * Math.abs(want[at]));
        }
      }
    }
  }
  return combine([
    compare(got, want, { abs: 0, rel: u, why: `dy plus (S/F)(x - mean)/(G sd): S over ${G * c.positions} values in ceil(n/64) + 6 levels, sd and the mean as the forward; act' 4 u` }, scale),
    sameBits(got, again, 'dx'),
  ]);
}

export const mbstdChecks: Check[] = CASES.flatMap((c, i) => [
  { kernel: 'minibatchStddev', case: caseName(c), slow: c.rows > 64, run: (ctx: GpuContext) => forwardCheck(ctx, c, 9100 + 10 * i) },
  { kernel: 'minibatchStddevBackward', case: caseName(c), slow: c.rows > 64, run: (ctx: GpuContext) => backwardCheck(ctx, c, 9105 + 10 * i) },
]);
