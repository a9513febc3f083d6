// Square crops at a chosen size, for image folders whose pictures differ in size. The picture's
// centred square (side = its shorter side; when the difference is odd the extra pixel is cut
// from the right or bottom) is resampled to size x size; that is the same as scaling the shorter
// side to `size` and then centre-cropping, without resampling pixels that are thrown away.
// Resampling is separable, one axis at a time in float64: shrinking averages the source area
// each output pixel covers (a box filter with fractional edge weights, so no source pixel is
// skipped and nothing aliases); enlarging interpolates bilinearly between pixel centres.

interface Taps {
  /** First source index of each output index. */
  start: Int32Array;
  /** Weights of each output index, `width` per output, padded with zeros. */
  weights: Float64Array;
  width: number;
}

/** The 1-D filter taking `from` samples to `to` samples. */
function taps(from: number, to: number): Taps {
  if (to <= from) {
    // Output i covers source interval [i * scale, (i + 1) * scale).
    const scale = from / to;
    const width = Math.ceil(scale) + 1;
    const start = new Int32Array(to);
    const weights = new Float64Array(to * width);
    for (let i = 0; i < to; i++) {
      const lo = i * scale;
      const hi = (i + 1) * scale;
      const first = Math.floor(lo);
      start[i] = first;
      for (let k = 0; k < width && first + k < from; k++) {
        const cover = Math.min(hi, first + k + 1) - Math.max(lo, first + k);
        if (cover > 0) weights[i * width + k] = cover / scale;
      }
    }
    return { start, weights, width };
  }
  // Output centre i + 0.5 maps to source position (i + 0.5) * from / to - 0.5, clamped at the edges.
  const width = 2;
  const start = new Int32Array(to);
  const weights = new Float64Array(to * width);
  for (let i = 0; i < to; i++) {
    const pos = Math.min(Math.max(((i + 0.5) * from) / to - 0.5, 0), from - 1);
    const first = Math.min(Math.floor(pos), Math.max(from - 2, 0));
    const t = pos - first;
    start[i] = first;
    weights[i * width] = 1 - t;
    if (first + 1 < from) weights[i * width + 1] = t;
  }
  return { start, weights, width };
}

/**
 * The centred square of a [height, width, channels] image (bytes, or gray values in float that
 * are rounded only here), resampled to size x size and rounded to bytes.
 */
export function cropResize(src: ArrayLike<number>, width: number, height: number, channels: number, size: number): Uint8Array {
  const side = Math.min(width, height);
  const x0 = Math.floor((width - side) / 2);
  const y0 = Math.floor((height - side) / 2);
  const tx = taps(side, size);
  const ty = taps(side, size);
  // Horizontal pass over the square's rows: [side, size, channels].
  const mid = new Float64Array(side * size * channels);
  for (let y = 0; y < side; y++) {
    const rowStart = ((y0 + y) * width + x0) * channels;
    for (let x = 0; x < size; x++) {
      for (let c = 0; c < channels; c++) {
        let sum = 0;
        for (let k = 0; k < tx.width; k++) {
          const w = tx.weights[x * tx.width + k];
          if (w !== 0) sum += w * src[rowStart + (tx.start[x] + k) * channels + c];
        }
        mid[(y * size + x) * channels + c] = sum;
      }
    }
  }
  // Vertical pass: [size, size, channels].
  const out = new Uint8Array(size * size * channels);
  for (let y = 0; y < size; y++) {
    for (let x = 0; x < size; x++) {
      for (let c = 0; c < channels; c++) {
        let sum = 0;
        for (let k = 0; k < ty.width; k++) {
          const w = ty.weights[y * ty.width + k];
          if (w !== 0) sum += w * mid[((ty.start[y] + k) * size + x) * channels + c];
        }
        out[(y * size + x) * channels + c] = Math.min(255, Math.max(0, Math.round(sum)));
      }
    }
  }
  return out;
}
