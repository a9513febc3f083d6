// The Node edge of the image data sets: each loaded by name from its package (MNIST's IDX
// files; Fashion-MNIST through its converted cache), and whatever a training config needs.

import type { ImageDataset } from './datasets.ts';
import { loadFashion, type FashionLoadOptions } from './fashion-node.ts';
import type { Mnist } from './mnist.ts';
import { loadMnist } from './mnist-node.ts';
import { loadDataset } from './dataset-node.ts';
import { dataNeeds, type DataSpec, type HostData } from './source.ts';

export function loadImageDataset(dataset: ImageDataset, opts: { fashion?: FashionLoadOptions } = {}): Promise<Mnist> {
  return dataset === 'fashion' ? loadFashion(opts.fashion) : loadMnist();
}

/** Loads the host data a training config's data kind needs (nothing for the toys). */
export async function loadHostData(spec: DataSpec): Promise<HostData> {
  switch (dataNeeds(spec)) {
    case 'mnist':
      return { mnist: await loadMnist() };
    case 'fashion':
      return { fashion: await loadFashion() };
    case 'dataset': {
      const s = spec as Extract<DataSpec, { kind: 'dataset' }>;
      return { dataset: await loadDataset(s.path, { imageSize: s.imageSize, channels: s.channels }) };
    }
    default:
      return {};
  }
}
