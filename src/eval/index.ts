// The evaluation API, platform-free (the on-disk classifier cache is classifier-cache.ts, Node only).

export { argmaxRows, CLASSIFIER_FORMAT, CLASSIFIER_SPECS, FASHION_CLASSIFIER, MNIST_CLASSIFIER, MnistClassifier, validateClassifierSpec, type ClassifierSpec, type ClassifierTraining, type EpochReport } from './classifier.ts';
export { CLASS_SHARE_THRESHOLD, classesCovered, classHistogram, classifierScore, klFromUniform, realFeatureStats, type ClassifierScore } from './classifier-score.ts';
export { evaluateGenerator, type EvalReport, type EvaluateOptions, type MomentsReport, type Timed } from './evaluate.ts';
export { featureStats, frechetDistance, sqrtPsd, symmetricEigen, traceSqrtProduct, type GaussianStats } from './frechet.ts';
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
