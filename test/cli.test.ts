// The command-line tools as a user runs them: outputs, determinism, resume, Ctrl-C, bad flags.

import { spawn } from 'node:child_process';
import { mkdtempSync, readFileSync, existsSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, test } from 'vitest';
import { readCheckpoint } from '../src/gan/checkpoint.ts';
import { decodeNpy } from '../src/io/npy.ts';

const ROOT = join(import.meta.dirname, '..');

interface Result {
  code: number | null;
  stdout: string;
  stderr: string;
}

function cli(script: 'train' | 'sample' | 'check', args: string[], opts: { onStderr?: (text: string, child: ReturnType<typeof spawn>) => void } = {}): Promise<Result> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, ['--import', './scripts/register.mjs', `src/cli/${script}.ts`, ...args], { cwd: ROOT, env: process.env });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (d) => (stdout += d));
    child.stderr.on('data', (d) => {
      stderr += d;
      opts.onStderr?.(stderr, child);
    });
    child.on('error', reject);
    child.on('close', (code) => resolve({ code, stdout, stderr }));
  });
}

const tmp = () => mkdtempSync(join(tmpdir(), 'gan-cli-'));

/** metrics.csv without the it/s column (wall-clock timing differs between runs). */
function metricsColumns(dir: string): string[] {
  return readFileSync(join(dir, 'metrics.csv'), 'utf8')
    .trim()
    .split('\n')
    .map((line) => line.split(',').slice(0, 5).join(','));
}

function checkpointTensors(dir: string) {
  return readCheckpoint(new Uint8Array(readFileSync(join(dir, 'checkpoint.safetensors')))).tensors;
}

const TOY = ['--preset', 'toy-1d', '--log-every', '50', '--checkpoint-every', '100'];

describe('npm run train', () => {
  test('writes every output; the same seed twice gives identical metrics', async () => {
    const [a, b] = [tmp(), tmp()];
    const ra = await cli('train', [...TOY, '--iters', '200', '--out', a]);
    expect(ra.code, ra.stderr).toBe(0);
    for (const f of ['config.json', 'metrics.csv', 'samples.png', 'checkpoint.safetensors']) expect(existsSync(join(a, f)), f).toBe(true);
    expect(JSON.parse(readFileSync(join(a, 'config.json'), 'utf8')).iterations).toBe(200);
    const rb = await cli('train', [...TOY, '--iters', '200', '--out', b]);
    expect(rb.code, rb.stderr).toBe(0);
    expect(metricsColumns(a)).toEqual(metricsColumns(b));
    expect(metricsColumns(a)).toHaveLength(1 + 4);
  });

  test('a resumed run continues bit-identically to an uninterrupted one', async () => {
    const [whole, split] = [tmp(), tmp()];
    expect((await cli('train', [...TOY, '--iters', '300', '--out', whole])).code).toBe(0);
    expect((await cli('train', [...TOY, '--iters', '150', '--out', split])).code).toBe(0);
    const resumed = await cli('train', ['--resume', split, '--iters', '300']);
    expect(resumed.code, resumed.stderr).toBe(0);
    expect(resumed.stdout).toMatch(/resumed from .* at iteration 150/);
    const [x, y] = [checkpointTensors(whole), checkpointTensors(split)];
    expect([...y.keys()].sort()).toEqual([...x.keys()].sort());
    for (const [name, t] of x) expect(new Uint8Array(y.get(name)!.data.buffer), name).toEqual(new Uint8Array(t.data.buffer));
    expect(metricsColumns(split)).toEqual(metricsColumns(whole));
  });

  // lrDecay counts each net's steps: ring8-hinge takes five D steps an iteration. A run made
  // longer than its decay would train its last iterations at rate 0, so it is refused until the
  // decay is planned again.
  test('--lr-decay lowers both rates over the run; resuming past the decay is refused unless it is planned again', async () => {
    const out = tmp();
    const readDecays = () => {
      const config = JSON.parse(readFileSync(join(out, 'config.json'), 'utf8'));
      return [config.optimizerG.lrDecay, config.optimizerD.lrDecay];
    };
    const r = await cli('train', ['--preset', 'ring8-hinge', '--iters', '20', '--lr-decay', '10', '--log-every', '10', '--out', out]);
    expect(r.code, r.stderr).toBe(0);
    expect(readDecays()).toEqual([{ start: 10, end: 20 }, { start: 50, end: 100 }]);
    expect(r.stdout).toMatch(/as run with --lr-decay: learning rates G 0.0001 \(lowered from step 10 to 0 at 20\), D 0.0001 \(lowered from step 50 to 0 at 100\)/);
    const longer = await cli('train', ['--resume', out, '--iters', '30']);
    expect(longer.code).toBe(2);
    expect(longer.stderr).toMatch(/--iters 30: .*optimizerG\.lrDecay brings the rate to 0 at step 20, but 30 iterations are 30 steps of G: the last 10 would change no weight/);
    const replanned = await cli('train', ['--resume', out, '--iters', '30', '--lr-decay', '25']);
    expect(replanned.code, replanned.stderr).toBe(0);
    expect(readDecays()).toEqual([{ start: 25, end: 30 }, { start: 125, end: 150 }]);
  });

  test('Ctrl-C saves a checkpoint and exits with 130, as an interrupted process does', async () => {
    const out = tmp();
    let sent = false;
    const r = await cli('train', [...TOY, '--iters', '1000000', '--out', out], {
      onStderr: (text, child) => {
        if (!sent && /\d+\/1000000/.test(text)) {
          sent = true;
          child.kill('SIGINT');
        }
      },
    });
    expect(r.code, r.stderr).toBe(130);
    expect(r.stdout).toMatch(/stopped \d+ iterations.*exiting with status 130 \(SIGINT\)/);
    const ckpt = readCheckpoint(new Uint8Array(readFileSync(join(out, 'checkpoint.safetensors'))));
    expect(ckpt.iteration).toBeGreaterThan(0);
    expect(ckpt.iteration).toBeLessThan(1_000_000);
  });

  test.each([
    [['--bogus'], /Unknown option '--bogus'/],
    [['--iters', 'abc'], /--iters takes an integer, got 'abc'/],
    [['--lr', '0'], /--lr takes a positive number, got '0'/],
    [['--lr=-1'], /--lr takes a positive number, got '-1'/],
    [['--preset', 'nope'], /unknown preset 'nope'/],
    [['--preset', 'seed', '--batch', '300'], /epochRows 1000 must be a multiple of batch 300/],
    [['--resume', '/nonexistent-dir'], /cannot read checkpoint .*no such file/],
  ])('bad input %j: a clear message and exit code 2 (or 1 for files)', async (args, message) => {
    const r = await cli('train', args as string[]);
    expect(r.stderr).toMatch(message);
    expect(r.code).toBe((args as string[])[0] === '--resume' ? 1 : 2);
  });
});

describe('npm run sample', () => {
  test('writes N samples as float32 .npy and a picture', async () => {
    const dir = tmp();
    expect((await cli('train', [...TOY, '--iters', '100', '--out', dir])).code).toBe(0);
    const npy = join(dir, 'x.npy');
    const r = await cli('sample', ['--checkpoint', join(dir, 'checkpoint.safetensors'), '--n', '300', '--out', npy, '--grid']);
    expect(r.code, r.stderr).toBe(0);
    const { data, shape } = decodeNpy(new Uint8Array(readFileSync(npy)));
    expect(shape).toEqual([300, 1]);
    expect(data.every(Number.isFinite)).toBe(true);
    expect(existsSync(join(dir, 'x.png'))).toBe(true);
  });
});
