// Helpers the benchmarks share on every platform: medians, row filters, markdown tables,
// figures for cells, file names, and wall + CPU time of a piece of work (through the platform
// the edge installed: bench/platform.ts).

import { platform } from './platform.ts';

export function median(values: readonly number[]): number {
  if (!values.length) return NaN;
  const sorted = [...values].sort((a, b) => a - b);
  const mid = sorted.length >> 1;
  return sorted.length % 2 ? sorted[mid] : (sorted[mid - 1] + sorted[mid]) / 2;
}

export function sleep(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms));
}

/** The 1-minute load average: how much other work shared the machine ('unknown' in a browser). */
export function loadAverage(): string {
  return platform().loadAverage();
}

/**
 * Whether a row whose text is `text` passes `filter`: no filter, or one of its alternatives
 * (separated by `|`) is part of the text.
 */
export function matchesFilter(text: string, filter: string | undefined): boolean {
  return !filter || filter.split('|').some((part) => text.includes(part));
}

/** A table of the platform's output (markdown in a terminal), one row at a time as the figures arrive. */
export class Table {
  private readonly width: number;
  private readonly add: (cells: readonly string[]) => void;

  constructor(id: string, header: readonly string[]) {
    this.width = header.length;
    this.add = platform().out.table(id, header);
  }

  row(cells: readonly (string | number)[]): void {
    if (cells.length !== this.width) throw new Error(`table row has ${cells.length} cells, the header ${this.width}`);
    this.add(cells.map(String));
  }
}

/** A line of the platform's output. */
export function say(text: string): void {
  platform().out.line(text);
}

/** What is being measured now (shown by the page). */
export function progress(text: string): void {
  platform().out.progress(text);
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

/** An ISO timestamp usable in a file name. */
export function fileStamp(date = new Date()): string {
  return date.toISOString().replace(/[:.]/g, '-');
}

/** Wall and CPU milliseconds per unit of work. */
export interface Cost {
  ms: number;
  /**
   * CPU time of every thread of this process (the host side and, on a CPU adapter, the
   * adapter's workers): what the work costs whatever else the machine is running. NaN where
   * the platform has no CPU clock (a browser; null once written as JSON).
   */
  cpuMs: number;
}

/** Runs `work` and returns its wall and CPU time divided by `units`. */
export async function measure(units: number, work: () => Promise<void>): Promise<Cost> {
  const { cpuMs } = platform();
  const cpu = cpuMs();
  const start = performance.now();
  await work();
  const ms = performance.now() - start;
  const cpuEnd = cpuMs();
  return { ms: ms / units, cpuMs: cpu === null || cpuEnd === null ? NaN : (cpuEnd - cpu) / units };
}
