// Layers that move no data: `reshape` (a view: the next layer reads the same rows with another
// sample shape) and a standalone `activation`, which the network fuses into the layer before it
// whenever that layer has none (every kernel here takes an activation in its epilogue); only
// after a layer that already has one does it run as its own elementwise pass.

import { ShapeError } from '../../gpu/errors.ts';
import { activationBackward, activationForward } from '../../kernels/activations.ts';
import { elements, formatSample, type ActivationSpec, type LayerKind, type ReshapeSpec, type Step } from '../layer.ts';
import { checkActivation, positiveInteger } from './validate.ts';

export const reshape: LayerKind<ReshapeSpec> = {
  plan(spec, input, where) {
    if (!Array.isArray(spec.shape) || spec.shape.length < 1 || spec.shape.length > 3) {
      throw new ShapeError(`${where}: shape must be [features] or [height, width, channels], got ${JSON.stringify(spec.shape)}`);
    }
    spec.shape.forEach((d, i) => positiveInteger(where, `shape[${i}]`, d));
    if (elements(spec.shape) !== elements(input)) {
      throw new ShapeError(`${where}: cannot reshape ${formatSample(input)} (${elements(input)} values) to ${formatSample(spec.shape)} (${elements(spec.shape)} values)`);
    }
    return { output: [...spec.shape], params: [], buffers: [], activation: 'identity', view: true };
  },
  build() {
    throw new ShapeError('reshape layers are views; the network builds nothing for them');
  },
};

export const activation: LayerKind<ActivationSpec> = {
  plan(spec, input, where) {
    return { output: input, params: [], buffers: [], activation: checkActivation(where, spec.activation) };
  },
  build({ ctx, pool, input, plan, leak, label }) {
    const cols = elements(input);
    return {
      recordInit: () => [],
      workspace: (rows, name) => ({ rows, output: pool.acquire([rows, cols], 'f32', `${name}.y`), delta: pool.acquire([rows, cols], 'f32', `${name}.delta`) }),
      forward: (ws, x, opts) => [activationForward(ctx, x, ws.output, opts.activation ?? plan.activation, leak)],
      backward(ws, _x, opts) {
        // Its delta is already the gradient with respect to its input (the pre-activation).
        if (!opts.inputGrad) return [];
        const { tensor, gradOf } = opts.inputGrad;
        if (opts.inputGrad.columns !== undefined) throw new ShapeError(`${label}: an activation layer cannot pass a gradient for some input columns`);
        const steps: Step[] = [ctx.copy(ws.delta.buffer, tensor.buffer, ws.delta.byteLength, ws.delta.byteOffset, tensor.byteOffset, `${label}.dInput`)];
        if (gradOf) steps.push(activationBackward(ctx, gradOf.output, tensor, gradOf.activation, gradOf.leak));
        return steps;
      },
    };
  },
};
