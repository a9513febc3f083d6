// What keeping a run's record (a sample frame every few windows, samples.gif and report.html
// rewritten at each checkpoint) costs training, measured in one process on one trainer: blocks
// of one checkpoint interval each, alternately with the record and without (ABBA), each block
// trained as `npm run train` trains (metrics appended to metrics.csv, a checkpoint and
// samples.png at the block's end). Alternating blocks of a few seconds within one process keeps
// the load of the rest of the machine (it varies by minutes) out of the ratio. Node only.

import { appendFileSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { HostData } from '../src/data/source.ts';
import { saveCheckpoint } from '../src/gan/checkpoint.ts';
import type { GanConfig } from '../src/gan/config.ts';
import { GanTrainer } from '../src/gan/trainer.ts';
import type { GpuContext } from '../src/gpu/context.ts';
import { writeFileAtomic, writePng } from '../src/cli/files.ts';
import { RunRecorder } from '../src/report/recorder-node.ts';
import { previewSamples } from '../src/viz/samples.ts';

export interface RecordCostOptions {
  ctx: GpuContext;
  config: GanConfig;
  host: HostData;
  /** Timed blocks (a multiple of 4 keeps ABBA whole); each is one checkpoint interval. */
  blocks: number;
  /** Metrics windows per block (the default checkpoint interval of npm run train: 10). */
  windowsPerBlock?: number;
  log?: (line: string) => void;
}

export interface ModeFigures {
  iterations: number;
  seconds: number;
  itPerSec: number;
  /** Process CPU seconds (the software adapter's threads included) per 1,000 iterations. */
  cpuPer1000: number;
}

export interface RecordCost {
  withRecord: ModeFigures;
  without: ModeFigures;
  /** 1 - it/s with the record / it/s without. */
  slowdown: number;
  /** Frames taken in the timed blocks with the record. */
  frames: number;
  /** Frames per window with the record: the schedule of the config's whole run. */
  everyWindows: number;
}

/** Trains blocks alternately with and without the run's record and returns both speeds. */
export async function measureRecordCost(options: RecordCostOptions): Promise<RecordCost> {
  const { ctx, config, host } = options;
  const windowsPerBlock = options.windowsPerBlock ?? 10;
  const blockIterations = windowsPerBlock * config.logEvery;
  const dir = mkdtempSync(join(tmpdir(), 'gan-record-cost-'));
  const trainer = await GanTrainer.create(ctx, config, host);
  try {
    const csv = join(dir, 'metrics.csv');
    writeFileSync(csv, 'iteration,d_loss,g_loss,d_real,d_fake,it_per_s\n');
    writeFileSync(join(dir, 'config.json'), JSON.stringify(config));
    const recorder = await RunRecorder.open({ dir, trainer, continuing: false, writeFile: writeFileAtomic });
    const block = async (record: boolean) => {
      const end = trainer.iteration + blockIterations;
      while (trainer.iteration < end) {
        const next = record ? recorder.stopAt(end) : end;
        await trainer.run(next - trainer.iteration, {
          onMetrics: (m) => appendFileSync(csv, `${m.iteration},${m.dLoss},${m.gLoss},${m.dReal},${m.dFake},${m.itPerSec.toFixed(2)}\n`),
        });
        if (record) recorder.frame();
      }
      // The block ends at a checkpoint, as npm run train's intervals do.
      await writeFileAtomic(join(dir, 'checkpoint.safetensors'), await saveCheckpoint(trainer));
      await writePng(join(dir, 'samples.png'), (await previewSamples(trainer)).image);
      if (record) {
        recorder.checkpoint(trainer.iteration);
        // The record's work of this block finishes in this block's time.
        await recorder.finish();
      }
    };
    // Untimed: builds the sampling workspaces and warms every path.
    await block(true);
    await block(false);
    const framesBefore = recorder.frameCount;
    const totals = { true: { iterations: 0, seconds: 0, cpu: 0 }, false: { iterations: 0, seconds: 0, cpu: 0 } };
    for (let b = 0; b < options.blocks; b++) {
      const record = b % 4 === 0 || b % 4 === 3;
      const began = performance.now();
      const cpu = process.cpuUsage();
      await block(record);
      const used = process.cpuUsage(cpu);
      const t = totals[`${record}`];
      t.iterations += blockIterations;
      t.seconds += (performance.now() - began) / 1000;
      t.cpu += (used.user + used.system) / 1e6;
      options.log?.(`  block ${b + 1}/${options.blocks} ${record ? 'with the record' : 'without      '}: ${(blockIterations / ((performance.now() - began) / 1000)).toFixed(1)} it/s`);
    }
    const figures = (t: { iterations: number; seconds: number; cpu: number }): ModeFigures => ({
      iterations: t.iterations,
      seconds: t.seconds,
      itPerSec: t.iterations / t.seconds,
      cpuPer1000: (t.cpu / t.iterations) * 1000,
    });
    const withRecord = figures(totals.true);
    const without = figures(totals.false);
    return { withRecord, without, slowdown: 1 - withRecord.itPerSec / without.itPerSec, frames: recorder.frameCount - framesBefore, everyWindows: recorder.schedule.everyWindows };
  } finally {
    trainer.destroy();
    rmSync(dir, { recursive: true, force: true });
  }
}

/** The figures as one line. */
export function describeRecordCost(name: string, cost: RecordCost): string {
  const w = cost.withRecord;
  const o = cost.without;
  return (
    `${name}: ${w.itPerSec.toFixed(1)} it/s with the record (a frame every ${cost.everyWindows} window(s), ${cost.frames} frames; GIF and report at every checkpoint), ` +
    `${o.itPerSec.toFixed(1)} without: ${(cost.slowdown * 100).toFixed(1)}% slower; CPU ${w.cpuPer1000.toFixed(1)} / ${o.cpuPer1000.toFixed(1)} s per 1,000 iterations`
  );
}
