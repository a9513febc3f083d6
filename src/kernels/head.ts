// D's one-unit output layer fused with the loss step and its backward pass (shaders/head.wgsl):
// the output, the metrics, the loss gradient, the layer below's delta and, in a D update, the
// head's weight and bias gradients, stored or handed to the optimizer's rule. One dispatch of
// one workgroup where the separate path records four or five.

import source from '../../shaders/head.wgsl?raw';
import { uniforms, type Dispatch, type GpuContext, type KernelSpec } from '../gpu/context.ts';
import { ShapeError } from '../gpu/errors.ts';
import { defineShader } from '../gpu/shader.ts';
import type { Tensor } from '../tensor/tensor.ts';
import { activationShader } from './activations.ts';
import { activationCode, DEFAULT_LEAK, elementOffset, expectDType, expectFinite, spareOutput, type Activation } from './common.ts';
import { LOSS_CODES, lossShader, metricSlotsShader, type LossKernel } from './losses.ts';
import { METRIC_SLOTS } from './metrics.ts';
import { ELEMENT_UPDATE_CODES, updateElement, type ElementUpdate } from './optim.ts';

const shader = defineShader('head.wgsl', source, [activationShader, lossShader, metricSlotsShader, updateElement]);
const HEAD: KernelSpec = { shader, entry: 'one_unit_head', bindings: ['read', 'read', 'write', 'write', 'write', 'uniform', 'write', 'write', 'read', 'uniform'] };

/** The rule's parameter block where no rule runs (its size is the struct's, lib/optimizer.wgsl). */
const NO_RULE = new Uint8Array(80);

/** Rows the kernel takes (its workgroup memory holds one value per row). */
export const HEAD_MAX_ROWS = 1024;

export interface HeadOptions {
  /** A D update (the head's parameter gradients) or a G update (D frozen). */
  update: 'D' | 'G';
  loss: LossKernel;
  /** The loss gradient's scale (1/m; negative for the minimax G loss). */
  scale: number;
  /** Targets are labels * realTarget (default 1). */
  realTarget?: number;
  /** Rows the metrics score, the first ones (default all). */
  scoredRows?: number;
  /** The head's activation as this pass applies it ('identity' for a loss on logits). */
  activation: Activation;
  /** The activation of the layer below, whose output is h: its derivative is fused into dh. */
  below: Activation;
  /** Leaky-ReLU slope of both. */
  leak?: number;
  /** D update: store the gradients here (the flat gradients, laid out like the parameters)... */
  grads?: Tensor;
  /** ...or apply this optimizer's rule to the parameters (whose flat buffer is its `params`). */
  rule?: ElementUpdate;
  label?: string;
}

/**
 * The head on rows h [R, H]: weights `weight` [H, 1] and `bias` [1] (or none), views of the
 * flat parameters `params`; labels [R] (1 real, 0 fake); metrics (METRIC_SLOTS); dh [R, H]
 * receives the layer below's delta. R <= HEAD_MAX_ROWS.
 */
export function oneUnitHead(ctx: GpuContext, h: Tensor, params: Tensor, weight: Tensor, bias: Tensor | undefined, labels: Tensor, metrics: Tensor, dh: Tensor, opts: HeadOptions): Dispatch {
  const op = opts.label ?? `oneUnitHead(${opts.update}, ${opts.loss}, ${h})`;
  for (const t of [h, params, weight, labels, metrics, dh, ...(bias ? [bias] : [])]) expectDType(op, t, 'f32');
  if (h.rank !== 2) throw new ShapeError(`${op}: h ${h} must be 2-D [rows, features]`);
  const [R, H] = h.shape;
  if (R > HEAD_MAX_ROWS) throw new ShapeError(`${op}: ${R} rows, above the ${HEAD_MAX_ROWS} the kernel holds`);
  if (weight.size !== H) throw new ShapeError(`${op}: the weights ${weight} must have ${H} elements, one per feature of h`);
  if (bias && bias.size !== 1) throw new ShapeError(`${op}: the bias ${bias} must have one element`);
  if (labels.size < R) throw new ShapeError(`${op}: labels ${labels} must hold the ${R} rows`);
  if (dh.rank !== 2 || dh.shape[0] !== R || dh.shape[1] !== H) throw new ShapeError(`${op}: dh ${dh} must have h's shape [${R}, ${H}]`);
  if (metrics.size < METRIC_SLOTS) throw new ShapeError(`${op}: ${metrics} needs ${METRIC_SLOTS} slots`);
  const scored = opts.scoredRows ?? R;
  if (!Number.isInteger(scored) || scored < 1 || scored > R) throw new ShapeError(`${op}: scoredRows must be in [1, ${R}], got ${scored}`);
  const realTarget = opts.realTarget ?? 1;
  const leak = opts.leak ?? DEFAULT_LEAK;
  expectFinite(op, 'scale', opts.scale);
  expectFinite(op, 'realTarget', realTarget);
  expectFinite(op, 'leak', leak);
  const weightAt = elementOffset(op, weight, params, 'weights');
  const biasAt = bias ? elementOffset(op, bias, params, 'bias') : 0;
  const { grads, rule } = opts;
  if (opts.update === 'G' && (grads || rule)) throw new ShapeError(`${op}: a G update computes no parameter gradients; leave grads and rule unset`);
  if (opts.update === 'D' && !grads === !rule) throw new ShapeError(`${op}: a D update either stores its gradients (grads) or applies an optimizer's rule (rule), one of them`);
  if (grads && grads.size !== params.size) throw new ShapeError(`${op}: the gradients ${grads} must be laid out like the parameters ${params}`);
  if (rule && rule.params !== params) throw new ShapeError(`${op}: the rule updates ${rule.params}, not ${params}`);
  // The parameters are written where the rule applies, else only read.
  const written = [metrics, dh, ...(grads ? [grads] : []), ...(rule ? [params, ...rule.state] : [])];
  const read = rule ? [h, labels] : [h, params, labels];
  for (const t of written) {
    for (const other of [...read, ...written.filter((x) => x !== t)]) {
      if (t.overlaps(other)) throw new ShapeError(`${op}: ${t} overlaps ${other}`);
    }
  }
  const state1 = grads ?? rule?.state[0] ?? spareOutput(ctx);
  const state2 = rule?.state[1] ?? spareOutput(ctx, 1);
  const headParams = uniforms([
    ['u32', R],
    ['u32', H],
    ['u32', scored],
    ['f32', opts.scale],
    ['f32', realTarget],
    ['u32', activationCode(opts.activation)],
    ['f32', leak],
    ['u32', activationCode(opts.below)],
    ['f32', leak],
    ['u32', weightAt],
    ['u32', biasAt],
  ]);
  return ctx.dispatch(HEAD, {
    label: op,
    constants: {
      MODE: opts.update === 'D' ? 0 : 1,
      APPLY: Number(rule !== undefined),
      OPTIMIZER: rule ? ELEMENT_UPDATE_CODES[rule.kind] : 0,
      HAS_BIAS: Number(bias !== undefined),
      LOSS: LOSS_CODES[opts.loss],
    },
    resources: [h.binding(), labels.binding(), metrics.binding(), params.binding(), state1.binding(), headParams, dh.binding(), state2.binding(), (rule?.step ?? labels).binding(), rule ? rule.uniform(0, 0) : NO_RULE],
    workgroups: [1, 1, 1],
  });
}
