// The documented errors of the ops: each is thrown before anything is encoded, as a
// ShapeError whose message names the op and the tensors (with their shapes) involved.

import { describe, expect, test } from 'vitest';
import { batchNormBackward, batchNormForward, type BatchNormBackwardOptions, type BatchNormForwardOptions } from '../src/kernels/batchnorm.ts';
import { otherLabels } from '../src/kernels/columns.ts';
import type { Activation } from '../src/kernels/common.ts';
import {
  conv2d,
  conv2dInputGrad,
  conv2dWeightGrad,
  convOutputSize,
  convTranspose2d,
  convTranspose2dInputGrad,
  convTranspose2dWeightGrad,
  resolveConvGeometry,
  type Conv2dGeometry,
} from '../src/kernels/conv.ts';
import { fill } from '../src/kernels/fill.ts';
import { gatherRows, gatherValues } from '../src/kernels/gather.ts';
import { bceWithLogitsGrad, bceWithLogitsLoss, mseLoss, mseSigmoidGrad } from '../src/kernels/losses.ts';
import { matmul } from '../src/kernels/matmul.ts';
import { adam, adamElementUpdate, advanceCounters, incrementCounter, sgdElementUpdate, sgdMomentum } from '../src/kernels/optim.ts';
import { meanInto, sumRows } from '../src/kernels/reduce.ts';
import { TensorBlocks } from '../src/tensor/blocks.ts';
import { Tensor, type DType, type Shape } from '../src/tensor/tensor.ts';
import { expectShapeError, useGpu } from './gpu.ts';

const gpu = useGpu();

const tensor = (shape: Shape, label: string, dtype: DType = 'f32'): Tensor => gpu.tensor(shape, label, dtype);

describe('losses', () => {
  test('labels with another element count', () => {
    const [x, y, g] = [tensor([4, 1], 'logits'), tensor([3], 'labels'), tensor([4, 1], 'grad')];
    expectShapeError(() => bceWithLogitsGrad(gpu.ctx, x, y, g, { scale: 1 }), 'bceWithLogitsGrad', 'logits:f32[4, 1]', 'labels:f32[3]');
    expectShapeError(() => mseSigmoidGrad(gpu.ctx, x, y, g, { scale: 1 }), 'mseSigmoidGrad', 'logits:f32[4, 1]', 'labels:f32[3]');
    expectShapeError(() => mseLoss(gpu.ctx, x, y, tensor([8], 'metrics'), { slot: 0, scale: 1 }), 'mseLoss', 'logits:f32[4, 1]', 'labels:f32[3]');
  });
  test('labels of the same count but another shape are accepted', () => {
    const [x, y, g] = [tensor([4, 1], 'logits'), tensor([4], 'labels'), tensor([4], 'grad')];
    expect(bceWithLogitsGrad(gpu.ctx, x, y, g, { scale: 1 }).kind).toBe('dispatch');
  });
  test('gradient with another element count', () => {
    const [x, y, g] = [tensor([4], 'logits'), tensor([4], 'labels'), tensor([5], 'grad')];
    expectShapeError(() => bceWithLogitsGrad(gpu.ctx, x, y, g, { scale: 1 }), 'bceWithLogitsGrad', 'grad:f32[5]', 'logits:f32[4]');
  });
  test('slot out of range or not an integer', () => {
    const [x, y, out] = [tensor([4], 'logits'), tensor([4], 'labels'), tensor([8], 'metrics')];
    expectShapeError(() => bceWithLogitsLoss(gpu.ctx, x, y, out, { slot: 8, scale: 1 }), 'bceWithLogitsLoss', 'slot 8', 'metrics:f32[8]');
    expectShapeError(() => bceWithLogitsLoss(gpu.ctx, x, y, out, { slot: -1, scale: 1 }), 'bceWithLogitsLoss', 'slot -1', 'metrics:f32[8]');
    expectShapeError(() => mseLoss(gpu.ctx, x, y, out, { slot: 1.5, scale: 1 }), 'mseLoss', 'slot 1.5', 'metrics:f32[8]');
  });
  test('wrong dtypes', () => {
    const [x, y, g] = [tensor([4], 'logits'), tensor([4], 'labels', 'u32'), tensor([4], 'grad')];
    expectShapeError(() => bceWithLogitsGrad(gpu.ctx, x, y, g, { scale: 1 }), 'bceWithLogitsGrad', 'labels:u32[4]', 'f32');
    expectShapeError(() => bceWithLogitsLoss(gpu.ctx, x, tensor([4], 'y'), tensor([8], 'counts', 'u32'), { slot: 0, scale: 1 }), 'bceWithLogitsLoss', 'counts:u32[8]');
  });
  test('non-finite scale', () => {
    const [x, y, g] = [tensor([4], 'logits'), tensor([4], 'labels'), tensor([4], 'grad')];
    expectShapeError(() => bceWithLogitsGrad(gpu.ctx, x, y, g, { scale: NaN }), 'bceWithLogitsGrad', 'logits:f32[4]', 'scale', 'NaN');
    expectShapeError(() => mseLoss(gpu.ctx, x, y, tensor([2], 'metrics'), { slot: 0, scale: Infinity }), 'mseLoss', 'scale', 'Infinity');
  });
  test('gradient written over an input', () => {
    const [x, y] = [tensor([4], 'logits'), tensor([4], 'labels')];
    expectShapeError(() => bceWithLogitsGrad(gpu.ctx, x, y, x, { scale: 1 }), 'bceWithLogitsGrad', 'overlaps', 'logits:f32[4]');
  });
});

describe('reductions', () => {
  test('sumRows output that is not one per column', () => {
    const x = tensor([100, 784], 'dz');
    expectShapeError(() => sumRows(gpu.ctx, x, tensor([100], 'db')), 'sumRows', 'dz:f32[100, 784]', 'db:f32[100]', '[784]');
    expectShapeError(() => sumRows(gpu.ctx, x, tensor([2, 392], 'db')), 'sumRows', 'db:f32[2, 392]');
  });
  test('sumRows of a 3-D tensor, a u32 tensor, a non-finite scale', () => {
    expectShapeError(() => sumRows(gpu.ctx, tensor([2, 3, 4], 'cube'), tensor([4], 'db')), 'sumRows', 'cube:f32[2, 3, 4]');
    expectShapeError(() => sumRows(gpu.ctx, tensor([2, 3], 'ids', 'u32'), tensor([3], 'db')), 'sumRows', 'ids:u32[2, 3]', 'f32');
    expectShapeError(() => sumRows(gpu.ctx, tensor([2, 3], 'dz'), tensor([3], 'db'), { scale: NaN }), 'sumRows', 'dz:f32[2, 3]', 'scale');
  });
  test('meanInto slot out of range, unknown transform, u32 input', () => {
    const [x, out] = [tensor([100], 'logits'), tensor([4], 'metrics')];
    expectShapeError(() => meanInto(gpu.ctx, x, out, { slot: 4 }), 'meanInto', 'slot 4', 'metrics:f32[4]', 'logits:f32[100]');
    expectShapeError(() => meanInto(gpu.ctx, x, out, { slot: 0, transform: 'tanh' as 'sigmoid' }), 'meanInto', "'tanh'", 'logits:f32[100]');
    expectShapeError(() => meanInto(gpu.ctx, tensor([3], 'ids', 'u32'), out, { slot: 0 }), 'meanInto', 'ids:u32[3]');
  });
  test('fill: NaN, a non-integer or negative u32, a u8 tensor', () => {
    expectShapeError(() => fill(gpu.ctx, tensor([5], 'grad'), NaN), 'fill', 'grad:f32[5]', 'NaN');
    expectShapeError(() => fill(gpu.ctx, tensor([5], 'counts', 'u32'), 1.5), 'fill', 'counts:u32[5]', '1.5');
    expectShapeError(() => fill(gpu.ctx, tensor([5], 'counts', 'u32'), -1), 'fill', 'counts:u32[5]', '-1');
    expectShapeError(() => fill(gpu.ctx, tensor([8], 'pixels', 'u8'), 0), 'fill', 'pixels:u8[8]');
  });
});

describe('optimizers', () => {
  test('sgdMomentum with mismatched shapes', () => {
    const [w, g, v] = [tensor([784, 100], 'W'), tensor([100, 784], 'dW'), tensor([784, 100], 'vW')];
    expectShapeError(() => sgdMomentum(gpu.ctx, w, g, v, { lr: 2, momentum: 0.5, l2: 0 }), 'sgdMomentum', 'W:f32[784, 100]', 'dW:f32[100, 784]');
  });
  test('sgdMomentum with non-finite hyperparameters', () => {
    const [w, g, v] = [tensor([10], 'W'), tensor([10], 'dW'), tensor([10], 'vW')];
    expectShapeError(() => sgdMomentum(gpu.ctx, w, g, v, { lr: NaN, momentum: 0.5, l2: 0 }), 'sgdMomentum', 'W:f32[10]', 'lr', 'NaN');
    expectShapeError(() => sgdMomentum(gpu.ctx, w, g, v, { lr: 2, momentum: Infinity, l2: 0 }), 'sgdMomentum', 'momentum');
    expectShapeError(() => sgdMomentum(gpu.ctx, w, g, v, { lr: 2, momentum: 0.5, l2: -Infinity }), 'sgdMomentum', 'l2');
  });
  test('sgdMomentum with the velocity aliasing the weights', () => {
    const [w, g] = [tensor([10], 'W'), tensor([10], 'dW')];
    expectShapeError(() => sgdMomentum(gpu.ctx, w, g, w, { lr: 2, momentum: 0.5, l2: 0 }), 'sgdMomentum', 'overlaps', 'W:f32[10]');
  });
  test('adam with mismatched moments, a non-u32 step, a bad stepIndex', () => {
    const [w, g, m, v, step] = [tensor([10], 'W'), tensor([10], 'dW'), tensor([10], 'mW'), tensor([11], 'vW'), tensor([2], 'step', 'u32')];
    const opts = { lr: 2e-4, beta1: 0.5, beta2: 0.999, eps: 1e-8 };
    expectShapeError(() => adam(gpu.ctx, w, g, m, v, step, opts), 'adam', 'W:f32[10]', 'vW:f32[11]');
    expectShapeError(() => adam(gpu.ctx, w, g, m, tensor([10], 'vW'), tensor([1], 'stepf'), opts), 'adam', 'stepf:f32[1]', 'u32');
    expectShapeError(() => adam(gpu.ctx, w, g, m, tensor([10], 'vW'), step, { ...opts, stepIndex: 2 }), 'adam', 'stepIndex 2', 'step:u32[2]');
  });
  test('adam with non-finite or out-of-range hyperparameters', () => {
    const [w, g, m, v, step] = [tensor([10], 'W'), tensor([10], 'dW'), tensor([10], 'mW'), tensor([10], 'vW'), tensor([1], 'step', 'u32')];
    const opts = { lr: 2e-4, beta1: 0.5, beta2: 0.999, eps: 1e-8 };
    expectShapeError(() => adam(gpu.ctx, w, g, m, v, step, { ...opts, lr: Infinity }), 'adam', 'W:f32[10]', 'lr', 'Infinity');
    expectShapeError(() => adam(gpu.ctx, w, g, m, v, step, { ...opts, eps: NaN }), 'adam', 'eps', 'NaN');
    expectShapeError(() => adam(gpu.ctx, w, g, m, v, step, { ...opts, weightDecay: NaN }), 'adam', 'weightDecay');
    expectShapeError(() => adam(gpu.ctx, w, g, m, v, step, { ...opts, beta2: 1 }), 'adam', 'beta2', '[0, 1)');
    expectShapeError(() => adam(gpu.ctx, w, g, m, v, step, { ...opts, beta1: -0.1 }), 'adam', 'beta1');
    expectShapeError(() => adam(gpu.ctx, w, g, m, v, step, { ...opts, eps: -1 }), 'adam', 'eps');
    expectShapeError(() => adam(gpu.ctx, w, g, m, v, step, { ...opts, stepAdd: -1 }), 'adam', 'stepAdd');
    expectShapeError(() => adam(gpu.ctx, w, g, m, v, step, { ...opts, stepAdd: 0.5 }), 'adam', 'stepAdd');
  });
  test('sgdMomentum with a decay boundary outside the tensor', () => {
    const [w, g, v] = [tensor([10], 'W'), tensor([10], 'dW'), tensor([10], 'V')];
    expectShapeError(() => sgdMomentum(gpu.ctx, w, g, v, { lr: 2, momentum: 0.5, l2: 1e-4, decayEnd: 11 }), 'sgdMomentum', 'decayEnd', '11');
    expectShapeError(() => sgdMomentum(gpu.ctx, w, g, v, { lr: 2, momentum: 0.5, l2: 1e-4, decayEnd: -1 }), 'sgdMomentum', 'decayEnd');
  });
  test('a weight gradient that updates the weights: rules checked as the optimizer kernels check them, views of the parameters, a plain epilogue', () => {
    const [w, v, m] = [tensor([64 + 12 + 64], 'params'), tensor([140], 'velocity'), tensor([140], 'm')];
    expectShapeError(() => sgdElementUpdate(w, v, { lr: 2, momentum: 0.5, l2: 1e-4, decayEnd: 141 }), 'sgdMomentum', 'decayEnd', '141');
    expectShapeError(() => sgdElementUpdate(w, tensor([10], 'velocity'), { lr: 2, momentum: 0.5, l2: 0 }), 'sgdMomentum', 'velocity:f32[10]');
    expectShapeError(() => adamElementUpdate(w, m, v, tensor([4], 'step'), { lr: 1e-3, beta1: 0.5, beta2: 0.999, eps: 1e-8 }), 'adam', 'u32');
    const rule = sgdElementUpdate(w, v, { lr: 2, momentum: 0.5, l2: 1e-4, decayEnd: 64 });
    const view = (at: number, shape: Shape, label: string) => new Tensor(w.buffer, shape, 'f32', label, w.byteOffset + at * 4);
    const [x, delta, dW, db] = [tensor([5, 4], 'x'), tensor([5, 3], 'delta'), tensor([4, 3], 'dW'), tensor([3], 'db')];
    const update = { rule, weight: view(0, [4, 3], 'W'), bias: view(64, [3], 'b') };
    expectShapeError(() => matmul(gpu.ctx, x, delta, dW, { transA: true, update }), 'matmul', 'bias gradient go together');
    expectShapeError(() => matmul(gpu.ctx, x, delta, dW, { transA: true, biasGrad: db, update: { ...update, weight: tensor([4, 3], 'W elsewhere') } }), 'matmul', 'W elsewhere:f32[4, 3]', 'view of the optimizer');
    expectShapeError(() => matmul(gpu.ctx, x, delta, dW, { transA: true, biasGrad: db, update: { ...update, weight: view(0, [3, 4], 'W') } }), 'matmul', "C's shape [4, 3]");
    expectShapeError(() => matmul(gpu.ctx, x, delta, dW, { transA: true, biasGrad: db, activation: 'relu', update }), 'matmul', 'plain weight gradient');
    expectShapeError(() => matmul(gpu.ctx, x, delta, dW, { transA: true, biasGrad: db, accumulate: true, update }), 'matmul', 'plain weight gradient');
    expectShapeError(() => matmul(gpu.ctx, x, delta, view(0, [4, 3], 'dW in the parameters'), { transA: true, biasGrad: db, update }), 'matmul', 'overlaps');
  });
  test('advanceCounters on a non-u32 tensor, past its end, twice at one index, or by a bad step', () => {
    const clock = tensor([8], 'counters', 'u32');
    expectShapeError(() => advanceCounters(gpu.ctx, tensor([8], 'counters'), [{ index: 0, by: 1 }]), 'advanceCounters', 'u32');
    expectShapeError(() => advanceCounters(gpu.ctx, clock, [{ index: 8, by: 1 }]), 'advanceCounters', 'index 8');
    expectShapeError(() => advanceCounters(gpu.ctx, clock, [{ index: 1, by: 1 }, { index: 1, by: 2 }]), 'advanceCounters', 'distinct');
    expectShapeError(() => advanceCounters(gpu.ctx, clock, [{ index: 1, by: -1 }]), 'advanceCounters', '-1');
    expectShapeError(() => advanceCounters(gpu.ctx, clock, []), 'advanceCounters', '1 to 4');
    expectShapeError(() => advanceCounters(gpu.ctx, clock, [0, 1, 2, 3, 4].map((index) => ({ index, by: 1 }))), 'advanceCounters', '1 to 4');
  });
  test('incrementCounter on a non-u32 tensor or past its end', () => {
    expectShapeError(() => incrementCounter(gpu.ctx, tensor([2], 'clock')), 'incrementCounter', 'clock:f32[2]', 'u32');
    expectShapeError(() => incrementCounter(gpu.ctx, tensor([2], 'clock', 'u32'), 2), 'incrementCounter', 'clock:u32[2]', 'index 2');
  });
});

describe('otherLabels', () => {
  test('fewer than two classes, mismatched counts, f32 labels, out aliasing an input', () => {
    const [l, s, o] = [tensor([4], 'labels', 'u32'), tensor([4], 'shifts', 'u32'), tensor([4], 'others', 'u32')];
    expectShapeError(() => otherLabels(gpu.ctx, l, s, o, { classes: 1 }), 'otherLabels', 'classes must be an integer >= 2', 'labels:u32[4]');
    expectShapeError(() => otherLabels(gpu.ctx, l, tensor([3], 'shifts', 'u32'), o, { classes: 10 }), 'otherLabels', 'same element count', 'shifts:u32[3]');
    expectShapeError(() => otherLabels(gpu.ctx, tensor([4], 'labels'), s, o, { classes: 10 }), 'otherLabels', 'labels:f32[4]');
    expectShapeError(() => otherLabels(gpu.ctx, l, s, l, { classes: 10 }), 'otherLabels', 'labels:u32[4]');
  });
});

describe('batchNorm', () => {
  /** The tensors of a [4, 3 x 8] batch with 8 channels (and 2 groups for saved). */
  const forwardArgs = () => {
    const x = tensor([4, 24], 'x');
    return {
      x,
      gamma: tensor([8], 'gamma'),
      beta: tensor([8], 'beta'),
      y: tensor([4, 24], 'y'),
      saved: tensor([3, 2, 8], 'saved'),
      running: { mean: tensor([8], 'running mean'), var: tensor([1, 8], 'running var') },
    };
  };
  const forward = (a: ReturnType<typeof forwardArgs>, opts: Partial<BatchNormForwardOptions> = {}) =>
    batchNormForward(gpu.ctx, a.x, a.gamma, a.beta, a.y, a.saved, a.running, { channels: 8, groups: 2, training: true, ...opts });

  test('channels that do not divide the row length, groups that do not divide the rows', () => {
    const a = forwardArgs();
    expect(forward(a)).toHaveLength(3);
    expectShapeError(() => forward(a, { channels: 5 }), 'batchNormForward', 'channels 5', 'x:f32[4, 24]');
    expectShapeError(() => forward(a, { channels: 0 }), 'batchNormForward', 'channels 0');
    expectShapeError(() => forward(a, { groups: 3 }), 'batchNormForward', 'groups 3', '4 rows', 'x:f32[4, 24]');
    expectShapeError(() => forward(a, { groups: 1.5 }), 'batchNormForward', 'groups 1.5');
  });
  test('per-channel vectors, y and saved of the wrong shape', () => {
    const a = forwardArgs();
    expectShapeError(() => forward({ ...a, gamma: tensor([24], 'gamma') }), 'batchNormForward', 'gamma', 'gamma:f32[24]', '[8]');
    expectShapeError(() => forward({ ...a, beta: tensor([2, 8], 'beta') }), 'batchNormForward', 'beta:f32[2, 8]');
    expectShapeError(() => forward({ ...a, running: { ...a.running, var: tensor([7], 'running var') } }), 'batchNormForward', 'running.var', 'running var:f32[7]');
    expectShapeError(() => forward({ ...a, y: tensor([4, 23], 'y') }), 'batchNormForward', 'y:f32[4, 23]', '[4, 24]');
    expectShapeError(() => forward(a, { groups: 1 }), 'batchNormForward', 'saved:f32[3, 2, 8]', '[3, 1, 8]');
    expectShapeError(() => forward({ ...a, x: tensor([4, 24], 'ids', 'u32') }), 'batchNormForward', 'ids:u32[4, 24]', 'f32');
  });
  test('eps, momentum, leak and activation out of range', () => {
    const a = forwardArgs();
    expectShapeError(() => forward(a, { eps: 0 }), 'batchNormForward', 'eps', 'positive');
    expectShapeError(() => forward(a, { eps: 1e-60 }), 'batchNormForward', 'eps', 'f32');
    expectShapeError(() => forward(a, { eps: NaN }), 'batchNormForward', 'eps', 'NaN');
    expectShapeError(() => forward(a, { momentum: 1.5 }), 'batchNormForward', 'momentum', '[0, 1]');
    expectShapeError(() => forward(a, { leak: Infinity }), 'batchNormForward', 'leak');
    expectShapeError(() => forward(a, { activation: 'gelu' as Activation }), 'batchNormForward', "'gelu'");
    expectShapeError(() => forward(a, { layout: 'tpu' as 'gpu' }), 'batchNormForward', "layout", "'tpu'");
    expectShapeError(() => forward(a, { training: undefined as unknown as boolean }), 'batchNormForward', 'training');
  });
  test('outputs in a buffer the same dispatch reads', () => {
    const a = forwardArgs();
    // y as the second half of x's buffer: disjoint, but WebGPU still refuses the pair.
    const both = tensor([2, 128], 'activations');
    const halves = { x: new Tensor(both.buffer, [4, 24], 'f32', 'x'), y: new Tensor(both.buffer, [4, 24], 'f32', 'y', 512) };
    expectShapeError(() => forward({ ...a, ...halves }), 'batchNormForward', 'y:f32[4, 24]', 'x:f32[4, 24]', 'buffer of its own');
    expectShapeError(() => forward({ ...a, y: a.x }), 'batchNormForward', 'x:f32[4, 24]', 'buffer');
    expectShapeError(() => forward({ ...a, running: { mean: a.running.mean, var: a.running.mean } }), 'batchNormForward', 'overlaps');
  });

  /** Backward's tensors for forwardArgs' batch. */
  const backward = (over: Partial<Record<'dy' | 'x' | 'dx' | 'dgamma' | 'dbeta' | 'saved', Tensor>> = {}, opts: Partial<BatchNormBackwardOptions> = {}) => {
    const t = { dy: tensor([4, 24], 'dy'), x: tensor([4, 24], 'x'), dx: tensor([4, 24], 'dx'), dgamma: tensor([8], 'dgamma'), dbeta: tensor([8], 'dbeta'), saved: tensor([3, 2, 8], 'saved'), ...over };
    return batchNormBackward(gpu.ctx, t.dy, t.x, tensor([8], 'gamma'), t.saved, t.dx, t.dgamma, t.dbeta, { channels: 8, groups: 2, ...opts });
  };
  test('backward: shapes of dy, dx, saved, gradOf.output', () => {
    expect(backward()).toHaveLength(3);
    expectShapeError(() => backward({ dy: tensor([4, 8], 'dy') }), 'batchNormBackward', 'dy:f32[4, 8]', '[4, 24]');
    expectShapeError(() => backward({ dx: tensor([96], 'dx') }), 'batchNormBackward', 'dx:f32[96]');
    expectShapeError(() => backward({ saved: tensor([3, 1, 8], 'saved') }), 'batchNormBackward', 'saved:f32[3, 1, 8]', '[3, 2, 8]');
    expectShapeError(() => backward({}, { gradOf: { output: tensor([4, 25], 'h'), activation: 'relu' } }), 'batchNormBackward', 'gradOf.output', 'h:f32[4, 25]');
    expectShapeError(() => backward({}, { gradOf: { output: tensor([4, 24], 'h'), activation: 'swish' as Activation } }), 'batchNormBackward', "'swish'");
    expectShapeError(() => backward({ dgamma: tensor([9], 'dgamma') }), 'batchNormBackward', 'dgamma:f32[9]');
  });
  test('backward: dgamma overlapping dbeta, dx in the buffer of dy', () => {
    const same = tensor([8], 'dgamma');
    expectShapeError(() => backward({ dgamma: same, dbeta: same }), 'batchNormBackward', 'overlaps');
    const both = tensor([2, 128], 'deltas');
    expectShapeError(() => backward({ dy: new Tensor(both.buffer, [4, 24], 'f32', 'dy'), dx: new Tensor(both.buffer, [4, 24], 'f32', 'dx', 512) }), 'batchNormBackward', 'dx:f32[4, 24]', 'dy:f32[4, 24]', 'buffer of its own');
  });
});

describe('convolutions', () => {
  // D's first layer: 28x28x1 -> 14x14x64; G's last: 14x14x64 -> 28x28x1.
  const D1: Conv2dGeometry = { batch: 2, inH: 28, inW: 28, inC: 1, outC: 64, kernel: 4, stride: 2, padding: 1, transposed: false };
  const G2: Conv2dGeometry = { batch: 2, inH: 14, inW: 14, inC: 64, outC: 1, kernel: 4, stride: 2, padding: 1, transposed: true };

  test('geometries that give no output size', () => {
    expectShapeError(() => resolveConvGeometry({ ...D1, inH: 3, inW: 3, kernel: 7, padding: 1 }), 'conv 3x3x1', 'kernel 7 is larger than the padded input 3 + 2 * 1 = 5');
    expectShapeError(() => resolveConvGeometry({ ...D1, inH: 27 }), 'conv 27x28x1', '(27 + 2 * 1 - 4) / 2 + 1 is not an integer', 'use an input of 26 or 28');
    expectShapeError(() => convOutputSize(2, { kernel: 3, stride: 1, padding: 2, transposed: true }), '(2 - 1) * 1 - 2 * 2 + 3 + 0 = 0 is not positive');
    expectShapeError(() => resolveConvGeometry({ ...G2, inH: 1, inW: 1, kernel: 3, padding: 2 }), 'conv-transpose 1x1x64', 'is not positive');
  });
  test('padding, output padding and sizes out of range', () => {
    expectShapeError(() => resolveConvGeometry({ ...D1, padding: 4 }), 'conv 28x28x1', 'padding 4 must be less than the kernel 4');
    expectShapeError(() => resolveConvGeometry({ ...D1, padding: -1 }), 'padding must be an integer >= 0, got -1');
    expectShapeError(() => resolveConvGeometry({ ...D1, outputPadding: 1 }), 'outputPadding applies only to conv-transpose');
    expectShapeError(() => resolveConvGeometry({ ...G2, outputPadding: 2 }), 'conv-transpose 14x14x64', '0 <= outputPadding < stride 2, got 2');
    expectShapeError(() => resolveConvGeometry({ ...D1, stride: 0 }), 'stride must be a positive integer, got 0');
    expectShapeError(() => resolveConvGeometry({ ...D1, inC: 1.5 }), 'inC must be a positive integer, got 1.5');
  });
  test('tensors of the wrong size, naming the op, the tensor and the shape it must have', () => {
    const [x, w, y] = [tensor([2, 784], 'x'), tensor([4, 4, 1, 64], 'w'), tensor([2, 14 * 14 * 64], 'y')];
    expect(conv2d(gpu.ctx, x, w, y, { geometry: D1 }).kind).toBe('dispatch');
    expectShapeError(() => conv2d(gpu.ctx, tensor([2, 783], 'x783'), w, y, { geometry: D1 }), 'conv2d', 'x783:f32[2, 783]', 'must have shape [2, 784]', 'conv 28x28x1 -> 64 channels');
    expectShapeError(() => conv2d(gpu.ctx, x, tensor([4, 4, 64, 1], 'wT'), y, { geometry: D1 }), 'conv2d', 'wT:f32[4, 4, 64, 1]', '[4, 4, 1, 64]');
    expectShapeError(() => conv2d(gpu.ctx, x, tensor([1024, 64], 'flat'), y, { geometry: D1 }), 'conv2d', 'flat:f32[1024, 64]', '[4, 4, 1, 64]');
    expectShapeError(() => conv2d(gpu.ctx, x, w, tensor([2, 28 * 28 * 64], 'big'), { geometry: D1 }), 'conv2d', 'big:f32[2, 50176]', '[2, 12544]');
    expectShapeError(() => conv2dInputGrad(gpu.ctx, x, w, y, { geometry: D1 }), 'conv2dInputGrad', 'x:f32[2, 784]', '[2, 12544]');
    expectShapeError(() => conv2dWeightGrad(gpu.ctx, x, y, tensor([4, 4, 1, 63], 'dw'), { geometry: D1 }), 'conv2dWeightGrad', 'dw:f32[4, 4, 1, 63]', '[4, 4, 1, 64]');
    const [gx, gw, gy] = [tensor([2, 14 * 14 * 64], 'gx'), tensor([4, 4, 64, 1], 'gw'), tensor([2, 784], 'gy')];
    expect(convTranspose2d(gpu.ctx, gx, gw, gy, { geometry: G2 }).kind).toBe('dispatch');
    expectShapeError(() => convTranspose2d(gpu.ctx, gx, gw, tensor([2, 729], 'gy27'), { geometry: G2 }), 'convTranspose2d', 'gy27:f32[2, 729]', '[2, 784]', 'conv-transpose 14x14x64');
    expectShapeError(() => convTranspose2dInputGrad(gpu.ctx, gy, gw, tensor([2, 14 * 14 * 63], 'dx'), { geometry: G2 }), 'convTranspose2dInputGrad', 'dx:f32[2, 12348]', '[2, 12544]');
    expectShapeError(() => convTranspose2dWeightGrad(gpu.ctx, gx, gy, tensor([4, 4, 64, 1], 'dw', 'u32'), { geometry: G2 }), 'convTranspose2dWeightGrad', 'dw:u32[4, 4, 64, 1]', 'must be f32');
  });
  test('a geometry of the other kind, and epilogues that do not fit', () => {
    const [x, w, y] = [tensor([2, 784], 'x'), tensor([4, 4, 1, 64], 'w'), tensor([2, 14 * 14 * 64], 'y')];
    expectShapeError(() => convTranspose2d(gpu.ctx, x, w, y, { geometry: D1 }), 'convTranspose2d', 'is not transposed', 'call conv2d');
    expectShapeError(() => conv2d(gpu.ctx, x, w, y, { geometry: G2 }), 'conv2d', 'is transposed', 'call convTranspose2d');
    expectShapeError(() => conv2d(gpu.ctx, x, w, y, { geometry: D1, bias: tensor([1], 'b1') }), 'conv2d', 'bias must have shape [64]');
    expectShapeError(() => conv2d(gpu.ctx, x, tensor([3, 3, 1, 1], 'w3'), x, { geometry: { ...D1, outC: 1, kernel: 3, stride: 1 } }), 'conv2d', 'overlaps', 'x:f32[2, 784]');
    expectShapeError(() => conv2dInputGrad(gpu.ctx, y, w, x, { geometry: D1, gradOf: { output: tensor([2, 783], 'saved'), activation: 'tanh' } }), 'conv2dInputGrad', 'gradOf.output must have shape [2, 784]');
    expectShapeError(() => conv2dWeightGrad(gpu.ctx, x, y, w, { geometry: D1, biasGrad: tensor([1], 'db') }), 'conv2dWeightGrad', 'biasGrad must have shape [64]');
    expectShapeError(() => conv2d(gpu.ctx, x, w, y, { geometry: D1, strategy: 'magic' as never }), 'conv2d', "unknown strategy 'magic'");
    // The direct kernel, asked for where it does not apply: 64 columns; the tiled strategy.
    expectShapeError(() => conv2d(gpu.ctx, x, w, y, { geometry: D1, strategy: 'register', direct: true }), 'conv2d', 'the direct kernel takes', '392x16x64 from 1 channel,', 'leave direct unset');
    expectShapeError(() => conv2dInputGrad(gpu.ctx, y, w, x, { geometry: D1, strategy: 'tiled', direct: true }), 'conv2dInputGrad', 'the direct kernel takes', 'strategy tiled');
  });
  test('a product whose launch grid exceeds the adapter', () => {
    // The plain register kernel runs 4 output pixels per workgroup along y.
    const side = Math.ceil(Math.sqrt(4 * (gpu.ctx.limits.maxComputeWorkgroupsPerDimension + 1)));
    const geometry: Conv2dGeometry = { batch: 1, inH: side, inW: side, inC: 1, outC: 1, kernel: 1, stride: 1, padding: 0, transposed: false };
    const [x, w, y] = [tensor([1, side * side], 'x'), tensor([1, 1, 1, 1], 'w'), tensor([1, side * side], 'y')];
    expectShapeError(() => conv2d(gpu.ctx, x, w, y, { geometry, strategy: 'register', subgroups: false }), 'conv2d', `[${side * side}, 1] needs`, 'workgroups, above this adapter');
    // The direct kernel (one column from 8 channels) runs a pixel per lane: past its grid the
    // GEMM kernels take the product, and asking for it by name is refused.
    const lanes = (gpu.ctx.adapter.isCpu ? 8 : 64) * (gpu.ctx.limits.maxComputeWorkgroupsPerDimension + 1);
    const wide: Conv2dGeometry = { ...geometry, inH: 1, inW: lanes, inC: 8 };
    const [x8, w8, y8] = [tensor([1, lanes * 8], 'x8'), tensor([1, 1, 8, 1], 'w8'), tensor([1, lanes], 'y8')];
    expect(conv2d(gpu.ctx, x8, w8, y8, { geometry: wide, strategy: 'register' }).kind).toBe('dispatch');
    expectShapeError(() => conv2d(gpu.ctx, x8, w8, y8, { geometry: wide, strategy: 'register', direct: true }), 'conv2d', 'the direct kernel needs', 'above this adapter');
  });
});

describe('blocks and gathers into them', () => {
  const allocate = { acquire: (shape: Shape, dtype: DType, label: string) => gpu.tensor(shape, label, dtype) };
  test('a block count that is not a positive integer, u8 blocks, a block past the end', () => {
    expectShapeError(() => new TensorBlocks(allocate, 0, [4, 2], 'f32', 'none'), "blocks 'none'", 'count', '0');
    expectShapeError(() => new TensorBlocks(allocate, 2.5, [4, 2], 'f32', 'half'), "blocks 'half'", '2.5');
    expectShapeError(() => new TensorBlocks(allocate, 2, [4], 'u8', 'bytes'), "blocks 'bytes'", 'u8');
    const blocks = new TensorBlocks(allocate, 3, [5, 2], 'f32', 'rows');
    expect(blocks.stride).toBe(64); // 10 values padded to 256 bytes
    expect(blocks.block(2).byteOffset - blocks.block(0).byteOffset).toBe(2 * 256);
    expectShapeError(() => blocks.block(3), 'rows', 'block 3', '3 blocks');
  });
  test('gathers into blocks of the wrong width, too few indices, or 1-D blocks for rows', () => {
    const src = tensor([10, 2], 'src');
    const indices = tensor([12], 'idx', 'u32');
    const blocks = (count: number, shape: Shape, dtype: DType = 'f32') => new TensorBlocks(allocate, count, shape, dtype, 'blocks');
    expectShapeError(() => gatherRows(gpu.ctx, src, indices, blocks(3, [4, 3])), 'gatherRows', 'as many columns');
    expectShapeError(() => gatherRows(gpu.ctx, src, indices, blocks(4, [4, 2])), 'gatherRows', 'indices 0..16', '12 indices');
    expectShapeError(() => gatherRows(gpu.ctx, src, indices, blocks(3, [4])), 'gatherRows', 'must be 2-D');
    expectShapeError(() => gatherValues(gpu.ctx, tensor([10], 'labels'), indices, blocks(3, [4, 2])), 'gatherValues', 'must be 1-D');
    expect(gatherRows(gpu.ctx, src, indices, blocks(3, [4, 2])).label).toContain('in 3 blocks');
  });
  test('gathers that draw their indices: a domain past the source, too few positions, a short or overlapping keep', () => {
    const src = tensor([10, 2], 'src');
    const dst = tensor([4, 2], 'dst');
    const clock = tensor([4], 'clock', 'u32');
    const permutation = (domain: number) => ({ domain, seed: 1, stream: 3, clock });
    expectShapeError(() => gatherRows(gpu.ctx, src, { permutation: permutation(11) }, dst), 'gatherRows', 'permutation of 11 rows', "source's 10");
    expectShapeError(() => gatherRows(gpu.ctx, src, { permutation: permutation(5) }, dst, { indexOffset: 2 }), 'gatherRows', 'positions 2..6', 'domain 5');
    expectShapeError(() => gatherRows(gpu.ctx, src, { permutation: permutation(10), into: tensor([3], 'kept', 'u32') }, dst), 'gatherRows', 'kept', '0..4');
    expectShapeError(() => gatherRows(gpu.ctx, src, { permutation: permutation(10), into: tensor([4], 'kept', 'f32') }, dst), 'gatherRows', 'kept', 'u32');
    expectShapeError(() => gatherRows(gpu.ctx, src, { permutation: permutation(10), into: clock }, dst), 'gatherRows', 'clock', 'overlaps');
    expectShapeError(() => gatherValues(gpu.ctx, tensor([10], 'labels'), { permutation: { ...permutation(10), seed: -1 } }, tensor([4], 'out')), 'gatherValues', 'seed');
    expect(gatherRows(gpu.ctx, src, { permutation: permutation(10), into: tensor([4], 'kept', 'u32') }, dst).label).toContain('permutation stream 3');
  });
});
