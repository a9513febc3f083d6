// The documented errors of the evaluation's kernels (row reductions, softmax cross-entropy):
// each is thrown before anything is encoded, as a ShapeError naming the op and the tensors.

import { describe, expect, test } from 'vitest';
import { softmaxCrossEntropyGrad, softmaxCrossEntropyLoss } from '../src/kernels/crossentropy.ts';
import { rowLogSumExp, rowSumSquares } from '../src/kernels/rowreduce.ts';
import { type DType, type Shape, type Tensor } from '../src/tensor/tensor.ts';
import { expectShapeError, useGpu } from './gpu.ts';

const gpu = useGpu();

const tensor = (shape: Shape, label: string, dtype: DType = 'f32'): Tensor => gpu.tensor(shape, label, dtype);


describe('row reductions', () => {
  test('one output per row', () => {
    const x = tensor([4, 6], 'x');
    expectShapeError(() => rowSumSquares(gpu.ctx, x, tensor([6], 'norms')), 'rowSumSquares', 'x:f32[4, 6]', 'norms:f32[6]');
    expectShapeError(() => rowLogSumExp(gpu.ctx, x, tensor([4, 2], 'lse')), 'rowLogSumExp', 'lse:f32[4, 2]');
    // [4] and [4, 1] are both accepted.
    expect(rowSumSquares(gpu.ctx, x, tensor([4, 1], 'col')).kind).toBe('dispatch');
  });

  test('distance norms must match the rows and the columns', () => {
    const [x, out] = [tensor([4, 6], 'dots'), tensor([4], 'lse')];
    expectShapeError(() => rowLogSumExp(gpu.ctx, x, out, { distances: { rowNorms: tensor([6], 'rn'), colNorms: tensor([6], 'cn') } }), 'rowLogSumExp', 'rn:f32[6]', 'one per row');
    expectShapeError(() => rowLogSumExp(gpu.ctx, x, out, { distances: { rowNorms: tensor([4], 'rn'), colNorms: tensor([4], 'cn') } }), 'cn:f32[4]', 'one per column');
  });

  test('bad scale, lanes, dtype, rank and aliasing', () => {
    const [x, out] = [tensor([4, 6], 'x'), tensor([4], 'out')];
    expectShapeError(() => rowLogSumExp(gpu.ctx, x, out, { scale: NaN }), 'scale must be a finite number');
    expectShapeError(() => rowLogSumExp(gpu.ctx, x, out, { scale: 1e300 }), 'overflows f32');
    expectShapeError(() => rowSumSquares(gpu.ctx, x, out, { rowLanes: 3 }), 'rowLanes must be a power of two');
    expectShapeError(() => rowSumSquares(gpu.ctx, x, out, { rowLanes: 128 }), 'rowLanes must be a power of two');
    expectShapeError(() => rowSumSquares(gpu.ctx, tensor([4, 6], 'u', 'u32'), out), 'u:u32[4, 6] must be f32');
    expectShapeError(() => rowSumSquares(gpu.ctx, tensor([24], 'flat'), tensor([1], 'one')), 'flat:f32[24] must be 2-D');
    const big = tensor([64, 64], 'big');
    expectShapeError(() => rowSumSquares(gpu.ctx, big, big.rowsView(0, 1).reshape([64])), 'overlaps');
  });
});

describe('softmax cross-entropy', () => {
  test('labels are u32, one per row', () => {
    const [z, g, m] = [tensor([5, 10], 'logits'), tensor([5, 10], 'grad'), tensor([8], 'metrics')];
    expectShapeError(() => softmaxCrossEntropyGrad(gpu.ctx, z, tensor([5], 'labels'), g, { scale: 1 }), 'softmaxCrossEntropyGrad', 'labels:f32[5] must be u32');
    expectShapeError(() => softmaxCrossEntropyGrad(gpu.ctx, z, tensor([4], 'labels', 'u32'), g, { scale: 1 }), 'labels:u32[4]', 'logits:f32[5, 10]');
    expectShapeError(() => softmaxCrossEntropyLoss(gpu.ctx, z, tensor([50], 'labels', 'u32'), m, { slot: 0, scale: 1 }), 'softmaxCrossEntropyLoss', 'labels:u32[50]');
  });

  test('gradient shape, slot, scale and aliasing', () => {
    const [z, y, m] = [tensor([5, 10], 'logits'), tensor([5], 'labels', 'u32'), tensor([8], 'metrics')];
    expectShapeError(() => softmaxCrossEntropyGrad(gpu.ctx, z, y, tensor([10, 5], 'grad'), { scale: 1 }), 'shapes differ', 'grad:f32[10, 5]');
    expectShapeError(() => softmaxCrossEntropyGrad(gpu.ctx, z, y, z, { scale: 1 }), 'overlaps');
    expectShapeError(() => softmaxCrossEntropyGrad(gpu.ctx, z, y, tensor([5, 10], 'grad'), { scale: Infinity }), 'scale must be a finite number');
    expectShapeError(() => softmaxCrossEntropyLoss(gpu.ctx, z, y, m, { slot: 8, scale: 1 }), 'slot 8 is out of range', 'metrics:f32[8]');
    expectShapeError(() => softmaxCrossEntropyLoss(gpu.ctx, tensor([50], 'flat'), tensor([1], 'one', 'u32'), m, { slot: 0, scale: 1 }), 'flat:f32[50] must be 2-D');
  });
});
