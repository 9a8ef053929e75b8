// What the page knows about a run from its event log: the loss points (train by step, validation
// by step) and the latest preview sample, folded from schema-1 events as they arrive. Pure and
// DOM-free so it is tested in Node. Not here: fetching events or drawing (main.ts).

import type { TrainEvent } from "../core/train/events.js";

export interface RunState {
  train: [number, number][];
  validation: [number, number][];
  latestSample: { step: number; text: string } | null;
  /** Set by a checkpoint event: the list of checkpoints should be fetched again. */
  checkpointsChanged: boolean;
  ended: boolean;
}

export const emptyRunState = (): RunState => ({ train: [], validation: [], latestSample: null, checkpointsChanged: false, ended: false });

/** Adds events to the state (in place) and returns it. */
export function foldEvents(state: RunState, events: readonly Partial<TrainEvent>[]): RunState {
  for (const event of events) {
    switch (event.type) {
      case "start":
        state.ended = false;
        if (event.resumedFromStep === null || event.resumedFromStep === undefined) {
          // A new run in the folder: the old curves belong to a run that is gone.
          state.train = [];
          state.validation = [];
          state.latestSample = null;
        } else {
          // A resume goes on from its checkpoint's step: steps logged after it were redone.
          const from = event.resumedFromStep;
          state.train = state.train.filter(([step]) => step <= from);
          state.validation = state.validation.filter(([step]) => step <= from);
        }
        break;
      case "step":
        if (typeof event.step === "number" && typeof event.loss === "number") state.train.push([event.step, event.loss]);
        break;
      case "eval":
        if (typeof event.step === "number" && typeof event.validationLoss === "number") state.validation.push([event.step, event.validationLoss]);
        break;
      case "sample":
        if (typeof event.step === "number" && typeof event.text === "string") state.latestSample = { step: event.step, text: event.text };
        break;
      case "checkpoint":
        state.checkpointsChanged = true;
        break;
      case "end":
        state.ended = true;
        break;
      default:
        break;
    }
  }
  return state;
}
