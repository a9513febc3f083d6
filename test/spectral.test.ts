// The gradient through spectral normalisation, in float64: W_sn = W / sigma(W) with sigma =
// vᵀ W u for the power iteration's u and v held fixed (Miyato et al. 2018, as torch computes it).
// Central differences of L(W / sigma(W)) must match (G - <G, W_sn> v uᵀ) / sigma, the formula
// shaders/spectral.wgsl applies; the kernel itself is checked against this twin in the checks.

import { expect, test } from 'vitest';
import { randomF32 } from '../src/checks/check.ts';
import { rescale, spectralGradient, spectralPower } from '../src/reference/spectral.ts';

test('the spectral-norm gradient matches finite differences of L(W / (vᵀ W u))', () => {
  const [K, N] = [7, 5];
  const w = Float64Array.from(randomF32(K * N, 5));
  const { u, v } = spectralPower(w, K, N, Float64Array.from(randomF32(N, 6)));
  // L(W_sn) = sum r * W_sn for a fixed random r, so dL/dW_sn = r.
  const r = Float64Array.from(randomF32(K * N, 7));
  const sigmaOf = (m: Float64Array) => {
    let s = 0;
    for (let k = 0; k < K; k++) for (let n = 0; n < N; n++) s += v[k] * m[k * N + n] * u[n];
    return s;
  };
  const loss = (m: Float64Array) => rescale(m, sigmaOf(m)).reduce((a, x, i) => a + r[i] * x, 0);
  const sigma = sigmaOf(w);
  const analytic = spectralGradient(r, rescale(w, sigma), u, v, sigma);
  const h = 1e-6;
  for (let i = 0; i < w.length; i++) {
    const up = Float64Array.from(w);
    const down = Float64Array.from(w);
    up[i] += h;
    down[i] -= h;
    const numeric = (loss(up) - loss(down)) / (2 * h);
    // Central differences in float64 with h = 1e-6 are good to ~1e-9 here; dropping the
    // second term of the formula moves entries by ~|<r, W_sn>| |v| |u| / sigma ~ 0.1.
    expect(Math.abs(analytic[i] - numeric), `dL/dW[${i}]`).toBeLessThan(1e-7);
  }
});
