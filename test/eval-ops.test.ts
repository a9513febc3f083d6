// The documented errors of the evaluation's kernels (row reductions, softmax cross-entropy):
// each is thrown before anything is encoded, as a ShapeError naming the op and the tensors.

import { afterAll, beforeAll, describe, expect, test } from 'vitest';
import type { GpuContext } from '../src/gpu/context.ts';
import { ShapeError } from '../src/gpu/errors.ts';
import { softmaxCrossEntropyGrad, softmaxCrossEntropyLoss } from '../src/kernels/crossentropy.ts';
import { rowLogSumExp, rowSumSquares } from '../src/kernels/rowreduce.ts';
import { createTensor, type DType, type Shape, type Tensor } from '../src/tensor/tensor.ts';
import { openTestContext } from './gpu.ts';

let ctx: GpuContext;
const made: Tensor[] = [];
beforeAll(async () => {
  ctx = await openTestContext();
});
afterAll(async () => {
  for (const t of made) t.buffer.destroy();
  await ctx?.destroy();
});

function tensor(shape: Shape, label: string, dtype: DType = 'f32'): Tensor {
  const t = createTensor(ctx, shape, dtype, label);
  made.push(t);
  return t;
}

function expectShapeError(record: () => unknown, ...fragments: string[]): void {
  let error: unknown;
  try {
    record();
  } catch (e) {
    error = e;
  }
  expect(error).toBeInstanceOf(ShapeError);
  for (const f of fragments) expect((error as Error).message).toContain(f);
}

describe('row reductions', () => {
  test('one output per row', () => {
    const x = tensor([4, 6], 'x');
    expectShapeError(() => rowSumSquares(ctx, x, tensor([6], 'norms')), 'rowSumSquares', 'x:f32[4, 6]', 'norms:f32[6]');
    expectShapeError(() => rowLogSumExp(ctx, x, tensor([4, 2], 'lse')), 'rowLogSumExp', 'lse:f32[4, 2]');
    // [4] and [4, 1] are both accepted.
    expect(rowSumSquares(ctx, x, tensor([4, 1], 'col')).kind).toBe('dispatch');
  });

  test('distance norms must match the rows and the columns', () => {
    const [x, out] = [tensor([4, 6], 'dots'), tensor([4], 'lse')];
    expectShapeError(() => rowLogSumExp(ctx, x, out, { distances: { rowNorms: tensor([6], 'rn'), colNorms: tensor([6], 'cn') } }), 'rowLogSumExp', 'rn:f32[6]', 'one per row');
    expectShapeError(() => rowLogSumExp(ctx, x, out, { distances: { rowNorms: tensor([4], 'rn'), colNorms: tensor([4], 'cn') } }), 'cn:f32[4]', 'one per column');
  });

  test('bad scale, lanes, dtype, rank and aliasing', () => {
    const [x, out] = [tensor([4, 6], 'x'), tensor([4], 'out')];
    expectShapeError(() => rowLogSumExp(ctx, x, out, { scale: NaN }), 'scale must be a finite number');
    expectShapeError(() => rowLogSumExp(ctx, x, out, { scale: 1e300 }), 'overflows f32');
    expectShapeError(() => rowSumSquares(ctx, x, out, { rowLanes: 3 }), 'rowLanes must be a power of two');
    expectShapeError(() => rowSumSquares(ctx, x, out, { rowLanes: 128 }), 'rowLanes must be a power of two');
    expectShapeError(() => rowSumSquares(ctx, tensor([4, 6], 'u', 'u32'), out), 'u:u32[4, 6] must be f32');
    expectShapeError(() => rowSumSquares(ctx, tensor([24], 'flat'), tensor([1], 'one')), 'flat:f32[24] must be 2-D');
    const big = tensor([64, 64], 'big');
    expectShapeError(() => rowSumSquares(ctx, big, big.rowsView(0, 1).reshape([64])), 'overlaps');
  });
});

describe('softmax cross-entropy', () => {
  test('labels are u32, one per row', () => {
    const [z, g, m] = [tensor([5, 10], 'logits'), tensor([5, 10], 'grad'), tensor([8], 'metrics')];
    expectShapeError(() => softmaxCrossEntropyGrad(ctx, z, tensor([5], 'labels'), g, { scale: 1 }), 'softmaxCrossEntropyGrad', 'labels:f32[5] must be u32');
    expectShapeError(() => softmaxCrossEntropyGrad(ctx, z, tensor([4], 'labels', 'u32'), g, { scale: 1 }), 'labels:u32[4]', 'logits:f32[5, 10]');
    expectShapeError(() => softmaxCrossEntropyLoss(ctx, z, tensor([50], 'labels', 'u32'), m, { slot: 0, scale: 1 }), 'softmaxCrossEntropyLoss', 'labels:u32[50]');
  });

  test('gradient shape, slot, scale and aliasing', () => {
    const [z, y, m] = [tensor([5, 10], 'logits'), tensor([5], 'labels', 'u32'), tensor([8], 'metrics')];
    expectShapeError(() => softmaxCrossEntropyGrad(ctx, z, y, tensor([10, 5], 'grad'), { scale: 1 }), 'shapes differ', 'grad:f32[10, 5]');
    expectShapeError(() => softmaxCrossEntropyGrad(ctx, z, y, z, { scale: 1 }), 'overlaps');
    expectShapeError(() => softmaxCrossEntropyGrad(ctx, z, y, tensor([5, 10], 'grad'), { scale: Infinity }), 'scale must be a finite number');
    expectShapeError(() => softmaxCrossEntropyLoss(ctx, z, y, m, { slot: 8, scale: 1 }), 'slot 8 is out of range', 'metrics:f32[8]');
    expectShapeError(() => softmaxCrossEntropyLoss(ctx, tensor([50], 'flat'), tensor([1], 'one', 'u32'), m, { slot: 0, scale: 1 }), 'flat:f32[50] must be 2-D');
  });
});
