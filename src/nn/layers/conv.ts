// Convolution layers over NHWC images, conv2d and conv-transpose2d, each one implicit-GEMM
// dispatch per pass (kernels/conv.ts): forward with the bias and activation fused, the weight
// gradient with the bias gradient fused, the input gradient with the producer's activation
// derivative fused. Weights are [kernel, kernel, in channels, filters] for both kinds (a
// conv-transpose layer's weight is torch.nn.ConvTranspose2d's [in, out, kh, kw] permuted).

import { ShapeError } from '../../gpu/errors.ts';
import {
  conv2d,
  conv2dInputGrad,
  conv2dWeightGrad,
  convTranspose2d,
  convTranspose2dInputGrad,
  convTranspose2dWeightGrad,
  resolveConvGeometry,
  type Conv2dGeometry,
} from '../../kernels/conv.ts';
import { recordWeightInit } from '../init.ts';
import { formatSample, type Conv2dSpec, type ConvTranspose2dSpec, type Layer, type LayerKind, type Step } from '../layer.ts';
import { checkActivation, nonNegativeInteger, positiveInteger } from './validate.ts';

type ConvSpec = Conv2dSpec | ConvTranspose2dSpec;

const OPS = {
  false: { forward: conv2d, inputGrad: conv2dInputGrad, weightGrad: conv2dWeightGrad },
  true: { forward: convTranspose2d, inputGrad: convTranspose2dInputGrad, weightGrad: convTranspose2dWeightGrad },
};

/** The layer's geometry for one sample, checked: the spec's sizes against its input shape. */
function geometryOf(spec: ConvSpec, input: readonly number[], where: string): Omit<Conv2dGeometry, 'batch'> {
  if (input.length !== 3) throw new ShapeError(`${where}: needs an image input [height, width, channels], got ${formatSample(input)}; put a reshape before it`);
  const transposed = spec.kind === 'conv-transpose2d';
  const g = {
    inH: input[0],
    inW: input[1],
    inC: input[2],
    outC: positiveInteger(where, 'filters', spec.filters),
    kernel: positiveInteger(where, 'kernel', spec.kernel),
    stride: positiveInteger(where, 'stride', spec.stride ?? 1),
    padding: nonNegativeInteger(where, 'padding', spec.padding ?? 0),
    transposed,
    outputPadding: transposed ? nonNegativeInteger(where, 'outputPadding', (spec as ConvTranspose2dSpec).outputPadding ?? 0) : 0,
  };
  try {
    resolveConvGeometry({ ...g, batch: 1 });
  } catch (e) {
    throw new ShapeError(`${where}: ${(e as Error).message}`);
  }
  return g;
}

function convKind<S extends ConvSpec>(): LayerKind<S> {
  return {
    plan(spec, input, where) {
      const activation = checkActivation(where, spec.activation);
      const g = resolveConvGeometry({ ...geometryOf(spec, input, where), batch: 1 });
      return {
        output: [g.outH, g.outW, g.outC],
        params: [{ name: 'weight', shape: [g.kernel, g.kernel, g.inC, g.outC], decay: true }, ...(spec.bias ?? true ? [{ name: 'bias', shape: [g.outC], decay: false }] : [])],
        buffers: [],
        activation,
      };
    },

    build({ ctx, pool, spec, plan, input, params, grads, read, init, leak, label }): Layer {
      const g = geometryOf(spec, input, label);
      const ops = OPS[`${g.transposed}`];
      const outSize = plan.output.reduce((a, b) => a * b, 1);
      const fans = { fanIn: g.kernel * g.kernel * g.inC, fanOut: g.kernel * g.kernel * g.outC, activation: plan.activation, leak };
      const geometry = (rows: number) => ({ ...g, batch: rows });
      return {
        recordInit: (seed, stream) => recordWeightInit(ctx, init, fans, params.weight, params.bias, seed, stream),
        workspace: (rows, name) => ({ rows, output: pool.acquire([rows, outSize], 'f32', `${name}.y`), delta: pool.acquire([rows, outSize], 'f32', `${name}.delta`) }),
        forward: (ws, x, opts) => [
          ops.forward(ctx, x, read.weight, ws.output, { geometry: geometry(ws.rows), bias: read.bias, activation: opts.activation ?? plan.activation, leak, label: `${label}.forward` }),
        ],
        backward(ws, x, opts) {
          const steps: Step[] = [];
          if (opts.paramGrads) {
            steps.push(ops.weightGrad(ctx, x, ws.delta, grads.weight, { geometry: geometry(ws.rows), biasGrad: grads.bias, accumulate: opts.accumulate, label: `${label}.dW` }));
          }
          if (opts.inputGrad) {
            if (opts.inputGrad.columns !== undefined) throw new ShapeError(`${label}: a convolution cannot pass a gradient for some input columns only`);
            steps.push(ops.inputGrad(ctx, ws.delta, read.weight, opts.inputGrad.tensor, { geometry: geometry(ws.rows), gradOf: opts.inputGrad.gradOf, label: `${label}.dInput` }));
          }
          return steps;
        },
      };
    },
  };
}

export const conv2dLayer = convKind<Conv2dSpec>();
export const convTranspose2dLayer = convKind<ConvTranspose2dSpec>();
