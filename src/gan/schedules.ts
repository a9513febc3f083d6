// How an iteration is recorded (config.schedule): the alternating schedule of Goodfellow et
// al.'s Algorithm 1 and the seed experiment's epochs. A schedule sees the networks through
// forward / backward / output / output-gradient handles, the objective through the loss seam
// and the optimizers through their update; it decides only what runs in which order on which
// rows.

import type { RealSource } from '../data/source.ts';
import type { GpuContext, Step } from '../gpu/context.ts';
import { ShapeError } from '../gpu/errors.ts';
import { gatherRows, gatherValues, type DrawnIndices } from '../kernels/gather.ts';
import { randomPermutation } from '../kernels/random.ts';
import { HEAD_MAX_ROWS, oneUnitHead } from '../kernels/head.ts';
import type { ElementUpdate } from '../kernels/optim.ts';
import { recordLoss, type GanLoss, type LossTerms } from '../loss/index.ts';
import type { InputGrad } from '../nn/layer.ts';
import type { Network, NetworkWorkspace, OneUnitHead } from '../nn/network.ts';
import type { Optimizer } from '../nn/optimizer.ts';
import { TensorBlocks } from '../tensor/blocks.ts';
import type { TensorPool } from '../tensor/pool.ts';
import { VIEW_ALIGNMENT, type Tensor } from '../tensor/tensor.ts';
import type { GanConfig } from './config.ts';
import type { Draws } from './draws.ts';

/** What a schedule records with. */
export interface IterationParts {
  ctx: GpuContext;
  pool: TensorPool;
  config: GanConfig;
  G: Network;
  D: Network;
  optG: Optimizer;
  optD: Optimizer;
  loss: GanLoss;
  source: RealSource;
  draws: Draws;
  metrics: Tensor;
}

/** An iteration's phases: the D updates, then the G update. */
export interface RecordedIteration {
  d: Step[];
  g: Step[];
  /**
   * What the G phase draws when it runs without the D phase before it (a page stepping G
   * alone): the draws of its inputs that the program makes in the D phase. Run after the D
   * phase of the same clock they draw the same numbers again.
   */
  gDraws?: Step[];
}

export const SCHEDULES: Record<GanConfig['schedule']['kind'], (p: IterationParts) => RecordedIteration> = {
  alternating: recordAlternating,
  epoch: recordEpoch,
};

/**
 * How many times an iteration updates each net under each schedule: the steps Adam counts, in
 * which its lrDecay is given. A test holds these to the updates the recorded programs make.
 */
const SCHEDULE_UPDATES: Record<GanConfig['schedule']['kind'], (c: GanConfig) => { d: number; g: number }> = {
  alternating: (c) => ({ d: c.k, g: 1 }),
  epoch: (c) => {
    const rows = c.schedule.kind === 'epoch' ? c.schedule.epochRows : 0;
    return { d: (c.k * 2 * rows) / c.batch, g: rows / c.batch };
  },
};

/** The updates of D and of G one iteration of `config` makes. */
export function updatesPerIteration(config: GanConfig): { d: number; g: number } {
  return SCHEDULE_UPDATES[config.schedule.kind](config);
}

/** The rows' 1/0 labels, and D's target for real rows (config.realLabel, default 1): the losses train toward labels * realTarget. */
function labelTensors(p: IterationParts, rows: number, isReal: (i: number) => boolean, shape: number[], name: string): { labels: Tensor; realTarget: number } {
  const labels = p.pool.from(Float32Array.from({ length: rows }, (_, i) => (isReal(i) ? 1 : 0)), shape, `${name} labels`);
  return { labels, realTarget: p.config.realLabel ?? 1 };
}

function constant(p: IterationParts, rows: number, value: number, label: string): Tensor {
  return p.pool.from(new Float32Array(rows).fill(value), [rows, 1], label);
}

/** PacGAN's pack: how many rows of one kind D judges together (1 when not packed). */
const packOf = (p: IterationParts) => p.config.pack ?? 1;

/** `x` [rows, dim] as D's packed input [rows / pack, dim * pack]: the same memory. */
function packed(p: IterationParts, x: Tensor): Tensor {
  const n = packOf(p);
  return n === 1 ? x : x.reshape([x.rows / n, x.cols * n], `${x.label} packed by ${n}`);
}

/**
 * G's fakes for a D update, through workspace `ws`, written into rows first.. of D's batch
 * `batch` (as many as z has): straight from G's last layer when those rows can be bound on their
 * own (their offset is a multiple of 256 bytes), else through ws's output and a copy. Returns the
 * steps and the workspace whose output holds the fakes (G's step can train on them).
 */
function fakesInto(p: IterationParts, z: Tensor, batch: Tensor, first: number, ws: NetworkWorkspace): { steps: Step[]; ws: NetworkWorkspace } {
  const [rows, bytes] = [z.rows, z.rows * batch.cols * 4];
  const offset = batch.byteOffset + first * batch.cols * 4;
  if (offset % VIEW_ALIGNMENT === 0) {
    const into = p.G.outputInto(ws, batch.rowsView(first, rows, `${batch.label} fake rows`));
    return { steps: p.G.forward(into, z), ws: into };
  }
  const fake = p.G.output(ws);
  return { steps: [...p.G.forward(ws, z), p.ctx.copy(fake.buffer, batch.buffer, bytes, fake.byteOffset, offset, `fake rows into ${batch.label}`)], ws };
}

/**
 * D's output layer where one kernel runs it with the loss step and its backward pass
 * (kernels/head.ts): a one-unit dense layer of a D of dense layers (whose updates can join the
 * backward pass), on at most HEAD_MAX_ROWS rows. Null elsewhere: the layer and the loss step
 * record their own dispatches.
 */
function fusedHead(p: IterationParts, ws: NetworkWorkspace): OneUnitHead | null {
  if (!p.D.updatesInBackward || ws.rows > HEAD_MAX_ROWS) return null;
  return p.D.oneUnitHead(ws);
}

/** The fused head's dispatch: a G update (D frozen), or a D update that applies `rule`. */
function headStep(p: IterationParts, head: OneUnitHead, terms: LossTerms, rule?: ElementUpdate): Step {
  return oneUnitHead(p.ctx, head.h, p.D.params.flat, head.weight, head.bias, terms.labels, p.metrics, head.dh, {
    update: terms.update,
    loss: terms.kernel,
    scale: terms.scale,
    realTarget: terms.realTarget,
    scoredRows: terms.scoredRows,
    activation: p.loss.logits ? 'identity' : head.activation,
    below: head.below,
    leak: p.D.leak,
    rule,
    label: `${p.D.name} head + ${terms.kernel} loss (${terms.update} update)`,
  });
}

/** One D update on `x`: forward, the loss's gradient and metrics, backward, the update. */
function dUpdate(p: IterationParts, ws: NetworkWorkspace, x: Tensor, batch: { labels: Tensor; realTarget: number; scoredRows: number; blockRows: number | null; blocks: number }): Step[] {
  const { D, loss } = p;
  const terms = loss.dTerms({ ...batch, rows: ws.rows });
  const blocks = batch.blocks;
  const head = fusedHead(p, ws);
  if (!head) {
    return [
      ...D.forward(ws, x, { logits: loss.logits, blocks }),
      ...recordLoss(p.ctx, D.output(ws), D.outputGrad(ws), p.metrics, terms),
      ...D.backwardAndUpdate(ws, x, p.optD, { blocks }),
    ];
  }
  const forward = D.forward(ws, x, { blocks, exceptLast: true });
  const rule = p.optD.elementUpdate();
  return [...forward, headStep(p, head, terms, rule), ...D.backward(ws, x, { paramGrads: true, blocks, belowLast: true }, rule), ...p.optD.recordAfterUpdate()];
}

/**
 * G forward, D forward (frozen), the loss, D backward into G, G backward, G update. `z` is G's
 * whole input; for the conditional GAN, `condition` gives the labels and the buffer that holds
 * D's input [G(z) | one-hot(labels)], and the gradient flows back through the image columns.
 * With `reuse`, gws already holds G's forward pass on z (a D update's fakes): it is not run again.
 */
function gUpdate(p: IterationParts, z: Tensor, gws: NetworkWorkspace, dws: NetworkWorkspace, constants: { ones: Tensor; zeros: Tensor }, condition?: { labels: Tensor; dInput: Tensor }, reuse = false): Step[] {
  const { G, D, loss } = p;
  const fake = G.output(gws);
  const dInput = condition?.dInput ?? packed(p, fake);
  const chain = G.chainInto(gws, condition ? fake.cols : undefined);
  const inputGrad: InputGrad = { ...chain, tensor: packed(p, chain.tensor), gradOf: chain.gradOf && { ...chain.gradOf, output: packed(p, chain.gradOf.output) } };
  const terms = loss.gTerms({ rows: dws.rows, ...constants });
  const head = fusedHead(p, dws);
  const dPass = head
    ? [...D.forward(dws, dInput, { exceptLast: true }), headStep(p, head, terms), ...D.backward(dws, dInput, { paramGrads: false, inputGrad, belowLast: true })]
    : [
        ...D.forward(dws, dInput, { logits: loss.logits }),
        ...recordLoss(p.ctx, D.output(dws), D.outputGrad(dws), p.metrics, terms),
        ...D.backward(dws, dInput, { paramGrads: false, inputGrad }),
      ];
  const forward = reuse ? [] : G.forward(gws, z);
  return [...forward, ...(condition ? p.draws.conditioned(fake, condition.labels, condition.dInput) : []), ...dPass, ...G.backwardAndUpdate(gws, z, p.optG)];
}

/** Goodfellow et al.'s Algorithm 1: k D updates on fresh real and fake batches, one G update. */
function recordAlternating(p: IterationParts): RecordedIteration {
  const { config, pool, draws, G, D } = p;
  const { batch: b, k } = config;
  const dim = p.source.dim;
  const nz = config.noise.dim;
  const c = draws.classes;
  const mismatch = c > 0 && config.conditional?.mismatch === true;
  // D's batch: b real rows, b fake rows and, for a matching-aware D, b real rows with wrong
  // labels; packed, D judges them `pack` rows at a time: dRows / pack inputs in blocks of b / pack.
  const blocks = mismatch ? 3 : 2;
  const dRows = blocks * b;
  const n = packOf(p);
  const [inputs, blockRows] = [dRows / n, b / n];
  const dBatch = { ...labelTensors(p, inputs, (i) => i < blockRows, [inputs, 1], 'D'), scoredRows: 2 * blockRows, blockRows, blocks };
  const constants = { ones: constant(p, blockRows, 1, 'ones'), zeros: constant(p, blockRows, 0, 'zeros') };
  const gws = G.workspace(b, 'G');
  const dwsD = D.workspace(inputs, mismatch ? 'D[real+fake+mismatched]' : 'D[real+fake]');
  const dwsG = D.workspace(blockRows, 'D[fake]');
  const fake = G.output(gws);
  // The conditional GAN assembles [z | one-hot] for G and [x | one-hot] for D from parts.
  const gInput = c ? pool.acquire([b, nz + c], 'f32', 'G input') : null;
  const real = c ? pool.acquire([b, dim], 'f32', 'real rows') : null;
  const d: Step[] = [];
  // Where the real rows' gather can draw the noise too, each D update's noise rides with its
  // real rows, and G's with the last D update's (the next stream after it, as before). Reusing
  // the fakes, G's step has no noise of its own.
  const ride = !c && draws.noiseRidesWithRows;
  const reuse = config.reuseFakes === true;
  const lastZ = ride && !reuse ? new TensorBlocks(pool, 2, [b, nz], 'f32', 'noise', [`D${k}.z`, 'G.z']) : null;
  if (lastZ) for (let j = 0; j < 2; j++) draws.named.set(lastZ.block(j).label, lastZ.block(j));
  /** The last D update's noise and the G workspace that holds its fakes. */
  let fakes = { z: null as Tensor | null, ws: gws, draw: [] as Step[] };
  for (let j = 1; j <= k; j++) {
    // Each update draws into its own buffers, so all of an iteration's draws can be inspected.
    const xD = draws.buffer(`D${j}.x`, [dRows, dim + c]);
    const z = lastZ && j === k ? lastZ.block(0) : draws.buffer(`D${j}.z`, [b, nz]);
    if (!c) {
      draws.real(xD.rowsView(0, b), d, undefined, ride ? (j === k && lastZ ? lastZ : z) : undefined);
      const draw = ride ? [] : draws.noise(z);
      const made = fakesInto(p, z, xD, b, gws);
      d.push(...draw, ...made.steps);
      if (reuse && j === k) fakes = { z, ws: made.ws, draw: [...(ride ? draws.redraw(z) : draw), ...made.steps] };
    } else {
      const realLabels = draws.buffer(`D${j}.real labels`, [b], 'u32');
      const fakeLabels = draws.buffer(`D${j}.fake labels`, [b], 'u32');
      const rows = draws.real(real!, d)!;
      d.push(
        ...p.source.recordLabels!(realLabels, rows),
        ...draws.noise(z),
        ...draws.fakeLabels(fakeLabels),
        ...draws.conditioned(z, fakeLabels, gInput!),
        ...G.forward(gws, gInput!),
        ...draws.conditioned(real!, realLabels, xD),
        ...draws.conditioned(fake, fakeLabels, xD, b),
      );
      if (mismatch) {
        const wrong = draws.buffer(`D${j}.mismatched labels`, [b], 'u32');
        d.push(...draws.otherLabels(realLabels, draws.buffer(`D${j}.label shifts`, [b], 'u32'), wrong), ...draws.conditioned(real!, wrong, xD, 2 * b));
      }
    }
    d.push(...dUpdate(p, dwsD, packed(p, xD), dBatch));
  }
  if (reuse) {
    // G trains on the last D update's fakes; stepped alone, G makes them again (the same noise
    // and weights as that update, so the same fakes).
    const g = gUpdate(p, fakes.z!, fakes.ws, dwsG, constants, undefined, true);
    return { d, g, gDraws: fakes.draw };
  }
  const z = lastZ ? lastZ.block(1) : draws.buffer('G.z', [b, nz]);
  const g = lastZ ? [] : draws.noise(z);
  if (!c) {
    g.push(...gUpdate(p, z, gws, dwsG, constants));
  } else {
    const labels = draws.buffer('G.labels', [b], 'u32');
    g.push(
      ...draws.fakeLabels(labels),
      ...draws.conditioned(z, labels, gInput!),
      ...gUpdate(p, gInput!, gws, dwsG, constants, { labels, dInput: pool.acquire([b, dim + c], 'f32', 'D input (G step)') }),
    );
  }
  return { d, g, gDraws: lastZ ? draws.redraw(z) : [] };
}

/**
 * The seed experiment's iteration: draw `epochRows` real rows and as many noise rows; D trains
 * k epochs over the real and fake rows shuffled into minibatches, then G one epoch over the
 * noise rows with D frozen.
 */
function recordEpoch(p: IterationParts): RecordedIteration {
  const { config, pool, draws, G, D, ctx } = p;
  if (config.schedule.kind !== 'epoch') throw new ShapeError('recordEpoch: not an epoch schedule');
  const rows = config.schedule.epochRows;
  const { batch: b, k } = config;
  const dim = p.source.dim;
  const nz = config.noise.dim;
  const perm = draws.buffer('rows', [rows], 'u32');
  const both = pool.acquire([2 * rows, dim], 'f32', 'D rows (real, fake)');
  draws.named.set('real', both.rowsView(0, rows, 'real'));
  const all = labelTensors(p, 2 * rows, (i) => i < rows, [2 * rows], 'D row');
  const zRows = draws.buffer('noise', [rows, nz]);
  const gShuffle = draws.buffer('G.shuffle', [rows], 'u32');
  // Every minibatch of an epoch is gathered in one dispatch, into blocks bound one at a time.
  const dBatches = (2 * rows) / b;
  const xb = new TensorBlocks(pool, dBatches, [b, dim], 'f32', 'D minibatches');
  const yb = new TensorBlocks(pool, dBatches, [b], 'f32', 'D minibatch labels');
  const zb = new TensorBlocks(pool, rows / b, [b, nz], 'f32', 'G minibatch noise');
  const constants = { ones: constant(p, b, 1, 'ones'), zeros: constant(p, b, 0, 'zeros') };
  const gws = G.workspace(b, 'G');
  const dws = D.workspace(b, 'D');

  const d: Step[] = [];
  // index = randperm(rows of the data); the same rows of the data and of the noise bank. Each
  // permutation is drawn by the gathers that use it, the first of them keeping it by name.
  const noiseBankRows = draws.noiseBankRows;
  const domain = p.source.rows ?? noiseBankRows;
  let order: DrawnIndices | undefined;
  if (domain !== null) {
    if (domain < rows) throw new ShapeError(`epoch schedule: ${rows} rows per iteration exceed the ${domain} available`);
    order = { permutation: draws.permutation(domain), into: perm };
    // A noise bank drawn in a permutation of its own keeps this one only for inspection.
    if (p.source.rows === null) d.push(randomPermutation(ctx, perm, order.permutation));
  }
  const sharedRows = order && noiseBankRows !== null && p.source.rows === noiseBankRows ? { permutation: order.permutation } : undefined;
  draws.real(both.rowsView(0, rows), d, p.source.rows === null ? undefined : order);
  d.push(...draws.noise(zRows, sharedRows), ...fakesInto(p, zRows, both, rows, G.workspace(rows, 'G[all rows]')).steps);
  for (let epoch = 1; epoch <= k; epoch++) {
    const shuffle = draws.buffer(`D${epoch}.shuffle`, [2 * rows], 'u32');
    const permutation = draws.permutation(2 * rows);
    d.push(
      gatherRows(ctx, both, { permutation, into: shuffle }, xb),
      gatherValues(ctx, all.labels, { permutation }, yb),
    );
    for (let j = 0; j < dBatches; j++) {
      const labels = yb.block(j);
      d.push(...dUpdate(p, dws, xb.block(j), { labels, realTarget: all.realTarget, scoredRows: b, blockRows: null, blocks: 1 }));
    }
  }
  const g: Step[] = [gatherRows(ctx, zRows, { permutation: draws.permutation(rows), into: gShuffle }, zb)];
  for (let j = 0; j < rows / b; j++) g.push(...gUpdate(p, zb.block(j), gws, dws, constants));
  return { d, g };
}
