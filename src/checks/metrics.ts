import type { GpuContext } from '../gpu/context.ts';
import type { LossKernel } from '../kernels/losses.ts';
import { lossGradient } from '../kernels/losses.ts';
import { accumulateMetrics, lossStep } from '../kernels/metrics.ts';
import * as ref from '../reference/metrics.ts';
import { download, tensorFrom } from '../tensor/tensor.ts';
import { combine, compare, EPS32, hostRandom, randomF32, type Check } from './check.ts';
import { sameBits } from './reduce.ts';

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

/**
 * The fused loss step against the two dispatches it replaces (lossGradient, accumulateMetrics),
 * which are checked against float64 above and in losses.ts: the same per-row terms and the same
 * summation order, so the same bits. Scored rows below the batch's (a matching-aware D).
 */
const stepCases: [number, number, LossKernel, 'D' | 'G'][] = [
  [1, 1, 'bce', 'G'], [128, 128, 'bce', 'D'], [192, 128, 'bce', 'D'], [200, 200, 'mse', 'D'], [64, 64, 'hinge', 'D'], [96, 64, 'wasserstein', 'D'], [33, 33, 'wasserstein', 'G'],
];

export const lossStepChecks: Check[] = stepCases.map(([n, scored, loss, update]): Check => ({
  kernel: 'lossStep',
  case: `n=${n} scored ${scored} ${loss} ${update} update`,
  async run(ctx: GpuContext) {
    const pred = loss === 'mse' ? randomF32(n, 3 * n, 0, 1) : randomF32(n, 3 * n, -20, 20);
    const next = hostRandom(n + 7);
    const labels = Float32Array.from({ length: n }, () => (next() < 0.5 ? 1 : 0));
    const realTarget = loss === 'bce' || loss === 'mse' ? 0.9 : 1;
    const targets = labels.map((y) => y * Math.fround(realTarget));
    const start = Float32Array.from({ length: 8 }, (_, i) => i * 0.25);
    const scale = 1 / scored;
    const [p, y, t, g1, g2, m1, m2] = [tensorFrom(ctx, pred, [n, 1]), tensorFrom(ctx, labels, [n, 1]), tensorFrom(ctx, targets, [n, 1]), tensorFrom(ctx, new Float32Array(n), [n, 1]), tensorFrom(ctx, new Float32Array(n), [n, 1]), tensorFrom(ctx, start, [8]), tensorFrom(ctx, start, [8])];
    ctx.run([
      lossStep(ctx, p, y, g1, m1, { loss, update, scale, scoredRows: scored, realTarget }),
      lossGradient(ctx, loss, p, t, g2, { scale }),
      accumulateMetrics(ctx, scored === n ? p : p.rowsView(0, scored), scored === n ? y : y.rowsView(0, scored), m2, { loss, update, scale }),
    ]);
    const result = combine([sameBits(await download(ctx, g1), await download(ctx, g2), 'gradient'), sameBits(await download(ctx, m1), await download(ctx, m2), 'metrics')]);
    for (const x of [p, y, t, g1, g2, m1, m2]) x.buffer.destroy();
    return result;
  },
}));
