// A progress line: iterations, it/s, ETA and the latest metrics. Redrawn in place on a
// terminal; on a pipe (CI logs) one line every few seconds.

import type { MetricsReport } from '../gan/trainer.ts';

const BAR = 24;

function clock(seconds: number): string {
  if (!Number.isFinite(seconds)) return '--:--';
  const s = Math.round(seconds);
  const h = Math.floor(s / 3600);
  const mm = String(Math.floor((s % 3600) / 60)).padStart(2, '0');
  const ss = String(s % 60).padStart(2, '0');
  return h ? `${h}:${mm}:${ss}` : `${mm}:${ss}`;
}

export class Progress {
  private readonly start: number;
  private readonly total: number;
  private readonly began = performance.now();
  private lastPrint = 0;
  private lastLine = '';
  private readonly tty = Boolean(process.stderr.isTTY);

  constructor(start: number, total: number) {
    this.start = start;
    this.total = total;
  }

  update(m: MetricsReport): void {
    const done = m.iteration - this.start;
    const elapsed = (performance.now() - this.began) / 1000;
    const rate = done / elapsed;
    const eta = (this.total - m.iteration) / rate;
    const frac = this.total ? Math.min(1, m.iteration / this.total) : 1;
    const filled = Math.round(frac * BAR);
    const f = (x: number) => x.toFixed(3);
    this.lastLine =
      `[${'#'.repeat(filled)}${'.'.repeat(BAR - filled)}] ${m.iteration}/${this.total} ${(m.itPerSec).toFixed(1)} it/s ETA ${clock(eta)} | ` +
      `D ${f(m.dLoss)} G ${f(m.gLoss)} D(x) ${f(m.dReal)} D(G(z)) ${f(m.dFake)}`;
    const now = performance.now();
    if (this.tty) process.stderr.write(`\r${this.lastLine}\x1b[K`);
    else if (now - this.lastPrint > 5000 || m.iteration >= this.total) {
      process.stderr.write(`${this.lastLine}\n`);
      this.lastPrint = now;
    }
  }

  finish(): void {
    if (this.tty && this.lastLine) process.stderr.write('\n');
  }
}
