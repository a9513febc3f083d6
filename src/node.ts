// The public API for Node: everything in index.ts, plus a Dawn device and MNIST from disk.

export * from './index.ts';
export { openNodeContext, type NodeGpuOptions } from './gpu/node.ts';
export { loadMnist } from './data/mnist-node.ts';
export { loadDataset } from './data/dataset-node.ts';
export { classifierCachePath, loadOrTrainClassifier } from './eval/classifier-cache.ts';
