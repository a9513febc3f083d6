// Fashion-MNIST for the page: one static asset, the engine's compact form (four IDX files back
// to back, src/data/fashion.ts) gzip'd, written from the `fashion-mnist` package when vite
// starts (scripts/build-fashion-asset.ts). It is fetched only when asked for, so a page that
// never trains on Fashion-MNIST never downloads it; then as MNIST's asset is: once, with
// progress, kept in a Cache API cache of its own (a reload reads it offline), and gunzipped
// by the browser. The address comes from the page's `?url` import of the built file:
//   import fashionAssetUrl from '../../.cache/fashion-asset/fashion-idx.gz?url';

import { FASHION_LAYOUT, parseFashion } from '../data/fashion.ts';
import type { Mnist } from '../data/mnist.ts';
import { fetchDataAsset, type ProgressCallback } from './mnist-asset.ts';

const CACHE_NAME = 'webgpu-gan-fashion-mnist';

/** Fashion-MNIST ({train: 60,000 rows, test: 10,000}) from the page's asset at `url`, checked by parseFashion. */
export async function loadFashionAsset(url: string, onProgress?: ProgressCallback): Promise<Mnist> {
  const what = 'Fashion-MNIST asset';
  return parseFashion(await fetchDataAsset(url, CACHE_NAME, what, onProgress), FASHION_LAYOUT, what);
}
