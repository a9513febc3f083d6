// `npm run eval` as a user runs it: a 2-D checkpoint evaluated end to end (table, eval.json
// next to the checkpoint), and bad input refused with a clear message and exit code.

import { spawn } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, test } from 'vitest';

const ROOT = join(import.meta.dirname, '..');

function cli(script: 'train' | 'eval', args: string[]): Promise<{ code: number | null; stdout: string; stderr: string }> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, ['--import', './scripts/register.mjs', `src/cli/${script}.ts`, ...args], { cwd: ROOT, env: process.env });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (d) => (stdout += d));
    child.stderr.on('data', (d) => (stderr += d));
    child.on('error', reject);
    child.on('close', (code) => resolve({ code, stdout, stderr }));
  });
}

const tmp = () => mkdtempSync(join(tmpdir(), 'gan-eval-'));

describe('npm run eval', () => {
  test('a ring8 checkpoint: modes table and eval.json next to it; the same seed gives the same counts', async () => {
    const dir = tmp();
    const train = await cli('train', ['--preset', 'ring8', '--iters', '100', '--log-every', '50', '--out', dir]);
    expect(train.code, train.stderr).toBe(0);
    const checkpoint = join(dir, 'checkpoint.safetensors');
    const r = await cli('eval', ['--checkpoint', checkpoint]);
    expect(r.code, r.stderr).toBe(0);
    expect(r.stdout).toMatch(/modes \(ring8\)\s+\d+\/8 modes captured, [\d.]+% high quality/);
    const report = JSON.parse(readFileSync(join(dir, 'eval.json'), 'utf8'));
    expect(report).toMatchObject({ preset: 'ring8', iteration: 100, seed: 0, checkpoint });
    expect(report.modes).toMatchObject({ mixture: 'ring8', samples: 2500, modes: 8 });
    expect(report.modes.seconds).toBeGreaterThanOrEqual(0);
    expect(report.parzen).toBeUndefined();
    const out = join(dir, 'again.json');
    expect((await cli('eval', ['--checkpoint', checkpoint, '--out', out])).code).toBe(0);
    expect(JSON.parse(readFileSync(out, 'utf8')).modes.countsPerMode).toEqual(report.modes.countsPerMode);
  });

  test('bad input: missing file and non-checkpoints exit 1 with the reason; bad flags exit 2', async () => {
    const dir = tmp();
    const missing = await cli('eval', ['--checkpoint', join(dir, 'nope.safetensors')]);
    expect(missing.code).toBe(1);
    expect(missing.stderr).toMatch(/cannot read checkpoint .*nope\.safetensors: no such file/);
    const junk = join(dir, 'junk.safetensors');
    writeFileSync(junk, 'not a checkpoint at all');
    const notCheckpoint = await cli('eval', ['--checkpoint', junk]);
    expect(notCheckpoint.code).toBe(1);
    expect(notCheckpoint.stderr).toMatch(/junk\.safetensors: header length .* exceeds the file/);
    expect(existsSync(join(dir, 'eval.json'))).toBe(false);
    for (const args of [[], ['--checkpoint', junk, '--samples', '1'], ['--checkpoint', junk, '--frobnicate'], ['--checkpoint', junk, '--out', 'x.txt']]) {
      const r = await cli('eval', args);
      expect(r.code, args.join(' ')).toBe(2);
      expect(r.stderr).toMatch(/^error: .*\n\nusage: npm run eval/);
    }
  });
});
