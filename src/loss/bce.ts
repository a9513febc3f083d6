// Binary cross-entropy on D's logits (Goodfellow et al. 2014): D's loss is the mean over the
// real rows plus the mean over the fake rows (and over a matching-aware D's mismatched rows);
// G's is the non-saturating -log D(G(z)) or the paper's minimax log(1 - D(G(z))).

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
    dTerms: (b) => ({ kernel: 'bce', update: 'D', labels: b.labels, realTarget: b.realTarget, scale: 1 / (b.blockRows ?? b.rows), scoredRows: b.scoredRows }),
    // Minimax: minimise log(1 - D(G(z))) = -BCE(x, 0), whose gradient is -(sigmoid(x) - 0) / m.
    gTerms: (b) => ({ kernel: 'bce', update: 'G', labels: minimax ? b.zeros : b.ones, realTarget: 1, scale: (minimax ? -1 : 1) / b.rows }),
    reference: refBce(minimax),
  };
}
