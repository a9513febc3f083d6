// The browser edge: navigator.gpu. Everything else is platform-free.

import type { GpuContext } from './context.ts';
import { AdapterError } from './errors.ts';
import { openContext } from './open.ts';

/**
 * Where WebGPU runs today, for the pages' message when it does not: what ships on by default in
 * each browser and platform, and the flag Chrome on other Linux machines needs.
 */
export const BROWSER_WEBGPU_HINT =
  'This page needs WebGPU, with hardware acceleration on: Chrome and Edge 113+ on Windows, macOS and ChromeOS; ' +
  'Chrome on Linux by default from 144 (Intel Gen12+ GPUs) and 147 (NVIDIA), otherwise started with --enable-unsafe-webgpu; ' +
  'Chrome on Android 121+; Firefox 141+ on Windows and 145+ on Apple-silicon macOS; Safari 26.';

export async function openBrowserContext(powerPreference?: GPUPowerPreference): Promise<GpuContext> {
  const gpu = (globalThis.navigator as Navigator | undefined)?.gpu;
  if (!gpu) throw new AdapterError(`WebGPU is not available in this browser. ${BROWSER_WEBGPU_HINT}`);
  return openContext(gpu, { backend: 'browser', noAdapterHint: BROWSER_WEBGPU_HINT, powerPreference });
}
