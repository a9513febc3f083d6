// Float64 reference activations, written for clarity.

import type { Activation } from '../kernels/common.ts';

export function activate(x: number, act: Activation, leak: number): number {
  switch (act) {
    case 'identity': return x;
    case 'sigmoid': return 1 / (1 + Math.exp(-x));
    case 'relu': return Math.max(x, 0);
    case 'leaky_relu': return x > 0 ? x : leak * x;
    case 'tanh': return Math.tanh(x);
  }
}

/** d act / d x, from the output y = act(x). */
export function activateGradFromOutput(y: number, act: Activation, leak: number): number {
  switch (act) {
    case 'identity': return 1;
    case 'sigmoid': return y * (1 - y);
    case 'relu': return y > 0 ? 1 : 0;
    case 'leaky_relu': return y > 0 ? 1 : leak;
    case 'tanh': return 1 - y * y;
  }
}

export function activationForward(x: ArrayLike<number>, act: Activation, leak: number): Float64Array {
  return Float64Array.from(x, (v) => activate(v, act, leak));
}

export function activationBackward(y: ArrayLike<number>, grad: ArrayLike<number>, act: Activation, leak: number): Float64Array {
  return Float64Array.from(y, (v, i) => grad[i] * activateGradFromOutput(v, act, leak));
}
