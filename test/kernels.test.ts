// Every kernel against its float64 reference, on the machine's adapter (lavapipe in CI).

import { afterAll, beforeAll, describe, expect, test } from 'vitest';
import { allChecks } from '../src/checks/index.ts';
import type { GpuContext } from '../src/gpu/context.ts';
import { openTestContext } from './gpu.ts';

let ctx: GpuContext;
beforeAll(async () => {
  ctx = await openTestContext();
});
afterAll(async () => {
  await ctx?.destroy();
});

describe.each([...new Set(allChecks.map((c) => c.kernel))])('%s', (kernel) => {
  test.each(allChecks.filter((c) => c.kernel === kernel).map((c) => [c.case, c] as const))('%s', async (_, check) => {
    const r = await check.run(ctx);
    expect(r.pass, `${kernel} ${check.case}: max abs ${r.maxAbsError}, max rel ${r.maxRelError}; ${r.detail}`).toBe(true);
  });
});
