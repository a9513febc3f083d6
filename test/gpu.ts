// What the GPU test files share: the device, a tensor factory, and the error assertion.

import { afterAll, beforeAll, expect } from 'vitest';
import type { GpuContext } from '../src/gpu/context.ts';
import { ShapeError } from '../src/gpu/errors.ts';
import { openNodeContext } from '../src/gpu/node.ts';
import { createTensor, tensorFrom, type DType, type Shape, type Tensor } from '../src/tensor/tensor.ts';

/** Dawn in Node on whatever adapter the machine has (lavapipe in CI). */
export function openTestContext(): Promise<GpuContext> {
  return openNodeContext();
}

/**
 * A test file's device, opened before its tests and destroyed after them, with a factory for
 * tensors that are freed then too.
 */
export function useGpu(): {
  readonly ctx: GpuContext;
  tensor(shape: Shape, label?: string, dtype?: DType): Tensor;
  from(data: Float32Array | Uint32Array | Uint8Array, shape: Shape, label?: string): Tensor;
} {
  let ctx: GpuContext | undefined;
  const made: Tensor[] = [];
  beforeAll(async () => {
    ctx = await openTestContext();
  });
  afterAll(async () => {
    for (const t of made) t.buffer.destroy();
    await ctx?.destroy();
  });
  return {
    get ctx() {
      if (!ctx) throw new Error('useGpu: the context opens in beforeAll; use it inside tests');
      return ctx;
    },
    tensor(shape, label = 'tensor', dtype = 'f32') {
      const t = createTensor(this.ctx, shape, dtype, label);
      made.push(t);
      return t;
    },
    from(data, shape, label = 'tensor') {
      const t = tensorFrom(this.ctx, data, shape, label);
      made.push(t);
      return t;
    },
  };
}

/** Expects `record` to throw a ShapeError whose message contains every fragment. */
export function expectShapeError(record: () => unknown, ...fragments: string[]): void {
  let error: unknown;
  try {
    record();
  } catch (e) {
    error = e;
  }
  expect(error).toBeInstanceOf(ShapeError);
  for (const f of fragments) expect((error as Error).message).toContain(f);
}
