// The engine's public API, the same in Node and in the browser. The platform edges add how to
// get a device (node.ts: Dawn; browser.ts: navigator.gpu) and how to read MNIST and Fashion-MNIST.

export { describeAdapter, GpuContext, type AdapterSummary, type Step } from './gpu/context.ts';
export { openContext } from './gpu/open.ts';
export { AdapterError, GpuError, ShaderError, ShapeError } from './gpu/errors.ts';
export { GanTrainer, TrainingDivergedError, type MetricsReport, type RunOptions, type TrainerOptions } from './gan/trainer.ts';
export { DEFAULT_PRESET, preset, PRESET_NAMES, PRESETS, type PresetName } from './gan/presets.ts';
export { validateConfig, type GanConfig, type NoiseSpec, type Schedule } from './gan/config.ts';
export { readCheckpoint, restoreCheckpoint, saveCheckpoint, trainerFromCheckpoint, type CheckpointContents } from './gan/checkpoint.ts';
export { Sampler } from './gan/sampler.ts';
export type { Metrics } from './kernels/metrics.ts';
export type { MlpSpec, LayerSpec, InitScheme } from './nn/mlp.ts';
export type { OptimizerSpec } from './nn/optimizer.ts';
export type { Activation } from './kernels/common.ts';
export { parseMnist, MNIST_FILES, type Mnist, type MnistSplit } from './data/mnist.ts';
export { FASHION_CLASS_NAMES, FASHION_LAYOUT, parseFashion, type FashionLayout } from './data/fashion.ts';
export { IMAGE_DATASET_TITLES, IMAGE_DATASETS, imageClassNames, imageDatasetOfKind, type ImageDataset } from './data/datasets.ts';
export { DataError } from './data/idx.ts';
export type { DataSpec } from './data/source.ts';
export { assignModes, GRID25, modeCoverage, RING8 } from './data/toy.ts';
export * from './eval/index.ts';
export { previewSamples, renderSamples } from './viz/samples.ts';
export type { Rgba } from './viz/image.ts';
export { encodePng } from './io/png.ts';
export { encodeNpy } from './io/npy.ts';
