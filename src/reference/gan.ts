// Float64 twin of one training iteration (gan/schedules.ts), written for clarity: the same
// schedule, loss and updates over plain arrays, given the iteration's random draws (read back
// from a GPU run). Used by the tests to check whole iterations, not single kernels.

import type { GanConfig } from '../gan/config.ts';
import type { OptimizerSpec } from '../nn/optimizer.ts';
import { activateGradFromOutput as activationGrad } from './activations.ts';
import type { RefGanLoss } from './gan-losses.ts';
import { paramKeys, refAfterUpdate, refBackward, refForward, type RefNet } from './network.ts';
import { adam, rmsprop, sgdMomentum, weightAverage } from './optim.ts';

/** Optimizer state per parameter key: SGD keeps [velocity], Adam [m, v]; the weights' average (spec.average) or null. */
export interface RefOptimizer {
  spec: OptimizerSpec;
  state: Map<string, Float64Array>[];
  average: Map<string, Float64Array> | null;
  step: number;
}

export interface RefGan {
  G: RefNet;
  D: RefNet;
  optG: RefOptimizer;
  optD: RefOptimizer;
  loss: RefGanLoss;
}

export function refOptimizer(spec: OptimizerSpec, net: RefNet): RefOptimizer {
  const slots = spec.kind === 'adam' ? 2 : 1;
  const keys = paramKeys(net.plan);
  const average = spec.average === undefined ? null : new Map(keys.map((k) => [k.key, Float64Array.from(net.params.get(k.key)!)]));
  return { spec, state: Array.from({ length: slots }, () => new Map(keys.map((k) => [k.key, new Float64Array(k.size)]))), average, step: 0 };
}

function applyUpdate(net: RefNet, opt: RefOptimizer, grads: Map<string, Float64Array>): void {
  opt.step++;
  const s = opt.spec;
  for (const { key, decay } of paramKeys(net.plan)) {
    const [param, g] = [net.params.get(key)!, grads.get(key)!];
    const state = opt.state.map((m) => m.get(key)!);
    switch (s.kind) {
      case 'sgd': {
        // DeepLearnToolbox leaves the bias column out of the L2 penalty.
        const r = sgdMomentum(param, state[0], [g], { lr: s.lr, momentum: s.momentum, l2: decay ? s.l2 : 0, clip: s.clip });
        param.set(r.w);
        state[0].set(r.v);
        break;
      }
      case 'adam': {
        const r = adam(param, state[0], state[1], opt.step - 1, [g], s);
        param.set(r.w);
        state[0].set(r.m);
        state[1].set(r.v);
        break;
      }
      case 'rmsprop': {
        const r = rmsprop(param, state[0], [g], s);
        param.set(r.w);
        state[0].set(r.s);
        break;
      }
    }
    if (opt.average && s.average !== undefined) opt.average.get(key)!.set(weightAverage(opt.average.get(key)!, [param], s.average).a);
  }
  refAfterUpdate(net);
}

const last = <T>(xs: T[]) => xs[xs.length - 1];

/** One D update on rows x [m, dim] with targets, in blocks of `blockRows` rows (null: mixed). */
function dUpdate(s: RefGan, x: Float64Array, targets: ArrayLike<number>, blockRows: number | null, blocks: number): void {
  const m = targets.length;
  const o = { logits: s.loss.logits, blocks };
  const outputs = refForward(s.D, x, m, o);
  const grads = refBackward(s.D, x, m, outputs, s.loss.dGrad(last(outputs), targets, blockRows), o);
  applyUpdate(s.D, s.optD, grads.grads);
}

/**
 * One G update on noise z [m, nz], D frozen; D judges the m fake rows `pack` at a time. `kept`:
 * G's forward pass on z already made (config.reuseFakes), so it is not run again.
 */
function gUpdate(s: RefGan, config: GanConfig, z: Float64Array, m: number, kept?: Float64Array[]): void {
  const gOut = kept ?? refForward(s.G, z, m);
  const fake = last(gOut);
  // Packed, the same row-major data is m / pack rows of pack samples side by side.
  const dm = m / (config.pack ?? 1);
  const dOut = refForward(s.D, fake, dm, { logits: s.loss.logits });
  const dFake = refBackward(s.D, fake, dm, dOut, s.loss.gGrad(last(dOut)), { logits: s.loss.logits }).input;
  const gAct = last(s.G.plan.running).plan.activation;
  const gDelta = dFake.map((g, i) => g * activationGrad(fake[i], gAct, s.G.leak));
  applyUpdate(s.G, s.optG, refBackward(s.G, z, m, gOut, gDelta).grads);
}

function rows(src: ArrayLike<number>, dim: number, indices: ArrayLike<number>, from: number, count: number): Float64Array {
  const out = new Float64Array(count * dim);
  for (let i = 0; i < count; i++) {
    const r = indices[from + i];
    for (let c = 0; c < dim; c++) out[i * dim + c] = src[r * dim + c];
  }
  return out;
}

/** The alternating schedule: `realRows[j]` holds D update j's real rows, `zD[j]` its noise, `zG` G's (none when G reuses the fakes). */
export function refAlternatingIteration(s: RefGan, config: GanConfig, draws: { realRows: Float64Array[]; zD: Float64Array[]; zG?: Float64Array }): void {
  const b = config.batch;
  const real = config.realLabel ?? 1;
  // Packed, D scores b / pack real and b / pack fake inputs of pack rows each.
  const n = b / (config.pack ?? 1);
  const targets = Array.from({ length: 2 * n }, (_, i) => (i < n ? real : 0));
  let gOut: Float64Array[] = [];
  for (let j = 0; j < config.k; j++) {
    gOut = refForward(s.G, draws.zD[j], b);
    const fake = last(gOut);
    const x = new Float64Array(draws.realRows[j].length + fake.length);
    x.set(draws.realRows[j]);
    x.set(fake, draws.realRows[j].length);
    dUpdate(s, x, targets, n, 2);
  }
  // Reusing the fakes, G trains on the last D update's noise and forward pass.
  if (config.reuseFakes) gUpdate(s, config, draws.zD[config.k - 1], b, gOut);
  else gUpdate(s, config, draws.zG!, b);
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
  const dim = draws.real.length / rowsPerIteration;
  const nz = draws.noise.length / rowsPerIteration;
  const fake = last(refForward(s.G, draws.noise, rowsPerIteration));
  const both = new Float64Array(2 * rowsPerIteration * dim);
  both.set(draws.real);
  both.set(fake, rowsPerIteration * dim);
  const real = config.realLabel ?? 1;
  const targets = Array.from({ length: 2 * rowsPerIteration }, (_, i) => (i < rowsPerIteration ? real : 0));
  for (let e = 0; e < config.k; e++) {
    for (let j = 0; j < (2 * rowsPerIteration) / b; j++) {
      dUpdate(s, rows(both, dim, draws.dShuffle[e], j * b, b), rows(targets, 1, draws.dShuffle[e], j * b, b), null, 1);
    }
  }
  for (let j = 0; j < rowsPerIteration / b; j++) gUpdate(s, config, rows(draws.noise, nz, draws.gShuffle, j * b, b), b);
}
