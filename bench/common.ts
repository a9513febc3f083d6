// Helpers the benchmarks share: the autotune store file, the machine's load, medians, markdown
// tables and where results go.

import { execFileSync } from 'node:child_process';
import { mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import type { TuningStore } from '../src/kernels/autotune.ts';

/** The repository root. */
export const ROOT = dirname(dirname(fileURLToPath(import.meta.url)));

/** Where `npm run bench` and `npm run bench:matmul` keep the autotuned matmul choices. */
export const TUNING_FILE = join(ROOT, 'node_modules/.cache/webgpu-gan/matmul-tuning.json');

/** A JSON file store for the autotuned choices (Node only; the engine takes any TuningStore). */
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

/** The 1-minute load average: how much other work shared the machine (0 where unknown). */
export function loadAverage(): string {
  return os.loadavg()[0].toFixed(2);
}

/** The checked-out commit, with `+dirty` when tracked files differ from it; null outside git. */
export function gitCommit(): string | null {
  try {
    const head = execFileSync('git', ['rev-parse', 'HEAD'], { cwd: ROOT, encoding: 'utf8', stdio: ['ignore', 'pipe', 'ignore'] }).trim();
    const dirty = execFileSync('git', ['status', '--porcelain', '--untracked-files=no'], { cwd: ROOT, encoding: 'utf8', stdio: ['ignore', 'pipe', 'ignore'] }).trim();
    return dirty ? `${head}+dirty` : head;
  } catch {
    return null;
  }
}

export function median(values: readonly number[]): number {
  if (!values.length) return NaN;
  const sorted = [...values].sort((a, b) => a - b);
  const mid = sorted.length >> 1;
  return sorted.length % 2 ? sorted[mid] : (sorted[mid - 1] + sorted[mid]) / 2;
}

export function sleep(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms));
}

/** A markdown table, printed one row at a time as the figures arrive. */
export class Table {
  private readonly width: number;

  constructor(header: readonly string[]) {
    this.width = header.length;
    console.log(`| ${header.join(' | ')} |`);
    console.log(`|${header.map(() => '---').join('|')}|`);
  }

  row(cells: readonly (string | number)[]): void {
    if (cells.length !== this.width) throw new Error(`table row has ${cells.length} cells, the header ${this.width}`);
    console.log(`| ${cells.join(' | ')} |`);
  }
}

/** A figure for a table cell: `digits` decimals, or '-' when not measured. */
export function fmt(value: number | undefined | null, digits = 2): string {
  return value === undefined || value === null || !Number.isFinite(value) ? '-' : value.toFixed(digits);
}

/** `ours / theirs` as a ratio cell ('-' when either is missing). */
export function ratio(ours: number | undefined | null, theirs: number | undefined | null): string {
  return ours && theirs && Number.isFinite(ours) && Number.isFinite(theirs) ? `${(ours / theirs).toFixed(2)}x` : '-';
}

/** A file name part from an adapter line: letters, digits and dashes. */
export function slug(text: string): string {
  return text.replace(/\[.*$/, '').replace(/[^A-Za-z0-9.]+/g, '-').replace(/^-+|-+$/g, '').slice(0, 48) || 'adapter';
}

/** Writes `data` as JSON to bench/results/<name>; returns the path. */
export function writeResults(name: string, data: unknown): string {
  const dir = join(ROOT, 'bench/results');
  mkdirSync(dir, { recursive: true });
  const file = join(dir, name);
  writeFileSync(file, JSON.stringify(data, null, 2));
  return file;
}

/** An ISO timestamp usable in a file name. */
export function fileStamp(date = new Date()): string {
  return date.toISOString().replace(/[:.]/g, '-');
}

/** Wall and CPU milliseconds per unit of work. */
export interface Cost {
  ms: number;
  /**
   * CPU time of every thread of this process (the host side and, on a CPU adapter, the
   * adapter's workers): what the work costs whatever else the machine is running.
   */
  cpuMs: number;
}

/** Runs `work` and returns its wall and CPU time divided by `units`. */
export async function measure(units: number, work: () => Promise<void>): Promise<Cost> {
  const cpu = process.cpuUsage();
  const start = performance.now();
  await work();
  const ms = performance.now() - start;
  const used = process.cpuUsage(cpu);
  return { ms: ms / units, cpuMs: (used.user + used.system) / 1000 / units };
}
