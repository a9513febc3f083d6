// The GPU context: a device plus what every layer above needs from it — cached pipelines,
// recorded dispatches, submission, readback, and errors surfaced instead of swallowed.
// Platform-free: the Node and browser edges only differ in how they obtain the GPUDevice.

import { GpuError, ShaderError, ShapeError } from './errors.ts';
import { composeShader, formatCompilationMessages, type ComposedShader, type ShaderSource } from './shader.ts';

export interface AdapterSummary {
  vendor: string;
  architecture: string;
  device: string;
  description: string;
  /** How the adapter is reached: `vulkan` (Dawn in Node on Linux), `browser`, ... */
  backend: string;
  isFallback: boolean;
  /** A software adapter running on the CPU (lavapipe, SwiftShader, WARP). */
  isCpu: boolean;
  /** The subgroup sizes kernels may see; absent or 0 when the device lacks `subgroups`. */
  subgroupMinSize?: number;
  subgroupMaxSize?: number;
  /** Every optional feature the adapter offers (the device asks for those the engine uses). */
  adapterFeatures?: readonly string[];
}

/** One line naming the adapter, for logs, benchmark tables and error reports. */
export function describeAdapter(a: AdapterSummary): string {
  // Browsers may hide the description and device (Chromium does for SwiftShader).
  const name = a.description || a.device || [a.vendor, a.architecture].filter(Boolean).join(' ') || 'unknown device';
  const kind = a.isCpu ? 'software' : a.architecture || 'gpu';
  return `${name} [vendor ${a.vendor || '?'}, ${kind}, backend ${a.backend}]`;
}

/** How a kernel sees each binding: read-only storage, read-write storage, or uniform params. */
export type BindingKind = 'read' | 'write' | 'uniform';

/** A compute entry point with its binding layout (group 0, bindings 0..n-1 in order). */
export interface KernelSpec {
  readonly shader: ShaderSource;
  readonly entry: string;
  readonly bindings: readonly BindingKind[];
}

/** A buffer (whole, or a range) bound to a storage binding; uniform slots take the bytes. */
export type Resource = GPUBuffer | GPUBufferBinding | { readonly buffer: GPUBuffer } | ArrayBufferView;

export type Workgroups = readonly [number, number, number];

/** A recorded compute dispatch: created once, replayed any number of times. */
export interface Dispatch {
  readonly kind: 'dispatch';
  readonly label: string;
  readonly pipeline: GPUComputePipeline;
  readonly bindGroup: GPUBindGroup;
  readonly workgroups: Workgroups;
}

/** A recorded buffer-to-buffer copy. */
export interface Copy {
  readonly kind: 'copy';
  readonly label: string;
  readonly src: GPUBuffer;
  readonly srcOffset: number;
  readonly dst: GPUBuffer;
  readonly dstOffset: number;
  readonly size: number;
}

export type Step = Dispatch | Copy;

/** How a read back to the host is mapped. */
export interface ReadOptions {
  /** Map only once this settles (the copy itself is submitted at the call). */
  mapAfter?: PromiseLike<unknown>;
}

/** See GpuContext.readbackSlot. */
export interface ReadbackSlot {
  /** Records the copy of the slot's size from `src` (at `offset`) into the slot. */
  copy(src: GPUBuffer, offset?: number): Copy;
  /** Maps the slot and returns its bytes; call once the copy has been submitted. */
  read(): Promise<ArrayBuffer>;
}

export interface DispatchOptions {
  label?: string;
  /** Values for the shader's `override` constants. */
  constants?: Record<string, number>;
  resources: readonly Resource[];
  workgroups: Workgroups | readonly number[];
}

/**
 * The GPU instance and adapter each context's device came from, held as long as the context
 * lives: Dawn's Node binding frees the instance when its JS object is collected, and a live
 * device then touches freed memory (the random futex aborts and segfaults seen on lavapipe).
 */
const keepAlive = new WeakMap<GpuContext, readonly [GPU, GPUAdapter]>();

export class GpuContext {
  readonly device: GPUDevice;
  readonly adapter: AdapterSummary;
  readonly limits: GPUSupportedLimits;
  readonly features: ReadonlySet<string>;

  private readonly modules = new Map<string, { module: GPUShaderModule; composed: ComposedShader }>();
  private readonly layouts = new Map<string, { bindGroup: GPUBindGroupLayout; pipeline: GPUPipelineLayout }>();
  private readonly pipelines = new Map<string, GPUComputePipeline>();
  private readonly pendingValidations: Promise<string | null>[] = [];
  private readonly asyncErrors: string[] = [];
  private readonly inFlightReads = new Set<Promise<unknown>>();
  private readonly stagingFree = new Map<number, GPUBuffer[]>();
  /**
   * Readback slots, held weakly: a slot lives as long as its owner (a trainer) keeps it, so a
   * destroyed trainer's slots are collected rather than kept until the context closes.
   */
  private readonly slotBuffers = new Set<WeakRef<GPUBuffer>>();
  private lostMessage: string | null = null;
  private destroyed = false;
  /** Number of pipelines compiled so far (the cache makes this stop growing). */
  pipelinesCreated = 0;

  constructor(instance: GPU, gpuAdapter: GPUAdapter, device: GPUDevice, adapter: AdapterSummary) {
    keepAlive.set(this, [instance, gpuAdapter]);
    this.device = device;
    this.adapter = adapter;
    this.limits = device.limits;
    this.features = new Set(device.features as unknown as Iterable<string>);
    device.addEventListener('uncapturederror', (event) => {
      const e = (event as GPUUncapturedErrorEvent).error;
      this.asyncErrors.push(`${e.constructor?.name ?? 'GPUError'}: ${e.message}`);
    });
    void device.lost.then((info) => {
      if (!this.destroyed) this.lostMessage = `device lost (${info.reason}): ${info.message}`;
    });
  }

  get adapterLine(): string {
    return describeAdapter(this.adapter);
  }

  /** The pipeline for a kernel and constants, compiled on first use and cached after. */
  pipeline(spec: KernelSpec, constants: Record<string, number> = {}): GPUComputePipeline {
    const key = `${spec.shader.name}|${spec.entry}|${spec.bindings.join(',')}|${JSON.stringify(constants)}`;
    const cached = this.pipelines.get(key);
    if (cached) return cached;
    this.throwIfFailed();
    // The scope covers module creation too: WGSL errors must come back as ShaderErrors.
    this.device.pushErrorScope('validation');
    const { module, composed } = this.module(spec.shader);
    const layout = this.layout(spec.bindings);
    const pipeline = this.device.createComputePipeline({
      label: `${spec.shader.name}:${spec.entry}`,
      layout: layout.pipeline,
      compute: { module, entryPoint: spec.entry, constants },
    });
    const scope = this.device.popErrorScope();
    this.pendingValidations.push(
      scope.then(async (error) => {
        if (!error) return null;
        const info = await module.getCompilationInfo();
        const detail = formatCompilationMessages(composed, info.messages.filter((m) => m.type === 'error'));
        return `${spec.shader.name}, entry point '${spec.entry}' (constants ${JSON.stringify(constants)}):\n${detail || error.message}`;
      }),
    );
    this.pipelinesCreated++;
    this.pipelines.set(key, pipeline);
    return pipeline;
  }

  /** Records a dispatch of `spec` over `resources` (in binding order). */
  dispatch(spec: KernelSpec, opts: DispatchOptions): Dispatch {
    const label = opts.label ?? `${spec.shader.name}:${spec.entry}`;
    if (opts.resources.length !== spec.bindings.length) {
      throw new ShapeError(`${label}: expected ${spec.bindings.length} bindings, got ${opts.resources.length}`);
    }
    const wg = [opts.workgroups[0] ?? 1, opts.workgroups[1] ?? 1, opts.workgroups[2] ?? 1] as const;
    const max = this.limits.maxComputeWorkgroupsPerDimension;
    if (wg.some((n) => !Number.isInteger(n) || n < 0 || n > max)) {
      throw new ShapeError(`${label}: workgroup count [${wg.join(', ')}] exceeds the adapter's ${max} per dimension`);
    }
    const pipeline = this.pipeline(spec, opts.constants);
    const layout = this.layout(spec.bindings).bindGroup;
    const entries: GPUBindGroupEntry[] = opts.resources.map((r, binding) => {
      if (spec.bindings[binding] === 'uniform') {
        if (!ArrayBuffer.isView(r)) throw new ShapeError(`${label}: binding ${binding} takes uniform bytes`);
        return { binding, resource: { buffer: this.uniformBuffer(r, label) } };
      }
      if (ArrayBuffer.isView(r)) throw new ShapeError(`${label}: binding ${binding} takes a buffer`);
      return { binding, resource: r instanceof GPUBuffer ? { buffer: r } : (r as GPUBufferBinding) };
    });
    const bindGroup = this.device.createBindGroup({ label, layout, entries });
    return { kind: 'dispatch', label, pipeline, bindGroup, workgroups: wg };
  }

  /** Records a copy of `size` bytes between buffers. */
  copy(src: GPUBuffer, dst: GPUBuffer, size: number, srcOffset = 0, dstOffset = 0, label = 'copy'): Copy {
    if (size % 4 || srcOffset % 4 || dstOffset % 4) throw new ShapeError(`${label}: copies must be 4-byte aligned`);
    if (srcOffset + size > src.size || dstOffset + size > dst.size) {
      throw new ShapeError(`${label}: copy of ${size} bytes overruns a buffer (${src.size} -> ${dst.size})`);
    }
    return { kind: 'copy', label, src, srcOffset, dst, dstOffset, size };
  }

  /** Encodes steps into an encoder: runs of dispatches share one compute pass. */
  encode(encoder: GPUCommandEncoder, steps: readonly Step[], timestampWrites?: GPUComputePassTimestampWrites): void {
    let pass: GPUComputePassEncoder | null = null;
    for (const step of steps) {
      if (step.kind === 'dispatch') {
        pass ??= encoder.beginComputePass(timestampWrites ? { timestampWrites } : {});
        pass.setPipeline(step.pipeline);
        pass.setBindGroup(0, step.bindGroup);
        pass.dispatchWorkgroups(step.workgroups[0], step.workgroups[1], step.workgroups[2]);
      } else {
        pass?.end();
        pass = null;
        encoder.copyBufferToBuffer(step.src, step.srcOffset, step.dst, step.dstOffset, step.size);
      }
    }
    pass?.end();
  }

  /** Encodes and submits `steps` (repeated `times` times) in one command buffer. */
  run(steps: readonly Step[], times = 1): void {
    this.throwIfFailed();
    const encoder = this.device.createCommandEncoder();
    for (let i = 0; i < times; i++) this.encode(encoder, steps);
    this.device.queue.submit([encoder.finish()]);
  }

  /** Waits until submitted work is done; throws any error the GPU reported meanwhile. */
  async flush(): Promise<void> {
    await this.ready();
    await this.device.queue.onSubmittedWorkDone();
    this.throwIfFailed();
  }

  /** Throws if a pipeline created so far failed to compile or validate. */
  async ready(): Promise<void> {
    const results = await Promise.all(this.pendingValidations.splice(0));
    const failures = results.filter((r): r is string => r !== null);
    if (failures.length) throw new ShaderError(`shader compilation failed in ${failures.join('\n\n')}`);
  }

  /**
   * Copies `size` bytes of `src` at `offset` back to the host. The copy is submitted before
   * this returns, so work submitted afterwards (e.g. resetting metric sums) cannot overtake it.
   * With `mapAfter`, mapping waits for that promise: a read taken while training is queued
   * behind it is mapped once the caller knows the GPU is past it (see readbackSlot on why).
   */
  async readBuffer(src: GPUBuffer, offset = 0, size = src.size - offset, options: ReadOptions = {}): Promise<ArrayBuffer> {
    this.throwIfFailed();
    const aligned = Math.ceil(size / 4) * 4;
    const staging = this.takeStaging(aligned);
    const encoder = this.device.createCommandEncoder({ label: 'readback' });
    encoder.copyBufferToBuffer(src, offset, staging, 0, aligned);
    this.device.queue.submit([encoder.finish()]);
    try {
      if (options.mapAfter) await options.mapAfter;
      return await this.mapRead(staging, size);
    } finally {
      this.giveStaging(staging);
    }
  }

  /**
   * A host-readable buffer of `size` bytes for data a recorded copy puts there (`slot.copy`),
   * mapped later with `slot.read()`. Mapping only once the GPU is about done matters in Node:
   * Dawn's binding busy-polls on the main thread while a map is pending, which takes a core
   * from a CPU adapter's worker threads.
   */
  readbackSlot(size: number, label = 'readback'): ReadbackSlot {
    const aligned = Math.ceil(size / 4) * 4;
    const buffer = this.device.createBuffer({ label, size: aligned, usage: GPUBufferUsage.MAP_READ | GPUBufferUsage.COPY_DST });
    for (const ref of this.slotBuffers) if (!ref.deref()) this.slotBuffers.delete(ref);
    this.slotBuffers.add(new WeakRef(buffer));
    return {
      copy: (src, offset = 0) => this.copy(src, buffer, aligned, offset, 0, `${label}: copy`),
      read: () => this.mapRead(buffer, size),
    };
  }

  /** Maps a MAP_READ buffer, copies `size` bytes out and unmaps it. */
  private async mapRead(buffer: GPUBuffer, size: number): Promise<ArrayBuffer> {
    const aligned = Math.ceil(size / 4) * 4;
    const mapped = buffer.mapAsync(GPUMapMode.READ, 0, aligned);
    // destroy() waits for maps in flight, so the device never goes away under a pending map.
    this.inFlightReads.add(mapped);
    try {
      await mapped;
    } catch (e) {
      this.throwIfFailed();
      throw new GpuError(`readback failed: ${(e as Error).message}`);
    } finally {
      this.inFlightReads.delete(mapped);
    }
    const out = buffer.getMappedRange(0, aligned).slice(0, size);
    buffer.unmap();
    await this.ready();
    this.throwIfFailed();
    return out;
  }

  /** Throws the first asynchronous GPU error or device loss seen so far. */
  throwIfFailed(): void {
    if (this.destroyed) throw new GpuError('the GPU context was destroyed');
    if (this.lostMessage) throw new GpuError(this.lostMessage);
    if (this.asyncErrors.length) {
      const errors = this.asyncErrors.splice(0);
      throw new GpuError(`the GPU reported ${errors.length} error(s):\n${errors.join('\n')}`);
    }
  }

  get isDestroyed(): boolean {
    return this.destroyed;
  }

  /** Waits for in-flight work and readbacks, then destroys the device. Safe to call twice. */
  async destroy(): Promise<void> {
    if (this.destroyed) return;
    await Promise.allSettled([...this.inFlightReads]);
    await Promise.allSettled([this.device.queue.onSubmittedWorkDone(), ...this.pendingValidations]);
    this.destroyed = true;
    for (const list of this.stagingFree.values()) for (const b of list) b.destroy();
    this.stagingFree.clear();
    for (const ref of this.slotBuffers) ref.deref()?.destroy();
    this.slotBuffers.clear();
    this.device.destroy();
  }

  private module(shader: ShaderSource) {
    let entry = this.modules.get(shader.name);
    if (!entry) {
      const composed = composeShader(shader);
      const module = this.device.createShaderModule({ label: shader.name, code: composed.code });
      entry = { module, composed };
      this.modules.set(shader.name, entry);
    }
    return entry;
  }

  private layout(bindings: readonly BindingKind[]) {
    const key = bindings.join(',');
    let entry = this.layouts.get(key);
    if (!entry) {
      const bindGroup = this.device.createBindGroupLayout({
        entries: bindings.map((kind, binding) => ({
          binding,
          visibility: GPUShaderStage.COMPUTE,
          buffer: { type: kind === 'read' ? 'read-only-storage' : kind === 'write' ? 'storage' : 'uniform' },
        })),
      });
      entry = { bindGroup, pipeline: this.device.createPipelineLayout({ bindGroupLayouts: [bindGroup] }) };
      this.layouts.set(key, entry);
    }
    return entry;
  }

  private uniformBuffer(data: ArrayBufferView, label: string): GPUBuffer {
    const size = Math.max(16, Math.ceil(data.byteLength / 16) * 16);
    const buffer = this.device.createBuffer({ label: `${label}:params`, size, usage: GPUBufferUsage.UNIFORM | GPUBufferUsage.COPY_DST });
    this.device.queue.writeBuffer(buffer, 0, data.buffer, data.byteOffset, data.byteLength);
    return buffer;
  }

  private takeStaging(size: number): GPUBuffer {
    const bucket = this.stagingFree.get(size);
    return bucket?.pop() ?? this.device.createBuffer({ label: 'staging', size, usage: GPUBufferUsage.MAP_READ | GPUBufferUsage.COPY_DST });
  }

  private giveStaging(buffer: GPUBuffer): void {
    const list = this.stagingFree.get(buffer.size) ?? [];
    // A few per size are enough; readbacks are small metrics or one-off tensors.
    if (list.length < 4) list.push(buffer);
    else buffer.destroy();
    this.stagingFree.set(buffer.size, list);
  }
}

/** Packs scalar uniform fields in declaration order (each 4 bytes, as a WGSL struct of scalars). */
export function uniforms(fields: readonly (readonly ['u32' | 'i32' | 'f32', number])[]): Uint8Array {
  const bytes = new ArrayBuffer(Math.max(16, Math.ceil((fields.length * 4) / 16) * 16));
  const view = new DataView(bytes);
  fields.forEach(([type, value], i) => {
    if (type === 'f32') view.setFloat32(i * 4, value, true);
    else if (type === 'u32') view.setUint32(i * 4, value >>> 0, true);
    else view.setInt32(i * 4, value, true);
  });
  return new Uint8Array(bytes);
}
