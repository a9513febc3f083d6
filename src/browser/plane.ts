// The picture of a 2-D GAN, as numbers: where the plane is, and what the networks say over it.
// D's output on a regular grid (the heatmap), the direction G's loss moves each fake sample
// (the arrows), and the image of a regular noise grid under G (the manifold). Every figure is
// computed on the GPU by the trainer's own networks; this module only chooses the points and
// converts between the data's units (what the page shows) and the model's units (what the
// networks see: standardised columns for a loaded data set, the units themselves for the
// mixtures).

import { dataShape, toDataUnits, type DataSpec } from '../data/source.ts';
import { MIXTURES, type Mixture2d } from '../data/toy.ts';
import type { GanConfig } from '../gan/config.ts';
import type { GanTrainer } from '../gan/trainer.ts';

/** Heatmap resolution: D is evaluated at HEATMAP_SIZE x HEATMAP_SIZE cell centres. */
export const HEATMAP_SIZE = 64;
/** Noise grid lines of the manifold in each direction. */
export const MANIFOLD_LINES = 21;
/** Fake samples that carry an arrow (the first of the fixed noise set). */
export const ARROW_SAMPLES = 200;
/**
 * Fixed-noise samples drawn on the plane and counted for the modes. Fewer than eval's 2,500:
 * on a software adapter G's pass over 2,500 rows costs about a training iteration, and every
 * redraw pays it.
 */
export const PLANE_SAMPLES = 1000;

/** The visible square of the plane, in the data's units, and the map to the model's units. */
export interface PlaneFrame {
  cx: number;
  cy: number;
  /** Half the side of the square. */
  half: number;
  /** Per column: model = (data - offset) / scale. */
  offset: [number, number];
  scale: [number, number];
  /** The mixture, for the mode-coverage figures and the mode rings. */
  mixture: Mixture2d | null;
}

/**
 * Whether a config trains on 2-D points that D reads one at a time, so the plane pictures
 * apply: the mixtures and loaded or drawn 2-D point sets, unpacked and unconditional.
 */
export function isPlaneConfig(config: GanConfig): boolean {
  const shape = dataShape(config.data);
  return shape.length === 1 && shape[0] === 2 && (config.pack ?? 1) === 1 && !config.conditional;
}

/** Whether G's noise is 2-D, so the image of a noise grid is a surface drawn in the plane. */
export function hasManifold(config: GanConfig): boolean {
  return isPlaneConfig(config) && config.noise.dim === 2 && !config.noise.bank && !config.noise.minmax;
}

function modelScaling(data: DataSpec): { offset: [number, number]; scale: [number, number] } {
  if (data.kind === 'dataset' && data.scaling.kind === 'standardize') {
    const { mean, std } = data.scaling;
    return { offset: [mean[0], mean[1]], scale: [std[0], std[1]] };
  }
  return { offset: [0, 0], scale: [1, 1] };
}

/**
 * The frame of a 2-D config: a mixture's modes with room around them (1.5 times the farthest
 * centre, as the scatter of the sample pictures); for a point set, the square around its
 * bounding box with 30% margin on each side.
 */
export function planeFrame(config: GanConfig, points: Float32Array | null): PlaneFrame {
  const { offset, scale } = modelScaling(config.data);
  if (config.data.kind === 'mixture') {
    const mixture = MIXTURES[config.data.name];
    const half = Math.max(...mixture.centers.flat().map(Math.abs)) * 1.5;
    return { cx: 0, cy: 0, half, offset, scale, mixture };
  }
  let [x0, x1, y0, y1] = [Infinity, -Infinity, Infinity, -Infinity];
  for (let i = 0; points && i + 1 < points.length; i += 2) {
    [x0, x1, y0, y1] = [Math.min(x0, points[i]), Math.max(x1, points[i]), Math.min(y0, points[i + 1]), Math.max(y1, points[i + 1])];
  }
  if (!(x1 >= x0 && y1 >= y0)) return { cx: 0, cy: 0, half: 2, offset, scale, mixture: null };
  const half = Math.max(x1 - x0, y1 - y0, 1e-3) * 0.8;
  return { cx: (x0 + x1) / 2, cy: (y0 + y1) / 2, half, offset, scale, mixture: null };
}

/** Data units to the model's, for points [n, 2] row-major. */
export function toModelUnits(frame: PlaneFrame, points: Float32Array): Float32Array {
  return points.map((v, i) => (v - frame.offset[i % 2]) / frame.scale[i % 2]);
}

/**
 * The heatmap's points, in data units: cell centres of a size x size grid over the frame, row
 * by row from the top (largest y) down, left to right, as an image is stored.
 */
export function heatmapPoints(frame: PlaneFrame, size = HEATMAP_SIZE): Float32Array {
  const out = new Float32Array(2 * size * size);
  const cell = (2 * frame.half) / size;
  for (let r = 0; r < size; r++) {
    for (let c = 0; c < size; c++) {
      const i = 2 * (r * size + c);
      out[i] = frame.cx - frame.half + (c + 0.5) * cell;
      out[i + 1] = frame.cy + frame.half - (r + 0.5) * cell;
    }
  }
  return out;
}

/**
 * The manifold's noise grid: lines x lines points over the noise's likely range (uniform
 * noise: its interval; normal noise: +-2 standard deviations, 95% of each coordinate), row-major.
 */
export function noiseGrid(config: GanConfig, lines = MANIFOLD_LINES): Float32Array {
  const [lo, hi] = config.noise.distribution === 'uniform' ? [config.noise.lo ?? -1, config.noise.hi ?? 1] : [-2, 2];
  const out = new Float32Array(2 * lines * lines);
  for (let r = 0; r < lines; r++) {
    for (let c = 0; c < lines; c++) {
      out[2 * (r * lines + c)] = lo + ((hi - lo) * c) / (lines - 1);
      out[2 * (r * lines + c) + 1] = lo + ((hi - lo) * r) / (lines - 1);
    }
  }
  return out;
}

/** Which of the GPU-computed layers to compute (the others cost nothing when off). */
export interface PlaneWants {
  heatmap: boolean;
  arrows: boolean;
  manifold: boolean;
}

export interface PlaneViews {
  iteration: number;
  /** G(z) for the fixed noise, data units, [PLANE_SAMPLES, 2]. */
  samples: Float32Array;
  /** D on heatmapPoints (row-major from the top), as D outputs it: probabilities or raw scores. */
  heatmap: Float32Array | null;
  /**
   * The first ARROW_SAMPLES samples and the direction G's update moves each: minus the gradient
   * of G's loss at the sample, in data units per model unit step (so it points the way the
   * sample moves in the picture).
   */
  arrows: { points: Float32Array; directions: Float32Array } | null;
  /** G on noiseGrid, data units, [lines * lines, 2]. */
  manifold: Float32Array | null;
}

/**
 * Every plane view of the trainer now. The independent passes (samples, heatmap, manifold) are
 * submitted together and read back together; the arrows need the samples first.
 */
export async function computePlaneViews(trainer: GanTrainer, frame: PlaneFrame, wants: PlaneWants): Promise<PlaneViews> {
  const config = trainer.config;
  const iteration = trainer.iteration;
  const [raw, heatmap, manifold] = await Promise.all([
    trainer.generate(trainer.fixedNoise(PLANE_SAMPLES)),
    wants.heatmap ? trainer.discriminate(toModelUnits(frame, heatmapPoints(frame))) : null,
    wants.manifold && hasManifold(config) ? trainer.generate(noiseGrid(config)) : null,
  ]);
  let arrows: PlaneViews['arrows'] = null;
  if (wants.arrows) {
    const n = Math.min(ARROW_SAMPLES, raw.length / 2);
    const { gradient } = await trainer.generatorLossGradient(raw.slice(0, 2 * n));
    arrows = {
      points: toDataUnits(config.data, raw.slice(0, 2 * n)),
      directions: gradient.map((g, i) => -g * frame.scale[i % 2]),
    };
  }
  return {
    iteration,
    samples: toDataUnits(config.data, raw),
    heatmap,
    arrows,
    manifold: manifold && toDataUnits(config.data, manifold),
  };
}
