// The public API for Node: everything in index.ts, plus a Dawn device, MNIST and Fashion-MNIST
// from disk, and the classifiers' cache.

export * from './index.ts';
export { openNodeContext, type NodeGpuOptions } from './gpu/node.ts';
export { loadMnist } from './data/mnist-node.ts';
export { loadDataset } from './data/dataset-node.ts';
export { loadFashion, loadFashionWithCache, type FashionLoad, type FashionLoadOptions } from './data/fashion-node.ts';
export { loadImageDataset } from './data/datasets-node.ts';
export { classifierCachePath, loadOrTrainClassifier, type LoadClassifierOptions, type LoadedClassifier } from './eval/classifier-cache.ts';
