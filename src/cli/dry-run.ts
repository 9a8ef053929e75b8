// How `charnn train --dry-run` prints the engine's estimate: one JSON object with --json, else
// aligned lines. The estimate itself (parameters, memory, steps) is src/core/train/run.ts's, the
// time per step the Node layer's few timed steps (src/core/train/step-timing.ts).

import type { DryRunReport } from "../node/train.js";
import { formatBytes, formatCount, formatDuration } from "../core/util/format.js";

export function formatDryRun(report: DryRunReport, json: boolean): string {
  if (json) return JSON.stringify(report) + "\n";
  const { config, stepTime } = report;
  const mb = formatBytes;
  const { model: modelBytes, corpus: corpusBytes, total } = report.memoryBytes;
  const perRun = stepTime.msPerRun === null ? "" : `, about ${formatDuration(stepTime.msPerRun)} for the run`;
  return [
    `start        ${report.start}`,
    `model        ${config.model}${config.model === "rnn" ? ` (${config.activation})` : ""}, ${config.layers} layer(s) of ${config.hidden}, ${config.embed > 0 ? `embedding ${config.embed}` : "one-hot input"}, vocabulary ${formatCount(report.vocabularySize)}`,
    `parameters   ${formatCount(report.parameters)}`,
    `text         ${formatCount(report.trainChars)} training characters, ${formatCount(report.validationChars)} validation`,
    `windows      ${formatCount(report.windowsPerEpoch)} per epoch (${formatCount(config.batch)} streams x ${formatCount(config.seqLen)} steps)`,
    `steps        ${report.choosesForBudget ? "chosen for the time budget when training starts" : report.totalSteps === null ? "until the time budget ends" : formatCount(report.totalSteps)}`,
    ...(report.choosesForBudget ? ["choice       the model, dropout, lr and schedule are chosen for the budget by a short calibration when training starts; the model line shows the defaults"] : []),
    `time         about ${formatDuration(stepTime.msPerStep)} a step, ${formatDuration(stepTime.msPerEpoch)} an epoch${perRun} (training steps only; median of ${stepTime.timedSteps} timed after ${stepTime.warmupSteps} warm-up, on this machine now${report.choosesForBudget ? ", with the default model" : ""})`,
    `memory       about ${mb(total)} (${mb(modelBytes)} weights, gradients, optimiser state and workspaces; ${mb(corpusBytes)} text)`,
    `config       ${JSON.stringify(config)}`,
    "",
  ].join("\n");
}
