// Objectives on D's raw score (no sigmoid anywhere; the metrics report mean scores):
// - `hinge` (Lim & Ye 2017, used with spectral normalisation by Miyato et al. 2018): D minimises
//   mean relu(1 - D(x)) over real rows + mean relu(1 + D(G(z))) over fake rows; G minimises
//   -mean D(G(z)).
// - `wasserstein` (Arjovsky et al. 2017): the critic minimises mean D(G(z)) - mean D(x); G
//   minimises -mean D(G(z)). It needs D kept Lipschitz: weight clipping (the optimizer's `clip`)
//   or spectral normalisation.

import type { LossKernel } from '../kernels/losses.ts';
import { refScoreLoss } from '../reference/gan-losses.ts';
import type { GanLoss } from './loss.ts';

function scoreLoss(name: string, dKernel: LossKernel): GanLoss {
  return {
    name,
    output: 'score',
    dActivation: 'identity',
    logits: false,
    smoothing: false,
    // Means over each block of one kind (real, fake): the objectives are differences of means.
    dTerms: (b) => ({ kernel: dKernel, update: 'D', labels: b.labels, realTarget: 1, scale: 1 / (b.blockRows ?? b.rows), scoredRows: b.scoredRows }),
    // -mean D(G(z)) is the Wasserstein term of rows told real.
    gTerms: (b) => ({ kernel: 'wasserstein', update: 'G', labels: b.ones, realTarget: 1, scale: 1 / b.rows }),
    reference: refScoreLoss(dKernel),
  };
}

export const hinge = () => scoreLoss('hinge', 'hinge');
export const wasserstein = () => scoreLoss('wasserstein', 'wasserstein');
