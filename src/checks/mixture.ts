import type { GpuContext } from '../gpu/context.ts';
import { GRID25, RING8 } from '../data/toy.ts';
import { sampleMixture } from '../kernels/mixture.ts';
import * as ref from '../reference/mixture.ts';
import { download, tensorFrom } from '../tensor/tensor.ts';
import { compare, EPS32, type Check } from './check.ts';

// Centers are O(1..4) and std*z is at most 5.77 std: the f32 sum carries ~1 ulp of the center
// plus the normal's few-ulp error (lib/normal.wgsl) scaled by std. A wrong mode is off by >= 0.7.
export const mixtureChecks: Check[] = [RING8, GRID25].flatMap((mixture) =>
  [1, 7, 2500].map((rows): Check => ({
    kernel: `mixture ${mixture.name}`,
    case: `n=${rows}`,
    async run(ctx: GpuContext) {
      const centers = tensorFrom(ctx, Float32Array.from(mixture.centers.flat()), [mixture.centers.length, 2], 'centers');
      const out = tensorFrom(ctx, new Float32Array(rows * 2), [rows, 2], 'samples');
      ctx.run([sampleMixture(ctx, out, centers, { seed: 5, stream: 3, offset: 11, std: mixture.std })]);
      const got = await download(ctx, out);
      const f32Centers = mixture.centers.map(([x, y]) => [Math.fround(x), Math.fround(y)] as [number, number]);
      const want = ref.sampleMixture({ seed: 5, stream: 3, step: 11 }, rows, f32Centers, Math.fround(mixture.std));
      centers.buffer.destroy();
      out.buffer.destroy();
      return compare(got, want.values, { abs: 8 * EPS32 * 4 + 64 * EPS32 * mixture.std * 6, rel: 0, why: '1 ulp of a center (|c| <= 4) + a few ulp of std * |z| (|z| <= 5.8)' });
    },
  })),
);
