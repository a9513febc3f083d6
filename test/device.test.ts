// The device layer: errors surface with names and fixes, and the Node binding survives
// garbage collection, interleaved readbacks and shutdown with work in flight.

import { describe, expect, test } from 'vitest';
import type { GpuContext, KernelSpec } from '../src/gpu/context.ts';
import { AdapterError, GpuError, ShaderError, ShapeError } from '../src/gpu/errors.ts';
import { openContext } from '../src/gpu/open.ts';
import { defineShader } from '../src/gpu/shader.ts';
import { activationForward } from '../src/kernels/activations.ts';
import { matmul } from '../src/kernels/matmul.ts';
import { TensorPool } from '../src/tensor/pool.ts';
import { createTensor, download, tensorFrom } from '../src/tensor/tensor.ts';
import { openTestContext } from './gpu.ts';

const gc = (globalThis as { gc?: () => void }).gc;

async function withContext<T>(fn: (ctx: GpuContext) => Promise<T>): Promise<T> {
  const ctx = await openTestContext();
  try {
    return await fn(ctx);
  } finally {
    await ctx.destroy();
  }
}

describe('errors', () => {
  test('no adapter: names the fix', async () => {
    const noGpu = { requestAdapter: async () => null } as unknown as GPU;
    await expect(openContext(noGpu, { backend: 'vulkan', noAdapterHint: 'install mesa-vulkan-drivers' })).rejects.toThrow(
      /No WebGPU adapter.*mesa-vulkan-drivers/,
    );
    await expect(openContext(noGpu, { backend: 'vulkan', noAdapterHint: '' })).rejects.toBeInstanceOf(AdapterError);
  });

  test('an adapter below the required limits is refused, naming the limit', async () => {
    const small = {
      requestAdapter: async () => ({ limits: { maxStorageBufferBindingSize: 1 << 20, maxComputeWorkgroupStorageSize: 16384, maxComputeInvocationsPerWorkgroup: 256, maxStorageBuffersPerShaderStage: 8 } }),
    } as unknown as GPU;
    await expect(openContext(small, { backend: 'test', noAdapterHint: '' })).rejects.toThrow(/maxStorageBufferBindingSize is 1048576/);
  });

  test('a WGSL error names the file and line', () =>
    withContext(async (ctx) => {
      const broken = defineShader('broken.wgsl', '@compute @workgroup_size(1)\nfn main() {\n  let x: f32 = undefined_thing;\n}\n');
      const spec: KernelSpec = { shader: broken, entry: 'main', bindings: [] };
      ctx.pipeline(spec);
      const err = await ctx.ready().catch((e) => e);
      expect(err).toBeInstanceOf(ShaderError);
      expect(err.message).toMatch(/broken\.wgsl:3:\d+: error: .*undefined_thing/);
    }));

  test('an error the GPU reports asynchronously is thrown at the next sync point', () =>
    withContext(async (ctx) => {
      const t = createTensor(ctx, [4], 'f32', 't');
      t.buffer.destroy();
      ctx.device.queue.writeBuffer(t.buffer, 0, new Float32Array(4));
      await expect(ctx.flush()).rejects.toBeInstanceOf(GpuError);
    }));

  test('shape errors name the op and the shapes', () =>
    withContext(async (ctx) => {
      const a = createTensor(ctx, [3, 4], 'f32', 'a');
      const b = createTensor(ctx, [5, 6], 'f32', 'b');
      const c = createTensor(ctx, [3, 6], 'f32', 'c');
      expect(() => matmul(ctx, a, b, c)).toThrow(ShapeError);
      expect(() => matmul(ctx, a, b, c)).toThrow(/matmul.*\[3, 4\].*\[5, 6\]/);
      expect(() => activationForward(ctx, a, c, 'relu')).toThrow(/activationForward.*shapes differ/);
    }));

  test('using a destroyed context is an error, not a hang', async () => {
    const ctx = await openTestContext();
    const t = tensorFrom(ctx, new Float32Array([1, 2]), [2]);
    await ctx.destroy();
    await expect(download(ctx, t)).rejects.toThrow(/destroyed/);
  });
});

describe('robustness of the Node binding', () => {
  test('the device survives garbage collection of everything but the context', async () => {
    expect(gc, 'run with --expose-gc').toBeTypeOf('function');
    await withContext(async (ctx) => {
      const pool = new TensorPool(ctx);
      const x = pool.from(Float32Array.from({ length: 4096 }, (_, i) => i / 4096 - 0.5), [64, 64], 'x');
      const y = pool.acquire([64, 64], 'f32', 'y');
      const step = matmul(ctx, x, x, y, { activation: 'tanh' });
      for (let i = 0; i < 30; i++) {
        gc!();
        ctx.run([step], 20);
        const out = await download(ctx, y);
        expect(Number.isFinite(out[i])).toBe(true);
      }
      pool.destroy();
    });
  });

  test('readbacks interleaved with long dispatch loops', () =>
    withContext(async (ctx) => {
      const pool = new TensorPool(ctx);
      const a = pool.from(new Float32Array(256 * 256).fill(0.01), [256, 256], 'a');
      const c = pool.acquire([256, 256], 'f32', 'c');
      const step = matmul(ctx, a, a, c);
      const reads: Promise<Float32Array>[] = [];
      for (let i = 0; i < 20; i++) {
        ctx.run([step], 10);
        reads.push(download(ctx, c)); // not awaited: several maps in flight at once
        if (i % 5 === 0) gc?.();
      }
      const results = await Promise.all(reads);
      for (const r of results) expect(r[0]).toBeCloseTo(256 * 0.01 * 0.01, 5);
      pool.destroy();
    }));

  test('destroy waits for a readback in flight', async () => {
    const ctx = await openTestContext();
    const t = tensorFrom(ctx, new Float32Array([3, 1, 4, 1]), [4]);
    const pending = download(ctx, t);
    await ctx.destroy();
    expect(Array.from(await pending)).toEqual([3, 1, 4, 1]);
  });

  test('contexts opened and closed in a row', async () => {
    for (let i = 0; i < 5; i++) {
      await withContext(async (ctx) => {
        const t = tensorFrom(ctx, new Float32Array([i]), [1]);
        expect((await download(ctx, t))[0]).toBe(i);
      });
      gc?.();
    }
  });
});
