// Checks of spectral normalisation against float64: one power iteration (u, v, sigma, W / sigma)
// from the same u, the rescale that restores W / sigma bit for bit, convergence to the largest
// singular value, and the gradient through W / sigma(W).

import type { GpuContext } from '../gpu/context.ts';
import { spectralGradient, spectralPower } from '../kernels/spectral.ts';
import * as ref from '../reference/spectral.ts';
import { createTensor, download, tensorFrom } from '../tensor/tensor.ts';
import { combine, compare, EPS32, randomF32, type Check, type Tolerance } from './check.ts';
import { sameBits } from './reduce.ts';

/** [K, N]: 1 x 1, odd sizes, more rows or columns than lanes, a DCGAN conv weight, the mnist D's first layer. */
const SHAPES: [number, number][] = [[1, 1], [3, 5], [300, 7], [9, 513], [4 * 4 * 64, 128], [784, 512]];

function setup(ctx: GpuContext, K: number, N: number, seed: number) {
  const w = randomF32(K * N, seed, -0.2, 0.2);
  const u0 = randomF32(N, seed + 1);
  return {
    w,
    u0,
    tw: tensorFrom(ctx, w, [K, N], 'W'),
    state: { u: tensorFrom(ctx, u0, [N], 'u'), v: createTensor(ctx, [K], 'f32', 'v'), sigma: createTensor(ctx, [1], 'f32', 'sigma') },
    wSn: createTensor(ctx, [K, N], 'f32', 'W_sn'),
  };
}

/**
 * A dot product of length L summed sequentially rounds L times (L u of sum |terms|), the
 * norms add a tree of 8 levels over ceil(L / 256) lane terms, and sqrt and the divisions add a
 * few ulp: (K + N + 16) u, relative to each value's sum of |terms| (over |norm| for the
 * normalised vectors). sigma enters W / sigma as a relative error of its own.
 */
const tolerance = (K: number, N: number): Tolerance => ({ abs: 0, rel: (K + N + 16) * EPS32, why: `dot products of ${N} and ${K} terms, norms, sqrt and divisions: (K + N + 16) u of sum |terms|` });

const powerChecks: Check[] = SHAPES.map(([K, N]) => ({
  kernel: 'spectralPower',
  case: `W [${K}, ${N}]`,
  slow: K * N > 100_000,
  async run(ctx: GpuContext) {
    const { w, u0, tw, state, wSn } = setup(ctx, K, N, 101 + K + N);
    ctx.run([spectralPower(ctx, tw, wSn, state)]);
    const [u, v, sigma, wOut] = await Promise.all([download(ctx, state.u), download(ctx, state.v), download(ctx, state.sigma), download(ctx, wSn)]);
    // A second dispatch in rescale mode must reproduce W / sigma exactly.
    const again = createTensor(ctx, [K, N], 'f32', 'W_sn again');
    ctx.run([spectralPower(ctx, tw, again, state, { rescaleOnly: true })]);
    const rescaled = await download(ctx, again);
    const want = ref.spectralPower(w, K, N, u0);
    // The scales: sum |terms| of each raw product, over the norm that divides it.
    const vScale = new Float64Array(K);
    for (let k = 0; k < K; k++) for (let n = 0; n < N; n++) vScale[k] += Math.abs(w[k * N + n] * u0[n]);
    const vNorm = Math.sqrt(vScale.reduce((a, b) => a + b * b, 0));
    const uScale = new Float64Array(N);
    for (let n = 0; n < N; n++) for (let k = 0; k < K; k++) uScale[n] += Math.abs(w[k * N + n] * want.v[k]);
    const tol = tolerance(K, N);
    const result = combine([
      compare(v, want.v, tol, vScale.map((s) => s / Math.max(vNorm, 1e-30))),
      compare(u, want.u, tol, uScale.map((s) => s / want.sigma)),
      compare(sigma, [want.sigma], tol, [uScale.reduce((a, b) => a + b * b, 0) ** 0.5]),
      compare(wOut, ref.rescale(w, want.sigma), { ...tol, rel: tol.rel + 3 * EPS32 }),
      sameBits(rescaled, wOut, 'spectralPower rescale'),
    ]);
    for (const t of [tw, state.u, state.v, state.sigma, wSn, again]) t.buffer.destroy();
    return result;
  },
}));

/** A scaled permutation has its scales as singular values: 40 power steps bring sigma within 1e-5 of the largest, 3. */
const convergenceCheck: Check = {
  kernel: 'spectralPower',
  case: '40 steps converge to the largest singular value (a scaled permutation, singular values 3, 1, 0.5, ...)',
  async run(ctx) {
    const [K, N] = [6, 5];
    // Rows of a scaled permutation: singular values are the scales exactly.
    const scales = [1, 3, 0.5, 0.25, 0.125];
    const w = new Float32Array(K * N);
    scales.forEach((s, i) => (w[((i + 2) % K) * N + ((i * 2) % N)] = s));
    const tw = tensorFrom(ctx, w, [K, N], 'W');
    const state = { u: tensorFrom(ctx, Float32Array.from([0.3, 0.5, -0.2, 0.6, 0.1]), [N], 'u'), v: createTensor(ctx, [K], 'f32', 'v'), sigma: createTensor(ctx, [1], 'f32', 'sigma') };
    const wSn = createTensor(ctx, [K, N], 'f32', 'W_sn');
    const step = spectralPower(ctx, tw, wSn, state);
    ctx.run(Array.from({ length: 40 }, () => step));
    const result = compare(await download(ctx, state.sigma), [3], { abs: 1e-5, rel: 0, why: '(1/3)^80 of the other directions is left: sigma is 3 to f32 rounding' });
    for (const t of [tw, state.u, state.v, state.sigma, wSn]) t.buffer.destroy();
    return result;
  },
};

const gradientChecks: Check[] = SHAPES.map(([K, N]) => ({
  kernel: 'spectralGradient',
  case: `W [${K}, ${N}]`,
  slow: K * N > 100_000,
  async run(ctx: GpuContext) {
    const { tw, state, wSn } = setup(ctx, K, N, 211 + K + N);
    ctx.run([spectralPower(ctx, tw, wSn, state)]);
    const [u, v, sigma, wSnGot] = await Promise.all([download(ctx, state.u), download(ctx, state.v), download(ctx, state.sigma), download(ctx, wSn)]);
    const g = randomF32(K * N, 223 + K);
    const tg = tensorFrom(ctx, g, [K, N], 'G');
    ctx.run([spectralGradient(ctx, wSn, tg, state)]);
    const got = await download(ctx, tg);
    // From the GPU's own u, v, sigma and W_sn: this checks the gradient kernel alone.
    const want = ref.spectralGradient(g, wSnGot, u, v, sigma[0]);
    let cScale = 0;
    for (let i = 0; i < g.length; i++) cScale += Math.abs(g[i] * wSnGot[i]);
    const scale = Float64Array.from(g, (gi, i) => (Math.abs(gi) + cScale * Math.abs(v[Math.floor(i / N)] * u[i % N])) / sigma[0]);
    const depth = Math.ceil((K * N) / 256) + 8 + 4;
    const result = compare(got, want, { abs: 0, rel: depth * EPS32, why: `<G, W_sn> over ceil(KN / 256) lane terms and 8 levels, then 4 roundings: ${depth} u of sum |terms|` }, scale);
    for (const t of [tw, state.u, state.v, state.sigma, wSn, tg]) t.buffer.destroy();
    return result;
  },
}));

export const spectralChecks: Check[] = [...powerChecks, convergenceCheck, ...gradientChecks];
