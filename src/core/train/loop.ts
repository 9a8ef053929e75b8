// The training loop: when to step, evaluate, save, sample and stop. Pure orchestration over a
// Trainer and a few hooks; it reads no files and prints nothing, and it yields to the event loop
// between steps so that signal handlers (SIGINT, SIGTERM) get to run.

import { trainEvent, type EndReason, type TrainEvent } from "./events.js";
import type { StepResult } from "./trainer.js";

export interface LoopLimits {
  /** Total steps for the run (0 = no limit). */
  steps: number;
  /** Total epochs for the run (0 = no limit). */
  epochs: number;
  /** Wall-clock budget for this invocation, ms (null = none). */
  timeMs: number | null;
  /** Stop after this many evaluations without a new best validation loss (0 = off). */
  patience: number;
  /** A time-budget run planning its step count again from its own first steps (chooser.ts). */
  retime?: Retime;
}

export interface Retime {
  /** The steps (of this invocation) after which the run re-plans. */
  atSteps: readonly number[];
  /**
   * The new step count, from the steps made, the recent steps timed (since the last re-timing,
   * or after the first RETIME_WARMUP_STEPS of the run) and the ms they took, and the ms left.
   */
  plan(stepsDone: number, timedSteps: number, timedMs: number, timeLeftMs: number): number;
  /** The new count takes effect: the schedule and what is saved follow it. */
  apply(totalSteps: number): void;
}

export interface LoopCadence {
  /** Validate every N steps (0 = only at the end). */
  evalEvery: number;
  checkpointEvery: { steps: number } | { ms: number };
  /** Print a sample every N steps (0 = never). */
  sampleEvery: number;
  /** Report a step event every N steps. */
  logEvery: number;
}

/** The run's record, saved in every checkpoint and carried across resumes. */
export interface Progress {
  /** [step, mean training loss over the log interval ending there] */
  train: Array<[number, number]>;
  /** [step, validation loss] */
  validation: Array<[number, number]>;
  bestValidationLoss: number | null;
}

export interface LoopHooks {
  emit(event: TrainEvent): void;
  /**
   * Writes a checkpoint of the current state and returns the path written. At a checkpoint
   * (the cadence, the end): the numbered file and latest.json, and best.json too when `isBest`;
   * returns latest.json. With `bestOnly` (a new best validation loss between checkpoints):
   * best.json alone; returns best.json.
   */
  save(isBest: boolean, bestOnly?: boolean): Promise<string>;
  /** A short sample from the current weights. */
  sample(): string;
  /** Milliseconds, monotonic. */
  now(): number;
  /** Set by a signal handler: finish the step, save, stop. */
  interrupted(): boolean;
}

/**
 * A loss above this many nats per character is "exploding": three times the loss of guessing
 * uniformly among V characters. No trained model gets there, and an untrained one starts near ln V.
 */
export const explodingLoss = (vocabularySize: number): number => 3 * Math.log(Math.max(2, vocabularySize));

/**
 * Evaluations since the best one: how patience is counted, derived from the history (so it
 * carries across resumes). Only evaluations on the --eval-every cadence count: the extra one a
 * run makes when it stops (at --steps, --time or a signal) must not shift when a resumed run
 * runs out of patience, or an interrupted run would stop somewhere an uninterrupted one did not.
 */
export function evaluationsSinceBest(progress: Progress, evalEvery: number): number {
  const counted = evalEvery > 0 ? progress.validation.filter(([step]) => step % evalEvery === 0) : progress.validation;
  let bestIndex = -1, best = Infinity;
  counted.forEach(([, loss], i) => {
    if (loss < best) {
      best = loss;
      bestIndex = i;
    }
  });
  return counted.length - 1 - bestIndex;
}

/** The slice of a Trainer the loop drives; tests drive the loop with a scripted one. */
export interface LoopTrainer {
  /** Updates made so far; trainStep() adds one. */
  readonly step: number;
  readonly epoch: number;
  readonly charsPerStep: number;
  readonly batcher: { readonly windowsPerEpoch: number };
  readonly model: { readonly config: { readonly vocabSize: number } };
  trainStep(): StepResult;
  validationLoss(): number | null;
}

export function totalSteps(limits: LoopLimits, windowsPerEpoch: number): number | null {
  const candidates: number[] = [];
  if (limits.steps > 0) candidates.push(limits.steps);
  if (limits.epochs > 0) candidates.push(limits.epochs * windowsPerEpoch);
  return candidates.length > 0 ? Math.min(...candidates) : null;
}

const yieldToEventLoop = (): Promise<void> => new Promise((resolve) => setImmediate(resolve));

/** The first steps of an invocation are slower (worker start-up, compilation, page faults): re-timing leaves them out. */
export const RETIME_WARMUP_STEPS = 3;

export async function runLoop(trainer: LoopTrainer, progress: Progress, limits: LoopLimits, cadence: LoopCadence, hooks: LoopHooks): Promise<EndReason> {
  const started = hooks.now();
  const firstStep = trainer.step;
  let stepLimit = limits.steps;
  let total = totalSteps(limits, trainer.batcher.windowsPerEpoch);
  const limit = explodingLoss(trainer.model.config.vocabSize);
  let lastSave = started;
  let intervalLoss = 0, intervalSteps = 0, lastTrainLoss: number | null = null;
  let lastValidation: number | null = progress.validation.at(-1)?.[1] ?? null;
  let evaluatedAt = -1;
  let savedAt = -1;
  /** Ms inside trainStep alone (evaluations and saves left out) since the last re-timing, and its steps. */
  let timedMs = 0, timedSteps = 0;

  const evaluate = async (): Promise<boolean> => {
    evaluatedAt = trainer.step;
    const loss = trainer.validationLoss();
    if (loss === null) return false;
    lastValidation = loss;
    const isBest = progress.bestValidationLoss === null || loss < progress.bestValidationLoss;
    if (isBest) progress.bestValidationLoss = loss;
    progress.validation.push([trainer.step, loss]);
    hooks.emit(trainEvent({ type: "eval", step: trainer.step, validationLoss: loss, isBest }));
    return isBest;
  };
  const save = async (isBest: boolean): Promise<void> => {
    const path = await hooks.save(isBest);
    lastSave = hooks.now();
    savedAt = trainer.step;
    hooks.emit(trainEvent({ type: "checkpoint", step: trainer.step, path }));
  };
  /** A new best between checkpoints: best.json alone, which neither resume nor the cadence reads. */
  const saveBest = async (): Promise<void> => {
    const path = await hooks.save(true, true);
    hooks.emit(trainEvent({ type: "checkpoint", step: trainer.step, path }));
  };
  /** A limit the run has reached, checked before each step and again right after it. */
  const limitReached = (): EndReason | null => {
    if (stepLimit > 0 && trainer.step >= stepLimit) return "steps";
    if (limits.epochs > 0 && trainer.epoch >= limits.epochs) return "epochs";
    if (limits.timeMs !== null && hooks.now() - started >= limits.timeMs) return "time";
    return null;
  };

  let reason: EndReason;
  for (;;) {
    // A signal lands while the loop yields below; a resumed run may have nothing left to do.
    const before = hooks.interrupted() ? "interrupted" : limitReached();
    if (before !== null) { reason = before; break; }

    const stepStarted = hooks.now();
    const result = trainer.trainStep();
    if (trainer.step - firstStep > RETIME_WARMUP_STEPS) {
      timedMs += hooks.now() - stepStarted;
      timedSteps++;
    }
    if (!result.finite || result.loss > limit) {
      hooks.emit(trainEvent({ type: "end", step: trainer.step, reason: "diverged", trainLoss: result.loss, validationLoss: lastValidation, bestValidationLoss: progress.bestValidationLoss, elapsedMs: hooks.now() - started }));
      return "diverged";
    }
    const step = trainer.step;
    intervalLoss += result.loss;
    intervalSteps++;
    lastTrainLoss = result.loss;
    const retime = limits.retime;
    if (retime !== undefined && retime.atSteps.includes(step - firstStep) && limits.timeMs !== null) {
      stepLimit = retime.plan(step - firstStep, timedSteps, timedMs, limits.timeMs - (hooks.now() - started));
      total = totalSteps({ ...limits, steps: stepLimit }, trainer.batcher.windowsPerEpoch);
      retime.apply(stepLimit);
      hooks.emit(trainEvent({ type: "retime", step, totalSteps: stepLimit, charsPerSecond: (timedSteps * trainer.charsPerStep * 1000) / Math.max(1e-3, timedMs) }));
      timedMs = 0;
      timedSteps = 0;
    }

    if (step % cadence.logEvery === 0) {
      const elapsedMs = hooks.now() - started;
      const rate = ((step - firstStep) * trainer.charsPerStep) / Math.max(1, elapsedMs) * 1000;
      const perStepMs = elapsedMs / Math.max(1, step - firstStep);
      let etaMs: number | null = total !== null ? (total - step) * perStepMs : null;
      if (limits.timeMs !== null) etaMs = Math.min(etaMs ?? Infinity, limits.timeMs - elapsedMs);
      progress.train.push([step, intervalLoss / intervalSteps]);
      intervalLoss = 0;
      intervalSteps = 0;
      hooks.emit(trainEvent({ type: "step", step, epoch: trainer.epoch, loss: result.loss, lr: result.lr, gradNorm: result.gradNorm, charsPerSecond: rate, elapsedMs, etaMs: etaMs === null ? null : Math.max(0, etaMs) }));
    }

    // Known now rather than at the top of the next pass, so the last step's evaluation and
    // checkpoint are made once, together with the cadence's.
    let stop = limitReached();
    if (stop !== null && intervalSteps > 0) {
      progress.train.push([step, intervalLoss / intervalSteps]);
      intervalSteps = 0;
    }
    let isBest = false;
    if ((cadence.evalEvery > 0 && step % cadence.evalEvery === 0) || stop !== null) {
      isBest = await evaluate();
      if (limits.patience > 0 && evaluationsSinceBest(progress, cadence.evalEvery) >= limits.patience) stop = "patience";
    }
    const every = cadence.checkpointEvery;
    const due = "steps" in every ? every.steps > 0 && step % every.steps === 0 : hooks.now() - lastSave >= every.ms;
    if (due || stop !== null) await save(isBest);
    else if (isBest) await saveBest();
    if (cadence.sampleEvery > 0 && step % cadence.sampleEvery === 0) hooks.emit(trainEvent({ type: "sample", step, text: hooks.sample() }));
    if (stop !== null) { reason = stop; break; }
    await yieldToEventLoop();
  }

  // Stopped before a step (a signal, or a resumed run already at its limit): what this step
  // holds is saved unless it already is. A run interrupted before its first step still saves,
  // so that --resume finds it.
  if (savedAt !== trainer.step && (trainer.step > firstStep || reason === "interrupted")) {
    if (intervalSteps > 0) progress.train.push([trainer.step, intervalLoss / intervalSteps]);
    const isBest = evaluatedAt !== trainer.step && trainer.step > firstStep ? await evaluate() : false;
    await save(isBest);
  }
  hooks.emit(trainEvent({ type: "end", step: trainer.step, reason, trainLoss: lastTrainLoss, validationLoss: lastValidation, bestValidationLoss: progress.bestValidationLoss, elapsedMs: hooks.now() - started }));
  return reason;
}
