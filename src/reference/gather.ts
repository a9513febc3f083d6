// Float64 reference of the gather kernels, written for clarity.

/** mapminmax of one row to [0, 1]: (x - min) / (max - min); a constant row is returned as is. */
export function minMaxRow(row: readonly number[]): number[] {
  const lo = Math.min(...row);
  const hi = Math.max(...row);
  return hi > lo ? row.map((v) => (v - lo) / (hi - lo)) : [...row];
}

/**
 * dst[i, :] = transform(src[indices[indexOffset + i], :]) for i < n, with src row-major [rows, d].
 * The scaled value is what the GPU computes exactly (one f32 multiply, correctly rounded), and
 * the offset one more rounding (a GPU may fuse the two into one: the checks allow for that);
 * the min-max is exact. An index >= rows gives a row of zeros.
 */
export function gatherRows(
  src: ArrayLike<number>,
  d: number,
  indices: ArrayLike<number>,
  n: number,
  opts: { indexOffset?: number; scale?: number; offset?: number; minmax?: boolean } = {},
): Float64Array {
  const { indexOffset = 0, scale = 1, offset = 0, minmax = false } = opts;
  const rows = src.length / d;
  const scale32 = Math.fround(scale);
  const out = new Float64Array(n * d);
  for (let i = 0; i < n; i++) {
    const r = indices[indexOffset + i];
    if (r >= rows) continue;
    let row = Array.from({ length: d }, (_, j) => Math.fround(src[r * d + j] * scale32));
    row = minmax ? minMaxRow(row) : row.map((v) => Math.fround(v + Math.fround(offset)));
    out.set(row, i * d);
  }
  return out;
}

/** In-place row min-max of an [n, d] matrix, returned as a copy. */
export function rowMinMax(x: ArrayLike<number>, d: number): Float64Array {
  const out = new Float64Array(x.length);
  for (let i = 0; i < x.length / d; i++) out.set(minMaxRow(Array.from({ length: d }, (_, j) => x[i * d + j])), i * d);
  return out;
}

/** dst[i] = src[indices[indexOffset + i]], 0 past the end; `toU32` truncates toward zero (negatives give 0). */
export function gatherValues(src: ArrayLike<number>, indices: ArrayLike<number>, n: number, indexOffset = 0, toU32 = false): Float64Array {
  return Float64Array.from({ length: n }, (_, i) => {
    const at = indices[indexOffset + i];
    const v = at < src.length ? src[at] : 0;
    return toU32 ? Math.max(0, Math.trunc(v)) : Math.fround(v);
  });
}
