// The charts (uPlot): D and G losses; D's mean output on real and on generated rows (against
// the 0.5 both approach at the GAN's equilibrium when D outputs a probability; a raw score has
// no such line); and quality over time (quality.ts). Points arrive once per metric window or
// measurement; each chart redraws at most once per animation frame. The rows are kept so a
// checkpoint can carry them (history.ts) and a loaded one can bring them back.

import uPlot from 'uplot';
import 'uplot/dist/uPlot.min.css';
import type { Metrics } from '../kernels/metrics.ts';

const HEIGHT = 220;

export type OutputKind = 'probability' | 'score';

/** One metric window: the iteration it ends at and its means (NaN where nothing was summed). */
export interface MetricRow extends Metrics {
  iteration: number;
}

function chart(root: HTMLElement, title: string, series: uPlot.Series[], scales: uPlot.Scales = {}, axes: uPlot.Axis[] = [{}]): uPlot {
  root.replaceChildren();
  const opts: uPlot.Options = {
    title,
    width: Math.max(280, root.clientWidth),
    height: HEIGHT,
    scales: { x: { time: false }, ...scales },
    axes: [{ label: 'iteration' }, ...axes],
    series: [{ label: 'iteration' }, ...series],
    legend: { live: true },
  };
  return new uPlot(opts, [[], ...series.map(() => [])] as uPlot.AlignedData, root);
}

/** uPlot draws null as a gap; NaN (a phase that summed nothing) must become one. */
function gaps(values: readonly number[]): (number | null)[] {
  return values.map((v) => (Number.isFinite(v) ? v : null));
}

/**
 * Rows kept in iteration order, drawn by one uPlot once per frame. A row at or before the last
 * one (a run restored to an earlier iteration) cuts the later rows off first.
 */
export class RowChart<Row extends { iteration: number }> {
  private plot: uPlot;
  private readonly root: HTMLElement;
  private readonly rowsKept: Row[] = [];
  private columns: (rows: readonly Row[]) => (number | null)[][];
  private frame = 0;

  constructor(root: HTMLElement, make: () => uPlot, columns: (rows: readonly Row[]) => (number | null)[][]) {
    this.root = root;
    this.plot = make();
    this.columns = columns;
    new ResizeObserver(() => this.plot.setSize({ width: Math.max(280, root.clientWidth), height: HEIGHT })).observe(root);
  }

  /** Rebuilds the plot (new series or labels), keeping the rows. */
  remake(make: () => uPlot, columns: (rows: readonly Row[]) => (number | null)[][]): void {
    this.plot.destroy();
    this.plot = make();
    this.columns = columns;
    this.schedule();
  }

  push(row: Row): void {
    this.truncate(row.iteration);
    this.rowsKept.push(row);
    this.schedule();
  }

  /** Replaces a row of this iteration, if there is one (a measurement finishing later). */
  update(iteration: number, change: (row: Row) => void): void {
    const row = this.rowsKept.find((r) => r.iteration === iteration);
    if (!row) return;
    change(row);
    this.schedule();
  }

  /** Keeps only rows before `iteration`. */
  truncate(iteration: number): void {
    let keep = this.rowsKept.length;
    while (keep > 0 && this.rowsKept[keep - 1].iteration >= iteration) keep--;
    if (keep === this.rowsKept.length) return;
    this.rowsKept.length = keep;
    this.schedule();
  }

  load(rows: readonly Row[]): void {
    this.rowsKept.length = 0;
    for (const r of rows) this.push(r);
    this.schedule();
  }

  clear(): void {
    this.truncate(-Infinity);
  }

  get rows(): readonly Row[] {
    return this.rowsKept;
  }

  get element(): HTMLElement {
    return this.root;
  }

  private schedule(): void {
    if (this.frame) return;
    this.frame = requestAnimationFrame(() => {
      this.frame = 0;
      this.plot.setData([this.rowsKept.map((r) => r.iteration), ...this.columns(this.rowsKept)] as uPlot.AlignedData);
    });
  }
}

/** The losses and D's outputs, from the metric windows. */
export class MetricsCharts {
  private readonly losses: RowChart<MetricRow>;
  private readonly outputs: RowChart<MetricRow>;
  private output: OutputKind = 'probability';

  constructor(lossRoot: HTMLElement, outputRoot: HTMLElement) {
    this.losses = new RowChart<MetricRow>(
      lossRoot,
      () =>
        chart(lossRoot, 'Losses', [
          { label: 'D loss', stroke: '#d62728', width: 1.5 },
          { label: 'G loss', stroke: '#1f77b4', width: 1.5 },
        ]),
      (rows) => [gaps(rows.map((r) => r.dLoss)), gaps(rows.map((r) => r.gLoss))],
    );
    this.outputs = new RowChart<MetricRow>(outputRoot, () => this.makeOutputs(outputRoot), (rows) => this.outputColumns(rows));
  }

  /** What D's output means: a probability (0..1, the 0.5 line) or a raw score (its own range). */
  setOutput(kind: OutputKind): void {
    if (kind === this.output) return;
    this.output = kind;
    const root = this.outputs.element;
    this.outputs.remake(() => this.makeOutputs(root), (rows) => this.outputColumns(rows));
  }

  push(m: MetricRow): void {
    const row = { iteration: m.iteration, dLoss: m.dLoss, gLoss: m.gLoss, dReal: m.dReal, dFake: m.dFake };
    this.losses.push(row);
    this.outputs.push(row);
  }

  load(rows: readonly MetricRow[]): void {
    this.losses.load(rows);
    this.outputs.load(rows);
  }

  truncate(iteration: number): void {
    this.losses.truncate(iteration);
    this.outputs.truncate(iteration);
  }

  clear(): void {
    this.losses.clear();
    this.outputs.clear();
  }

  get rows(): readonly MetricRow[] {
    return this.losses.rows;
  }

  get points(): number {
    return this.losses.rows.length;
  }

  private makeOutputs(root: HTMLElement): uPlot {
    if (this.output === 'score') {
      return chart(root, "Discriminator's mean score (raw)", [
        { label: 'mean D(x) score', stroke: '#2ca02c', width: 1.5 },
        { label: 'mean D(G(z)) score', stroke: '#ff7f0e', width: 1.5 },
      ]);
    }
    return chart(
      root,
      'Discriminator outputs',
      [
        { label: 'mean D(x)', stroke: '#2ca02c', width: 1.5 },
        { label: 'mean D(G(z))', stroke: '#ff7f0e', width: 1.5 },
        { label: 'equilibrium 0.5', stroke: '#888', dash: [6, 4], width: 1 },
      ],
      { y: { range: [0, 1] } },
    );
  }

  private outputColumns(rows: readonly MetricRow[]): (number | null)[][] {
    const columns = [gaps(rows.map((r) => r.dReal)), gaps(rows.map((r) => r.dFake))];
    if (this.output === 'probability') columns.push(rows.map(() => 0.5));
    return columns;
  }
}

/** A chart of two quality figures over iterations, each on its own axis (left and right). */
export function twoAxisChart(root: HTMLElement, title: string, left: { label: string; stroke: string; range?: [number, number] }, right: { label: string; stroke: string; range?: [number, number] }): uPlot {
  return chart(
    root,
    title,
    [
      { label: left.label, stroke: left.stroke, width: 1.5, scale: 'left', points: { show: true } },
      { label: right.label, stroke: right.stroke, width: 1.5, scale: 'right', points: { show: true } },
    ],
    { left: left.range ? { range: left.range } : {}, right: right.range ? { range: right.range } : {} },
    [
      { scale: 'left', label: left.label, stroke: left.stroke },
      { scale: 'right', label: right.label, stroke: right.stroke, side: 1, grid: { show: false } },
    ],
  );
}

export { gaps };
