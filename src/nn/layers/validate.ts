// Checks the layer kinds share: each names the layer (`where`) and the value it refuses.

import { ShapeError } from '../../gpu/errors.ts';
import { ACTIVATIONS, type Activation } from '../../kernels/common.ts';

export function positiveInteger(where: string, name: string, v: unknown): number {
  if (!Number.isInteger(v) || (v as number) < 1) throw new ShapeError(`${where}: ${name} must be a positive integer, got ${v}`);
  return v as number;
}

export function nonNegativeInteger(where: string, name: string, v: unknown): number {
  if (!Number.isInteger(v) || (v as number) < 0) throw new ShapeError(`${where}: ${name} must be an integer >= 0, got ${v}`);
  return v as number;
}

/** The activation a spec names (default identity), refused if unknown. */
export function checkActivation(where: string, act: unknown): Activation {
  if (act === undefined) return 'identity';
  if (!ACTIVATIONS.includes(act as Activation)) throw new ShapeError(`${where}: activation '${act}' is not one of ${ACTIVATIONS.join(', ')}`);
  return act as Activation;
}
