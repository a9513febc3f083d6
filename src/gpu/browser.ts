// The browser edge: navigator.gpu. Everything else is platform-free.

import type { GpuContext } from './context.ts';
import { AdapterError } from './errors.ts';
import { openContext } from './open.ts';

export const BROWSER_WEBGPU_HINT =
  'This page needs WebGPU: use a recent Chrome, Edge or Firefox (or Safari 26+) with hardware acceleration on; ' +
  'on Linux, Chrome needs --enable-unsafe-webgpu.';

export async function openBrowserContext(powerPreference?: GPUPowerPreference): Promise<GpuContext> {
  const gpu = (globalThis.navigator as Navigator | undefined)?.gpu;
  if (!gpu) throw new AdapterError(`WebGPU is not available in this browser. ${BROWSER_WEBGPU_HINT}`);
  return openContext(gpu, { backend: 'browser', noAdapterHint: BROWSER_WEBGPU_HINT, powerPreference });
}
