// Ends every run with one plain line, "N passed, N failed, N skipped", after vitest's own
// coloured summary: a line that log readers and CI recognise without knowing vitest's format.
// Nothing stands before the counts (a "Tests:" label before them was not recognised).
// A module that failed to load counts as failed, so an import error can never read as "0 failed".
import type { Reporter, TestModule } from 'vitest/node';

export default class PlainSummary implements Reporter {
  onTestRunEnd(modules: ReadonlyArray<TestModule>, unhandledErrors: ReadonlyArray<unknown>): void {
    let passed = 0;
    let failed = unhandledErrors.length;
    let skipped = 0;
    for (const module of modules) {
      failed += module.errors().length; // collection errors: the file never ran
      for (const test of module.children.allTests()) {
        const state = test.result().state;
        if (state === 'passed') passed++;
        else if (state === 'failed') failed++;
        else skipped++;
      }
    }
    process.stdout.write(`\n${passed} passed, ${failed} failed, ${skipped} skipped\n`);
  }
}
