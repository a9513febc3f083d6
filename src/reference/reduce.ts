// Float64 reference reductions, written for clarity.

import { sigmoid } from './losses.ts';

/** out[j] = scale * sum_i x[i, j] for a row-major [rows, cols] matrix. */
export function sumRows(x: ArrayLike<number>, rows: number, cols: number, scale = 1): Float64Array {
  const out = new Float64Array(cols);
  for (let i = 0; i < rows; i++) for (let j = 0; j < cols; j++) out[j] += x[i * cols + j];
  return out.map((s) => scale * s);
}

export function mean(x: ArrayLike<number>, transform: 'identity' | 'sigmoid' = 'identity'): number {
  let sum = 0;
  for (let i = 0; i < x.length; i++) sum += transform === 'sigmoid' ? sigmoid(x[i]) : x[i];
  return sum / x.length;
}
