// The time-budget chooser: from a budget, the size of the text, its vocabulary and the throughput
// measured for a few candidate shapes on this machine, it picks the model (cell, layers, hidden,
// embedding), dropout, learning rate and a cosine schedule over the steps that fit. Pure: it
// times nothing (calibrate.ts does) and knows no corpus; the rules and their evidence are in
// docs/TUNING.md.

import { gateCount, type CellType } from "../nn/params.js";

/** A model shape the calibration can time and the chooser can pick. */
export interface CandidateShape {
  model: CellType;
  layers: number;
  hidden: number;
  /** 0 = one-hot input (a row lookup); otherwise a learned embedding of this width. */
  embed: number;
}

/** One candidate's training speed, timed on this machine with the run's batch and window. */
export interface Measurement {
  shape: CandidateShape;
  charsPerSecond: number;
}

export interface BudgetFacts {
  /** Milliseconds left for training once calibration is done. */
  trainMs: number;
  /** Characters in the training split. */
  trainChars: number;
  vocabularySize: number;
  /** batch × seqLen: characters one optimizer step consumes. */
  charsPerStep: number;
  /**
   * Characters of forward-only work the run adds per step on average (validation passes:
   * validation characters ÷ steps between them ÷ 3, a forward pass being about a third of a
   * training step's work). 0 when there is no validation.
   */
  overheadCharsPerStep?: number;
}

/** The settings a choice fills in; everything else keeps its default or the user's value. */
export interface ChosenSettings {
  model: CellType;
  layers: number;
  hidden: number;
  embed: number;
  dropout: number;
  lr: number;
  lrSchedule: "cosine";
  warmup: number;
  /** The step count the cosine schedule decays over, and where the run stops. */
  steps: number;
}

export interface Choice {
  settings: ChosenSettings;
  /** One line a person can read and act on: what was chosen, from what. */
  reason: string;
  /** The numbers behind the choice, by name (throughput per shape, steps that fit, ...). */
  measured: Record<string, number>;
}

/** Above this many distinct characters the input is embedded rather than one-hot, and the rate is lower (see below). */
export const LARGE_VOCABULARY = 1000;
const isLargeVocabulary = (vocabularySize: number): boolean => vocabularySize > LARGE_VOCABULARY;
/** The embedding width for a large vocabulary. */
export const LARGE_VOCABULARY_EMBED = 64;

/**
 * Characters of training (counted as below) per recurrent parameter that a shape needs before it
 * beats the next smaller one. Fitted on tiny-shakespeare sweeps at fixed step counts
 * (docs/TUNING.md); it is a property of the model family, not of the text.
 */
export const CHARS_PER_PARAMETER = 8;

/**
 * Passes over the text after which more passes stop counting as new data (Muennighoff et al.
 * 2023, "Scaling Data-Constrained Language Models": up to about four epochs of repeated data are
 * worth almost as much as fresh data). Past it a bigger model only overfits.
 */
export const USEFUL_EPOCHS = 4;

/**
 * Dropout between layers once the run sees the text more than DROPOUT_FROM_EPOCHS times: +0.1 per
 * doubling past that, at most 0.3. At 3.6 passes a GRU 2x128 did better without it (docs/TUNING.md).
 */
export const DROPOUT_FROM_EPOCHS = 4;
export const DROPOUT_PER_DOUBLING = 0.1;
export const MAX_DROPOUT = 0.3;

/**
 * Adam's peak rate for a GRU 2x128, with a short linear warm-up and cosine decay, and how it
 * scales with width: inversely, as Adam's best rate for hidden weights does (the maximal-update
 * parametrisation, Yang et al. 2021). Swept at 128 wide (docs/TUNING.md): 0.004 1.617, 0.006
 * 1.591, 0.008 1.587, 0.012 1.570, 0.016 1.554 nats/char after 1,850 steps; 0.008 without
 * warm-up 1.634. Higher rates were not tried.
 */
export const BASE_LR = 0.016;
export const BASE_LR_WIDTH = 128;
export const MIN_LR = 0.003;
/** Warm-up steps: 50, or 3% of a shorter run. */
export const WARMUP_STEPS = 50;
export const WARMUP_SHARE = 0.03;

/**
 * The peak rate above LARGE_VOCABULARY distinct characters, whatever the width. On a 1,352-character
 * text a GRU 2x192 with a 64-wide embedding reached 2.577 nats/char after 1,000 steps at 0.002
 * against 2.765 at its width's 0.0107 (and 3.551 one-hot at 0.0107); ten minutes at 0.0107 ended
 * at 2.684, behind an LSTM 2x128 at a constant 0.002 (2.218): the wide softmax and the rare
 * characters' rows do not take the rate a 65-character text does (docs/TUNING.md, section 4).
 */
export const LARGE_VOCABULARY_LR = 0.002;

/** The peak rate for a width and vocabulary: scaled with width but never above the swept rate; LARGE_VOCABULARY_LR above LARGE_VOCABULARY. */
export function learningRateFor(hidden: number, vocabularySize = 0): number {
  if (isLargeVocabulary(vocabularySize)) return LARGE_VOCABULARY_LR;
  const scaled = (BASE_LR * BASE_LR_WIDTH) / hidden;
  return Math.round(Math.min(BASE_LR, Math.max(MIN_LR, scaled)) * 10_000) / 10_000;
}

/** The warm-up for a run of this many steps. */
export function warmupFor(steps: number): number {
  return Math.min(WARMUP_STEPS, Math.floor(WARMUP_SHARE * steps));
}

/**
 * The shapes to time, smallest first: two-layer GRUs of growing width. With a large vocabulary
 * the softmax (6·H·V flops a character) dominates a step, so the ladder starts narrower and the
 * input is an embedding: its V·E parameters are fewer than the one-hot input's V·3H, and a
 * rare character has fewer numbers to learn from its few occurrences.
 */
export function calibrationCandidates(vocabularySize: number): CandidateShape[] {
  const large = isLargeVocabulary(vocabularySize);
  const widths = large ? [96, 128, 192, 256, 384] : [128, 192, 256, 384, 512];
  return widths.map((hidden) => ({ model: "gru", layers: 2, hidden, embed: large ? LARGE_VOCABULARY_EMBED : 0 }));
}

/**
 * Parameters that do not belong to one character: the recurrent weights apart from the first
 * layer's per-character input columns (an embedding), and no decoder. Scaling laws count model
 * size this way (Kaplan et al. 2020, "non-embedding parameters"), and a vocabulary of 5000
 * characters must not make a model look big.
 */
export function recurrentParameters(shape: CandidateShape): number {
  const G = gateCount(shape.model) * shape.hidden;
  let count = 0;
  for (let layer = 0; layer < shape.layers; layer++) {
    const input = layer === 0 ? shape.embed : shape.hidden;
    count += G * input + G * shape.hidden + 2 * G;
  }
  return count;
}

/**
 * The share of the training time the schedule is planned over. A schedule that ends early wastes
 * the rest; one cut off by the clock never reaches its low rates, which costs more. On a busy
 * machine a run's speed drifts by 10-20% from what calibration measured (docs/TUNING.md).
 */
export const PLANNED_SHARE = 0.85;

/**
 * Once the run has made a few steps of the chosen shape, it times them and plans its schedule
 * again (retimedSteps): a measurement of the run's own steps is better than the calibration's
 * few, so the new plan keeps back less. It does so again half-way, from every step made by then,
 * since the speed of a shared machine drifts (one 10-minute run slowed by a quarter after its
 * first re-timing and was cut off at 83% of its schedule).
 */
export const RETIME_AT_SHARE = 0.04;
export const RETIME_MIN_STEPS = 10;
export const RETIME_AGAIN_AT_SHARE = 0.5;
export const RETIMED_SHARE = 0.95;

/**
 * The steps at which a budget run re-times itself: 4% into the planned steps (at least 10 in),
 * then half-way; none when the plan is too short for the early steps to leave much to re-plan.
 */
export function retimeSteps(plannedSteps: number): number[] {
  const early = Math.max(RETIME_MIN_STEPS, Math.round(RETIME_AT_SHARE * plannedSteps));
  if (early * 4 > plannedSteps) return [];
  const half = Math.round(RETIME_AGAIN_AT_SHARE * plannedSteps);
  return half > early ? [early, half] : [early];
}

export interface RetimeFacts {
  /** Steps this invocation has made. */
  stepsDone: number;
  /** Recent steps timed, and the ms they took (training steps alone). */
  timedSteps: number;
  stepMs: number;
  /** Ms of the training time left now. */
  timeLeftMs: number;
  /** As in BudgetFacts: validation work per step, in characters, and characters a step trains. */
  overheadCharsPerStep: number;
  charsPerStep: number;
}

/** The step count the schedule should end at, from the run's own measured step time. */
export function retimedSteps(facts: RetimeFacts): number {
  const perStepMs = (facts.stepMs / Math.max(1, facts.timedSteps)) * (1 + facts.overheadCharsPerStep / Math.max(1, facts.charsPerStep));
  return facts.stepsDone + Math.max(1, Math.floor((RETIMED_SHARE * Math.max(0, facts.timeLeftMs)) / Math.max(1e-6, perStepMs)));
}

/** Steps of this shape that fit in the training time, validation passes included. */
export function stepsThatFit(facts: BudgetFacts, measurement: Measurement): number {
  const charsPerStep = facts.charsPerStep + (facts.overheadCharsPerStep ?? 0);
  return Math.floor((PLANNED_SHARE * (facts.trainMs / 1000) * measurement.charsPerSecond) / charsPerStep);
}

/** Characters that count as training data: repeated passes beyond USEFUL_EPOCHS do not. */
function usefulChars(facts: BudgetFacts, steps: number): number {
  return Math.min(steps * facts.charsPerStep, USEFUL_EPOCHS * facts.trainChars);
}

/** Whether a shape gets enough training in the budget to be worth its size. */
export function fitsBudget(facts: BudgetFacts, measurement: Measurement): boolean {
  const steps = stepsThatFit(facts, measurement);
  return usefulChars(facts, steps) >= CHARS_PER_PARAMETER * recurrentParameters(measurement.shape);
}

/** Dropout rises with the passes over the text: none up to DROPOUT_FROM_EPOCHS, +0.1 per doubling after. */
export function dropoutFor(epochs: number, layers: number): number {
  if (layers < 2 || epochs <= DROPOUT_FROM_EPOCHS) return 0;
  const dropout = DROPOUT_PER_DOUBLING * Math.log2(epochs / DROPOUT_FROM_EPOCHS);
  return Math.round(Math.min(MAX_DROPOUT, dropout) * 100) / 100;
}

const shapeName = (s: CandidateShape): string => `${s.model} ${s.layers}x${s.hidden}${s.embed > 0 ? ` embed ${s.embed}` : ""}`;
const shapeKey = (s: CandidateShape): string => `${s.model}${s.layers}x${s.hidden}${s.embed > 0 ? `e${s.embed}` : ""}`;

/**
 * The largest measured shape that fits the budget (the smallest when none does), trained with
 * cosine decay over the steps that fit at its measured speed.
 */
export function chooseForBudget(facts: BudgetFacts, measurements: readonly Measurement[]): Choice {
  if (measurements.length === 0) throw new Error("chooseForBudget needs at least one measurement");
  const bySize = [...measurements].sort((a, b) => recurrentParameters(a.shape) - recurrentParameters(b.shape));
  let chosen = bySize[0]!;
  for (const measurement of bySize) if (fitsBudget(facts, measurement)) chosen = measurement;

  const steps = Math.max(1, stepsThatFit(facts, chosen));
  const epochs = (steps * facts.charsPerStep) / Math.max(1, facts.trainChars);
  const { shape } = chosen;
  const settings: ChosenSettings = {
    ...shape,
    dropout: dropoutFor(epochs, shape.layers),
    lr: learningRateFor(shape.hidden, facts.vocabularySize),
    lrSchedule: "cosine",
    warmup: warmupFor(steps),
    steps,
  };

  const measured: Record<string, number> = { trainMs: Math.round(facts.trainMs), steps, epochs: Math.round(epochs * 100) / 100 };
  for (const m of measurements) measured[`charsPerSecond.${shapeKey(m.shape)}`] = Math.round(m.charsPerSecond);
  const fitted = bySize.filter((m) => fitsBudget(facts, m)).length;
  const why = fitted === 0
    ? "the smallest shape: none gets enough training in this budget"
    : chosen === bySize.at(-1) && bySize.length > 1
      ? "the largest shape timed"
      : "the largest shape that gets enough training in this budget";
  const reason =
    `${shapeName(shape)}, dropout ${settings.dropout}, lr ${settings.lr} cosine over ${steps.toLocaleString("en-US")} steps, warm-up ${settings.warmup} ` +
    `(${epochs.toFixed(1)} passes over the text): ${why}, at ${Math.round(chosen.charsPerSecond).toLocaleString("en-US")} chars/s measured`;
  return { settings, reason, measured };
}
