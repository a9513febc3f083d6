// Float64 reference softmax cross-entropy, written for clarity.

import { logSumExp } from './rowreduce.ts';

function row(logits: ArrayLike<number>, i: number, classes: number): number[] {
  return Array.from({ length: classes }, (_, j) => logits[i * classes + j]);
}

/** scale * (softmax(z_i) - onehot(y_i)) per element; a label >= classes has no one-hot term. */
export function softmaxCrossEntropyGrad(logits: ArrayLike<number>, labels: ArrayLike<number>, classes: number, scale: number): Float64Array {
  const rows = labels.length;
  const out = new Float64Array(rows * classes);
  for (let i = 0; i < rows; i++) {
    const z = row(logits, i, classes);
    const lse = logSumExp(z);
    z.forEach((v, j) => {
      out[i * classes + j] = scale * (Math.exp(v - lse) - (j === labels[i] ? 1 : 0));
    });
  }
  return out;
}

/** The cross-entropy of one row: logsumexp(z) - z[y] (logsumexp alone for a label >= classes). */
export function softmaxCrossEntropy(z: readonly number[], label: number): number {
  return logSumExp(z) - (label < z.length ? z[label] : 0);
}

/** scale * sum_i of each row's cross-entropy. */
export function softmaxCrossEntropyLoss(logits: ArrayLike<number>, labels: ArrayLike<number>, classes: number, scale: number): number {
  let sum = 0;
  for (let i = 0; i < labels.length; i++) sum += softmaxCrossEntropy(row(logits, i, classes), labels[i]);
  return scale * sum;
}
