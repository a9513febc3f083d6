// The random inputs of a recorded iteration: real rows, noise, and a conditional GAN's labels.
// Every draw takes the next of the trainer's random streams in recording order and is keyed by
// the clock, so a replayed dispatch draws fresh numbers and a resumed run draws the same ones.
// The buffers an iteration draws into are kept by name, for inspection and for the float64
// reference of an iteration.

import type { RealSource } from '../data/source.ts';
import type { GpuContext, Step } from '../gpu/context.ts';
import { copyColumns, oneHot, otherLabels } from '../kernels/columns.ts';
import { gatherRows, type RowIndices } from '../kernels/gather.ts';
import { randomIntegers, type PermutationDraw } from '../kernels/random.ts';
import { ShapeError } from '../gpu/errors.ts';
import type { TensorPool } from '../tensor/pool.ts';
import { TensorBlocks } from '../tensor/blocks.ts';
import { Tensor } from '../tensor/tensor.ts';
import type { GanConfig } from './config.ts';
import { recordNoiseDraw } from './noise.ts';

export class Draws {
  /** The buffers the iteration draws into, by name. */
  readonly named = new Map<string, Tensor>();
  /** Noise drawn by a gather's workgroups, and its stream. */
  private readonly ridden = new Map<Tensor, number>();
  private nextStream = 0;
  private readonly ctx: GpuContext;
  private readonly pool: TensorPool;
  private readonly config: GanConfig;
  /** u32 [4]: element 0 counts iterations and keys every draw. */
  readonly clock: Tensor;
  private readonly source: RealSource;
  private readonly noiseBank: Tensor | null;

  constructor(ctx: GpuContext, pool: TensorPool, config: GanConfig, clock: Tensor, source: RealSource, noiseBank: Tensor | null) {
    this.ctx = ctx;
    this.pool = pool;
    this.config = config;
    this.clock = clock;
    this.source = source;
    this.noiseBank = noiseBank;
  }

  /** Reserves `n` consecutive random streams. */
  streams(n: number): number {
    const first = this.nextStream;
    this.nextStream += n;
    return first;
  }

  /** A buffer holding one of the iteration's draws, kept by name. */
  buffer(name: string, shape: number[], dtype: 'f32' | 'u32' = 'f32'): Tensor {
    const t = this.pool.acquire(shape, dtype, name);
    this.named.set(name, t);
    return t;
  }

  /** Fills `z` [n, noise.dim] with fresh noise on `stream` (keyed by the clock when `perIteration`). */
  drawNoise(z: Tensor, stream: number, perIteration = true): Step[] {
    return recordNoiseDraw(this.ctx, z, this.config.noise, this.config.seed, stream, perIteration ? this.clock : undefined);
  }

  /**
   * Noise rows for a batch: rows of the bank (by `indices`, or a fresh slice of a permutation of
   * its rows, drawn by the gather itself), or fresh draws.
   */
  noise(z: Tensor, indices?: RowIndices): Step[] {
    if (!this.noiseBank) return this.drawNoise(z, this.streams(1));
    const rows = indices ?? { permutation: this.permutation(this.noiseBank.rows), into: this.pool.acquire([z.rows], 'u32', 'noise rows') };
    return [gatherRows(this.ctx, this.noiseBank, rows, z)];
  }

  /**
   * Real rows into `dst`: dataset rows by `indices` (a fresh slice of a permutation of the data
   * set's rows if not given, drawn by the gather itself), or fresh draws. Returns the row
   * indices used (null for a generated distribution), for the rows' labels.
   */
  real(dst: Tensor, steps: Step[], indices?: RowIndices, noise?: Tensor | TensorBlocks): Tensor | null {
    const draw = { seed: this.config.seed, stream: this.streams(1), clock: this.clock };
    if (this.source.rows === null) {
      if (noise) throw new ShapeError('Draws.real: noise rides only with a data set\'s gather (noiseRidesWithRows)');
      steps.push(...this.source.record(dst, draw));
      return null;
    }
    const rows = indices ?? { permutation: { domain: this.source.rows, ...draw }, into: this.pool.acquire([dst.rows], 'u32', 'real rows') };
    // The noise parts take the next streams, as drawNoise would one after another.
    const parts = noise instanceof TensorBlocks ? noise.count : 1;
    const ride = noise && { into: noise, streams: Array.from({ length: parts }, () => this.streams(1)), seed: draw.seed, clock: draw.clock };
    if (ride) ride.streams.forEach((stream, p) => this.ridden.set(noise instanceof TensorBlocks ? noise.block(p) : noise, stream));
    steps.push(...this.source.record(dst, { ...draw, indices: rows, noise: ride }));
    const used = rows instanceof Tensor ? rows : rows.into;
    if (!used) throw new ShapeError('Draws.real: drawn indices must be kept (into) for the rows\' labels');
    return used;
  }

  /**
   * Whether the gather of real rows can draw noise too (`real`'s `noise`, one dispatch for both):
   * fresh normal noise, without a bank or min-max, beside a data set.
   */
  get noiseRidesWithRows(): boolean {
    const { noise } = this.config;
    return this.source.rows !== null && !this.noiseBank && noise.distribution === 'normal' && !noise.minmax;
  }

  /**
   * Draws noise that rode with a gather (`real`'s `noise`) again, on its own: the same numbers
   * for the same clock, for a phase that runs without the dispatch that carried it.
   */
  redraw(z: Tensor): Step[] {
    const stream = this.ridden.get(z);
    if (stream === undefined) throw new ShapeError(`Draws.redraw: ${z} was not drawn with a gather`);
    return this.drawNoise(z, stream);
  }

  /** A random permutation of [0, domain) on the next stream, fresh every iteration. */
  permutation(domain: number): PermutationDraw {
    return { domain, seed: this.config.seed, stream: this.streams(1), clock: this.clock };
  }

  /** Rows of the fixed noise bank, or null when noise is drawn fresh. */
  get noiseBankRows(): number | null {
    return this.noiseBank?.rows ?? null;
  }

  /** Classes of the conditional GAN (0 when unconditional). */
  get classes(): number {
    return this.config.conditional?.classes ?? 0;
  }

  /** Labels for generated rows: uniform over the classes. */
  fakeLabels(labels: Tensor): Step[] {
    return [randomIntegers(this.ctx, labels, { bound: this.classes, seed: this.config.seed, stream: this.streams(1), clock: this.clock })];
  }

  /** The matching-aware D's wrong labels: per row, uniform over the classes other than `labels`'. */
  otherLabels(labels: Tensor, shifts: Tensor, others: Tensor): Step[] {
    return [
      randomIntegers(this.ctx, shifts, { bound: this.classes - 1, seed: this.config.seed, stream: this.streams(1), clock: this.clock }),
      otherLabels(this.ctx, labels, shifts, others, { classes: this.classes }),
    ];
  }

  /** dst = [x | one-hot(labels)] from row `row` on. */
  conditioned(x: Tensor, labels: Tensor, dst: Tensor, row = 0): Step[] {
    return [copyColumns(this.ctx, x, dst, { row }), oneHot(this.ctx, labels, dst, { classes: this.classes, column: x.cols, row, hot: this.config.conditional?.labelScale })];
  }
}
