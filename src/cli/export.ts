// `charnn export [CHECKPOINT] OUT --format F`: a checkpoint's model in a format other programs
// read, from a table of formats (safetensors for PyTorch). The file appears whole or not at all
// (written beside OUT, then renamed). Not here: the formats' bytes (src/core/safetensors*.ts, and
// for html the page of src/page/ with the checkpoint inlined, src/node/page-html.ts).

import { randomBytes } from "node:crypto";
import { open, rename, unlink } from "node:fs/promises";
import path from "node:path";
import type { CheckpointState } from "../core/checkpoint/format.js";
import { modelConfigOf } from "../core/checkpoint/model.js";
import type { TrainConfig } from "../core/config.js";
import { CharnnError, ExitCode, usageError } from "../core/errors.js";
import { encodeSafetensors } from "../core/safetensors.js";
import { exportMetadata, exportTensors } from "../core/safetensors-model.js";
import { serializeCheckpoint } from "../core/api/checkpoint-text.js";
import { pageWithCheckpoint, readPageHtml } from "../node/page-html.js";
import { packageVersion } from "../node/version.js";
import { describeErrno } from "../node/store.js";
import { checkpointOfArguments, readCheckpointFor, retryCommand } from "./checkpoint-arg.js";
import type { CliIO } from "./io.js";

export interface ExportFormat {
  /** One line for --help and for the list of formats. */
  summary: string;
  /** The extension OUT usually has, which picks the format when --format is left out. */
  extension: string;
  encode(state: CheckpointState): Uint8Array;
}

/** The formats `charnn export` writes, by --format name. */
export const EXPORT_FORMATS: Readonly<Record<string, ExportFormat>> = {
  safetensors: {
    summary: "the weights for PyTorch (float32, PyTorch's names; vocabulary and model config in the metadata)",
    extension: ".safetensors",
    encode(state) {
      const config = modelConfigOf(state.config as unknown as TrainConfig, state.vocabulary.length);
      return encodeSafetensors(exportTensors(config, state.params), exportMetadata(config, state.vocabulary, packageVersion()));
    },
  },
  html: {
    summary: "one page that samples offline in a browser (the engine, the weights and the page in one file)",
    extension: ".html",
    encode(state) {
      return new TextEncoder().encode(pageWithCheckpoint(readPageHtml(), serializeCheckpoint(state), `step ${state.step}`));
    },
  },
};

export interface ExportOptions {
  /** The positional arguments: [CHECKPOINT] OUT. */
  paths: string[];
  /** -c, when typed. */
  checkpoint?: string;
  best: boolean;
  format?: string;
}

/**
 * The checkpoint and output of `export`'s arguments: `CHECKPOINT OUT`, or `OUT` with -c (or the
 * default checkpoint), by the rules every command shares for naming a checkpoint.
 */
export function exportArguments(options: ExportOptions): { checkpoint: string; out: string } {
  const { paths } = options;
  if (paths.length !== 1 && paths.length !== 2) {
    throw usageError(`export takes CHECKPOINT OUT (got ${paths.length} arguments)`, "e.g. charnn export checkpoints/latest.json model.safetensors --format safetensors");
  }
  const out = paths[paths.length - 1]!;
  const checkpoint = checkpointOfArguments(paths.length === 2 ? paths[0] : undefined, options.checkpoint, retryCommand("export", [out], true));
  return { checkpoint, out };
}

/** --format, or the format whose extension OUT has. */
export function exportFormatFor(format: string | undefined, out: string): [string, ExportFormat] {
  const names = Object.keys(EXPORT_FORMATS).join(", ");
  if (format !== undefined) {
    const chosen = EXPORT_FORMATS[format];
    if (chosen === undefined) throw usageError(`unknown export format "${format}" (formats: ${names})`);
    return [format, chosen];
  }
  const match = Object.entries(EXPORT_FORMATS).find(([, f]) => out.endsWith(f.extension));
  if (match === undefined) throw usageError(`which format should ${out} be? pass --format (formats: ${names})`);
  return match;
}

export async function runExport(options: ExportOptions, io: CliIO): Promise<number> {
  const { checkpoint, out } = exportArguments(options);
  const [, format] = exportFormatFor(options.format, out);
  const { state } = await readCheckpointFor({ checkpoint, best: options.best }, io, retryCommand("export", [out, ...(options.format ? ["--format", options.format] : [])], true));
  await writeBytesAtomic(path.resolve(io.cwd, out), format.encode(state), out);
  io.stderr.write(`wrote ${out}\n`);
  return ExitCode.ok;
}

/** Writes beside `target`, flushes, then renames over it: readers see the old file or the new. */
export async function writeBytesAtomic(target: string, bytes: Uint8Array, shownAs: string): Promise<void> {
  const temporary = path.join(path.dirname(target), `.${path.basename(target)}.${randomBytes(6).toString("hex")}.tmp`);
  const failed = (error: unknown) =>
    new CharnnError(`cannot write ${shownAs}: ${describeErrno(error)}`, ExitCode.failure, undefined, { code: "export.write-failed", facts: { file: shownAs } });
  let file;
  try {
    file = await open(temporary, "wx");
  } catch (error) {
    throw failed(error);
  }
  try {
    await file.writeFile(bytes);
    await file.sync();
    await file.close();
    file = undefined;
    await rename(temporary, target);
  } catch (error) {
    await file?.close().catch(() => undefined);
    await unlink(temporary).catch(() => undefined);
    throw failed(error);
  }
}
