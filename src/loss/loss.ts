// The loss seam: what the trainer needs from a GAN objective. A loss says, for D's and G's
// updates, which per-row loss D's output meets, against which labels and targets, at what scale
// and which rows the metrics score (LossTerms); the loss step (kernels/metrics.ts lossStep, or
// the fused head, kernels/head.ts) computes the gradient at D's output and adds the figures to
// the metric sums. Its float64 twin (src/reference/gan-losses.ts) lets the whole-iteration
// reference train with the same objective. The kinds are registered in index.ts.

import type { GpuContext, Step } from '../gpu/context.ts';
import type { Activation } from '../kernels/common.ts';
import type { LossKernel } from '../kernels/losses.ts';
import { lossStep } from '../kernels/metrics.ts';
import type { RefGanLoss } from '../reference/gan-losses.ts';
import type { Tensor } from '../tensor/tensor.ts';

/** One D update's batch as the loss sees it. */
export interface DBatch {
  /** D's rows (outputs) in the update. */
  rows: number;
  /** 1 for real rows, 0 for fake ones, [rows] or [rows, 1]: the metrics read these. */
  labels: Tensor;
  /** D's target for real rows (config.realLabel: 1, or below for smoothed targets); fake rows' is 0. */
  realTarget: number;
  /** Rows the metrics score (real and fake; a matching-aware D's mismatched rows follow, unscored). */
  scoredRows: number;
  /**
   * Rows per block when the batch is whole blocks of one kind (real | fake | ...), so a loss
   * can take the mean over each block; null for minibatches that mix kinds (the epoch schedule).
   */
  blockRows: number | null;
}

/** The G update's batch: its rows, and constant 1 and 0 labels of that many rows. */
export interface GBatch {
  rows: number;
  ones: Tensor;
  zeros: Tensor;
}

/** One update's loss step: the gradient scale * dloss/dy against labels * realTarget, and the metrics. */
export interface LossTerms {
  kernel: LossKernel;
  update: 'D' | 'G';
  labels: Tensor;
  realTarget: number;
  scale: number;
  /** Rows the metrics score, the first ones (default all). */
  scoredRows?: number;
}

export interface GanLoss {
  readonly name: string;
  /** What D's output means to a person reading the metrics: a probability, or a raw score. */
  readonly output: 'probability' | 'score';
  /** D's last activation a config must give it. */
  readonly dActivation: Activation;
  /** D runs without that activation in training: the loss applies it itself (BCE on logits). */
  readonly logits: boolean;
  /** Whether D's real targets may be below 1 (one-sided label smoothing). */
  readonly smoothing: boolean;
  dTerms(batch: DBatch): LossTerms;
  gTerms(batch: GBatch): LossTerms;
  /** The float64 twin of both gradients. */
  readonly reference: RefGanLoss;
}

/** The loss step as its own dispatch: D's output `out` [rows, 1], its gradient into `delta`. */
export function recordLoss(ctx: GpuContext, out: Tensor, delta: Tensor, metrics: Tensor, t: LossTerms): Step[] {
  return [lossStep(ctx, out, t.labels, delta, metrics, { loss: t.kernel, update: t.update, scale: t.scale, scoredRows: t.scoredRows, realTarget: t.realTarget })];
}
