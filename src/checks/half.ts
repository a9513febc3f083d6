// The f32 -> binary16 conversion on the GPU against the host's exact one (tensor/half.ts).
// WGSL lets pack2x16float round a value to either binary16 neighbour, so a converted value may be
// off by one binary16 ulp at its magnitude (2^-24 among the subnormals), and no more; values that
// are halves already must come through exactly, signed zeros and subnormals included.

import { toF16 } from '../kernels/half.ts';
import { halfBits, halfUlp, halfValue } from '../tensor/half.ts';
import { createTensor, downloadF16, tensorFrom } from '../tensor/tensor.ts';
import { compare, hostRandom, type Check, type Tolerance } from './check.ts';

const ONE_ULP: Tolerance = { abs: 0, rel: 1, why: 'WGSL may round to either binary16 neighbour: within one binary16 ulp of x' };
const EXACT: Tolerance = { abs: 0, rel: 0, why: 'a value that is a binary16 already converts exactly' };

/** Random values over binary16's range of magnitudes (inside +-65504, past which WGSL's result is indeterminate), both signs, and its edges. */
function values(n: number, seed: number): Float32Array {
  const next = hostRandom(seed);
  const specials = [0, -0, 65504, -65504, 2 ** -14, 2 ** -24, 3 * 2 ** -24, -(2 ** -20), 1, 1 + 2 ** -11, 65503];
  const x = Float32Array.from({ length: n }, () => (next() < 0.5 ? -1 : 1) * 2 ** (-24 + 39.9 * next()));
  x.set(specials.map((v) => Math.fround(v)));
  return x;
}

async function convert(ctx: Parameters<Check['run']>[0], x: Float32Array): Promise<number[]> {
  const src = tensorFrom(ctx, x, [x.length], 'x');
  const dst = createTensor(ctx, [x.length], 'f16', 'x as f16');
  ctx.run([toF16(ctx, src, dst)]);
  const bits = await downloadF16(ctx, dst);
  for (const t of [src, dst]) t.buffer.destroy();
  return Array.from(bits, halfValue);
}

export const halfChecks: Check[] = [
  {
    kernel: 'toF16',
    case: 'n=1001 magnitudes 2^-24..2^15.9 and the edges (+-0, +-65504, the least normal and subnormal, a tie)',
    async run(ctx) {
      const x = values(1001, 5);
      return compare(await convert(ctx, x), x, ONE_ULP, Array.from(x, halfUlp));
    },
  },
  {
    kernel: 'toF16',
    case: 'n=1000 values that are halves already (an even count: no padding half)',
    async run(ctx) {
      const x = Float32Array.from(values(1000, 6), (v) => halfValue(halfBits(v)));
      return compare(await convert(ctx, x), x, EXACT);
    },
  },
];
