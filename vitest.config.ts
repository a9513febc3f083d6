import { defineConfig } from 'vitest/config';

export default defineConfig({
  test: {
    include: ['test/**/*.test.ts'],
    // A temporary directory of the run's own, removed at its end (test/global-setup.ts).
    globalSetup: ['./test/global-setup.ts'],
    // One adapter, many tests: run files one after another so GPU work never interleaves
    // across processes (a 2-core software adapter is saturated by one file).
    fileParallelism: false,
    // The device tests force garbage collection to prove no GPU object is freed while in use.
    execArgv: ['--expose-gc'],
    testTimeout: 120_000,
    hookTimeout: 120_000,
    // vitest's summary, then one plain "Tests: N passed, N failed, N skipped" line.
    reporters: ['default', './test/reporters/plain-summary.ts'],
  },
});
