// The Node edge of the image data sets: each loaded by name from its package (MNIST's IDX
// files; Fashion-MNIST through its converted cache).

import type { ImageDataset } from './datasets.ts';
import { loadFashion, type FashionLoadOptions } from './fashion-node.ts';
import type { Mnist } from './mnist.ts';
import { loadMnist } from './mnist-node.ts';

export function loadImageDataset(dataset: ImageDataset, opts: { fashion?: FashionLoadOptions } = {}): Promise<Mnist> {
  return dataset === 'fashion' ? loadFashion(opts.fashion) : loadMnist();
}
