// The picture of a preset's samples: a digit grid, a 1-D histogram, or a 2-D scatter.

import { dataShape, toDataUnits, type DataSpec } from '../data/source.ts';
import { MIXTURES } from '../data/toy.ts';
import type { GanTrainer } from '../gan/trainer.ts';
import type { Tensor } from '../tensor/tensor.ts';
import { histogramPlot, imageGrid, pointsPlot, scatterPlot, upscale, type Rgba } from './image.ts';

/**
 * The picture of samples in the data's units (toDataUnits: images as [0, 1] intensities): images as a grid (up to 100), the 1-D
 * normal as a histogram over its density (and D(x) when given), the mixtures as a scatter over
 * their modes, other points as a scatter over `dataPoints` (the data's own rows, in its units).
 * Small images are drawn at twice their size unless `upscale` is false (one pixel per data pixel).
 */
export function renderSamples(data: DataSpec, samples: Float32Array, opts: { discriminator?: (x: number) => number; dataPoints?: Float32Array; upscale?: boolean } = {}): Rgba {
  const shape = dataShape(data);
  const size = shape.reduce((a, b) => a * b, 1);
  if (shape.length === 3) {
    const count = Math.min(100, Math.floor(samples.length / size));
    const grid = imageGrid(samples, count, shape);
    return opts.upscale === false ? grid : upscale(grid, shape[0] <= 32 ? 2 : 1);
  }
  if (data.kind === 'normal') {
    const { mean, std } = data;
    const density = (x: number) => Math.exp(-0.5 * ((x - mean) / std) ** 2) / (std * Math.sqrt(2 * Math.PI));
    return histogramPlot(samples, density, [mean - 6 * std - 1, mean + 6 * std + 1], { discriminator: opts.discriminator });
  }
  if (data.kind === 'mixture') {
    const m = MIXTURES[data.name];
    const extent = Math.max(...m.centers.flat().map(Math.abs)) * 1.5;
    return scatterPlot(samples, m.centers, m.std, extent);
  }
  return pointsPlot(samples, opts.dataPoints ?? samples, size);
}

/** How many samples the preview of a data kind shows (a 10x10 grid, or enough points to see a density). */
export function previewCount(data: DataSpec): number {
  return dataShape(data).length === 3 ? 100 : data.kind === 'normal' ? 5000 : 2500;
}

/**
 * The preview picture of a trainer's samples for fixed noise (the same noise every call), and
 * the samples in the data's units. Every GPU read is submitted before the first await, so the
 * picture shows the trainer as it was at the call even when training is submitted right after.
 * `mapAfter` defers mapping the reads (GpuContext.readBuffer) until the GPU is known past them.
 */
export async function previewSamples(
  trainer: GanTrainer,
  opts: { noise?: Tensor; dataPoints?: Float32Array; upscale?: boolean; mapAfter?: PromiseLike<unknown> } = {},
): Promise<{ image: Rgba; samples: Float32Array }> {
  const data = trainer.config.data;
  const read = { mapAfter: opts.mapAfter };
  const generated = trainer.generate(opts.noise ?? trainer.fixedNoise(previewCount(data)), read);
  // The 1-D normal's picture also draws D(x) over the plotted interval.
  const interval = data.kind === 'normal' ? { lo: data.mean - 6 * data.std - 1, hi: data.mean + 6 * data.std + 1 } : null;
  const scored = interval ? trainer.discriminate(Float32Array.from({ length: 241 }, (_, i) => interval.lo + ((interval.hi - interval.lo) * i) / 240), read) : null;
  const [raw, d] = await Promise.all([generated, scored]);
  const samples = toDataUnits(data, raw);
  let discriminator: ((x: number) => number) | undefined;
  if (interval && d) {
    const { lo, hi } = interval;
    discriminator = (x) => d[Math.min(240, Math.max(0, Math.round(((x - lo) / (hi - lo)) * 240)))];
  }
  return { image: renderSamples(data, samples, { discriminator, dataPoints: opts.dataPoints, upscale: opts.upscale }), samples };
}
