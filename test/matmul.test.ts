// Matmul's documented errors (ShapeErrors naming the op and every tensor with its shape, raised
// before anything is encoded) and the strategy choice: heuristic, tuned, stored, restored.

import { describe, expect, test } from 'vitest';
import {
  autotuneMatmul,
  clearMatmulChoices,
  heuristicMatmulStrategy,
  matmulChoices,
  matmulShapeClass,
  matmulStrategyFor,
  setMatmulChoices,
  tuningStoreKey,
  type TuningStore,
} from '../src/kernels/autotune.ts';
import { matmul } from '../src/kernels/matmul.ts';
import type { DType, Shape, Tensor } from '../src/tensor/tensor.ts';
import { expectShapeError, useGpu } from './gpu.ts';

const gpu = useGpu();
const tensor = (shape: Shape, label: string, dtype: DType = 'f32'): Tensor => gpu.tensor(shape, label, dtype);

describe('matmul errors', () => {
  test('inner dimensions differ, in each form', () => {
    const [a, b, c] = [tensor([4, 3], 'a'), tensor([5, 6], 'b'), tensor([4, 6], 'c')];
    expectShapeError(() => matmul(gpu.ctx, a, b, c), 'matmul A·B', 'a:f32[4, 3]', 'b:f32[5, 6]', 'c:f32[4, 6]', 'inner dimensions');
    expectShapeError(() => matmul(gpu.ctx, a, b, c, { transB: true }), 'matmul A·Bᵀ', 'a:f32[4, 3]', 'b:f32[5, 6]');
    expectShapeError(() => matmul(gpu.ctx, a, b, c, { transA: true }), 'matmul Aᵀ·B', 'a:f32[4, 3]', 'b:f32[5, 6]');
  });
  test('C of the wrong shape', () => {
    const [a, b, c] = [tensor([4, 3], 'a'), tensor([3, 6], 'b'), tensor([6, 4], 'c')];
    expectShapeError(() => matmul(gpu.ctx, a, b, c), 'matmul A·B', 'c:f32[6, 4]', '[4, 6]');
  });
  test('bias of the wrong length', () => {
    const [a, b, c] = [tensor([4, 3], 'a'), tensor([3, 6], 'b'), tensor([4, 6], 'c')];
    expectShapeError(() => matmul(gpu.ctx, a, b, c, { bias: tensor([5], 'bias') }), 'matmul A·B', 'bias:f32[5]', 'bias must have shape [6]');
    expect(matmul(gpu.ctx, a, b, c, { bias: tensor([1, 6], 'row bias') }).kind).toBe('dispatch');
  });
  test('operands that are not f32 (or both f16) or not 2-D', () => {
    const [b, c] = [tensor([3, 6], 'b'), tensor([4, 6], 'c')];
    expectShapeError(() => matmul(gpu.ctx, tensor([4, 3], 'ints', 'u32'), b, c), 'matmul A·B', 'ints:u32[4, 3]', 'both be f32 or both f16, got u32 and f32');
    expectShapeError(() => matmul(gpu.ctx, tensor([4, 3], 'a'), b, c, { bias: tensor([6], 'ints', 'u32') }), 'matmul A·B', 'ints:u32[6] must be f32');
    expectShapeError(() => matmul(gpu.ctx, tensor([12], 'flat'), b, c), 'matmul A·B', 'flat:f32[12]', 'must be 2-D');
  });
  test('the narrow kernel asked for more than 2 columns', () => {
    const [a, b, c] = [tensor([9, 3], 'a'), tensor([3, 3], 'b'), tensor([9, 3], 'c')];
    expectShapeError(() => matmul(gpu.ctx, a, b, c, { strategy: 'register', narrow: true }), 'matmul A·B', 'at most 2 columns', '[9, 3]', 'narrow');
    expect(matmul(gpu.ctx, a, tensor([3, 2], 'b2'), tensor([9, 2], 'c2'), { strategy: 'register', narrow: true }).kind).toBe('dispatch');
  });
  test('C overlapping an input', () => {
    const a = tensor([4, 4], 'a');
    expectShapeError(() => matmul(gpu.ctx, a, tensor([4, 4], 'b'), a), 'matmul A·B', 'overlaps', 'a:f32[4, 4]');
  });
  test('gradOf with accumulate, a bias or an activation, or of the wrong shape', () => {
    const [a, b, c, y] = [tensor([4, 3], 'a'), tensor([3, 6], 'b'), tensor([4, 6], 'c'), tensor([4, 6], 'y')];
    const gradOf = { output: y, activation: 'tanh' } as const;
    expectShapeError(() => matmul(gpu.ctx, a, b, c, { gradOf, accumulate: true }), 'matmul A·B', 'y:f32[4, 6]', 'accumulate');
    expectShapeError(() => matmul(gpu.ctx, a, b, c, { gradOf, bias: tensor([6], 'bias') }), 'matmul A·B', 'bias:f32[6]', 'gradOf');
    expectShapeError(() => matmul(gpu.ctx, a, b, c, { gradOf, activation: 'relu' }), 'matmul A·B', 'gradOf');
    expectShapeError(() => matmul(gpu.ctx, a, b, c, { gradOf: { output: tensor([6, 4], 'yT'), activation: 'relu' } }), 'matmul A·B', 'yT:f32[6, 4]');
  });
  test('biasGrad of the wrong length, or overlapping another operand', () => {
    const [a, b, c] = [tensor([3, 4], 'a'), tensor([3, 6], 'b'), tensor([4, 6], 'c')];
    expectShapeError(() => matmul(gpu.ctx, a, b, c, { transA: true, biasGrad: tensor([4], 'db4') }), 'matmul Aᵀ·B', 'db4:f32[4]', 'biasGrad must have shape [6]');
    expectShapeError(() => matmul(gpu.ctx, a, b, c, { transA: true, biasGrad: tensor([6], 'dbu', 'u32') }), 'matmul Aᵀ·B', 'dbu:u32[6]', 'must be f32');
    expectShapeError(() => matmul(gpu.ctx, a, b, c, { transA: true, biasGrad: c.rowsView(0, 1).reshape([6]) }), 'matmul Aᵀ·B', 'biasGrad overlaps', 'c:f32[4, 6]');
    expect(matmul(gpu.ctx, a, b, c, { transA: true, biasGrad: tensor([1, 6], 'row db') }).kind).toBe('dispatch');
  });
  test('unknown activation or strategy, non-finite leak', () => {
    const [a, b, c] = [tensor([4, 3], 'a'), tensor([3, 6], 'b'), tensor([4, 6], 'c')];
    expectShapeError(() => matmul(gpu.ctx, a, b, c, { activation: 'gelu' as never }), 'unknown activation');
    expectShapeError(() => matmul(gpu.ctx, a, b, c, { strategy: 'magic' as never }), 'matmul A·B', "unknown strategy 'magic'");
    expectShapeError(() => matmul(gpu.ctx, a, b, c, { activation: 'leaky_relu', leak: NaN }), 'matmul A·B', 'leak');
  });
});

describe('matmul strategy choice', () => {
  test('before tuning: the heuristic for the adapter', () => {
    clearMatmulChoices(gpu.ctx);
    expect(heuristicMatmulStrategy(gpu.ctx)).toBe(gpu.ctx.adapter.isCpu ? 'register' : 'tiled');
    expect(matmulStrategyFor(gpu.ctx, { m: 100, n: 100, k: 100 })).toBe(heuristicMatmulStrategy(gpu.ctx));
  });
  test('shape classes separate forms and sizes', () => {
    expect(matmulShapeClass({ m: 100, n: 100, k: 784 })).toBe('NN:m');
    expect(matmulShapeClass({ m: 100, n: 100, k: 784, transB: true })).toBe('NT:m');
    expect(matmulShapeClass({ m: 1, n: 1, k: 1, transA: true })).toBe('TN:xs');
    expect(matmulShapeClass({ m: 1024, n: 1024, k: 1024 })).toBe('NN:xl');
  });
  test('installed choices apply to their class and the nearest tuned size of the same form', () => {
    clearMatmulChoices(gpu.ctx);
    const other = heuristicMatmulStrategy(gpu.ctx) === 'register' ? 'tiled' : 'register';
    setMatmulChoices(gpu.ctx, [{ shapeClass: 'NN:s', shape: { m: 100, n: 128, k: 100 }, strategy: other, gflops: {}, source: 'measured' }]);
    expect(matmulStrategyFor(gpu.ctx, { m: 100, n: 128, k: 100 })).toBe(other);
    expect(matmulStrategyFor(gpu.ctx, { m: 1024, n: 1024, k: 1024 })).toBe(other);
    expect(matmulStrategyFor(gpu.ctx, { m: 100, n: 128, k: 100, transB: true })).toBe(heuristicMatmulStrategy(gpu.ctx));
    clearMatmulChoices(gpu.ctx);
  });
  test('autotune measures both strategies, installs the clearly faster, and stores and restores the choice', async () => {
    clearMatmulChoices(gpu.ctx);
    const items = new Map<string, string>();
    const store: TuningStore = { getItem: (k) => items.get(k) ?? null, setItem: (k, v) => void items.set(k, v) };
    const shapes = [{ m: 16, n: 32, k: 8 }, { m: 16, n: 32, k: 8, transB: true }];
    const tuned = await autotuneMatmul(gpu.ctx, shapes, { store, budgetMs: 5 });
    expect(tuned.map((c) => c.shapeClass)).toEqual(['NN:xs', 'NT:xs']);
    for (const c of tuned) {
      expect(c.source).toBe('measured');
      expect(c.gflops.register).toBeGreaterThan(0);
      expect(c.gflops.tiled).toBeGreaterThan(0);
      // The heuristic's strategy stays unless the other measured over 1.2x faster.
      const preferred = heuristicMatmulStrategy(gpu.ctx);
      const other = preferred === 'register' ? 'tiled' : 'register';
      expect(c.strategy).toBe(c.gflops[other]! > 1.2 * c.gflops[preferred]! ? other : preferred);
      expect(matmulStrategyFor(gpu.ctx, c.shape)).toBe(c.strategy);
    }
    expect(JSON.parse(items.get(tuningStoreKey(gpu.ctx))!)['NN:xs'].strategy).toBe(tuned[0].strategy);

    // A fresh start reads the store instead of measuring.
    clearMatmulChoices(gpu.ctx);
    const restored = await autotuneMatmul(gpu.ctx, shapes, { store });
    expect(restored.map((c) => [c.shapeClass, c.strategy, c.source])).toEqual(tuned.map((c) => [c.shapeClass, c.strategy, 'stored']));
    expect(matmulChoices(gpu.ctx).length).toBe(2);
    clearMatmulChoices(gpu.ctx);
  });
  test('a damaged store entry is ignored', async () => {
    clearMatmulChoices(gpu.ctx);
    const store: TuningStore = { getItem: () => '{"NN:xs": {"shapeClass": "NN:xs", "strategy": "warp"}}', setItem: () => {} };
    const [choice] = await autotuneMatmul(gpu.ctx, [{ m: 16, n: 32, k: 8 }], { store, budgetMs: 5 });
    expect(choice.source).toBe('measured');
    clearMatmulChoices(gpu.ctx);
  });
});
