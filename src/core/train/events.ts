// What a training run reports as it goes. The loop emits these and prints nothing; the CLI's
// reporter renders them (progress bar, plain log lines, or NDJSON with --json).

import type { TrainConfig } from "../config.js";
import type { ChosenSettings } from "./chooser.js";

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
      /** What the time-budget chooser measured and set (settings it chose, by key), when it ran. */
      choice?: { reason: string; measured: Record<string, number>; settings: ChosenSettings; chosen: string[] } | null;
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
