// Minibatch standard deviation (Karras et al. 2018): one channel appended to every position of
// an NHWC batch, the mean over a group of rows' features of their standard deviation across the
// group. shaders/mbstd.wgsl holds the arithmetic; one dispatch forward, one backward.

import source from '../../shaders/mbstd.wgsl?raw';
import { uniforms, type Dispatch, type GpuContext, type KernelSpec } from '../gpu/context.ts';
import { ShapeError } from '../gpu/errors.ts';
import { defineShader } from '../gpu/shader.ts';
import { formatShape, type Tensor } from '../tensor/tensor.ts';
import { activationShader } from './activations.ts';
import { ACTIVATIONS, activationCode, DEFAULT_LEAK, expect2d, expectDType, expectFinite, expectSeparateBuffers, workgroupSumShader, type Activation } from './common.ts';

const shader = defineShader('mbstd.wgsl', source, [activationShader, workgroupSumShader]);
const FORWARD: KernelSpec = { shader, entry: 'mbstd_forward', bindings: ['read', 'write', 'uniform'] };
const BACKWARD: KernelSpec = { shader, entry: 'mbstd_backward', bindings: ['read', 'read', 'read', 'write', 'uniform'] };

/** Added to each variance before its square root, as Karras et al. do. */
export const MBSTD_EPS = 1e-8;
/** Rows per group where a spec gives none (Karras et al.'s 4). */
export const MBSTD_GROUP = 4;

export interface MinibatchStddevOptions {
  /** C: channels of x's rows ([positions, channels], channels fastest); y has C + 1. */
  channels: number;
  /** G: consecutive rows per group; the rows must be whole groups. */
  group: number;
  /** Default MBSTD_EPS. */
  eps?: number;
  label?: string;
}

export interface MinibatchStddevForwardOptions extends MinibatchStddevOptions {
  /** Applied to every value of y (default identity). */
  activation?: Activation;
  /** Leaky ReLU slope (default DEFAULT_LEAK). */
  leak?: number;
}

export interface MinibatchStddevBackwardOptions extends MinibatchStddevOptions {
  /** dx *= act'(output), output = the saved forward output of x's producer, shaped like x. */
  gradOf?: { output: Tensor; activation: Activation; leak?: number };
}

interface Sizes {
  features: number;
  positions: number;
  groups: number;
  eps: number;
}

function validate(op: string, x: Tensor, y: Tensor, yName: string, opts: MinibatchStddevOptions): Sizes {
  expectDType(op, x, 'f32');
  expectDType(op, y, 'f32');
  expect2d(op, x);
  const { channels: C, group: G } = opts;
  if (!Number.isInteger(C) || C < 1 || x.cols % C !== 0) {
    throw new ShapeError(`${op}: channels ${C} must be a positive integer dividing the row length ${x.cols} of ${x}`);
  }
  if (!Number.isInteger(G) || G < 1 || x.rows % G !== 0) {
    throw new ShapeError(`${op}: group ${G} must be a positive integer dividing the ${x.rows} rows of ${x} (each group is a block of consecutive rows)`);
  }
  const positions = x.cols / C;
  const want = [x.rows, positions * (C + 1)];
  if (y.rank !== 2 || y.rows !== want[0] || y.cols !== want[1]) throw new ShapeError(`${op}: ${yName} ${y} must have shape ${formatShape(want)} (x's rows with one more channel)`);
  const eps = opts.eps ?? MBSTD_EPS;
  expectFinite(op, 'eps', eps);
  if (!(Math.fround(eps) > 0)) throw new ShapeError(`${op}: eps must be positive (and not round to 0 in f32), got ${eps}`);
  return { features: x.cols, positions, groups: x.rows / G, eps };
}

function params(s: Sizes, opts: MinibatchStddevOptions, leaks: { leak?: number; gradLeak?: number }): Uint8Array {
  return uniforms([
    ['u32', s.features],
    ['u32', opts.channels],
    ['u32', opts.group],
    ['f32', s.eps],
    ['f32', leaks.leak ?? 0],
    ['f32', leaks.gradLeak ?? 0],
  ]);
}

/** y [rows, P (C + 1)] = x [rows, P C] with each group's mean standard deviation appended at every position. */
export function minibatchStddev(ctx: GpuContext, x: Tensor, y: Tensor, opts: MinibatchStddevForwardOptions): Dispatch {
  const op = `minibatchStddev(${x} -> ${y}; group ${opts.group})`;
  const s = validate(op, x, y, 'y', opts);
  const activation = opts.activation ?? 'identity';
  if (!ACTIVATIONS.includes(activation)) throw new ShapeError(`${op}: unknown activation '${activation}'`);
  const leak = opts.leak ?? DEFAULT_LEAK;
  expectFinite(op, 'leak', leak);
  expectSeparateBuffers(op, [y], [x]);
  return ctx.dispatch(FORWARD, {
    label: opts.label ?? op,
    constants: { ACT: activationCode(activation) },
    resources: [x.binding(), y.binding(), params(s, opts, { leak })],
    workgroups: [s.groups, 1, 1],
  });
}

/** dx [rows, P C] from dy [rows, P (C + 1)] and the forward's input x (the statistics are recomputed). */
export function minibatchStddevBackward(ctx: GpuContext, dy: Tensor, x: Tensor, dx: Tensor, opts: MinibatchStddevBackwardOptions): Dispatch {
  const op = `minibatchStddevBackward(${dy}, ${x} -> ${dx}; group ${opts.group})`;
  const s = validate(op, x, dy, 'dy', opts);
  expectDType(op, dx, 'f32');
  if (dx.rank !== 2 || dx.rows !== x.rows || dx.cols !== x.cols) throw new ShapeError(`${op}: dx ${dx} must have the shape of x, ${formatShape(x.shape)}`);
  const grad = opts.gradOf;
  let gradAct = 0;
  let gradLeak = 0;
  if (grad) {
    expectDType(op, grad.output, 'f32');
    if (grad.output.rank !== 2 || grad.output.rows !== x.rows || grad.output.cols !== x.cols) {
      throw new ShapeError(`${op}: gradOf.output ${grad.output} must have the shape of x, ${formatShape(x.shape)}`);
    }
    if (!ACTIVATIONS.includes(grad.activation)) throw new ShapeError(`${op}: unknown gradOf.activation '${grad.activation}'`);
    gradAct = activationCode(grad.activation);
    gradLeak = grad.leak ?? DEFAULT_LEAK;
    expectFinite(op, 'gradOf.leak', gradLeak);
  }
  expectSeparateBuffers(op, [dx], [dy, x, ...(grad ? [grad.output] : [])]);
  return ctx.dispatch(BACKWARD, {
    label: opts.label ?? op,
    // Identity stands for no gradOf: the producer's output is never read, and x stands in.
    constants: { GRAD_ACT: gradAct },
    resources: [x.binding(), dy.binding(), (grad?.output ?? x).binding(), dx.binding(), params(s, opts, { gradLeak })],
    workgroups: [s.groups, 1, 1],
  });
}
