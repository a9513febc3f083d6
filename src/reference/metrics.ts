// Float64 twin of shaders/metrics.wgsl: the slots after one update's accumulation.

import type { LossKernel } from '../kernels/losses.ts';
import { METRIC, METRIC_SLOTS } from '../kernels/metrics.ts';
import { lossValue, sigmoid } from './losses.ts';

export function accumulateMetrics(
  start: ArrayLike<number>,
  pred: ArrayLike<number>,
  labels: ArrayLike<number>,
  opts: { loss: LossKernel; update: 'D' | 'G'; scale: number },
): Float64Array {
  const out = Float64Array.from({ length: METRIC_SLOTS }, (_, i) => start[i]);
  let loss = 0;
  const sums = [0, 0, 0, 0];
  for (let i = 0; i < pred.length; i++) {
    const [p, y] = [pred[i], labels[i]];
    loss += lossValue(opts.loss, p, y);
    const d = opts.loss === 'bce' ? sigmoid(p) : p;
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
