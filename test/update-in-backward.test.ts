// A network of dense layers updates its parameters in its weight-gradient kernels
// (Network.backwardAndUpdate): one dispatch fewer per update than the backward pass followed by
// the optimizer's own dispatch, and the same bits in the parameters, the optimizer's state and
// the gradients, for every optimizer kind. Networks whose layers cannot (batch norm, spectral
// normalisation) keep the optimizer's dispatch.

import { afterAll, beforeAll, describe, expect, test } from 'vitest';
import { randomF32 } from '../src/checks/check.ts';
import type { GpuContext, Step } from '../src/gpu/context.ts';
import { Network, type NetworkSpec } from '../src/nn/network.ts';
import { Optimizer, type OptimizerSpec } from '../src/nn/optimizer.ts';
import { TensorPool } from '../src/tensor/pool.ts';
import { download, upload } from '../src/tensor/tensor.ts';
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

const DENSE: NetworkSpec = { input: 7, layers: [{ units: 9, activation: 'leaky_relu' }, { units: 5, activation: 'tanh' }, { units: 1, activation: 'sigmoid', bias: false }], init: 'xavier' };

const OPTIMIZERS: OptimizerSpec[] = [
  { kind: 'sgd', lr: 2, momentum: 0.5, l2: 1e-2, clip: 0.4 },
  { kind: 'adam', lr: 1e-2, beta1: 0.5, beta2: 0.999, eps: 1e-8, weightDecay: 1e-3 },
  { kind: 'rmsprop', lr: 1e-2, alpha: 0.9, eps: 1e-8, clip: 0.3 },
];

const ROWS = 6;

/** A network, its optimizer and one update's program, from the same initial state as every other. */
function build(spec: NetworkSpec, opt: OptimizerSpec, fused: boolean) {
  const net = new Network(ctx, pool, 'D', spec);
  const optimizer = new Optimizer(ctx, pool, net, opt);
  const ws = net.workspace(ROWS);
  const x = pool.from(randomF32(ROWS * net.inputSize, 5), [ROWS, net.inputSize], 'x');
  const delta = randomF32(ROWS * net.outputSize, 6, -0.5, 0.5);
  ctx.run([...net.recordInit(3, 0), ...optimizer.recordReset()]);
  const forward = net.forward(ws, x);
  const backward = fused ? net.backwardAndUpdate(ws, x, optimizer) : [...net.backward(ws, x, { paramGrads: true }), ...optimizer.recordUpdate()];
  const program: Step[] = [...forward, ...backward, ...optimizer.recordTick()];
  // The loss's gradient stands in as fixed values, uploaded before each run.
  const run = () => {
    upload(ctx, net.outputGrad(ws), delta);
    ctx.run(program);
  };
  return { net, optimizer, program, backward, run, ws };
}

describe('updates in the weight gradients', () => {
  test.each(OPTIMIZERS.map((o) => [o.kind, o] as const))('%s: one dispatch fewer, the same bits after three updates', async (_, opt) => {
    const fused = build(DENSE, opt, true);
    const apart = build(DENSE, opt, false);
    expect(fused.net.updatesInBackward).toBe(true);
    const dispatches = (steps: Step[]) => steps.filter((s) => s.kind === 'dispatch').length;
    expect(dispatches(fused.backward)).toBe(dispatches(apart.backward) - 1);
    expect(fused.backward.some((s) => s.label.startsWith(opt.kind === 'sgd' ? 'sgdMomentum' : opt.kind))).toBe(false);
    // Each layer's input gradient reads its weights before they change.
    const labels = fused.backward.map((s) => s.label);
    expect(labels.indexOf('D.2.dInput')).toBeLessThan(labels.indexOf('D.2.dW+update'));
    expect(labels.indexOf('D.1.dInput')).toBeLessThan(labels.indexOf('D.1.dW+update'));
    for (let i = 0; i < 3; i++) {
      fused.run();
      apart.run();
    }
    const state = (b: ReturnType<typeof build>) => [b.net.params.flat, b.net.grads.flat, ...b.optimizer.state.map((s) => s.flat)];
    const [got, want] = [state(fused), state(apart)];
    const w0 = await download(ctx, got[0]);
    for (let i = 0; i < got.length; i++) expect(await download(ctx, got[i]), `buffer ${i}`).toEqual(await download(ctx, want[i]));
    // The parameters did move (a pass that skipped the update would match nothing above, but say so).
    const fresh = build(DENSE, opt, true);
    expect(w0).not.toEqual(await download(ctx, fresh.net.params.flat));
  });

  test('networks whose layers cannot update in the backward pass keep the optimizer dispatch', () => {
    const opt = OPTIMIZERS[1];
    const sn = build({ ...DENSE, spectralNorm: true }, opt, true);
    expect(sn.net.updatesInBackward).toBe(false);
    expect(sn.backward.filter((s) => s.label.startsWith('adam(')).length).toBe(1);
    const bn = build({ input: 7, layers: [{ units: 9 }, { kind: 'batchnorm', activation: 'relu' }, { units: 1 }], init: 'xavier' }, opt, true);
    expect(bn.net.updatesInBackward).toBe(false);
    expect(bn.backward.filter((s) => s.label.startsWith('adam(')).length).toBe(1);
  });

  test('networks of large weight matrices update in the backward pass too, on every adapter, with the same bits', async () => {
    // The mnist preset's D: its 784 x 512 weight gradient takes the staged epilogue on lavapipe.
    const spec: NetworkSpec = { input: 784, layers: [{ units: 512, activation: 'leaky_relu' }, { units: 1 }], init: 'xavier' };
    const big = build(spec, OPTIMIZERS[1], true);
    const apart = build(spec, OPTIMIZERS[1], false);
    expect(big.net.updatesInBackward).toBe(true);
    expect(big.backward.filter((s) => s.label.startsWith('adam(')).length).toBe(0);
    for (let i = 0; i < 2; i++) {
      big.run();
      apart.run();
    }
    expect(await download(ctx, big.net.params.flat)).toEqual(await download(ctx, apart.net.params.flat));
    expect(await download(ctx, big.optimizer.state[1].flat)).toEqual(await download(ctx, apart.optimizer.state[1].flat));
  });

  test("an optimizer updates only its own network", () => {
    const a = build(DENSE, OPTIMIZERS[0], true);
    const b = build(DENSE, OPTIMIZERS[0], true);
    const x = pool.from(randomF32(ROWS * 7, 5), [ROWS, 7], 'x');
    expect(() => a.net.backwardAndUpdate(a.ws, x, b.optimizer)).toThrow(/the optimizer updates 'D'/);
  });
});
