// f32 tensors to f16 (IEEE binary16, two to a word) on the GPU: operands for the f16-input
// matmul (matmul.ts), which reads them widened to f32 and accumulates in f32. Host conversions
// and the reference are in tensor/half.ts.

import source from '../../shaders/half.wgsl?raw';
import { uniforms, type Dispatch, type GpuContext, type KernelSpec } from '../gpu/context.ts';
import { ShapeError } from '../gpu/errors.ts';
import { defineShader } from '../gpu/shader.ts';
import type { Tensor } from '../tensor/tensor.ts';
import { ELEMENTWISE_WG, expectDType, grid1d } from './common.ts';

const TO_F16: KernelSpec = { shader: defineShader('half.wgsl', source), entry: 'to_f16', bindings: ['read', 'write', 'uniform'] };

/**
 * dst = src rounded to binary16, element for element (the shapes' element counts must agree).
 * Each value becomes one of its two binary16 neighbours; values beyond +-65504 are left
 * indeterminate by WGSL, so keep operands inside binary16's range.
 */
export function toF16(ctx: GpuContext, src: Tensor, dst: Tensor): Dispatch {
  const op = `toF16(${src} -> ${dst})`;
  expectDType(op, src, 'f32');
  expectDType(op, dst, 'f16');
  if (src.size !== dst.size) throw new ShapeError(`${op}: ${src.size} values for ${dst.size} elements`);
  if (src.buffer === dst.buffer) throw new ShapeError(`${op}: the source and the destination must be different buffers`);
  const words = Math.ceil(src.size / 2);
  return ctx.dispatch(TO_F16, {
    label: op,
    constants: { WG: ELEMENTWISE_WG },
    resources: [src.binding(), dst.binding(), uniforms([['u32', src.size]])],
    workgroups: grid1d(ctx, words, ELEMENTWISE_WG),
  });
}
