// Binary cross-entropy on D's logits (Goodfellow et al. 2014): D's loss is the mean over the
// real rows plus the mean over the fake rows (and over a matching-aware D's mismatched rows);
// G's is the non-saturating -log D(G(z)) or the paper's minimax log(1 - D(G(z))).

import { lossStep } from '../kernels/metrics.ts';
import { refBce } from '../reference/gan-losses.ts';
import type { GanLoss } from './loss.ts';

export function bce(gLoss: 'non-saturating' | 'minimax'): GanLoss {
  const minimax = gLoss === 'minimax';
  return {
    name: 'bce',
    output: 'probability',
    dActivation: 'sigmoid',
    logits: true,
    smoothing: true,
    recordD: (ctx, b, metrics) => [lossStep(ctx, b.out, b.labels, b.delta, metrics, { loss: 'bce', update: 'D', scale: 1 / (b.blockRows ?? b.out.rows), scoredRows: b.scoredRows, realTarget: b.realTarget })],
    recordG(ctx, b, metrics) {
      // Minimax: minimise log(1 - D(G(z))) = -BCE(x, 0), whose gradient is -(sigmoid(x) - 0) / m.
      const [labels, scale] = minimax ? [b.zeros, -1 / b.out.rows] : [b.ones, 1 / b.out.rows];
      return [lossStep(ctx, b.out, labels, b.delta, metrics, { loss: 'bce', update: 'G', scale })];
    },
    reference: refBce(minimax),
  };
}
