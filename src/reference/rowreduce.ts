// Float64 reference row reductions, written for clarity.

/** sum_j x[i, j]^2 for each row of a row-major [rows, cols] matrix. */
export function rowSumSquares(x: ArrayLike<number>, rows: number, cols: number): Float64Array {
  const out = new Float64Array(rows);
  for (let i = 0; i < rows; i++) {
    let acc = 0;
    for (let j = 0; j < cols; j++) acc += x[i * cols + j] ** 2;
    out[i] = acc;
  }
  return out;
}

/** log sum_j exp(v_j), with the maximum factored out. */
export function logSumExp(values: ArrayLike<number>): number {
  let max = -Infinity;
  for (let j = 0; j < values.length; j++) max = Math.max(max, values[j]);
  if (max === -Infinity) return -Infinity;
  let sum = 0;
  for (let j = 0; j < values.length; j++) sum += Math.exp(values[j] - max);
  return max + Math.log(sum);
}

/**
 * log sum_j exp(scale * v[i, j]) per row; with `distances`, v[i, j] = max(rowNorms[i] +
 * colNorms[j] - 2 x[i, j], 0) as the kernel forms it from dot products.
 */
export function rowLogSumExp(
  x: ArrayLike<number>,
  rows: number,
  cols: number,
  scale: number,
  distances?: { rowNorms: ArrayLike<number>; colNorms: ArrayLike<number> },
): Float64Array {
  const out = new Float64Array(rows);
  const row = new Float64Array(cols);
  for (let i = 0; i < rows; i++) {
    for (let j = 0; j < cols; j++) {
      const v = x[i * cols + j];
      row[j] = scale * (distances ? Math.max(distances.rowNorms[i] + distances.colNorms[j] - 2 * v, 0) : v);
    }
    out[i] = logSumExp(row);
  }
  return out;
}
