// Quality over time, the figures `npm run eval` reports, measured as the page trains:
// - 2-D mixtures: modes covered and the share of high-quality samples (within 3 standard
//   deviations of a mode), from the 1,000 fixed-noise samples every redraw already reads back;
// - MNIST presets: the class histogram of the engine's MNIST classifier on 1,000 fixed-noise
//   samples and the Fréchet distance of its features from the test images', every N
//   iterations. The classifier and the test features' statistics come as a build-time asset
//   (classifier-asset.ts); the GPU part runs in the training queue, the distance in a worker.
// The figures use fewer samples than `npm run eval` (1,000 images instead of 10,000, so the
// distance reads higher than eval's; 1,000 points instead of 2,500); the trend is what they show.

import { toDataUnits } from '../data/source.ts';
import { modeCoverage, type Mixture2d } from '../data/toy.ts';
import { argmaxRows } from '../eval/classifier.ts';
import { classesCovered, classHistogram, klFromUniform } from '../eval/classifier-score.ts';
import type { GanConfig } from '../gan/config.ts';
import type { GanTrainer } from '../gan/trainer.ts';
import type { GpuContext } from '../gpu/context.ts';
import { RowChart, twoAxisChart } from './charts.ts';
import { loadClassifierAsset, type PageClassifier } from './classifier-asset.ts';
import { FrechetWorker } from './frechet-client.ts';
import { PLANE_SAMPLES } from './plane.ts';
import type { ProgressCallback } from './mnist-asset.ts';

/** Generated images the classifier scores per measurement. */
export const QUALITY_SAMPLES = 1000;

export interface ModesRow {
  kind: 'modes';
  iteration: number;
  modesCovered: number;
  modes: number;
  highQualityShare: number;
}

export interface ClassifierRow {
  kind: 'classifier';
  iteration: number;
  /** Samples per predicted digit 0..9. */
  histogram: number[];
  classesCovered: number;
  klFromUniform: number;
  /** NaN until the worker has answered. */
  frechet: number;
}

export type QualityRow = ModesRow | ClassifierRow;

/** Which quality figures a config gets: 'modes' for the mixtures, 'classifier' for MNIST, or none. */
export function qualityKind(config: GanConfig): QualityRow['kind'] | null {
  if (config.data.kind === 'mixture') return 'modes';
  if (config.data.kind === 'mnist') return 'classifier';
  return null;
}

/** The mode figures of 2-D samples (data units). */
export function modesRow(iteration: number, samples: Float32Array, mixture: Mixture2d): ModesRow {
  const c = modeCoverage(samples, mixture);
  return { kind: 'modes', iteration, modesCovered: c.modesCovered, modes: c.modes, highQualityShare: c.highQualityShare };
}

/** Loads the classifier asset once, and the worker with the real side. */
class ClassifierScorer {
  private loaded: Promise<{ page: PageClassifier; worker: FrechetWorker }> | null = null;
  private readonly ctx: GpuContext;
  private readonly url: string;
  private readonly onProgress: ProgressCallback;

  constructor(ctx: GpuContext, url: string, onProgress: ProgressCallback) {
    this.ctx = ctx;
    this.url = url;
    this.onProgress = onProgress;
  }

  private load(): Promise<{ page: PageClassifier; worker: FrechetWorker }> {
    this.loaded ??= (async () => {
      const page = await loadClassifierAsset(this.ctx, this.url, this.onProgress);
      const worker = new FrechetWorker();
      await worker.setReal(page.real);
      return { page, worker };
    })().catch((e) => {
      this.loaded = null;
      throw e;
    });
    return this.loaded;
  }

  /**
   * Scores the trainer's fixed-noise samples on the GPU (the histogram now); the distance
   * comes later from the worker, so the training queue never waits for it.
   */
  async measure(trainer: GanTrainer): Promise<{ row: ClassifierRow; frechet: Promise<number> }> {
    const { page, worker } = await this.load();
    const images = toDataUnits(trainer.config.data, await trainer.generate(trainer.fixedNoise(QUALITY_SAMPLES)));
    const { logits, features } = await page.classifier.predict(images);
    const histogram = classHistogram(argmaxRows(logits, 10));
    const row: ClassifierRow = {
      kind: 'classifier',
      iteration: trainer.iteration,
      histogram,
      classesCovered: classesCovered(histogram),
      klFromUniform: klFromUniform(histogram),
      frechet: NaN,
    };
    return { row, frechet: worker.distance(features) };
  }
}

/** The quality chart and histogram of the page, and the measurements behind them. */
export class QualityView {
  private readonly chart: RowChart<QualityRow>;
  private kind: QualityRow['kind'] | null = null;
  private modes = 25;
  private readonly histogram: HTMLCanvasElement;
  private readonly caption: HTMLElement;
  private readonly scorer: ClassifierScorer;
  /** Called when a distance arrives after its row was shown. */
  onChange: () => void = () => undefined;

  constructor(root: HTMLElement, histogram: HTMLCanvasElement, caption: HTMLElement, scorer: { ctx: GpuContext; url: string; onProgress: ProgressCallback }) {
    this.histogram = histogram;
    this.caption = caption;
    this.scorer = new ClassifierScorer(scorer.ctx, scorer.url, scorer.onProgress);
    this.chart = new RowChart<QualityRow>(root, () => this.make(root), (rows) => this.columns(rows));
  }

  /** Shows the figures a config gets (an empty chart, or a note when it gets none). */
  setKind(kind: QualityRow['kind'] | null, modes = 25): void {
    this.kind = kind;
    this.modes = modes;
    const root = this.chart.element;
    this.chart.remake(() => this.make(root), (rows) => this.columns(rows));
    this.histogram.hidden = kind !== 'classifier';
    root.hidden = kind === null;
    this.caption.textContent =
      kind === 'modes'
        ? `Quality: of ${PLANE_SAMPLES.toLocaleString('en')} fixed-noise samples, the modes holding at least 1% as high-quality samples, and the high-quality share (within 3 std of a mode), at every redraw.`
        : kind === 'classifier'
          ? `Quality: the engine's MNIST classifier on ${QUALITY_SAMPLES.toLocaleString('en')} fixed-noise samples every N iterations: digits with at least 5% of them, and the Fréchet distance of its features from the test digits' (more samples lower it: npm run eval uses 10,000).`
          : 'Quality over time is charted for the 2-D mixtures (modes covered) and the MNIST presets (the classifier): this data has neither modes nor a classifier.';
  }

  get rows(): readonly QualityRow[] {
    return this.chart.rows;
  }

  load(rows: readonly QualityRow[]): void {
    this.chart.load(rows.filter((r) => r.kind === this.kind));
    const last = this.chart.rows.at(-1);
    if (last?.kind === 'classifier') this.drawHistogram(last);
  }

  truncate(iteration: number): void {
    this.chart.truncate(iteration);
  }

  clear(): void {
    this.chart.clear();
    this.drawHistogram(null);
  }

  push(row: QualityRow): void {
    this.chart.push(row);
    if (row.kind === 'classifier') this.drawHistogram(row);
  }

  /** Measures the classifier figures; resolves when the GPU part is done (the distance follows). */
  async measureClassifier(trainer: GanTrainer): Promise<ClassifierRow> {
    const { row, frechet } = await this.scorer.measure(trainer);
    this.push(row);
    void frechet.then(
      (d) => {
        this.chart.update(row.iteration, (r) => {
          if (r.kind === 'classifier') r.frechet = d;
        });
        this.onChange();
      },
      (e) => console.error(e),
    );
    return row;
  }

  private make(root: HTMLElement) {
    if (this.kind === 'classifier') {
      return twoAxisChart(root, 'Quality: MNIST classifier', { label: 'Fréchet distance', stroke: '#9467bd' }, { label: 'digits >= 5%', stroke: '#17becf', range: [0, 10] });
    }
    return twoAxisChart(root, 'Quality: modes', { label: 'modes covered', stroke: '#17becf', range: [0, this.modes] }, { label: 'high quality %', stroke: '#9467bd', range: [0, 100] });
  }

  private columns(rows: readonly QualityRow[]): (number | null)[][] {
    const num = (v: number) => (Number.isFinite(v) ? v : null);
    if (this.kind === 'classifier') {
      return [rows.map((r) => (r.kind === 'classifier' ? num(r.frechet) : null)), rows.map((r) => (r.kind === 'classifier' ? r.classesCovered : null))];
    }
    return [rows.map((r) => (r.kind === 'modes' ? r.modesCovered : null)), rows.map((r) => (r.kind === 'modes' ? 100 * r.highQualityShare : null))];
  }

  /** Bars of the latest histogram, one per digit, with its share in percent. */
  private drawHistogram(row: ClassifierRow | null): void {
    const canvas = this.histogram;
    const g = canvas.getContext('2d')!;
    const [w, h] = [canvas.width, canvas.height];
    g.fillStyle = '#fff';
    g.fillRect(0, 0, w, h);
    if (!row) return;
    const total = row.histogram.reduce((a, b) => a + b, 0) || 1;
    const peak = Math.max(...row.histogram, 1);
    const barW = w / 10;
    g.font = '11px system-ui, sans-serif';
    g.textAlign = 'center';
    row.histogram.forEach((count, digit) => {
      const bar = ((h - 34) * count) / peak;
      g.fillStyle = count >= 0.05 * total ? '#17becf' : '#c7c7c7';
      g.fillRect(digit * barW + 4, h - 18 - bar, barW - 8, bar);
      g.fillStyle = '#333';
      g.fillText(String(digit), digit * barW + barW / 2, h - 4);
      g.fillText(`${Math.round((100 * count) / total)}%`, digit * barW + barW / 2, h - 22 - bar);
    });
    canvas.dataset.iteration = String(row.iteration);
    canvas.dataset.histogram = row.histogram.join(',');
  }
}
