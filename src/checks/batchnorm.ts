// Checks of batch normalisation against float64: the training forward (saved statistics, y,
// running statistics), the backward (dx with every gradOf activation, dgamma and dbeta with and
// without accumulate) and the inference forward, on 1 row, odd sizes, channel counts that are
// not powers of two, 1 to 3 groups and the DCGAN shapes; data with a mean of +-1e3 shows the
// variance has no E[x²] - E[x]² cancellation. Every run is repeated and must give the same bits.
//
// Tolerances are first-order rounding bounds of the order the kernels sum in
// (planBatchNorm): a lane adds `rowsPerLane` values in order, `log2 rowLanes` levels combine
// lanes, `ceil(log2 chunks)` levels of a pairwise tree merge chunks. The statistics are held
// to bounds from that depth on the data's own magnitudes (of x - s, s the group's first value,
// which is what the kernel sums); y and dx are checked against float64 evaluated with the
// GPU's saved statistics, so each bound covers one kernel's own roundings (the statistics
// themselves are checked against the exact ones).

import type { GpuContext } from '../gpu/context.ts';
import { batchNormBackward, batchNormForward, batchNormSavedShape, planBatchNorm, BATCHNORM_EPS, BATCHNORM_MOMENTUM } from '../kernels/batchnorm.ts';
import { DEFAULT_LEAK, type Activation } from '../kernels/common.ts';
import { activate, activateGradFromOutput } from '../reference/activations.ts';
import * as ref from '../reference/batchnorm.ts';
import { createTensor, download, Tensor, tensorFrom, upload } from '../tensor/tensor.ts';
import { combine, compare, EPS32, randomF32, type Check, type CheckResult, type Tolerance } from './check.ts';
import { sameBits } from './reduce.ts';

const u = EPS32;

interface Case {
  rows: number;
  positions: number;
  channels: number;
  groups: number;
  activation: Activation;
  gradOf: Activation;
  accumulate: boolean;
  /** x = offset + spread * uniform(-1, 1); default 0.5 + 2.5 * uniform (a mean away from 0). */
  offset?: number;
  spread?: number;
  momentum?: number;
  eps?: number;
  why?: string;
  /** Force a workgroup layout (default: the adapter's). */
  layout?: 'cpu' | 'gpu';
}

const CASES: readonly Case[] = [
  { rows: 1, positions: 1, channels: 1, groups: 1, activation: 'identity', gradOf: 'identity', accumulate: false, why: 'one value: variance 0, y = beta, dx = 0' },
  { rows: 1, positions: 1, channels: 3, groups: 1, activation: 'sigmoid', gradOf: 'sigmoid', accumulate: true, why: 'one value per channel' },
  { rows: 3, positions: 1, channels: 128, groups: 3, activation: 'relu', gradOf: 'tanh', accumulate: false, why: 'groups of one row' },
  { rows: 1, positions: 49, channels: 3, groups: 1, activation: 'leaky_relu', gradOf: 'relu', accumulate: false },
  { rows: 5, positions: 1, channels: 3, groups: 1, activation: 'tanh', gradOf: 'leaky_relu', accumulate: true, momentum: 0.3 },
  { rows: 7, positions: 49, channels: 3, groups: 1, activation: 'leaky_relu', gradOf: 'sigmoid', accumulate: false, eps: 1e-3 },
  { rows: 6, positions: 49, channels: 64, groups: 3, activation: 'relu', gradOf: 'leaky_relu', accumulate: true },
  { rows: 10, positions: 196, channels: 1, groups: 2, activation: 'sigmoid', gradOf: 'relu', accumulate: false },
  { rows: 33, positions: 5, channels: 7, groups: 1, activation: 'identity', gradOf: 'sigmoid', accumulate: true },
  { rows: 17, positions: 3, channels: 100, groups: 1, activation: 'tanh', gradOf: 'identity', accumulate: false },
  { rows: 65, positions: 1, channels: 64, groups: 5, activation: 'sigmoid', gradOf: 'tanh', accumulate: false },
  { rows: 12, positions: 25, channels: 8, groups: 2, activation: 'leaky_relu', gradOf: 'tanh', accumulate: true, why: 'vec4 lanes, 2 per row' },
  { rows: 3, positions: 50, channels: 4, groups: 1, activation: 'relu', gradOf: 'sigmoid', accumulate: false, why: 'one vec4 lane' },
  { rows: 64, positions: 196, channels: 64, groups: 1, activation: 'relu', gradOf: 'identity', accumulate: false, why: 'DCGAN 14x14x64' },
  { rows: 64, positions: 49, channels: 128, groups: 1, activation: 'relu', gradOf: 'relu', accumulate: false, why: 'DCGAN 7x7x128' },
  { rows: 128, positions: 49, channels: 128, groups: 2, activation: 'leaky_relu', gradOf: 'leaky_relu', accumulate: true, why: 'real and fake halves' },
  { rows: 128, positions: 1, channels: 1024, groups: 1, activation: 'relu', gradOf: 'identity', accumulate: false, why: 'dense' },
  { rows: 64, positions: 1, channels: 1024, groups: 2, activation: 'tanh', gradOf: 'sigmoid', accumulate: true, why: 'dense, two groups' },
  { rows: 64, positions: 784, channels: 1, groups: 1, activation: 'tanh', gradOf: 'tanh', accumulate: false, why: '28x28x1' },
  { rows: 9, positions: 784, channels: 1, groups: 3, activation: 'identity', gradOf: 'sigmoid', accumulate: false },
  { rows: 64, positions: 784, channels: 3, groups: 1, activation: 'leaky_relu', gradOf: 'relu', accumulate: false, why: '28x28x3' },
  { rows: 64, positions: 49, channels: 3, groups: 2, activation: 'identity', gradOf: 'identity', accumulate: false, offset: 1e3, spread: 0.1, why: 'mean 1e3, std 0.06' },
  { rows: 16, positions: 49, channels: 64, groups: 1, activation: 'sigmoid', gradOf: 'leaky_relu', accumulate: true, offset: -1e3, spread: 1, why: 'mean -1e3' },
];

function caseName(c: Case): string {
  const shape = `[${c.rows}, ${c.positions}x${c.channels}] groups ${c.groups}`;
  return `${shape} ${c.activation}${c.why ? ` (${c.why})` : ''}${c.layout ? `, ${c.layout} layout` : ''}`;
}

/** Host data and GPU tensors of one case. */
interface Setup {
  c: Case;
  xs: Float32Array;
  gammas: Float32Array;
  betas: Float32Array;
  runMean0: Float32Array;
  runVar0: Float32Array;
  momentum: number;
  eps: number;
  layout: ref.BatchNormLayout;
  x: Tensor;
  gamma: Tensor;
  beta: Tensor;
  y: Tensor;
  saved: Tensor;
  runMean: Tensor;
  runVar: Tensor;
  created: Tensor[];
}

function setup(ctx: GpuContext, c: Case, seed: number): Setup {
  const F = c.positions * c.channels;
  const n = c.rows * F;
  const spread = c.spread ?? 2.5;
  const xs = Float32Array.from(randomF32(n, seed, -1, 1), (v) => (c.offset ?? 0.5) + spread * v);
  const gammas = randomF32(c.channels, seed + 1, -1.5, 1.5);
  const betas = randomF32(c.channels, seed + 2, -1, 1);
  const runMean0 = randomF32(c.channels, seed + 3, -1, 1);
  const runVar0 = randomF32(c.channels, seed + 4, 0.5, 2);
  const x = tensorFrom(ctx, xs, [c.rows, F], 'x');
  const gamma = tensorFrom(ctx, gammas, [c.channels], 'gamma');
  const beta = tensorFrom(ctx, betas, [1, c.channels], 'beta');
  const y = createTensor(ctx, [c.rows, F], 'f32', 'y');
  const saved = createTensor(ctx, batchNormSavedShape(c.groups, c.channels), 'f32', 'saved');
  const runMean = createTensor(ctx, [c.channels], 'f32', 'running mean');
  const runVar = createTensor(ctx, [c.channels], 'f32', 'running var');
  return {
    c, xs, gammas, betas, runMean0, runVar0,
    momentum: c.momentum ?? BATCHNORM_MOMENTUM,
    eps: c.eps ?? BATCHNORM_EPS,
    layout: { rows: c.rows, channels: c.channels, groups: c.groups },
    x, gamma, beta, y, saved, runMean, runVar,
    created: [x, gamma, beta, y, saved, runMean, runVar],
  };
}

function forwardSteps(ctx: GpuContext, s: Setup, training: boolean) {
  return batchNormForward(ctx, s.x, s.gamma, s.beta, s.y, s.saved, { mean: s.runMean, var: s.runVar }, {
    channels: s.c.channels,
    groups: s.c.groups,
    training,
    momentum: s.momentum,
    eps: s.eps,
    activation: s.c.activation,
    layout: s.c.layout,
  });
}

function resetRunning(ctx: GpuContext, s: Setup): void {
  upload(ctx, s.runMean, s.runMean0);
  upload(ctx, s.runVar, s.runVar0);
}

/** The saved statistics as float64 per group and channel: mean = shift + offset exactly. */
function savedStats(saved: Float32Array, groups: number, channels: number) {
  const gc = groups * channels;
  return {
    shift: saved.subarray(0, gc),
    offset: saved.subarray(gc, 2 * gc),
    mean: Float64Array.from(saved.subarray(0, gc), (v, k) => v + saved[gc + k]),
    invstd: saved.subarray(2 * gc, 3 * gc),
  };
}

/** The plan's summation depths, from which every bound below is built. */
function depths(ctx: GpuContext, s: Setup) {
  const m = (s.c.rows / s.c.groups) * s.c.positions;
  const plan = planBatchNorm(m, s.c.channels, (s.c.layout ?? (ctx.adapter.isCpu ? 'cpu' : 'gpu')) === 'cpu');
  const chunk = plan.rowsPerLane + Math.log2(plan.rowLanes);
  const levels = Math.ceil(Math.log2(plan.chunks));
  // A chunk mean: its sum, d = x - s and the division (WGSL allows 2.5 ulp: 5 u); each merge
  // level of Chan's update adds up to 11 u of the larger mean's magnitude (delta, the weight's
  // division, the product, the sum).
  const mean = chunk + 6 + 11 * levels;
  // M2: the chunk's squares and sum (chunk + 5, of sum (|d| + A)²); each merge level up to
  // 12 u of the merged M2, plus the means' errors through delta² (4 * mean); / n adds 5 u.
  const m2 = chunk + 10 + levels * (12 + 4 * mean);
  return { plan, m, chunk, levels, mean, m2 };
}

/** Per group and channel: A = the largest chunk mean of |x - s|, Q = sum (|x - s| + A)². */
function magnitudes(s: Setup, chunkRows: number, m: number) {
  const { groups: G, channels: C } = s.c;
  const amax = new Float64Array(G * C);
  const q = new Float64Array(G * C);
  for (let g = 0; g < G; g++) {
    for (let c = 0; c < C; c++) {
      const at = (r: number) => s.xs[(g * m + r) * C + c];
      const shift = at(0);
      let a = 0;
      for (let first = 0; first < m; first += chunkRows) {
        const end = Math.min(first + chunkRows, m);
        let sum = 0;
        for (let r = first; r < end; r++) sum += Math.abs(at(r) - shift);
        a = Math.max(a, sum / (end - first));
      }
      let qs = 0;
      for (let r = 0; r < m; r++) qs += (Math.abs(at(r) - shift) + a) ** 2;
      amax[g * C + c] = a;
      q[g * C + c] = qs;
    }
  }
  return { amax, q };
}

function isTranscendental(act: Activation): boolean {
  return act === 'sigmoid' || act === 'tanh';
}

/** The slope bound of an activation (how far an input error can move the output). */
function slope(act: Activation): number {
  return act === 'sigmoid' ? 0.25 : act === 'leaky_relu' ? Math.max(1, Math.abs(DEFAULT_LEAK)) : 1;
}

/** Per element: the first-order bound (in units of u) of y from its pre-activation error u * bz. */
function outputScale(act: Activation, bz: number, y: number): number {
  // exp/tanh: 8 ulp relative (16 u each) as the activation checks allow; leaky: one product.
  const own = isTranscendental(act) ? 128 * Math.abs(y) : act === 'leaky_relu' ? Math.abs(y) : 0;
  return slope(act) * bz + own;
}

async function forwardCheck(ctx: GpuContext, c: Case, seed: number): Promise<CheckResult> {
  const s = setup(ctx, c, seed);
  const { groups: G, channels: C } = c;
  const steps = forwardSteps(ctx, s, true);
  resetRunning(ctx, s);
  ctx.run(steps);
  const [y, saved, rm, rv] = [await download(ctx, s.y), await download(ctx, s.saved), await download(ctx, s.runMean), await download(ctx, s.runVar)];
  resetRunning(ctx, s);
  ctx.run(steps);
  const [y2, saved2, rm2, rv2] = [await download(ctx, s.y), await download(ctx, s.saved), await download(ctx, s.runMean), await download(ctx, s.runVar)];
  for (const t of s.created) t.buffer.destroy();

  const want = ref.batchNormForward(s.xs, s.gammas, s.betas, s.layout, {
    training: true, running: { mean: s.runMean0, var: s.runVar0 }, momentum: s.momentum, eps: s.eps, activation: c.activation, leak: DEFAULT_LEAK,
  });
  const stats = want.stats!;
  const d = depths(ctx, s);
  const { amax, q } = magnitudes(s, d.plan.chunkRows, d.m);
  const got = savedStats(saved, G, C);

  // The mean: depth d.mean of A (the kernel sums x - s, so a mean of 1e3 costs nothing).
  const meanTol: Tolerance = { abs: 0, rel: u, why: `mean: ${d.mean} roundings (lane ${d.plan.rowsPerLane}, lanes ${d.plan.rowLanes}, ${d.plan.chunks} chunks) of A = max chunk mean |x - s|` };
  const meanCheck = compare(got.mean, stats.mean, meanTol, amax.map((a) => d.mean * a));
  // invstd: half the variance's relative error, + inverseSqrt's 2 ulp (4 u) and var + eps.
  const invTol: Tolerance = { abs: 0, rel: u, why: `invstd: (${d.m2} u sum (|x - s| + A)² / n) / 2(var + eps) + 5 u; no E[x²] term` };
  const invCheck = compare(got.invstd, stats.invstd, invTol, stats.invstd.map((inv, k) => inv * ((d.m2 * q[k]) / stats.n / (2 * (stats.var[k] + s.eps)) + 5)));

  // y against float64 from the GPU's own statistics: z = gamma ((x - s) - offset) invstd + beta
  // rounds 5 times (the first two at the scale of x - s, not of x).
  const yWant = new Float64Array(y.length);
  const yScale = new Float64Array(y.length);
  const m = d.m;
  for (let g = 0; g < G; g++) {
    for (let ch = 0; ch < C; ch++) {
      const k = g * C + ch;
      for (let r = 0; r < m; r++) {
        const i = (g * m + r) * C + ch;
        const dxs = s.xs[i] - got.shift[k];
        const xhat = (dxs - got.offset[k]) * got.invstd[k];
        const z = s.gammas[ch] * xhat + s.betas[ch];
        yWant[i] = activate(z, c.activation, DEFAULT_LEAK);
        const bz = Math.abs(s.gammas[ch]) * got.invstd[k] * (Math.abs(dxs) + Math.abs(dxs - got.offset[k])) + 2 * Math.abs(s.gammas[ch] * xhat) + Math.abs(z);
        yScale[i] = outputScale(c.activation, bz, yWant[i]);
      }
    }
  }
  const yTol: Tolerance = {
    abs: isTranscendental(c.activation) ? 1e-6 : 0,
    rel: u,
    why: `y from the saved statistics: 5 roundings of gamma ((x - s) - offset) invstd + beta through the activation's slope${isTranscendental(c.activation) ? ', + 8 ulp and 1e-6 abs for exp' : ''}`,
  };

  // Running statistics: the batch mean / unbiased variance averaged over groups, then the update.
  const mom = s.momentum;
  const n = stats.n;
  const rmScale = new Float64Array(C);
  const rvScale = new Float64Array(C);
  for (let ch = 0; ch < C; ch++) {
    let maxA = 0, maxMean = 0, maxQ = 0, maxVar = 0;
    for (let g = 0; g < G; g++) {
      const k = g * C + ch;
      maxA = Math.max(maxA, amax[k]);
      maxMean = Math.max(maxMean, Math.abs(stats.mean[k]));
      maxQ = Math.max(maxQ, q[k]);
      maxVar = Math.max(maxVar, n > 1 ? (stats.var[k] * n) / (n - 1) : 0);
    }
    const avgMean = Math.abs(want.runningMean[ch] - (1 - mom) * s.runMean0[ch]) / Math.max(mom, 1e-30);
    const avgVar = Math.abs(want.runningVar[ch] - (1 - mom) * s.runVar0[ch]) / Math.max(mom, 1e-30);
    rmScale[ch] = mom * (d.mean * maxA + (G + 2) * maxMean) + 3 * (Math.abs((1 - mom) * s.runMean0[ch]) + mom * avgMean);
    rvScale[ch] = mom * ((n > 1 ? (d.m2 * maxQ) / (n - 1) : 0) + (G + 6) * maxVar) + 3 * (Math.abs((1 - mom) * s.runVar0[ch]) + mom * avgVar);
  }
  const runTol: Tolerance = { abs: 0, rel: u, why: 'running statistics: the batch statistics\' bounds times momentum, G + 2 roundings of the group average, 3 of the update' };

  return combine([
    meanCheck,
    invCheck,
    compare(y, yWant, yTol, yScale),
    compare(rm, want.runningMean, runTol, rmScale),
    compare(rv, want.runningVar, runTol, rvScale),
    sameBits(y, y2, 'y'),
    sameBits(saved, saved2, 'saved statistics'),
    sameBits(rm, rm2, 'running mean'),
    sameBits(rv, rv2, 'running var'),
  ]);
}

/** A plausible saved output of x's producer for gradOf, rounded to f32 (zeros hit relu's kink). */
function producerOutput(count: number, act: Activation, seed: number): Float32Array {
  const v = randomF32(count, seed, -3, 3);
  for (let i = 0; i < count; i += 7) v[i] = 0;
  return Float32Array.from(v, (t) => activate(t, act, DEFAULT_LEAK));
}

/** |error| / u of act'(o) computed in f32 from the f32 output o. */
function gradFactorError(act: Activation, o: number, factor: number): number {
  switch (act) {
    case 'identity':
    case 'relu':
      return 0;
    case 'leaky_relu':
      return Math.abs(factor); // the slope rounded to f32
    case 'sigmoid':
      return 2 * Math.abs(factor); // 1 - o, then the product
    case 'tanh':
      return o * o + Math.abs(factor); // o o, then 1 - it
  }
}

async function backwardCheck(ctx: GpuContext, c: Case, seed: number): Promise<CheckResult> {
  const s = setup(ctx, c, seed);
  const { groups: G, channels: C } = c;
  const size = s.xs.length;
  const dys = randomF32(size, seed + 5);
  const outs = producerOutput(size, c.gradOf, seed + 6);
  const initial = c.accumulate ? [randomF32(C, seed + 7), randomF32(C, seed + 8)] : [new Float32Array(C).fill(NaN), new Float32Array(C).fill(NaN)];
  const dy = tensorFrom(ctx, dys, s.x.shape, 'dy');
  const out = tensorFrom(ctx, outs, s.x.shape, 'producer output');
  const dx = createTensor(ctx, s.x.shape, 'f32', 'dx');
  // dgamma and dbeta as views of one flat gradient buffer, as a network holds them.
  const rowFloats = Math.ceil(C / 64) * 64;
  const flat = createTensor(ctx, [2, rowFloats], 'f32', 'gradients');
  const dgammaView = new Tensor(flat.buffer, [C], 'f32', 'dgamma', 0);
  const dbetaView = new Tensor(flat.buffer, [C], 'f32', 'dbeta', rowFloats * 4);
  s.created.push(dy, out, dx, flat);
  const steps = [
    ...forwardSteps(ctx, s, true),
    ...batchNormBackward(ctx, dy, s.x, s.gamma, s.saved, dx, dgammaView, dbetaView, {
      channels: C,
      groups: G,
      // Identity's derivative is 1: those cases pass no gradOf at all.
      gradOf: c.gradOf === 'identity' ? undefined : { output: out, activation: c.gradOf },
      accumulate: c.accumulate,
      layout: c.layout,
    }),
  ];
  const run = async () => {
    resetRunning(ctx, s);
    upload(ctx, dgammaView, initial[0]);
    upload(ctx, dbetaView, initial[1]);
    ctx.run(steps);
    return [await download(ctx, dx), await download(ctx, dgammaView), await download(ctx, dbetaView), await download(ctx, s.saved)] as const;
  };
  const [dxGot, dgGot, dbGot, saved] = await run();
  const [dxAgain, dgAgain, dbAgain] = await run();
  for (const t of s.created) t.buffer.destroy();

  const got = savedStats(saved, G, C);
  const want = ref.batchNormBackward(dys, s.xs, s.gammas, got, s.layout, { output: outs, activation: c.gradOf, leak: DEFAULT_LEAK });
  const d = depths(ctx, s);
  const m = d.m;
  const n = m;
  // Sums of a group: the chunk depth and the merge tree.
  const sumDepth = d.chunk + d.levels;
  const dxScale = new Float64Array(size);
  const dgScale = Float64Array.from(c.accumulate ? initial[0] : new Float32Array(C), Math.abs);
  const dbScale = Float64Array.from(c.accumulate ? initial[1] : new Float32Array(C), Math.abs);
  for (let g = 0; g < G; g++) {
    for (let ch = 0; ch < C; ch++) {
      const k = g * C + ch;
      const at = (r: number) => (g * m + r) * C + ch;
      // xhat's bound X (in u): x - s, minus the offset, times invstd.
      const xhatOf = (i: number) => (s.xs[i] - got.shift[k] - got.offset[k]) * got.invstd[k];
      const boundX = (i: number) => got.invstd[k] * (Math.abs(s.xs[i] - got.shift[k]) + Math.abs(s.xs[i] - got.shift[k] - got.offset[k])) + Math.abs(xhatOf(i));
      let s1 = 0, s2 = 0, abs1 = 0, err2 = 0, abs2 = 0;
      for (let r = 0; r < m; r++) {
        const i = at(r);
        const xh = xhatOf(i);
        s1 += dys[i];
        s2 += dys[i] * xh;
        abs1 += Math.abs(dys[i]);
        abs2 += Math.abs(dys[i] * xh);
        err2 += Math.abs(dys[i]) * (boundX(i) + (sumDepth + 1) * Math.abs(xh));
      }
      dbScale[ch] += (sumDepth + G) * abs1;
      dgScale[ch] += err2 + G * abs2;
      // |Δ(s1 / n)| / u and |Δ(s2 / n)| / u: the sums' bounds, and the division's 2.5 ulp.
      const errA = (sumDepth * abs1) / n + 5 * Math.abs(s1 / n);
      const errB = err2 / n + 5 * Math.abs(s2 / n);
      const kf = s.gammas[ch] * got.invstd[k];
      for (let r = 0; r < m; r++) {
        const i = at(r);
        const xh = xhatOf(i);
        const t = dys[i] - s1 / n - xh * (s2 / n);
        const boundT = Math.abs(dys[i] - s1 / n) + errA + boundX(i) * Math.abs(s2 / n) + Math.abs(xh) * errB + Math.abs(xh * (s2 / n)) + Math.abs(t);
        const factor = activateGradFromOutput(outs[i], c.gradOf, DEFAULT_LEAK);
        dxScale[i] = Math.abs(factor) * (Math.abs(kf) * boundT + 3 * Math.abs(kf * t)) + Math.abs(kf * t) * gradFactorError(c.gradOf, outs[i], factor);
      }
    }
  }
  const dgWant = Float64Array.from(want.dgamma, (v, ch) => v + (c.accumulate ? initial[0][ch] : 0));
  const dbWant = Float64Array.from(want.dbeta, (v, ch) => v + (c.accumulate ? initial[1][ch] : 0));
  const sumTol: Tolerance = { abs: 0, rel: u, why: `sum depth ${sumDepth} (lane ${d.plan.rowsPerLane}, lanes ${d.plan.rowLanes}, ${d.plan.chunks} chunks) + ${G} groups + accumulate, of sum |terms|; xhat's 3 roundings` };
  const dxTol: Tolerance = { abs: 0, rel: u, why: 'dx from the saved statistics: the sums\' bounds / n, xhat\'s 3 roundings, 5 of the expression, act\'(o)\'s own' };
  return combine([
    compare(dxGot, want.dx, dxTol, dxScale),
    compare(dgGot, dgWant, sumTol, dgScale),
    compare(dbGot, dbWant, sumTol, dbScale),
    sameBits(dxGot, dxAgain, 'dx'),
    sameBits(dgGot, dgAgain, 'dgamma'),
    sameBits(dbGot, dbAgain, 'dbeta'),
  ]);
}

async function inferenceCheck(ctx: GpuContext, c: Case, seed: number): Promise<CheckResult> {
  const s = setup(ctx, c, seed);
  resetRunning(ctx, s);
  const steps = forwardSteps(ctx, s, false);
  ctx.run(steps);
  const [y, rm, rv] = [await download(ctx, s.y), await download(ctx, s.runMean), await download(ctx, s.runVar)];
  ctx.run(steps);
  const y2 = await download(ctx, s.y);
  for (const t of s.created) t.buffer.destroy();

  const want = ref.batchNormForward(s.xs, s.gammas, s.betas, s.layout, {
    training: false, running: { mean: s.runMean0, var: s.runVar0 }, momentum: s.momentum, eps: s.eps, activation: c.activation, leak: DEFAULT_LEAK,
  });
  const C = c.channels;
  const yScale = Float64Array.from(want.y, (yi, i) => {
    const ch = i % C;
    const gx = (s.gammas[ch] * (s.xs[i] - s.runMean0[ch])) / Math.sqrt(s.runVar0[ch] + s.eps);
    return outputScale(c.activation, 8 * Math.abs(gx) + Math.abs(gx + s.betas[ch]), yi);
  });
  const tol: Tolerance = {
    abs: isTranscendental(c.activation) ? 1e-6 : 0,
    rel: u,
    why: `x - mean, inverseSqrt (2 ulp) of var + eps, 3 more roundings, through the activation's slope${isTranscendental(c.activation) ? ', + 8 ulp and 1e-6 abs for exp' : ''}`,
  };
  return combine([
    compare(y, want.y, tol, yScale),
    compare(rm, s.runMean0, { abs: 0, rel: 0, why: 'inference leaves the running statistics alone' }),
    compare(rv, s.runVar0, { abs: 0, rel: 0, why: 'inference leaves the running statistics alone' }),
    sameBits(y, y2, 'y'),
  ]);
}

/**
 * Cases run again with each layout forced, so an adapter checks the other kind's too: CPU
 * layouts sum a chunk in one lane, GPU layouts split it over up to 256 lanes and a tree.
 */
const LAYOUT_CASES: readonly Case[] = [2, 5, 7, 9, 11, 12, 14, 18, 21, 22].flatMap((i) => (['cpu', 'gpu'] as const).map((layout) => ({ ...CASES[i], layout })));

const INFERENCE_CASES: readonly Case[] = [
  CASES[0],
  { ...CASES[5], activation: 'sigmoid' },
  { ...CASES[8], activation: 'tanh' },
  { ...CASES[13], activation: 'leaky_relu' },
  CASES[16],
  { ...CASES[18], activation: 'identity' },
  { ...CASES[14], layout: 'cpu' },
  { ...CASES[14], layout: 'gpu' },
];

const ALL_CASES = [...CASES, ...LAYOUT_CASES];

export const batchNormChecks: Check[] = [
  ...ALL_CASES.map((c, i): Check => ({ kernel: 'batchNorm forward', case: caseName(c), run: (ctx) => forwardCheck(ctx, c, 101 + 17 * i) })),
  ...ALL_CASES.map((c, i): Check => ({ kernel: 'batchNorm backward', case: `${caseName(c)}, ${c.gradOf === 'identity' ? 'no gradOf' : `gradOf ${c.gradOf}`}${c.accumulate ? ', accumulate' : ''}`, run: (ctx) => backwardCheck(ctx, c, 211 + 17 * i) })),
  ...INFERENCE_CASES.map((c, i): Check => ({ kernel: 'batchNorm inference', case: caseName(c), run: (ctx) => inferenceCheck(ctx, c, 307 + 17 * i) })),
];
