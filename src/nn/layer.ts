// The layer seam: what a kind of layer tells the network about itself (its spec, the shape it
// maps its input to, the parameters and buffers it owns) and what a built layer records (its
// initialisation, its forward pass, its backward pass). A network is a sequence of layers
// (network.ts); the kinds are registered in layers/index.ts.
//
// Every activation tensor is 2-D, [rows, features], one sample per row. A sample's shape is
// [features] for flat data and [height, width, channels] for images, stored NHWC (channels
// fastest), so reshaping between them moves no data. Each layer may apply an activation to its
// output in the same kernel; a network's workspace keeps each layer's output (after the
// activation) and its delta (the loss gradient with respect to the output before the
// activation), the convention every backward kernel here follows.

import type { Step } from '../gpu/context.ts';
import type { GpuContext } from '../gpu/context.ts';
import type { Activation } from '../kernels/common.ts';
import type { ElementUpdate } from '../kernels/optim.ts';
import type { TensorPool } from '../tensor/pool.ts';
import type { Tensor } from '../tensor/tensor.ts';
import type { InitScheme } from './init.ts';

/** One sample's shape: [features], or [height, width, channels] (NHWC). */
export type SampleShape = readonly number[];

/** A fully connected layer: y = act(x W + b), W stored [in, out]. The kind may be left out. */
export interface DenseSpec {
  kind?: 'dense';
  units: number;
  activation?: Activation;
  /** Default true. */
  bias?: boolean;
}

/** A 2-D convolution over NHWC images; weights [kernel, kernel, in channels, filters]. */
export interface Conv2dSpec {
  kind: 'conv2d';
  filters: number;
  kernel: number;
  /** Default 1. */
  stride?: number;
  /** Zero padding on every side, default 0. */
  padding?: number;
  activation?: Activation;
  bias?: boolean;
}

/** A 2-D transposed convolution (the input gradient of a convolution, run forward). */
export interface ConvTranspose2dSpec {
  kind: 'conv-transpose2d';
  filters: number;
  kernel: number;
  stride?: number;
  padding?: number;
  /** Extra rows and columns at the bottom and right, below the stride (default 0). */
  outputPadding?: number;
  activation?: Activation;
  bias?: boolean;
}

/** Batch normalisation over every position of each channel (per feature for flat input). */
export interface BatchNormSpec {
  kind: 'batchnorm';
  activation?: Activation;
  /** Weight of the batch statistics in the running statistics (default 0.1, as torch). */
  momentum?: number;
  /** Default 1e-5. */
  eps?: number;
}

/**
 * Minibatch standard deviation (Karras et al. 2018), for a discriminator: one channel appended
 * at every position, the mean over the features of their standard deviation across a group of
 * `group` consecutive rows (default 4; a whole block of rows where a block is smaller), so D can
 * tell a batch whose samples are alike. No parameters.
 */
export interface MinibatchStddevSpec {
  kind: 'minibatch-stddev';
  group?: number;
  /** Added to each variance before its square root (default 1e-8). */
  eps?: number;
}

/** An activation on its own; fused into the layer before it when that layer has none. */
export interface ActivationSpec {
  kind: 'activation';
  activation: Activation;
}

/** A new sample shape with the same element count: no data moves, no dispatch. */
export interface ReshapeSpec {
  kind: 'reshape';
  shape: number[];
}

export type LayerSpec = DenseSpec | Conv2dSpec | ConvTranspose2dSpec | BatchNormSpec | MinibatchStddevSpec | ActivationSpec | ReshapeSpec;

export type LayerKindName = NonNullable<LayerSpec['kind']>;

/** A parameter a layer owns. `decay` parameters are the weights an L2 penalty applies to. */
export interface ParamDecl {
  name: string;
  shape: readonly number[];
  decay: boolean;
}

/** Non-trainable state a layer keeps (batch norm's running statistics), checkpointed with it. */
export interface BufferDecl {
  name: string;
  shape: readonly number[];
  /** The value it starts from. */
  initial: number;
}

/** What a kind of layer works out from its spec and input shape before anything is built. */
export interface LayerPlan {
  output: SampleShape;
  params: ParamDecl[];
  buffers: BufferDecl[];
  /** The fused activation on the output ('identity' for none). */
  activation: Activation;
  /** A view: no buffers of its own, no dispatch; the output is the input read with another shape. */
  view?: boolean;
}

export interface BuildArgs<S extends LayerSpec = LayerSpec> {
  ctx: GpuContext;
  pool: TensorPool;
  spec: S;
  plan: LayerPlan;
  input: SampleShape;
  /** Views of the network's flat parameters (what init draws into) and gradients, by ParamDecl name. */
  params: Record<string, Tensor>;
  grads: Record<string, Tensor>;
  /**
   * The parameters the forward and backward passes read: `params`, except where the network
   * transforms one (a spectrally normalised weight is W / sigma(W), kept in its own buffer).
   */
  read: Record<string, Tensor>;
  buffers: Record<string, Tensor>;
  init: InitScheme;
  /** Leaky-ReLU slope of every leaky activation in the network. */
  leak: number;
  /** `network.index`, for labels and errors. */
  label: string;
}

/** A kind of layer: validation and shape inference, then the built layer. */
export interface LayerKind<S extends LayerSpec = LayerSpec> {
  /** Checks the spec against its input shape (ShapeError naming the layer and sizes). */
  plan(spec: S, input: SampleShape, where: string): LayerPlan;
  build(args: BuildArgs<S>): Layer;
  /**
   * Refuses, before anything is built, a place in a GAN the layer cannot take (ShapeError starting
   * with `where`): its network's role, and the rows of one kind it trains on. Optional: most
   * kinds take any.
   */
  checkTraining?(spec: S, role: 'generator' | 'discriminator', rows: number, where: string): void;
}

/** The saved output of a producer and its activation: the backward pass multiplies by act'(output). */
export interface GradOf {
  output: Tensor;
  activation: Activation;
  leak?: number;
}

/** Where a backward pass writes the gradient with respect to its input. */
export interface InputGrad {
  tensor: Tensor;
  /** The producer of the input: its activation's derivative is fused into the write. */
  gradOf?: GradOf;
  /** Only the first `columns` input columns (a conditional D's image part of [x | one-hot]). */
  columns?: number;
}

export interface ForwardOptions {
  /** Batch statistics (and running-statistics updates) rather than the running statistics. */
  training: boolean;
  /** The rows form this many equal blocks of different kinds, normalised apart (real | fake). */
  blocks: number;
  /** Overrides the layer's activation (a D's logits for losses that fold in the sigmoid). */
  activation?: Activation;
  /** Training passes: overrides the weight of this pass's statistics in the running ones (batch norm's momentum). */
  runningMomentum?: number;
}

export interface BackwardOptions {
  /** Compute parameter gradients (false for a frozen network). */
  paramGrads: boolean;
  /** Add to the gradients instead of overwriting them. */
  accumulate?: boolean;
  inputGrad?: InputGrad;
  blocks: number;
  /**
   * Apply this optimizer rule to the layer's parameters as their gradients are computed (only
   * layers with `updatesInBackward`; the gradients are still written). The input gradient,
   * which reads the old parameters, is recorded first.
   */
  update?: ElementUpdate;
}

/** A layer's per-batch-size buffers: its output and its delta, [rows, features] each. */
export interface LayerWorkspace {
  rows: number;
  output: Tensor;
  delta: Tensor;
  /** Whatever else the layer's backward needs (batch norm's saved statistics). */
  saved?: Record<string, Tensor>;
}

export interface Layer {
  /** Whether backward can apply an optimizer's rule to all of the layer's parameters (BackwardOptions.update). */
  readonly updatesInBackward?: boolean;
  /** Draws the initial parameters from (seed, stream) and (seed, stream + 1). */
  recordInit(seed: number, stream: number): Step[];
  workspace(rows: number, label: string): LayerWorkspace;
  forward(ws: LayerWorkspace, input: Tensor, opts: ForwardOptions): Step[];
  /** From ws.delta (filled by the layer above or the loss): parameter and input gradients. */
  backward(ws: LayerWorkspace, input: Tensor, opts: BackwardOptions): Step[];
}

export const elements = (shape: SampleShape): number => shape.reduce((a, b) => a * b, 1);

export const formatSample = (shape: SampleShape): string => (shape.length === 1 ? `${shape[0]}` : shape.join('x'));

/** A sample shape read as an image: [h, w, c] as it is, [features] as 1 x 1 x features. */
export function asImage(shape: SampleShape): [number, number, number] {
  return shape.length === 3 ? [shape[0], shape[1], shape[2]] : [1, 1, elements(shape)];
}

export type { Step };
