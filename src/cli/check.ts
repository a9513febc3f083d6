// `npm run check`: validates this machine's WebGPU adapter by running every kernel against its
// float64 reference, one row per kernel and case. Exit code 1 on any failure. No test runner.

import { allChecks } from '../checks/index.ts';
import { openNodeContext } from '../gpu/node.ts';
import { exitWithUsage, formatError, parseFlags } from './common.ts';

const USAGE = `usage: npm run check -- [--quick] [--filter TEXT] [--backend DAWN_OPTION ...]
  --quick          skip the slow cases (large matmuls, 1e6-sample statistics)
  --filter TEXT    only checks whose kernel or case contains TEXT
  --backend OPT    Dawn option passed through, e.g. backend=vulkan (repeatable)`;

async function main(): Promise<number> {
  const values = parseFlags(
    {
      quick: { type: 'boolean', default: false },
      filter: { type: 'string' },
      backend: { type: 'string', multiple: true },
    },
    USAGE,
  );
  if (typeof values === 'number') return values;
  const checks = allChecks.filter(
    (c) => (!values.quick || !c.slow) && (!values.filter || `${c.kernel} ${c.case}`.includes(values.filter)),
  );
  if (!checks.length) return exitWithUsage(`no check matches --filter '${values.filter}'`, USAGE);

  const ctx = await openNodeContext({ dawnOptions: values.backend });
  console.log(`adapter: ${ctx.adapterLine}`);
  const header = ['kernel', 'case', 'max abs err', 'max rel err', 'tolerance (abs + rel)', 'result'];
  const rows: string[][] = [];
  let failures = 0;
  const started = performance.now();
  try {
    for (const check of checks) {
      let cells: string[];
      try {
        const r = await check.run(ctx);
        if (!r.pass) failures++;
        cells = [r.maxAbsError.toExponential(2), r.maxRelError.toExponential(2), `${r.tolerance.abs.toExponential(1)} + ${r.tolerance.rel.toExponential(1)}`, r.pass ? 'pass' : `FAIL ${r.detail ?? ''}`];
      } catch (e) {
        failures++;
        cells = ['-', '-', '-', `ERROR ${formatError(e)}`];
      }
      const row = [check.kernel, check.case, ...cells];
      rows.push(row);
      console.log(row.join(' | '));
    }
  } finally {
    await ctx.destroy();
  }
  console.log(`\n${checks.length - failures}/${checks.length} checks passed in ${((performance.now() - started) / 1000).toFixed(1)} s on ${ctx.adapterLine}`);
  void header;
  return failures ? 1 : 0;
}

process.exitCode = await main().catch((e) => {
  console.error(formatError(e));
  return 1;
});
