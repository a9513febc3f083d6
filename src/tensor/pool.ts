// A pool of tensor buffers. Everything a trainer or a check needs is acquired once, up
// front; released buffers are reused by later acquisitions of the same byte size, so a
// loop that acquires and releases per iteration still creates no new GPU buffers.

import type { GpuContext } from '../gpu/context.ts';
import { bufferBytes, createTensor, dtypeOf, Tensor, upload, type DType, type HostArray, type Shape } from './tensor.ts';

export class TensorPool {
  private readonly ctx: GpuContext;
  private readonly owned = new Set<GPUBuffer>();
  private readonly free = new Map<number, GPUBuffer[]>();
  /** Buffers created so far (stays flat once a loop reaches its steady state). */
  created = 0;

  constructor(ctx: GpuContext) {
    this.ctx = ctx;
  }

  /** A tensor of `shape`, on a reused buffer when one of the same size was released. */
  acquire(shape: Shape, dtype: DType = 'f32', label = 'tensor'): Tensor {
    const size = bufferBytes(shape, dtype);
    const reused = this.free.get(size)?.pop();
    if (reused) return new Tensor(reused, shape, dtype, label);
    const t = createTensor(this.ctx, shape, dtype, label);
    this.owned.add(t.buffer);
    this.created++;
    return t;
  }

  /** Acquires and fills from host data. */
  from(data: HostArray, shape: Shape, label = 'tensor'): Tensor {
    const t = this.acquire(shape, dtypeOf(data), label);
    upload(this.ctx, t, data);
    return t;
  }

  /** Returns a tensor's buffer to the pool. The caller must not use the tensor afterwards. */
  release(t: Tensor): void {
    if (!this.owned.has(t.buffer)) return;
    const list = this.free.get(t.buffer.size) ?? [];
    if (!list.includes(t.buffer)) list.push(t.buffer);
    this.free.set(t.buffer.size, list);
  }

  /** Bytes held by the pool's buffers. */
  get bytes(): number {
    let n = 0;
    for (const b of this.owned) n += b.size;
    return n;
  }

  /** Destroys every buffer the pool created. Call once the GPU no longer uses them. */
  destroy(): void {
    for (const b of this.owned) b.destroy();
    this.owned.clear();
    this.free.clear();
  }
}
