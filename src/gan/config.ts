// A GAN training configuration: every field a preset sets and a user may override.

import { dataClasses, dataDim, dataShape, type DataSpec } from '../data/source.ts';
import { ShapeError } from '../gpu/errors.ts';
import type { LrDecay } from '../kernels/optim.ts';
import { createLoss, LOSS_NAMES } from '../loss/index.ts';
import { elements } from '../nn/layer.ts';
import { checkTraining, planNetwork, type NetworkSpec } from '../nn/network.ts';
import { validateOptimizerSpec, type OptimizerSpec } from '../nn/optimizer.ts';
import { updatesPerIteration } from './schedules.ts';

export interface NoiseSpec {
  dim: number;
  distribution: 'normal' | 'uniform';
  /** The interval of uniform noise (default [-1, 1)). */
  lo?: number;
  hi?: number;
  /**
   * A fixed bank of this many noise rows, drawn once and reused (the seed experiment's 60,000);
   * absent: fresh noise for every batch.
   */
  bank?: number;
  /** Rescale each noise row to [0, 1] (MATLAB mapminmax), as the seed experiment does. */
  minmax?: boolean;
}

/**
 * How an iteration is organised:
 * - `alternating` (Goodfellow et al., Algorithm 1): k D updates, each on a fresh real batch and
 *   a fresh fake batch, then one G update on fresh noise.
 * - `epoch` (the seed experiment): draw `epochRows` real rows and as many noise rows; D trains
 *   k epochs over the 2 * epochRows real and fake rows shuffled into batches, then G trains one
 *   epoch over the noise rows, shuffled into batches, with D frozen.
 */
export type Schedule = { kind: 'alternating' } | { kind: 'epoch'; epochRows: number };

export interface GanConfig {
  /** The preset this configuration started from. */
  preset: string;
  description: string;
  data: DataSpec;
  noise: NoiseSpec;
  generator: NetworkSpec;
  discriminator: NetworkSpec;
  /** The objective, by name (src/loss/index.ts): `bce`, binary cross-entropy on D's logits; `mse`, squared error through D's sigmoid. */
  loss: string;
  /** The G objective with BCE: -log D(G(z)) (non-saturating) or log(1 - D(G(z))) (minimax). */
  gLoss: 'non-saturating' | 'minimax';
  optimizerG: OptimizerSpec;
  optimizerD: OptimizerSpec;
  batch: number;
  /** D updates (alternating) or D epochs (epoch) per iteration. */
  k: number;
  schedule: Schedule;
  iterations: number;
  seed: number;
  /** Metrics are read back every this many iterations. */
  logEvery: number;
  /**
   * A conditional GAN (Mirza & Osindero 2014): the class label, one-hot over `classes`, is
   * appended to G's noise and to D's input, so G learns p(x | label). `labelScale` (default 1)
   * is the value of the hot entry: 10 label inputs beside 784 pixels are quiet at 1, and a
   * louder label makes both nets use it sooner (docs/presets.md). `mismatch` makes D
   * matching-aware (Reed et al. 2016, GAN-CLS): each D batch also holds the real images paired
   * with a wrong label (uniform over the other classes), told fake, so D's loss is the mean over
   * real rows plus the means over fake rows and over mismatched rows. D then rejects a real-
   * looking image of the wrong digit, which pushes G to draw the digit it was asked for.
   */
  conditional?: { classes: number; labelScale?: number; mismatch?: boolean };
  /**
   * D's target for real rows (default 1). Below 1 it is one-sided label smoothing (Salimans et
   * al. 2016): D's logits on real data stop growing once D(x) reaches it, which keeps D from
   * becoming so confident that G's gradient vanishes. Fake rows keep target 0.
   */
  realLabel?: number;
  /**
   * PacGAN packing (Lin et al. 2018; default 1): D judges `pack` samples of one kind at once,
   * its input being `pack` real rows, or `pack` generated rows, side by side (discriminator.input
   * = data dimension x pack). A batch of b rows is b / pack packed rows: the same memory read
   * with another shape, so packing costs no copies and the same products. D then sees the
   * spread of a few samples together, which penalises a generator that repeats itself.
   * Unconditional alternating schedule only; batch must be a multiple of it.
   */
  pack?: number;
  /**
   * G's step trains on the fakes of the iteration's last D update (their noise and G's forward
   * pass, kept in G's workspace) instead of drawing fresh noise and running G again, as
   * PyTorch's DCGAN example does (default false: Goodfellow et al.'s Algorithm 1 draws afresh).
   * One G forward pass fewer per iteration. Unconditional alternating schedule only.
   */
  reuseFakes?: boolean;
}

export function validateConfig(c: GanConfig): void {
  const bad = (msg: string) => new ShapeError(`config (preset '${c.preset}'): ${msg}`);
  const positiveInt = (name: string, v: number) => {
    if (!Number.isInteger(v) || v < 1) throw bad(`${name} must be a positive integer, got ${v}`);
  };
  positiveInt('batch', c.batch);
  positiveInt('k', c.k);
  if (!Number.isInteger(c.iterations) || c.iterations < 0) throw bad(`iterations must be an integer >= 0, got ${c.iterations}`);
  positiveInt('logEvery', c.logEvery);
  positiveInt('noise.dim', c.noise.dim);
  if (!Number.isSafeInteger(c.seed) || c.seed < 0) throw bad(`seed must be an integer in [0, 2^53), got ${c.seed}`);
  if (c.noise.distribution !== 'normal' && c.noise.distribution !== 'uniform') throw bad(`noise.distribution must be normal or uniform`);
  if (c.noise.bank !== undefined) positiveInt('noise.bank', c.noise.bank);
  if (!LOSS_NAMES.includes(c.loss)) throw bad(`loss must be one of ${LOSS_NAMES.join(', ')}, got '${c.loss}'`);
  if (c.gLoss !== 'non-saturating' && c.gLoss !== 'minimax') throw bad(`gLoss must be non-saturating or minimax, got '${c.gLoss}'`);
  if (c.realLabel !== undefined && !(c.realLabel > 0.5 && c.realLabel <= 1)) throw bad(`realLabel must be in (0.5, 1], got ${c.realLabel}`);
  if (c.loss !== 'bce' && c.gLoss === 'minimax') throw bad('the minimax G loss is defined for bce only');
  const loss = createLoss(c);
  if (c.realLabel !== undefined && c.realLabel !== 1 && !loss.smoothing) throw bad(`realLabel ${c.realLabel}: the ${c.loss} loss has no targets to smooth; leave realLabel at 1`);
  const G = planNetwork('generator', c.generator);
  const D = planNetwork('discriminator', c.discriminator);
  validateOptimizerSpec('generator', c.optimizerG);
  validateOptimizerSpec('discriminator', c.optimizerD);
  const dim = dataDim(c.data);
  const classes = c.conditional?.classes ?? 0;
  if (c.conditional) {
    positiveInt('conditional.classes', classes);
    const scale = c.conditional.labelScale ?? 1;
    if (!(Number.isFinite(scale) && scale > 0)) throw bad(`conditional.labelScale must be a positive number, got ${scale}`);
    const mismatch = c.conditional.mismatch;
    if (mismatch !== undefined && typeof mismatch !== 'boolean') throw bad(`conditional.mismatch must be true or false, got ${JSON.stringify(mismatch)}`);
    const labelled = dataClasses(c.data);
    if (!labelled) throw bad(`a conditional GAN needs labelled data (mnist, fashion), not '${c.data.kind}'`);
    if (c.schedule.kind !== 'alternating') throw bad('a conditional GAN uses the alternating schedule');
    if (classes !== labelled) throw bad(`${c.data.kind} has ${labelled} classes, conditional.classes is ${classes}`);
  }
  if (c.reuseFakes !== undefined) {
    if (typeof c.reuseFakes !== 'boolean') throw bad(`reuseFakes must be true or false, got ${JSON.stringify(c.reuseFakes)}`);
    if (c.reuseFakes && c.schedule.kind !== 'alternating') throw bad('reuseFakes: the epoch schedule trains G on noise rows of its own; use the alternating schedule');
    if (c.reuseFakes && c.conditional) throw bad('reuseFakes: a conditional GAN draws labels for its G step; leave reuseFakes off');
  }
  const pack = c.pack ?? 1;
  if (c.pack !== undefined) {
    positiveInt('pack', c.pack);
    if (pack > 1 && c.conditional) throw bad('pack > 1 is for an unconditional GAN');
    if (pack > 1 && c.schedule.kind !== 'alternating') throw bad('pack > 1 uses the alternating schedule');
    if (c.batch % pack) throw bad(`batch ${c.batch} must be a multiple of pack ${pack}`);
  }
  const plus = classes ? ` + ${classes} classes` : '';
  const [gIn, gOut, dIn] = [elements(G.input), elements(G.output), elements(D.input)];
  if (gIn !== c.noise.dim + classes) throw bad(`generator input ${gIn} != noise.dim ${c.noise.dim}${plus}`);
  if (gOut !== dim) throw bad(`generator output ${gOut} != data dimension ${dim}`);
  const packed = pack > 1 ? ` x pack ${pack}` : '';
  if (dIn !== dim * pack + classes) throw bad(`discriminator input ${dIn} != data dimension ${dim}${packed}${plus}`);
  // Conditioning widens D's input: only a dense first layer reads it as flat features. Packing
  // does too, or, for images, stacks the pack's images along height: in NHWC that is the same
  // memory, where a stack along channels would interleave pixels of one image as channels.
  const dFirst = D.running[0];
  if (classes && dFirst.kind !== 'dense') throw bad(`a conditional discriminator needs a dense first layer, got ${dFirst.kind}`);
  if (pack > 1 && dFirst.kind !== 'dense') {
    const [h, w, ch] = dataShape(c.data);
    const stacked = [h * pack, w, ch];
    if (D.input.length !== 3 || D.input.some((v, i) => v !== stacked[i])) {
      throw bad(`a packed discriminator reads the pack's ${pack} images stacked along height: input [${stacked}] for images of [${dataShape(c.data)}], got [${D.input}]`);
    }
  }
  if (elements(D.output) !== 1) throw bad(`discriminator must end in 1 unit, got ${elements(D.output)}`);
  // Batch statistics need two rows per block: one row is its own mean, and normalises to 0.
  for (const [name, plan, rows] of [['generator', G, c.batch], ['discriminator', D, c.batch / pack]] as const) {
    const bn = plan.running.find((l) => l.kind === 'batchnorm' && elements(l.input) / (l.input.length === 3 ? l.input[2] : elements(l.input)) * rows < 2);
    if (bn) throw bad(`${name} layer ${bn.index + 1} (batchnorm) normalises over ${rows} row(s) of one value per channel in training; batch ${c.batch} is too small for batch statistics`);
  }
  // Layers that depend on the rows they train on check them themselves (minibatch stddev).
  try {
    checkTraining(G, 'generator', c.batch);
    checkTraining(D, 'discriminator', c.batch / pack);
  } catch (e) {
    throw e instanceof ShapeError ? bad(e.message) : e;
  }
  const dAct = D.running[D.running.length - 1].plan.activation;
  if (dAct !== loss.dActivation) {
    const meaning = loss.output === 'probability' ? 'D(x) is a probability' : 'D(x) is a raw score';
    throw bad(`discriminator output activation must be ${loss.dActivation} for the ${c.loss} loss (${meaning}), got ${dAct}`);
  }
  if (c.schedule.kind === 'epoch') {
    const rows = c.schedule.epochRows;
    positiveInt('schedule.epochRows', rows);
    if (rows % c.batch) throw bad(`schedule.epochRows ${rows} must be a multiple of batch ${c.batch} (whole minibatches, as nntrain requires)`);
    if (c.noise.bank !== undefined && c.noise.bank < rows) throw bad(`noise.bank ${c.noise.bank} is smaller than epochRows ${rows}`);
  } else if (c.schedule.kind !== 'alternating') {
    throw bad(`schedule must be alternating or epoch`);
  }
  // A decay that ends before the run leaves its last steps at rate 0, training that changes no
  // weight: the likely slip is a run made longer (more iterations, a resume) than its decay.
  const updates = updatesPerIteration(c);
  for (const [field, net, spec, perIteration] of [['optimizerG', 'G', c.optimizerG, updates.g], ['optimizerD', 'D', c.optimizerD, updates.d]] as const) {
    const decay = (spec as { lrDecay?: LrDecay }).lrDecay;
    const steps = c.iterations * perIteration;
    if (decay && decay.end < steps) {
      throw bad(`${field}.lrDecay brings the rate to 0 at step ${decay.end}, but ${c.iterations} iterations are ${steps} steps of ${net}: the last ${steps - decay.end} would change no weight; end the decay at step ${steps} or train fewer iterations`);
    }
  }
}
