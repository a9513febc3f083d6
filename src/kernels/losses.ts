// Discriminator losses: gradients (elementwise) and loss values (summed into a metric slot).
// Labels are an f32 tensor of 0/1 (or soft targets, for BCE and MSE) with the prediction's
// element count. The per-row terms live in shaders/lib/loss.wgsl, shared with the metrics.

import lossLib from '../../shaders/lib/loss.wgsl?raw';
import metricSlotsLib from '../../shaders/lib/metric_slots.wgsl?raw';
import source from '../../shaders/losses.wgsl?raw';
import { ShapeError } from '../gpu/errors.ts';
import { uniforms, type Dispatch, type GpuContext, type KernelSpec } from '../gpu/context.ts';
import { defineShader } from '../gpu/shader.ts';
import type { Tensor } from '../tensor/tensor.ts';
import { activationShader } from './activations.ts';
import { ELEMENTWISE_WG, expectDType, expectDistinct, expectFinite, grid1d } from './common.ts';
import { PER_INVOCATION } from './fill.ts';
import { expectSlot } from './reduce.ts';

export const lossShader = defineShader('lib/loss.wgsl', lossLib);
/** The metric slots an update adds to (kernels with a `metrics` binding). */
export const metricSlotsShader = defineShader('lib/metric_slots.wgsl', metricSlotsLib, [lossShader]);
const shader = defineShader('losses.wgsl', source, [activationShader, lossShader]);

const GRAD: KernelSpec = { shader, entry: 'loss_grad', bindings: ['read', 'read', 'write', 'uniform'] };
const SUM: KernelSpec = { shader, entry: 'loss_sum', bindings: ['read', 'read', 'write', 'uniform'] };

/**
 * The per-row losses: `bce` on logits, `mse` through a sigmoid output, `hinge` relu(1 - s x) and
 * `wasserstein` -s x on a raw score x, with s = +1 for label 1 and -1 for label 0.
 */
export type LossKernel = 'bce' | 'mse' | 'hinge' | 'wasserstein';
export const LOSS_CODES: Record<LossKernel, number> = { bce: 0, mse: 1, hinge: 2, wasserstein: 3 };

function expectPair(op: string, pred: Tensor, labels: Tensor): void {
  expectDType(op, pred, 'f32');
  expectDType(op, labels, 'f32');
  if (labels.size !== pred.size) {
    throw new ShapeError(`${op}: ${labels} has ${labels.size} elements, ${pred} has ${pred.size}; labels need one per prediction`);
  }
}

function lossGrad(ctx: GpuContext, op: string, loss: LossKernel, pred: Tensor, labels: Tensor, grad: Tensor, scale: number): Dispatch {
  expectPair(op, pred, labels);
  expectDType(op, grad, 'f32');
  if (grad.size !== pred.size) throw new ShapeError(`${op}: ${grad} has ${grad.size} elements, ${pred} has ${pred.size}`);
  expectFinite(op, 'scale', scale);
  expectDistinct(op, pred, grad);
  expectDistinct(op, labels, grad);
  return ctx.dispatch(GRAD, {
    label: op,
    constants: { LOSS: LOSS_CODES[loss], WG: ELEMENTWISE_WG, PER_INVOCATION },
    resources: [pred.binding(), labels.binding(), grad.binding(), uniforms([['u32', pred.size], ['f32', scale], ['u32', 0]])],
    workgroups: grid1d(ctx, Math.ceil(pred.size / PER_INVOCATION)),
  });
}

/**
 * One workgroup sums the whole vector (lanes stride through it, then combine pairwise): losses
 * are taken over a batch's discriminator outputs, a few thousand elements at most, where a
 * second pass would cost more than it saves.
 */
function lossSum(
  ctx: GpuContext,
  op: string,
  loss: LossKernel,
  pred: Tensor,
  labels: Tensor,
  out: Tensor,
  opts: { slot: number; scale: number; accumulate?: boolean },
): Dispatch {
  expectPair(op, pred, labels);
  expectDType(op, out, 'f32');
  expectSlot(op, out, opts.slot);
  expectFinite(op, 'scale', opts.scale);
  expectDistinct(op, pred, out);
  expectDistinct(op, labels, out);
  return ctx.dispatch(SUM, {
    label: op,
    constants: { LOSS: LOSS_CODES[loss], ACCUMULATE: opts.accumulate ? 1 : 0 },
    resources: [pred.binding(), labels.binding(), out.binding(), uniforms([['u32', pred.size], ['f32', opts.scale], ['u32', opts.slot]])],
    workgroups: [1, 1, 1],
  });
}

/** grad = scale * (sigmoid(x) - y): the gradient of BCE-with-logits; scale is typically 1/m (or -1/m with y = 0 for the minimax G loss). */
export function bceWithLogitsGrad(ctx: GpuContext, logits: Tensor, labels: Tensor, grad: Tensor, opts: { scale: number }): Dispatch {
  return lossGrad(ctx, `bceWithLogitsGrad(${logits}, ${labels} -> ${grad})`, 'bce', logits, labels, grad, opts.scale);
}

/** out[slot] (+)= scale * sum_i BCE(x_i, y_i), BCE = max(x,0) - x*y + log1p(exp(-|x|)): finite for any finite x. */
export function bceWithLogitsLoss(
  ctx: GpuContext,
  logits: Tensor,
  labels: Tensor,
  out: Tensor,
  opts: { slot: number; scale: number; accumulate?: boolean },
): Dispatch {
  return lossSum(ctx, `bceWithLogitsLoss(${logits}, ${labels} -> ${out}[${opts.slot}])`, 'bce', logits, labels, out, opts);
}

/** Mean squared error through a sigmoid output a (DeepLearnToolbox's form): grad = scale * (a - y) * a * (1 - a). */
export function mseSigmoidGrad(ctx: GpuContext, a: Tensor, labels: Tensor, grad: Tensor, opts: { scale: number }): Dispatch {
  return lossGrad(ctx, `mseSigmoidGrad(${a}, ${labels} -> ${grad})`, 'mse', a, labels, grad, opts.scale);
}

/** out[slot] (+)= scale * 1/2 * sum_i (y_i - a_i)^2. */
export function mseLoss(
  ctx: GpuContext,
  a: Tensor,
  labels: Tensor,
  out: Tensor,
  opts: { slot: number; scale: number; accumulate?: boolean },
): Dispatch {
  return lossSum(ctx, `mseLoss(${a}, ${labels} -> ${out}[${opts.slot}])`, 'mse', a, labels, out, opts);
}

/** grad = scale * d loss / d pred for any per-row loss (lib/loss.wgsl). */
export function lossGradient(ctx: GpuContext, loss: LossKernel, pred: Tensor, labels: Tensor, grad: Tensor, opts: { scale: number }): Dispatch {
  return lossGrad(ctx, `lossGradient ${loss}(${pred}, ${labels} -> ${grad})`, loss, pred, labels, grad, opts.scale);
}

/** out[slot] (+)= scale * sum_i loss(pred_i, y_i) for any per-row loss. */
export function lossValueSum(
  ctx: GpuContext,
  loss: LossKernel,
  pred: Tensor,
  labels: Tensor,
  out: Tensor,
  opts: { slot: number; scale: number; accumulate?: boolean },
): Dispatch {
  return lossSum(ctx, `lossValueSum ${loss}(${pred}, ${labels} -> ${out}[${opts.slot}])`, loss, pred, labels, out, opts);
}
