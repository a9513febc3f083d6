// Pictures of what a generator produces, as RGBA pixel buffers: the same code feeds a canvas
// in the browser and a PNG file in Node. No plotting library is needed at this size.

import { ShapeError } from '../gpu/errors.ts';

export interface Rgba {
  width: number;
  height: number;
  /** RGBA, 4 bytes per pixel, row-major. */
  data: Uint8ClampedArray;
}

export function blank(width: number, height: number, rgb: [number, number, number] = [255, 255, 255]): Rgba {
  const data = new Uint8ClampedArray(width * height * 4);
  // One pixel written, then copied over the rest in doubling runs: no array per pixel.
  if (data.length) data.set([rgb[0], rgb[1], rgb[2], 255]);
  for (let filled = 4; filled < data.length; filled *= 2) data.copyWithin(filled, 0, Math.min(filled, data.length - filled));
  return { width, height, data };
}

function fillRect(img: Rgba, x0: number, y0: number, w: number, h: number, rgb: readonly number[], alpha = 1): void {
  for (let y = Math.max(0, Math.floor(y0)); y < Math.min(img.height, Math.ceil(y0 + h)); y++) {
    for (let x = Math.max(0, Math.floor(x0)); x < Math.min(img.width, Math.ceil(x0 + w)); x++) {
      const i = (y * img.width + x) * 4;
      for (let c = 0; c < 3; c++) img.data[i + c] = img.data[i + c] * (1 - alpha) + rgb[c] * alpha;
    }
  }
}

/**
 * A grid of images (values in [0, 1]), each [height, width, channels] row-major with channels
 * fastest (NHWC); one channel is gray (white digits on black, as MNIST), three are RGB. A number
 * is a square gray side.
 */
export function imageGrid(samples: ArrayLike<number>, count: number, shape: number | readonly number[], columns = 10, gap = 2): Rgba {
  const [h, w, c] = typeof shape === 'number' ? [shape, shape, 1] : shape.length === 3 ? shape : [shape[0], shape[1] ?? shape[0], 1];
  if (c !== 1 && c !== 3) throw new ShapeError(`imageGrid: ${c} channels (1 or 3 can be drawn)`);
  const size = h * w * c;
  if (samples.length < count * size) throw new ShapeError(`imageGrid: ${samples.length} values for ${count} images of ${h}x${w}x${c}`);
  const rows = Math.ceil(count / columns);
  const img = blank(Math.min(count, columns) * (w + gap) + gap, rows * (h + gap) + gap, [64, 64, 64]);
  const byte = (v: number) => Math.round(255 * Math.min(1, Math.max(0, v)));
  for (let n = 0; n < count; n++) {
    const ox = gap + (n % columns) * (w + gap);
    const oy = gap + Math.floor(n / columns) * (h + gap);
    for (let y = 0; y < h; y++) {
      for (let x = 0; x < w; x++) {
        const at = n * size + (y * w + x) * c;
        const i = ((oy + y) * img.width + ox + x) * 4;
        const r = byte(samples[at]);
        img.data[i] = r;
        img.data[i + 1] = c === 3 ? byte(samples[at + 1]) : r;
        img.data[i + 2] = c === 3 ? byte(samples[at + 2]) : r;
      }
    }
  }
  return img;
}

/** Nearest-neighbour upscaling (a 28-pixel digit is too small to look at). */
export function upscale(img: Rgba, factor: number): Rgba {
  const out = blank(img.width * factor, img.height * factor);
  for (let y = 0; y < out.height; y++) {
    for (let x = 0; x < out.width; x++) {
      const src = (Math.floor(y / factor) * img.width + Math.floor(x / factor)) * 4;
      out.data.set(img.data.subarray(src, src + 4), (y * out.width + x) * 4);
    }
  }
  return out;
}

export const GENERATED_COLOR = [31, 119, 180] as const;
export const TARGET_COLOR = [255, 127, 14] as const;

/**
 * A histogram of 1-D samples (blue bars, as densities) over the target density (orange curve),
 * the picture of the GAN paper's Figure 1. `curve` optionally overlays D(x) (green, 0..1 scale).
 */
export function histogramPlot(
  samples: ArrayLike<number>,
  targetDensity: (x: number) => number,
  range: [number, number],
  opts: { width?: number; height?: number; bins?: number; discriminator?: (x: number) => number } = {},
): Rgba {
  const { width = 480, height = 320, bins = 60 } = opts;
  const img = blank(width, height);
  const [lo, hi] = range;
  const counts = new Array<number>(bins).fill(0);
  for (let i = 0; i < samples.length; i++) {
    const b = Math.floor(((samples[i] - lo) / (hi - lo)) * bins);
    if (b >= 0 && b < bins) counts[b]++;
  }
  const binWidth = (hi - lo) / bins;
  const densities = counts.map((c) => c / (samples.length * binWidth));
  let peak = 0;
  for (let i = 0; i <= 200; i++) peak = Math.max(peak, targetDensity(lo + ((hi - lo) * i) / 200));
  peak = Math.max(peak, ...densities) * 1.1 || 1;
  const plotH = height - 20;
  const barW = width / bins;
  densities.forEach((d, b) => fillRect(img, b * barW, plotH - (d / peak) * plotH, Math.max(1, barW - 1), (d / peak) * plotH, GENERATED_COLOR, 0.85));
  fillRect(img, 0, plotH, width, 1, [0, 0, 0]);
  for (let t = Math.ceil(lo); t <= hi; t++) fillRect(img, ((t - lo) / (hi - lo)) * width, plotH, 1, 6, [0, 0, 0]);
  for (let x = 0; x < width; x++) {
    const v = lo + ((hi - lo) * (x + 0.5)) / width;
    fillRect(img, x - 1, plotH - (targetDensity(v) / peak) * plotH - 1, 3, 3, TARGET_COLOR);
    if (opts.discriminator) fillRect(img, x, plotH - opts.discriminator(v) * plotH, 2, 2, [44, 160, 44]);
  }
  return img;
}

/** A scatter of 2-D samples (blue) over the target modes (orange rings of radius 3 std). */
export function scatterPlot(
  samples: ArrayLike<number>,
  modes: readonly (readonly [number, number])[],
  modeStd: number,
  range: number,
  opts: { size?: number } = {},
): Rgba {
  const size = opts.size ?? 480;
  const img = blank(size, size);
  const toPx = (v: number) => ((v + range) / (2 * range)) * size;
  fillRect(img, toPx(0), 0, 1, size, [220, 220, 220]);
  fillRect(img, 0, size - toPx(0), size, 1, [220, 220, 220]);
  for (let i = 0; i + 1 < samples.length; i += 2) fillRect(img, toPx(samples[i]) - 1, size - toPx(samples[i + 1]) - 1, 2, 2, GENERATED_COLOR, 0.6);
  const r = Math.max(3, (3 * modeStd * size) / (2 * range));
  for (const [mx, my] of modes) {
    for (let a = 0; a < 64; a++) {
      const t = (2 * Math.PI * a) / 64;
      fillRect(img, toPx(mx) + r * Math.cos(t) - 1, size - toPx(my) + r * Math.sin(t) - 1, 2, 2, TARGET_COLOR);
    }
  }
  return img;
}

/** Pixel variance of an image's luminance (tests use it to tell a picture from a blank). */
export function luminanceVariance(img: Rgba): number {
  let s = 0;
  let s2 = 0;
  const n = img.width * img.height;
  for (let i = 0; i < n; i++) {
    const l = (img.data[4 * i] + img.data[4 * i + 1] + img.data[4 * i + 2]) / 3;
    s += l;
    s2 += l * l;
  }
  return s2 / n - (s / n) ** 2;
}

/**
 * 2-D samples (blue) over the data's points (gray), the first two columns of each, in a square
 * that holds both (4 standard deviations of the data around its mean).
 */
export function pointsPlot(samples: ArrayLike<number>, data: ArrayLike<number>, dims: number, opts: { size?: number } = {}): Rgba {
  const size = opts.size ?? 480;
  const img = blank(size, size);
  const n = Math.floor(data.length / dims);
  const stat = (c: number) => {
    let mean = 0;
    for (let i = 0; i < n; i++) mean += data[i * dims + c] / n;
    let v = 0;
    for (let i = 0; i < n; i++) v += (data[i * dims + c] - mean) ** 2 / n;
    return { mean, half: 4 * Math.sqrt(v) || 1 };
  };
  const [sx, sy] = [stat(0), stat(Math.min(1, dims - 1))];
  const half = Math.max(sx.half, sy.half);
  const px = (v: number) => ((v - sx.mean + half) / (2 * half)) * size;
  const py = (v: number) => size - ((v - sy.mean + half) / (2 * half)) * size;
  const y = (arr: ArrayLike<number>, i: number) => (dims > 1 ? arr[i * dims + 1] : 0);
  for (let i = 0; i < n; i++) fillRect(img, px(data[i * dims]) - 1, py(y(data, i)) - 1, 2, 2, [170, 170, 170], 0.7);
  for (let i = 0; i < Math.floor(samples.length / dims); i++) fillRect(img, px(samples[i * dims]) - 1, py(y(samples, i)) - 1, 2, 2, GENERATED_COLOR, 0.6);
  return img;
}
