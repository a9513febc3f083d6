// `npm run report -- RUN_DIR [RUN_DIR ...]`: rebuilds a run's report.html and samples.gif from
// the files in its directory, or writes one report comparing several runs. A run directory with
// missing or damaged files still gets a report, which names them; a path that holds no run is
// refused, naming it. Reports are written atomically.

import { basename, dirname, join, resolve } from 'node:path';
import { parseArgs } from 'node:util';
import { decodeFrame, FRAMES_DIR, frameFileName } from '../report/frame.ts';
import { assembleGif, gifFrame, indexColors, type GifFrame } from '../report/gif.ts';
import { comparisonReportHtml, runReportHtml } from '../report/html.ts';
import type { RunData } from '../report/model.ts';
import { reportAssets } from '../report/assets-node.ts';
import { readRunDir, RunDirError } from '../report/run-dir-node.ts';
import { exitWithUsage, formatError, UsageError } from './common.ts';
import { removeStaleTempFiles, writeFileAtomic } from './files.ts';
import { prepareOutputFile } from './paths.ts';

const USAGE = `usage: npm run report -- RUN_DIR [RUN_DIR ...] [--out FILE]

  One RUN_DIR (what npm run train wrote): rebuilds its report.html and samples.gif from the
  files there. Several: writes one report comparing the runs: their curves overlaid, their final
  and npm run eval figures side by side, and the config fields that differ.

  --out FILE    where the report goes (default: RUN_DIR/report.html; for several runs,
                comparison.html in the first RUN_DIR's parent directory)
  -h, --help

Missing or damaged files (a run interrupted mid-write, a file removed) are named in the report
and on stderr; what can be read is still shown. Reports open from disk, with no server and no
network.`;

interface Args {
  dirs: string[];
  out: string;
  outFlag: string;
}

function parse(argv: string[]): Args | 'help' {
  const { values, positionals } = parseArgs({ args: argv, options: { out: { type: 'string' }, help: { type: 'boolean', short: 'h' } }, strict: true, allowPositionals: true });
  if (values.help) return 'help';
  if (!positionals.length) throw new UsageError('name a run directory (RUN_DIR), or several to compare');
  const empty = positionals.findIndex((d) => !d.trim());
  if (empty >= 0) throw new UsageError(`RUN_DIR ${empty + 1} is ''`);
  const seen = new Set<string>();
  for (const d of positionals) {
    if (seen.has(resolve(d))) throw new UsageError(`RUN_DIR ${d} is given twice`);
    seen.add(resolve(d));
  }
  if (values.out !== undefined && !values.out.trim()) throw new UsageError("--out takes a file name, got ''");
  const out = values.out ?? (positionals.length === 1 ? join(positionals[0], 'report.html') : join(dirname(resolve(positionals[0])), 'comparison.html'));
  return { dirs: positionals, out, outFlag: values.out !== undefined ? '--out' : positionals.length === 1 ? 'RUN_DIR' : 'the comparison report' };
}

/** samples.gif from the frames the report read; frames of another size than the first are left out, and said. */
async function rebuildGif(run: RunData): Promise<string> {
  if (!run.frames.length) return 'no frames: samples.gif not written';
  const pieces: GifFrame[] = [];
  const skipped: string[] = [];
  for (const f of run.frames) {
    const name = `${FRAMES_DIR}/${frameFileName(f.iteration)}`;
    try {
      const piece = gifFrame(indexColors(decodeFrame(f.png, name)));
      if (pieces.length && (piece.width !== pieces[0].width || piece.height !== pieces[0].height)) skipped.push(`${name} (${piece.width}x${piece.height})`);
      else pieces.push(piece);
    } catch (e) {
      skipped.push(`${name} (${(e as Error).message})`);
    }
  }
  if (!pieces.length) return `no frame could be decoded: samples.gif not written (${skipped.join('; ')})`;
  await writeFileAtomic(join(run.dir, 'samples.gif'), assembleGif(pieces));
  return `samples.gif: ${pieces.length} frames${skipped.length ? `; left out ${skipped.join(', ')}` : ''}`;
}

async function main(argv: string[]): Promise<number> {
  let args: Args | 'help';
  try {
    args = parse(argv);
    if (args === 'help') {
      console.log(USAGE);
      return 0;
    }
  } catch (e) {
    return exitWithUsage((e as Error).message, USAGE);
  }
  // The runs are read (which changes nothing) before the output is prepared (which may create
  // directories), so a mistyped RUN_DIR leaves no trace.
  const runs: RunData[] = [];
  try {
    for (const dir of args.dirs) runs.push(await readRunDir(dir));
    prepareOutputFile(args.outFlag, args.out);
  } catch (e) {
    if (e instanceof RunDirError || e instanceof UsageError) return exitWithUsage(e.message, USAGE);
    throw e;
  }
  for (const run of runs) {
    for (const p of run.problems) console.error(`warning: ${run.dir}: ${p}`);
  }
  removeStaleTempFiles(dirname(resolve(args.out)), basename(args.out));
  if (runs.length === 1) {
    const run = runs[0];
    removeStaleTempFiles(run.dir, 'samples.gif');
    const gif = await rebuildGif(run);
    await writeFileAtomic(args.out, runReportHtml(run, reportAssets()));
    console.log(`wrote ${args.out} (${run.metrics.length} metrics rows, ${run.frames.length} frames${run.problems.length ? `, ${run.problems.length} problem(s) named in it` : ''}); ${gif}`);
  } else {
    await writeFileAtomic(args.out, comparisonReportHtml(runs, reportAssets()));
    console.log(`wrote ${args.out}: ${runs.length} runs compared (${runs.map((r) => r.name).join(', ')})`);
  }
  return 0;
}

process.exitCode = await main(process.argv.slice(2)).catch((e) => {
  if (e instanceof UsageError) return exitWithUsage(e.message, USAGE);
  console.error(`error: ${formatError(e)}`);
  return 1;
});
