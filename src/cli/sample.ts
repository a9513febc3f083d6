// `npm run sample`: N samples from a checkpoint's generator as a NumPy .npy float32 [N, dim]
// array, and with --grid a PNG picture of them next to it.

import { parseArgs } from 'node:util';
import { readCheckpoint } from '../gan/checkpoint.ts';
import { Sampler } from '../gan/sampler.ts';
import { openNodeContext } from '../gpu/node.ts';
import { encodeNpy } from '../io/npy.ts';
import { renderSamples } from '../viz/samples.ts';
import { exitWithUsage, formatError, parseCount, UsageError } from './common.ts';
import { readFileOrExplain, writeFileAtomic, writePng } from './files.ts';

const USAGE = `usage: npm run sample -- --checkpoint FILE [--n N] [--out FILE.npy] [--grid] [--seed S] [--digit D]
  --checkpoint FILE   a checkpoint.safetensors written by npm run train
  --n N               number of samples (default 100)
  --digit D           the digit to draw (conditional presets such as cgan; default: one row per digit)
  --out FILE          the .npy to write (default samples.npy)
  --grid              also write the picture of the samples as FILE with .png
  --seed S            noise seed (default 0)
  --backend OPT       Dawn option passed through (repeatable)`;

async function main(argv: string[]): Promise<number> {
  let values;
  try {
    ({ values } = parseArgs({
      args: argv,
      options: {
        checkpoint: { type: 'string' },
        n: { type: 'string', default: '100' },
        out: { type: 'string', default: 'samples.npy' },
        grid: { type: 'boolean', default: false },
        seed: { type: 'string', default: '0' },
        digit: { type: 'string' },
        backend: { type: 'string', multiple: true },
        help: { type: 'boolean', short: 'h' },
      },
      strict: true,
      allowPositionals: false,
    }));
    if (values.help) {
      console.log(USAGE);
      return 0;
    }
    if (!values.checkpoint) throw new UsageError('--checkpoint FILE is required');
    if (!values.out.endsWith('.npy')) throw new UsageError(`--out must name a .npy file, got '${values.out}'`);
  } catch (e) {
    return exitWithUsage((e as Error).message, USAGE);
  }
  let n: number;
  let seed: number;
  let digit: number | undefined;
  try {
    n = parseCount('--n', values.n);
    seed = parseCount('--seed', values.seed, 0);
    digit = values.digit === undefined ? undefined : parseCount('--digit', values.digit, 0);
  } catch (e) {
    return exitWithUsage((e as Error).message, USAGE);
  }
  const ckpt = readCheckpoint(await readFileOrExplain(values.checkpoint, 'checkpoint'), values.checkpoint);
  const classes = ckpt.config.conditional?.classes ?? 0;
  if (digit !== undefined && !classes) return exitWithUsage(`--digit: preset '${ckpt.config.preset}' is not conditional (train --preset cgan)`, USAGE);
  if (digit !== undefined && digit >= classes) return exitWithUsage(`--digit must be below ${classes}, got ${digit}`, USAGE);
  const ctx = await openNodeContext({ dawnOptions: values.backend });
  try {
    const sampler = new Sampler(ctx, ckpt);
    const samples = await sampler.sample(n, seed, digit);
    await writeFileAtomic(values.out, encodeNpy(samples, [n, sampler.dim]));
    let wrote = values.out;
    if (values.grid) {
      const png = values.out.replace(/\.npy$/, '.png');
      await writePng(png, renderSamples(ckpt.config.data, samples));
      wrote += ` and ${png}`;
    }
    console.log(`wrote ${n} samples of ${sampler.dim} values from ${ckpt.config.preset} at iteration ${ckpt.iteration} to ${wrote}`);
    sampler.destroy();
    return 0;
  } finally {
    await ctx.destroy();
  }
}

process.exitCode = await main(process.argv.slice(2)).catch((e) => {
  console.error(`error: ${formatError(e)}`);
  return 1;
});
