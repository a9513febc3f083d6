// The metric charts (uPlot): D and G losses, and mean D(x) and D(G(z)) against the 0.5 that
// both approach at the GAN's equilibrium. Points arrive once per metric window; the charts
// redraw at most once per animation frame.

import uPlot from 'uplot';
import 'uplot/dist/uPlot.min.css';
import type { MetricsReport } from '../gan/trainer.ts';

const HEIGHT = 220;

function chart(root: HTMLElement, title: string, series: uPlot.Series[], yRange?: [number, number]): uPlot {
  const opts: uPlot.Options = {
    title,
    width: Math.max(280, root.clientWidth),
    height: HEIGHT,
    scales: { x: { time: false }, y: yRange ? { range: yRange } : {} },
    axes: [{ label: 'iteration' }, {}],
    series: [{ label: 'iteration' }, ...series],
    legend: { live: true },
  };
  return new uPlot(opts, [[], ...series.map(() => [])] as uPlot.AlignedData, root);
}

export class MetricsCharts {
  private readonly losses: uPlot;
  private readonly outputs: uPlot;
  private readonly iterations: number[] = [];
  private readonly dLoss: number[] = [];
  private readonly gLoss: number[] = [];
  private readonly dReal: number[] = [];
  private readonly dFake: number[] = [];
  private readonly half: number[] = [];
  private frame = 0;

  constructor(lossRoot: HTMLElement, outputRoot: HTMLElement) {
    this.losses = chart(lossRoot, 'Losses', [
      { label: 'D loss', stroke: '#d62728', width: 1.5 },
      { label: 'G loss', stroke: '#1f77b4', width: 1.5 },
    ]);
    this.outputs = chart(
      outputRoot,
      'Discriminator outputs',
      [
        { label: 'mean D(x)', stroke: '#2ca02c', width: 1.5 },
        { label: 'mean D(G(z))', stroke: '#ff7f0e', width: 1.5 },
        { label: 'equilibrium 0.5', stroke: '#888', dash: [6, 4], width: 1 },
      ],
      [0, 1],
    );
    const resize = new ResizeObserver(() => {
      for (const [plot, root] of [[this.losses, lossRoot], [this.outputs, outputRoot]] as const) {
        plot.setSize({ width: Math.max(280, root.clientWidth), height: HEIGHT });
      }
    });
    resize.observe(lossRoot);
    resize.observe(outputRoot);
  }

  push(m: MetricsReport): void {
    // A window reported again (a step after a restore, say) replaces nothing: keep x increasing.
    if (this.iterations.length && m.iteration <= this.iterations[this.iterations.length - 1]) this.truncate(m.iteration);
    this.iterations.push(m.iteration);
    this.dLoss.push(m.dLoss);
    this.gLoss.push(m.gLoss);
    this.dReal.push(m.dReal);
    this.dFake.push(m.dFake);
    this.half.push(0.5);
    this.schedule();
  }

  clear(): void {
    this.truncate(-Infinity);
    this.schedule();
  }

  get points(): number {
    return this.iterations.length;
  }

  private truncate(fromIteration: number): void {
    let keep = this.iterations.length;
    while (keep > 0 && this.iterations[keep - 1] >= fromIteration) keep--;
    for (const a of [this.iterations, this.dLoss, this.gLoss, this.dReal, this.dFake, this.half]) a.length = keep;
  }

  private schedule(): void {
    if (this.frame) return;
    this.frame = requestAnimationFrame(() => {
      this.frame = 0;
      this.losses.setData([this.iterations, this.dLoss, this.gLoss]);
      this.outputs.setData([this.iterations, this.dReal, this.dFake, this.half]);
    });
  }
}
