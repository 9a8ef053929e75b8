// How `charnn train --dry-run` prints the engine's estimate: one JSON object with --json, else
// aligned lines. The estimate itself (parameters, memory, steps) is src/core/train/run.ts's.

import type { DryRunEstimate } from "../core/train/run.js";
import { formatCount } from "../core/util/format.js";

export function formatDryRun(report: DryRunEstimate, json: boolean): string {
  if (json) return JSON.stringify(report) + "\n";
  const { config } = report;
  const mb = (bytes: number) => `${(bytes / 1e6).toFixed(1)} MB`;
  const { model: modelBytes, corpus: corpusBytes, total } = report.memoryBytes;
  return [
    `start        ${report.start}`,
    `model        ${config.model}${config.model === "rnn" ? ` (${config.activation})` : ""}, ${config.layers} layer(s) of ${config.hidden}, ${config.embed > 0 ? `embedding ${config.embed}` : "one-hot input"}, vocabulary ${report.vocabularySize}`,
    `parameters   ${formatCount(report.parameters)}`,
    `text         ${formatCount(report.trainChars)} training characters, ${formatCount(report.validationChars)} validation`,
    `windows      ${formatCount(report.windowsPerEpoch)} per epoch (${config.batch} streams x ${config.seqLen} steps)`,
    `steps        ${report.choosesForBudget ? "chosen for the time budget when training starts" : report.totalSteps === null ? "until the time budget ends" : formatCount(report.totalSteps)}`,
    ...(report.choosesForBudget ? ["choice       the model, dropout, lr and schedule are chosen for the budget by a short calibration when training starts; the model line shows the defaults"] : []),
    `memory       about ${mb(total)} (${mb(modelBytes)} weights, gradients, optimiser state and workspaces; ${mb(corpusBytes)} text)`,
    `config       ${JSON.stringify(config)}`,
    "",
  ].join("\n");
}
