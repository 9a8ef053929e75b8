// `charnn import FILE.safetensors --out DIR`: a model from PyTorch (the companion script, charnn
// export, or any state dict with torch.nn's names) as DIR/latest.json, a weights-only checkpoint
// that sample, eval, info and train --init-from read. Everything is checked before anything is
// written; then the checkpoint is written atomically. Not here: the format (src/core/safetensors*).

import { constants as bufferConstants } from "node:buffer";
import { existsSync } from "node:fs";
import { mkdir, open, readFile, rmdir, type FileHandle } from "node:fs/promises";
import path from "node:path";
import { encodeCheckpoint, type CheckpointState, type TensorRecord, type WeightsCheckpointState } from "../core/checkpoint/format.js";
import { settingSourcesFor } from "../core/checkpoint/model.js";
import { TRAIN_DEFAULTS, runSettingsOf, type TrainConfig } from "../core/settings.js";
import { decodeText } from "../core/data/decode.js";
import { CharnnError, ExitCode, badInput, usageError } from "../core/errors.js";
import { parseHeader, readHeaderLength, tensorData } from "../core/safetensors.js";
import { importParameters, planImport, type ImportPlan } from "../core/safetensors-model.js";
import { checkpointCharacterLimit, checkpointCharacters } from "../core/train/run.js";
import { formatCount } from "../core/util/format.js";
import { packageVersion } from "../node/version.js";
import { writeFileAtomic } from "../node/store.js";
import type { CliIO } from "./io.js";

export interface ImportOptions {
  file: string;
  out: string;
  vocabulary?: string;
  prefix: string[];
  activation?: "tanh" | "relu";
}

/** A checkpoint is one JSON string; node holds at most this many characters in one. */
const CHECKPOINT_CHARACTER_LIMIT = checkpointCharacterLimit(bufferConstants.MAX_STRING_LENGTH);

/** Characters of a weights-only checkpoint with this many float32 parameters (base64). */
export const weightsCheckpointCharacters = (parameters: number): number => checkpointCharacters(parameters);

export async function runImport(options: ImportOptions, io: CliIO): Promise<number> {
  const source = path.resolve(io.cwd, options.file);
  const outDir = path.resolve(io.cwd, options.out);
  const latest = path.join(outDir, "latest.json");
  if (existsSync(latest)) {
    throw usageError(`${options.out} already holds a checkpoint (latest.json)`, "import into a new folder, or delete that one", { code: "import.out-exists" });
  }
  const vocabulary = options.vocabulary === undefined ? undefined : await readVocabularyFile(path.resolve(io.cwd, options.vocabulary), options.vocabulary);

  const handle = await openInput(source, options.file);
  let state: CheckpointState;
  try {
    const size = (await handle.stat()).size;
    const first8 = await readAt(handle, 0, Math.min(8, size));
    const headerLength = readHeaderLength(first8, size, options.file);
    const header = parseHeader(await readAt(handle, 8, headerLength), size, options.file);
    const plan = planImport(header, options.file, { prefixes: options.prefix, vocabulary, activation: options.activation });
    checkFits(plan, options.file);
    const bytes = await readAt(handle, 0, size);
    const params = importParameters(plan, (entry) => tensorData(bytes, header, entry), options.file);
    state = weightsCheckpoint(plan, params);
  } finally {
    await handle.close();
  }

  const text = encodeCheckpoint(state);
  const created = !existsSync(outDir);
  try {
    await mkdir(outDir, { recursive: true });
  } catch (error) {
    throw new CharnnError(`cannot create folder ${options.out}: ${(error as Error).message}`, ExitCode.failure);
  }
  try {
    await writeFileAtomic(latest, text);
  } catch (error) {
    if (created) await rmdir(outDir).catch(() => undefined);
    throw error;
  }
  io.stderr.write(`wrote ${path.join(options.out, "latest.json")} (${summaryOf(state)})\n`);
  return ExitCode.ok;
}

const summaryOf = (state: CheckpointState): string => {
  const config = state.config as unknown as TrainConfig;
  const parameters = Object.values(state.params).reduce((sum, tensor) => sum + tensor.data.length, 0);
  return `${config.layers}x${config.hidden} ${config.model}, ${state.vocabulary.length} characters, ${formatCount(parameters)} parameters`;
};

function checkFits(plan: ImportPlan, sourceName: string): void {
  const characters = weightsCheckpointCharacters(plan.parameterCount);
  if (characters > CHECKPOINT_CHARACTER_LIMIT) {
    const mb = (n: number) => `${formatCount(Math.round(n / 1e6))} MB`;
    throw badInput(
      `${sourceName}: ${formatCount(plan.parameterCount)} parameters would make a checkpoint of about ${mb(characters)} of text, more than the ${mb(CHECKPOINT_CHARACTER_LIMIT)} node can hold in one string`,
      undefined,
      { code: "import.too-large", facts: { parameters: plan.parameterCount, characters, limit: CHECKPOINT_CHARACTER_LIMIT } },
    );
  }
}

/**
 * The weights-only checkpoint: the model's settings (from the file, so "given") over the defaults,
 * no training state, and no corpus, schedule or runtime, since no charnn run made it.
 */
function weightsCheckpoint(plan: ImportPlan, params: Record<string, TensorRecord>): WeightsCheckpointState {
  const model = plan.config;
  const config = runSettingsOf({
    ...TRAIN_DEFAULTS,
    model: model.cell, activation: model.activation, layers: model.layers, hidden: model.hidden,
    embed: model.embed, dropout: model.dropout, learnInit: model.learnInit,
  });
  return {
    kind: "weights",
    charnnVersion: packageVersion(),
    createdAt: new Date().toISOString(),
    config: config as unknown as Record<string, unknown>,
    settingSources: settingSourcesFor(config, MODEL_SETTINGS),
    vocabulary: plan.vocabulary,
    params,
    startState: null,
    corpus: null,
    invocations: [],
    schedule: null,
    runtime: null,
    choice: null,
    step: 0,
    epoch: 0,
    history: { train: [], validation: [] },
    bestValidationLoss: null,
  };
}

const MODEL_SETTINGS: ReadonlySet<string> = new Set(["model", "activation", "layers", "hidden", "embed", "dropout", "learnInit"]);

async function openInput(file: string, shownAs: string): Promise<FileHandle> {
  try {
    return await open(file, "r");
  } catch (error) {
    const code = (error as NodeJS.ErrnoException).code;
    throw badInput(`cannot read ${shownAs}: ${code === "ENOENT" ? "no such file" : code === "EISDIR" ? "it is a folder" : (error as Error).message}`, undefined, { code: "import.unreadable" });
  }
}

async function readAt(handle: FileHandle, position: number, length: number): Promise<Uint8Array> {
  const buffer = new Uint8Array(length);
  let done = 0;
  while (done < length) {
    const { bytesRead } = await handle.read(buffer, done, length - done, position + done);
    if (bytesRead === 0) break;
    done += bytesRead;
  }
  return buffer.subarray(0, done);
}

/**
 * --vocabulary FILE, for a file without vocabulary metadata: FILE.json holds a JSON array of code
 * points in row order; any other FILE is UTF-8 text whose characters, each once, in row order, are
 * the vocabulary (every character counts: a newline at its end is one).
 */
export async function readVocabularyFile(file: string, shownAs: string): Promise<number[]> {
  let bytes: Uint8Array;
  try {
    bytes = await readFile(file);
  } catch (error) {
    const code = (error as NodeJS.ErrnoException).code;
    throw usageError(`cannot read --vocabulary ${shownAs}: ${code === "ENOENT" ? "no such file" : (error as Error).message}`);
  }
  if (file.endsWith(".json")) {
    try {
      return JSON.parse(new TextDecoder("utf-8", { fatal: true }).decode(bytes)) as number[];
    } catch {
      throw badInput(`--vocabulary ${shownAs} is not JSON (a .json vocabulary is an array of code points)`, undefined, { code: "import.vocabulary" });
    }
  }
  return [...decodeText(bytes, shownAs)];
}
