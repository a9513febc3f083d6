// Float64 twin of nn/mlp.ts: forward and backward of a multilayer perceptron over plain
// arrays, written for clarity. Matrices are row-major; W_l is [in, out].

import type { Activation } from '../kernels/common.ts';
import { activate, activateGradFromOutput } from './activations.ts';

export interface RefLayer {
  /** [fanIn * units], row-major [fanIn, units]. */
  w: Float64Array;
  b: Float64Array;
  fanIn: number;
  units: number;
  activation: Activation;
}

export interface RefMlp {
  layers: RefLayer[];
  leak: number;
}

/** Outputs of every layer for `rows` inputs x [rows, fanIn of layer 1]. */
export function refForward(net: RefMlp, x: Float64Array, rows: number, logits = false): Float64Array[] {
  const outputs: Float64Array[] = [];
  let input = x;
  net.layers.forEach((layer, l) => {
    const act = l === net.layers.length - 1 && logits ? 'identity' : layer.activation;
    const y = new Float64Array(rows * layer.units);
    for (let i = 0; i < rows; i++) {
      for (let j = 0; j < layer.units; j++) {
        let s = layer.b[j];
        for (let k = 0; k < layer.fanIn; k++) s += input[i * layer.fanIn + k] * layer.w[k * layer.units + j];
        y[i * layer.units + j] = activate(s, act, net.leak);
      }
    }
    outputs.push(y);
    input = y;
  });
  return outputs;
}

export interface RefGradients {
  w: Float64Array[];
  b: Float64Array[];
  /** Gradient with respect to the input (before any producer's activation). */
  input: Float64Array;
}

/** Backward from delta (gradient w.r.t. the last pre-activation), given refForward's outputs. */
export function refBackward(net: RefMlp, x: Float64Array, rows: number, outputs: Float64Array[], lastDelta: Float64Array): RefGradients {
  const w: Float64Array[] = [];
  const b: Float64Array[] = [];
  let delta = lastDelta;
  let inputGrad = new Float64Array(0);
  for (let l = net.layers.length - 1; l >= 0; l--) {
    const layer = net.layers[l];
    const below = l === 0 ? x : outputs[l - 1];
    const dw = new Float64Array(layer.fanIn * layer.units);
    const db = new Float64Array(layer.units);
    for (let i = 0; i < rows; i++) {
      for (let j = 0; j < layer.units; j++) {
        const d = delta[i * layer.units + j];
        db[j] += d;
        for (let k = 0; k < layer.fanIn; k++) dw[k * layer.units + j] += below[i * layer.fanIn + k] * d;
      }
    }
    w[l] = dw;
    b[l] = db;
    const dBelow = new Float64Array(rows * layer.fanIn);
    for (let i = 0; i < rows; i++) {
      for (let k = 0; k < layer.fanIn; k++) {
        let s = 0;
        for (let j = 0; j < layer.units; j++) s += delta[i * layer.units + j] * layer.w[k * layer.units + j];
        dBelow[i * layer.fanIn + k] = s;
      }
    }
    if (l > 0) {
      const act = net.layers[l - 1].activation;
      delta = dBelow.map((g, i) => g * activateGradFromOutput(outputs[l - 1][i], act, net.leak));
    } else {
      inputGrad = dBelow;
    }
  }
  return { w, b, input: inputGrad };
}

/** Mean binary cross-entropy from logits over `rows` (one logit per row). */
export function refBceMean(logits: Float64Array, labels: ArrayLike<number>): number {
  let s = 0;
  for (let i = 0; i < logits.length; i++) {
    const x = logits[i];
    s += Math.max(x, 0) - x * labels[i] + Math.log1p(Math.exp(-Math.abs(x)));
  }
  return s / logits.length;
}

/** d(mean BCE)/d logits. */
export function refBceGrad(logits: Float64Array, labels: ArrayLike<number>): Float64Array {
  return logits.map((x, i) => (1 / (1 + Math.exp(-x)) - labels[i]) / logits.length);
}
