// Float64 twin of nn/network.ts: a network's forward and backward passes over plain arrays,
// layer by layer through each kind's twin, written for clarity. Parameters are kept by the
// same keys as the GPU network's (`${layer}.${name}`), so tests copy them across by name.

import type { Activation } from '../kernels/common.ts';
import type { NetworkPlan, PlannedLayer } from '../nn/network.ts';
import { activate, activateGradFromOutput } from './activations.ts';
import { refBatchNormLayer } from './batchnorm.ts';
import { refConvLayer } from './conv.ts';
import { refMbstdLayer } from './mbstd.ts';
import { refDense } from './dense.ts';
import { rescale, spectralGradient, spectralPower } from './spectral.ts';

export interface RefNet {
  plan: NetworkPlan;
  leak: number;
  /** Parameters by key, and non-trainable buffers (running statistics) by key. */
  params: Map<string, Float64Array>;
  buffers: Map<string, Float64Array>;
}

/** What a layer kind's twin is given: the layer, its own parameters and buffers by name. */
export interface RefLayerArgs {
  layer: PlannedLayer;
  params: Record<string, Float64Array>;
  buffers: Record<string, Float64Array>;
  leak: number;
  rows: number;
  /** Batch statistics (and running-statistics updates) or the running statistics. */
  training: boolean;
  /** Rows form this many equal blocks normalised apart. */
  blocks: number;
}

export interface RefLayerTwin {
  /** The layer's output after `activation`. */
  forward(a: RefLayerArgs, x: Float64Array, activation: Activation): Float64Array;
  /**
   * From delta (the gradient with respect to the output before the activation) and the
   * forward's input: the parameter gradients by name and the gradient with respect to the input.
   */
  backward(a: RefLayerArgs, x: Float64Array, delta: Float64Array): { grads: Record<string, Float64Array>; input: Float64Array };
}

/** Twins by layer kind; a new kind adds one line. */
export const REF_LAYERS: Record<string, RefLayerTwin> = {
  dense: refDense,
  batchnorm: refBatchNormLayer,
  conv2d: refConvLayer,
  'conv-transpose2d': refConvLayer,
  'minibatch-stddev': refMbstdLayer,
  activation: {
    forward: (a, x, act) => x.map((v) => activate(v, act, a.leak)),
    backward: (_a, _x, delta) => ({ grads: {}, input: delta }),
  },
};

function ofLayer<T>(map: Map<string, T>, index: number): Record<string, T> {
  const out: Record<string, T> = {};
  for (const [key, v] of map) {
    const dot = key.indexOf('.');
    if (Number(key.slice(0, dot)) === index) out[key.slice(dot + 1)] = v;
  }
  return out;
}

export interface RefForwardOptions {
  logits?: boolean;
  training?: boolean;
  blocks?: number;
}

function args(net: RefNet, layer: PlannedLayer, rows: number, o: RefForwardOptions): RefLayerArgs {
  const params = ofLayer(net.params, layer.index);
  const buffers = ofLayer(net.buffers, layer.index);
  // A spectrally normalised weight is read as W / sigma.
  if (buffers.weight_sigma) params.weight = rescale(params.weight, buffers.weight_sigma[0]);
  return { layer, params, buffers, leak: net.leak, rows, training: o.training ?? true, blocks: o.blocks ?? 1 };
}

/** After an update: one power iteration for every spectrally normalised weight. */
export function refAfterUpdate(net: RefNet): void {
  for (const layer of net.plan.running) {
    const u = net.buffers.get(`${layer.index}.weight_u`);
    if (!u) continue;
    const w = net.params.get(`${layer.index}.weight`)!;
    const r = spectralPower(w, w.length / u.length, u.length, u);
    u.set(r.u);
    net.buffers.get(`${layer.index}.weight_v`)!.set(r.v);
    net.buffers.get(`${layer.index}.weight_sigma`)![0] = r.sigma;
  }
}

/** Every running layer's output for `rows` inputs x [rows, input features]. */
export function refForward(net: RefNet, x: Float64Array, rows: number, o: RefForwardOptions = {}): Float64Array[] {
  const outputs: Float64Array[] = [];
  let input = x;
  net.plan.running.forEach((layer, i) => {
    const act = i === net.plan.running.length - 1 && o.logits ? 'identity' : layer.plan.activation;
    input = twin(layer).forward(args(net, layer, rows, o), input, act);
    outputs.push(input);
  });
  return outputs;
}

export interface RefGradients {
  /** Parameter gradients by key. */
  grads: Map<string, Float64Array>;
  /** Gradient with respect to the input (before any producer's activation). */
  input: Float64Array;
}

/** Backward from the last layer's delta, given refForward's outputs on the same x. */
export function refBackward(net: RefNet, x: Float64Array, rows: number, outputs: Float64Array[], lastDelta: Float64Array, o: RefForwardOptions = {}): RefGradients {
  const grads = new Map<string, Float64Array>();
  let delta = lastDelta;
  const running = net.plan.running;
  for (let i = running.length - 1; i >= 0; i--) {
    const layer = running[i];
    const below = i === 0 ? x : outputs[i - 1];
    const a = args(net, layer, rows, o);
    const r = twin(layer).backward(a, below, delta);
    const { weight_u: u, weight_v: v, weight_sigma: sigma } = a.buffers;
    // d/dW of W / sigma(W), from dL/d(W / sigma).
    if (sigma) r.grads.weight = spectralGradient(r.grads.weight, a.params.weight, u, v, sigma[0]);
    for (const [name, g] of Object.entries(r.grads)) grads.set(`${layer.index}.${name}`, g);
    if (i === 0) return { grads, input: r.input };
    const act = running[i - 1].plan.activation;
    delta = r.input.map((g, j) => g * activateGradFromOutput(below[j], act, net.leak));
  }
  throw new Error('refBackward: a network has at least one running layer');
}

function twin(layer: PlannedLayer): RefLayerTwin {
  const t = REF_LAYERS[layer.kind];
  if (!t) throw new Error(`no float64 twin for layer kind '${layer.kind}'`);
  return t;
}

/** The parameter keys of a plan with their decay flags, in layout order. */
export function paramKeys(plan: NetworkPlan): { key: string; decay: boolean; size: number }[] {
  return plan.running.flatMap((l) => l.plan.params.map((p) => ({ key: `${l.index}.${p.name}`, decay: p.decay, size: p.shape.reduce((a, b) => a * b, 1) })));
}
