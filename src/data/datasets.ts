// The image data sets the engine knows, by name: both hold 28x28 grey images in ten classes in
// the `Mnist` shape, so training, sampling and evaluation take either unchanged. A name selects
// what differs: the title, the class names, the evaluation classifier (src/eval/).

import { FASHION_CLASS_NAMES } from './fashion.ts';

export type ImageDataset = 'mnist' | 'fashion';

export const IMAGE_DATASETS: readonly ImageDataset[] = ['mnist', 'fashion'];

export const IMAGE_DATASET_TITLES: Record<ImageDataset, string> = { mnist: 'MNIST', fashion: 'Fashion-MNIST' };

const DIGITS = ['0', '1', '2', '3', '4', '5', '6', '7', '8', '9'] as const;

/** Class c's name: the digit for MNIST, the garment for Fashion-MNIST. */
export function imageClassNames(dataset: ImageDataset): readonly string[] {
  return dataset === 'fashion' ? FASHION_CLASS_NAMES : DIGITS;
}

/** The image data set a config's data kind names, or undefined for the toy distributions. */
export function imageDatasetOfKind(kind: string): ImageDataset | undefined {
  return (IMAGE_DATASETS as readonly string[]).includes(kind) ? (kind as ImageDataset) : undefined;
}
