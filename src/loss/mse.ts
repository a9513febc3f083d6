// Squared error through D's sigmoid (DeepLearnToolbox's nnff/nnbp, the seed experiment): the
// mean over all of a batch's rows of 1/2 (y - D(x))^2; G's targets are 1.

import { lossStep } from '../kernels/metrics.ts';
import { refMse } from '../reference/gan-losses.ts';
import type { GanLoss } from './loss.ts';

export function mse(): GanLoss {
  return {
    name: 'mse',
    output: 'probability',
    dActivation: 'sigmoid',
    logits: false,
    smoothing: true,
    recordD: (ctx, b, metrics) => [lossStep(ctx, b.out, b.labels, b.delta, metrics, { loss: 'mse', update: 'D', scale: 1 / b.out.rows, scoredRows: b.scoredRows, realTarget: b.realTarget })],
    recordG: (ctx, b, metrics) => [lossStep(ctx, b.out, b.ones, b.delta, metrics, { loss: 'mse', update: 'G', scale: 1 / b.out.rows })],
    reference: refMse(),
  };
}
