#!/usr/bin/env node
// Tries the README's set-up the way a new user meets it: clones the committed HEAD into a
// temporary directory (nothing untracked, nothing already built or cached comes along), then
// runs `npm ci`, a short training run of the default preset through `npm run train`, and the
// test command, reporting each step's wall time. Uncommitted changes are not tried: commit
// first. Usage: node scripts/fresh-clone.mjs [--keep] [--skip-tests] [--iters N]

import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { $, argv, chalk, cd } from 'zx';

const keep = Boolean(argv.keep);
const iters = Number(argv.iters ?? 20);
const root = (await $`git rev-parse --show-toplevel`).stdout.trim();
const head = (await $`git -C ${root} rev-parse --short HEAD`).stdout.trim();
if ((await $`git -C ${root} status --porcelain --untracked-files=no`).stdout.trim()) {
  console.log(chalk.yellow(`note: uncommitted changes in ${root} are not part of the clone (HEAD ${head})`));
}

const dir = await mkdtemp(join(tmpdir(), 'webgpu-gan-fresh-'));
$.verbose = true;
$.env = { ...process.env, XDG_RUNTIME_DIR: process.env.XDG_RUNTIME_DIR ?? dir };
const times = [];
async function step(name, run) {
  const began = performance.now();
  await run();
  times.push(`${name}: ${((performance.now() - began) / 1000).toFixed(0)} s`);
}

try {
  await $`git clone --quiet ${root} ${join(dir, 'repo')}`;
  cd(join(dir, 'repo'));
  await step('npm ci', () => $`npm ci --no-audit --no-fund`);
  await step(`npm run train (${iters} iterations)`, () => $`npm run train -- --iters ${iters} --out ${join(dir, 'run')}`);
  if (!argv['skip-tests']) await step('npm test', () => $`npm test`);
  console.log(chalk.green(`fresh clone of ${head} in ${dir}: ${times.join(', ')}`));
} finally {
  if (!keep) await rm(dir, { recursive: true, force: true });
}
