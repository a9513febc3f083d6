// The Node edge: Dawn through the `webgpu` package. Everything else is platform-free.

import { createRequire } from 'node:module';
import type { GpuContext } from './context.ts';
import { AdapterError, LINUX_SOFTWARE_ADAPTER_HINT } from './errors.ts';
import { openContext } from './open.ts';

export interface NodeGpuOptions {
  /** Dawn options passed through, e.g. `backend=vulkan`, `enable-dawn-features=...`. */
  dawnOptions?: string[];
  powerPreference?: GPUPowerPreference;
}

export async function openNodeContext(options: NodeGpuOptions = {}): Promise<GpuContext> {
  // Dawn's Vulkan loader warns when this is unset; any writable directory silences it.
  process.env.XDG_RUNTIME_DIR ??= '/tmp';
  let webgpu: { create(options: string[]): GPU; globals: Record<string, unknown> };
  try {
    webgpu = createRequire(import.meta.url)('webgpu');
  } catch (e) {
    throw new AdapterError(`The 'webgpu' package (Dawn for Node) failed to load: ${(e as Error).message}. Run \`npm ci\`.`);
  }
  Object.assign(globalThis, webgpu.globals);
  const dawnOptions = options.dawnOptions ?? [];
  const backend = dawnOptions.find((o) => o.startsWith('backend='))?.slice('backend='.length)
    ?? (process.platform === 'darwin' ? 'metal' : process.platform === 'win32' ? 'd3d12' : 'vulkan');
  const hint = process.platform === 'linux'
    ? LINUX_SOFTWARE_ADAPTER_HINT
    : 'Check that a WebGPU-capable GPU driver is installed.';
  return openContext(webgpu.create(dawnOptions), { backend, noAdapterHint: hint, powerPreference: options.powerPreference });
}
