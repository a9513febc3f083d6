// Interrupting a long run without losing it. SIGINT (Ctrl-C), SIGTERM (`timeout`, `docker
// stop`, `kill`) and SIGHUP (a closed terminal) all ask the run to stop at its next safe point
// and save; the process then exits with 128 + the signal's number, as if the signal had killed
// it (130, 143, 129), so scripts see an interrupted run as one. A second request quits at once.

import { constants } from 'node:os';

export const STOP_SIGNALS = ['SIGINT', 'SIGTERM', 'SIGHUP'] as const;
export type StopSignal = (typeof STOP_SIGNALS)[number];

/**
 * Signals this close together are one request: Ctrl-C reaches both `npm` and the process, and
 * npm forwards its copy; `timeout` signals its child and the child's process group. A person
 * asking twice takes longer than this.
 */
const SAME_REQUEST_MS = 1000;

export class Interrupts {
  private first: { signal: StopSignal; at: number } | null = null;
  private readonly handlers = new Map<StopSignal, () => void>();
  private readonly ignoreOutputErrors = () => undefined;

  /** `stopping` says what the run does now that it was asked to stop (printed on the first signal). */
  constructor(stopping: string) {
    for (const signal of STOP_SIGNALS) {
      const handler = () => this.receive(signal, stopping);
      this.handlers.set(signal, handler);
      process.on(signal, handler);
    }
    // After SIGHUP the terminal is gone and writes to it fail (EIO), as they do on a closed
    // pipe (EPIPE); the run must still save, so such write errors are not fatal.
    process.stdout.on('error', this.ignoreOutputErrors);
    process.stderr.on('error', this.ignoreOutputErrors);
  }

  /** True once a stop was asked for. */
  get requested(): boolean {
    return this.first !== null;
  }

  /** The first signal received, if any. */
  get signal(): StopSignal | null {
    return this.first?.signal ?? null;
  }

  /** 128 + the first signal's number once interrupted (what a shell reports for a process the signal killed); 0 before. */
  get exitCode(): number {
    return this.first ? 128 + constants.signals[this.first.signal] : 0;
  }

  /** Restores the default handling of the signals. */
  dispose(): void {
    for (const [signal, handler] of this.handlers) process.off(signal, handler);
    this.handlers.clear();
    process.stdout.off('error', this.ignoreOutputErrors);
    process.stderr.off('error', this.ignoreOutputErrors);
  }

  private receive(signal: StopSignal, stopping: string): void {
    const now = performance.now();
    if (!this.first) {
      this.first = { signal, at: now };
      const again = signal === 'SIGINT' ? 'Ctrl-C' : signal;
      process.stderr.write(`\n${signal}: ${stopping} (${again} again to quit without saving)\n`);
      return;
    }
    if (now - this.first.at < SAME_REQUEST_MS) return;
    process.stderr.write(`\n${signal} again: quitting without saving\n`);
    process.exit(this.exitCode);
  }
}
