// What the benchmark suite needs from the platform it runs on, and nothing else: a CPU clock,
// the machine's load, and where its text and tables go. The suite (bench/suite.ts and the
// sections it runs) is platform-free; each edge installs its platform before running it: the
// terminal in Node (bench/node.ts), the page's log and tables in a browser (bench/page.ts).

/** Where the suite's output goes. */
export interface BenchOutput {
  /** A line of text: a section's heading and notes (may start or end with blank lines). */
  line(text: string): void;
  /**
   * A table, filled one row at a time as the figures arrive; `id` names which (matmul,
   * training, costs, profile, targets) for an edge that renders them apart.
   */
  table(id: string, header: readonly string[]): (cells: readonly string[]) => void;
  /** What is being measured now (the page shows it; the terminal's table rows say enough). */
  progress(text: string): void;
}

export interface BenchPlatform {
  /**
   * CPU milliseconds this process has used, every thread (the host side and, on a CPU adapter,
   * the adapter's workers); null where the platform has no such clock (a browser page).
   */
  cpuMs(): number | null;
  /** The 1-minute load average as text, or 'unknown'. */
  loadAverage(): string;
  out: BenchOutput;
}

/** Markdown on the console, as a terminal shows it (progress left out: the rows say enough). */
export const CONSOLE_OUTPUT: BenchOutput = {
  line: (text) => console.log(text),
  table(_id, header) {
    console.log(markdownRow(header));
    console.log(markdownRule(header.length));
    return (cells) => console.log(markdownRow(cells));
  },
  progress: () => undefined,
};

/** Until an edge installs its own: the console, no CPU clock, load unknown. */
const DEFAULT_PLATFORM: BenchPlatform = { cpuMs: () => null, loadAverage: () => 'unknown', out: CONSOLE_OUTPUT };

let installed: BenchPlatform = DEFAULT_PLATFORM;

/** Installs the edge's platform; the suite reads it through platform(). */
export function setPlatform(p: BenchPlatform): void {
  installed = p;
}

export function platform(): BenchPlatform {
  return installed;
}

/** Whether CPU time can be measured here (the tables leave their CPU columns out where not). */
export function hasCpuClock(): boolean {
  return installed.cpuMs() !== null;
}

/** A markdown table row, as the terminal prints them. */
export function markdownRow(cells: readonly string[]): string {
  return `| ${cells.join(' | ')} |`;
}

/** The rule under a markdown table's header of `width` columns. */
export function markdownRule(width: number): string {
  return `|${new Array<string>(width).fill('---').join('|')}|`;
}
