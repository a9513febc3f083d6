// One temporary directory per test run: every test's temp files (and the command lines' they
// spawn, which inherit TMPDIR) go under it, and it is removed when the run ends, so runs on a
// shared machine do not pile up checkpoints in /tmp. KEEP_TEST_FILES=1 keeps it to look into.

import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

export default function setup(): () => void {
  const before = process.env.TMPDIR;
  const dir = mkdtempSync(join(tmpdir(), 'webgpu-gan-tests-'));
  process.env.TMPDIR = dir;
  return () => {
    if (before === undefined) delete process.env.TMPDIR;
    else process.env.TMPDIR = before;
    if (process.env.KEEP_TEST_FILES) console.log(`test files kept in ${dir}`);
    else rmSync(dir, { recursive: true, force: true });
  };
}
