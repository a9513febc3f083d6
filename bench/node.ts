// The Node edge of the benchmarks: Dawn from the `webgpu` package (one instance for the engine
// and for tfjs's WebGPU backend), the process's CPU clock and the machine's load, the terminal
// for output, a JSON file for the autotuned matmul choices, the git commit, and the results
// file. `npm run bench` (bench/index.ts) and `npm run bench:matmul` (bench/matmul.ts) stand on
// it; everything they run is the platform-free suite the page (bench/page.ts) runs too.
//
// The engine's context and tfjs's backend each request the instance's high-performance adapter
// and open their own device on it, so they share the adapter (both adapter lines are printed and
// compared) but not a queue. The instance is made with the timing options (unquantized
// timestamps), which only the engine's timer uses.

import { mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import os from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import type { GpuContext } from '../src/gpu/context.ts';
import { LINUX_SOFTWARE_ADAPTER_HINT } from '../src/gpu/errors.ts';
import { openContext } from '../src/gpu/open.ts';
import type { TuningStore } from '../src/kernels/autotune.ts';
import { writeFileAtomic } from '../src/cli/files.ts';
import { gitCommit as commitOf } from './git.ts';
import { CONSOLE_OUTPUT, setPlatform, type BenchPlatform } from './platform.ts';
import { openTfjsSide, type TfjsSide } from './tfjs.ts';
import { TIMING_DAWN_OPTIONS } from './timing.ts';

/** The repository root. */
export const ROOT = dirname(dirname(fileURLToPath(import.meta.url)));

/** Where `npm run bench` and `npm run bench:matmul` keep the autotuned matmul choices. */
export const TUNING_FILE = join(ROOT, 'node_modules/.cache/webgpu-gan/matmul-tuning.json');

/** How the results and progress name TUNING_FILE. */
export const TUNING_FILE_NAME = 'node_modules/.cache/webgpu-gan';

/** The terminal: markdown tables on stdout, CPU time from process.cpuUsage, os.loadavg. */
export const NODE_PLATFORM: BenchPlatform = {
  cpuMs() {
    const used = process.cpuUsage();
    return (used.user + used.system) / 1000;
  },
  loadAverage: () => os.loadavg()[0].toFixed(2),
  out: CONSOLE_OUTPUT,
};

/** A JSON file store for the autotuned choices (the engine takes any TuningStore). */
export function fileStore(path: string): TuningStore {
  const read = (): Record<string, string> => {
    try {
      return JSON.parse(readFileSync(path, 'utf8')) as Record<string, string>;
    } catch {
      return {};
    }
  };
  return {
    getItem: (key) => read()[key] ?? null,
    setItem: (key, value) => {
      mkdirSync(dirname(path), { recursive: true });
      writeFileSync(path, JSON.stringify({ ...read(), [key]: value }, null, 2));
    },
  };
}

/** The checked-out commit, with `+dirty` when tracked files differ from it; null outside git. */
export function gitCommit(): string | null {
  return commitOf(ROOT);
}

/** Writes `data` as JSON to bench/results/<name>; returns the path. */
export async function writeResults(name: string, data: unknown): Promise<string> {
  const dir = join(ROOT, 'bench/results');
  mkdirSync(dir, { recursive: true });
  const file = join(dir, name);
  // A run interrupted while writing leaves the old file or none, never half of one.
  await writeFileAtomic(file, JSON.stringify(data, null, 2));
  return file;
}

export interface BenchGpu {
  ctx: GpuContext;
  /** Opens another engine context on the same instance and adapter (a fresh pipeline cache). */
  gpu: { open(): Promise<GpuContext> };
  /** null when tfjs was not asked for. */
  tfjs: TfjsSide | null;
}

/**
 * Installs the Node platform, opens the engine's context and, with `tfjs`, tfjs's WebGPU
 * backend on the same Dawn instance.
 */
export async function openBenchGpu(options: { tfjs: boolean }): Promise<BenchGpu> {
  setPlatform(NODE_PLATFORM);
  process.env.XDG_RUNTIME_DIR ??= '/tmp';
  const webgpu = createRequire(import.meta.url)('webgpu') as { create(options: string[]): GPU; globals: Record<string, unknown> };
  Object.assign(globalThis, webgpu.globals);
  const gpu = webgpu.create(TIMING_DAWN_OPTIONS);
  const backend = process.platform === 'darwin' ? 'metal' : process.platform === 'win32' ? 'd3d12' : 'vulkan';
  const open = () => openContext(gpu, { backend, noAdapterHint: LINUX_SOFTWARE_ADAPTER_HINT });
  const ctx = await open();
  if (!options.tfjs) return { ctx, gpu: { open }, tfjs: null };
  // tfjs-backend-webgpu registers itself only if navigator.gpu exists when it is first loaded.
  Object.defineProperty(globalThis, 'navigator', { value: { gpu }, configurable: true, writable: true });
  return { ctx, gpu: { open }, tfjs: await openTfjsSide(ctx.adapter, backend) };
}
