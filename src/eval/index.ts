// The evaluation API, platform-free (the on-disk classifier cache is classifier-cache.ts, Node only).

export { argmaxRows, CLASSIFIER_FORMAT, CLASSIFIER_SPECS, FASHION_CLASSIFIER, MNIST_CLASSIFIER, MnistClassifier, validateClassifierSpec, type ClassifierSpec, type ClassifierTraining, type EpochReport } from './classifier.ts';
export { CLASS_SHARE_THRESHOLD, classesCovered, classHistogram, classifierScore, klFromUniform, realFeatureStats, type ClassifierScore } from './classifier-score.ts';
export { checkDatasetMatches, datasetSets, inDataUnits, knownMixtureOf, KNOWN_MIXTURE_SHARE, MMD_MAX_ROWS, scaledParzenSigmas, VALIDATION_ROWS, type DatasetSets, type DatasetSpec } from './dataset-sets.ts';
export { evaluateGenerator, type DataSetSummary, type EvalReport, type EvaluateOptions, type MomentsReport, type Timed } from './evaluate.ts';
export { gaussianLogSums, gaussianLogSumsF64, kernelChunkRows, type KernelSumOptions } from './gaussian-sums.ts';
export { featureStats, frechetDistance, sqrtPsd, symmetricEigen, traceSqrtProduct, type GaussianStats } from './frechet.ts';
export { gaussianMmd, gaussianMmdF64, MEDIAN_POINTS, medianHeuristicSigma, medianHeuristicSigmaF64, mmdFromSums, pooledSubsample, type MmdEstimates, type MmdOptions, type MmdResult } from './mmd.ts';
export { normalCdf, wasserstein1ToNormal } from './normal.ts';
export { HIGH_QUALITY_STDS, mixtureModes, MODE_SAMPLES, type ModeReport } from './modes.ts';
export {
  meanAndStandardError,
  mnistParzenSets,
  mnistPixels,
  parzenChunkRows,
  parzenEvaluate,
  parzenLogDensities,
  parzenLogDensitiesF64,
  parzenLogNormalizer,
  PARZEN_SAMPLES,
  PARZEN_SIGMAS,
  PARZEN_VALIDATION,
  type ParzenOptions,
  type ParzenResult,
} from './parzen.ts';
