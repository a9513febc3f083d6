import type { GpuContext } from '../gpu/context.ts';
import { activationBackward, activationForward } from '../kernels/activations.ts';
import { ACTIVATIONS, DEFAULT_LEAK } from '../kernels/common.ts';
import * as ref from '../reference/activations.ts';
import { download, tensorFrom } from '../tensor/tensor.ts';
import { combine, compare, EPS32, randomF32, type Check } from './check.ts';

// exp/tanh in WGSL are not correctly rounded: a few ulp relative, plus an absolute floor for
// outputs near 0 (sigmoid of very negative inputs, tanh near 0) where relative error is moot.
const TOL = { abs: 1e-6, rel: 16 * EPS32 * 8, why: 'f32 transcendental functions: ~1e-6 abs, 8 ulp rel' };

const SIZES = [1, 7, 256, 1000, 65_537];

export const activationChecks: Check[] = ACTIVATIONS.flatMap((act) =>
  SIZES.map((n): Check => ({
    kernel: `activation ${act}`,
    case: `n=${n}`,
    async run(ctx: GpuContext) {
      // Inputs span the saturating ranges, including exact 0 and large magnitudes.
      const xs = randomF32(n, 11 + n, -30, 30);
      xs[0] = 0;
      const grads = randomF32(n, 17 + n);
      const x = tensorFrom(ctx, xs, [n], 'x');
      const y = tensorFrom(ctx, new Float32Array(n), [n], 'y');
      const g = tensorFrom(ctx, grads, [n], 'grad');
      ctx.run([activationForward(ctx, x, y, act), activationBackward(ctx, y, g, act)]);
      const [yGot, gGot] = [await download(ctx, y), await download(ctx, g)];
      // The backward reference uses the GPU's y, so it checks backward alone.
      const result = combine([
        compare(yGot, ref.activationForward(xs, act, DEFAULT_LEAK), TOL),
        compare(gGot, ref.activationBackward(yGot, grads, act, DEFAULT_LEAK), TOL),
      ]);
      for (const t of [x, y, g]) t.buffer.destroy();
      return result;
    },
  })),
);
