// The dense layer: y = act(x W + b) with W stored [in, out], one fused matmul. Backward from
// delta (the gradient with respect to x W + b): dx = delta Wᵀ times the producer's act'(x), one
// dispatch, then dW = xᵀ delta with db = column sums of delta in another, which may also apply
// the optimizer's update to W and b (so dx is recorded first: it reads the old W).
// A dense layer reads any sample shape as flat features (an NHWC image's pixels in order).

import { matmul } from '../../kernels/matmul.ts';
import { recordWeightInit } from '../init.ts';
import { elements, type DenseSpec, type Layer, type LayerKind, type Step } from '../layer.ts';
import { checkActivation, positiveInteger } from './validate.ts';

export const dense: LayerKind<DenseSpec> = {
  plan(spec, input, where) {
    positiveInteger(where, 'units', spec.units);
    const activation = checkActivation(where, spec.activation);
    const hasBias = spec.bias ?? true;
    const fanIn = elements(input);
    return {
      output: [spec.units],
      params: [{ name: 'weight', shape: [fanIn, spec.units], decay: true }, ...(hasBias ? [{ name: 'bias', shape: [spec.units], decay: false }] : [])],
      buffers: [],
      activation,
    };
  },

  build({ ctx, pool, spec, plan, input, params, grads, read, init, leak, label }): Layer {
    const [w, b] = [read.weight, read.bias];
    const fans = { fanIn: elements(input), fanOut: spec.units, activation: plan.activation, leak };
    return {
      updatesInBackward: true,
      recordInit: (seed, stream) => recordWeightInit(ctx, init, fans, params.weight, params.bias, seed, stream),
      workspace: (rows, name) => ({
        rows,
        output: pool.acquire([rows, spec.units], 'f32', `${name}.y`),
        delta: pool.acquire([rows, spec.units], 'f32', `${name}.delta`),
      }),
      forward: (ws, x, opts) => [
        matmul(ctx, x, w, ws.output, { bias: b, activation: opts.activation ?? plan.activation, leak, label: `${label}.forward` }),
      ],
      backward(ws, x, opts) {
        const steps: Step[] = [];
        if (opts.inputGrad) {
          const { tensor, gradOf, columns } = opts.inputGrad;
          // Input column c meets row c of W, so the first rows of W give those columns' gradient.
          const wIn = columns === undefined ? w : w.rowsView(0, columns);
          steps.push(matmul(ctx, ws.delta, wIn, tensor, { transB: true, gradOf, label: `${label}.dInput` }));
        }
        if (opts.paramGrads) {
          const update = opts.update && { rule: opts.update, weight: params.weight, bias: params.bias };
          steps.push(matmul(ctx, x, ws.delta, grads.weight, { transA: true, biasGrad: grads.bias, accumulate: opts.accumulate, update, label: update ? `${label}.dW+update` : `${label}.dW` }));
        }
        return steps;
      },
    };
  },
};
