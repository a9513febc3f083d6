// The engine's public API, the same in Node and in the browser. The platform edges add how to
// get a device (node.ts: Dawn; browser.ts: navigator.gpu) and how to read MNIST and Fashion-MNIST.

export { describeAdapter, GpuContext, type AdapterSummary, type Step } from './gpu/context.ts';
export { openContext } from './gpu/open.ts';
export { AdapterError, GpuError, ShaderError, ShapeError } from './gpu/errors.ts';
export { GanTrainer, TrainingDivergedError, type MetricsReport, type RunOptions, type TrainerOptions } from './gan/trainer.ts';
export { DEFAULT_PRESET, preset, PRESET_NAMES, PRESETS, type PresetName } from './gan/presets.ts';
export { validateConfig, type GanConfig, type NoiseSpec, type Schedule } from './gan/config.ts';
export { updatesPerIteration } from './gan/schedules.ts';
export { NonFiniteStateError, nonFiniteTensors, readCheckpoint, restoreCheckpoint, saveCheckpoint, trainerFromCheckpoint, type CheckpointContents, type NonFiniteTensor } from './gan/checkpoint.ts';
export { CheckpointError } from './io/safetensors.ts';
export { Sampler } from './gan/sampler.ts';
export { encodeTorchExport, ExportError, exportForTorch, pythonUsage, TORCH_EXPORT_FORMAT, type ExportedNet, type TorchExport } from './export/torch-export.ts';
export type { Metrics } from './kernels/metrics.ts';
export { Network, describeNetwork, planNetwork, type NetworkSpec, type NetworkWorkspace } from './nn/network.ts';
export type { LayerSpec, DenseSpec, Conv2dSpec, ConvTranspose2dSpec, BatchNormSpec, ActivationSpec, ReshapeSpec, SampleShape, LayerKind, Layer } from './nn/layer.ts';
export { LAYER_KINDS } from './nn/layers/index.ts';
export type { InitScheme } from './nn/init.ts';
export { createLoss, LOSSES, LOSS_NAMES, type GanLoss } from './loss/index.ts';
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
export {
  columnStats,
  datasetBytes,
  datasetFromCsv,
  datasetFromFile,
  datasetFromIdx,
  datasetFromNpy,
  sizeLimitMessage,
  type Dataset,
  type DatasetFormat,
  type LoadOptions,
} from './data/dataset.ts';
export { ImageStack, isImageName } from './data/image-folder.ts';
export { decodeNpy, parseNpy, type NpyArray } from './io/npy.ts';
