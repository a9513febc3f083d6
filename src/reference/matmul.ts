// Float64 reference matmul with the same epilogues as the kernel, plus the per-element scale
// sum_k |a_ik| |b_kj| that the checks' rounding tolerance is proportional to, and the column
// sums of op(B) (the fused bias gradient) with their scale sum_k |b_kj|.

import { DEFAULT_LEAK, type Activation } from '../kernels/common.ts';
import { activate, activateGradFromOutput } from './activations.ts';

export interface MatmulReferenceOptions {
  transA?: boolean;
  transB?: boolean;
  bias?: ArrayLike<number>;
  activation?: Activation;
  leak?: number;
  gradOf?: { output: ArrayLike<number>; activation: Activation; leak?: number };
  /** C's previous contents, for accumulate: C = act(C + A B + bias). */
  accumulate?: ArrayLike<number>;
  /** The bias gradient's previous contents [N], added to the column sums (accumulate). */
  accumulateBiasGrad?: ArrayLike<number>;
}

export interface MatmulReference {
  /** The result, [M, N] row-major. */
  c: Float64Array;
  /** The raw product A B before any epilogue. */
  product: Float64Array;
  /** sum_k |op(A)_ik| |op(B)_kj| per element. */
  scale: Float64Array;
  /** sum_k op(B)_kj per column j (plus `accumulateBiasGrad`): the fused bias gradient. */
  biasGrad: Float64Array;
  /** sum_k |op(B)_kj| per column j. */
  biasGradScale: Float64Array;
}

/** op(A) [M, K] and op(B) [K, N] from their stored layouts, in float64 row-major. */
function operand(x: ArrayLike<number>, rows: number, cols: number, transposed: boolean): Float64Array {
  const out = new Float64Array(rows * cols);
  for (let i = 0; i < rows; i++) {
    for (let j = 0; j < cols; j++) out[i * cols + j] = transposed ? x[j * rows + i] : x[i * cols + j];
  }
  return out;
}

export function matmulReference(a: ArrayLike<number>, b: ArrayLike<number>, m: number, n: number, k: number, opts: MatmulReferenceOptions = {}): MatmulReference {
  const A = operand(a, m, k, opts.transA ?? false);
  const B = operand(b, k, n, opts.transB ?? false);
  const product = new Float64Array(m * n);
  const scale = new Float64Array(m * n);
  // i-k-j order walks B and C rows contiguously (fast enough for the 1024^3 check).
  for (let i = 0; i < m; i++) {
    const row = i * n;
    for (let p = 0; p < k; p++) {
      const x = A[i * k + p];
      const ax = Math.abs(x);
      const bRow = p * n;
      for (let j = 0; j < n; j++) {
        const y = B[bRow + j];
        product[row + j] += x * y;
        scale[row + j] += ax * Math.abs(y);
      }
    }
  }
  const leak = opts.leak ?? DEFAULT_LEAK;
  const c = new Float64Array(m * n);
  for (let i = 0; i < m; i++) {
    for (let j = 0; j < n; j++) {
      const e = i * n + j;
      let v = product[e];
      if (opts.accumulate) v += opts.accumulate[e];
      if (opts.bias) v += opts.bias[j];
      if (opts.gradOf) v *= activateGradFromOutput(opts.gradOf.output[e], opts.gradOf.activation, opts.gradOf.leak ?? DEFAULT_LEAK);
      else if (opts.activation) v = activate(v, opts.activation, leak);
      c[e] = v;
    }
  }
  const biasGrad = new Float64Array(n);
  const biasGradScale = new Float64Array(n);
  for (let p = 0; p < k; p++) {
    for (let j = 0; j < n; j++) {
      biasGrad[j] += B[p * n + j];
      biasGradScale[j] += Math.abs(B[p * n + j]);
    }
  }
  if (opts.accumulateBiasGrad) for (let j = 0; j < n; j++) biasGrad[j] += opts.accumulateBiasGrad[j];
  return { c, product, scale, biasGrad, biasGradScale };
}
