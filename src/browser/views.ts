// What the page draws from a trainer at each redraw, by the kind of data it learns:
// - 2-D points (the mixtures, drawn or loaded points): the plane (plane.ts) with D's heatmap,
//   the real data, G's manifold, the samples and their arrows, each a layer that can be off;
// - images: the 10 x 10 grid of fixed-noise samples (for a conditional GAN, of one picked
//   class if asked), and a walk between two noise vectors redrawn as its slider moves;
// - the 1-D normal: the GAN paper's Figure 1 (histogram, target density, D(x)).
// Every number comes from the GPU in the trainer's queue (the session calls redraw there).

import { dataShape, toDataUnits } from '../data/source.ts';
import { MIXTURES } from '../data/toy.ts';
import type { GanConfig } from '../gan/config.ts';
import type { GanTrainer } from '../gan/trainer.ts';
import { download } from '../tensor/tensor.ts';
import { imageGrid, upscale, type Rgba } from '../viz/image.ts';
import { previewSamples, renderSamples } from '../viz/samples.ts';
import { normalFrom, seededRandom } from './drawing.ts';
import { walkInputs, withLabel, WALK_FRAMES } from './latent-walk.ts';
import { computePlaneViews, isPlaneConfig, planeFrame, type PlaneFrame, type PlaneViews } from './plane.ts';
import { drawPlane, heatScale, type HeatScale, type PlaneLayers } from './plane-render.ts';

/** What the last redraw showed: the samples in the data's units and the picture's pixels. */
export interface Shown {
  iteration: number;
  samples: Float32Array;
  /** Values per sample. */
  dim: number;
  /** The picture as drawn; null where it is only on the canvas (the plane: read it when saved). */
  image: Rgba | null;
}

/** Real points drawn under the samples: a mixture's, sampled here (1,000, seeded); a data set's own. */
export function realPoints(config: GanConfig, dataset: Float32Array | null): Float32Array | null {
  if (config.data.kind === 'dataset') return dataset;
  if (config.data.kind !== 'mixture') return null;
  const m = MIXTURES[config.data.name];
  const random = seededRandom(7);
  const n = 1000;
  const out = new Float32Array(2 * n);
  for (let i = 0; i < n; i++) {
    const [cx, cy] = m.centers[Math.floor(random() * m.centers.length)];
    out[2 * i] = cx + m.std * normalFrom(random);
    out[2 * i + 1] = cy + m.std * normalFrom(random);
  }
  return out;
}

export interface ViewElements {
  canvas: HTMLCanvasElement;
  walkCanvas: HTMLCanvasElement;
}

export class PageViews {
  readonly layers: PlaneLayers = { real: true, samples: true, heatmap: true, arrows: true, manifold: true };
  /** A conditional GAN's picked class for the grid and the walk (null: one class per row). */
  digit: number | null = null;
  /** The walk's position and ends (rows of the fixed noise). */
  walkT = 0.5;
  walkEnds: [number, number] = [0, 1];
  /** Drawn or loaded points of a data-set run, in the data's units. */
  points: Float32Array | null = null;
  /** Called after each redraw with what was drawn. */
  onShown: (shown: Shown, plane: { views: PlaneViews; frame: PlaneFrame; scale: HeatScale | null } | null) => void = () => undefined;

  private readonly el: ViewElements;
  private fixedHost = new WeakMap<GanTrainer, Float32Array>();
  private lastPlane: { views: PlaneViews; frame: PlaneFrame; scale: HeatScale | null; config: GanConfig } | null = null;

  constructor(el: ViewElements) {
    this.el = el;
  }

  /** Draws every view of the trainer. */
  async redraw(trainer: GanTrainer): Promise<void> {
    const config = trainer.config;
    if (isPlaneConfig(config)) return this.redrawPlane(trainer);
    if (dataShape(config.data).length === 3) {
      await this.redrawGrid(trainer);
      await this.redrawWalk(trainer);
      return;
    }
    const p = await previewSamples(trainer);
    this.paint(p.image);
    this.onShown({ iteration: trainer.iteration, samples: p.samples, dim: dataShape(config.data).reduce((a, b) => a * b, 1), image: p.image }, null);
  }

  /** Redraws the plane from the last views (a layer toggled): no GPU work. */
  repaintPlane(): boolean {
    const last = this.lastPlane;
    if (!last) return false;
    drawPlane(this.el.canvas, last.frame, last.views, this.layers, { real: realPoints(last.config, this.points), scale: last.scale });
    return true;
  }

  /** Forgets what was drawn (a new run). */
  reset(): void {
    this.lastPlane = null;
  }

  /** The walk alone (its slider moved): one G pass of WALK_FRAMES + 1 rows. */
  async redrawWalk(trainer: GanTrainer): Promise<void> {
    const config = trainer.config;
    if (dataShape(config.data).length !== 3) return;
    const fixed = await this.fixedNoise(trainer);
    const rows = fixed.length / trainer.G.inputSize;
    const ends: [number, number] = [this.walkEnds[0] % rows, this.walkEnds[1] % rows];
    const images = toDataUnits(config.data, await trainer.generate(walkInputs(config, fixed, ends, this.walkT, this.digit)));
    const shape = dataShape(config.data);
    const size = shape.reduce((a, b) => a * b, 1);
    const strip = imageGrid(images, WALK_FRAMES, shape, WALK_FRAMES);
    const big = upscale(imageGrid(images.subarray(WALK_FRAMES * size), 1, shape, 1, 0), 6);
    const canvas = this.el.walkCanvas;
    const width = Math.max(strip.width * 2, big.width);
    const height = strip.height * 2 + 8 + big.height;
    if (canvas.width !== width || canvas.height !== height) [canvas.width, canvas.height] = [width, height];
    const g = canvas.getContext('2d')!;
    g.fillStyle = '#fff';
    g.fillRect(0, 0, width, height);
    g.putImageData(imageData(upscale(strip, 2)), 0, 0);
    // Where t lies along the strip: a marker under it.
    const x = 2 * (2 + this.walkT * (strip.width - 4));
    g.fillStyle = '#d62728';
    g.fillRect(x - 1, strip.height * 2 + 1, 3, 6);
    g.putImageData(imageData(big), (width - big.width) / 2, strip.height * 2 + 8);
    canvas.dataset.iteration = String(trainer.iteration);
    canvas.dataset.t = String(this.walkT);
  }

  private async fixedNoise(trainer: GanTrainer): Promise<Float32Array> {
    let fixed = this.fixedHost.get(trainer);
    if (!fixed) {
      fixed = await download(trainer.ctx, trainer.fixedNoise(100));
      this.fixedHost.set(trainer, fixed);
    }
    return fixed;
  }

  private async redrawGrid(trainer: GanTrainer): Promise<void> {
    const config = trainer.config;
    let samples: Float32Array;
    let image: Rgba;
    if (config.conditional && this.digit !== null) {
      samples = toDataUnits(config.data, await trainer.generate(withLabel(config, await this.fixedNoise(trainer), this.digit)));
      image = renderSamples(config.data, samples);
    } else {
      ({ samples, image } = await previewSamples(trainer));
    }
    this.paint(image);
    this.onShown({ iteration: trainer.iteration, samples, dim: dataShape(config.data).reduce((a, b) => a * b, 1), image }, null);
  }

  private async redrawPlane(trainer: GanTrainer): Promise<void> {
    const config = trainer.config;
    const frame = planeFrame(config, this.points);
    const views = await computePlaneViews(trainer, frame, this.layers);
    const scale = views.heatmap ? heatScale(views.heatmap, trainer.loss.output) : null;
    const canvas = this.el.canvas;
    if (canvas.width !== 480 || canvas.height !== 480) [canvas.width, canvas.height] = [480, 480];
    this.lastPlane = { views, frame, scale, config };
    drawPlane(canvas, frame, views, this.layers, { real: realPoints(config, this.points), scale });
    this.onShown({ iteration: views.iteration, samples: views.samples, dim: 2, image: null }, { views, frame, scale });
  }

  private paint(image: Rgba): void {
    const canvas = this.el.canvas;
    if (canvas.width !== image.width || canvas.height !== image.height) [canvas.width, canvas.height] = [image.width, image.height];
    canvas.getContext('2d')!.putImageData(imageData(image), 0, 0);
  }
}

function imageData(image: Rgba): ImageData {
  return new ImageData(new Uint8ClampedArray(image.data), image.width, image.height);
}
