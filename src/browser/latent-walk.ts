// G's inputs for the image presets' extra views: a walk between two noise vectors (a slider
// from one to the other, redrawn live) and, for a conditional GAN, the fixed noise with every
// row's label set to one picked class. Both start from the trainer's fixed noise rows (read
// back once per trainer), so they draw noise the way training does: a bank's rows for the
// seed experiment, normal or uniform draws otherwise.

import type { GanConfig } from '../gan/config.ts';

/** Frames of the walk's strip, from one end to the other. */
export const WALK_FRAMES = 9;

/** The noise part of a G input row and its label part (a conditional GAN's one-hot columns). */
export function noiseColumns(config: GanConfig): { noise: number; classes: number } {
  return { noise: config.noise.dim, classes: config.conditional?.classes ?? 0 };
}

/**
 * The point a fraction t of the way from a to b. Normal noise walks a great circle (spherical
 * interpolation), so every point has a typical norm, as G saw in training; a straight line's
 * middle is shorter than any sample. Uniform and min-max scaled noise walk the straight line,
 * which stays inside their box.
 */
export function interpolate(a: Float32Array, b: Float32Array, t: number, spherical: boolean): Float32Array {
  const out = new Float32Array(a.length);
  if (spherical) {
    let [dot, na, nb] = [0, 0, 0];
    for (let i = 0; i < a.length; i++) [dot, na, nb] = [dot + a[i] * b[i], na + a[i] * a[i], nb + b[i] * b[i]];
    const omega = Math.acos(Math.min(1, Math.max(-1, dot / Math.sqrt(na * nb || 1))));
    if (omega > 1e-6) {
      const [wa, wb] = [Math.sin((1 - t) * omega) / Math.sin(omega), Math.sin(t * omega) / Math.sin(omega)];
      for (let i = 0; i < a.length; i++) out[i] = wa * a[i] + wb * b[i];
      return out;
    }
  }
  for (let i = 0; i < a.length; i++) out[i] = (1 - t) * a[i] + t * b[i];
  return out;
}

/** Whether the config's noise walks a great circle (normal draws, not min-max scaled). */
export function walksSphere(config: GanConfig): boolean {
  return config.noise.distribution === 'normal' && !config.noise.minmax;
}

/** The rows of `fixed` [n, width] with their label columns (after the noise) one-hot for `label`, at the config's scale. */
export function withLabel(config: GanConfig, fixed: Float32Array, label: number): Float32Array {
  const { noise, classes } = noiseColumns(config);
  if (!classes) return fixed;
  const width = noise + classes;
  const hot = config.conditional?.labelScale ?? 1;
  const out = fixed.slice();
  for (let r = 0; r < out.length / width; r++) {
    out.fill(0, r * width + noise, (r + 1) * width);
    out[r * width + noise + label] = hot;
  }
  return out;
}

/** The label a fixed-noise row carries (its hot column), or 0 for an unconditional GAN. */
export function labelOf(config: GanConfig, fixed: Float32Array, row: number): number {
  const { noise, classes } = noiseColumns(config);
  if (!classes) return 0;
  const width = noise + classes;
  let best = 0;
  for (let c = 1; c < classes; c++) if (fixed[row * width + noise + c] > fixed[row * width + noise + best]) best = c;
  return best;
}

/**
 * G inputs of the walk: WALK_FRAMES rows evenly from endpoint a to b (the strip), then the row
 * at t (the big picture). Endpoints are rows of the fixed noise; a conditional GAN's label is
 * `label`, or the first endpoint's own when null.
 */
export function walkInputs(config: GanConfig, fixed: Float32Array, ends: [number, number], t: number, label: number | null): Float32Array {
  const { noise, classes } = noiseColumns(config);
  const width = noise + classes;
  const row = (r: number) => fixed.subarray(r * width, r * width + noise);
  const [a, b] = [row(ends[0]), row(ends[1])];
  const spherical = walksSphere(config);
  const out = new Float32Array((WALK_FRAMES + 1) * width);
  const hot = config.conditional?.labelScale ?? 1;
  const cls = label ?? labelOf(config, fixed, ends[0]);
  for (let f = 0; f <= WALK_FRAMES; f++) {
    const at = f < WALK_FRAMES ? f / (WALK_FRAMES - 1) : t;
    out.set(interpolate(a, b, at, spherical), f * width);
    if (classes) out[f * width + noise + cls] = hot;
  }
  return out;
}
