// Copies a GPU network into its float64 twin (src/reference/network.ts) by parameter key, and
// compares the two: what the whole-iteration and gradient tests share.

import type { GpuContext } from '../src/gpu/context.ts';
import type { Network } from '../src/nn/network.ts';
import type { RefNet } from '../src/reference/network.ts';
import { download } from '../src/tensor/tensor.ts';

export async function refNetOf(ctx: GpuContext, net: Network): Promise<RefNet> {
  const read = async (m: ReadonlyMap<string, import('../src/tensor/tensor.ts').Tensor>) =>
    new Map(await Promise.all([...m].map(async ([k, t]) => [k, Float64Array.from(await download(ctx, t))] as const)));
  return { plan: net.plan, leak: net.leak, params: await read(net.params.byKey), buffers: await read(net.buffers) };
}

/** Largest |gpu - ref| / (abs + rel * |ref|) over every parameter of a network: <= 1 passes. */
export async function worstRatio(ctx: GpuContext, net: Network, ref: RefNet, abs: number, rel: number): Promise<{ ratio: number; maxAbs: number }> {
  let ratio = 0;
  let maxAbs = 0;
  for (const [key, t] of net.params.byKey) {
    const [gpu, want] = [await download(ctx, t), ref.params.get(key)!];
    for (let i = 0; i < want.length; i++) {
      const err = Math.abs(gpu[i] - want[i]);
      maxAbs = Math.max(maxAbs, err);
      ratio = Math.max(ratio, err / (abs + rel * Math.abs(want[i])));
    }
  }
  return { ratio, maxAbs };
}
