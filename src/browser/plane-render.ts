// Draws the plane views (plane.ts) on a canvas, layer by layer, and the heatmap's colour scale.
// Back to front: D's heatmap, the real data, G's manifold, the fake samples, their arrows. The
// heatmap's colours run from purple (D says fake) through white to green (D says real); the
// scale is a canvas of its own holding exactly those colours, so a reader (or a test) can read
// any heatmap pixel back to D's value.

import { HIGH_QUALITY_STDS } from '../data/toy.ts';
import { GENERATED_COLOR, TARGET_COLOR } from '../viz/image.ts';
import { HEATMAP_SIZE, MANIFOLD_LINES, type PlaneFrame, type PlaneViews } from './plane.ts';

export interface PlaneLayers {
  real: boolean;
  samples: boolean;
  heatmap: boolean;
  arrows: boolean;
  manifold: boolean;
}

/** The range the heatmap's colours span, and what D's output means. */
export interface HeatScale {
  lo: number;
  hi: number;
  /** 'probability': D(x) in [0, 1]; 'score': a raw score, its range that of the grid now. */
  output: 'probability' | 'score';
}

const FAKE_END = [118, 42, 131] as const;
const REAL_END = [27, 120, 55] as const;
/** How far toward the end colours the scale goes: pale enough for samples to show on it. */
const SATURATION = 0.75;

/** The heatmap colour of t in [0, 1] (0: fake end, 0.5: white, 1: real end). */
export function heatColor(t: number): [number, number, number] {
  const u = Math.min(1, Math.max(0, Number.isFinite(t) ? t : 0.5));
  const end = u < 0.5 ? FAKE_END : REAL_END;
  const w = (Math.abs(u - 0.5) / 0.5) * SATURATION;
  return [0, 1, 2].map((c) => Math.round(255 * (1 - w) + end[c] * w)) as [number, number, number];
}

/** The colour scale of a heatmap: probabilities on [0, 1]; scores on the grid's own range. */
export function heatScale(values: Float32Array, output: 'probability' | 'score'): HeatScale {
  if (output === 'probability') return { lo: 0, hi: 1, output };
  let [lo, hi] = [Infinity, -Infinity];
  for (const v of values) if (Number.isFinite(v)) [lo, hi] = [Math.min(lo, v), Math.max(hi, v)];
  if (!(hi > lo)) [lo, hi] = [Number.isFinite(lo) ? lo - 1 : -1, Number.isFinite(hi) ? hi + 1 : 1];
  return { lo, hi, output };
}

/** Data units to canvas pixels (y up in the data, down on the canvas). */
export function toPixel(frame: PlaneFrame, size: number, x: number, y: number): [number, number] {
  return [((x - frame.cx + frame.half) / (2 * frame.half)) * size, ((frame.cy + frame.half - y) / (2 * frame.half)) * size];
}

function rgb(c: readonly number[], alpha = 1): string {
  return `rgba(${c[0]}, ${c[1]}, ${c[2]}, ${alpha})`;
}

let heatCanvas: HTMLCanvasElement | null = null;

function drawHeatmap(g: CanvasRenderingContext2D, size: number, values: Float32Array, scale: HeatScale): void {
  heatCanvas ??= document.createElement('canvas');
  heatCanvas.width = HEATMAP_SIZE;
  heatCanvas.height = HEATMAP_SIZE;
  const image = new ImageData(HEATMAP_SIZE, HEATMAP_SIZE);
  for (let i = 0; i < HEATMAP_SIZE * HEATMAP_SIZE; i++) {
    image.data.set([...heatColor((values[i] - scale.lo) / (scale.hi - scale.lo)), 255], 4 * i);
  }
  heatCanvas.getContext('2d')!.putImageData(image, 0, 0);
  // Smoothing interpolates between neighbouring cells, whose colours lie on the scale's line.
  g.imageSmoothingEnabled = true;
  g.drawImage(heatCanvas, 0, 0, size, size);
}

function drawReal(g: CanvasRenderingContext2D, frame: PlaneFrame, size: number, real: Float32Array | null): void {
  g.fillStyle = rgb(TARGET_COLOR, 0.55);
  for (let i = 0; real && i + 1 < real.length; i += 2) {
    const [px, py] = toPixel(frame, size, real[i], real[i + 1]);
    g.fillRect(px - 1.5, py - 1.5, 3, 3);
  }
  if (!frame.mixture) return;
  // The modes' high-quality discs (3 standard deviations), at least 3 pixels wide to be seen.
  const r = Math.max(3, (HIGH_QUALITY_STDS * frame.mixture.std * size) / (2 * frame.half));
  g.strokeStyle = rgb(TARGET_COLOR);
  g.lineWidth = 1.5;
  for (const [mx, my] of frame.mixture.centers) {
    const [px, py] = toPixel(frame, size, mx, my);
    g.beginPath();
    g.arc(px, py, r, 0, 2 * Math.PI);
    g.stroke();
  }
}

function drawManifold(g: CanvasRenderingContext2D, frame: PlaneFrame, size: number, points: Float32Array): void {
  const n = MANIFOLD_LINES;
  const at = (r: number, c: number) => toPixel(frame, size, points[2 * (r * n + c)], points[2 * (r * n + c) + 1]);
  g.strokeStyle = 'rgba(80, 80, 80, 0.55)';
  g.lineWidth = 1;
  g.beginPath();
  for (let r = 0; r < n; r++) {
    for (let c = 0; c < n; c++) {
      const [x, y] = at(r, c);
      if (c === 0) g.moveTo(x, y);
      else g.lineTo(x, y);
    }
  }
  for (let c = 0; c < n; c++) {
    for (let r = 0; r < n; r++) {
      const [x, y] = at(r, c);
      if (r === 0) g.moveTo(x, y);
      else g.lineTo(x, y);
    }
  }
  g.stroke();
}

function drawSamples(g: CanvasRenderingContext2D, frame: PlaneFrame, size: number, samples: Float32Array): void {
  g.fillStyle = rgb(GENERATED_COLOR, 0.6);
  for (let i = 0; i + 1 < samples.length; i += 2) {
    const [px, py] = toPixel(frame, size, samples[i], samples[i + 1]);
    g.fillRect(px - 1, py - 1, 2, 2);
  }
}

/**
 * The arrows' length in pixels per unit of direction: the 90th percentile of the directions'
 * lengths becomes 6% of the canvas, so arrows stay readable whatever the gradient's magnitude
 * (it shrinks as D and G balance); longer ones are cut at twice that.
 */
export function arrowScale(directions: Float32Array, size: number): number {
  const lengths: number[] = [];
  for (let i = 0; i + 1 < directions.length; i += 2) lengths.push(Math.hypot(directions[i], directions[i + 1]));
  lengths.sort((a, b) => a - b);
  const p90 = lengths[Math.floor(0.9 * (lengths.length - 1))] ?? 0;
  return p90 > 0 ? (0.06 * size) / p90 : 0;
}

function drawArrows(g: CanvasRenderingContext2D, frame: PlaneFrame, size: number, arrows: NonNullable<PlaneViews['arrows']>): void {
  const k = arrowScale(arrows.directions, size);
  const cap = 0.12 * size;
  g.strokeStyle = 'rgba(20, 20, 20, 0.75)';
  g.lineWidth = 1;
  g.beginPath();
  for (let i = 0; i + 1 < arrows.points.length; i += 2) {
    const [x, y] = toPixel(frame, size, arrows.points[i], arrows.points[i + 1]);
    // Pixels: y grows downward, so the data's dy flips.
    let [dx, dy] = [arrows.directions[i] * k, -arrows.directions[i + 1] * k];
    const len = Math.hypot(dx, dy);
    if (!(len > 0.5)) continue;
    if (len > cap) [dx, dy] = [(dx * cap) / len, (dy * cap) / len];
    const [ex, ey] = [x + dx, y + dy];
    g.moveTo(x, y);
    g.lineTo(ex, ey);
    // The head: two short strokes back from the tip at +-25 degrees.
    const angle = Math.atan2(dy, dx);
    const head = Math.min(5, 0.4 * Math.hypot(dx, dy));
    for (const side of [-1, 1]) {
      g.moveTo(ex, ey);
      g.lineTo(ex - head * Math.cos(angle + side * 0.45), ey - head * Math.sin(angle + side * 0.45));
    }
  }
  g.stroke();
}

/** Draws the scene: white, then each layer that is on and has its data. */
export function drawPlane(
  canvas: HTMLCanvasElement,
  frame: PlaneFrame,
  views: PlaneViews,
  layers: PlaneLayers,
  opts: { real: Float32Array | null; scale: HeatScale | null },
): void {
  const size = canvas.width;
  const g = canvas.getContext('2d')!;
  g.fillStyle = '#fff';
  g.fillRect(0, 0, size, canvas.height);
  if (layers.heatmap && views.heatmap && opts.scale) drawHeatmap(g, size, views.heatmap, opts.scale);
  // The axes through the origin, when it is in view.
  g.fillStyle = 'rgba(0, 0, 0, 0.12)';
  const [ox, oy] = toPixel(frame, size, 0, 0);
  if (ox >= 0 && ox <= size) g.fillRect(Math.round(ox), 0, 1, size);
  if (oy >= 0 && oy <= size) g.fillRect(0, Math.round(oy), size, 1);
  if (layers.real) drawReal(g, frame, size, opts.real);
  if (layers.manifold && views.manifold) drawManifold(g, frame, size, views.manifold);
  if (layers.samples) drawSamples(g, frame, size, views.samples);
  if (layers.arrows && views.arrows) drawArrows(g, frame, size, views.arrows);
}

/** Paints the colour scale left (lo) to right (hi), one column per shade. */
export function drawHeatScale(canvas: HTMLCanvasElement): void {
  const g = canvas.getContext('2d')!;
  for (let x = 0; x < canvas.width; x++) {
    g.fillStyle = rgb(heatColor(x / (canvas.width - 1)));
    g.fillRect(x, 0, 1, canvas.height);
  }
}

/**
 * The value of the scale's nearest colour to `pixel` (RGB): reads a heatmap pixel back to D's
 * output, as a reader does with the scale beside the picture.
 */
export function valueOfColor(pixel: readonly number[], scale: HeatScale, shades = 256): number {
  let best = 0;
  let bestDistance = Infinity;
  for (let i = 0; i < shades; i++) {
    const c = heatColor(i / (shades - 1));
    const d = (c[0] - pixel[0]) ** 2 + (c[1] - pixel[1]) ** 2 + (c[2] - pixel[2]) ** 2;
    if (d < bestDistance) [best, bestDistance] = [i, d];
  }
  return scale.lo + ((scale.hi - scale.lo) * best) / (shades - 1);
}
