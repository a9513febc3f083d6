// Samples of a 2-D equal-weight Gaussian mixture, drawn on the GPU (toy GAN targets).

import source from '../../shaders/mixture.wgsl?raw';
import { uniforms, type Dispatch, type GpuContext, type KernelSpec } from '../gpu/context.ts';
import { ShapeError } from '../gpu/errors.ts';
import { defineShader } from '../gpu/shader.ts';
import type { Tensor } from '../tensor/tensor.ts';
import { expectDistinct, expectDType, expectFinite, grid1d } from './common.ts';
import { normalShader, philoxShader, resolveRandomOptions, type RandomOptions } from './random.ts';

const shader = defineShader('mixture.wgsl', source, [philoxShader, normalShader]);
const SAMPLE: KernelSpec = { shader, entry: 'sample_mixture', bindings: ['write', 'read', 'read', 'uniform'] };
const WG = 64;

/** out[i] = centers[m_i] + std * z_i, m_i uniform over the modes, z_i ~ N(0, I_2). */
export function sampleMixture(ctx: GpuContext, out: Tensor, centers: Tensor, opts: RandomOptions & { std: number }): Dispatch {
  const op = `sampleMixture(${out}, ${centers})`;
  expectDType(op, out, 'f32');
  expectDType(op, centers, 'f32');
  if (out.rank !== 2 || out.cols !== 2) throw new ShapeError(`${op}: ${out} must have shape [n, 2]`);
  if (centers.rank !== 2 || centers.cols !== 2) throw new ShapeError(`${op}: centers ${centers} must have shape [modes, 2]`);
  expectFinite(op, 'std', opts.std);
  if (opts.std < 0) throw new ShapeError(`${op}: std must be >= 0, got ${opts.std}`);
  expectDistinct(op, out, centers);
  const { seed, stream, offset, clock } = resolveRandomOptions(ctx, op, out, opts);
  return ctx.dispatch(SAMPLE, {
    label: op,
    constants: { WG },
    resources: [
      out.binding(),
      centers.binding(),
      clock.binding(),
      uniforms([
        ['u32', out.rows],
        ['u32', centers.rows],
        ['u32', seed % 2 ** 32],
        ['u32', Math.floor(seed / 2 ** 32)],
        ['u32', stream],
        ['u32', offset],
        ['f32', opts.std],
      ]),
    ],
    workgroups: grid1d(ctx, out.rows, WG),
  });
}
