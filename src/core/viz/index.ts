// Seeing inside a model: traces of its states over a text, features of the text, units ranked
// by how well they track one, and the views (terminal text, HTML, SVG loss curves) as strings.
// Portable: no Node modules, no process; the CLI and a page are its callers.

export { traceText, traceArenaFloats, unitValues, type Prediction, type StateName, type Trace, type TraceOptions } from "./trace.js";
export { BUILT_IN_FEATURES, featureNamed, indentation, insideBrackets, insideMatches, insideQuotes, linePosition, type Feature } from "./features.js";
export { pearson, rankUnits, type UnitScore } from "./rank.js";
export { renderLegend, renderTerminal, valueScale, type ColorLevel, type TerminalViewOptions } from "./terminal.js";
export { activationView, unitLabel, type ActivationView, type UnitRef, type ViewUnit } from "./view.js";
export { renderHtml } from "./html.js";
export { renderLossSvg, type LossHistory, type LossPlotOptions } from "./svg.js";
