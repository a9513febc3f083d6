// Float64 twins of the GAN objectives (src/loss/): the gradient each writes at D's output for
// a D batch and for the G batch, written for clarity.

import type { LossKernel } from '../kernels/losses.ts';
import { bceWithLogitsGrad, lossGradients, mseSigmoidGrad } from './losses.ts';

export interface RefGanLoss {
  /** D runs without its last activation (the loss applies it). */
  logits: boolean;
  /** d loss / d out for a D batch with these targets, whole blocks of `blockRows` (null: mixed rows). */
  dGrad(out: Float64Array, targets: ArrayLike<number>, blockRows: number | null): Float64Array;
  /** d loss / d out for the G batch (every row generated). */
  gGrad(out: Float64Array): Float64Array;
}

const filled = (n: number, v: number) => new Array<number>(n).fill(v);

export function refBce(minimax: boolean): RefGanLoss {
  return {
    logits: true,
    dGrad: (out, targets, blockRows) => bceWithLogitsGrad(out, targets, 1 / (blockRows ?? out.length)),
    gGrad: (out) => bceWithLogitsGrad(out, filled(out.length, minimax ? 0 : 1), (minimax ? -1 : 1) / out.length),
  };
}

export function refMse(): RefGanLoss {
  return {
    logits: false,
    dGrad: (out, targets) => mseSigmoidGrad(out, targets, 1 / out.length),
    gGrad: (out) => mseSigmoidGrad(out, filled(out.length, 1), 1 / out.length),
  };
}

/** Hinge or Wasserstein on raw scores: D's terms by block means, G's -mean D(G(z)). */
export function refScoreLoss(dKernel: LossKernel): RefGanLoss {
  return {
    logits: false,
    dGrad: (out, targets, blockRows) => lossGradients(dKernel, out, targets, 1 / (blockRows ?? out.length)),
    gGrad: (out) => lossGradients('wasserstein', out, filled(out.length, 1), 1 / out.length),
  };
}
