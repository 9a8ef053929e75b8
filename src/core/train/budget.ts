// Budget-aware training for one run: whether charnn chooses the model for a time budget (a new
// run with only --time and no shape given), the calibration on the run's own text and kernels,
// and laying the choice over the config without touching what the user gave. Portable: the
// clock and the kernels come from the caller; the rules themselves are in chooser.ts.

import type { TrainConfig } from "../config.js";
import { modelConfigOf } from "../checkpoint/model.js";
import { optimizerDefaults } from "../optim/optimizers.js";
import type { Kernels } from "../tensor/kernels.js";
import { calibrate } from "./calibrate.js";
import { calibrationCandidates, chooseForBudget, type BudgetFacts, type CandidateShape, type Choice, type ChosenSettings } from "./chooser.js";
import { Trainer } from "./trainer.js";

/** Given any of these, the user has chosen the model, and charnn chooses nothing. */
export const SHAPE_SETTINGS = ["model", "layers", "hidden", "embed"] as const;
/** Given either, the schedule follows it and --time only cuts the invocation off. */
export const LENGTH_SETTINGS = ["steps", "epochs"] as const;

/** Why a run does or does not choose its settings for the budget (shown in --dry-run). */
export function budgetChoiceApplies(config: TrainConfig, given: ReadonlySet<string>, isNewRun: boolean): boolean {
  if (!isNewRun || config.time === null || config.initFrom !== null) return false;
  if (SHAPE_SETTINGS.some((key) => given.has(key))) return false;
  return !LENGTH_SETTINGS.some((key) => given.has(key));
}

/** The choice laid over the config, except where the user gave a value; and the keys it set. */
export function applyChoice(config: TrainConfig, settings: ChosenSettings, given: ReadonlySet<string>): { config: TrainConfig; chosen: string[] } {
  const next: Record<string, unknown> = { ...config };
  const chosen: string[] = [];
  for (const [key, value] of Object.entries(settings)) {
    if (given.has(key)) continue;
    next[key] = value;
    chosen.push(key);
  }
  // The chosen steps end the run; the default epoch limit is already off with --time.
  next.epochs = 0;
  return { config: next as unknown as TrainConfig, chosen };
}

export interface BudgetCalibrationInputs {
  config: TrainConfig;
  /** The training split as vocabulary indices. */
  train: Uint32Array;
  /** Characters the periodic validation passes read each time. */
  validationChars: number;
  vocabularySize: number;
  /** Kernels for the timed steps, disposed afterwards (so calibration leaves no memory behind). */
  newKernels(): Kernels;
  /** Milliseconds, monotonic. */
  now(): number;
}

export interface BudgetDecision {
  choice: Choice;
  /** Wall time calibration took. */
  calibrationMs: number;
  /**
   * Time kept back for what follows the last step: the final validation pass over the held-out
   * text and the checkpoint. The training loop gets the budget minus this and calibrationMs.
   */
  finishMs: number;
}

/** Start-up, the last checkpoint's write and the process's exit, beside the final validation. */
export const FINISH_ALLOWANCE_MS = 3000;

/** Times the candidate shapes on this machine and chooses for the budget in config.time. */
export function calibrateForBudget(inputs: BudgetCalibrationInputs): BudgetDecision {
  const { config, train, vocabularySize } = inputs;
  if (config.time === null) throw new Error("calibrateForBudget needs a time budget");
  const charsPerStep = config.batch * config.seqLen;
  const overheadCharsPerStep = config.evalEvery > 0 ? inputs.validationChars / config.evalEvery / 3 : 0;
  const facts: BudgetFacts = { trainMs: config.time, trainChars: train.length, vocabularySize, charsPerStep, overheadCharsPerStep };
  const kernels = inputs.newKernels();
  try {
    const stepperFor = (shape: CandidateShape) => {
      const trainer = new Trainer({
        model: modelConfigOf({ ...config, ...shape, dropout: 0 }, vocabularySize),
        batch: config.batch,
        seqLen: config.seqLen,
        optimizer: { ...optimizerDefaults(config.optimizer), weightDecay: config.weightDecay },
        schedule: { kind: "constant", baseLr: config.lr, decay: 1, decayEvery: 1, warmup: 0, totalSteps: null },
        clip: { mode: config.clipMode, limit: config.clip },
        seed: config.seed,
        kernels,
      }, train, new Uint32Array(0));
      return { trainStep: () => void trainer.trainStep() };
    };
    const calibration = calibrate(calibrationCandidates(vocabularySize), facts, { now: inputs.now, stepperFor });
    const left = (reservedMs: number): BudgetFacts => ({ ...facts, trainMs: Math.max(0, config.time! - calibration.elapsedMs - reservedMs) });
    // The final validation pass reads the held-out text once, forward only (about a third of a
    // training step's work a character), at the speed of the shape first chosen; choosing again
    // with that time kept back can only pick a faster shape, so the estimate stays on the safe side.
    const first = chooseForBudget(left(0), calibration.measurements);
    const speed = calibration.measurements.find((m) => m.shape.hidden === first.settings.hidden && m.shape.embed === first.settings.embed)!.charsPerSecond;
    const finishMs = FINISH_ALLOWANCE_MS + ((inputs.validationChars / 3) * 1000) / Math.max(1, speed);
    const choice = chooseForBudget(left(finishMs), calibration.measurements);
    choice.measured.calibrationMs = Math.round(calibration.elapsedMs);
    choice.measured.finishMs = Math.round(finishMs);
    return { choice, calibrationMs: calibration.elapsedMs, finishMs };
  } finally {
    kernels.dispose();
  }
}
