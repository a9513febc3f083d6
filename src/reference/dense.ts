// Float64 twin of the dense layer (nn/layers/dense.ts): y = act(x W + b), W row-major [in, out].

import { elements } from '../nn/layer.ts';
import { activate } from './activations.ts';
import type { RefLayerTwin } from './network.ts';

export const refDense: RefLayerTwin = {
  forward({ layer, params, rows, leak }, x, act) {
    const [fanIn, units] = [elements(layer.input), elements(layer.plan.output)];
    const { weight: w, bias: b } = params;
    const y = new Float64Array(rows * units);
    for (let i = 0; i < rows; i++) {
      for (let j = 0; j < units; j++) {
        let s = b ? b[j] : 0;
        for (let k = 0; k < fanIn; k++) s += x[i * fanIn + k] * w[k * units + j];
        y[i * units + j] = activate(s, act, leak);
      }
    }
    return y;
  },

  backward({ layer, params, rows }, x, delta) {
    const [fanIn, units] = [elements(layer.input), elements(layer.plan.output)];
    const w = params.weight;
    const dw = new Float64Array(fanIn * units);
    const db = new Float64Array(units);
    const dx = new Float64Array(rows * fanIn);
    for (let i = 0; i < rows; i++) {
      for (let j = 0; j < units; j++) {
        const d = delta[i * units + j];
        db[j] += d;
        for (let k = 0; k < fanIn; k++) {
          dw[k * units + j] += x[i * fanIn + k] * d;
          dx[i * fanIn + k] += d * w[k * units + j];
        }
      }
    }
    const grads: Record<string, Float64Array> = { weight: dw };
    if (params.bias) grads.bias = db;
    return { grads, input: dx };
  },
};
