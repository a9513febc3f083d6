// Float64 twin of shaders/metrics.wgsl: the slots after one update's accumulation.

import { METRIC, METRIC_SLOTS, type DOutput } from '../kernels/metrics.ts';
import { bceWithLogits, sigmoid } from './losses.ts';

export function accumulateMetrics(
  start: ArrayLike<number>,
  pred: ArrayLike<number>,
  labels: ArrayLike<number>,
  opts: { output: DOutput; update: 'D' | 'G'; scale: number },
): Float64Array {
  const out = Float64Array.from({ length: METRIC_SLOTS }, (_, i) => start[i]);
  let loss = 0;
  const sums = [0, 0, 0, 0];
  for (let i = 0; i < pred.length; i++) {
    const [p, y] = [pred[i], labels[i]];
    loss += opts.output === 'logits' ? bceWithLogits(p, y) : 0.5 * (y - p) ** 2;
    const d = opts.output === 'logits' ? sigmoid(p) : p;
    sums[0] += y * d;
    sums[1] += y;
    sums[2] += (1 - y) * d;
    sums[3] += 1 - y;
  }
  if (opts.update === 'D') {
    out[METRIC.dLoss] += opts.scale * loss;
    out[METRIC.dRealSum] += sums[0];
    out[METRIC.dRealRows] += sums[1];
    out[METRIC.dFakeSum] += sums[2];
    out[METRIC.dFakeRows] += sums[3];
    out[METRIC.dUpdates] += 1;
  } else {
    out[METRIC.gLoss] += opts.scale * loss;
    out[METRIC.gUpdates] += 1;
  }
  return out;
}
