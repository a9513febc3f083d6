// Finite-difference checks of backpropagation composed from the kernels: the GPU's parameter
// gradients must match central differences of the float64 loss at the same weights.

import { afterAll, beforeAll, describe, expect, test } from 'vitest';
import { hostRandom, randomF32 } from '../src/checks/check.ts';
import type { GpuContext } from '../src/gpu/context.ts';
import { copyColumns, oneHot } from '../src/kernels/columns.ts';
import { bceWithLogitsGrad } from '../src/kernels/losses.ts';
import { Network, type NetworkSpec } from '../src/nn/network.ts';
import { bceWithLogitsLoss } from '../src/reference/losses.ts';
import { refForward, type RefNet } from '../src/reference/network.ts';
import { refNetOf } from './ref-net.ts';
import { TensorPool } from '../src/tensor/pool.ts';
import { download } from '../src/tensor/tensor.ts';
import { openTestContext } from './gpu.ts';

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

const toReference = (net: Network) => refNetOf(ctx, net);
const refBceMean = (logits: Float64Array, labels: ArrayLike<number>) => bceWithLogitsLoss(logits, labels, 1 / logits.length);
const outputOf = (net: RefNet, x: Float64Array, rows: number, logits = false) => refForward(net, x, rows, { logits }).at(-1)!;

/** Expects every parameter gradient of `net` to match finite differences of `loss` in `ref`. */
async function expectParamGrads(prefix: string, net: Network, ref: RefNet, loss: () => number): Promise<void> {
  for (const [key, t] of net.grads.byKey) expectClose(`${prefix}${key}`, await download(ctx, t), finiteDifferences(ref.params.get(key)!, loss));
}

/** Central difference of `loss` with respect to every entry of `values` (perturbed in place). */
function finiteDifferences(values: Float64Array, loss: () => number, h = 1e-6): Float64Array {
  return values.map((v, i) => {
    values[i] = v + h;
    const up = loss();
    values[i] = v - h;
    const down = loss();
    values[i] = v;
    return (up - down) / (2 * h);
  });
}

// The GPU computes in f32: forward values carry ~1e-7 relative error and the sums of the
// backward pass a few more ulps; central differences in float64 with h = 1e-6 are accurate to
// ~1e-9. A wrong index or a missing activation derivative is off by O(1).
const ABS = 2e-6;
const REL = 1e-4;

function expectClose(name: string, got: ArrayLike<number>, want: ArrayLike<number>): void {
  expect(got.length).toBe(want.length);
  for (let i = 0; i < want.length; i++) {
    const err = Math.abs(got[i] - want[i]);
    expect(err, `${name}[${i}]: gpu ${got[i]} vs finite difference ${want[i]}`).toBeLessThanOrEqual(ABS + REL * Math.abs(want[i]));
  }
}

function labelsFor(rows: number): Float32Array {
  return Float32Array.from({ length: rows }, (_, i) => i % 2);
}

describe('network backward against finite differences (float64)', () => {
  // [name, spec, blocks]: with blocks, batch norm normalises each block of rows by itself.
  const specs: [string, NetworkSpec, number][] = [
    ['2 layers, tanh -> logit', { input: 6, layers: [{ units: 9, activation: 'tanh' }, { units: 1, activation: 'sigmoid' }], init: 'xavier' }, 1],
    ['3 layers, leaky relu and sigmoid', { input: 5, layers: [{ units: 7, activation: 'leaky_relu' }, { units: 4, activation: 'sigmoid' }, { units: 1, activation: 'sigmoid' }], init: 'dlt' }, 1],
    [
      'dense, batch norm with leaky relu, dense; 2 blocks',
      { input: 5, layers: [{ units: 7, bias: false }, { kind: 'batchnorm', activation: 'leaky_relu' }, { units: 1, activation: 'sigmoid' }], init: 'xavier' },
      2,
    ],
    [
      'batch norm after a tanh layer, standalone activation fused into it',
      { input: 4, layers: [{ units: 6, activation: 'tanh' }, { kind: 'batchnorm' }, { kind: 'activation', activation: 'tanh' }, { units: 1, activation: 'sigmoid' }], init: 'dcgan' },
      1,
    ],
    [
      'conv (kernel 4, stride 2), leaky relu, conv-transpose (stride 2), batch norm with tanh, reshape, dense; 2 blocks',
      {
        input: [6, 6, 2],
        layers: [
          { kind: 'conv2d', filters: 3, kernel: 4, stride: 2, padding: 1, activation: 'leaky_relu' },
          { kind: 'conv-transpose2d', filters: 2, kernel: 4, stride: 2, padding: 1, bias: false },
          { kind: 'batchnorm', activation: 'tanh' },
          { kind: 'reshape', shape: [72] },
          { units: 1, activation: 'sigmoid' },
        ],
        init: 'pytorch',
      },
      2,
    ],
    [
      'dense to an image, conv-transpose with output padding, conv with stride 1 and padding 2',
      {
        input: 3,
        layers: [
          { units: 2 * 2 * 4, activation: 'relu' },
          { kind: 'reshape', shape: [2, 2, 4] },
          { kind: 'conv-transpose2d', filters: 3, kernel: 3, stride: 2, padding: 1, outputPadding: 1, activation: 'leaky_relu' },
          { kind: 'conv2d', filters: 1, kernel: 5, padding: 2, activation: 'tanh' },
          { units: 1, activation: 'sigmoid' },
        ],
        init: 'xavier',
      },
      1,
    ],
    [
      'minibatch stddev after batch norm with tanh, groups of 3 within each of 2 blocks, reshape, dense',
      {
        input: [6, 6, 2],
        layers: [
          { kind: 'conv2d', filters: 3, kernel: 4, stride: 2, padding: 1, bias: false },
          { kind: 'batchnorm', activation: 'tanh' },
          { kind: 'minibatch-stddev', group: 3 },
          { kind: 'reshape', shape: [36] },
          { units: 1, activation: 'sigmoid' },
        ],
        init: 'pytorch',
      },
      2,
    ],
    [
      'minibatch stddev on flat features after a leaky relu layer, groups of 2, a standalone tanh fused into it',
      { input: 4, layers: [{ units: 5, activation: 'leaky_relu' }, { kind: 'minibatch-stddev', group: 2, eps: 1e-4 }, { kind: 'activation', activation: 'tanh' }, { units: 1, activation: 'sigmoid' }], init: 'xavier' },
      1,
    ],
  ];

  test.each(specs)('%s', async (_, spec, blocks) => {
    const rows = 6;
    const net = new Network(ctx, pool, 'D', spec);
    const ws = net.workspace(rows);
    const xs = randomF32(rows * [spec.input].flat().reduce((a, b) => a * b, 1), 3, -1, 1);
    const x = pool.from(xs, [rows, net.inputSize], 'x');
    const labels = pool.from(labelsFor(rows), [rows, 1], 'labels');
    const dx = pool.acquire([rows, net.inputSize], 'f32', 'dx');
    ctx.run([
      ...net.recordInit(7, 100),
      ...net.forward(ws, x, { logits: true, blocks }),
      bceWithLogitsGrad(ctx, net.output(ws), labels, net.outputGrad(ws), { scale: 1 / rows }),
      ...net.backward(ws, x, { paramGrads: true, inputGrad: { tensor: dx }, blocks }),
    ]);
    const ref = await toReference(net);
    const x64 = Float64Array.from(xs);
    const y = Array.from(labelsFor(rows));
    const loss = () => refBceMean(refForward(ref, x64, rows, { logits: true, blocks }).at(-1)!, y);
    await expectParamGrads('', net, ref, loss);
    expectClose('dx', await download(ctx, dx), finiteDifferences(x64, loss));
  });

  test('gradient flows through a frozen D into G (the G step)', async () => {
    const rows = 4;
    const g = new Network(ctx, pool, 'G', { input: 3, layers: [{ units: 8, activation: 'relu' }, { units: 6, activation: 'tanh' }], init: 'he' });
    const d = new Network(ctx, pool, 'D', { input: 6, layers: [{ units: 5, activation: 'leaky_relu' }, { units: 1, activation: 'sigmoid' }], init: 'xavier' });
    const gws = g.workspace(rows);
    const dws = d.workspace(rows);
    const zs = randomF32(rows * 3, 9, -1, 1);
    const z = pool.from(zs, [rows, 3], 'z');
    const ones = pool.from(new Float32Array(rows).fill(1), [rows, 1], 'ones');
    const fake = g.output(gws);
    ctx.run([
      ...g.recordInit(1, 0),
      ...d.recordInit(2, 0),
      ...g.forward(gws, z),
      ...d.forward(dws, fake, { logits: true }),
      bceWithLogitsGrad(ctx, d.output(dws), ones, d.outputGrad(dws), { scale: 1 / rows }),
      ...d.backward(dws, fake, { paramGrads: false, inputGrad: g.chainInto(gws) }),
      ...g.backward(gws, z, { paramGrads: true }),
    ]);
    const [gRef, dRef] = [await toReference(g), await toReference(d)];
    const z64 = Float64Array.from(zs);
    const target = new Array(rows).fill(1);
    const loss = () => refBceMean(outputOf(dRef, outputOf(gRef, z64, rows), rows, true), target);
    await expectParamGrads('G ', g, gRef, loss);
  });

  test('conditional D: the gradient reaches G through the image columns of [G(z) | one-hot]', async () => {
    const rows = 4;
    const classes = 3;
    const g = new Network(ctx, pool, 'G', { input: 5, layers: [{ units: 6, activation: 'sigmoid' }], init: 'xavier' });
    const d = new Network(ctx, pool, 'D', { input: 6 + classes, layers: [{ units: 5, activation: 'tanh' }, { units: 1, activation: 'sigmoid' }], init: 'xavier' });
    const gws = g.workspace(rows);
    const dws = d.workspace(rows);
    const zs = randomF32(rows * 5, 21, -1, 1);
    const z = pool.from(zs, [rows, 5], 'z');
    const labels = Uint32Array.from([0, 2, 1, 2]);
    const dInput = pool.acquire([rows, 6 + classes], 'f32', 'D input');
    const ones = pool.from(new Float32Array(rows).fill(1), [rows, 1], 'ones');
    const fake = g.output(gws);
    ctx.run([
      ...g.recordInit(3, 0),
      ...d.recordInit(4, 0),
      ...g.forward(gws, z),
      copyColumns(ctx, fake, dInput),
      oneHot(ctx, pool.from(labels, [rows], 'labels'), dInput, { classes, column: 6 }),
      ...d.forward(dws, dInput, { logits: true }),
      bceWithLogitsGrad(ctx, d.output(dws), ones, d.outputGrad(dws), { scale: 1 / rows }),
      ...d.backward(dws, dInput, { paramGrads: false, inputGrad: g.chainInto(gws, 6) }),
      ...g.backward(gws, z, { paramGrads: true }),
    ]);
    const [gRef, dRef] = [await toReference(g), await toReference(d)];
    const z64 = Float64Array.from(zs);
    const loss = () => {
      const out = outputOf(gRef, z64, rows);
      const x = new Float64Array(rows * (6 + classes));
      for (let i = 0; i < rows; i++) {
        for (let j = 0; j < 6; j++) x[i * (6 + classes) + j] = out[i * 6 + j];
        x[i * (6 + classes) + 6 + labels[i]] = 1;
      }
      return refBceMean(outputOf(dRef, x, rows, true), new Array(rows).fill(1));
    };
    await expectParamGrads('G ', g, gRef, loss);
  });
});

// A guard that the comparison itself can fail: a perturbed gradient must not pass.
test('the finite-difference comparison rejects a wrong gradient', () => {
  const next = hostRandom(1);
  const want = Float64Array.from({ length: 8 }, () => next() - 0.5);
  const wrong = want.map((v, i) => (i === 3 ? v * 1.01 + 1e-3 : v));
  expect(() => expectClose('w', wrong, want)).toThrow();
});

