// Float64 twin of shaders/head.wgsl: D's one-unit output layer, the loss step and the head's
// backward pass, composed from the references of its parts.

import type { Activation } from '../kernels/common.ts';
import type { LossKernel } from '../kernels/losses.ts';
import { activate, activateGradFromOutput } from './activations.ts';
import { lossGradient } from './losses.ts';
import { accumulateMetrics } from './metrics.ts';

export interface RefHeadArgs {
  h: ArrayLike<number>;
  rows: number;
  hidden: number;
  w: ArrayLike<number>;
  bias?: number;
  labels: ArrayLike<number>;
  update: 'D' | 'G';
  loss: LossKernel;
  scale: number;
  realTarget: number;
  scored: number;
  activation: Activation;
  below: Activation;
  leak: number;
  metrics: ArrayLike<number>;
}

export function refOneUnitHead(a: RefHeadArgs) {
  const { rows: R, hidden: H, h, w } = a;
  const y = new Float64Array(R);
  for (let r = 0; r < R; r++) {
    let s = a.bias ?? 0;
    for (let j = 0; j < H; j++) s += h[r * H + j] * w[j];
    y[r] = activate(s, a.activation, a.leak);
  }
  const metrics = accumulateMetrics(a.metrics, y.subarray(0, a.scored), Array.from({ length: a.scored }, (_, r) => a.labels[r]), { loss: a.loss, update: a.update, scale: a.scale });
  const delta = Float64Array.from(y, (p, r) => a.scale * lossGradient(a.loss, p, a.labels[r] * a.realTarget));
  const dh = new Float64Array(R * H);
  const dW = new Float64Array(H);
  let db = 0;
  for (let r = 0; r < R; r++) {
    db += delta[r];
    for (let j = 0; j < H; j++) {
      dh[r * H + j] = delta[r] * w[j] * activateGradFromOutput(h[r * H + j], a.below, a.leak);
      dW[j] += h[r * H + j] * delta[r];
    }
  }
  return { y, delta, dh, dW, db, metrics };
}
