// The settings under the names the rest of the code has always imported them by. The table
// they are derived from, and every rule, lives in settings.ts; this file only re-exports it.

export {
  DEFAULT_CHECKPOINT,
  EVAL_DEFAULTS,
  INFO_DEFAULTS,
  SAMPLE_DEFAULTS,
  TRAIN_DEFAULTS,
  closestKey,
  flagName,
  parseDuration,
  parseStepsOrDuration,
  resolveEvalOptions,
  resolveInfoOptions,
  resolveSampleOptions,
  resolveTrainConfig,
  type Activation,
  type Backend,
  type CheckpointCadence,
  type ClipMode,
  type EvalOptions,
  type InfoOptions,
  type LrSchedule,
  type ModelType,
  type OptimizerName,
  type SampleOptions,
  type TrainConfig,
} from "./settings.js";
