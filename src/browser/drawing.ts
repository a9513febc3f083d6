// A distribution drawn with the mouse (or a finger, or a pen): pressing sprays points around
// the pointer, a few dozen a second, so holding still makes a cluster and dragging a curve.
// The points are in the pad's own units, [-2, 2] on both axes, y up. They become a data set of
// 2-D points (as a CSV of points would) that a preset is fitted to (gan/fit-data.ts).

import type { Dataset } from '../data/dataset.ts';
import { trainingRows } from '../data/source.ts';
import { DataError } from '../data/idx.ts';
import type { GanConfig } from '../gan/config.ts';
import { presetForData } from '../gan/fit-data.ts';
import { describeNetwork } from '../nn/network.ts';

/** Half the side of the pad's square, in its units. */
export const PAD_HALF = 2;
/** The spray: points per tick, ticks per second, and the points' spread (std, pad units). */
const SPRAY_POINTS = 6;
const SPRAY_MS = 33;
const SPRAY_STD = 0.06;
/** The most points a drawing keeps (a held pointer stops adding beyond it). */
export const MAX_DRAWN_POINTS = 5000;

/** The preset whose networks and optimizers a drawn or loaded point set trains with. */
export const OWN_DATA_PRESET = 'grid25';

/** A small seeded generator (mulberry32): the spray's jitter, the same for the same strokes. */
export function seededRandom(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

/** A standard normal draw from a uniform generator (Box-Muller). */
export function normalFrom(random: () => number): number {
  return Math.sqrt(-2 * Math.log(1 - random())) * Math.cos(2 * Math.PI * random());
}

/**
 * The config a 2-D point set trains with: the OWN_DATA_PRESET's networks and optimizers fitted
 * to it (standardised columns). Refuses a set too small for a batch of real rows.
 */
export function ownDataConfig(d: Dataset, batch?: number): GanConfig {
  if (d.shape.length !== 1 || d.shape[0] !== 2) throw new DataError(`${d.source}: ${d.shape.join('x')} values per sample; the page trains on 2-D points (two columns)`);
  const config = presetForData(OWN_DATA_PRESET, d, d.source);
  if (batch !== undefined) config.batch = batch;
  const rows = trainingRows(d.values, d.count, 2).count;
  if (rows < config.batch) {
    const need = d.count >= 20 ? Math.ceil((config.batch * 10) / 9) : config.batch;
    throw new DataError(`${d.source}: ${d.count} points, of which ${rows} train (every tenth is held out); a batch of ${config.batch} needs at least ${need} points. Draw more, or lower Batch`);
  }
  const lr = (o: GanConfig['optimizerG']) => `${o.kind} ${o.lr}`;
  config.description =
    `your 2-D data: ${d.source}, ${d.count} points, on standardised columns; ${OWN_DATA_PRESET}'s networks, ` +
    `G ${describeNetwork('generator', config.generator)} and D ${describeNetwork('discriminator', config.discriminator)}, ${lr(config.optimizerG)} (G) / ${lr(config.optimizerD)} (D)`;
  return config;
}

export class DrawingPad {
  readonly canvas: HTMLCanvasElement;
  private readonly xs: number[] = [];
  private readonly ys: number[] = [];
  private readonly random = seededRandom(1);
  private pointer: { x: number; y: number } | null = null;
  private timer = 0;
  /** Called after every change (a stroke's points, a clear). */
  onChange: () => void = () => undefined;

  constructor(canvas: HTMLCanvasElement) {
    this.canvas = canvas;
    canvas.style.touchAction = 'none';
    canvas.addEventListener('pointerdown', (e) => {
      canvas.setPointerCapture(e.pointerId);
      this.pointer = this.toPad(e);
      this.spray();
      this.timer = window.setInterval(() => this.spray(), SPRAY_MS);
    });
    canvas.addEventListener('pointermove', (e) => {
      if (!this.pointer) return;
      this.pointer = this.toPad(e);
      this.spray();
    });
    const stop = () => {
      this.pointer = null;
      window.clearInterval(this.timer);
    };
    canvas.addEventListener('pointerup', stop);
    canvas.addEventListener('pointercancel', stop);
    this.draw();
  }

  get count(): number {
    return this.xs.length;
  }

  clear(): void {
    this.xs.length = 0;
    this.ys.length = 0;
    this.draw();
    this.onChange();
  }

  /** Adds points in pad units (what a test or a replayed drawing gives). */
  add(points: readonly (readonly [number, number])[]): void {
    for (const [x, y] of points) {
      if (this.xs.length >= MAX_DRAWN_POINTS) break;
      if (Math.abs(x) > PAD_HALF || Math.abs(y) > PAD_HALF) continue;
      this.xs.push(x);
      this.ys.push(y);
    }
    this.draw();
    this.onChange();
  }

  /** The drawing as a data set of 2-D points; an empty drawing is a DataError. */
  toDataset(): Dataset {
    if (this.xs.length === 0) throw new DataError('the drawing is empty: press and drag on the pad to draw points');
    const values = new Float32Array(2 * this.xs.length);
    this.xs.forEach((x, i) => values.set([x, this.ys[i]], 2 * i));
    return { source: 'drawing', format: 'csv', shape: [2], count: this.xs.length, values };
  }

  private toPad(e: PointerEvent): { x: number; y: number } {
    const r = this.canvas.getBoundingClientRect();
    return { x: ((e.clientX - r.left) / r.width) * 2 * PAD_HALF - PAD_HALF, y: PAD_HALF - ((e.clientY - r.top) / r.height) * 2 * PAD_HALF };
  }

  private spray(): void {
    const p = this.pointer;
    if (!p) return;
    const points: [number, number][] = [];
    for (let i = 0; i < SPRAY_POINTS; i++) points.push([p.x + SPRAY_STD * normalFrom(this.random), p.y + SPRAY_STD * normalFrom(this.random)]);
    this.add(points);
  }

  private draw(): void {
    const g = this.canvas.getContext('2d')!;
    const size = this.canvas.width;
    g.fillStyle = '#fff';
    g.fillRect(0, 0, size, this.canvas.height);
    g.fillStyle = 'rgba(0, 0, 0, 0.12)';
    g.fillRect(size / 2, 0, 1, size);
    g.fillRect(0, size / 2, size, 1);
    g.fillStyle = 'rgba(255, 127, 14, 0.6)';
    for (let i = 0; i < this.xs.length; i++) {
      g.fillRect(((this.xs[i] + PAD_HALF) / (2 * PAD_HALF)) * size - 1.5, ((PAD_HALF - this.ys[i]) / (2 * PAD_HALF)) * size - 1.5, 3, 3);
    }
  }
}
