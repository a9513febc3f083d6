// The chart library the browser page uses (uPlot), read from its installed package for inlining
// into reports: its built script (the global `uPlot` build) and its style sheet.

import { readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import type { ReportAssets } from './html.ts';

let cached: ReportAssets | null = null;

export function reportAssets(): ReportAssets {
  if (!cached) {
    const require = createRequire(import.meta.url);
    const read = (file: string) => readFileSync(require.resolve(`uplot/dist/${file}`), 'utf8');
    const uplotJs = read('uPlot.iife.min.js');
    // Inlined in a <script> element, the code must not close it.
    if (/<\/script/i.test(uplotJs)) throw new Error('uplot/dist/uPlot.iife.min.js holds "</script", which cannot be inlined');
    cached = { uplotJs, uplotCss: read('uPlot.min.css') };
  }
  return cached;
}
