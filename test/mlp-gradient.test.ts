// Finite-difference checks of backpropagation composed from the kernels: the GPU's parameter
// gradients must match central differences of the float64 loss at the same weights.

import { afterAll, beforeAll, describe, expect, test } from 'vitest';
import { hostRandom, randomF32 } from '../src/checks/check.ts';
import type { GpuContext } from '../src/gpu/context.ts';
import { copyColumns, oneHot } from '../src/kernels/columns.ts';
import { bceWithLogitsGrad } from '../src/kernels/losses.ts';
import { Mlp, type MlpSpec } from '../src/nn/mlp.ts';
import { refBceMean, refForward, type RefMlp } from '../src/reference/mlp.ts';
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

async function toReference(net: Mlp): Promise<RefMlp> {
  const layers = await Promise.all(
    net.spec.layers.map(async (l, i) => ({
      w: Float64Array.from(await download(ctx, net.params.weights[i])),
      b: Float64Array.from(await download(ctx, net.params.biases[i])),
      fanIn: net.params.weights[i].shape[0],
      units: l.units,
      activation: l.activation,
    })),
  );
  return { layers, leak: net.spec.leak ?? 0.2 };
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

describe('MLP backward against finite differences (float64)', () => {
  const specs: [string, MlpSpec][] = [
    ['2 layers, tanh -> logit', { input: 6, layers: [{ units: 9, activation: 'tanh' }, { units: 1, activation: 'sigmoid' }], init: 'xavier' }],
    ['3 layers, leaky relu and sigmoid', { input: 5, layers: [{ units: 7, activation: 'leaky_relu' }, { units: 4, activation: 'sigmoid' }, { units: 1, activation: 'sigmoid' }], init: 'dlt' }],
  ];

  test.each(specs)('%s', async (_, spec) => {
    const rows = 5;
    const net = new Mlp(ctx, pool, 'D', spec);
    const ws = net.workspace(rows);
    const xs = randomF32(rows * spec.input, 3, -1, 1);
    const x = pool.from(xs, [rows, spec.input], 'x');
    const labels = pool.from(labelsFor(rows), [rows, 1], 'labels');
    const dx = pool.acquire([rows, spec.input], 'f32', 'dx');
    ctx.run([
      ...net.recordInit(7, 100),
      ...net.forward(ws, x, { logits: true }),
      bceWithLogitsGrad(ctx, ws.outputs[ws.outputs.length - 1], labels, ws.deltas[ws.deltas.length - 1], { scale: 1 / rows }),
      ...net.backward(ws, x, { paramGrads: true, inputGrad: { tensor: dx } }),
    ]);
    const ref = await toReference(net);
    const x64 = Float64Array.from(xs);
    const y = Array.from(labelsFor(rows));
    const loss = () => refBceMean(refForward(ref, x64, rows, true).at(-1)!, y);

    for (let l = 0; l < spec.layers.length; l++) {
      expectClose(`dW${l + 1}`, await download(ctx, net.grads.weights[l]), finiteDifferences(ref.layers[l].w, loss));
      expectClose(`db${l + 1}`, await download(ctx, net.grads.biases[l]), finiteDifferences(ref.layers[l].b, loss));
    }
    expectClose('dx', await download(ctx, dx), finiteDifferences(x64, loss));
  });

  test('gradient flows through a frozen D into G (the G step)', async () => {
    const rows = 4;
    const g = new Mlp(ctx, pool, 'G', { input: 3, layers: [{ units: 8, activation: 'relu' }, { units: 6, activation: 'tanh' }], init: 'he' });
    const d = new Mlp(ctx, pool, 'D', { input: 6, layers: [{ units: 5, activation: 'leaky_relu' }, { units: 1, activation: 'sigmoid' }], init: 'xavier' });
    const gws = g.workspace(rows);
    const dws = d.workspace(rows);
    const zs = randomF32(rows * 3, 9, -1, 1);
    const z = pool.from(zs, [rows, 3], 'z');
    const ones = pool.from(new Float32Array(rows).fill(1), [rows, 1], 'ones');
    const fake = gws.outputs[1];
    ctx.run([
      ...g.recordInit(1, 0),
      ...d.recordInit(2, 0),
      ...g.forward(gws, z),
      ...d.forward(dws, fake, { logits: true }),
      bceWithLogitsGrad(ctx, dws.outputs[1], ones, dws.deltas[1], { scale: 1 / rows }),
      ...d.backward(dws, fake, { paramGrads: false, inputGrad: { tensor: gws.deltas[1], gradOf: { output: fake, activation: 'tanh' } } }),
      ...g.backward(gws, z, { paramGrads: true }),
    ]);
    const [gRef, dRef] = [await toReference(g), await toReference(d)];
    const z64 = Float64Array.from(zs);
    const target = new Array(rows).fill(1);
    const loss = () => refBceMean(refForward(dRef, refForward(gRef, z64, rows).at(-1)!, rows, true).at(-1)!, target);
    for (let l = 0; l < 2; l++) {
      expectClose(`G dW${l + 1}`, await download(ctx, g.grads.weights[l]), finiteDifferences(gRef.layers[l].w, loss));
      expectClose(`G db${l + 1}`, await download(ctx, g.grads.biases[l]), finiteDifferences(gRef.layers[l].b, loss));
    }
  });

  test('conditional D: the gradient reaches G through the image columns of [G(z) | one-hot]', async () => {
    const rows = 4;
    const classes = 3;
    const g = new Mlp(ctx, pool, 'G', { input: 5, layers: [{ units: 6, activation: 'sigmoid' }], init: 'xavier' });
    const d = new Mlp(ctx, pool, 'D', { input: 6 + classes, layers: [{ units: 5, activation: 'tanh' }, { units: 1, activation: 'sigmoid' }], init: 'xavier' });
    const gws = g.workspace(rows);
    const dws = d.workspace(rows);
    const zs = randomF32(rows * 5, 21, -1, 1);
    const z = pool.from(zs, [rows, 5], 'z');
    const labels = Uint32Array.from([0, 2, 1, 2]);
    const dInput = pool.acquire([rows, 6 + classes], 'f32', 'D input');
    const ones = pool.from(new Float32Array(rows).fill(1), [rows, 1], 'ones');
    const fake = gws.outputs[0];
    ctx.run([
      ...g.recordInit(3, 0),
      ...d.recordInit(4, 0),
      ...g.forward(gws, z),
      copyColumns(ctx, fake, dInput),
      oneHot(ctx, pool.from(labels, [rows], 'labels'), dInput, { classes, column: 6 }),
      ...d.forward(dws, dInput, { logits: true }),
      bceWithLogitsGrad(ctx, dws.outputs[1], ones, dws.deltas[1], { scale: 1 / rows }),
      ...d.backward(dws, dInput, { paramGrads: false, inputGrad: { tensor: gws.deltas[0], gradOf: { output: fake, activation: 'sigmoid' }, columns: 6 } }),
      ...g.backward(gws, z, { paramGrads: true }),
    ]);
    const [gRef, dRef] = [await toReference(g), await toReference(d)];
    const z64 = Float64Array.from(zs);
    const loss = () => {
      const out = refForward(gRef, z64, rows).at(-1)!;
      const x = new Float64Array(rows * (6 + classes));
      for (let i = 0; i < rows; i++) {
        for (let j = 0; j < 6; j++) x[i * (6 + classes) + j] = out[i * 6 + j];
        x[i * (6 + classes) + 6 + labels[i]] = 1;
      }
      return refBceMean(refForward(dRef, x, rows, true).at(-1)!, new Array(rows).fill(1));
    };
    expectClose('G dW1', await download(ctx, g.grads.weights[0]), finiteDifferences(gRef.layers[0].w, loss));
    expectClose('G db1', await download(ctx, g.grads.biases[0]), finiteDifferences(gRef.layers[0].b, loss));
  });
});

// A guard that the comparison itself can fail: a perturbed gradient must not pass.
test('the finite-difference comparison rejects a wrong gradient', () => {
  const next = hostRandom(1);
  const want = Float64Array.from({ length: 8 }, () => next() - 0.5);
  const wrong = want.map((v, i) => (i === 3 ? v * 1.01 + 1e-3 : v));
  expect(() => expectClose('w', wrong, want)).toThrow();
});

