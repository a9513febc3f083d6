// Opens a device on any `GPU` object (navigator.gpu in a browser, Dawn's in Node), asking for
// the limits the engine uses up to what the adapter offers, and refusing adapters too small.

import { GpuContext, type AdapterSummary } from './context.ts';
import { AdapterError } from './errors.ts';

/** The least the engine needs; every WebGPU adapter meets the spec defaults, which these are. */
export const REQUIRED_LIMITS = {
  maxStorageBufferBindingSize: 128 * 1024 * 1024,
  maxComputeWorkgroupStorageSize: 16 * 1024,
  maxComputeInvocationsPerWorkgroup: 256,
  maxStorageBuffersPerShaderStage: 8,
} as const;

/** Limits the engine raises to the adapter's maximum when offered (larger data, bigger tiles). */
const RAISED_LIMITS = [
  'maxStorageBufferBindingSize',
  'maxBufferSize',
  'maxComputeWorkgroupStorageSize',
  'maxComputeInvocationsPerWorkgroup',
  'maxComputeWorkgroupSizeX',
  'maxComputeWorkgroupSizeY',
  'maxStorageBuffersPerShaderStage',
] as const;

export interface OpenOptions {
  powerPreference?: GPUPowerPreference;
  /** How the adapter is reached, for the adapter line (the edges fill this in). */
  backend: string;
  /** Hint appended to "no adapter" errors (the edges know the platform's fix). */
  noAdapterHint: string;
}

const CPU_ADAPTER = /llvmpipe|lavapipe|swiftshader|warp|software|cpu/i;

export async function openContext(gpu: GPU, options: OpenOptions): Promise<GpuContext> {
  const adapter = await gpu.requestAdapter({ powerPreference: options.powerPreference ?? 'high-performance' });
  if (!adapter) throw new AdapterError(`No WebGPU adapter is available. ${options.noAdapterHint}`);

  const missing = Object.entries(REQUIRED_LIMITS)
    .filter(([name, least]) => (adapter.limits[name as keyof GPUSupportedLimits] as number) < least)
    .map(([name, least]) => `${name} is ${adapter.limits[name as keyof GPUSupportedLimits]} (needs ${least})`);
  if (missing.length) {
    throw new AdapterError(`The WebGPU adapter is too small for this engine: ${missing.join('; ')}. ${options.noAdapterHint}`);
  }

  const requiredLimits: Record<string, number> = {};
  for (const name of RAISED_LIMITS) requiredLimits[name] = adapter.limits[name] as number;
  const requiredFeatures = (['timestamp-query', 'subgroups'] as GPUFeatureName[]).filter((f) => adapter.features.has(f));
  const device = await adapter.requestDevice({ requiredLimits, requiredFeatures, label: 'webgpu-gan' });

  const info = adapter.info;
  const text = `${info.vendor} ${info.architecture} ${info.device} ${info.description}`;
  const summary: AdapterSummary = {
    vendor: info.vendor,
    architecture: info.architecture,
    device: info.device,
    description: info.description,
    backend: options.backend,
    isFallback: Boolean((info as { isFallbackAdapter?: boolean }).isFallbackAdapter),
    adapterFeatures: [...(adapter.features as unknown as Iterable<string>)].sort(),
    isCpu: CPU_ADAPTER.test(text) || Boolean((info as { isFallbackAdapter?: boolean }).isFallbackAdapter),
    subgroupMinSize: device.features.has('subgroups') ? (info.subgroupMinSize ?? 0) : 0,
    subgroupMaxSize: device.features.has('subgroups') ? (info.subgroupMaxSize ?? 0) : 0,
  };
  return new GpuContext(gpu, adapter, device, summary);
}
