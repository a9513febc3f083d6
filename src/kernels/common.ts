// What every kernel module shares: the activation codes, 1-D launch grids, shape checks.

import workgroupSumSource from '../../shaders/lib/workgroup_sum.wgsl?raw';
import type { GpuContext, Workgroups } from '../gpu/context.ts';
import { ShapeError } from '../gpu/errors.ts';
import { defineShader } from '../gpu/shader.ts';
import { createTensor, formatShape, type DType, type Tensor } from '../tensor/tensor.ts';

export type Activation = 'identity' | 'sigmoid' | 'relu' | 'leaky_relu' | 'tanh';

export const ACTIVATIONS: readonly Activation[] = ['identity', 'sigmoid', 'relu', 'leaky_relu', 'tanh'];

/** workgroup_sum(lid, x): a fixed-order sum over a workgroup of WG lanes (the includer's override). */
export const workgroupSumShader = defineShader('lib/workgroup_sum.wgsl', workgroupSumSource);

/** The code shaders/lib/activation.wgsl switches on. */
export function activationCode(act: Activation): number {
  const code = ACTIVATIONS.indexOf(act);
  if (code < 0) throw new ShapeError(`unknown activation '${act}' (expected one of ${ACTIVATIONS.join(', ')})`);
  return code;
}

/** Default leaky-ReLU slope (the DCGAN / GAN-hacks value). */
export const DEFAULT_LEAK = 0.2;

export const ELEMENTWISE_WG = 256;

/**
 * Workgroups covering `n` invocations of `wg` lanes: x up to the per-dimension limit, the
 * rest in y. Shaders compute the linear index as `(wid.y * nwg.x + wid.x) * WG + lid`.
 */
export function grid1d(ctx: GpuContext, n: number, wg = ELEMENTWISE_WG): Workgroups {
  const groups = Math.max(1, Math.ceil(n / wg));
  const maxX = ctx.limits.maxComputeWorkgroupsPerDimension;
  if (groups <= maxX) return [groups, 1, 1];
  const y = Math.ceil(groups / maxX);
  return [Math.ceil(groups / y), y, 1];
}

export function expectDType(op: string, t: Tensor, dtype: DType): void {
  if (t.dtype !== dtype) throw new ShapeError(`${op}: ${t} must be ${dtype}`);
}

export function expectShape(op: string, t: Tensor, shape: readonly number[]): void {
  if (t.shape.length !== shape.length || t.shape.some((d, i) => d !== shape[i])) {
    throw new ShapeError(`${op}: ${t} must have shape ${formatShape(shape)}`);
  }
}

export function expectSameShape(op: string, a: Tensor, b: Tensor): void {
  if (a.size !== b.size || a.shape.length !== b.shape.length || a.shape.some((d, i) => d !== b.shape[i])) {
    throw new ShapeError(`${op}: shapes differ: ${a} vs ${b}`);
  }
}

export function expect2d(op: string, t: Tensor): void {
  if (t.shape.length !== 2) throw new ShapeError(`${op}: ${t} must be 2-D`);
}

/** Tensors bound to one dispatch where one is written must not overlap (WebGPU forbids it). */
export function expectDistinct(op: string, ...ts: Tensor[]): void {
  for (let i = 0; i < ts.length; i++) {
    for (let j = i + 1; j < ts.length; j++) {
      if (ts[i].overlaps(ts[j])) throw new ShapeError(`${op}: ${ts[i]} overlaps ${ts[j]}; use separate tensors`);
    }
  }
}

export function expectFinite(op: string, name: string, value: number): void {
  if (!Number.isFinite(value)) throw new ShapeError(`${op}: ${name} must be a finite number, got ${value}`);
}

/**
 * WebGPU forbids a dispatch to write a buffer it also reads, even through disjoint ranges (the
 * whole buffer is one usage), so a written tensor needs a buffer of its own among the inputs.
 */
export function expectSeparateBuffers(op: string, written: readonly Tensor[], read: readonly Tensor[]): void {
  for (const w of written) {
    for (const r of read) {
      if (w.buffer === r.buffer) {
        throw new ShapeError(`${op}: ${w} is written in the buffer of ${r}, which the same dispatch reads; WebGPU forbids that, so give ${w.label} a buffer of its own`);
      }
    }
  }
}

/**
 * 16-byte buffers bound where a kernel's writable bindings are unused (a matmul's bias gradient,
 * an update's second state). Two, since writable bindings may not alias each other.
 */
const spareOutputs = new WeakMap<GpuContext, [Tensor, Tensor]>();
export function spareOutput(ctx: GpuContext, which: 0 | 1 = 0): Tensor {
  let t = spareOutputs.get(ctx);
  if (!t) {
    t = [createTensor(ctx, [4], 'f32', 'unused output'), createTensor(ctx, [4], 'f32', 'unused output 2')];
    spareOutputs.set(ctx, t);
  }
  return t[which];
}

/**
 * Where `t`, a view, starts in the flat buffer `flat` (in elements), for kernels that address a
 * network's flat parameters by offset; a ShapeError naming `op` unless `t` lies whole inside it.
 */
export function elementOffset(op: string, t: Tensor, flat: Tensor, what: string, flatName = 'the parameters'): number {
  const at = (t.byteOffset - flat.byteOffset) / 4;
  if (t.buffer !== flat.buffer || !Number.isInteger(at) || at < 0 || at + t.size > flat.size) {
    throw new ShapeError(`${op}: the ${what} ${t} must be a view of ${flatName} ${flat}`);
  }
  return at;
}
