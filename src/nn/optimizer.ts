// An optimizer for one network: its state lives in flat buffers laid out like the
// parameters, so a whole network updates in one dispatch (SGD's L2 penalty skips everything but
// the weights, as DeepLearnToolbox's does, by their place in the layout). Each kind names its
// own state tensors, so checkpoints need no per-kind code elsewhere; every kind can clip the
// weights after its update (WGAN's weight clipping). A kind that counts steps (Adam) reads its
// t from a counter that a program's recorded updates share and that is advanced once after
// them (recordTick, or the trainer's tick of its clock and both counters), so an update is one
// dispatch and not two. Any kind can also keep an exponential moving average of the weights
// (`average`), one dispatch after each update, which samplers read instead of the weights.

import type { Dispatch, GpuContext, Step } from '../gpu/context.ts';
import { ShapeError } from '../gpu/errors.ts';
import { fill } from '../kernels/fill.ts';
import { adam, adamElementUpdate, advanceCounters, lrDecayProblems, rmsprop, rmspropElementUpdate, sgdElementUpdate, sgdMomentum, weightAverage, type ElementUpdate, type LrDecay } from '../kernels/optim.ts';
import type { TensorPool } from '../tensor/pool.ts';
import type { Tensor } from '../tensor/tensor.ts';
import type { Network } from './network.ts';
import { ParamSet } from './params.ts';

/**
 * `clip` > 0 clamps every parameter to [-clip, clip] after each update. `average` in (0, 1)
 * keeps average = average * decay + weights * (1 - decay) after each update, from the initial
 * weights on: the generator that samplers read is then the average of its recent iterates
 * (Yazici et al. 2019, "The Unusual Effectiveness of Averaging in GAN Training"; 0.999
 * averages over about the last thousand updates).
 */
export type OptimizerSpec = (
  | { kind: 'sgd'; lr: number; momentum: number; l2: number; clip?: number }
  | { kind: 'adam'; lr: number; beta1: number; beta2: number; eps: number; weightDecay?: number; clip?: number; lrDecay?: LrDecay }
  | { kind: 'rmsprop'; lr: number; alpha: number; eps: number; weightDecay?: number; clip?: number }
) & { average?: number };

/** The state name of the weights' moving average (checkpoint entries `<layer>.<param>.average`). */
export const AVERAGE_STATE = 'average';

/** What an update works on: the network's parameters and gradients, the kind's state, a step counter. */
interface UpdateArgs {
  ctx: GpuContext;
  params: ParamSet;
  grads: ParamSet;
  state: ParamSet[];
  /** step[0] counts the steps before this program; this update is the program's `nth` (1-based). */
  step: Tensor;
  nth: number;
  /** Elements [0, decayEnd) of the flat buffers are the decayed parameters (weights). */
  decayEnd: number;
}

interface OptimizerKind<S extends OptimizerSpec> {
  /** The state each kind keeps per parameter, by the name checkpoints give it. */
  stateNames: readonly string[];
  /** Whether the kind reads a step count (the others leave the counter at 0). */
  countsSteps: boolean;
  /** Problems with the kind's own fields, as messages. */
  check(spec: S): string[];
  record(spec: S, a: UpdateArgs): Dispatch[];
  /** The same update as a rule the weight-gradient kernels apply where they compute gradients. */
  rule(spec: S, a: UpdateArgs): ElementUpdate;
}

const inUnit = (name: string, v: number) => (v >= 0 && v < 1 ? [] : [`${name} must be in [0, 1), got ${v}`]);
const positive = (name: string, v: number) => (v > 0 && Number.isFinite(v) ? [] : [`${name} must be > 0, got ${v}`]);
const nonNegative = (name: string, v: number | undefined) => (v === undefined || (v >= 0 && Number.isFinite(v)) ? [] : [`${name} must be >= 0, got ${v}`]);

const sgd: OptimizerKind<Extract<OptimizerSpec, { kind: 'sgd' }>> = {
  stateNames: ['velocity'],
  countsSteps: false,
  check: (o) => [...inUnit('momentum', o.momentum), ...(o.l2 >= 0 && Number.isFinite(o.l2) ? [] : [`l2 must be >= 0, got ${o.l2}`])],
  // One dispatch and no step count: the weights (laid out first) take the L2 penalty, the rest none.
  record: (o, { ctx, params, grads, state: [v], decayEnd }) => [
    sgdMomentum(ctx, params.flat, grads.flat, v.flat, { lr: o.lr, momentum: o.momentum, l2: o.l2, clip: o.clip, decayEnd }),
  ],
  rule: (o, { params, state: [v], decayEnd }) => sgdElementUpdate(params.flat, v.flat, { lr: o.lr, momentum: o.momentum, l2: o.l2, clip: o.clip, decayEnd }),
};

const adamOptions = (o: Extract<OptimizerSpec, { kind: 'adam' }>, nth: number) => ({ lr: o.lr, beta1: o.beta1, beta2: o.beta2, eps: o.eps, weightDecay: o.weightDecay, clip: o.clip, lrDecay: o.lrDecay, stepAdd: nth });
const rmspropOptions = (o: Extract<OptimizerSpec, { kind: 'rmsprop' }>) => ({ lr: o.lr, alpha: o.alpha, eps: o.eps, weightDecay: o.weightDecay, clip: o.clip });

const adamKind: OptimizerKind<Extract<OptimizerSpec, { kind: 'adam' }>> = {
  stateNames: ['adam_m', 'adam_v'],
  countsSteps: true,
  check: (o) => [...inUnit('beta1', o.beta1), ...inUnit('beta2', o.beta2), ...positive('eps', o.eps), ...nonNegative('weightDecay', o.weightDecay), ...lrDecayProblems(o.lrDecay)],
  record: (o, { ctx, params, grads, state: [m, v], step, nth }) => [
    adam(ctx, params.flat, grads.flat, m.flat, v.flat, step, adamOptions(o, nth)),
  ],
  rule: (o, { params, state: [m, v], step, nth }) => adamElementUpdate(params.flat, m.flat, v.flat, step, adamOptions(o, nth)),
};

const rmspropKind: OptimizerKind<Extract<OptimizerSpec, { kind: 'rmsprop' }>> = {
  stateNames: ['rmsprop_square'],
  countsSteps: false,
  check: (o) => [...inUnit('alpha', o.alpha), ...positive('eps', o.eps), ...nonNegative('weightDecay', o.weightDecay)],
  record: (o, { ctx, params, grads, state: [s] }) => [rmsprop(ctx, params.flat, grads.flat, s.flat, rmspropOptions(o))],
  rule: (o, { params, state: [s] }) => rmspropElementUpdate(params.flat, s.flat, rmspropOptions(o)),
};

/** The optimizer kinds a config may name; a new kind is an entry here and its kernel. */
export const OPTIMIZER_KINDS: Record<OptimizerSpec['kind'], OptimizerKind<never>> = { sgd, adam: adamKind, rmsprop: rmspropKind };

export function validateOptimizerSpec(name: string, o: OptimizerSpec): void {
  const bad = (msg: string) => new ShapeError(`optimizer of '${name}': ${msg}`);
  const kind = o && typeof o === 'object' ? OPTIMIZER_KINDS[o.kind] : undefined;
  if (!kind) throw bad(`kind '${(o as { kind?: string } | undefined)?.kind}' is not one of ${Object.keys(OPTIMIZER_KINDS).join(', ')}`);
  if (!(o.lr > 0) || !Number.isFinite(o.lr)) throw bad(`lr must be a positive number, got ${o.lr}`);
  const average = o.average === undefined || (o.average > 0 && o.average < 1) ? [] : [`average (the weights' moving-average decay) must be in (0, 1), got ${o.average}`];
  // The decay's share is read from the step count, which only some kinds keep.
  const decay = !kind.countsSteps && (o as { lrDecay?: unknown }).lrDecay !== undefined ? [`lrDecay needs a step count, which kind '${o.kind}' does not keep`] : [];
  const problems = [...kind.check(o as never), ...nonNegative('clip', o.clip), ...average, ...decay];
  if (problems.length) throw bad(problems[0]);
}

export class Optimizer {
  readonly spec: OptimizerSpec;
  /** One flat state buffer per name in `stateNames`, laid out like the parameters. */
  readonly state: ParamSet[];
  /** The kind's state names, then AVERAGE_STATE where the spec keeps an average. */
  readonly stateNames: readonly string[];
  /** The weights' moving average (spec.average), or null. */
  readonly average: ParamSet | null;
  /** u32 [4]: element 0 counts Adam's updates (its t) at the last tick; the other kinds leave it at 0. */
  readonly step: Tensor;
  private readonly ctx: GpuContext;
  private readonly net: Network;
  /** Updates recorded so far: the program that replays them advances `step` by this many. */
  private recorded = 0;

  /** `step`: the counter to use (the trainer keeps it beside its clock); by default one of its own. */
  constructor(ctx: GpuContext, pool: TensorPool, net: Network, spec: OptimizerSpec, step?: Tensor) {
    validateOptimizerSpec(net.name, spec);
    this.ctx = ctx;
    this.net = net;
    this.spec = spec;
    this.stateNames = [...OPTIMIZER_KINDS[spec.kind].stateNames, ...(spec.average === undefined ? [] : [AVERAGE_STATE])];
    this.state = this.stateNames.map((s) => new ParamSet(pool, net.layout, `${net.name}.${s}`));
    this.average = spec.average === undefined ? null : this.state[this.state.length - 1];
    this.step = step ?? pool.acquire([4], 'u32', `${net.name}.step`);
    if (this.step.dtype !== 'u32' || this.step.size < 1) throw new ShapeError(`optimizer of '${net.name}': the step counter ${this.step} must be u32`);
  }

  /** The state as checkpoint entries: `${layer}.${param}.${state name}`, and `optimizer_step`. */
  namedState(): [string, Tensor][] {
    const entries: [string, Tensor][] = [];
    this.state.forEach((set, i) => {
      for (const [key, t] of set.byKey) entries.push([`${key}.${this.stateNames[i]}`, t]);
    });
    entries.push(['optimizer_step', this.step]);
    return entries;
  }

  /** Zeroes the state and the step count; the average starts as the weights are now. */
  recordReset(): Step[] {
    const flat = this.net.params.flat;
    return [
      ...this.state.map((s) => (s === this.average ? this.ctx.copy(flat.buffer, s.flat.buffer, flat.byteLength, flat.byteOffset, s.flat.byteOffset, `${this.net.name}: average = weights`) : fill(this.ctx, s.flat, 0))),
      fill(this.ctx, this.step, 0),
    ];
  }

  /**
   * One update of the network's parameters from its gradients, and what the network derives
   * from them. Updates are counted as they are recorded: a program replays all of them, then
   * advances the step count by `stepsPerTick` (recordTick).
   */
  recordUpdate(): Step[] {
    return [...OPTIMIZER_KINDS[this.spec.kind].record(this.spec as never, this.nextUpdate()), ...this.recordAfterUpdate()];
  }

  /**
   * What follows every update of the parameters: what the network derives from them (spectral
   * normalisation's power iteration) and the moving average of the weights.
   */
  recordAfterUpdate(): Step[] {
    const average = this.average && this.spec.average !== undefined ? [weightAverage(this.ctx, this.average.flat, this.net.params.flat, { decay: this.spec.average })] : [];
    return [...this.net.recordAfterUpdate(), ...average];
  }

  /**
   * One update as a rule for the network's weight-gradient kernels to apply where they compute
   * each gradient (Network.backwardAndUpdate), counted as recordUpdate counts. recordAfterUpdate
   * is the caller's to record after the pass.
   */
  elementUpdate(): ElementUpdate {
    return OPTIMIZER_KINDS[this.spec.kind].rule(this.spec as never, this.nextUpdate());
  }

  /** The network this optimizer updates. */
  get network(): Network {
    return this.net;
  }

  private nextUpdate(): UpdateArgs {
    const { params, grads } = this.net;
    return { ctx: this.ctx, params, grads, state: this.state, step: this.step, nth: ++this.recorded, decayEnd: this.net.layout.decayEnd };
  }

  /** How far one replay of the recorded updates advances the step count (0 for kinds that count none). */
  get stepsPerTick(): number {
    return OPTIMIZER_KINDS[this.spec.kind].countsSteps ? this.recorded : 0;
  }

  /** Advances the step count past one replay of the recorded updates (nothing to do for kinds that count none). */
  recordTick(): Step[] {
    return this.stepsPerTick ? [advanceCounters(this.ctx, this.step, [{ index: 0, by: this.stepsPerTick }])] : [];
  }
}
