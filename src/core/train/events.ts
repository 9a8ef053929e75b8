// What a training run reports as it goes. The loop emits these and prints nothing; the CLI's
// reporter renders them (progress bar, plain log lines, or NDJSON with --json).

import type { TrainConfig } from "../config.js";

export type EndReason = "steps" | "epochs" | "time" | "patience" | "interrupted" | "diverged";

export type TrainEvent =
  | {
      type: "start";
      config: TrainConfig;
      parameterCount: number;
      vocabularySize: number;
      trainChars: number;
      validationChars: number;
      resumedFromStep: number | null;
      totalSteps: number | null;
    }
  | { type: "step"; step: number; epoch: number; loss: number; lr: number; gradNorm: number; charsPerSecond: number; elapsedMs: number; etaMs: number | null }
  | { type: "eval"; step: number; validationLoss: number; isBest: boolean }
  | { type: "checkpoint"; step: number; path: string }
  | { type: "sample"; step: number; text: string }
  | { type: "warning"; message: string }
  | {
      type: "end";
      step: number;
      reason: EndReason;
      trainLoss: number | null;
      validationLoss: number | null;
      bestValidationLoss: number | null;
      elapsedMs: number;
    };
