// Float64 twin of kernels/spectral.ts, written for clarity. W is row-major [K, N].

const NORM_FLOOR = 1e-12;

function normalise(x: Float64Array): number {
  const norm = Math.max(Math.sqrt(x.reduce((a, b) => a + b * b, 0)), NORM_FLOOR);
  for (let i = 0; i < x.length; i++) x[i] /= norm;
  return norm;
}

/** One power iteration from u: returns the new u, v and sigma (|Wᵀ v|). */
export function spectralPower(w: ArrayLike<number>, K: number, N: number, u0: ArrayLike<number>): { u: Float64Array; v: Float64Array; sigma: number } {
  const v = new Float64Array(K);
  for (let k = 0; k < K; k++) for (let n = 0; n < N; n++) v[k] += w[k * N + n] * u0[n];
  normalise(v);
  const u = new Float64Array(N);
  for (let n = 0; n < N; n++) for (let k = 0; k < K; k++) u[n] += w[k * N + n] * v[k];
  const sigma = normalise(u);
  return { u, v, sigma };
}

export function rescale(w: ArrayLike<number>, sigma: number): Float64Array {
  return Float64Array.from(w, (x) => x / sigma);
}

/** dL/dW from G = dL/dW_sn: (G - <G, W_sn> v uᵀ) / sigma. */
export function spectralGradient(g: ArrayLike<number>, wSn: ArrayLike<number>, u: ArrayLike<number>, v: ArrayLike<number>, sigma: number): Float64Array {
  const N = u.length;
  let c = 0;
  for (let i = 0; i < g.length; i++) c += g[i] * wSn[i];
  return Float64Array.from(g, (gi, i) => (gi - c * v[Math.floor(i / N)] * u[i % N]) / sigma);
}
