// Float64 twins of the column-assembly kernels.

export function copyColumns(src: ArrayLike<number>, rows: number, width: number, dst: Float64Array, dstCols: number, column: number, row: number): Float64Array {
  const out = Float64Array.from(dst);
  for (let i = 0; i < rows; i++) for (let j = 0; j < width; j++) out[(row + i) * dstCols + column + j] = src[i * width + j];
  return out;
}

export function oneHot(labels: ArrayLike<number>, classes: number, dst: Float64Array, dstCols: number, column: number, row: number, hot = 1): Float64Array {
  const out = Float64Array.from(dst);
  for (let i = 0; i < labels.length; i++) for (let c = 0; c < classes; c++) out[(row + i) * dstCols + column + c] = labels[i] === c ? hot : 0;
  return out;
}

export function otherLabels(labels: ArrayLike<number>, shifts: ArrayLike<number>, classes: number): Uint32Array {
  return Uint32Array.from(labels, (l, i) => ((l % classes) + 1 + (shifts[i] % (classes - 1))) % classes);
}
