// Squared error through D's sigmoid (DeepLearnToolbox's nnff/nnbp, the seed experiment): the
// mean over all of a batch's rows of 1/2 (y - D(x))^2; G's targets are 1.

import { refMse } from '../reference/gan-losses.ts';
import type { GanLoss } from './loss.ts';

export function mse(): GanLoss {
  return {
    name: 'mse',
    output: 'probability',
    dActivation: 'sigmoid',
    logits: false,
    smoothing: true,
    dTerms: (b) => ({ kernel: 'mse', update: 'D', labels: b.labels, realTarget: b.realTarget, scale: 1 / b.rows, scoredRows: b.scoredRows }),
    gTerms: (b) => ({ kernel: 'mse', update: 'G', labels: b.ones, realTarget: 1, scale: 1 / b.rows }),
    reference: refMse(),
  };
}
