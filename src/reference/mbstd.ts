// Float64 reference minibatch standard deviation (shaders/mbstd.wgsl), written for clarity: x is
// [rows, P * C] row-major (NHWC), rows in groups of `group` consecutive rows; y is
// [rows, P * (C + 1)], each position's channels then the group's mean standard deviation.

import type { Activation } from '../kernels/common.ts';
import { asImage, type MinibatchStddevSpec } from '../nn/layer.ts';
import { activate } from './activations.ts';
import type { RefLayerTwin } from './network.ts';

export interface MbstdLayout {
  rows: number;
  channels: number;
  group: number;
  eps: number;
}

/** Per group and feature: the mean over the group's rows and the standard deviation sqrt(var + eps). */
export function mbstdFeatureStats(x: ArrayLike<number>, l: MbstdLayout): { mean: Float64Array; sd: Float64Array } {
  const F = x.length / l.rows;
  const groups = l.rows / l.group;
  const mean = new Float64Array(groups * F);
  const sd = new Float64Array(groups * F);
  for (let g = 0; g < groups; g++) {
    for (let f = 0; f < F; f++) {
      let sum = 0;
      for (let i = 0; i < l.group; i++) sum += x[(g * l.group + i) * F + f];
      const m = sum / l.group;
      let m2 = 0;
      for (let i = 0; i < l.group; i++) m2 += (x[(g * l.group + i) * F + f] - m) ** 2;
      mean[g * F + f] = m;
      sd[g * F + f] = Math.sqrt(m2 / l.group + l.eps);
    }
  }
  return { mean, sd };
}

/** Each group's mean over its features of their standard deviation. */
export function mbstdGroupValues(x: ArrayLike<number>, l: MbstdLayout): Float64Array {
  const F = x.length / l.rows;
  const { sd } = mbstdFeatureStats(x, l);
  return Float64Array.from({ length: l.rows / l.group }, (_, g) => sd.subarray(g * F, (g + 1) * F).reduce((a, b) => a + b, 0) / F);
}

export function mbstdForward(x: ArrayLike<number>, l: MbstdLayout, activation: Activation = 'identity', leak = 0.2): Float64Array {
  const F = x.length / l.rows;
  const C = l.channels;
  const P = F / C;
  const s = mbstdGroupValues(x, l);
  const y = new Float64Array(l.rows * P * (C + 1));
  for (let r = 0; r < l.rows; r++) {
    for (let p = 0; p < P; p++) {
      for (let c = 0; c < C; c++) y[(r * P + p) * (C + 1) + c] = activate(x[r * F + p * C + c], activation, leak);
      y[(r * P + p) * (C + 1) + C] = activate(s[Math.floor(r / l.group)], activation, leak);
    }
  }
  return y;
}

/** dx from dy (the gradient of y before its activation, [rows, P (C + 1)]). */
export function mbstdBackward(x: ArrayLike<number>, dy: ArrayLike<number>, l: MbstdLayout): Float64Array {
  const F = x.length / l.rows;
  const C = l.channels;
  const P = F / C;
  const { mean, sd } = mbstdFeatureStats(x, l);
  const dx = new Float64Array(x.length);
  for (let g = 0; g < l.rows / l.group; g++) {
    let S = 0;
    for (let i = 0; i < l.group; i++) for (let p = 0; p < P; p++) S += dy[((g * l.group + i) * P + p) * (C + 1) + C];
    for (let i = 0; i < l.group; i++) {
      const r = g * l.group + i;
      for (let p = 0; p < P; p++) {
        for (let c = 0; c < C; c++) {
          const f = p * C + c;
          const k = g * F + f;
          dx[r * F + f] = dy[(r * P + p) * (C + 1) + c] + ((S / F) * (x[r * F + f] - mean[k])) / (l.group * sd[k]);
        }
      }
    }
  }
  return dx;
}

/** The layer's twin: the group as the layer takes it (at most the rows of a block). */
export const refMbstdLayer: RefLayerTwin = {
  forward({ layer, rows, blocks, leak }, x, activation) {
    return mbstdForward(x, layoutOf(layer.spec as MinibatchStddevSpec, layer.input, rows, blocks), activation, leak);
  },
  backward({ layer, rows, blocks }, x, delta) {
    return { grads: {}, input: mbstdBackward(x, delta, layoutOf(layer.spec as MinibatchStddevSpec, layer.input, rows, blocks)) };
  },
};

function layoutOf(spec: MinibatchStddevSpec, input: readonly number[], rows: number, blocks: number): MbstdLayout {
  return { rows, channels: asImage(input)[2], group: mbstdGroupFor(spec.group ?? 4, rows, blocks), eps: spec.eps ?? 1e-8 };
}

/** The group a layer takes on `rows` rows in `blocks` blocks: its own, or a whole block where that is smaller. */
export function mbstdGroupFor(group: number, rows: number, blocks: number): number {
  return Math.min(group, rows / blocks);
}
