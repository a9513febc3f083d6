// The tests' device: Dawn in Node on whatever adapter the machine has.

import type { GpuContext } from '../src/gpu/context.ts';
import { openNodeContext } from '../src/gpu/node.ts';

export function openTestContext(): Promise<GpuContext> {
  return openNodeContext();
}
