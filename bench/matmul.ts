// `npm run bench:matmul`: the matmul rows of the suite alone (bench/matmul-rows.ts), with a
// textbook 16 x 16 tiled kernel as a baseline column and, with --tfjs, tf.matMul side by side.
// The Node edge: arguments, Dawn, the tuning file and the results file.

import { exitWithUsage, formatError, parseFlags } from '../src/cli/common.ts';
import { fileStamp, slug } from './common.ts';
import { benchSubset } from './configs.ts';
import { benchMatmul, matmulRowMatches, matmulRows, tuneMatmul } from './matmul-rows.ts';
import { fileStore, gitCommit, NODE_PLATFORM, openBenchGpu, TUNING_FILE, TUNING_FILE_NAME, writeResults } from './node.ts';

const USAGE = `usage: npm run bench:matmul -- [--quick] [--sizes LIST] [--filter TEXT] [--retune] [--tfjs]
  --quick          fewer shapes and shorter timing
  --sizes LIST     the square sizes, comma-separated (default 256,512,1024,2048; --quick 256,1024),
                   e.g. 1024,4096 on a GPU
  --filter TEXT    only rows whose label or configs contain TEXT (e.g. 1024, "A·Bᵀ", 100x784, seed;
                   alternatives separated by |)
  --retune         re-measure the strategy choice instead of reading the stored one
  --tfjs           add tf.matMul (tfjs's WebGPU backend on the same adapter) side by side`;

async function main(): Promise<number> {
  const values = parseFlags(
    {
      quick: { type: 'boolean', default: false },
      sizes: { type: 'string' },
      filter: { type: 'string' },
      retune: { type: 'boolean', default: false },
      tfjs: { type: 'boolean', default: false },
    },
    USAGE,
  );
  if (typeof values === 'number') return values;
  const subset = benchSubset(values.quick ? 'quick' : 'full');
  if (values.sizes !== undefined) {
    const sizes = values.sizes.split(',').map(Number);
    if (!sizes.length || sizes.some((s) => !Number.isInteger(s) || s < 1)) return exitWithUsage(`--sizes takes positive integers separated by commas, got '${values.sizes}'`, USAGE);
    subset.squares = sizes;
  }
  if (!matmulRows(subset).some((r) => matmulRowMatches(r, values.filter))) {
    return exitWithUsage(`no row matches --filter '${values.filter}'`, USAGE);
  }
  const { ctx, tfjs } = await openBenchGpu({ tfjs: values.tfjs });
  try {
    console.log(`adapter: ${ctx.adapterLine}`);
    if (tfjs) console.log(`tfjs adapter: ${tfjs.adapterLine}${tfjs.sameAdapter ? ' (the same adapter)' : ' (A DIFFERENT ADAPTER)'}`);
    const choices = await tuneMatmul(ctx, { store: fileStore(TUNING_FILE), name: TUNING_FILE_NAME }, values.retune ? 'retune' : 'stored-or-tune');
    const results = await benchMatmul(ctx, { subset, filter: values.filter, tfjs: values.tfjs, textbook: true });
    const file = await writeResults(`matmul-${slug(ctx.adapterLine)}-${fileStamp()}.json`, {
      adapter: ctx.adapterLine,
      tfjsAdapter: tfjs?.adapterLine ?? null,
      commit: gitCommit(),
      loadAverage: NODE_PLATFORM.loadAverage(),
      quick: values.quick,
      choices,
      results,
    });
    console.log(`\nwrote ${file}`);
  } finally {
    await ctx.destroy();
  }
  return 0;
}

process.exitCode = await main().catch((e) => {
  console.error(formatError(e));
  return 1;
});
