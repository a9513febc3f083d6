// One phase of an iteration at a time: the D updates alone, or the G update alone, from the
// trainer's recorded phases. The page steps D only, G only, and in slow motion runs the D phase
// in one animation frame and the G phase in the next.
//
// The clock keys every random draw and counts iterations with the host's counter, so it must
// tick exactly once per counted iteration:
// - 'd' runs the D phase and does not tick the clock: the G phase that follows ('g') completes
//   the same iteration, so 'd' then 'g' is one iteration, bit for bit what trainer.run(1) does
//   (the same updates in the same order, only in two submissions);
// - 'g' runs the G phase and ticks: an iteration whose D phase was skipped when 'd' did not
//   precede it (Step G only);
// - 'd+tick' runs the D phase and ticks: an iteration in which G stood still (Step D only).
// Each phase also advances the step count of the optimizer it updated (trainer.tickOf).

import { fill } from '../kernels/fill.ts';
import { metricsFromSums, type Metrics } from '../kernels/metrics.ts';
import type { Step } from '../gpu/context.ts';
import type { GanTrainer } from '../gan/trainer.ts';
import { download } from '../tensor/tensor.ts';

export type Phase = 'd' | 'g' | 'd+tick';

export interface PhaseReport extends Metrics {
  phase: Phase;
  /** The iteration count after the phase (unchanged by 'd'). */
  iteration: number;
}

/** The zeroing of a trainer's metric sums, recorded once per trainer (nothing is created per phase). */
const resets = new WeakMap<GanTrainer, Step>();

function resetOf(trainer: GanTrainer): Step {
  let reset = resets.get(trainer);
  if (!reset) {
    reset = fill(trainer.ctx, trainer.metrics, 0);
    resets.set(trainer, reset);
  }
  return reset;
}

/**
 * Runs one phase and reads its metric sums back: D's loss and outputs after a D phase (G's
 * loss is NaN, nothing having summed it), G's loss after a G phase. `keepSums` leaves the sums
 * of the phase before in place, so a 'd' then a 'g' report a whole iteration's metrics.
 */
export async function runPhase(trainer: GanTrainer, phase: Phase, opts: { keepSums?: boolean } = {}): Promise<PhaseReport> {
  const steps: Step[] = opts.keepSums ? [] : [resetOf(trainer)];
  // gAlone: G's noise may be drawn in the D phase; after 'd' the redraw gives the same numbers.
  steps.push(...(phase === 'g' ? trainer.phases.gAlone : trainer.phases.d));
  const ticks = phase !== 'd';
  steps.push(...trainer.tickOf({ clock: ticks, d: phase !== 'g', g: phase === 'g' }));
  trainer.ctx.run(steps);
  if (ticks) trainer.setIteration(trainer.iteration + 1);
  const sums = await download(trainer.ctx, trainer.metrics);
  return { ...metricsFromSums(sums), phase, iteration: trainer.iteration };
}
