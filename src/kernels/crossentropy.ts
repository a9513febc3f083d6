// Softmax cross-entropy from logits, for classifiers: the gradient with respect to the logits
// (what an Mlp's backward starts from) and the loss summed into a metric slot. Labels are class
// indices, u32 [rows].

import source from '../../shaders/crossentropy.wgsl?raw';
import { uniforms, type Dispatch, type GpuContext, type KernelSpec } from '../gpu/context.ts';
import { ShapeError } from '../gpu/errors.ts';
import { defineShader } from '../gpu/shader.ts';
import type { Tensor } from '../tensor/tensor.ts';
import { expect2d, expectDistinct, expectDType, expectFinite, expectSameShape, grid1d } from './common.ts';
import { expectSlot } from './reduce.ts';

const shader = defineShader('crossentropy.wgsl', source);

const BINDINGS = ['read', 'read', 'write', 'uniform'] as const;
const GRAD: KernelSpec = { shader, entry: 'softmax_xent_grad', bindings: BINDINGS };
const LOSS: KernelSpec = { shader, entry: 'softmax_xent_loss', bindings: BINDINGS };

/** Rows per workgroup of the gradient (one invocation per row). */
const WG = 64;

function expectLogitsAndLabels(op: string, logits: Tensor, labels: Tensor): void {
  expectDType(op, logits, 'f32');
  expect2d(op, logits);
  expectDType(op, labels, 'u32');
  if (labels.size !== logits.rows || labels.rank > 2 || (labels.rank === 2 && labels.cols !== 1)) {
    throw new ShapeError(`${op}: ${labels} must have shape [${logits.rows}] (one class index per row of ${logits})`);
  }
}

/**
 * grad = scale * (softmax(logits) - onehot(labels)), row by row: the gradient of the summed
 * cross-entropy (scale 1/rows for the mean). A label >= classes contributes no one-hot term.
 */
export function softmaxCrossEntropyGrad(ctx: GpuContext, logits: Tensor, labels: Tensor, grad: Tensor, opts: { scale: number }): Dispatch {
  const op = `softmaxCrossEntropyGrad(${logits}, ${labels} -> ${grad})`;
  expectLogitsAndLabels(op, logits, labels);
  expectDType(op, grad, 'f32');
  expectSameShape(op, logits, grad);
  expectFinite(op, 'scale', opts.scale);
  expectDistinct(op, logits, grad);
  expectDistinct(op, labels, grad);
  return ctx.dispatch(GRAD, {
    label: op,
    constants: { WG },
    resources: [logits.binding(), labels.binding(), grad.binding(), uniforms([['u32', logits.rows], ['u32', logits.cols], ['f32', opts.scale], ['u32', 0]])],
    workgroups: grid1d(ctx, logits.rows, WG),
  });
}

/**
 * out[slot] (+)= scale * sum_i (logsumexp(logits_i) - logits_i[labels_i]), in a fixed order.
 * One workgroup walks every row: meant for minibatches and evaluation sets of thousands of rows.
 */
export function softmaxCrossEntropyLoss(
  ctx: GpuContext,
  logits: Tensor,
  labels: Tensor,
  out: Tensor,
  opts: { slot: number; scale: number; accumulate?: boolean },
): Dispatch {
  const op = `softmaxCrossEntropyLoss(${logits}, ${labels} -> ${out}[${opts.slot}])`;
  expectLogitsAndLabels(op, logits, labels);
  expectDType(op, out, 'f32');
  expectSlot(op, out, opts.slot);
  expectFinite(op, 'scale', opts.scale);
  expectDistinct(op, logits, out);
  expectDistinct(op, labels, out);
  return ctx.dispatch(LOSS, {
    label: op,
    constants: { ACCUMULATE: opts.accumulate ? 1 : 0 },
    resources: [logits.binding(), labels.binding(), out.binding(), uniforms([['u32', logits.rows], ['u32', logits.cols], ['f32', opts.scale], ['u32', opts.slot]])],
    workgroups: [1, 1, 1],
  });
}
