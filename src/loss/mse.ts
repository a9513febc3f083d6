// Squared error through D's sigmoid (DeepLearnToolbox's nnff/nnbp, the seed experiment): the
// mean over all of a batch's rows of 1/2 (y - D(x))^2; G's targets are 1.

import { mseSigmoidGrad } from '../kernels/losses.ts';
import { accumulateMetrics } from '../kernels/metrics.ts';
import { refMse } from '../reference/gan-losses.ts';
import { scored, type GanLoss } from './loss.ts';

export function mse(): GanLoss {
  return {
    name: 'mse',
    output: 'probability',
    dActivation: 'sigmoid',
    logits: false,
    smoothing: true,
    recordD(ctx, b, metrics) {
      const scale = 1 / b.out.rows;
      const [out, labels] = scored(b);
      return [
        mseSigmoidGrad(ctx, b.out, b.targets, b.delta, { scale }),
        accumulateMetrics(ctx, out, labels, metrics, { loss: 'mse', update: 'D', scale }),
      ];
    },
    recordG(ctx, b, metrics) {
      const scale = 1 / b.out.rows;
      return [
        mseSigmoidGrad(ctx, b.out, b.ones, b.delta, { scale }),
        accumulateMetrics(ctx, b.out, b.ones, metrics, { loss: 'mse', update: 'G', scale }),
      ];
    },
    reference: refMse(),
  };
}
