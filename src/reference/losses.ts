// Float64 reference losses, written for clarity.

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
