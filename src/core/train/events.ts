// What a training run reports as it goes: one versioned schema for every face. The loop emits
// these and prints nothing; the CLI's reporter renders them (progress bar, plain log lines, or
// NDJSON with --json, which adds a `time` field), and the library hands the same objects to the
// caller's callback or async iterator. Documented in the README ("Training events").
// Not here: rendering, or deciding when an event happens (loop.ts).

import type { TrainConfig } from "../config.js";
import type { ChosenSettings } from "./chooser.js";

/**
 * The version of the event objects. Every event carries it as `schema`. Adding a field or an
 * event type keeps the number; renaming, removing or changing the meaning of a field raises it.
 */
export const TRAIN_EVENT_SCHEMA = 1;

export type EndReason = "steps" | "epochs" | "time" | "patience" | "interrupted" | "diverged";

/** The events without their `schema` stamp, as the code that raises them writes them. */
export type TrainEventBody =
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
  /** A time-budget run timed its recent steps (charsPerSecond) and moved the end of its schedule to totalSteps. */
  | { type: "retime"; step: number; totalSteps: number; charsPerSecond: number }
  | {
      type: "end";
      step: number;
      reason: EndReason;
      trainLoss: number | null;
      validationLoss: number | null;
      bestValidationLoss: number | null;
      elapsedMs: number;
    };

/** A training event as every face sees it: the body with `schema: 1`. */
export type TrainEvent = TrainEventBody & { schema: typeof TRAIN_EVENT_SCHEMA };

export type TrainEventType = TrainEvent["type"];

/** Stamps an event body with the schema version. */
export function trainEvent<E extends TrainEventBody>(body: E): E & { schema: typeof TRAIN_EVENT_SCHEMA } {
  return { schema: TRAIN_EVENT_SCHEMA, ...body };
}
