// The activation view as plain data: the characters of a trace, the model's top predictions
// after each, and the values of the units chosen for display. The HTML renderer draws it, and
// a page can send it as JSON and draw the same thing. Not here: choosing units (rank.ts).

import type { Prediction, StateName, Trace } from "./trace.js";
import { unitValues } from "./trace.js";
import { valueScale } from "./terminal.js";

export interface UnitRef {
  layer: number;
  unit: number;
  state: StateName;
}

export interface ViewUnit extends UnitRef {
  /** "layer 0 unit 12 (c)", and the correlation when it was ranked. */
  label: string;
  /** One value per character. */
  values: number[];
  /** What the colours are scaled by (valueScale). */
  scale: number;
}

export interface ActivationView {
  title: string;
  characters: string[];
  predictions: Prediction[][];
  units: ViewUnit[];
}

export const unitLabel = (ref: UnitRef): string => `layer ${ref.layer} unit ${ref.unit} (${ref.state})`;

/** The view of `units` over a trace; labels may be given per unit (e.g. with a correlation). */
export function activationView(trace: Trace, units: readonly (UnitRef & { label?: string })[], title: string): ActivationView {
  return {
    title,
    characters: [...trace.characters],
    predictions: trace.predictions,
    units: units.map((ref) => {
      const values = unitValues(trace, ref.layer, ref.unit, ref.state);
      return {
        layer: ref.layer, unit: ref.unit, state: ref.state,
        label: ref.label ?? unitLabel(ref),
        // Rounded: four decimals are more than a colour or a tooltip shows, and halve the file.
        values: Array.from(values, (v) => Math.round(v * 1e4) / 1e4),
        scale: valueScale(values, ref.state),
      };
    }),
  };
}
