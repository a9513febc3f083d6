// Float64 reference losses, written for clarity.

import type { LossKernel } from '../kernels/losses.ts';

export function sigmoid(x: number): number {
  return 1 / (1 + Math.exp(-x));
}

/** Binary cross-entropy of logit x against target y, in the overflow-free form. */
export function bceWithLogits(x: number, y: number): number {
  return Math.max(x, 0) - x * y + Math.log1p(Math.exp(-Math.abs(x)));
}

export function bceWithLogitsGrad(x: ArrayLike<number>, y: ArrayLike<number>, scale: number): Float64Array {
  return Float64Array.from(x, (xi, i) => scale * (sigmoid(xi) - y[i]));
}

export function bceWithLogitsLoss(x: ArrayLike<number>, y: ArrayLike<number>, scale: number): number {
  let sum = 0;
  for (let i = 0; i < x.length; i++) sum += bceWithLogits(x[i], y[i]);
  return scale * sum;
}

/** DeepLearnToolbox nnbp's output delta for sigmoid outputs under squared error: -e .* a .* (1 - a), e = y - a. */
export function mseSigmoidGrad(a: ArrayLike<number>, y: ArrayLike<number>, scale: number): Float64Array {
  return Float64Array.from(a, (ai, i) => scale * -(y[i] - ai) * ai * (1 - ai));
}

/** DeepLearnToolbox nnff's loss: 1/2 * sum(e.^2), e = y - a. */
export function mseLoss(a: ArrayLike<number>, y: ArrayLike<number>, scale: number): number {
  let sum = 0;
  for (let i = 0; i < a.length; i++) sum += (y[i] - a[i]) ** 2;
  return scale * 0.5 * sum;
}

/** One row's loss by kernel (shaders/lib/loss.wgsl): s = +1 for label 1, -1 for label 0. */
export function lossValue(loss: LossKernel, p: number, y: number): number {
  const s = 2 * y - 1;
  switch (loss) {
    case 'bce': return bceWithLogits(p, y);
    case 'mse': return 0.5 * (y - p) ** 2;
    case 'hinge': return Math.max(1 - s * p, 0);
    case 'wasserstein': return -s * p;
  }
}

/** d lossValue / d p (MSE through the sigmoid: with respect to the pre-activation). */
export function lossGradient(loss: LossKernel, p: number, y: number): number {
  const s = 2 * y - 1;
  switch (loss) {
    case 'bce': return sigmoid(p) - y;
    case 'mse': return (p - y) * p * (1 - p);
    case 'hinge': return s * p < 1 ? -s : 0;
    case 'wasserstein': return -s;
  }
}

export function lossGradients(loss: LossKernel, p: ArrayLike<number>, y: ArrayLike<number>, scale: number): Float64Array {
  return Float64Array.from(p, (pi, i) => scale * lossGradient(loss, pi, y[i]));
}
