// Optimizers: DeepLearnToolbox's SGD with momentum and L2, Adam with bias correction, RMSProp,
// each with optional weight clipping, and the GPU counter Adam reads its step count from. Hyperparameters are fixed when the op is
// recorded; the step count changes every iteration, so it lives in a u32 tensor on the GPU.

import rulesSource from '../../shaders/lib/optimizer.wgsl?raw';
import updateElementSource from '../../shaders/lib/update_element.wgsl?raw';
import averageSource from '../../shaders/average.wgsl?raw';
import source from '../../shaders/optim.wgsl?raw';
import { ShapeError } from '../gpu/errors.ts';
import { uniforms, type Dispatch, type GpuContext, type KernelSpec } from '../gpu/context.ts';
import { defineShader } from '../gpu/shader.ts';
import type { Tensor } from '../tensor/tensor.ts';
import { ELEMENTWISE_WG, expectDType, expectDistinct, expectFinite, expectSameShape, grid1d } from './common.ts';
import { fillShader, PER_INVOCATION } from './fill.ts';

/** The per-element rules, shared with the weight-gradient epilogue that applies them (gemm.ts). */
export const optimizerRules = defineShader('lib/optimizer.wgsl', rulesSource);
/** A rule applied where a kernel computes gradients, and the bindings it reads (3, 4, 7, 8, 9). */
export const updateElement = defineShader('lib/update_element.wgsl', updateElementSource, [optimizerRules]);
const shader = defineShader('optim.wgsl', source, [optimizerRules]);

const SGD: KernelSpec = { shader, entry: 'sgd_momentum', bindings: ['write', 'read', 'write', 'uniform'] };
const RMSPROP: KernelSpec = { shader, entry: 'rmsprop', bindings: ['write', 'read', 'write', 'uniform'] };
const ADAM: KernelSpec = { shader, entry: 'adam', bindings: ['write', 'read', 'write', 'uniform', 'write', 'read'] };
const AVERAGE: KernelSpec = { shader: defineShader('average.wgsl', averageSource), entry: 'weight_average', bindings: ['write', 'read', 'uniform'] };
const INCREMENT: KernelSpec = { shader: fillShader, entry: 'increment_counter', bindings: ['write', 'uniform'] };
const ADVANCE: KernelSpec = { shader: fillShader, entry: 'advance_counters', bindings: ['write', 'uniform'] };

/**
 * ln(beta) for the bias correction 1 - beta^t = -expm1(t ln beta). beta = 0 (no averaging)
 * would give -Infinity, which WGSL need not honour; -1e4 gives beta^t = 0 just the same.
 */
function lnBeta(beta: number): number {
  return Math.max(Math.log(beta), -1e4);
}

interface OptimFields {
  n: number;
  stepIndex?: number;
  lr: number;
  momentum?: number;
  l2: number;
  beta1?: number;
  beta2?: number;
  eps?: number;
  clip?: number;
  decayEnd?: number;
  stepAdd?: number;
  weightAt?: number;
  biasAt?: number;
  decayStart?: number;
  decaySpan?: number;
}

/** The rules' parameter block (lib/optimizer.wgsl's Optim), in declaration order. */
function optimParams(f: OptimFields): Uint8Array {
  const beta1 = f.beta1 ?? 0;
  const beta2 = f.beta2 ?? 0;
  return uniforms([
    ['u32', f.n],
    ['u32', f.stepIndex ?? 0],
    ['f32', f.lr],
    ['f32', f.momentum ?? 0],
    ['f32', f.l2],
    ['f32', beta1],
    ['f32', beta2],
    ['f32', 1 - beta1],
    ['f32', 1 - beta2],
    ['f32', lnBeta(beta1)],
    ['f32', lnBeta(beta2)],
    ['f32', f.eps ?? 0],
    ['f32', f.clip ?? 0],
    ['u32', f.decayEnd ?? f.n],
    ['u32', f.stepAdd ?? 0],
    ['u32', f.weightAt ?? 0],
    ['u32', f.biasAt ?? 0],
    ['f32', f.decayStart ?? 0],
    ['f32', f.decaySpan ?? 0],
  ]);
}

function expectParameterSet(op: string, w: Tensor, ...others: Tensor[]): void {
  expectDType(op, w, 'f32');
  for (const t of others) {
    expectDType(op, t, 'f32');
    expectSameShape(op, w, t);
  }
  expectDistinct(op, w, ...others);
}

/** Weight clipping to [-clip, clip] after an update (0 or absent: none). */
function expectClip(op: string, clip: number | undefined): void {
  if (clip !== undefined && !(Number.isFinite(clip) && clip >= 0)) throw new ShapeError(`${op}: clip must be a number >= 0 (0: no clipping), got ${clip}`);
}

type SgdOptions = { lr: number; momentum: number; l2: number; clip?: number; decayEnd?: number };
/**
 * Adam's learning rate under a linear decay: lr through step `start`, then falling linearly to 0
 * at step `end` (and 0 after it), as SN-GAN's and BigGAN's training schedules decay it.
 */
export type LrDecay = { start: number; end: number };
type AdamOptions = { lr: number; beta1: number; beta2: number; eps: number; weightDecay?: number; stepIndex?: number; stepAdd?: number; clip?: number; lrDecay?: LrDecay };

/** Problems with a decay schedule (steps are exact in f32 up to 2^24). */
export function lrDecayProblems(d: LrDecay | undefined): string[] {
  if (d === undefined) return [];
  const step = (v: unknown) => Number.isInteger(v) && (v as number) >= 0 && (v as number) <= 2 ** 24;
  if (!d || typeof d !== 'object' || !step(d.start) || !step(d.end)) return [`lrDecay must be { start, end } with whole step counts in [0, 2^24], got ${JSON.stringify(d)}`];
  return d.end > d.start ? [] : [`lrDecay.end (${d.end}) must come after lrDecay.start (${d.start})`];
}
type RmspropOptions = { lr: number; alpha: number; eps: number; weightDecay?: number; clip?: number };

/** SGD's fields for `n` elements, checked (ShapeErrors naming `op`). */
function sgdFields(op: string, n: number, opts: SgdOptions): OptimFields {
  expectFinite(op, 'lr', opts.lr);
  expectFinite(op, 'momentum', opts.momentum);
  expectFinite(op, 'l2', opts.l2);
  expectClip(op, opts.clip);
  const decayEnd = opts.decayEnd ?? n;
  if (!Number.isInteger(decayEnd) || decayEnd < 0 || decayEnd > n) throw new ShapeError(`${op}: decayEnd must be an integer in [0, ${n}], got ${decayEnd}`);
  return { n, lr: opts.lr, momentum: opts.momentum, l2: opts.l2, clip: opts.clip, decayEnd };
}

/** Adam's fields for `n` elements counting steps in `step`, checked. */
function adamFields(op: string, n: number, step: Tensor, opts: AdamOptions): OptimFields {
  expectClip(op, opts.clip);
  expectDType(op, step, 'u32');
  const stepIndex = opts.stepIndex ?? 0;
  if (!Number.isInteger(stepIndex) || stepIndex < 0 || stepIndex >= step.size) {
    throw new ShapeError(`${op}: stepIndex ${stepIndex} is out of range for ${step}`);
  }
  const stepAdd = opts.stepAdd ?? 0;
  if (!Number.isInteger(stepAdd) || stepAdd < 0 || stepAdd >= 2 ** 31) throw new ShapeError(`${op}: stepAdd must be an integer >= 0, got ${stepAdd}`);
  const weightDecay = opts.weightDecay ?? 0;
  for (const [name, value] of [['lr', opts.lr], ['beta1', opts.beta1], ['beta2', opts.beta2], ['eps', opts.eps], ['weightDecay', weightDecay]] as const) {
    expectFinite(op, name, value);
  }
  for (const [name, value] of [['beta1', opts.beta1], ['beta2', opts.beta2]] as const) {
    if (value < 0 || value >= 1) throw new ShapeError(`${op}: ${name} must be in [0, 1), got ${value}`);
  }
  if (opts.eps < 0) throw new ShapeError(`${op}: eps must be >= 0, got ${opts.eps}`);
  const decay = lrDecayProblems(opts.lrDecay);
  if (decay.length) throw new ShapeError(`${op}: ${decay[0]}`);
  const { start, end } = opts.lrDecay ?? { start: 0, end: 0 };
  return { n, stepIndex, stepAdd, lr: opts.lr, l2: weightDecay, beta1: opts.beta1, beta2: opts.beta2, eps: opts.eps, clip: opts.clip, decayStart: start, decaySpan: end - start };
}

/** RMSProp's fields for `n` elements, checked. */
function rmspropFields(op: string, n: number, opts: RmspropOptions): OptimFields {
  const weightDecay = opts.weightDecay ?? 0;
  for (const [name, value] of [['lr', opts.lr], ['alpha', opts.alpha], ['eps', opts.eps], ['weightDecay', weightDecay]] as const) expectFinite(op, name, value);
  if (opts.alpha < 0 || opts.alpha >= 1) throw new ShapeError(`${op}: alpha must be in [0, 1), got ${opts.alpha}`);
  if (opts.eps < 0) throw new ShapeError(`${op}: eps must be >= 0, got ${opts.eps}`);
  expectClip(op, opts.clip);
  return { n, lr: opts.lr, l2: weightDecay, beta2: opts.alpha, eps: opts.eps, clip: opts.clip };
}

/**
 * DeepLearnToolbox SGD: v = momentum*v + lr*(g + l2*w); w -= v. The L2 penalty applies to
 * elements [0, decayEnd) (default: all), so weights laid out before biases update together.
 */
export function sgdMomentum(ctx: GpuContext, w: Tensor, g: Tensor, v: Tensor, opts: SgdOptions): Dispatch {
  const op = `sgdMomentum(${w}, ${g}, ${v})`;
  expectParameterSet(op, w, g, v);
  return ctx.dispatch(SGD, {
    label: op,
    constants: { WG: ELEMENTWISE_WG, PER_INVOCATION },
    resources: [w.binding(), g.binding(), v.binding(), optimParams(sgdFields(op, w.size, opts))],
    workgroups: grid1d(ctx, Math.ceil(w.size / PER_INVOCATION)),
  });
}

/**
 * Adam with bias correction: m = b1 m + (1-b1) g; v = b2 v + (1-b2) g^2;
 * w -= lr * (m / (1 - b1^t)) / (sqrt(v / (1 - b2^t)) + eps), where t = step[stepIndex] +
 * stepAdd is read on the GPU (0 is taken as 1): either the counter was incremented for this
 * step (stepAdd 0), or it counts the steps before a program whose j-th update this is
 * (stepAdd j) and is advanced once after it. `weightDecay` is coupled L2, as in
 * torch.optim.Adam: g + weightDecay * w enters both moments. `lrDecay` scales lr by
 * clamp((end - t) / (end - start), 0, 1) past step `start`.
 */
export function adam(ctx: GpuContext, w: Tensor, g: Tensor, m: Tensor, v: Tensor, step: Tensor, opts: AdamOptions): Dispatch {
  const op = `adam(${w}, ${g}, ${m}, ${v}, ${step})`;
  expectParameterSet(op, w, g, m, v);
  const fields = adamFields(op, w.size, step, opts);
  return ctx.dispatch(ADAM, {
    label: op,
    constants: { WG: ELEMENTWISE_WG, PER_INVOCATION },
    resources: [w.binding(), g.binding(), m.binding(), optimParams(fields), v.binding(), step.binding()],
    workgroups: grid1d(ctx, Math.ceil(w.size / PER_INVOCATION)),
  });
}

/**
 * RMSProp: s = alpha s + (1 - alpha) g^2; w -= lr g / (sqrt(s) + eps), with coupled L2
 * `weightDecay` (g + weightDecay w) as torch.optim.RMSprop has it.
 */
export function rmsprop(ctx: GpuContext, w: Tensor, g: Tensor, square: Tensor, opts: RmspropOptions): Dispatch {
  const op = `rmsprop(${w}, ${g}, ${square})`;
  expectParameterSet(op, w, g, square);
  return ctx.dispatch(RMSPROP, {
    label: op,
    constants: { WG: ELEMENTWISE_WG, PER_INVOCATION },
    resources: [w.binding(), g.binding(), square.binding(), optimParams(rmspropFields(op, w.size, opts))],
    workgroups: grid1d(ctx, Math.ceil(w.size / PER_INVOCATION)),
  });
}

/**
 * average = decay average + (1 - decay) w over a whole flat parameter buffer: the exponential
 * moving average of the weights that an optimizer keeps beside its update (OptimizerSpec's
 * `average`), one dispatch after each update. decay in [0, 1); 0 copies w.
 */
export function weightAverage(ctx: GpuContext, average: Tensor, w: Tensor, opts: { decay: number }): Dispatch {
  const op = `weightAverage(${average}, ${w}, decay ${opts.decay})`;
  expectParameterSet(op, average, w);
  expectFinite(op, 'decay', opts.decay);
  if (opts.decay < 0 || opts.decay >= 1) throw new ShapeError(`${op}: decay must be in [0, 1), got ${opts.decay}`);
  return ctx.dispatch(AVERAGE, {
    label: op,
    constants: { WG: ELEMENTWISE_WG, PER_INVOCATION },
    resources: [average.binding(), w.binding(), uniforms([['u32', average.size], ['f32', opts.decay], ['f32', 1 - opts.decay]])],
    workgroups: grid1d(ctx, Math.ceil(average.size / PER_INVOCATION)),
  });
}

/**
 * An optimizer's rule for a kernel that applies it to the gradient elements it computes (a
 * weight gradient's epilogue, gemm.ts), instead of a dispatch over the whole network after the
 * backward pass: the same rule of lib/optimizer.wgsl, so the same bits. `params` and `state`
 * are the network's flat buffers (laid out alike); the kernel says where its elements sit.
 */
export interface ElementUpdate {
  readonly kind: 'sgd' | 'adam' | 'rmsprop';
  readonly label: string;
  readonly params: Tensor;
  /** One or two buffers (velocity; Adam's m and v; RMSProp's mean square). */
  readonly state: readonly Tensor[];
  /** Adam's step counter (null for the other kinds). */
  readonly step: Tensor | null;
  /** The rule's parameter block with C's first element at `weightAt` of the layout and the bias's at `biasAt`. */
  uniform(weightAt: number, biasAt: number): Uint8Array;
}

/** lib/epilogue_update.wgsl's OPTIMIZER codes. */
export const ELEMENT_UPDATE_CODES: Record<ElementUpdate['kind'], number> = { sgd: 0, adam: 1, rmsprop: 2 };

function elementUpdate(kind: ElementUpdate['kind'], label: string, w: Tensor, state: Tensor[], step: Tensor | null, fields: OptimFields): ElementUpdate {
  return { kind, label, params: w, state, step, uniform: (weightAt, biasAt) => optimParams({ ...fields, weightAt, biasAt }) };
}

/** sgdMomentum's rule, to apply where gradients are computed; the L2 penalty stops at decayEnd of the layout. */
export function sgdElementUpdate(w: Tensor, v: Tensor, opts: SgdOptions): ElementUpdate {
  const op = `sgdMomentum(${w}, ${v}) in the weight gradients`;
  expectParameterSet(op, w, v);
  return elementUpdate('sgd', op, w, [v], null, sgdFields(op, w.size, opts));
}

/** adam's rule, to apply where gradients are computed. */
export function adamElementUpdate(w: Tensor, m: Tensor, v: Tensor, step: Tensor, opts: AdamOptions): ElementUpdate {
  const op = `adam(${w}, ${m}, ${v}, ${step}) in the weight gradients`;
  expectParameterSet(op, w, m, v);
  return elementUpdate('adam', op, w, [m, v], step, adamFields(op, w.size, step, opts));
}

/** rmsprop's rule, to apply where gradients are computed. */
export function rmspropElementUpdate(w: Tensor, square: Tensor, opts: RmspropOptions): ElementUpdate {
  const op = `rmsprop(${w}, ${square}) in the weight gradients`;
  expectParameterSet(op, w, square);
  return elementUpdate('rmsprop', op, w, [square], null, rmspropFields(op, w.size, opts));
}

/** counter[index] += 1 on the GPU (Adam step counts, the trainer's iteration clock); wraps at 2^32. */
export function incrementCounter(ctx: GpuContext, counter: Tensor, index = 0): Dispatch {
  const op = `incrementCounter(${counter}[${index}])`;
  expectDType(op, counter, 'u32');
  if (!Number.isInteger(index) || index < 0 || index >= counter.size) {
    throw new ShapeError(`${op}: index ${index} is out of range for ${counter} (${counter.size} counters)`);
  }
  return ctx.dispatch(INCREMENT, {
    label: op,
    resources: [counter.binding(), uniforms([['u32', 0], ['u32', 0], ['u32', index]])],
    workgroups: [1, 1, 1],
  });
}

/**
 * counter[index] += by for each entry, in one dispatch of one invocation (at most four, at
 * distinct indices; by 0 leaves one alone): the trainer's clock and its optimizers' step counts,
 * placed in one buffer, tick together at the end of an iteration.
 */
export function advanceCounters(ctx: GpuContext, counters: Tensor, steps: readonly { index: number; by: number }[]): Dispatch {
  const op = `advanceCounters(${counters}: ${steps.map((s) => `[${s.index}] += ${s.by}`).join(', ')})`;
  expectDType(op, counters, 'u32');
  if (steps.length < 1 || steps.length > 4) throw new ShapeError(`${op}: 1 to 4 counters, got ${steps.length}`);
  for (const { index, by } of steps) {
    if (!Number.isInteger(index) || index < 0 || index >= counters.size) throw new ShapeError(`${op}: index ${index} is out of range for ${counters} (${counters.size} counters)`);
    if (!Number.isInteger(by) || by < 0 || by >= 2 ** 32) throw new ShapeError(`${op}: each step must be an integer in [0, 2^32), got ${by}`);
  }
  if (new Set(steps.map((s) => s.index)).size !== steps.length) throw new ShapeError(`${op}: the indices must be distinct`);
  const at = [0, 1, 2, 3].map((i) => steps[i]?.index ?? 0);
  const by = [0, 1, 2, 3].map((i) => steps[i]?.by ?? 0);
  return ctx.dispatch(ADVANCE, {
    label: op,
    resources: [counters.binding(), uniforms([...at.map((v) => ['u32', v] as ['u32', number]), ...by.map((v) => ['u32', v] as ['u32', number])])],
    workgroups: [1, 1, 1],
  });
}
