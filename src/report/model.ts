// What a report shows of a run, as plain data: the config, the metrics rows, the frames, the
// evaluation, and what is missing or damaged. Read from a run directory by run-dir-node.ts;
// turned into HTML by html.ts. The figures derived here (final figures, flattened configs and
// what differs between runs) are the same for one run and for a comparison.

import { createLoss } from '../loss/index.ts';

/** One row of metrics.csv: a metrics window's means, at the iteration the window ends. */
export interface MetricRow {
  iteration: number;
  dLoss: number;
  gLoss: number;
  dReal: number;
  dFake: number;
  /** Iterations per second over the window (NaN when the file has no it_per_s column). */
  itPerSec: number;
}

export interface ReportFrame {
  iteration: number;
  png: Uint8Array;
}

export interface RunData {
  /** What the report calls the run: its directory's name. */
  name: string;
  /** The directory as given. */
  dir: string;
  /** config.json (or, without one, the checkpoint's config); null when neither could be read. */
  config: Record<string, unknown> | null;
  metrics: MetricRow[];
  /** The frames, by iteration. */
  frames: ReportFrame[];
  /** eval.json, when `npm run eval` wrote one. */
  evaluation: Record<string, unknown> | null;
  /** The checkpoint's iteration, when there is a readable checkpoint. */
  checkpointIteration: number | null;
  /** Files that are missing or damaged, each naming the file and what is wrong with it. */
  problems: string[];
}

/** The columns metrics.csv holds, by the names in its header. */
const CSV_COLUMNS = { iteration: 'iteration', dLoss: 'd_loss', gLoss: 'g_loss', dReal: 'd_real', dFake: 'd_fake', itPerSec: 'it_per_s' } as const;

/**
 * The rows of metrics.csv, and what is wrong with the file: a missing column, rows cut short (an
 * interrupted append leaves the last one half-written) or out of order. Good rows are kept.
 */
export function parseMetricsCsv(text: string, name = 'metrics.csv'): { rows: MetricRow[]; problems: string[] } {
  const lines = text.split('\n');
  const header = lines[0].trim().split(',');
  const problems: string[] = [];
  const at = Object.fromEntries(Object.entries(CSV_COLUMNS).map(([key, column]) => [key, header.indexOf(column)])) as Record<keyof MetricRow, number>;
  const missing = (Object.keys(CSV_COLUMNS) as (keyof MetricRow)[]).filter((k) => k !== 'itPerSec' && at[k] < 0);
  if (!text.trim()) return { rows: [], problems: [`${name} is empty`] };
  if (missing.length) return { rows: [], problems: [`${name}: its header '${lines[0].slice(0, 80)}' lacks ${missing.map((k) => CSV_COLUMNS[k]).join(', ')}`] };
  const rows: MetricRow[] = [];
  const bad: number[] = [];
  let outOfOrder = 0;
  for (let i = 1; i < lines.length; i++) {
    const line = lines[i];
    if (!line.trim()) continue;
    const cells = line.split(',');
    const value = (k: keyof MetricRow) => (at[k] >= 0 && at[k] < cells.length && cells[at[k]].trim() !== '' ? Number(cells[at[k]]) : NaN);
    const row: MetricRow = { iteration: value('iteration'), dLoss: value('dLoss'), gLoss: value('gLoss'), dReal: value('dReal'), dFake: value('dFake'), itPerSec: value('itPerSec') };
    // A row the last append cut short lacks cells, or ends inside a number without its newline.
    const cutShort = cells.length < header.length || (i === lines.length - 1 && !text.endsWith('\n'));
    if (cutShort || !Number.isSafeInteger(row.iteration) || row.iteration < 0 || [row.dLoss, row.gLoss, row.dReal, row.dFake].some((v) => Number.isNaN(v))) {
      bad.push(i + 1);
      continue;
    }
    if (rows.length && row.iteration <= rows[rows.length - 1].iteration) {
      outOfOrder++;
      continue;
    }
    rows.push(row);
  }
  if (bad.length) problems.push(`${name}: ${bad.length === 1 ? `line ${bad[0]} is` : `lines ${bad.slice(0, 5).join(', ')}${bad.length > 5 ? ', ...' : ''} are`} cut short or not numbers (an interrupted write?); skipped`);
  if (outOfOrder) problems.push(`${name}: ${outOfOrder} row(s) do not follow the iteration before them; skipped`);
  return { rows, problems };
}

export interface FinalFigures {
  /** The last iteration with metrics (null: no metrics). */
  iteration: number | null;
  /** The config's iteration target. */
  target: number | null;
  dLoss: number;
  gLoss: number;
  dReal: number;
  dFake: number;
  /** Iterations over training seconds, across every window with a speed. */
  itPerSec: number;
  /** The sum of the windows' durations (iterations / it/s): training time, without start-up. */
  trainingSeconds: number;
  frames: number;
}

/** The run's last window and its speed over the whole run. */
export function finalFigures(run: RunData): FinalFigures {
  const last = run.metrics[run.metrics.length - 1];
  let iterations = 0;
  let seconds = 0;
  const logEvery = typeof run.config?.logEvery === 'number' && run.config.logEvery >= 1 ? run.config.logEvery : null;
  run.metrics.forEach((row, i) => {
    // Windows end at multiples of logEvery, so the first row's (a resumed run's file may start
    // late) began at the multiple before it.
    const window = i ? row.iteration - run.metrics[i - 1].iteration : logEvery ? ((row.iteration - 1) % logEvery) + 1 : row.iteration;
    if (row.itPerSec > 0 && window > 0) {
      iterations += window;
      seconds += window / row.itPerSec;
    }
  });
  const target = typeof run.config?.iterations === 'number' ? run.config.iterations : null;
  return {
    iteration: last?.iteration ?? null,
    target,
    dLoss: last?.dLoss ?? NaN,
    gLoss: last?.gLoss ?? NaN,
    dReal: last?.dReal ?? NaN,
    dFake: last?.dFake ?? NaN,
    itPerSec: seconds ? iterations / seconds : NaN,
    trainingSeconds: seconds,
    frames: run.frames.length,
  };
}

/** Where the run stands, in words: complete, or how far it got. */
export function runStatus(run: RunData): string {
  const f = finalFigures(run);
  const reached = Math.max(f.iteration ?? 0, run.checkpointIteration ?? 0, run.frames.at(-1)?.iteration ?? 0);
  if (f.target === null) return `iteration ${reached} (no config: the target is unknown)`;
  if (reached >= f.target) return `complete: ${f.target} iterations`;
  return `iteration ${reached} of ${f.target}: stopped early (interrupted or diverged), or still training`;
}

/** What D's mean outputs are: probabilities (with the 0.5 of the GAN's equilibrium) or raw scores. */
export function discriminatorOutput(config: Record<string, unknown> | null): 'probability' | 'score' {
  try {
    return createLoss({ loss: String(config?.loss), gLoss: config?.gLoss as never }).output;
  } catch {
    return 'probability';
  }
}

/** Arrays of at most this many plain values are shown as one value; longer ones entry by entry. */
const SHORT_ARRAY = 16;

/**
 * A JSON value as dotted paths and the text of each leaf ('generator.layers.0.units' -> '256'),
 * in the order the object lists them.
 */
export function flatten(value: unknown, prefix = ''): [string, string][] {
  if (value === null || typeof value !== 'object') return [[prefix, value === undefined ? '' : typeof value === 'string' ? value : JSON.stringify(value)]];
  if (Array.isArray(value) && value.length <= SHORT_ARRAY && value.every((v) => v === null || typeof v !== 'object')) return [[prefix, JSON.stringify(value)]];
  const entries = Array.isArray(value) ? value.map((v, i) => [String(i), v] as const) : Object.entries(value);
  if (!entries.length) return [[prefix, Array.isArray(value) ? '[]' : '{}']];
  return entries.flatMap(([k, v]) => flatten(v, prefix ? `${prefix}.${k}` : k));
}

export interface ConfigDiff {
  /** Fields whose values differ between the runs (undefined where a run lacks the field). */
  differing: { path: string; values: (string | undefined)[] }[];
  /** Fields every run holds with the same value. */
  same: { path: string; value: string }[];
}

/** The config fields that differ between runs, and those that do not, in the configs' order. */
export function configDiff(configs: readonly (Record<string, unknown> | null)[]): ConfigDiff {
  const tables = configs.map((c) => new Map(c ? flatten(c) : []));
  const paths: string[] = [];
  const seen = new Set<string>();
  for (const t of tables) {
    for (const p of t.keys()) {
      if (!seen.has(p)) {
        seen.add(p);
        paths.push(p);
      }
    }
  }
  const diff: ConfigDiff = { differing: [], same: [] };
  for (const path of paths) {
    const values = tables.map((t) => t.get(path));
    if (values.every((v) => v !== undefined && v === values[0])) diff.same.push({ path, value: values[0]! });
    else diff.differing.push({ path, values });
  }
  return diff;
}
