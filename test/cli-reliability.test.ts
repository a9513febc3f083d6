// The CLI never loses a run: signals save and resume bit for bit, a diverged state is never
// checkpointed, another run's directory is not overwritten, impossible output paths are
// refused at once, poisoned or hostile checkpoints are refused by name, and the temporaries of
// interrupted writes are cleaned up.

import { spawnSync } from 'node:child_process';
import { existsSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, test } from 'vitest';
import { encodeSafetensors, type SafeTensor } from '../src/io/safetensors.ts';
import { loadMnist } from '../src/data/mnist-node.ts';
import { metricsColumns, runCheckpoint, runCli, tempDir } from './cli-process.ts';

const TOY = ['--preset', 'toy-1d', '--log-every', '10'];

/** A short finished toy-1d run, for the tests that need a run directory or a checkpoint. */
async function toyRun(iters = 20): Promise<string> {
  const dir = tempDir();
  const r = await runCli('train', [...TOY, '--iters', String(iters), '--out', dir]);
  expect(r.code, r.stderr).toBe(0);
  return dir;
}

/** Checkpoint bytes from tensors and metadata edited by `edit`. */
function rewrite(dir: string, edit: (tensors: Map<string, SafeTensor>, metadata: Record<string, string>) => void): Uint8Array {
  const ckpt = runCheckpoint(dir);
  const tensors = new Map(ckpt.tensors);
  const metadata = { ...ckpt.metadata };
  edit(tensors, metadata);
  return encodeSafetensors(tensors, metadata);
}

describe.runIf(process.platform === 'linux')('output paths that cannot be written', () => {
  const cases = [
    ['train', ['--preset', 'toy-1d', '--out', '/proc/x'], /--out \/proc\/x: cannot create the directory \/proc\/x/],
    ['train', ['--preset', 'toy-1d', '--out', '/proc/x/y/z'], /--out \/proc\/x\/y\/z: cannot create the directory \/proc\/x:/],
    ['sample', ['--checkpoint', 'none.safetensors', '--out', '/proc/x.npy'], /--out \/proc\/x\.npy: cannot write files in \/proc/],
    ['sample', ['--checkpoint', 'none.safetensors', '--out', '/proc/x/y.npy'], /--out \/proc\/x\/y\.npy: cannot create the directory \/proc\/x/],
    ['eval', ['--checkpoint', 'none.safetensors', '--out', '/proc/x.json'], /--out \/proc\/x\.json: cannot write files in \/proc/],
    ['eval', ['--checkpoint', 'none.safetensors', '--cache-dir', '/proc/x'], /--cache-dir \/proc\/x: cannot create the directory/],
  ] as const;

  test(`${cases.length} outputs under /proc (where recursive mkdir never returns) are refused at once with exit status 2`, async () => {
    // No GPU work happens before the refusal, so the tools can run side by side.
    const results = await Promise.all(cases.map(([script, args]) => runCli(script, [...args], { deadlineMs: 30_000 })));
    results.forEach((r, i) => {
      const what = `${cases[i][0]} ${cases[i][1].join(' ')}`;
      expect(r.hung, `${what} hung`).toBe(false);
      expect(r.code, `${what}: ${r.stderr}`).toBe(2);
      expect(r.stderr, what).toMatch(cases[i][2]);
    });
  });
});

describe('run directories', () => {
  test('--out onto an existing file says so in words', async () => {
    const file = join(tempDir(), 'notes.txt');
    writeFileSync(file, 'mine\n');
    const r = await runCli('train', [...TOY, '--out', file]);
    expect(r.code).toBe(2);
    expect(r.stderr).toContain(`--out ${file} is an existing file, not a directory`);
    expect(readFileSync(file, 'utf8')).toBe('mine\n');
  });

  test('a fresh run refuses a directory holding another run, naming --resume and --force; --force replaces it and removes stale temporaries', async () => {
    const dir = await toyRun(20);
    const before = ['config.json', 'metrics.csv', 'checkpoint.safetensors'].map((f) => readFileSync(join(dir, f)));
    const refused = await runCli('train', [...TOY, '--iters', '10', '--seed', '3', '--out', dir]);
    expect(refused.code).toBe(2);
    expect(refused.stderr).toMatch(new RegExp(`--out ${dir} already holds a run \\(config\\.json, metrics\\.csv, checkpoint\\.safetensors, samples\\.png, samples\\.gif, report\\.html\\); continue it with --resume ${dir}, or pass --force`));
    ['config.json', 'metrics.csv', 'checkpoint.safetensors'].forEach((f, i) => expect(readFileSync(join(dir, f)), `${f} untouched`).toEqual(before[i]));

    // Temporaries that writes killed mid-way left behind (their process is gone), and one of a
    // writer still alive (this process).
    const gone = spawnSync(process.execPath, ['-e', '']).pid!;
    const stale = [`.checkpoint.safetensors.${gone}.1700000000000.tmp`, `.${gone}.1700000000001.tmp`];
    const live = `.metrics.csv.${process.pid}.1700000000002.tmp`;
    for (const name of [...stale, live]) writeFileSync(join(dir, name), 'partial');

    const forced = await runCli('train', [...TOY, '--iters', '10', '--seed', '3', '--out', dir, '--force']);
    expect(forced.code, forced.stderr).toBe(0);
    expect(forced.stdout).toContain(`--force: replacing the run in ${dir}`);
    expect(JSON.parse(readFileSync(join(dir, 'config.json'), 'utf8'))).toMatchObject({ iterations: 10, seed: 3 });
    expect(runCheckpoint(dir).iteration).toBe(10);
    expect(metricsColumns(dir)).toHaveLength(2);
    expect(forced.stdout).toMatch(/removed 2 temporary file\(s\) left in .* by interrupted writes/);
    for (const name of stale) expect(existsSync(join(dir, name)), name).toBe(false);
    expect(existsSync(join(dir, live))).toBe(true);
  });
});

describe('divergence and poisoned checkpoints', () => {
  let finished: Promise<string> | null = null;
  /** One short finished run, shared: these tests only read it. */
  const sharedRun = () => (finished ??= toyRun(10));

  test('a diverging run never writes a checkpoint holding NaN or infinity, keeps the last good one and says so', async () => {
    const dir = tempDir();
    const r = await runCli('train', ['--preset', 'toy-1d', '--iters', '60', '--lr', '3e5', '--log-every', '1', '--checkpoint-every', '1', '--out', dir]);
    expect(r.code, r.stdout + r.stderr).toBe(1);
    expect(r.stdout).toMatch(/as run with --lr: learning rates G 300000, D 300000/);
    expect(r.stderr).toMatch(/training diverged/);
    const kept = /the last good checkpoint \(iteration (\d+)\) is kept in (.*checkpoint\.safetensors)/.exec(r.stderr);
    if (kept) {
      // readCheckpoint refuses non-finite tensors, so loading it proves it finite.
      expect(runCheckpoint(dir).iteration).toBe(Number(kept[1]));
    } else {
      expect(r.stderr).toMatch(/no checkpoint was saved before the divergence/);
      expect(existsSync(join(dir, 'checkpoint.safetensors'))).toBe(false);
    }
  });

  test('sample, eval and --resume refuse a checkpoint with non-finite weights, naming the file and the tensors', async () => {
    const dir = await sharedRun();
    const poisoned = join(dir, 'poisoned.safetensors');
    writeFileSync(
      poisoned,
      rewrite(dir, (tensors) => {
        const v = tensors.get('generator.2.weight.adam_v')!;
        const data = Float32Array.from(v.data as Float32Array);
        data[3] = Infinity;
        tensors.set('generator.2.weight.adam_v', { ...v, data });
      }),
    );
    const npy = join(dir, 'x.npy');
    const poisonedRun = tempDir();
    writeFileSync(join(poisonedRun, 'checkpoint.safetensors'), readFileSync(poisoned));
    // All three refuse before the GPU opens, so they can run side by side.
    const [sample, evaluation, resumed] = await Promise.all([
      runCli('sample', ['--checkpoint', poisoned, '--out', npy]),
      runCli('eval', ['--checkpoint', poisoned]),
      runCli('train', ['--resume', poisonedRun, '--iters', '20']),
    ]);
    expect(sample.code).toBe(1);
    expect(sample.stderr).toContain(`${poisoned}: holds NaN or infinity (generator.2.weight.adam_v: 1 of 32)`);
    expect(existsSync(npy)).toBe(false);
    expect(evaluation.code).toBe(1);
    expect(evaluation.stderr).toContain('holds NaN or infinity');
    expect(existsSync(join(dir, 'eval.json'))).toBe(false);
    expect(resumed.code).toBe(1);
    expect(resumed.stderr).toContain('holds NaN or infinity');
  });

  test('hostile checkpoints at the command line: refused with the file and tensor named, never exit 0', async () => {
    const dir = await sharedRun();
    const files: [string, Uint8Array, RegExp][] = [
      [
        'no-weight.safetensors',
        rewrite(dir, (t) => t.delete('generator.0.weight')),
        /no-weight\.safetensors: tensor 'generator\.0\.weight' is missing/,
      ],
      [
        'wrong-dtype.safetensors',
        rewrite(dir, (t) => {
          const w = t.get('generator.0.weight')!;
          t.set('generator.0.weight', { ...w, dtype: 'U32', data: new Uint32Array((w.data as Float32Array).buffer.slice(0)) });
        }),
        /wrong-dtype\.safetensors: tensor 'generator\.0\.weight' is U32\[1,32\], the generator of its config needs F32\[1,32\]/,
      ],
    ];
    // A negative offset: the header claims the first tensor starts 16 bytes before the data.
    const good = readFileSync(join(dir, 'checkpoint.safetensors'));
    const n = Number(good.readBigUInt64LE(0));
    const header = JSON.parse(good.subarray(8, 8 + n).toString('utf8'));
    const first = Object.keys(header).find((k) => k !== '__metadata__')!;
    header[first].data_offsets = [-16, header[first].data_offsets[1] - 16];
    const text = Buffer.from(JSON.stringify(header));
    const negative = Buffer.concat([Buffer.alloc(8), text, good.subarray(8 + n)]);
    negative.writeBigUInt64LE(BigInt(text.length));
    files.push(['negative.safetensors', negative, new RegExp(`negative\\.safetensors: tensor '${first.replace(/\./g, '\\.')}' has data_offsets \\[-16,`)]);
    files.push(['null.safetensors', Uint8Array.from([4, 0, 0, 0, 0, 0, 0, 0, ...Buffer.from('null')]), /null\.safetensors: the header does not start with '\{'/]);
    for (const [name, bytes] of files) writeFileSync(join(dir, name), bytes);
    const results = await Promise.all(files.map(([name]) => runCli('sample', ['--checkpoint', join(dir, name), '--out', join(dir, 'never.npy')])));
    results.forEach((r, i) => {
      const [name, , message] = files[i];
      expect(r.code, `${name}: ${r.stderr}`).toBe(1);
      expect(r.stderr, name).toMatch(message);
      expect(r.stderr, name).not.toMatch(/TypeError|RangeError/);
    });
    expect(existsSync(join(dir, 'never.npy'))).toBe(false);
  });
});

describe('signals', () => {
  /** Trains until metrics.csv has two rows, then sends `signal`; the run must save and exit with `code`. */
  async function interrupted(signal: 'SIGTERM' | 'SIGHUP', code: number) {
    const dir = tempDir();
    let sent = false;
    const r = await runCli('train', [...TOY, '--iters', '1000000', '--checkpoint-every', '100000', '--out', dir], {
      poll: (child) => {
        if (sent || !existsSync(join(dir, 'metrics.csv'))) return;
        if (readFileSync(join(dir, 'metrics.csv'), 'utf8').trim().split('\n').length >= 3) {
          sent = true;
          child.kill(signal);
        }
      },
    });
    expect(r.hung).toBe(false);
    expect(r.code, r.stdout + r.stderr).toBe(code);
    expect(r.stderr).toContain(`${signal}: finishing the iterations in flight and saving a checkpoint`);
    expect(r.stdout).toMatch(new RegExp(`stopped \\d+ iterations.*exiting with status ${code} \\(${signal}\\)`));
    const at = runCheckpoint(dir).iteration;
    expect(at).toBeGreaterThan(0);
    // The metrics stop exactly where the checkpoint is.
    expect(Number(metricsColumns(dir).at(-1)!.split(',')[0])).toBe(at);
    return { dir, at };
  }

  test('SIGTERM and SIGHUP mid-run save, exit 143 and 129, and resume byte-identically to an uninterrupted run', async () => {
    const runs = [await interrupted('SIGTERM', 143), await interrupted('SIGHUP', 129)];
    const target = Math.max(...runs.map((r) => r.at)) + 30;
    const whole = tempDir();
    const w = await runCli('train', [...TOY, '--iters', String(target), '--out', whole]);
    expect(w.code, w.stderr).toBe(0);
    const want = runCheckpoint(whole);
    for (const { dir, at } of runs) {
      const r = await runCli('train', ['--resume', dir, '--iters', String(target)]);
      expect(r.code, r.stderr).toBe(0);
      expect(r.stdout).toContain(`resumed from ${dir} at iteration ${at}`);
      const got = runCheckpoint(dir);
      expect(got.iteration).toBe(target);
      expect([...got.tensors.keys()].sort()).toEqual([...want.tensors.keys()].sort());
      for (const [name, t] of want.tensors) expect(Buffer.from(got.tensors.get(name)!.data.buffer).equals(Buffer.from(t.data.buffer)), `${name} after resuming from ${at}`).toBe(true);
      expect(metricsColumns(dir)).toEqual(metricsColumns(whole));
    }
  });
});

describe('messages', () => {
  test('--iters above 2^53 gives the real limit', async () => {
    const r = await runCli('train', ['--iters', '9007199254740993']);
    expect(r.code).toBe(2);
    expect(r.stderr).toMatch(/--iters must be at most 4294967295 \(the GPU's iteration clock, which keys every random draw, is 32-bit\), got '9007199254740993'/);
  });

  test('a missing MNIST file names what to do', async () => {
    await expect(loadMnist(tempDir())).rejects.toThrow(/cannot read MNIST file .*: no such file; the directory .* must hold the four IDX files \(train-images-idx3-ubyte/);
  });
});
