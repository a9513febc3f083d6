import type { GpuContext } from '../gpu/context.ts';
import { accumulateMetrics, type DOutput } from '../kernels/metrics.ts';
import * as ref from '../reference/metrics.ts';
import { download, tensorFrom } from '../tensor/tensor.ts';
import { compare, EPS32, hostRandom, randomF32, type Check } from './check.ts';

// Sums of n terms in f32: error below n * eps * sum|terms| in the worst case; the BCE terms carry
// a few ulp each from exp/log. Counts of 0/1 labels are exact integers below 2^24.
const cases: [number, DOutput, 'D' | 'G'][] = [
  [1, 'logits', 'D'], [7, 'logits', 'G'], [200, 'logits', 'D'], [2000, 'probabilities', 'D'], [100, 'probabilities', 'G'], [129, 'logits', 'G'],
];

export const metricsChecks: Check[] = cases.map(([n, output, update]): Check => ({
  kernel: 'gan metrics',
  case: `n=${n} ${output} ${update} update`,
  async run(ctx: GpuContext) {
    const pred = output === 'logits' ? randomF32(n, n, -20, 20) : randomF32(n, n, 0, 1);
    const next = hostRandom(n + 1);
    const labels = Float32Array.from({ length: n }, () => (next() < 0.5 ? 1 : 0));
    const start = Float32Array.from({ length: 8 }, (_, i) => i * 0.25);
    const scale = update === 'G' && n === 7 ? -1 / n : 1 / n;
    const [p, y, m] = [tensorFrom(ctx, pred, [n]), tensorFrom(ctx, labels, [n]), tensorFrom(ctx, start, [8])];
    ctx.run([accumulateMetrics(ctx, p, y, m, { output, update, scale })]);
    const got = await download(ctx, m);
    const want = ref.accumulateMetrics(start, pred, labels, { output, update, scale });
    for (const t of [p, y, m]) t.buffer.destroy();
    return compare(got, want, { abs: 4 * EPS32, rel: Math.min(n, 64) * 8 * EPS32, why: 'pairwise f32 sums of n terms (64 lanes then a tree), BCE terms within a few ulp' });
  },
}));
