// Float64 reference batch normalisation (torch.nn.BatchNorm2d in NHWC), written for clarity:
// x is [rows, P * C] row-major, element (row, p, c) at (row * P + p) * C + c; the rows split into
// `groups` contiguous blocks, each normalised by its own statistics.

import type { Activation } from '../kernels/common.ts';
import { asImage, type BatchNormSpec } from '../nn/layer.ts';
import type { RefLayerTwin } from './network.ts';
import { activate, activateGradFromOutput } from './activations.ts';

export interface BatchNormLayout {
  rows: number;
  channels: number;
  groups: number;
}

/** Per (group, channel) statistics, indexed g * C + c. */
export interface BatchNormStats {
  mean: Float64Array;
  /** Biased variance (divided by n). */
  var: Float64Array;
  invstd: Float64Array;
  /** Values per group and channel: rows / groups * P. */
  n: number;
}

/** Calls visit(index into x) for every value of group g, channel c. */
function eachValue(x: ArrayLike<number>, l: BatchNormLayout, g: number, c: number, visit: (i: number) => void): void {
  const m = (l.rows / l.groups) * (x.length / l.rows / l.channels);
  for (let r = 0; r < m; r++) visit((g * m + r) * l.channels + c);
}

/** Mean and biased variance of each group and channel, two-pass. */
export function batchNormStats(x: ArrayLike<number>, l: BatchNormLayout, eps: number): BatchNormStats {
  const { groups: G, channels: C } = l;
  const n = (l.rows / G) * (x.length / l.rows / C);
  const mean = new Float64Array(G * C);
  const variance = new Float64Array(G * C);
  for (let g = 0; g < G; g++) {
    for (let c = 0; c < C; c++) {
      let sum = 0;
      eachValue(x, l, g, c, (i) => (sum += x[i]));
      const mu = sum / n;
      let sq = 0;
      eachValue(x, l, g, c, (i) => (sq += (x[i] - mu) ** 2));
      mean[g * C + c] = mu;
      variance[g * C + c] = sq / n;
    }
  }
  return { mean, var: variance, invstd: variance.map((v) => 1 / Math.sqrt(v + eps)), n };
}

export interface BatchNormForwardReference {
  y: Float64Array;
  /** Training only: the batch statistics (for backward). */
  stats?: BatchNormStats;
  /** The running statistics after the call (unchanged in inference). */
  runningMean: Float64Array;
  runningVar: Float64Array;
}

export interface BatchNormForwardArgs {
  training: boolean;
  running: { mean: ArrayLike<number>; var: ArrayLike<number> };
  momentum: number;
  eps: number;
  activation: Activation;
  leak: number;
}

/**
 * y = act(gamma * (x - mean) / sqrt(var + eps) + beta). Training: batch statistics per group;
 * running = (1 - momentum) running + momentum * (mean over groups of the batch mean and of the
 * unbiased variance, taken as 0 where a group has one value). Inference: running statistics.
 */
export function batchNormForward(
  x: ArrayLike<number>,
  gamma: ArrayLike<number>,
  beta: ArrayLike<number>,
  l: BatchNormLayout,
  a: BatchNormForwardArgs,
): BatchNormForwardReference {
  const { groups: G, channels: C } = l;
  const y = new Float64Array(x.length);
  if (!a.training) {
    for (let i = 0; i < x.length; i++) {
      const c = i % C;
      const xhat = (x[i] - a.running.mean[c]) / Math.sqrt(a.running.var[c] + a.eps);
      y[i] = activate(gamma[c] * xhat + beta[c], a.activation, a.leak);
    }
    return { y, runningMean: Float64Array.from(a.running.mean), runningVar: Float64Array.from(a.running.var) };
  }
  const stats = batchNormStats(x, l, a.eps);
  const n = stats.n;
  const runningMean = new Float64Array(C);
  const runningVar = new Float64Array(C);
  for (let c = 0; c < C; c++) {
    let meanSum = 0;
    let varSum = 0;
    for (let g = 0; g < G; g++) {
      meanSum += stats.mean[g * C + c];
      varSum += n > 1 ? (stats.var[g * C + c] * n) / (n - 1) : 0;
    }
    runningMean[c] = (1 - a.momentum) * a.running.mean[c] + a.momentum * (meanSum / G);
    runningVar[c] = (1 - a.momentum) * a.running.var[c] + a.momentum * (varSum / G);
  }
  for (let g = 0; g < G; g++) {
    for (let c = 0; c < C; c++) {
      const k = g * C + c;
      eachValue(x, l, g, c, (i) => {
        y[i] = activate(gamma[c] * (x[i] - stats.mean[k]) * stats.invstd[k] + beta[c], a.activation, a.leak);
      });
    }
  }
  return { y, stats, runningMean, runningVar };
}

export interface BatchNormBackwardReference {
  dx: Float64Array;
  dgamma: Float64Array;
  dbeta: Float64Array;
}

/**
 * Training-mode backward. dy is the gradient with respect to z = gamma * xhat + beta; mean and
 * invstd ([groups * C]) are the forward's statistics. dx = gamma * invstd / n * (n dy - sum dy
 * - xhat sum dy xhat) per group, times act'(gradOf.output) when given; dgamma = sum dy xhat and
 * dbeta = sum dy over every group.
 */
export function batchNormBackward(
  dy: ArrayLike<number>,
  x: ArrayLike<number>,
  gamma: ArrayLike<number>,
  stats: { mean: ArrayLike<number>; invstd: ArrayLike<number> },
  l: BatchNormLayout,
  gradOf?: { output: ArrayLike<number>; activation: Activation; leak: number },
): BatchNormBackwardReference {
  const { groups: G, channels: C } = l;
  const n = (l.rows / G) * (x.length / l.rows / C);
  const dx = new Float64Array(x.length);
  const dgamma = new Float64Array(C);
  const dbeta = new Float64Array(C);
  for (let g = 0; g < G; g++) {
    for (let c = 0; c < C; c++) {
      const k = g * C + c;
      const xhat = (i: number) => (x[i] - stats.mean[k]) * stats.invstd[k];
      let sumDy = 0;
      let sumDyXhat = 0;
      eachValue(x, l, g, c, (i) => {
        sumDy += dy[i];
        sumDyXhat += dy[i] * xhat(i);
      });
      dbeta[c] += sumDy;
      dgamma[c] += sumDyXhat;
      eachValue(x, l, g, c, (i) => {
        const d = ((gamma[c] * stats.invstd[k]) / n) * (n * dy[i] - sumDy - xhat(i) * sumDyXhat);
        dx[i] = gradOf ? d * activateGradFromOutput(gradOf.output[i], gradOf.activation, gradOf.leak) : d;
      });
    }
  }
  return { dx, dgamma, dbeta };
}

/** The batch-norm layer's twin (nn/layers/batchnorm.ts): forward updates the running statistics in place. */
export const refBatchNormLayer: RefLayerTwin = {
  forward({ layer, params, buffers, rows, training, blocks, leak }, x, activation) {
    const spec = layer.spec as BatchNormSpec;
    const l = { rows, channels: asImage(layer.input)[2], groups: blocks };
    const r = batchNormForward(x, params.weight, params.bias, l, {
      training,
      running: { mean: buffers.running_mean, var: buffers.running_var },
      momentum: spec.momentum ?? 0.1,
      eps: spec.eps ?? 1e-5,
      activation,
      leak,
    });
    buffers.running_mean.set(r.runningMean);
    buffers.running_var.set(r.runningVar);
    return r.y;
  },
  backward({ layer, params, rows, blocks }, x, delta) {
    const l = { rows, channels: asImage(layer.input)[2], groups: blocks };
    const stats = batchNormStats(x, l, (layer.spec as BatchNormSpec).eps ?? 1e-5);
    const r = batchNormBackward(delta, x, params.weight, stats, l);
    return { grads: { weight: r.dgamma, bias: r.dbeta }, input: r.dx };
  },
};
