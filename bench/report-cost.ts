// `npm run bench:report`: what keeping a run's record (a sample frame every few windows,
// samples.gif and report.html at every checkpoint) costs training, per preset: it/s and CPU
// seconds per 1,000 iterations with and without it, in alternating blocks on one trainer
// (bench/report-cost-rows.ts). The Node edge: arguments, Dawn, the data.

import { exitWithUsage, formatError, parseCount, parseFlags } from '../src/cli/common.ts';
import { loadHostData } from '../src/data/datasets-node.ts';
import { preset, PRESET_NAMES } from '../src/gan/presets.ts';
import { openNodeContext } from '../src/gpu/node.ts';
import { loadavg } from 'node:os';
import { describeRecordCost, measureRecordCost } from './report-cost-rows.ts';

const loadAverage = () => loadavg().map((l) => l.toFixed(1)).join(' ');

const USAGE = `usage: npm run bench:report -- [--presets LIST] [--blocks N] [--windows N]
  --presets LIST   comma-separated presets (default toy-1d,mnist: the shortest windows, and images)
  --blocks N       timed blocks per preset, alternating with and without the record, ABBA (default 8)
  --windows N      metrics windows per block (default 10; checkpoints come every 10 windows of
                   the whole run either way, so fewer alternate faster at the same cost)`;

async function main(): Promise<number> {
  const values = parseFlags({ presets: { type: 'string' }, blocks: { type: 'string' }, windows: { type: 'string' } }, USAGE);
  if (typeof values === 'number') return values;
  const names = (values.presets ?? 'toy-1d,mnist').split(',');
  const unknown = names.find((n) => !PRESET_NAMES.includes(n as never));
  if (unknown !== undefined) return exitWithUsage(`--presets: unknown preset '${unknown}' (expected some of ${PRESET_NAMES.join(', ')})`, USAGE);
  let blocks: number;
  let windowsPerBlock: number;
  try {
    blocks = values.blocks === undefined ? 8 : parseCount('--blocks', values.blocks, 2, 400);
    windowsPerBlock = values.windows === undefined ? 10 : parseCount('--windows', values.windows, 1, 1000);
  } catch (e) {
    return exitWithUsage((e as Error).message, USAGE);
  }
  const ctx = await openNodeContext();
  try {
    console.log(`adapter: ${ctx.adapterLine}; load average ${loadAverage()}`);
    for (const name of names) {
      const config = preset(name);
      const cost = await measureRecordCost({ ctx, config, host: await loadHostData(config.data), blocks, windowsPerBlock, log: console.log });
      console.log(describeRecordCost(name, cost));
    }
    console.log(`load average ${loadAverage()}`);
  } finally {
    await ctx.destroy();
  }
  return 0;
}

process.exitCode = await main().catch((e) => {
  console.error(`error: ${formatError(e)}`);
  return 1;
});
