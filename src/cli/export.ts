// `npm run export`: a checkpoint's generator (or discriminator) for another framework. With
// --format torch, a safetensors file of an nn.Sequential's state dict in PyTorch's names and
// layouts, the module definition in its metadata and printed. Needs no GPU: the weights are
// rearranged on the host. Flags, the checkpoint and the output path are checked before anything
// is written; the file is written atomically.

import { basename, dirname, resolve } from 'node:path';
import { parseArgs } from 'node:util';
import { readCheckpoint } from '../gan/checkpoint.ts';
import { encodeTorchExport, EXPORTED_NETS, exportForTorch, pythonUsage, type ExportedNet } from '../export/torch-export.ts';
import { exitWithUsage, formatError, parseWeights, UsageError } from './common.ts';
import type { SampleWeights } from '../gan/sampler.ts';
import { readFileOrExplain, removeStaleTempFiles, writeFileAtomic } from './files.ts';
import { prepareOutputFile } from './paths.ts';

const FORMATS = ['torch'] as const;

const USAGE = `usage: npm run export -- --checkpoint FILE [--format torch] [--out FILE.safetensors] [--net generator|discriminator] [--weights average|trained]
  --checkpoint FILE   a checkpoint.safetensors written by npm run train
  --format torch      PyTorch: an nn.Sequential's state dict (the default and only format)
  --out FILE          the .safetensors to write (default NET.torch.safetensors)
  --net NET           generator (default) or discriminator
  --weights W         G's weights: average (default where training kept one: the moving
                      average of optimizerG.average) or trained (as the last update left them)`;

interface Args {
  checkpoint: string;
  out: string;
  net: ExportedNet;
  weights?: SampleWeights;
}

function parse(argv: string[]): Args | 'help' {
  const { values } = parseArgs({
    args: argv,
    options: {
      checkpoint: { type: 'string' },
      format: { type: 'string', default: 'torch' },
      out: { type: 'string' },
      net: { type: 'string', default: 'generator' },
      weights: { type: 'string' },
      help: { type: 'boolean', short: 'h' },
    },
    strict: true,
    allowPositionals: false,
  });
  if (values.help) return 'help';
  if (!values.checkpoint) throw new UsageError('--checkpoint FILE is required');
  if (!(FORMATS as readonly string[]).includes(values.format)) throw new UsageError(`--format must be one of ${FORMATS.join(', ')}, got '${values.format}'`);
  if (!(EXPORTED_NETS as readonly string[]).includes(values.net)) throw new UsageError(`--net must be one of ${EXPORTED_NETS.join(', ')}, got '${values.net}'`);
  const net = values.net as ExportedNet;
  const out = values.out ?? `${net}.torch.safetensors`;
  if (!out.endsWith('.safetensors')) throw new UsageError(`--out must name a .safetensors file, got '${out}'`);
  if (resolve(out) === resolve(values.checkpoint)) throw new UsageError(`--out ${out} is the checkpoint itself; name another file`);
  prepareOutputFile('--out', out);
  removeStaleTempFiles(dirname(out), basename(out));
  return { checkpoint: values.checkpoint, out, net, weights: parseWeights(values.weights) };
}

async function main(argv: string[]): Promise<number> {
  const args = parse(argv);
  if (args === 'help') {
    console.log(USAGE);
    return 0;
  }
  const ckpt = readCheckpoint(await readFileOrExplain(args.checkpoint, 'checkpoint', '--checkpoint'), args.checkpoint);
  const exported = exportForTorch(ckpt, args.net, args.weights);
  await writeFileAtomic(args.out, encodeTorchExport(exported, ckpt));
  console.log(exported.python);
  console.log('');
  for (const note of exported.notes) console.log(`# note: ${note}`);
  console.log(pythonUsage(exported, ckpt.config, args.out));
  console.log('');
  console.log(`wrote the ${args.net} of ${ckpt.config.preset} at iteration ${ckpt.iteration} (${exported.modules.length} modules, ${exported.state.size} tensors) for PyTorch to ${args.out}`);
  return 0;
}

process.exitCode = await main(process.argv.slice(2)).catch((e) => {
  if (e instanceof UsageError) return exitWithUsage(e.message, USAGE);
  console.error(`error: ${formatError(e)}`);
  return 1;
});
