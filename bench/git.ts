// The commit a benchmark measured (Node only: the Node edge records it in its results file, and
// the page's build stamps it into the page for its own).

import { execFileSync } from 'node:child_process';

/** The commit checked out in `cwd`, with `+dirty` when tracked files differ from it; null outside git. */
export function gitCommit(cwd: string): string | null {
  try {
    const git = (...args: string[]) => execFileSync('git', args, { cwd, encoding: 'utf8', stdio: ['ignore', 'pipe', 'ignore'] }).trim();
    const head = git('rev-parse', 'HEAD');
    return git('status', '--porcelain', '--untracked-files=no') ? `${head}+dirty` : head;
  } catch {
    return null;
  }
}
