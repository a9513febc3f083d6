// Spectral normalisation of a weight matrix (shaders/spectral.wgsl): a power iteration that
// estimates W's largest singular value sigma and writes W / sigma, and the gradient through
// W / sigma(W). A weight of any rank is the matrix [product of all but the last axis, last axis].

import source from '../../shaders/spectral.wgsl?raw';
import { uniforms, type Dispatch, type GpuContext, type KernelSpec } from '../gpu/context.ts';
import { ShapeError } from '../gpu/errors.ts';
import { defineShader } from '../gpu/shader.ts';
import type { Tensor } from '../tensor/tensor.ts';
import { expectDistinct, expectDType, workgroupSumShader } from './common.ts';

const shader = defineShader('spectral.wgsl', source, [workgroupSumShader]);
const BINDINGS = ['read', 'write', 'write', 'write', 'write', 'uniform'] as const;
const POWER: KernelSpec = { shader, entry: 'power', bindings: BINDINGS };
const GRADIENT: KernelSpec = { shader, entry: 'gradient', bindings: BINDINGS };

/** The tensors spectral normalisation keeps for one weight: u [N], v [K], sigma [1]. */
export interface SpectralState {
  u: Tensor;
  v: Tensor;
  sigma: Tensor;
}

/** [K, N] of a weight: every axis but the last, then the last. */
export function matrixShape(w: Tensor): [number, number] {
  const n = w.shape[w.shape.length - 1];
  return [w.size / n, n];
}

function expectState(op: string, w: Tensor, other: Tensor, s: SpectralState): [number, number] {
  const [K, N] = matrixShape(w);
  for (const t of [w, other, s.u, s.v, s.sigma]) expectDType(op, t, 'f32');
  if (other.size !== w.size) throw new ShapeError(`${op}: ${other} must have ${w.size} elements, like ${w}`);
  if (s.u.size !== N) throw new ShapeError(`${op}: u ${s.u} must have ${N} elements (W's columns)`);
  if (s.v.size !== K) throw new ShapeError(`${op}: v ${s.v} must have ${K} elements (W's rows)`);
  if (s.sigma.size !== 1) throw new ShapeError(`${op}: sigma ${s.sigma} must have 1 element`);
  expectDistinct(op, w, other, s.u, s.v, s.sigma);
  return [K, N];
}

/**
 * One power iteration from `state.u` (updating u, v and sigma), then wSn = w / sigma; with
 * `rescaleOnly`, just wSn = w / the stored sigma.
 */
export function spectralPower(ctx: GpuContext, w: Tensor, wSn: Tensor, state: SpectralState, opts: { rescaleOnly?: boolean; label?: string } = {}): Dispatch {
  const op = `spectralPower(${w} -> ${wSn})`;
  const [K, N] = expectState(op, w, wSn, state);
  return ctx.dispatch(POWER, {
    label: opts.label ?? op,
    constants: { MODE: opts.rescaleOnly ? 1 : 0 },
    resources: [w.binding(), state.u.binding(), state.v.binding(), state.sigma.binding(), wSn.binding(), uniforms([['u32', K], ['u32', N]])],
    workgroups: [1, 1, 1],
  });
}

/** grad (dL/dW_sn, in place) becomes dL/dW = (grad - <grad, wSn> v uᵀ) / sigma, u and v held fixed. */
export function spectralGradient(ctx: GpuContext, wSn: Tensor, grad: Tensor, state: SpectralState, opts: { label?: string } = {}): Dispatch {
  const op = `spectralGradient(${grad})`;
  const [K, N] = expectState(op, wSn, grad, state);
  return ctx.dispatch(GRADIENT, {
    label: opts.label ?? op,
    resources: [wSn.binding(), state.u.binding(), state.v.binding(), state.sigma.binding(), grad.binding(), uniforms([['u32', K], ['u32', N]])],
    workgroups: [1, 1, 1],
  });
}
