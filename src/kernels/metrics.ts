// GAN metrics summed on the GPU (see shaders/metrics.wgsl for the slots).

import source from '../../shaders/metrics.wgsl?raw';
import { uniforms, type Dispatch, type GpuContext, type KernelSpec } from '../gpu/context.ts';
import { ShapeError } from '../gpu/errors.ts';
import { defineShader } from '../gpu/shader.ts';
import type { Tensor } from '../tensor/tensor.ts';
import { activationShader } from './activations.ts';
import { expectDistinct, expectDType, expectFinite } from './common.ts';
import { LOSS_CODES, lossShader, metricSlotsShader, type LossKernel } from './losses.ts';

const shader = defineShader('metrics.wgsl', source, [activationShader, lossShader, metricSlotsShader]);
const ACCUMULATE: KernelSpec = { shader, entry: 'accumulate', bindings: ['read', 'read', 'write', 'uniform'] };
const LOSS_STEP: KernelSpec = { shader, entry: 'loss_step', bindings: ['read', 'read', 'write', 'uniform', 'write'] };

export const METRIC_SLOTS = 8;
export const METRIC = { dLoss: 0, dRealSum: 1, dRealRows: 2, dFakeSum: 3, dFakeRows: 4, dUpdates: 5, gLoss: 6, gUpdates: 7 } as const;

/**
 * Adds one update's figures to the metric sums: for a D update the loss and D's mean output
 * on real and on fake rows (told apart by the labels: a probability for BCE's logits, else the
 * output as it is); for a G update its loss. `scale` multiplies the loss sum (1/m; negative for
 * the minimax G loss with labels 0).
 */
export function accumulateMetrics(
  ctx: GpuContext,
  pred: Tensor,
  labels: Tensor,
  metrics: Tensor,
  opts: { loss: LossKernel; update: 'D' | 'G'; scale: number },
): Dispatch {
  const op = `accumulateMetrics(${opts.update}, ${pred})`;
  expectDType(op, pred, 'f32');
  expectDType(op, labels, 'f32');
  expectDType(op, metrics, 'f32');
  if (labels.size !== pred.size) throw new ShapeError(`${op}: labels ${labels} must have ${pred.size} elements`);
  if (metrics.size < METRIC_SLOTS) throw new ShapeError(`${op}: ${metrics} needs ${METRIC_SLOTS} slots`);
  expectFinite(op, 'scale', opts.scale);
  expectDistinct(op, pred, metrics);
  expectDistinct(op, labels, metrics);
  return ctx.dispatch(ACCUMULATE, {
    label: op,
    constants: { LOSS: LOSS_CODES[opts.loss], MODE: opts.update === 'D' ? 0 : 1 },
    resources: [pred.binding(), labels.binding(), metrics.binding(), uniforms([['u32', pred.size], ['f32', opts.scale], ['u32', 0]])],
    workgroups: [1, 1, 1],
  });
}

/**
 * One update's loss step in one dispatch: grad = scale * d loss / d pred against the targets
 * labels * realTarget (default 1: the labels; below 1 for smoothed real targets) for every row
 * of `pred`, and the metrics of the first `scoredRows` rows told apart by `labels` (the sums
 * accumulateMetrics adds, bit for bit). The gradient is what the loss kernels' lossGradient
 * writes against those targets.
 */
export function lossStep(
  ctx: GpuContext,
  pred: Tensor,
  labels: Tensor,
  grad: Tensor,
  metrics: Tensor,
  opts: { loss: LossKernel; update: 'D' | 'G'; scale: number; scoredRows?: number; realTarget?: number },
): Dispatch {
  const op = `lossStep(${opts.loss}, ${opts.update}, ${pred})`;
  const scoredRows = opts.scoredRows ?? pred.size;
  const realTarget = opts.realTarget ?? 1;
  for (const t of [pred, labels, grad, metrics]) expectDType(op, t, 'f32');
  if (labels.size !== pred.size || grad.size !== pred.size) throw new ShapeError(`${op}: labels ${labels} and grad ${grad} need ${pred.size} elements, one per prediction`);
  expectFinite(op, 'realTarget', realTarget);
  if (!Number.isInteger(scoredRows) || scoredRows < 1 || scoredRows > pred.size) throw new ShapeError(`${op}: scoredRows must be in [1, ${pred.size}], got ${scoredRows}`);
  if (labels.size < scoredRows) throw new ShapeError(`${op}: labels ${labels} must hold the ${scoredRows} scored rows`);
  if (metrics.size < METRIC_SLOTS) throw new ShapeError(`${op}: ${metrics} needs ${METRIC_SLOTS} slots`);
  expectFinite(op, 'scale', opts.scale);
  expectDistinct(op, pred, grad, metrics);
  expectDistinct(op, labels, grad, metrics);
  return ctx.dispatch(LOSS_STEP, {
    label: op,
    constants: { LOSS: LOSS_CODES[opts.loss], MODE: opts.update === 'D' ? 0 : 1 },
    resources: [pred.binding(), labels.binding(), metrics.binding(), uniforms([['u32', scoredRows], ['f32', opts.scale], ['u32', pred.size], ['f32', realTarget]]), grad.binding()],
    workgroups: [1, 1, 1],
  });
}

export interface Metrics {
  dLoss: number;
  gLoss: number;
  /** Mean D output on real rows, and on generated rows. */
  dReal: number;
  dFake: number;
}

/** Means from the summed slots (NaN where nothing was summed). */
export function metricsFromSums(s: ArrayLike<number>): Metrics {
  return {
    dLoss: s[METRIC.dLoss] / s[METRIC.dUpdates],
    gLoss: s[METRIC.gLoss] / s[METRIC.gUpdates],
    dReal: s[METRIC.dRealSum] / s[METRIC.dRealRows],
    dFake: s[METRIC.dFakeSum] / s[METRIC.dFakeRows],
  };
}
