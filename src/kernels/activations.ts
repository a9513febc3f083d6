// Elementwise activations, forward and backward (from the saved output).

import source from '../../shaders/activations.wgsl?raw';
import activationLib from '../../shaders/lib/activation.wgsl?raw';
import { uniforms, type Dispatch, type GpuContext, type KernelSpec } from '../gpu/context.ts';
import { defineShader } from '../gpu/shader.ts';
import type { Tensor } from '../tensor/tensor.ts';
import { activationCode, DEFAULT_LEAK, ELEMENTWISE_WG, expectDType, expectDistinct, expectSameShape, grid1d, type Activation } from './common.ts';

export const activationShader = defineShader('lib/activation.wgsl', activationLib);
const shader = defineShader('activations.wgsl', source, [activationShader]);

const FORWARD: KernelSpec = { shader, entry: 'forward', bindings: ['read', 'write', 'uniform'] };
const BACKWARD: KernelSpec = { shader, entry: 'backward', bindings: ['read', 'write', 'uniform'] };

/** y = act(x). */
export function activationForward(ctx: GpuContext, x: Tensor, y: Tensor, act: Activation, leak = DEFAULT_LEAK): Dispatch {
  const op = `activationForward(${act})`;
  expectDType(op, x, 'f32');
  expectSameShape(op, x, y);
  expectDistinct(op, x, y);
  return ctx.dispatch(FORWARD, {
    label: op,
    constants: { ACT: activationCode(act), LEAK: leak, WG: ELEMENTWISE_WG },
    resources: [x.binding(), y.binding(), uniforms([['u32', x.size]])],
    workgroups: grid1d(ctx, x.size),
  });
}

/** grad *= act'(.) evaluated from the saved output y, in place. */
export function activationBackward(ctx: GpuContext, y: Tensor, grad: Tensor, act: Activation, leak = DEFAULT_LEAK): Dispatch {
  const op = `activationBackward(${act})`;
  expectDType(op, y, 'f32');
  expectSameShape(op, y, grad);
  expectDistinct(op, y, grad);
  return ctx.dispatch(BACKWARD, {
    label: op,
    constants: { ACT: activationCode(act), LEAK: leak, WG: ELEMENTWISE_WG },
    resources: [y.binding(), grad.binding(), uniforms([['u32', y.size]])],
    workgroups: grid1d(ctx, y.size),
  });
}
