// The command-line tools as a user runs them, in a child process with a deadline: a tool that
// hangs is killed and reported as such instead of stalling the suite.

import { spawn, type ChildProcess } from 'node:child_process';
import { mkdtempSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { readCheckpoint, type CheckpointContents } from '../src/gan/checkpoint.ts';

export const ROOT = join(import.meta.dirname, '..');

export interface CliResult {
  code: number | null;
  stdout: string;
  stderr: string;
  /** True when the deadline passed and the tool was killed. */
  hung: boolean;
  seconds: number;
}

export interface CliOptions {
  /** Killed (SIGKILL) after this long; the result says it hung. */
  deadlineMs?: number;
  /** Called on every chunk of output, with the child, e.g. to signal it mid-run. */
  onOutput?: (stdout: string, stderr: string, child: ChildProcess) => void;
  /** Called every 50 ms while the child runs (e.g. to watch the files it writes). */
  poll?: (child: ChildProcess) => void;
}

export function runCli(script: 'train' | 'sample' | 'eval' | 'export' | 'report', args: string[], opts: CliOptions = {}): Promise<CliResult> {
  return new Promise((resolve, reject) => {
    const began = performance.now();
    const child = spawn(process.execPath, ['--import', './scripts/register.mjs', `src/cli/${script}.ts`, ...args], { cwd: ROOT, env: process.env });
    let stdout = '';
    let stderr = '';
    let hung = false;
    const deadline = setTimeout(() => {
      hung = true;
      child.kill('SIGKILL');
    }, opts.deadlineMs ?? 90_000);
    const poller = opts.poll ? setInterval(() => opts.poll!(child), 50) : undefined;
    child.stdout.on('data', (d) => {
      stdout += d;
      opts.onOutput?.(stdout, stderr, child);
    });
    child.stderr.on('data', (d) => {
      stderr += d;
      opts.onOutput?.(stdout, stderr, child);
    });
    child.on('error', reject);
    child.on('close', (code) => {
      clearTimeout(deadline);
      clearInterval(poller);
      resolve({ code, stdout, stderr, hung, seconds: (performance.now() - began) / 1000 });
    });
  });
}

export const tempDir = (prefix = 'gan-cli-') => mkdtempSync(join(tmpdir(), prefix));

/** metrics.csv without the it/s column (wall-clock timing differs between runs). */
export function metricsColumns(dir: string): string[] {
  return readFileSync(join(dir, 'metrics.csv'), 'utf8')
    .trim()
    .split('\n')
    .map((line) => line.split(',').slice(0, 5).join(','));
}

export function runCheckpoint(dir: string): CheckpointContents {
  const path = join(dir, 'checkpoint.safetensors');
  return readCheckpoint(new Uint8Array(readFileSync(path)), path);
}
