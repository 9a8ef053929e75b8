// How `charnn train --dry-run` prints the engine's estimate: one JSON object with --json, else
// aligned lines. The estimate itself (parameters, memory, steps) is src/core/train/run.ts's.

import type { DryRunEstimate } from "../core/train/run.js";

export function formatDryRun(report: DryRunEstimate, json: boolean): string {
  if (json) return JSON.stringify(report) + "\n";
  const { config } = report;
  const mb = (bytes: number) => `${(bytes / 1e6).toFixed(1)} MB`;
  const { model: modelBytes, corpus: corpusBytes, total } = report.memoryBytes;
  return [
    `start        ${report.start}`,
    `model        ${config.model}${config.model === "rnn" ? ` (${config.activation})` : ""}, ${config.layers} layer(s) of ${config.hidden}, ${config.embed > 0 ? `embedding ${config.embed}` : "one-hot input"}, vocabulary ${report.vocabularySize}`,
    `parameters   ${report.parameters.toLocaleString("en-US")}`,
    `text         ${report.trainChars.toLocaleString("en-US")} training characters, ${report.validationChars.toLocaleString("en-US")} validation`,
    `windows      ${report.windowsPerEpoch.toLocaleString("en-US")} per epoch (${config.batch} streams x ${config.seqLen} steps)`,
    `steps        ${report.totalSteps === null ? "until the time budget ends" : report.totalSteps.toLocaleString("en-US")}`,
    `memory       about ${mb(total)} (${mb(modelBytes)} weights, gradients, optimiser state and workspaces; ${mb(corpusBytes)} text)`,
    `config       ${JSON.stringify(config)}`,
    "",
  ].join("\n");
}
