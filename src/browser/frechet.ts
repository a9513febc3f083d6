// The Fréchet distance between generated and real features, as the page's worker computes it
// (frechet-worker.ts; frechet-client.ts posts to it): two 256 x 256 eigen-decompositions take
// seconds of JavaScript, which on the main thread would freeze the page and stall the training
// loop that feeds the GPU. The real side's square root is computed once. The arithmetic is the
// engine's (src/eval/frechet.ts): d^2 = |mu1 - mu2|^2 + tr(S1 + S2 - 2 (S1^(1/2) S2 S1^(1/2))^(1/2)).

import { featureStats, multiply, sqrtPsd, symmetricEigen, type GaussianStats } from '../eval/frechet.ts';

/** What the worker holds of the real side: its statistics and the square root of its covariance. */
export interface RealSide {
  stats: GaussianStats;
  root: Float64Array;
}

export function realSide(stats: GaussianStats): RealSide {
  return { stats, root: sqrtPsd(stats.cov, stats.dim) };
}

/** The squared Fréchet distance of `features` [n, dim] from the real side. */
export function frechetFromReal(real: RealSide, features: Float32Array): number {
  const n = real.stats.dim;
  const fake = featureStats(features, n);
  let meanTerm = 0;
  let trace = 0;
  for (let i = 0; i < n; i++) {
    meanTerm += (fake.mean[i] - real.stats.mean[i]) ** 2;
    trace += fake.cov[i * n + i] + real.stats.cov[i * n + i];
  }
  // M = R S R with R = S_real^(1/2): symmetric, so its eigenvalues' square roots sum to tr (S_real S)^(1/2).
  const rs = multiply(real.root, fake.cov, n);
  const m = multiply(rs, real.root, n);
  for (let i = 0; i < n; i++) {
    for (let j = i + 1; j < n; j++) {
      const avg = (m[i * n + j] + m[j * n + i]) / 2;
      m[i * n + j] = avg;
      m[j * n + i] = avg;
    }
  }
  const rootTrace = symmetricEigen(m, n).values.reduce((s, l) => s + Math.sqrt(Math.max(l, 0)), 0);
  return meanTerm + trace - 2 * rootTrace;
}


export type FrechetRequest = { id: number; kind: 'real'; stats: GaussianStats } | { id: number; kind: 'distance'; features: Float32Array };
export type FrechetReply = { id: number; value?: number; error?: string };

/** The worker's side: keeps the real side and answers distances. */
export function serveFrechet(scope: { onmessage: ((e: MessageEvent<FrechetRequest>) => void) | null; postMessage(reply: FrechetReply): void }): void {
  let real: RealSide | null = null;
  scope.onmessage = (e) => {
    const r = e.data;
    try {
      if (r.kind === 'real') {
        real = realSide(r.stats);
        scope.postMessage({ id: r.id, value: 0 });
      } else {
        if (!real) throw new Error('no real statistics were given');
        scope.postMessage({ id: r.id, value: frechetFromReal(real, r.features) });
      }
    } catch (error) {
      scope.postMessage({ id: r.id, error: (error as Error).message });
    }
  };
}
