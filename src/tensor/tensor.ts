// A GPU tensor: a storage buffer with a shape and a dtype. `u8` data is packed four to a
// u32 word (WGSL has no 8-bit type), `f16` two to a word (IEEE binary16 bit patterns: the
// host sees them as Uint16Array, half.ts converts); `f32` and `u32` are one element per word.

import type { GpuContext, ReadOptions } from '../gpu/context.ts';
import { ShapeError } from '../gpu/errors.ts';
import { halfBits } from './half.ts';

export type DType = 'f32' | 'u32' | 'u8' | 'f16';

export type Shape = readonly number[];

/** Bytes per element of each dtype (u8 is packed four to a word on the GPU). */
export const BYTES: Record<DType, number> = { f32: 4, u32: 4, u8: 1, f16: 2 };

/** Host arrays by dtype (f16 as bit patterns). */
export type HostArray = Float32Array | Uint32Array | Uint8Array | Uint16Array;
const HOST_ARRAYS = { f32: Float32Array, u32: Uint32Array, u8: Uint8Array, f16: Uint16Array } as const;

/** The dtype a host array uploads as (a Uint16Array holds f16 bit patterns). */
export function dtypeOf(data: HostArray): DType {
  return data instanceof Float32Array ? 'f32' : data instanceof Uint32Array ? 'u32' : data instanceof Uint16Array ? 'f16' : 'u8';
}

export function numel(shape: Shape): number {
  return shape.reduce((a, b) => a * b, 1);
}

export function formatShape(shape: Shape): string {
  return `[${shape.join(', ')}]`;
}

/** Bytes a buffer needs for `shape`: rounded up to 16 so every tensor can be read as vec4s. */
export function bufferBytes(shape: Shape, dtype: DType): number {
  return Math.max(16, Math.ceil((numel(shape) * BYTES[dtype]) / 16) * 16);
}

/** Every adapter's storage-binding offset alignment is at most this (the WebGPU maximum). */
export const VIEW_ALIGNMENT = 256;

export class Tensor {
  readonly buffer: GPUBuffer;
  readonly shape: Shape;
  readonly dtype: DType;
  readonly label: string;
  /** Where the tensor starts in its buffer: 0, or a multiple of 256 for a view. */
  readonly byteOffset: number;

  constructor(buffer: GPUBuffer, shape: Shape, dtype: DType, label: string, byteOffset = 0) {
    for (const d of shape) {
      if (!Number.isInteger(d) || d < 1) throw new ShapeError(`tensor '${label}': invalid shape ${formatShape(shape)}`);
    }
    if (byteOffset % VIEW_ALIGNMENT) {
      throw new ShapeError(`tensor '${label}': offset ${byteOffset} is not a multiple of ${VIEW_ALIGNMENT} bytes`);
    }
    if (buffer.size < byteOffset + numel(shape) * BYTES[dtype]) {
      throw new ShapeError(`tensor '${label}': buffer of ${buffer.size} bytes is too small for ${dtype}${formatShape(shape)} at offset ${byteOffset}`);
    }
    this.buffer = buffer;
    this.shape = shape;
    this.dtype = dtype;
    this.label = label;
    this.byteOffset = byteOffset;
  }

  /**
   * The binding a kernel uses: the tensor's range of its buffer, padded to 16 bytes so it
   * can be read as vec4s (buffers are allocated with that padding; views must leave room).
   */
  binding(): GPUBufferBinding {
    const size = Math.min(Math.ceil(this.byteLength / 16) * 16, this.buffer.size - this.byteOffset);
    return { buffer: this.buffer, offset: this.byteOffset, size };
  }

  /** Rows [start, start + count) of a 2-D tensor, sharing the buffer (offset must be 256-aligned). */
  rowsView(start: number, count: number, label = `${this.label}[${start}:${start + count}]`): Tensor {
    if (this.shape.length !== 2 || start < 0 || count < 1 || start + count > this.shape[0]) {
      throw new ShapeError(`rowsView of ${this}: rows ${start}..${start + count} out of range`);
    }
    const offset = this.byteOffset + start * this.shape[1] * BYTES[this.dtype];
    return new Tensor(this.buffer, [count, this.shape[1]], this.dtype, label, offset);
  }

  /** True when both tensors' byte ranges overlap in the same buffer. */
  overlaps(other: Tensor): boolean {
    if (this.buffer !== other.buffer) return false;
    return this.byteOffset < other.byteOffset + other.byteLength && other.byteOffset < this.byteOffset + this.byteLength;
  }

  get size(): number {
    return numel(this.shape);
  }

  /** Bytes of element data (not counting the padding to 16). */
  get byteLength(): number {
    return this.size * BYTES[this.dtype];
  }

  get rank(): number {
    return this.shape.length;
  }

  /** Rows and columns of a 2-D tensor (a vector [n] is one row of n). */
  get rows(): number {
    return this.shape.length === 1 ? 1 : this.shape[0];
  }

  get cols(): number {
    return this.shape[this.shape.length - 1];
  }

  toString(): string {
    return `${this.label}:${this.dtype}${formatShape(this.shape)}`;
  }

  /** The same buffer under another shape with the same element count. */
  reshape(shape: Shape, label = this.label): Tensor {
    if (numel(shape) !== this.size) {
      throw new ShapeError(`reshape '${this.label}': ${formatShape(this.shape)} -> ${formatShape(shape)} changes the element count`);
    }
    return new Tensor(this.buffer, shape, this.dtype, label, this.byteOffset);
  }
}

/** Creates a tensor with its own buffer, usable as storage and as a copy source/target. */
export function createTensor(ctx: GpuContext, shape: Shape, dtype: DType = 'f32', label = 'tensor'): Tensor {
  const size = bufferBytes(shape, dtype);
  const max = ctx.limits.maxStorageBufferBindingSize;
  if (size > max) {
    throw new ShapeError(
      `tensor '${label}' ${dtype}${formatShape(shape)} needs ${size} bytes, above this adapter's storage binding limit of ${max} bytes`,
    );
  }
  const buffer = ctx.device.createBuffer({
    label,
    size,
    usage: GPUBufferUsage.STORAGE | GPUBufferUsage.COPY_SRC | GPUBufferUsage.COPY_DST,
  });
  return new Tensor(buffer, shape, dtype, label);
}

/** Writes host data into a tensor; the array type must match the dtype. */
export function upload(ctx: GpuContext, t: Tensor, data: HostArray | readonly number[]): void {
  const typed = Array.isArray(data) ? toTyped(t.dtype, data as readonly number[]) : (data as HostArray);
  const expected = HOST_ARRAYS[t.dtype];
  if (!(typed instanceof expected)) {
    throw new ShapeError(`upload to ${t}: expected ${expected.name}, got ${typed.constructor.name}`);
  }
  if (typed.length !== t.size) {
    throw new ShapeError(`upload to ${t}: ${typed.length} values for ${t.size} elements`);
  }
  // writeBuffer needs a multiple of 4 bytes; pad u8 and f16 data with zeros.
  if (typed.byteLength % 4) {
    const padded = new Uint8Array(Math.ceil(typed.byteLength / 4) * 4);
    padded.set(new Uint8Array(typed.buffer, typed.byteOffset, typed.byteLength));
    ctx.device.queue.writeBuffer(t.buffer, t.byteOffset, padded);
  } else {
    ctx.device.queue.writeBuffer(t.buffer, t.byteOffset, typed.buffer, typed.byteOffset, typed.byteLength);
  }
}

/** Numbers as a dtype's host array (f16: each rounded to the nearest half). */
function toTyped(dtype: DType, data: readonly number[]): HostArray {
  return dtype === 'f16' ? Uint16Array.from(data, halfBits) : HOST_ARRAYS[dtype].from(data);
}

/** Reads an f32 tensor back (awaits the GPU). */
export async function download(ctx: GpuContext, t: Tensor, options?: ReadOptions): Promise<Float32Array> {
  if (t.dtype !== 'f32') throw new ShapeError(`download: ${t} is not f32 (use downloadU32 / downloadU8)`);
  return new Float32Array(await ctx.readBuffer(t.buffer, t.byteOffset, t.byteLength, options));
}

export async function downloadU32(ctx: GpuContext, t: Tensor): Promise<Uint32Array> {
  if (t.dtype !== 'u32') throw new ShapeError(`downloadU32: ${t} is not u32`);
  return new Uint32Array(await ctx.readBuffer(t.buffer, t.byteOffset, t.byteLength));
}

export async function downloadU8(ctx: GpuContext, t: Tensor): Promise<Uint8Array> {
  if (t.dtype !== 'u8') throw new ShapeError(`downloadU8: ${t} is not u8`);
  const bytes = await ctx.readBuffer(t.buffer, t.byteOffset, Math.ceil(t.byteLength / 4) * 4);
  return new Uint8Array(bytes, 0, t.size);
}

/** An f16 tensor's bit patterns (half.ts's halfValue reads them). */
export async function downloadF16(ctx: GpuContext, t: Tensor): Promise<Uint16Array> {
  if (t.dtype !== 'f16') throw new ShapeError(`downloadF16: ${t} is not f16`);
  const bytes = await ctx.readBuffer(t.buffer, t.byteOffset, Math.ceil(t.byteLength / 4) * 4);
  return new Uint16Array(bytes, 0, t.size);
}

/** Creates a tensor and uploads `data` into it (a Uint16Array holds f16 bit patterns). */
export function tensorFrom(ctx: GpuContext, data: HostArray, shape: Shape, label = 'tensor'): Tensor {
  const dtype = dtypeOf(data);
  const t = createTensor(ctx, shape, dtype, label);
  upload(ctx, t, data);
  return t;
}
