import type { GpuContext } from '../gpu/context.ts';
import type { LossKernel } from '../kernels/losses.ts';
import { accumulateMetrics } from '../kernels/metrics.ts';
import * as ref from '../reference/metrics.ts';
import { download, tensorFrom } from '../tensor/tensor.ts';
import { compare, EPS32, hostRandom, randomF32, type Check } from './check.ts';

// Sums of n terms in f32: error below n * eps * sum|terms| in the worst case; the BCE terms carry
// a few ulp each from exp/log. Counts of 0/1 labels are exact integers below 2^24.
const cases: [number, LossKernel, 'D' | 'G'][] = [
  [1, 'bce', 'D'], [7, 'bce', 'G'], [200, 'bce', 'D'], [2000, 'mse', 'D'], [100, 'mse', 'G'], [129, 'bce', 'G'],
  [64, 'hinge', 'D'], [300, 'hinge', 'D'], [128, 'wasserstein', 'D'], [65, 'wasserstein', 'G'],
];

export const metricsChecks: Check[] = cases.map(([n, loss, update]): Check => ({
  kernel: 'gan metrics',
  case: `n=${n} ${loss} ${update} update`,
  async run(ctx: GpuContext) {
    const pred = loss === 'mse' ? randomF32(n, n, 0, 1) : randomF32(n, n, -20, 20);
    const next = hostRandom(n + 1);
    const labels = Float32Array.from({ length: n }, () => (next() < 0.5 ? 1 : 0));
    const start = Float32Array.from({ length: 8 }, (_, i) => i * 0.25);
    const scale = update === 'G' && n === 7 ? -1 / n : 1 / n;
    const [p, y, m] = [tensorFrom(ctx, pred, [n]), tensorFrom(ctx, labels, [n]), tensorFrom(ctx, start, [8])];
    ctx.run([accumulateMetrics(ctx, p, y, m, { loss, update, scale })]);
    const got = await download(ctx, m);
    const want = ref.accumulateMetrics(start, pred, labels, { loss, update, scale });
    for (const t of [p, y, m]) t.buffer.destroy();
    return compare(got, want, { abs: 4 * EPS32, rel: Math.min(n, 64) * 8 * EPS32, why: 'pairwise f32 sums of n terms (64 lanes then a tree), BCE terms within a few ulp' });
  },
}));
