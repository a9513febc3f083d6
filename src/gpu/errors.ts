// Errors the engine raises, each with a message that says what went wrong and how to fix it.

/** No usable WebGPU adapter, or one whose limits are below what the engine needs. */
export class AdapterError extends Error {
  override name = 'AdapterError';
}

/** A WGSL compilation or pipeline validation failure, naming the shader file. */
export class ShaderError extends Error {
  override name = 'ShaderError';
}

/** An error the GPU reported asynchronously (validation, out of memory) or a lost device. */
export class GpuError extends Error {
  override name = 'GpuError';
}

/** Wrong shapes, dtypes or arguments given to an op; raised before anything is encoded. */
export class ShapeError extends Error {
  override name = 'ShapeError';
}

export const LINUX_SOFTWARE_ADAPTER_HINT =
  'On Linux without a GPU, install Mesa >= 23 lavapipe (Vulkan on the CPU): ' +
  '`apt-get install mesa-vulkan-drivers libvulkan1` ' +
  '(on Debian 12 take them from bookworm-backports: `apt-get install -t bookworm-backports mesa-vulkan-drivers libvulkan1`).';
