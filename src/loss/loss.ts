// The loss seam: what the trainer needs from a GAN objective. The trainer hands a loss D's
// output on a batch and where its gradient goes; the loss records the gradient and adds its
// figures to the metric sums. Its float64 twin (src/reference/gan-losses.ts) lets the
// whole-iteration reference train with the same objective. The kinds are registered in index.ts.

import type { GpuContext, Step } from '../gpu/context.ts';
import type { Activation } from '../kernels/common.ts';
import type { RefGanLoss } from '../reference/gan-losses.ts';
import type { Tensor } from '../tensor/tensor.ts';

/** One D update's batch as the loss sees it. */
export interface DBatch {
  /** D's output [rows, 1] (logits when the loss asks for them), and where its gradient goes. */
  out: Tensor;
  delta: Tensor;
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

/** The G update's batch: D's output on fakes, its gradient, and constant 1 and 0 targets of its rows. */
export interface GBatch {
  out: Tensor;
  delta: Tensor;
  ones: Tensor;
  zeros: Tensor;
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
  recordD(ctx: GpuContext, batch: DBatch, metrics: Tensor): Step[];
  recordG(ctx: GpuContext, batch: GBatch, metrics: Tensor): Step[];
  /** The float64 twin of both gradients. */
  readonly reference: RefGanLoss;
}

