// An optimizer for one network: its state lives in flat buffers laid out like the
// parameters, so a whole network updates in one dispatch (Adam) or two (SGD, whose L2
// penalty skips everything but the weights, as DeepLearnToolbox's does). Each kind names its
// own state tensors, so checkpoints need no per-kind code elsewhere.

import type { Dispatch, GpuContext } from '../gpu/context.ts';
import { ShapeError } from '../gpu/errors.ts';
import { fill } from '../kernels/fill.ts';
import { adam, incrementCounter, sgdMomentum } from '../kernels/optim.ts';
import type { TensorPool } from '../tensor/pool.ts';
import type { Tensor } from '../tensor/tensor.ts';
import type { Network } from './network.ts';
import { ParamSet } from './params.ts';

export type OptimizerSpec =
  | { kind: 'sgd'; lr: number; momentum: number; l2: number }
  | { kind: 'adam'; lr: number; beta1: number; beta2: number; eps: number; weightDecay?: number };

/** The state each kind keeps per parameter, by the name checkpoints give it. */
const STATE_NAMES: Record<OptimizerSpec['kind'], readonly string[]> = {
  sgd: ['velocity'],
  adam: ['adam_m', 'adam_v'],
};

export function validateOptimizerSpec(name: string, o: OptimizerSpec): void {
  const bad = (msg: string) => new ShapeError(`optimizer of '${name}': ${msg}`);
  if (!o || !(o.kind in STATE_NAMES)) throw bad(`kind '${(o as { kind: string } | undefined)?.kind}' is not one of ${Object.keys(STATE_NAMES).join(', ')}`);
  if (!(o.lr > 0) || !Number.isFinite(o.lr)) throw bad(`lr must be a positive number, got ${o.lr}`);
  if (o.kind === 'sgd') {
    if (!(o.momentum >= 0 && o.momentum < 1)) throw bad(`momentum must be in [0, 1), got ${o.momentum}`);
    if (!(o.l2 >= 0) || !Number.isFinite(o.l2)) throw bad(`l2 must be >= 0, got ${o.l2}`);
  } else {
    for (const [k, v] of [['beta1', o.beta1], ['beta2', o.beta2]] as const) {
      if (!(v >= 0 && v < 1)) throw bad(`${k} must be in [0, 1), got ${v}`);
    }
    if (!(o.eps > 0)) throw bad(`eps must be > 0, got ${o.eps}`);
  }
}

export class Optimizer {
  readonly spec: OptimizerSpec;
  /** One flat state buffer per name in `stateNames`, laid out like the parameters. */
  readonly state: ParamSet[];
  readonly stateNames: readonly string[];
  /** u32 [4]: element 0 counts Adam's updates (its t); SGD leaves it at 0. */
  readonly step: Tensor;
  private readonly ctx: GpuContext;
  private readonly net: Network;

  constructor(ctx: GpuContext, pool: TensorPool, net: Network, spec: OptimizerSpec) {
    validateOptimizerSpec(net.name, spec);
    this.ctx = ctx;
    this.net = net;
    this.spec = spec;
    this.stateNames = STATE_NAMES[spec.kind];
    this.state = this.stateNames.map((s) => new ParamSet(pool, net.layout, `${net.name}.${s}`));
    this.step = pool.acquire([4], 'u32', `${net.name}.step`);
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

  /** Zeroes the state and the step count. */
  recordReset(): Dispatch[] {
    return [...this.state.map((s) => fill(this.ctx, s.flat, 0)), fill(this.ctx, this.step, 0)];
  }

  /** One update of the network's parameters from its gradients. */
  recordUpdate(): Dispatch[] {
    const { params, grads } = this.net;
    const s = this.spec;
    if (s.kind === 'sgd') {
      const [v] = this.state;
      // SGD needs no step count: one dispatch fewer per update (30 per seed iteration).
      const region = (set: ParamSet, decay: boolean) => (decay ? set.decayRegion : set.restRegion);
      return [true, false].flatMap((decay) => {
        const w = region(params, decay);
        return w ? [sgdMomentum(this.ctx, w, region(grads, decay)!, region(v, decay)!, { lr: s.lr, momentum: s.momentum, l2: decay ? s.l2 : 0 })] : [];
      });
    }
    const [m, v] = this.state;
    return [
      incrementCounter(this.ctx, this.step),
      adam(this.ctx, params.flat, grads.flat, m.flat, v.flat, this.step, { lr: s.lr, beta1: s.beta1, beta2: s.beta2, eps: s.eps, weightDecay: s.weightDecay }),
    ];
  }
}
