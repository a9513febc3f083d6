// `npm run bench:features`: what the adapter offers the kernels beyond core WebGPU, and which
// Dawn options change that: the optional features (shader-f16, subgroups and their sizes,
// chromium-experimental-subgroup-matrix and its configurations), a few limits the tiled matmul
// sizes itself by, and the adapter's own description. Each option set opens a Dawn instance of
// its own; nothing is compiled or run. The report goes to the console and to bench/results/.

import { createRequire } from 'node:module';
import { formatError } from '../src/cli/common.ts';
import { fileStamp, slug } from './common.ts';
import { writeResults } from './node.ts';

/** Dawn options to try, each on its own instance: the default, then the unsafe-API toggle that experimental features sit behind. */
const OPTION_SETS: readonly string[][] = [[], ['enable-dawn-features=allow_unsafe_apis']];

const WATCHED = ['shader-f16', 'subgroups', 'chromium-experimental-subgroup-matrix', 'timestamp-query'];
const LIMITS = ['maxComputeWorkgroupStorageSize', 'maxComputeInvocationsPerWorkgroup', 'maxStorageBufferBindingSize', 'maxBufferSize'] as const;

interface Offer {
  options: string[];
  adapter: string | null;
  features: string[];
  watched: Record<string, boolean>;
  subgroupSizes?: [number, number];
  subgroupMatrixConfigs?: Record<string, unknown>[];
  limits: Record<string, number>;
}

/** A subgroup matrix configuration's fields (Dawn's objects keep them as getters, which JSON does not see). */
function matrixConfig(c: Record<string, unknown>): Record<string, unknown> {
  return Object.fromEntries(['componentType', 'resultComponentType', 'M', 'N', 'K'].map((k) => [k, c[k]]));
}

async function offer(webgpu: { create(options: string[]): GPU }, options: string[]): Promise<Offer> {
  const adapter = await webgpu.create(options).requestAdapter({ powerPreference: 'high-performance' });
  if (!adapter) return { options, adapter: null, features: [], watched: {}, limits: {} };
  const info = adapter.info as GPUAdapterInfo & { subgroupMinSize?: number; subgroupMaxSize?: number; subgroupMatrixConfigs?: unknown };
  const features = [...(adapter.features as unknown as Iterable<string>)].sort();
  return {
    options,
    adapter: `${info.vendor} ${info.architecture} ${info.device} ${info.description}`.replace(/\s+/g, ' ').trim(),
    features,
    watched: Object.fromEntries(WATCHED.map((f) => [f, features.includes(f)])),
    subgroupSizes: info.subgroupMinSize ? [info.subgroupMinSize, info.subgroupMaxSize ?? 0] : undefined,
    subgroupMatrixConfigs: info.subgroupMatrixConfigs ? [...(info.subgroupMatrixConfigs as Iterable<Record<string, unknown>>)].map(matrixConfig) : undefined,
    limits: Object.fromEntries(LIMITS.map((l) => [l, adapter.limits[l] as number])),
  };
}

async function main(): Promise<number> {
  process.env.XDG_RUNTIME_DIR ??= '/tmp';
  const webgpu = createRequire(import.meta.url)('webgpu') as { create(options: string[]): GPU; globals: Record<string, unknown> };
  Object.assign(globalThis, webgpu.globals);
  const offers: Offer[] = [];
  for (const options of OPTION_SETS) {
    const o = await offer(webgpu, options);
    offers.push(o);
    console.log(`\nDawn options: ${options.length ? options.join(' ') : '(none)'}`);
    if (!o.adapter) {
      console.log('  no adapter');
      continue;
    }
    console.log(`  adapter: ${o.adapter}`);
    console.log(`  ${WATCHED.map((f) => `${f} ${o.watched[f] ? 'yes' : 'no'}`).join(', ')}`);
    if (o.subgroupSizes) console.log(`  subgroup sizes ${o.subgroupSizes[0]}-${o.subgroupSizes[1]}`);
    if (o.subgroupMatrixConfigs) console.log(`  subgroup matrix configurations: ${JSON.stringify(o.subgroupMatrixConfigs)}`);
    console.log(`  limits: ${Object.entries(o.limits).map(([k, v]) => `${k} ${v}`).join(', ')}`);
    console.log(`  all features: ${o.features.join(' ')}`);
  }
  const name = offers.find((o) => o.adapter)?.adapter ?? 'no-adapter';
  const file = await writeResults(`features-${slug(name)}-${fileStamp()}.json`, { node: process.version, offers });
  console.log(`\nwrote ${file}`);
  return 0;
}

process.exitCode = await main().catch((e) => {
  console.error(formatError(e));
  return 1;
});
