// The float64 batch normalisation twin against itself and against torch's conventions: its
// backward (with the fused activations on both sides) must match central differences of its
// forward, and a hand-worked example fixes the statistics torch.nn.BatchNorm2d keeps. The GPU
// kernels are held to this twin by src/checks/batchnorm.ts (test/kernels.test.ts); the last
// tests here check what recording them allocates.

import { afterAll, beforeAll, describe, expect, test } from 'vitest';
import { hostRandom } from '../src/checks/check.ts';
import type { GpuContext } from '../src/gpu/context.ts';
import { batchNormBackward, batchNormForward, batchNormSavedShape } from '../src/kernels/batchnorm.ts';
import { ACTIVATIONS, DEFAULT_LEAK, type Activation } from '../src/kernels/common.ts';
import { activate, activateGradFromOutput } from '../src/reference/activations.ts';
import * as ref from '../src/reference/batchnorm.ts';
import { TensorPool } from '../src/tensor/pool.ts';
import { openTestContext } from './gpu.ts';

interface FdCase {
  rows: number;
  positions: number;
  channels: number;
  groups: number;
  /** The fused activation after gamma * xhat + beta. */
  activation: Activation;
  /** The activation of x's producer (x = act(u)), undone in backward by gradOf. */
  producer: Activation;
}

const FD_CASES: readonly FdCase[] = [
  { rows: 1, positions: 1, channels: 2, groups: 1, activation: 'identity', producer: 'identity' },
  { rows: 4, positions: 1, channels: 3, groups: 1, activation: 'sigmoid', producer: 'tanh' },
  { rows: 2, positions: 5, channels: 2, groups: 1, activation: 'tanh', producer: 'sigmoid' },
  { rows: 6, positions: 3, channels: 2, groups: 2, activation: 'leaky_relu', producer: 'relu' },
  { rows: 6, positions: 2, channels: 3, groups: 3, activation: 'relu', producer: 'leaky_relu' },
  { rows: 3, positions: 4, channels: 1, groups: 3, activation: 'identity', producer: 'identity' },
];

function randoms(n: number, seed: number, lo: number, hi: number): Float64Array {
  const next = hostRandom(seed);
  return Float64Array.from({ length: n }, () => lo + (hi - lo) * next());
}

/** Values in +-[0.05, 2]: away from relu's kink, so central differences see one side. */
function awayFromZero(n: number, seed: number): Float64Array {
  const next = hostRandom(seed);
  return Float64Array.from({ length: n }, () => (next() < 0.5 ? -1 : 1) * (0.05 + 1.95 * next()));
}

const EPS = 1e-5;
const H = 1e-5;

/** Central difference of loss() in values[i] (perturbed in place and restored). */
function centralDifference(values: Float64Array, i: number, loss: () => number): number {
  const v = values[i];
  values[i] = v + H;
  const up = loss();
  values[i] = v - H;
  const down = loss();
  values[i] = v;
  return (up - down) / (2 * H);
}

describe('float64 batch normalisation: backward against central differences of forward', () => {
  test.each(FD_CASES.map((c) => [`[${c.rows}, ${c.positions}x${c.channels}] groups ${c.groups}, ${c.activation} after, ${c.producer} before`, c] as const))('%s', (_, c) => {
    const layout = { rows: c.rows, channels: c.channels, groups: c.groups };
    const size = c.rows * c.positions * c.channels;
    const u = awayFromZero(size, 1 + size);
    const gamma = randoms(c.channels, 2 + size, -1.5, 1.5);
    const beta = randoms(c.channels, 3 + size, -1, 1);
    const w = randoms(size, 4 + size, -1, 1);
    const running = { mean: new Float64Array(c.channels), var: new Float64Array(c.channels).fill(1) };
    const args = { training: true, running, momentum: 0.1, eps: EPS, activation: c.activation, leak: DEFAULT_LEAK };
    // L = sum w * act(BN(act_p(u))): the producer's activation, then BN with its fused one.
    const forward = () => {
      const x = u.map((v) => activate(v, c.producer, DEFAULT_LEAK));
      return { x, ...ref.batchNormForward(x, gamma, beta, layout, args) };
    };
    const loss = () => forward().y.reduce((sum, y, i) => sum + w[i] * y, 0);

    const { x, y, stats } = forward();
    // The caller's convention: dy is with respect to gamma xhat + beta, act' already applied.
    const dy = w.map((wi, i) => wi * activateGradFromOutput(y[i], c.activation, DEFAULT_LEAK));
    const grads = ref.batchNormBackward(dy, x, gamma, stats!, layout, { output: x, activation: c.producer, leak: DEFAULT_LEAK });

    const close = (got: number, want: number, what: string) => {
      expect(Math.abs(got - want), `${what}: analytic ${got}, numeric ${want}`).toBeLessThanOrEqual(1e-6 + 1e-6 * Math.abs(want));
    };
    for (let i = 0; i < size; i++) close(grads.dx[i], centralDifference(u, i, loss), `dx[${i}]`);
    for (let ch = 0; ch < c.channels; ch++) {
      close(grads.dgamma[ch], centralDifference(gamma, ch, loss), `dgamma[${ch}]`);
      close(grads.dbeta[ch], centralDifference(beta, ch, loss), `dbeta[${ch}]`);
    }
  });

  test('one value per group: y = act(beta), dx = 0, dgamma = 0, dbeta = sum dy', () => {
    const layout = { rows: 2, channels: 3, groups: 2 };
    const x = [0.3, -2, 7, 1e3, 5, -0.5];
    const gamma = [2, -1, 0.5];
    const beta = [0.25, -0.75, 1.5];
    const out = ref.batchNormForward(x, gamma, beta, layout, {
      training: true, running: { mean: [1, 1, 1], var: [2, 2, 2] }, momentum: 0.5, eps: EPS, activation: 'relu', leak: DEFAULT_LEAK,
    });
    expect(Array.from(out.y)).toEqual([0.25, 0, 1.5, 0.25, 0, 1.5]);
    // No variance to unbias: the running variance decays toward 0.
    expect(Array.from(out.runningVar)).toEqual([1, 1, 1]);
    const dy = [1, 2, 3, 4, 5, 6];
    const grads = ref.batchNormBackward(dy, x, gamma, out.stats!, layout);
    // (gamma < 0 gives -0)
    expect(Array.from(grads.dx, Math.abs)).toEqual([0, 0, 0, 0, 0, 0]);
    expect(Array.from(grads.dgamma, Math.abs)).toEqual([0, 0, 0]);
    expect(Array.from(grads.dbeta)).toEqual([5, 7, 9]);
  });
});

describe('float64 batch normalisation: torch.nn.BatchNorm2d conventions', () => {
  test('biased variance to normalise, unbiased variance in the running statistics', () => {
    // One channel, four values 1..4: mean 2.5, biased variance 1.25, unbiased 5/3.
    const out = ref.batchNormForward([1, 2, 3, 4], [1], [0], { rows: 4, channels: 1, groups: 1 }, {
      training: true, running: { mean: [0], var: [1] }, momentum: 0.1, eps: 0, activation: 'identity', leak: DEFAULT_LEAK,
    });
    const s = Math.sqrt(1.25);
    expect(Array.from(out.y).map((v) => v * s)).toEqual([-1.5, -0.5, 0.5, 1.5].map((v) => expect.closeTo(v, 14)));
    expect(out.runningMean[0]).toBeCloseTo(0.25, 14);
    expect(out.runningVar[0]).toBeCloseTo(0.9 + 0.1 * (5 / 3), 14);
  });

  test('NHWC: channels are the fastest index; groups average their statistics into the running ones', () => {
    // Two rows of two positions and two channels, two groups of one row each.
    const x = [1, 10, 3, 30, /* row 2 */ 5, 50, 9, 90];
    const out = ref.batchNormForward(x, [1, 1], [0, 0], { rows: 2, channels: 2, groups: 2 }, {
      training: true, running: { mean: [0, 0], var: [0, 0] }, momentum: 1, eps: 0, activation: 'identity', leak: DEFAULT_LEAK,
    });
    // Group 0: channel 0 {1, 3}, channel 1 {10, 30}; group 1: {5, 9}, {50, 90}.
    expect(Array.from(out.stats!.mean)).toEqual([2, 20, 7, 70]);
    expect(Array.from(out.stats!.var)).toEqual([1, 100, 4, 400]);
    expect(Array.from(out.y)).toEqual([-1, -1, 1, 1, -1, -1, 1, 1]);
    // Unbiased variances 2, 200 and 8, 800, averaged over the groups.
    expect(Array.from(out.runningMean)).toEqual([4.5, 45]);
    expect(Array.from(out.runningVar)).toEqual([5, 500]);
  });

  test('inference normalises with the running statistics and keeps them', () => {
    const out = ref.batchNormForward([3, -1], [2, 2], [1, 1], { rows: 1, channels: 2, groups: 1 }, {
      training: false, running: { mean: [1, -1], var: [4, 9] }, momentum: 0.1, eps: 0, activation: 'identity', leak: DEFAULT_LEAK,
    });
    expect(Array.from(out.y)).toEqual([3, 1]);
    expect(Array.from(out.runningMean)).toEqual([1, -1]);
    expect(Array.from(out.runningVar)).toEqual([4, 9]);
    expect(out.stats).toBeUndefined();
  });

  test('every activation has a derivative from its output', () => {
    for (const act of ACTIVATIONS) expect(Number.isFinite(activateGradFromOutput(activate(0.5, act, DEFAULT_LEAK), act, DEFAULT_LEAK))).toBe(true);
  });
});

describe('recording the GPU kernels', () => {
  let ctx: GpuContext;
  let pool: TensorPool;
  beforeAll(async () => {
    ctx = await openTestContext();
    pool = new TensorPool(ctx);
  });
  afterAll(async () => {
    pool?.destroy();
    await ctx?.destroy();
  });

  test('scratch comes from the pool once; a second layer of the same shape adds buffers but no pipelines', () => {
    const [rows, F, C] = [8, 4 * 16, 16];
    const t = (shape: number[], label: string) => pool.acquire(shape, 'f32', label);
    const x = t([rows, F], 'x');
    const y = t([rows, F], 'y');
    const dy = t([rows, F], 'dy');
    const dx = t([rows, F], 'dx');
    const [gamma, beta, rm, rv, dgamma, dbeta] = ['gamma', 'beta', 'rm', 'rv', 'dgamma', 'dbeta'].map((l) => t([C], l));
    const saved = t([...batchNormSavedShape(2, C)], 'saved');
    const record = () => [
      ...batchNormForward(ctx, x, gamma, beta, y, saved, { mean: rm, var: rv }, { channels: C, groups: 2, training: true, activation: 'relu', pool }),
      ...batchNormBackward(ctx, dy, x, gamma, saved, dx, dgamma, dbeta, { channels: C, groups: 2, gradOf: { output: x, activation: 'tanh' }, pool }),
    ];
    const before = pool.created;
    const steps = record();
    expect(steps.length).toBe(6);
    // One partials tensor forward, partials and per-group sums backward.
    expect(pool.created - before).toBe(3);
    const pipelines = ctx.pipelinesCreated;
    record();
    expect(ctx.pipelinesCreated).toBe(pipelines);
    expect(batchNormForward(ctx, x, gamma, beta, y, saved, { mean: rm, var: rv }, { channels: C, groups: 2, training: false })).toHaveLength(1);
  });
});
