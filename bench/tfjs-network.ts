// A network spec (src/nn/network.ts) built in TensorFlow.js as its users write one, for the
// benchmark's tfjs peer (tfjs-gan.ts): the same layers in the same order, planned by the engine's
// own planNetwork (so the shapes, the fused activations and the views are the engine's), with
// tfjs's ops and NHWC, its default layout:
//   dense             tf.fused.matMul with the bias (as tf.layers.dense);
//   conv2d            tf.fused.conv2d with the bias, weights [k, k, in, out] as ours;
//   conv-transpose2d  tf.conv2dTranspose, then the bias; tfjs's filter is [k, k, out, in];
//   batchnorm         tf.moments and tf.batchNorm per block of rows (a D batch of real rows then
//                     fake rows is normalised as two batches, as ours does), running statistics
//                     moved as torch moves them;
//   reshape           a reshape; activation  the op, unless the layer before applies it.
// Weights start from the distributions of the spec's init scheme (not the same values).
// Activations between layers are 2-D [rows, features], as the engine's are.

import * as tf from '@tensorflow/tfjs';
import { DEFAULT_LEAK, type Activation } from '../src/kernels/common.ts';
import { resolveConvGeometry } from '../src/kernels/conv.ts';
import type { InitScheme } from '../src/nn/init.ts';
import { elements, type BatchNormSpec, type Conv2dSpec, type ConvTranspose2dSpec, type DenseSpec, type SampleShape } from '../src/nn/layer.ts';
import { planNetwork, type NetworkSpec, type PlannedLayer } from '../src/nn/network.ts';

export interface TfjsForwardOptions {
  /** Leave the last layer's activation off (the logits of a loss that folds in the sigmoid). */
  logits?: boolean;
  /** The rows are this many equal blocks of different kinds, normalised apart (default 1). */
  blocks?: number;
}

/** One running layer: its trainable variables and its pass (before its fused activation). */
interface TfjsLayer {
  /** Trainable variables, the weight (what an L2 penalty decays) first when it has one. */
  variables: tf.Variable[];
  decayed: tf.Variable[];
  /** Running statistics and other state that is not trained. */
  state: tf.Variable[];
  run(x: tf.Tensor, rows: number, blocks: number): tf.Tensor;
}

/** The init scheme's draws for a weight of `shape` and its bias (src/nn/init.ts). */
function initialWeights(scheme: InitScheme, shape: number[], bias: number[] | null, fans: { fanIn: number; fanOut: number; activation: Activation; leak: number }): { w: tf.Tensor; b: tf.Tensor | null } {
  const { fanIn, fanOut } = fans;
  const uniform = (s: number[], r: number) => tf.randomUniform(s, -r, r);
  const zeros = () => (bias ? tf.zeros(bias) : null);
  switch (scheme) {
    case 'dlt': {
      const r = 4 * Math.sqrt(6 / (fanIn + fanOut));
      return { w: uniform(shape, r), b: bias && uniform(bias, r) };
    }
    case 'xavier':
      return { w: uniform(shape, Math.sqrt(6 / (fanIn + fanOut))), b: zeros() };
    case 'he': {
      const slope = fans.activation === 'leaky_relu' ? fans.leak : 0;
      return { w: tf.randomNormal(shape, 0, Math.sqrt(2 / ((1 + slope * slope) * fanIn))), b: zeros() };
    }
    case 'pytorch': {
      const r = 1 / Math.sqrt(fanIn);
      return { w: uniform(shape, r), b: bias && uniform(bias, r) };
    }
    case 'dcgan':
      return { w: tf.randomNormal(shape, 0, 0.02), b: zeros() };
  }
}

function activate(z: tf.Tensor, activation: Activation, leak: number): tf.Tensor {
  switch (activation) {
    case 'identity':
      return z;
    case 'sigmoid':
      return tf.sigmoid(z);
    case 'relu':
      return tf.relu(z);
    case 'leaky_relu':
      return tf.leakyRelu(z, leak);
    case 'tanh':
      return tf.tanh(z);
  }
}

/** x [rows, ...] read as a batch of samples of `shape`: [rows, ...shape]. */
const batchOf = (x: tf.Tensor, rows: number, shape: SampleShape) => x.reshape([rows, ...shape]);

export class TfjsNetwork {
  readonly name: string;
  private readonly layers: { planned: PlannedLayer; layer: TfjsLayer }[];
  private readonly leak: number;

  constructor(spec: NetworkSpec, name: string) {
    if (spec.spectralNorm) throw new Error(`${name}: the tfjs peer has no spectral normalisation`);
    this.name = name;
    this.leak = spec.leak ?? DEFAULT_LEAK;
    const plan = planNetwork(name, spec);
    this.layers = plan.running.map((planned, i) => {
      // Variables outlive the tidy; the initial values do not.
      let layer: TfjsLayer | null = null;
      tf.tidy(() => void (layer = this.build(planned, spec.init, `${name}.${i + 1}`)));
      return { planned, layer: layer! };
    });
  }

  /** Every trainable variable, for the optimizer. */
  get variables(): tf.Variable[] {
    return this.layers.flatMap((l) => l.layer.variables);
  }

  /** The weights an L2 penalty decays (dense and conv weights; not biases or batch norm's scale). */
  get decayed(): tf.Variable[] {
    return this.layers.flatMap((l) => l.layer.decayed);
  }

  /** Forward pass in training mode (batch statistics) on x [rows, input features]; returns [rows, output features]. */
  forward(x: tf.Tensor2D, opts: TfjsForwardOptions = {}): tf.Tensor2D {
    const rows = x.shape[0];
    const blocks = opts.blocks ?? 1;
    let y: tf.Tensor = x;
    this.layers.forEach(({ planned, layer }, i) => {
      const z = layer.run(y, rows, blocks);
      const last = i === this.layers.length - 1;
      y = opts.logits && last ? z : activate(z, planned.plan.activation, this.leak);
    });
    return y.reshape([rows, -1]);
  }

  dispose(): void {
    for (const { layer } of this.layers) for (const v of [...layer.variables, ...layer.state]) v.dispose();
  }

  private build(planned: PlannedLayer, init: InitScheme, label: string): TfjsLayer {
    const { kind, input, plan } = planned;
    const variable = (t: tf.Tensor, name: string, trainable = true) => tf.variable(t, trainable, `${label}.${name}`);
    const activation = plan.activation;
    switch (kind) {
      case 'dense': {
        const spec = planned.spec as DenseSpec;
        const [fanIn, fanOut] = [elements(input), elements(plan.output)];
        const init0 = initialWeights(init, [fanIn, fanOut], spec.bias ?? true ? [fanOut] : null, { fanIn, fanOut, activation, leak: this.leak });
        const w = variable(init0.w, 'weight');
        const b = init0.b && variable(init0.b, 'bias');
        return {
          variables: b ? [w, b] : [w],
          decayed: [w],
          state: [],
          run: (x, rows) => tf.fused.matMul({ a: x.reshape([rows, fanIn]) as tf.Tensor2D, b: w as tf.Tensor2D, bias: b ?? undefined }),
        };
      }
      case 'conv2d':
      case 'conv-transpose2d': {
        const spec = planned.spec as Conv2dSpec | ConvTranspose2dSpec;
        const transposed = kind === 'conv-transpose2d';
        if (transposed && (spec as ConvTranspose2dSpec).outputPadding) throw new Error(`${label}: the tfjs peer has no conv-transpose output padding`);
        const g = resolveConvGeometry({ batch: 1, inH: input[0], inW: input[1], inC: input[2], outC: spec.filters, kernel: spec.kernel, stride: spec.stride ?? 1, padding: spec.padding ?? 0, transposed });
        const k = g.kernel;
        const fans = { fanIn: k * k * g.inC, fanOut: k * k * g.outC, activation, leak: this.leak };
        const init0 = initialWeights(init, transposed ? [k, k, g.outC, g.inC] : [k, k, g.inC, g.outC], spec.bias ?? true ? [g.outC] : null, fans);
        const w = variable(init0.w, 'weight');
        const b = init0.b && variable(init0.b, 'bias');
        const pad = g.padding;
        const run = transposed
          ? (x: tf.Tensor, rows: number) => {
              const y = tf.conv2dTranspose(batchOf(x, rows, input) as tf.Tensor4D, w as tf.Tensor4D, [rows, g.outH, g.outW, g.outC], g.stride, pad);
              return b ? tf.add(y, b) : y;
            }
          : (x: tf.Tensor, rows: number) => tf.fused.conv2d({ x: batchOf(x, rows, input) as tf.Tensor4D, filter: w as tf.Tensor4D, strides: g.stride, pad, bias: b ?? undefined });
        return { variables: b ? [w, b] : [w], decayed: [w], state: [], run };
      }
      case 'batchnorm':
        return this.batchNorm(planned, init, label);
      case 'activation':
        // Its op is its fused activation, applied after run (not fused: the layer before has one).
        return { variables: [], decayed: [], state: [], run: (x) => x };
      default:
        throw new Error(`${label}: the tfjs peer has no '${kind}' layer`);
    }
  }

  /**
   * Batch norm over every position of each channel (per feature for flat input), each block of
   * rows by its own statistics (biased variance); running = (1 - momentum) running + momentum *
   * the blocks' mean of their batch mean and unbiased variance, as the engine's kernel moves them.
   */
  private batchNorm(planned: PlannedLayer, init: InitScheme, label: string): TfjsLayer {
    const spec = planned.spec as BatchNormSpec;
    const shape = planned.input;
    const channels = shape.length === 3 ? shape[2] : elements(shape);
    const momentum = spec.momentum ?? 0.1;
    const eps = spec.eps ?? 1e-5;
    const gamma = tf.variable(init === 'dcgan' ? tf.randomNormal([channels], 1, 0.02) : tf.ones([channels]), true, `${label}.weight`);
    const beta = tf.variable(tf.zeros([channels]), true, `${label}.bias`);
    const runningMean = tf.variable(tf.zeros([channels]), false, `${label}.running_mean`);
    const runningVar = tf.variable(tf.ones([channels]), false, `${label}.running_var`);
    return {
      variables: [gamma, beta],
      decayed: [],
      state: [runningMean, runningVar],
      run(x, rows, blocks) {
        const batch = x.reshape(shape.length === 3 ? [rows, ...shape] : [rows, channels]);
        // Statistics over every axis but the channels'.
        const axes = shape.length === 3 ? [0, 1, 2] : [0];
        const parts = blocks === 1 ? [batch] : tf.split(batch, blocks, 0);
        const count = (rows / blocks) * (elements(shape) / channels);
        const means: tf.Tensor[] = [];
        const variances: tf.Tensor[] = [];
        const normalised = parts.map((part) => {
          const { mean, variance } = tf.moments(part, axes);
          means.push(mean);
          variances.push(variance);
          return tf.batchNorm(part, mean, variance, beta, gamma, eps);
        });
        const unbiased = count > 1 ? count / (count - 1) : 0;
        // The running statistics are no part of the loss: no gradient reaches them.
        const blockMean = (ts: tf.Tensor[]) => (ts.length === 1 ? ts[0] : tf.addN(ts).div(ts.length));
        runningMean.assign(runningMean.mul(1 - momentum).add(blockMean(means).mul(momentum)));
        runningVar.assign(runningVar.mul(1 - momentum).add(blockMean(variances).mul(momentum * unbiased)));
        return normalised.length === 1 ? normalised[0] : tf.concat(normalised, 0);
      },
    };
  }
}
