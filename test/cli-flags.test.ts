// The flag table: every flag of train, sample and eval given a bad value exits with status 2
// and a message that names the flag (with the usage after it), and never starts training.

import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, test } from 'vitest';
import { syntheticCheckpoint } from './checkpoint-fixture.ts';
import { runCli, tempDir, type CliResult } from './cli-process.ts';

const dir = tempDir('gan-flags-');
const toy = join(dir, 'toy.safetensors');
writeFileSync(toy, syntheticCheckpoint());
const aFile = join(dir, 'notes.txt');
writeFileSync(aFile, 'not a directory\n');
const aDirectory = join(dir, 'taken.npy');
mkdirSync(aDirectory);
mkdirSync(aDirectory + '.json');
const run = join(dir, 'run');
mkdirSync(run);
writeFileSync(join(run, 'checkpoint.safetensors'), syntheticCheckpoint());

type Script = 'train' | 'sample' | 'eval';
/** [tool, arguments, the flag the message must name]. */
const TABLE: [Script, string[], string][] = [
  ['train', ['--preset', 'nope'], '--preset'],
  ['train', ['--preset', ''], '--preset'],
  ['train', ['--iters', 'abc'], '--iters'],
  ['train', ['--iters=-5'], '--iters'],
  ['train', ['--iters', '1.5'], '--iters'],
  ['train', ['--iters', '4294967296'], '--iters'],
  ['train', ['--iters'], '--iters'],
  ['train', ['--batch', '0'], '--batch'],
  ['train', ['--batch', 'x'], '--batch'],
  ['train', ['--preset', 'seed', '--batch', '300'], '--batch'],
  ['train', ['--k', '0'], '--k'],
  ['train', ['--k', '1001'], '--k'],
  ['train', ['--lr', '0'], '--lr'],
  ['train', ['--lr', 'abc'], '--lr'],
  ['train', ['--lr', 'Infinity'], '--lr'],
  ['train', ['--lr=-1'], '--lr'],
  ['train', ['--lr-decay', 'half'], '--lr-decay'],
  ['train', ['--lr-decay', '4000'], '--lr-decay'],
  ['train', ['--iters', '100', '--lr-decay', '100'], '--lr-decay'],
  ['train', ['--preset', 'seed', '--lr-decay', '10'], '--lr-decay'],
  ['train', ['--preset', 'toy-1d-wgan', '--lr-decay', '10'], '--lr-decay'],
  ['train', ['--seed=-1'], '--seed'],
  ['train', ['--seed', '9007199254740992'], '--seed'],
  ['train', ['--log-every', '0'], '--log-every'],
  ['train', ['--checkpoint-every', '0'], '--checkpoint-every'],
  ['train', ['--checkpoint-every', 'often'], '--checkpoint-every'],
  ['train', ['--out', ''], '--out'],
  ['train', ['--out', aFile], '--out'],
  ['train', ['--resume', ''], '--resume'],
  ['train', ['--resume', run, '--preset', 'toy-1d'], '--resume'],
  ['train', ['--resume', run, '--seed', '1'], '--resume'],
  ['train', ['--force=yes'], '--force'],
  ['train', ['--backend', 'vulkan'], '--backend'],
  ['train', ['--bogus'], '--bogus'],
  ['sample', [], '--checkpoint'],
  ['sample', ['--checkpoint', toy, '--n', '0'], '--n'],
  ['sample', ['--checkpoint', toy, '--n', 'x'], '--n'],
  ['sample', ['--checkpoint', toy, '--seed', 'x'], '--seed'],
  ['sample', ['--checkpoint', toy, '--digit', 'x'], '--digit'],
  ['sample', ['--checkpoint', toy, '--digit', '3'], '--digit'],
  ['sample', ['--checkpoint', toy, '--out', 'x.txt'], '--out'],
  ['sample', ['--checkpoint', toy, '--out', ''], '--out'],
  ['sample', ['--checkpoint', toy, '--out', aDirectory], '--out'],
  ['sample', ['--checkpoint', toy, '--grid=1'], '--grid'],
  ['sample', ['--checkpoint', toy, '--backend', 'x'], '--backend'],
  ['sample', ['--checkpoint', toy, '--bn-stats', 'train'], '--bn-stats'],
  ['sample', ['--checkpoint', toy, '--bn-stats'], '--bn-stats'],
  ['sample', ['--checkpoint', toy, '--weights', 'ema'], '--weights'],
  ['eval', [], '--checkpoint'],
  ['eval', ['--checkpoint', toy, '--seed', 'x'], '--seed'],
  ['eval', ['--checkpoint', toy, '--samples', '1'], '--samples'],
  ['eval', ['--checkpoint', toy, '--mode-samples', '0'], '--mode-samples'],
  ['eval', ['--checkpoint', toy, '--out', 'x.txt'], '--out'],
  ['eval', ['--checkpoint', toy, '--out', aDirectory + '.json'], '--out'],
  ['eval', ['--checkpoint', toy, '--no-parzen=1'], '--no-parzen'],
  ['eval', ['--checkpoint', toy, '--train-classifier=1'], '--train-classifier'],
  ['eval', ['--checkpoint', toy, '--cache-dir', aFile], '--cache-dir'],
  ['eval', ['--checkpoint', toy, '--backend', 'x'], '--backend'],
  ['eval', ['--checkpoint', toy, '--bn-stats', 'eval'], '--bn-stats'],
  ['eval', ['--checkpoint', toy, '--weights', 'last'], '--weights'],
];

/** Values refused only once the adapter's limits are known (the GPU opens first). */
const ADAPTER_TABLE: [Script, string[], string][] = [
  ['train', ['--preset', 'toy-1d', '--batch', '1000000', '--out', join(dir, 'big')], '--batch'],
  ['train', ['--preset', 'toy-1d', '--batch', '1000000000', '--out', join(dir, 'bigger')], '--batch'],
  ['sample', ['--checkpoint', toy, '--n', '100000000', '--out', join(dir, 'big.npy')], '--n'],
  ['eval', ['--checkpoint', toy, '--samples', '100000000'], '--samples'],
];

/** Runs every case, two at a time (the tools are single-threaded until the GPU opens). */
async function runAll(table: [Script, string[], string][]): Promise<CliResult[]> {
  const results: CliResult[] = new Array(table.length);
  let next = 0;
  const worker = async () => {
    while (next < table.length) {
      const i = next++;
      results[i] = await runCli(table[i][0], table[i][1], { deadlineMs: 60_000 });
    }
  };
  await Promise.all([worker(), worker()]);
  return results;
}

function expectRefused(table: [Script, string[], string][], results: CliResult[]): void {
  const wrong: string[] = [];
  results.forEach((r, i) => {
    const [script, args, flag] = table[i];
    const what = `${script} ${args.join(' ')}`;
    const first = r.stderr.split('\n').find((l) => l.startsWith('error: ')) ?? '';
    if (r.code !== 2) wrong.push(`${what}: exit ${r.code}${r.hung ? ' (hung)' : ''}: ${first || r.stderr.slice(0, 300)}`);
    else if (!first.includes(flag)) wrong.push(`${what}: the message does not name ${flag}: ${first}`);
    else if (!r.stderr.includes(`usage: npm run ${script}`)) wrong.push(`${what}: no usage after the message`);
    else if (/^trained|^stopped/m.test(r.stdout)) wrong.push(`${what}: trained`);
  });
  expect(wrong).toEqual([]);
}

describe('every flag with a bad value exits 2 naming the flag', () => {
  test(`${TABLE.length} bad values refused before the GPU opens`, async () => {
    const results = await runAll(TABLE);
    expectRefused(TABLE, results);
    console.log(TABLE.map(([s, a], i) => `${s} ${a.join(' ')}\n    ${results[i].stderr.split('\n').find((l) => l.startsWith('error: '))}`).join('\n'));
  });

  test(`${ADAPTER_TABLE.length} sizes beyond the adapter's limits`, async () => {
    expectRefused(ADAPTER_TABLE, await runAll(ADAPTER_TABLE));
  });
});
