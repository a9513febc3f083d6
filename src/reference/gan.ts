// Float64 twin of one training iteration (gan/trainer.ts), written for clarity: the same
// schedule, losses and updates over plain arrays, given the iteration's random draws (read
// back from a GPU run). Used by the tests to check whole iterations, not single kernels.

import type { GanConfig } from '../gan/config.ts';
import type { OptimizerSpec } from '../nn/optimizer.ts';
import { activateGradFromOutput as activationGrad } from './activations.ts';
import { bceWithLogitsGrad, mseSigmoidGrad } from './losses.ts';
import { refBackward, refForward, type RefGradients, type RefMlp } from './mlp.ts';
import { adam, sgdMomentum } from './optim.ts';

/** Optimizer state per layer: SGD keeps [velocity], Adam [m, v]. */
export interface RefOptimizer {
  spec: OptimizerSpec;
  w: Float64Array[][];
  b: Float64Array[][];
  step: number;
}

export interface RefGan {
  G: RefMlp;
  D: RefMlp;
  optG: RefOptimizer;
  optD: RefOptimizer;
}

export function refOptimizer(spec: OptimizerSpec, net: RefMlp): RefOptimizer {
  const slots = spec.kind === 'sgd' ? 1 : 2;
  return {
    spec,
    w: Array.from({ length: slots }, () => net.layers.map((l) => new Float64Array(l.w.length))),
    b: Array.from({ length: slots }, () => net.layers.map((l) => new Float64Array(l.b.length))),
    step: 0,
  };
}

function applyUpdate(net: RefMlp, opt: RefOptimizer, grads: RefGradients): void {
  opt.step++;
  const s = opt.spec;
  net.layers.forEach((layer, l) => {
    for (const [param, g, state, isBias] of [[layer.w, grads.w[l], opt.w, false], [layer.b, grads.b[l], opt.b, true]] as const) {
      if (s.kind === 'sgd') {
        // DeepLearnToolbox leaves the bias column out of the L2 penalty.
        const r = sgdMomentum(param, state[0][l], [g], { lr: s.lr, momentum: s.momentum, l2: isBias ? 0 : s.l2 });
        param.set(r.w);
        state[0][l].set(r.v);
      } else {
        const r = adam(param, state[0][l], state[1][l], opt.step - 1, [g], s);
        param.set(r.w);
        state[0][l].set(r.m);
        state[1][l].set(r.v);
      }
    }
  });
}

const last = <T>(xs: T[]) => xs[xs.length - 1];

/** Gradient of D's loss with respect to its last pre-activation (what the loss kernels write). */
function dLossDelta(config: GanConfig, out: Float64Array, labels: ArrayLike<number>, scale: number): Float64Array {
  return config.loss === 'bce' ? bceWithLogitsGrad(out, labels, scale) : mseSigmoidGrad(out, labels, scale);
}

/** One D update on rows x [m, dim] with labels. */
function dUpdate(s: RefGan, config: GanConfig, x: Float64Array, labels: ArrayLike<number>, scale: number): void {
  const m = labels.length;
  const outputs = refForward(s.D, x, m, config.loss === 'bce');
  const grads = refBackward(s.D, x, m, outputs, dLossDelta(config, last(outputs), labels, scale));
  applyUpdate(s.D, s.optD, grads);
}

/** One G update on noise z [m, nz], D frozen; D judges the m fake rows `pack` at a time. */
function gUpdate(s: RefGan, config: GanConfig, z: Float64Array, m: number): void {
  const gOut = refForward(s.G, z, m);
  const fake = last(gOut);
  // Packed, the same row-major data is m / pack rows of pack samples side by side.
  const dm = m / (config.pack ?? 1);
  const dOut = refForward(s.D, fake, dm, config.loss === 'bce');
  const minimax = config.loss === 'bce' && config.gLoss === 'minimax';
  const labels = new Array<number>(dm).fill(minimax ? 0 : 1);
  const delta = dLossDelta(config, last(dOut), labels, (minimax ? -1 : 1) / dm);
  const dFake = refBackward(s.D, fake, dm, dOut, delta).input;
  const gAct = last(s.G.layers).activation;
  const gDelta = dFake.map((g, i) => g * activationGrad(fake[i], gAct, s.G.leak));
  applyUpdate(s.G, s.optG, refBackward(s.G, z, m, gOut, gDelta));
}

function rows(src: ArrayLike<number>, dim: number, indices: ArrayLike<number>, from: number, count: number): Float64Array {
  const out = new Float64Array(count * dim);
  for (let i = 0; i < count; i++) {
    const r = indices[from + i];
    for (let c = 0; c < dim; c++) out[i * dim + c] = src[r * dim + c];
  }
  return out;
}

/** The alternating schedule: `x[j]` holds D update j's real rows (first `batch` rows are used), `zD[j]` its noise. */
export function refAlternatingIteration(s: RefGan, config: GanConfig, draws: { realRows: Float64Array[]; zD: Float64Array[]; zG: Float64Array }): void {
  const b = config.batch;
  const real = config.realLabel ?? 1;
  // Packed, D scores b / pack real and b / pack fake inputs of pack rows each.
  const n = b / (config.pack ?? 1);
  const labels = Array.from({ length: 2 * n }, (_, i) => (i < n ? real : 0));
  // BCE: mean over the real inputs plus mean over the fake inputs; MSE: mean over all of them.
  const scale = config.loss === 'bce' ? 1 / n : 1 / (2 * n);
  for (let j = 0; j < config.k; j++) {
    const fake = last(refForward(s.G, draws.zD[j], b));
    const x = new Float64Array(2 * b * fake.length / b);
    x.set(draws.realRows[j]);
    x.set(fake, draws.realRows[j].length);
    dUpdate(s, config, x, labels, scale);
  }
  gUpdate(s, config, draws.zG, b);
}

/** The seed experiment's epoch schedule, given the iteration's real rows, noise rows and shuffles. */
export function refEpochIteration(
  s: RefGan,
  config: GanConfig,
  draws: { real: Float64Array; noise: Float64Array; dShuffle: ArrayLike<number>[]; gShuffle: ArrayLike<number> },
): void {
  if (config.schedule.kind !== 'epoch') throw new Error('refEpochIteration: not an epoch schedule');
  const rowsPerIteration = config.schedule.epochRows;
  const b = config.batch;
  const dim = s.D.layers[0].fanIn;
  const nz = s.G.layers[0].fanIn;
  const fake = last(refForward(s.G, draws.noise, rowsPerIteration));
  const pool = new Float64Array(2 * rowsPerIteration * dim);
  pool.set(draws.real);
  pool.set(fake, rowsPerIteration * dim);
  const real = config.realLabel ?? 1;
  const poolLabels = Array.from({ length: 2 * rowsPerIteration }, (_, i) => (i < rowsPerIteration ? real : 0));
  for (let e = 0; e < config.k; e++) {
    for (let j = 0; j < (2 * rowsPerIteration) / b; j++) {
      const x = rows(pool, dim, draws.dShuffle[e], j * b, b);
      const y = rows(poolLabels, 1, draws.dShuffle[e], j * b, b);
      dUpdate(s, config, x, y, 1 / b);
    }
  }
  for (let j = 0; j < rowsPerIteration / b; j++) gUpdate(s, config, rows(draws.noise, nz, draws.gShuffle, j * b, b), b);
}
